"""One sanitizer for every name that reaches a terminal, a CSV file or a report.

Instance, tier, model and solver names come from files anyone can write. Shown raw, an
ANSI escape recolours or clears the terminal, a CR or LF forges a line of its own (a fake
`status=ok`), a BiDi control reverses what follows, and a lone surrogate (valid JSON,
`"\\ud800"`) cannot be encoded at all, so a print or a file write crashes. `clean` turns
each such character into a visible escape (`\\x1b`, `\\u202e`, `\\ud800`); everything
else, accents and CJK included, stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: C0 and C1 controls, DEL, zero-width and BiDi format characters, line/paragraph
#: separators, the BOM and surrogates (lone ones cannot be encoded)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
                     "\ufff9-\ufffb\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: object) -> str:
    """`value` as text that prints as one plain line and encodes as UTF-8."""
    return _UNSAFE.sub(_escape, value if isinstance(value, str) else str(value))


def clean_all(value: Any) -> Any:
    """Every string inside a JSON-like value (keys too) cleaned; other values as they are."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, Mapping):
        return {clean(k) if isinstance(k, str) else k: clean_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_all(v) for v in value]
    return value


def error_line(exc: BaseException) -> str:
    """The one line a refused input prints: `error: <message>`, cleaned and on one line
    (`benchmark.cli_errors.error_line` first puts Hydra's and OmegaConf's errors in one line)."""
    return "error: " + clean(" ".join(str(exc).split()) or type(exc).__name__)
