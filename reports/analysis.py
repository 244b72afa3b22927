"""The numbers behind every report section, as small DataFrames (no plotting here).

Rows are labelled twice: `method` is the solver plus any `solver.*` override that
makes it a variant (`neurosurgeon [objective=energy]`), `model_label` is the model (or
the instance name) plus any problem override that is not an axis of its own
(`alexnet [scenario.collaborator=co-l]`). Seeds, sampled-network draws and repeated
runs of the same (method, problem) are summarised by their median.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from problems.overrides import parse_override
from reports.collect import parse_json
from reports.paper import HEADLINES, Headline

OPTIMAL_REL = 1e-9  # relative gap at or below which a result counts as optimal
NUMERIC = ("n_blocks", "model_depth", "seed", "cost", "latency_ms", "energy_j", "deploy", "optimal_cost", "gap",
           "decision_ms", "decision_repeats", "prepare_s", "scale_bandwidth", "scale_delay")
#: override keys that are axes of a sweep or steer how it runs: never part of a label
AXES = {"solver", "model", "scenario", "network", "seed", "instance", "experiment", "resume", "plugins",
        "solver.name", "solver.timeout_s", "network.scale.bandwidth", "network.scale.delay", "network.seed",
        "model.seed"}
AXIS_PREFIXES = ("timing.", "isolation.", "hydra.", "hydra/")
PROBLEM_PREFIXES = ("scenario.", "model.", "network.")
SCALE_AXES = {"bandwidth": "scale_bandwidth", "delay": "scale_delay"}
FIXED = ("device_only", "edge_only", "cloud_only", "collaborator_only")  # constant-time baselines
NETWORK_ORDER = ("5g_avg", "5g_worst", "5g_best")  # the paper's Table 2 order
MODEL_ORDER = ("alexnet", "vgg16", "resnet32", "mobilenet_v1")  # the paper's Figs. 10-13 order


def ordered(values, first: tuple[str, ...]) -> list[str]:
    """Distinct values, the paper's ones first in the paper's order, the rest sorted."""
    seen = list(dict.fromkeys(str(v) for v in values))
    return [v for v in first if v in seen] + sorted(v for v in seen if v not in first)


def _overrides(value) -> list[tuple[str, str]]:
    out = []
    for override in map(parse_override, parse_json(value) or []):
        if override.key in AXES or override.key.startswith(AXIS_PREFIXES):
            continue
        out.append((override.key, override.value))
    return sorted(out)


def _label(base: str, extra: list[str]) -> str:
    return f"{base} [{', '.join(extra)}]" if extra else base


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """The collected table with typed numbers and the derived columns every section uses."""
    df = frame.copy()
    for column in NUMERIC:
        df[column] = pd.to_numeric(df[column], errors="coerce") if column in df.columns else np.nan
    methods, models, shares, names = [], [], [], []
    for row in df.itertuples(index=False):
        pairs = _overrides(getattr(row, "overrides", None))
        solver_extra = [f"{k.removeprefix('solver.')}={v}" for k, v in pairs if k.startswith("solver.")]
        problem_extra = [f"{k}={v}" for k, v in pairs if k.startswith(PROBLEM_PREFIXES)]
        methods.append(_label(str(row.solver), solver_extra))
        base = row.model if isinstance(row.model, str) and row.model else str(row.instance)
        if isinstance(row.model, str) and row.model and pd.notna(row.model_depth):
            base = f"{row.model}{int(row.model_depth)}"  # resnet56, synthetic512
        models.append(_label(base, problem_extra))
        tiers = parse_json(row.tiers) or []
        assignment = parse_json(row.assignment)
        if assignment and isinstance(assignment[0], list):  # a fleet's K lists: every user's blocks
            assignment = [t for user in assignment for t in user]
        names.append(" / ".join(map(str, tiers)))
        if assignment and tiers:
            counts = np.bincount(np.asarray(assignment, dtype=int), minlength=len(tiers))[: len(tiers)]
            shares.append(tuple(100.0 * counts / len(assignment)))
        else:
            shares.append(None)
    df["method"] = methods
    df["model_label"] = models
    df["tier_names"] = names
    df["shares"] = shares
    df["network"] = df["network"].where(df["network"].notna(), "instance file")
    df["ok"] = df["status"] == "ok"
    df["gap_pct"] = 100.0 * df["gap"]
    df["optimal"] = df["ok"] & (df["gap"] <= OPTIMAL_REL)
    return df


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per method: how close, how fast, how reliable."""
    rows = []
    for method, group in df.groupby("method", sort=True):
        ok = group[group["ok"]]
        status = group["status"].value_counts()
        rows.append({
            "method": method,
            "jobs": len(group),
            "ok": len(ok),
            "optimal_pct": 100.0 * ok["optimal"].mean() if len(ok) else math.nan,
            "median_gap_pct": ok["gap_pct"].median(),
            "worst_gap_pct": ok["gap_pct"].max(),
            "median_decision_ms": ok["decision_ms"].median(),
            "median_prepare_s": ok["prepare_s"].median(),
            "failed": int(status.get("failed", 0)),
            "timeout": int(status.get("timeout", 0)),
            "unsupported": int(status.get("unsupported", 0)),
        })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(["median_gap_pct", "median_decision_ms"], na_position="last").reset_index(drop=True)


