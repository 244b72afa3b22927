"""One sweep per sweep folder.

Two sweeps writing into the same `hydra.sweep.dir` mix their job folders: each job
folder is named by its number only, so sweep A's `results.csv` ends up holding B's
rows. A sweep therefore holds an exclusive lock on its folder while it runs, and a
folder that already holds another sweep (its `multirun.yaml` records other overrides)
is refused. Re-running the same sweep, with `resume=true` or not, is allowed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable
from pathlib import Path

import yaml

from benchmark.resume import job_overrides
from problems.errors import ProblemError

LOCK = ".sweep.lock"
RECORD = "multirun.yaml"  # Hydra writes it in the sweep folder when a sweep starts


class SweepConflictError(ProblemError):
    """The sweep folder is in use by, or holds the results of, another sweep."""

    def __init__(self, message: str, folder: str):
        super().__init__(f"{message} (got {folder!r})")


def recorded_overrides(sweep_dir: Path) -> list[str] | None:
    """The task overrides of the sweep already in `sweep_dir` (None: none recorded or unreadable)."""
    try:
        data = yaml.safe_load((sweep_dir / RECORD).read_text(encoding="utf-8"))
        task = data["hydra"]["overrides"]["task"]
    except (OSError, ValueError, yaml.YAMLError, KeyError, TypeError):
        return None
    if not isinstance(task, list) or not all(isinstance(o, str) for o in task):
        return None
    return task


class SweepLock:
    """Held from the start of a sweep to its end (the OS drops it if the process dies)."""

    def __init__(self) -> None:
        self.fd: int | None = None

    def acquire(self, sweep_dir: Path, overrides: Iterable[str]) -> None:
        wanted = sorted(job_overrides(overrides))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(sweep_dir / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SweepConflictError("hydra.sweep.dir: another sweep is running in this folder",
                                     str(sweep_dir)) from None
        previous = recorded_overrides(sweep_dir)
        if previous is not None and sorted(job_overrides(previous)) != wanted:
            os.close(fd)
            raise SweepConflictError(f"hydra.sweep.dir: holds another sweep ({' '.join(previous) or 'no overrides'}); "
                                     "choose a new folder, or run that sweep again", str(sweep_dir))
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
