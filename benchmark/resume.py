"""`resume=true`: a job whose directory already holds a finished result is not run again.

A job counts as finished when its `result.json` reads, has status `ok` and was made with
the same overrides (so a changed sweep that reuses a job number is run anew). The
skipped job computes and writes nothing, so its files stay exactly as they were.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from problems.overrides import override_key
from problems.results import RESULT, BadResultError, read_result
from problems.text import clean

RUN_KEYS = ("resume",)  # keys that steer how a sweep runs, not what a job computes


def job_overrides(overrides: Iterable[str]) -> list[str]:
    """The overrides that define a job: everything but `resume=...`."""
    return [o for o in overrides if override_key(o) not in RUN_KEYS]


def finished(out_dir: Path, overrides: Iterable[str]) -> dict[str, Any] | None:
    """The recorded row if this job already finished with status ok, else None. A result
    file that cannot be used gets a one-line warning, and the job runs again."""
    try:
        row = read_result(out_dir / RESULT)
    except FileNotFoundError:
        return None
    except (OSError, BadResultError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"warning: {clean(out_dir / RESULT)}: {reason}; running the job again", file=sys.stderr, flush=True)
        return None
    if row.get("status") != "ok":
        return None
    if sorted(job_overrides(row.get("overrides") or [])) != sorted(job_overrides(overrides)):
        return None
    return row
