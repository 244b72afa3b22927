"""Command-line overrides as Hydra writes them: `key=value`, `+key=value` (add),
`++key=value` (add or override) and `~key` or `~key=value` (delete).

One parser for every reader of recorded overrides: the job (resume), the one-line
command-line errors and the reports. It lives here, below both `benchmark` and
`reports`, so neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIXES = ("++", "+", "~")


@dataclass(frozen=True)
class Override:
    prefix: str  # "", "+", "++" or "~"
    key: str  # the dotted key (or config group) without the prefix
    value: str  # the text after the first "=", "" when there is none
    has_value: bool


def parse_override(text: str) -> Override:
    """`"+solver.seed=3"` -> Override("+", "solver.seed", "3", True)."""
    text = str(text)
    prefix = next((p for p in PREFIXES if text.startswith(p)), "")
    key, sep, value = text[len(prefix):].partition("=")
    return Override(prefix, key, value, bool(sep))


def override_key(text: str) -> str:
    """The key an override sets, without its prefix and value."""
    return parse_override(text).key
