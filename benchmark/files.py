"""Writing a job's files: each one atomically, and all of them as one commit.

A job's folder holds `result.json` beside the files it describes (`instance.json`,
`training_curve.csv`). Resume and the reports take a folder with a `result.json` as a
finished job, so the result must never sit beside another run's files: `commit_job`
removes the old `result.json` first, writes the other files, and writes `result.json`
last. A failure part-way (a full disk) leaves a folder without a result, which counts as
not finished, never a new instance beside an old result. The old result goes as soon as
a valid job starts in the folder (`begin_job`, with the job's `.hydra/` record); every
other text is made before the first of the job's files changes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from problems.atomic import atomic_write_text
from problems.errors import ProblemError

RESULT = "result.json"
#: files a job may leave; one the new job does not write is removed with the old result
JOB_FILES = ("instance.json", "training_curve.csv")


class OutputError(ProblemError):
    """The output folder cannot take the files (full disk, read-only, no permission)."""

    def __init__(self, exc: OSError, folder: Path):
        self.errno = exc.errno
        super().__init__(f"output folder: {exc.strerror or type(exc).__name__} (got {str(folder)!r})")


def write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_text(path, text)


def begin_job(out_dir: Path, record: Mapping[str, str] | None = None) -> None:
    """A valid job starts: the old `result.json` goes (it no longer describes the folder)
    and the job's `record` (`.hydra/*.yaml`, relative paths) is written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            (out_dir / RESULT).unlink()
        for name, text in (record or {}).items():
            write_text(out_dir / name, text)
    except OSError as exc:
        raise OutputError(exc, out_dir) from None


def commit_job(out_dir: Path, files: Mapping[str, str], result_text: str) -> None:
    """Replace a job's files by `files` plus `result.json` (written last); OutputError
    (one line) if the folder cannot take them."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            (out_dir / RESULT).unlink()
        for name in JOB_FILES:
            if name not in files:
                with contextlib.suppress(FileNotFoundError):
                    (out_dir / name).unlink()
        for name, text in files.items():
            write_text(out_dir / name, text)
        write_text(out_dir / RESULT, result_text)
    except OSError as exc:
        raise OutputError(exc, out_dir) from None
