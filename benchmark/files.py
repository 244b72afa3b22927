"""Atomic writes with ordinary file permissions.

`problems.atomic` writes through `mkstemp`, which creates files readable by their owner
only; results and reports are meant to be shared, so they get the mode a plain `open()`
would have given (0666 less the umask).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from problems.atomic import atomic_write_text


@functools.cache
def _mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_text(path: str | os.PathLike, text: str) -> Path:
    path = atomic_write_text(path, text)
    os.chmod(path, _mode())
    return path
