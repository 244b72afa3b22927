"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

A crash leaves either the old file or the new one, never half of one. The file gets the
mode a plain `open()` would have given it (0666 less the umask, so 0644 as a rule):
`mkstemp` alone creates files that only their owner can read, and instance files,
results and reports are meant to be shared.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path


@functools.cache
def file_mode() -> int:
    """0666 less the process's umask (read once: the umask can only be read by setting it)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), file_mode())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))
