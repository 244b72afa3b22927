"""`resume=true`: a job whose directory already holds a finished result is not run again.

A job counts as finished when its `result.json` reads, has status `ok` and was made with
the same overrides (so a changed sweep that reuses a job number is run anew). The
skipped job computes and writes nothing, so its files stay exactly as they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from problems.overrides import override_key

RESULT = "result.json"
RUN_KEYS = ("resume",)  # keys that steer how a sweep runs, not what a job computes


def job_overrides(overrides: Iterable[str]) -> list[str]:
    """The overrides that define a job: everything but `resume=...`."""
    return [o for o in overrides if override_key(o) not in RUN_KEYS]


def finished(out_dir: Path, overrides: Iterable[str]) -> dict[str, Any] | None:
    """The recorded row if this job already finished with status ok, else None."""
    try:
        row = json.loads((out_dir / RESULT).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(row, dict) or row.get("status") != "ok":
        return None
    if sorted(job_overrides(row.get("overrides") or [])) != sorted(job_overrides(overrides)):
        return None
    return row
