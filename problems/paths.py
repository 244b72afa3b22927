"""File names derived from instance, model or solver names.

Names come from instance files and configs, which anyone can write: `../../x`, `/etc/x`,
`a\\0b` or a megabyte of text must not turn a derived file name into a path that leaves
its output directory (or that the OS refuses). `safe_name` maps any name to one plain
path component.
"""

from __future__ import annotations

import hashlib
import re

#: the characters kept; every other run of characters becomes one "_"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: longest result (file systems allow 255 bytes per component; callers add suffixes)
MAX_LEN = 100


def safe_name(name: object, max_len: int = MAX_LEN) -> str:
    """`name` as one file-name component: letters, digits, `_`, `.` and `-` only, not
    starting with `.` or `-` (no `..`, no hidden file, no option-like name), never empty,
    at most `max_len` characters. Plain names stay as they are; a shortened name ends in
    a hash of the whole name, so long names that share a prefix stay distinct."""
    text = _UNSAFE.sub("_", str(name)).lstrip(".-") or "unnamed"
    if len(text) > max_len:
        digest = hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:10]
        text = text[: max_len - 11].rstrip(".-") + "-" + digest
    return text
