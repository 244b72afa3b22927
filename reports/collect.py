"""Read sweep directories and results CSVs into one long-format table (one row per job).

A job's `result.json` is flattened: scalar fields stay columns, lists and dicts
(`tiers`, `assignment`, `info`, `overrides`, `config`) become JSON strings, and the
fields a reader filters on get their own columns: `override.<key>` per override,
`version.<package>`, `machine.<key>`, the network scale and the training-curve file.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from problems.atomic import atomic_write_bytes
from problems.atomic import atomic_write_text as write_text
from problems.errors import FieldError
from problems.overrides import parse_override
from problems.results import RESULT, BadResultError, check_row, read_result
from problems.text import clean, clean_all

CSV_NAME = "results.csv"
PARQUET_NAME = "results.parquet"  # beside results.csv: the same columns, one type per column
JSON_COLUMNS = ("tiers", "assignment", "info", "overrides", "config")
#: every results.csv has these, in this order; other columns follow sorted
CORE = ("sweep", "job", "solver", "model", "model_depth", "instance", "scenario", "network", "scale_bandwidth",
        "scale_delay",
        "n_blocks", "tiers", "early_exit", "seed", "status", "error", "assignment", "cost", "latency_ms",
        "energy_j", "deploy", "optimal_cost", "gap", "decision_ms", "decision_repeats", "prepare_s",
        "training_curve", "info", "overrides", "timestamp", "git_revision", "config")
#: core columns that hold numbers (typed as numbers in results.parquet even when every value is missing)
NUMBERS = ("model_depth", "scale_bandwidth", "scale_delay", "n_blocks", "seed", "cost", "latency_ms", "energy_j",
           "deploy", "optimal_cost", "gap", "decision_ms", "decision_repeats", "prepare_s")
REQUIRED = ("solver", "status", "instance", "scenario")
PROGRESS_FROM = 200  # files; fewer are read without a progress bar


@dataclass
class Collected:
    """The table plus what a report needs besides it."""

    frame: pd.DataFrame
    sources: list[str] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)  # job dirs without result.json
    sweep_configs: dict[str, str] = field(default_factory=dict)  # sweep dir -> multirun.yaml text


def _natural(path: Path) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(path))]


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _scale(row: Mapping, key: str) -> float | None:
    config = row.get("config")
    if isinstance(config, Mapping):
        if config.get("instance"):
            return None
        network = config.get("network")
        scale = network.get("scale") if isinstance(network, Mapping) else None
        scale = scale.get(key) if isinstance(scale, Mapping) else None
        if isinstance(scale, int | float) and not isinstance(scale, bool):
            return float(scale)
    for override in map(parse_override, row.get("overrides") or []):
        if override.key == f"network.scale.{key}":
            try:
                return float(override.value)
            except ValueError:
                return None
    return None if row.get("network") is None else 1.0


def flatten(row: Mapping[str, Any], job_dir: Path | None = None, sweep: str = "", job: str = "") -> dict[str, Any]:
    """One CSV row from one result.json mapping (its strings cleaned: `problems.text`)."""
    row = clean_all(dict(row))
    out: dict[str, Any] = {"sweep": sweep, "job": job}
    for key, value in row.items():
        if key in ("versions", "machine"):
            continue
        out[key] = _dump(value) if key in JSON_COLUMNS else value
    for key, prefix in (("versions", "version"), ("machine", "machine")):
        for name, value in (row.get(key) or {}).items():
            out[f"{prefix}.{name}"] = value
    for override in map(parse_override, row.get("overrides") or []):
        out[f"override.{override.key}"] = override.value
    config = row.get("config") if isinstance(row.get("config"), Mapping) else {}
    model = config.get("model")
    depth = None if config.get("instance") or not isinstance(model, Mapping) else model.get("depth")
    out["model_depth"] = depth if isinstance(depth, int) and not isinstance(depth, bool) else None
    out["scale_bandwidth"] = _scale(row, "bandwidth")
    out["scale_delay"] = _scale(row, "delay")
    curve = (row.get("info") or {}).get("training_curve_file") if isinstance(row.get("info"), Mapping) else None
    plain = isinstance(curve, str) and curve not in ("", ".", "..") and Path(curve).name == curve  # stays in the job
    out["training_curve"] = str(job_dir / curve) if plain and job_dir is not None else None
    return out


def order_columns(frame: pd.DataFrame) -> pd.DataFrame:
    first = [c for c in CORE if c in frame.columns]
    return frame[first + sorted(c for c in frame.columns if c not in CORE)]


def to_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    for column in CORE:
        if column not in frame.columns:
            frame[column] = None
    return order_columns(frame)


def _progress(items: Sequence, desc: str) -> Iterable:
    return tqdm(items, desc=desc, unit="job", disable=len(items) < PROGRESS_FROM or None, leave=False)


def find_results(root: Path) -> list[Path]:
    return sorted(root.rglob(RESULT), key=_natural)


def read_sweep(root: Path) -> Collected:
    """Every job under a sweep directory (or a folder of sweep directories)."""
    if not root.exists():
        raise FieldError("path", "no such file or directory", str(root))
    if not root.is_dir():
        raise FieldError("path", "not a directory or a .csv file", str(root))
    files = find_results(root)
    rows, bad = [], []
    for path in _progress(files, f"reading {root.name or root}"):
        job = clean(path.parent.relative_to(root))
        try:
            data = read_result(path)
        except (OSError, BadResultError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            warn(f"{clean(path)}: {reason}; skipped")
            bad.append({"job": job, "error": f"unusable result.json: {reason}"})
            continue
        rows.append(flatten(data, path.parent.resolve(), clean(root), "" if job == "." else job))
    if not rows and not bad:
        raise FieldError("path", f"no {RESULT} files found", str(root))
    done = {path.parent for path in files}
    missing = bad + [{"job": clean(d.parent.relative_to(root)), "error": "no result.json (bad input or interrupted)"}
                     for d in sorted(root.rglob(".hydra"), key=_natural)
                     if d.parent not in done and (d / "overrides.yaml").exists()]
    configs = {clean(p.parent): p.read_text(errors="replace") for p in sorted(root.rglob("multirun.yaml"))}
    return Collected(to_frame(rows), [clean(root)], missing, configs)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def _checked_records(records: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """The CSV rows a report can use: cleaned, their JSON columns checked like a result.json."""
    out = []
    for i, record in enumerate(records):
        record = clean_all(record)
        parsed = {k: parse_json(record.get(k)) for k in ("tiers", "assignment", "overrides")}
        try:
            check_row({"status": record.get("status"), **parsed})
        except BadResultError as exc:
            warn(f"{clean(path)}: row {i + 1}: {exc}; skipped")
            continue
        out.append(record)
    return out


def read_csv(path: Path) -> Collected:
    """A results.csv written by `write_csv` (or any CSV with the core columns)."""
    try:
        frame = pd.read_csv(path, dtype={"job": str, "error": str, "sweep": str}, keep_default_na=True)
    except FileNotFoundError:
        raise FieldError("path", "no such file or directory", str(path)) from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise FieldError("path", f"not a readable CSV ({type(exc).__name__})", str(path)) from None
    for column in REQUIRED:
        if column not in frame.columns:
            raise FieldError("path", f"not a results CSV (no column {column!r})", str(path))
    frame = frame.astype(object).where(frame.notna(), None)
    configs = {}
    beside = path.parent / "multirun.yaml"
    if beside.exists():
        configs[clean(path.parent)] = beside.read_text(errors="replace")
    return Collected(to_frame(_checked_records(frame.to_dict("records"), path)), [clean(path)], [], configs)


def read_paths(paths: Sequence[str | Path]) -> Collected:
    """Sweep directories and CSV files, concatenated in the order given."""
    if not paths:
        raise FieldError("paths", "give at least one sweep directory or results CSV", [])
    parts = []
    for raw in paths:
        path = Path(raw).expanduser()
        is_csv = path.suffix.lower() == ".csv"
        parts.append(read_csv(path) if is_csv else read_sweep(path))
    frames = [p.frame for p in parts if not p.frame.empty]
    frame = order_columns(pd.concat(frames, ignore_index=True)) if frames else to_frame([])
    return Collected(frame, [s for p in parts for s in p.sources], [m for p in parts for m in p.missing],
                     {k: v for p in parts for k, v in p.sweep_configs.items()})


def csv_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    return write_text(path, csv_text(frame))


def _typed_column(values: pd.Series) -> pd.Series:
    present = values.dropna()
    if present.empty and values.name in NUMBERS:
        return values.astype("float64")
    if present.map(lambda v: isinstance(v, bool | np.bool_)).all() and len(present):
        return values.astype("boolean")
    numbers = present.map(lambda v: isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool))
    if len(present) and numbers.all():
        whole = present.map(lambda v: isinstance(v, int | np.integer)).all()
        return values.astype("Int64") if whole else values.astype("float64")
    return values.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v),
                      na_action="ignore").astype("string")


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with one type per column: flags boolean, whole numbers Int64, numbers float, the rest text."""
    return pd.DataFrame({column: _typed_column(frame[column]) for column in frame.columns}, index=frame.index)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    buffer = io.BytesIO()
    typed(frame).to_parquet(buffer, engine="pyarrow", index=False)
    return atomic_write_bytes(path, buffer.getvalue())


def parse_json(value: Any) -> Any:
    """A JSON column's value back as Python (None for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
