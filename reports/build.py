"""From collected results to `report.html` (and, for a sweep, `results.csv`).

Each section is computed from the table alone; a section whose data the run does not
have says so instead of failing, so a two-job sweep and the full paper grid both get a
complete report.
"""

from __future__ import annotations

import platform
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from problems.atomic import atomic_write_text as write_text
from reports import analysis, dag, figures, fleets, learned, stats_report, testbed
from reports.collect import CSV_NAME, Collected, parse_json, read_sweep, write_csv, write_parquet
from reports.paper import TABLE3_OURS, WHY_DIFFERENT
from reports.render import render

REPORT_NAME = "report.html"
SCENARIOS = {"mec": ("MEC", "10", "12"), "d2d": ("D2D", "11", "13")}
LABELS = {"latency_ms": "latency (ms)", "energy_j": "device energy (J)"}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [] if frame is None or frame.empty else frame.to_dict("records")


def _sweep_config(path: str, text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        data = {}
    hydra = data.get("hydra") or {}
    return {
        "path": path,
        "overrides": ((hydra.get("overrides") or {}).get("task")) or [],
        "sweeper_params": (hydra.get("sweeper") or {}).get("params") or {},
        "launcher": (hydra.get("launcher") or {}).get("_target_", ""),
        "text": text,
    }


def _scenarios(df: pd.DataFrame) -> list[str]:
    present = [s for s in df["scenario"].dropna().unique()]
    return [s for s in SCENARIOS if s in present] + sorted(s for s in present if s not in SCENARIOS)


def _metric_section(df: pd.DataFrame, metric: str, fig_index: int, what: str,
                    colors: dict[str, str]) -> tuple[list, list[str]]:
    figs, missing = [], []
    for scenario in ("mec", "d2d"):
        name, *numbers = SCENARIOS[scenario]
        data = analysis.by_model(df, scenario, metric)
        title = f"Fig. {numbers[fig_index]}: {what} per model, {name} (median over seeds; log scale)"
        if data.empty:
            missing.append(f"{name}: not in this run (no finished {name} job on an unscaled network).")
        else:
            figs.append((title, figures.bars_by_model(data, metric, colors, LABELS[metric])))
    return figs, missing


def _tier_tables(df: pd.DataFrame) -> tuple[list[dict[str, Any]], list[str]]:
    tables, missing = [], []
    for scenario in ("mec", "d2d"):
        label = SCENARIOS[scenario][0]
        names, table = analysis.tier_distribution(df, scenario)
        if table.empty:
            missing.append(f"{label}: not in this run.")
            continue
        published = TABLE3_OURS[scenario]
        models = list(table.columns)
        rows = [{"method": method, "cells": [table.loc[method].get(m) for m in models], "paper": False}
                for method in table.index]
        paper = [" / ".join(f"{v:.2f}" for v in published[m]) if m in published else None for m in models]
        if any(paper):
            rows.append({"method": "IoRLO, as published", "cells": paper, "paper": True})
        tables.append({"scenario": label, "tiers": " / ".join(names), "models": models, "rows": rows})
    return tables, missing


def _matrix(frame: pd.DataFrame) -> dict[str, Any] | None:
    if frame.empty:
        return None
    rows = [(index, list(values)) for index, values in zip(frame.index, frame.to_numpy(), strict=True)]
    return {"columns": list(frame.columns), "rows": rows}


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("pandas", "plotly", "jinja2"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def context(collected: Collected) -> dict[str, Any]:
    """Everything the template shows."""
    df = analysis.prepare(collected.frame)
    colors = figures.palette(df["method"])
    latency_figs, latency_missing = _metric_section(df, "latency_ms", 0, "latency", colors)
    energy_figs, energy_missing = _metric_section(df, "energy_j", 1, "device energy", colors)
    tier_tables, tier_missing = _tier_tables(df)
    depth = analysis.depth(df)
    depth_figs = [] if depth.empty else [("decision time and gap against depth", figures.depth_plots(depth, colors))]
    scale_figs = [(f"gap against network.scale.{axis}", figures.scale_plot(data, axis, colors))
                  for axis, data in analysis.network_scale(df).items()]
    training_figs = []
    for method, entry in analysis.training_curves(df).items():
        shown, found = len(entry["curves"]), entry["found"]
        title = f"{method}: {found} training curve{'s' if found != 1 else ''}"
        title += f" (the first {shown} shown)" if found > shown else ""
        training_figs.append((title, figures.curves_plot(entry["curves"])))
    dag_section = dag.section(df)
    dag_figs = ([] if dag_section["exact_data"].empty else
                [("exact solvers: decision time against blocks", figures.exact_times_plot(dag_section["exact_data"],
                                                                                         colors))])
    learned_section, learned_figs = learned.section(df)
    first_config = parse_json(df["config"].dropna().iloc[0]) if df["config"].notna().any() else None
    stamps = sorted(str(t) for t in df["timestamp"].dropna())
    return {
        "title": ", ".join(Path(s).name or s for s in collected.sources),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": collected.sources,
        "n_jobs": len(df),
        "status_counts": df["status"].value_counts().to_dict(),
        "summary": _records(analysis.summary(df)),
        "failures": _records(analysis.failures(df)),
        "n_failures": int(df["status"].isin(["failed", "timeout"]).sum()),
        "missing_jobs": collected.missing,
        "latency_figs": latency_figs, "latency_missing": latency_missing,
        "energy_figs": energy_figs, "energy_missing": energy_missing,
        "tier_tables": tier_tables, "tier_missing": tier_missing,
        "headlines": analysis.headlines(df),
        "why_different": WHY_DIFFERENT,
        "improvements": _matrix(analysis.improvement_matrix(df)),
        "depth_figs": depth_figs,
        "scale_figs": scale_figs,
        "training_figs": training_figs,
        "dag": dag_section, "dag_figs": dag_figs,
        "learned": learned_section, "learned_figs": learned_figs,
        "fleets": fleets.section(collected.frame),
        "sweep_configs": [_sweep_config(k, v) for k, v in collected.sweep_configs.items()],
        "varying": analysis.varying_keys(df),
        "first_config": yaml.safe_dump(first_config, sort_keys=False) if first_config else None,
        "versions": analysis.distinct(df, "version."),
        "machines": analysis.distinct(df, "machine."),
        "git_revisions": sorted({str(v) for v in df["git_revision"].dropna()}),
        "timestamps": (stamps[0], stamps[-1]) if stamps else None,
        "report_versions": _versions(),
        **stats_report.context(df, colors),
    }


def build_report(collected: Collected, output: Path, testbed_dirs: tuple[Path, ...] = ()) -> Path:
    """Write the report for `collected` (and the testbed runs in `testbed_dirs`) to `output`, atomically."""
    runs = testbed.sections(list(testbed_dirs))
    if collected.frame.empty:
        if runs:
            page = {"title": ", ".join(str(p) for p in testbed_dirs), "testbed": runs,
                    "generated": datetime.now(UTC).isoformat(timespec="seconds")}
            return write_text(output, render(page, testbed.TEMPLATE))
        from problems.errors import FieldError

        raise FieldError("path", "no results to report", collected.sources)
    return write_text(output, render({**context(collected), "testbed": runs}))


def write_sweep_outputs(sweep_dir: Path, csv_name: str = CSV_NAME, report_name: str = REPORT_NAME,
                        collected: Collected | None = None) -> tuple[Path, Path]:
    """`results.csv` (and `results.parquet` beside it) and `report.html` of one sweep directory
    (`collected`: already read)."""
    t0 = time.perf_counter()
    collected = collected if collected is not None else read_sweep(sweep_dir)
    csv = write_csv(collected.frame, sweep_dir / csv_name)
    write_parquet(collected.frame, csv.with_suffix(".parquet"))
    html = build_report(collected, sweep_dir / report_name)
    print(f"gathered {len(collected.frame)} results in {time.perf_counter() - t0:.1f} s", flush=True)
    return csv, html