def problems_at_paper_scale(df: pd.DataFrame) -> pd.DataFrame:
    """Finished jobs on unscaled networks: the setting of the paper's figures and ratios."""
    unscaled = df["scale_bandwidth"].fillna(1.0).eq(1.0) & df["scale_delay"].fillna(1.0).eq(1.0)
    return df[df["ok"] & unscaled]


def by_model(df: pd.DataFrame, scenario: str, metric: str) -> pd.DataFrame:
    """Median `metric` per (network, model, method) in one scenario (Figs. 10-13)."""
    rows = problems_at_paper_scale(df)
    rows = rows[rows["scenario"] == scenario]
    if rows.empty:
        return pd.DataFrame(columns=["network", "model_label", "method", metric])
    return rows.groupby(["network", "model_label", "method"], sort=True)[metric].median().reset_index()


def tier_distribution(df: pd.DataFrame, scenario: str) -> tuple[list[str], pd.DataFrame]:
    """Table 3: mean % of blocks per tier, one cell per (method, model); and the tier names."""
    rows = problems_at_paper_scale(df)
    rows = rows[(rows["scenario"] == scenario) & rows["shares"].notna()]
    if rows.empty:
        return [], pd.DataFrame()
    names = rows["tier_names"].mode().iloc[0].split(" / ")
    rows = rows[rows["shares"].map(len) == len(names)]
    cells = {}
    for (method, model), group in rows.groupby(["method", "model_label"], sort=True):
        mean = np.mean(np.stack(group["shares"].map(np.asarray).to_list()), axis=0)
        cells[(method, model)] = " / ".join(f"{v:.2f}" for v in mean)
    table = pd.Series(cells).unstack()
    return names, table[ordered(table.columns, MODEL_ORDER)]


def _improvements(df: pd.DataFrame, scenario: str, metric: str) -> tuple[pd.DataFrame, str]:
    """Per (model, network, method): % less `metric` than device-only on the same problem."""
    rows = problems_at_paper_scale(df)
    rows = rows[rows["scenario"] == scenario]
    keys = ["network", "model_label", "early_exit"]
    med = rows.groupby([*keys, "method"], dropna=False)[metric].median().reset_index()
    ref = med[med["method"] == "device_only"].drop(columns="method").rename(columns={metric: "ref"})
    out = med.merge(ref, on=keys, how="inner")
    out = out[out["ref"] > 0]
    out["improvement_pct"] = 100.0 * (1.0 - out[metric] / out["ref"])
    networks = set(out["network"])
    if "5g_avg" in networks:
        return out[out["network"] == "5g_avg"], "5g_avg"
    return out, ", ".join(sorted(map(str, networks))) or "none"


def headlines(df: pd.DataFrame, published: Iterable[Headline] = HEADLINES) -> list[dict]:
    """The paper's ratios computed from this run, each with its per-model values."""
    out = []
    for h in published:
        table, network = _improvements(df, h.scenario, h.metric)
        mine = table[table["method"] == h.method]
        per_model = mine.groupby("model_label")["improvement_pct"].mean()
        computed = float(per_model.mean()) if len(per_model) else None
        models = sorted(set(per_model.index) | set(h.per_model), key=lambda m: (m not in h.per_model, m))
        out.append({
            "headline": h, "network": network, "computed": computed,
            "difference": None if computed is None else computed - h.published,
            "models": [{"model": m, "published": h.per_model.get(m),
                        "computed": float(per_model[m]) if m in per_model.index else None} for m in models],
        })
    return out


