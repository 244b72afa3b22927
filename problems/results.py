"""Reading a job's `result.json` as the untrusted input it is.

Resume, the sweep callback and `python -m reports` all read result files that anyone
could have edited (or that a crash or another program left behind). `read_result`
checks the fields they rely on, so a bad file is one reason (`overrides[0]: must be a
string`) that the caller turns into a one-line warning, then skips or re-runs the job,
instead of a traceback somewhere downstream. Every string of a good row is cleaned
(`problems.text.clean`) on the way in.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from problems.text import clean, clean_all

RESULT = "result.json"
MAX_RESULT_BYTES = 64 * 2**20  # a result row is kilobytes; anything this large is not one
STATUSES = ("ok", "failed", "unsupported", "timeout", "invalid", "infeasible")
TEXT_FIELDS = ("solver", "instance", "scenario", "error", "model", "network", "timestamp", "git_revision",
               "reference_kind")
NUMBER_FIELDS = ("n_blocks", "seed", "cost", "latency_ms", "energy_j", "deploy", "optimal_cost", "reference_cost",
                 "gap", "decision_ms", "decision_repeats", "prepare_s")
MAPPING_FIELDS = ("info", "config", "versions", "machine")


class BadResultError(ValueError):
    """A result file that cannot be used; the message is one line."""


INFINITE = {"inf": math.inf, "-inf": -math.inf}  # how `jsonable` writes infinities


def _is_number(value: Any) -> bool:
    if isinstance(value, str):
        return value in INFINITE
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_row(row: Any) -> None:
    """Raise BadResultError naming the first field a reader could not use."""
    if not isinstance(row, dict):
        raise BadResultError(f"not a JSON object (got {type(row).__name__})")
    status = row.get("status")
    if status not in STATUSES:
        raise BadResultError(f"status: must be one of {list(STATUSES)} (got {clean(repr(status))[:80]})")
    for key in TEXT_FIELDS:
        if row.get(key) is not None and not isinstance(row[key], str):
            raise BadResultError(f"{key}: must be text (got {type(row[key]).__name__})")
    for key in NUMBER_FIELDS:
        value = row.get(key)
        if value is not None and not _is_number(value):
            raise BadResultError(f"{key}: must be a number (got {clean(repr(value))[:80]})")
    for key in MAPPING_FIELDS:
        if row.get(key) is not None and not isinstance(row[key], dict):
            raise BadResultError(f"{key}: must be an object (got {type(row[key]).__name__})")
    for key in ("overrides", "tiers"):
        values = row.get(key)
        if values is None:
            continue
        if not isinstance(values, list):
            raise BadResultError(f"{key}: must be a list (got {type(values).__name__})")
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise BadResultError(f"{key}[{i}]: must be a string (got {clean(repr(value))[:80]})")
    assignment = row.get("assignment")
    if assignment is None:
        return
    if not isinstance(assignment, list):
        raise BadResultError(f"assignment: must be a list (got {type(assignment).__name__})")
    n_tiers = len(row["tiers"]) if row.get("tiers") else None
    fleet = row.get("scenario") == "fleet"  # K lists of n_k tiers (spec section 13)
    users = assignment if fleet else [assignment]
    for k, tiers in enumerate(users):
        if not isinstance(tiers, list):
            raise BadResultError(f"assignment[{k}]: must be a list of tiers (got {type(tiers).__name__})")
        for i, tier in enumerate(tiers):
            if isinstance(tier, bool) or not isinstance(tier, int) or tier < 0 or (n_tiers and tier >= n_tiers):
                limit = f" in [0, {n_tiers - 1}]" if n_tiers else " >= 0"
                where = f"assignment[{k}][{i}]" if fleet else f"assignment[{i}]"
                raise BadResultError(f"{where}: must be a tier index{limit} (got {clean(repr(tier))[:80]})")


def read_result(path: str | os.PathLike) -> dict[str, Any]:
    """The checked, cleaned row of one result file; BadResultError (one line) if it is not one.
    FileNotFoundError passes through: no file is not a bad file."""
    path = Path(path)
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise BadResultError("not a regular file")
    if info.st_size > MAX_RESULT_BYTES:
        raise BadResultError(f"larger than {MAX_RESULT_BYTES // 2**20} MB")
    try:
        row = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        raise BadResultError(f"unreadable ({type(exc).__name__}: {clean(' '.join(str(exc).split()))[:120]})") from None
    check_row(row)
    cleaned = clean_all(row)
    for key in NUMBER_FIELDS:  # back to floats; a NaN literal is a missing value
        value = cleaned.get(key)
        if isinstance(value, str):
            cleaned[key] = INFINITE[value]
        elif isinstance(value, float) and math.isnan(value):
            cleaned[key] = None
    return cleaned
