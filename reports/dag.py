"""The report's "DAG models" section (spec section 12), from the rows of DAG problems only.

- the structure of each DAG model: blocks and data-flow edges (`n_edges` of the row);
- the exact solvers' decision time against the number of blocks: `ilp` (any tiers) and
  `mincut` (two tiers: D2D, or the device and one MEC server);
- every other solver's gap to the row's reference (the exact optimum, or the ilp bound
  where `reference_kind` is "bound": such gaps are upper bounds);
- how much worse a chain-minded single split is than the DAG optimum: the cheapest split in
  topological order (device prefix, one server) that `neurosurgeon` scores among its
  candidates (`info.cost_split_cost`), next to Neurosurgeon's own choice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reports.collect import parse_json

EXACT = ("ilp", "mincut")


def dag_rows(df: pd.DataFrame) -> pd.DataFrame:
    if "problem_class" not in df.columns:
        return df.iloc[0:0]
    rows = df[df["problem_class"] == "dag"].copy()
    rows["n_edges"] = pd.to_numeric(rows.get("n_edges"), errors="coerce")
    return rows


def structure(rows: pd.DataFrame) -> pd.DataFrame:
    """One line per DAG model: blocks, edges and how many jobs ran on it."""
    if rows.empty:
        return pd.DataFrame()
    return (rows.groupby("model_label", sort=True)
            .agg(blocks=("n_blocks", "first"), edges=("n_edges", "first"), jobs=("ok", "size"))
            .reset_index().sort_values(["blocks", "model_label"]))


def exact_times(rows: pd.DataFrame) -> pd.DataFrame:
    """Median decision time of ilp and mincut per (solver, model, scenario), with the blocks."""
    ok = rows[rows["ok"] & rows["solver"].isin(EXACT)]
    if ok.empty:
        return pd.DataFrame()
    return (ok.groupby(["method", "model_label", "scenario"], sort=True)
            .agg(blocks=("n_blocks", "first"), edges=("n_edges", "first"), decision_ms=("decision_ms", "median"),
                 max_ms=("decision_ms", "max"), jobs=("ok", "size"), optimal=("optimal", "sum"))
            .reset_index().sort_values(["method", "scenario", "blocks"]))


def heuristic_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """Per solver and scenario: median and worst gap (%) over the DAG jobs, and how often optimal."""
    rest = rows[~rows["solver"].isin(EXACT)]
    if rest.empty:
        return pd.DataFrame()
    out = []
    for (method, scenario), group in rest.groupby(["method", "scenario"], sort=True):
        ok = group[group["ok"]]
        out.append({"method": method, "scenario": scenario, "jobs": len(group), "finished": len(ok),
                    "median_gap_pct": ok["gap_pct"].median() if len(ok) else np.nan,
                    "max_gap_pct": ok["gap_pct"].max() if len(ok) else np.nan,
                    "optimal": int(ok["optimal"].sum()),
                    "bound_refs": int((ok["reference_kind"] == "bound").sum()) if "reference_kind" in ok else 0,
                    "decision_ms": ok["decision_ms"].median() if len(ok) else np.nan})
    return pd.DataFrame(out)


def _split_cost(info: Any) -> float:
    data = parse_json(info) if isinstance(info, str) else info
    value = data.get("cost_split_cost") if isinstance(data, dict) else None
    return float(value) if isinstance(value, int | float) else np.nan


def single_split(rows: pd.DataFrame) -> pd.DataFrame:
    """Per model and scenario (median over networks): the best single split's gap (%) to the
    DAG optimum, and Neurosurgeon's own (its objective: latency by default)."""
    ns = rows[rows["ok"] & (rows["solver"] == "neurosurgeon")].copy()
    if ns.empty:
        return pd.DataFrame()
    ref = pd.to_numeric(ns["reference_cost"], errors="coerce")
    ns["split_gap_pct"] = 100.0 * (ns["info"].map(_split_cost) / ref - 1.0)
    return (ns.groupby(["model_label", "scenario"], sort=True)
            .agg(blocks=("n_blocks", "first"), split_gap_pct=("split_gap_pct", "median"),
                 worst_split_gap_pct=("split_gap_pct", "max"), neurosurgeon_gap_pct=("gap_pct", "median"),
                 networks=("ok", "size"))
            .reset_index().sort_values(["scenario", "blocks"]))


def section(df: pd.DataFrame) -> dict[str, Any]:
    """The template's `dag` entry; empty tables when the run has no DAG problem."""
    rows = dag_rows(df)
    times = exact_times(rows)
    return {
        "jobs": len(rows),
        "structure": structure(rows).to_dict("records"),
        "exact": times.to_dict("records"),
        "exact_data": times,
        "heuristics": heuristic_gaps(rows).to_dict("records"),
        "split": single_split(rows).to_dict("records"),
    }