def improvement_matrix(df: pd.DataFrame) -> pd.DataFrame:
    """Every method against device-only: mean % latency and device-energy reduction per scenario."""
    parts = []
    for scenario in sorted(df["scenario"].dropna().unique()):
        for metric, name in (("latency_ms", "latency"), ("energy_j", "energy")):
            table, network = _improvements(df, scenario, metric)
            if table.empty:
                continue
            mean = table.groupby("method")["improvement_pct"].mean().rename(f"{scenario} {name} ({network})")
            parts.append(mean)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, axis=1).sort_index()


def depth(df: pd.DataFrame) -> pd.DataFrame:
    """Median decision time and gap per (method, number of blocks); empty unless depth varies.
    The fixed policies are left out: they decide in constant time and say nothing about scaling."""
    rows = df[df["ok"] & ~df["solver"].isin(FIXED)]
    if rows["n_blocks"].nunique() < 2:
        return pd.DataFrame()
    return (rows.groupby(["method", "n_blocks"], sort=True)
            .agg(decision_ms=("decision_ms", "median"), gap_pct=("gap_pct", "median"), jobs=("ok", "size"))
            .reset_index())


def network_scale(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Median gap per (method, scale) for each scale the sweep varies (the other held at 1 when it can be)."""
    out = {}
    rows = df[df["ok"]]
    for axis, column in SCALE_AXES.items():
        other = SCALE_AXES["delay" if axis == "bandwidth" else "bandwidth"]
        sub = rows[rows[column].notna()]
        if sub[column].nunique() < 2:
            continue
        held = sub[sub[other].fillna(1.0).eq(1.0)]
        if held[column].nunique() >= 2:
            sub = held
        out[axis] = (sub.groupby(["method", column], sort=True)
                     .agg(gap_pct=("gap_pct", "median"), jobs=("ok", "size")).reset_index()
                     .rename(columns={column: "scale"}))
    return out


def _thin(curve: pd.DataFrame, points: int) -> pd.DataFrame:
    """At most `points` points: consecutive episodes averaged in equal groups."""
    if len(curve) <= points:
        return curve
    groups = np.arange(len(curve)) * points // len(curve)
    return curve.groupby(groups)[["episode", "mean_reward"]].mean()


def training_curves(df: pd.DataFrame, limit: int = 24, points: int = 400) -> dict[str, dict]:
    """Per method: the first `limit` readable training curves (label, curve), each thinned to
    `points` points, and how many jobs of that method had one."""
    rows = df[df["training_curve"].notna()] if "training_curve" in df.columns else df.iloc[:0]
    out: dict[str, dict] = {}
    for row in rows.itertuples(index=False):
        path = Path(str(row.training_curve))
        if not path.is_file():
            continue
        entry = out.setdefault(row.method, {"curves": [], "found": 0})
        entry["found"] += 1
        if len(entry["curves"]) >= limit:
            continue
        try:
            curve = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError):
            continue
        if {"episode", "mean_reward"} <= set(curve.columns):
            seed = "" if pd.isna(row.seed) else f" · seed {int(row.seed)}"
            label = f"{row.model_label} · {row.scenario} · {row.network}{seed}"
            entry["curves"].append((label, _thin(curve, points)))
    return {method: entry for method, entry in sorted(out.items()) if entry["curves"]}


def failures(df: pd.DataFrame, limit: int = 50) -> pd.DataFrame:
    rows = df[df["status"].isin(["failed", "timeout"])]
    return rows[["job", "method", "model_label", "scenario", "network", "status", "error"]].head(limit)


def varying_keys(df: pd.DataFrame) -> dict[str, list[str]]:
    """Override keys that take more than one value in this run, with their values."""
    columns = [c for c in df.columns if c.startswith("override.")]
    out = {}
    for column in sorted(columns):
        values = sorted({str(v) for v in df[column].dropna()})
        if len(values) > 1 or (values and df[column].isna().any()):
            out[column.removeprefix("override.")] = values
    return out


def distinct(df: pd.DataFrame, prefix: str) -> dict[str, list[str]]:
    """Every distinct value of the columns that start with `prefix` (versions, machine)."""
    out = {}
    for column in sorted(c for c in df.columns if c.startswith(prefix)):
        values = sorted({str(v) for v in df[column].dropna()})
        if values:
            out[column.removeprefix(prefix)] = values
    return out
