"""Comparison statistics over repetitions: bootstrap intervals, performance profiles,
rank tests, win rates, Pareto fronts and anytime (best-so-far) curves. No plotting here.

A *problem* is one instance a solver is asked to partition (model or instance file,
scenario, network, scale, early exits, and its reference cost as a guard against two problems
sharing a label); a *cell* is one (problem, method); a cell's rows that differ only in
`seed` are its *repetitions*. Every number is taken from the results table: the gap and
the trace costs are the problem's own scores (`benchmark.runner.gap` on them).

Library choices, one line each:
- `scipy.stats.bootstrap`: seeded percentile intervals, one sample per problem, so seeds are
  resampled within each problem (percentile, not BCa: BCa is unstable on the tied values a
  median of few repetitions has).
- `scipy.stats.friedmanchisquare`: the Friedman test over problems, with scipy's tie correction.
- `scikit_posthocs.posthoc_nemenyi_friedman`: the Nemenyi post-hoc on the same table (scipy has
  none; scikit-posthocs is the maintained home of these tests and of autorank's Nemenyi).
- `scipy.stats.studentized_range`: the Nemenyi critical difference drawn in the CD diagram.
- `scipy.stats.rankdata`: average ranks with ties, as the Friedman test ranks.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchmark.runner import gap
from reports.analysis import OPTIMAL_REL
from reports.collect import parse_json

CONFIDENCE = 0.95
BOOTSTRAP_SEED = 0
BOOTSTRAP_RESAMPLES = 2000
ALPHA = 0.05
TARGETS = (0.01, 0.001, 0.0)  # gap targets of the fixed-target view (1 %, 0.1 %, optimal)
TIE_REL = 1e-12  # costs this close (relative) tie in the win-rate matrix
PROBLEM_KEYS = ("model_label", "instance", "scenario", "network", "scale_bandwidth", "scale_delay", "early_exit",
                "n_blocks", "optimal_cost", "reference_cost")
GRID_POINTS = 60  # x positions of an aggregated anytime curve
#: the result columns the statistics read: `with_problems` keeps only these, so that every
#: filter and groupby below moves a few columns instead of every result field
STAT_COLUMNS = ("method", "seed", "ok", "cost", "gap", "gap_pct", "decision_ms", "assignment", "info",
                "model_label", "optimal_cost", "reference_cost")


# ---------------------------------------------------------------- problems and cells

def _key_part(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def _label(row) -> str:
    parts = [str(row.model_label), str(row.scenario), str(row.network)]
    for name, column in (("bandwidth", "scale_bandwidth"), ("delay", "scale_delay")):
        value = getattr(row, column)
        if value is not None and not pd.isna(value) and float(value) != 1.0:
            parts.append(f"{name}×{float(value):g}")
    if str(row.early_exit) == "True":
        parts.append("exits")
    return " · ".join(parts)


def with_problems(df: pd.DataFrame) -> pd.DataFrame:
    """`df` (from `analysis.prepare`) plus `problem` (a readable unique label) and `group`
    (the problem without its network and scales: model and scenario, for the anytime plots);
    `reference_cost` (what the gap is taken to) falls back on `optimal_cost` for older results.
    Only the columns the statistics read are kept (`STAT_COLUMNS`, `PROBLEM_KEYS`)."""
    out = df[[c for c in dict.fromkeys((*STAT_COLUMNS, *PROBLEM_KEYS)) if c in df.columns]].copy()
    reference = pd.to_numeric(out["reference_cost"], errors="coerce") if "reference_cost" in out.columns \
        else pd.Series(np.nan, index=out.index)
    out["reference_cost"] = reference.fillna(pd.to_numeric(out["optimal_cost"], errors="coerce"))
    for column in PROBLEM_KEYS:
        if column not in out.columns:
            out[column] = None
    few = out[list(PROBLEM_KEYS)]  # itertuples over a few columns, not every result field
    keys = [tuple(_key_part(v) for v in row) for row in few.itertuples(index=False)]
    labels = [_label(row) for row in few.itertuples(index=False)]
    by_label: dict[str, list[tuple]] = {}
    for key, label in zip(keys, labels, strict=True):
        seen = by_label.setdefault(label, [])
        if key not in seen:
            seen.append(key)
    out["problem"] = [label if len(by_label[label]) == 1 else f"{label} #{by_label[label].index(key) + 1}"
                      for key, label in zip(keys, labels, strict=True)]
    out["group"] = out["model_label"].astype(str) + " · " + out["scenario"].astype(str)
    return out


def cell_medians(df: pd.DataFrame, value: str) -> pd.DataFrame:
    """problem x method table of the median `value` over a cell's finished repetitions
    (NaN where the method has no finished run of that problem)."""
    ok = df[df["ok"]]
    if ok.empty:
        return pd.DataFrame()
    return ok.groupby(["problem", "method"])[value].median().unstack("method").sort_index()


# ---------------------------------------------------------------- repetitions

def bootstrap_median(cells: Sequence[np.ndarray], seed: int = BOOTSTRAP_SEED,
                     n_resamples: int = BOOTSTRAP_RESAMPLES,
                     confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """The median of all values and its percentile bootstrap interval, the values of each
    cell (problem) resampled within that cell; cells of one value are held fixed.
    NaN bounds when no cell has two values to resample."""
    from scipy import stats

    cells = [np.asarray(c, dtype=float) for c in cells if len(c)]
    if not cells:
        return math.nan, math.nan, math.nan
    everything = np.concatenate(cells)
    median = float(np.median(everything))
    varied = [c for c in cells if c.size >= 2]
    fixed = np.concatenate([c for c in cells if c.size < 2] or [np.empty(0)])
    if not varied:
        return median, math.nan, math.nan
    if np.all(everything == everything[0]):
        return median, median, median

    def statistic(*samples, axis=-1):
        shape = samples[0].shape[:-1]
        held = np.broadcast_to(fixed, (*shape, fixed.size))
        return np.median(np.concatenate([*samples, held], axis=-1), axis=-1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a resample of identical values is expected, not a problem
        result = stats.bootstrap(varied, statistic, n_resamples=n_resamples, vectorized=True, axis=-1,
                                 confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed),
                                 batch=max(1, 2_000_000 // everything.size))
    low, high = result.confidence_interval
    return median, float(low), float(high)


TIMING_KEYS = ("_s", "_ms", "seconds", "time")  # info keys that differ between runs by measurement only


def _untimed(info):
    """A run's info without what only timing changes: timing keys and the trace's seconds."""
    if not isinstance(info, dict):
        return info
    out = {k: v for k, v in info.items() if not str(k).endswith(TIMING_KEYS)}
    if isinstance(out.get("trace"), list):
        out["trace"] = [point[1:] for point in out["trace"] if isinstance(point, list)]
    return out


def _signatures(df: pd.DataFrame) -> pd.Series:
    """Per row: its assignment and its info less timings, as one comparable string."""
    return pd.Series([json.dumps([parse_json(a), _untimed(parse_json(i))], sort_keys=True)
                      for a, i in zip(df["assignment"], df["info"], strict=True)], index=df.index)


def _deterministic(group: pd.DataFrame) -> bool | None:
    """True when, on every problem run with two or more seeds, every seed returned the same
    assignment and the same search record (info less its timings): the seed changes nothing.
    None without repetitions to compare."""
    per_cell = group.groupby("problem").agg(seeds=("seed", "nunique"), answers=("signature", "nunique"))
    repeated = per_cell[per_cell["seeds"] >= 2]
    if repeated.empty:
        return None
    return bool((repeated["answers"] == 1).all())


def _cells(group: pd.DataFrame, column: str) -> list[np.ndarray]:
    values = group[column].to_numpy(dtype=float)
    cells = [values[index] for index in group.groupby("problem").indices.values()]
    return [cell[~np.isnan(cell)] for cell in cells]


def repetitions(df: pd.DataFrame, seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Per method: repetitions per cell, the median gap and decision time with their bootstrap
    intervals over repetitions, and whether the method is deterministic (then no gap interval)."""
    rows = []
    ok = df[df["ok"]]
    ok = ok.assign(signature=_signatures(ok))
    for method, group in ok.groupby("method", sort=True):
        gap_cells, time_cells = _cells(group, "gap_pct"), _cells(group, "decision_ms")
        deterministic = _deterministic(group)
        if deterministic:  # identical gaps by construction: a median, no interval
            gaps = np.concatenate(gap_cells) if gap_cells else np.empty(0)
            g, g_lo, g_hi = float(np.median(gaps)) if gaps.size else math.nan, math.nan, math.nan
        else:
            g, g_lo, g_hi = bootstrap_median(gap_cells, seed)
        t, t_lo, t_hi = bootstrap_median(time_cells, seed)
        rows.append({"method": method, "problems": len(gap_cells),
                     "repetitions": int(group.groupby("problem")["seed"].nunique().median()),
                     "deterministic": deterministic, "median_gap_pct": g, "gap_lo": g_lo, "gap_hi": g_hi,
                     "median_decision_ms": t, "time_lo": t_lo, "time_hi": t_hi})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- performance profiles

def performance_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Dolan–Moré ratios: each value over the best value of its row (problem); a missing
    value (no finished run) is inf. Rows without any value are dropped. A best of 0 gives
    ratio 1 to the zeros and inf to the rest."""
    table = table.dropna(how="all")
    values = table.to_numpy(dtype=float)
    best = np.nanmin(values, axis=1, keepdims=True) if values.size else values
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(best > 0, values / best, np.where(values == 0, 1.0, np.inf))
    ratios = np.where(np.isnan(values), np.inf, ratios)
    return pd.DataFrame(ratios, index=table.index, columns=table.columns)


def performance_profile(ratios: pd.DataFrame, taus: Sequence[float]) -> pd.DataFrame:
    """rho_s(tau): the share of problems whose ratio for solver s is at most tau."""
    r = ratios.to_numpy(dtype=float)
    taus = np.asarray(taus, dtype=float)
    shares = (r[None, :, :] <= taus[:, None, None]).mean(axis=1) if r.size else np.zeros((taus.size, 0))
    return pd.DataFrame(shares, index=pd.Index(taus, name="tau"), columns=ratios.columns)


def profile_taus(ratios: pd.DataFrame) -> np.ndarray:
    """Where the profiles step: 1 and every distinct finite ratio."""
    finite = ratios.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    return np.unique(np.concatenate(([1.0], finite)))


# ---------------------------------------------------------------- rank tests

@dataclass
class RankTest:
    """Friedman over problems (blocks) and methods (groups), with the Nemenyi post-hoc."""

    metric: str
    statistic: float
    p_value: float
    n_problems: int
    methods: list[str]
    mean_ranks: pd.Series  # method -> mean rank (1 = best), sorted
    posthoc: pd.DataFrame  # method x method Nemenyi p-values
    critical_difference: float
    alpha: float = ALPHA
    cliques: list[list[str]] = field(default_factory=list)  # runs of methods no test separates

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def different_pairs(self) -> list[tuple[str, str, float]]:
        names = list(self.mean_ranks.index)
        return [(a, b, float(self.posthoc.loc[a, b])) for i, a in enumerate(names) for b in names[i + 1:]
                if self.posthoc.loc[a, b] < self.alpha]


def complete_table(table: pd.DataFrame) -> pd.DataFrame:
    """A problem x method block without gaps: the method or problem with the largest share
    of missing values is dropped, one at a time, until none is missing."""
    table = table.dropna(axis=1, how="all").dropna(axis=0, how="all")
    while table.size and table.isna().to_numpy().any():
        missing_by_method, missing_by_problem = table.isna().mean(axis=0), table.isna().mean(axis=1)
        if missing_by_method.max() >= missing_by_problem.max():
            table = table.drop(columns=missing_by_method.idxmax())
        else:
            table = table.drop(index=missing_by_problem.idxmax())
    return table


def rank_test_needs(table: pd.DataFrame) -> str | None:
    """Why the Friedman test cannot run on `table` (None when it can)."""
    if table.shape[1] < 3:
        return (f"The rank tests need at least 3 methods with finished runs on the same problems "
                f"(this run has {table.shape[1]}).")
    if table.shape[0] < 2:
        return (f"The rank tests need at least 2 problems on which every compared method finished "
                f"(this run has {table.shape[0]}).")
    if bool((table.nunique(axis=1) == 1).all()):
        return "The rank tests need problems on which the methods differ: every method tied on every problem."
    return None


def _cliques(names: list[str], posthoc: pd.DataFrame, alpha: float) -> list[list[str]]:
    """Maximal runs of consecutive (by mean rank) methods whose every pair is not significantly different."""
    runs = []
    for i in range(len(names)):
        j = i
        while j + 1 < len(names) and all(posthoc.loc[names[m], names[j + 1]] >= alpha for m in range(i, j + 1)):
            j += 1
        if j > i and not any(a <= i and j <= b for a, b in runs):
            runs.append((i, j))
    return [names[a:b + 1] for a, b in runs]


def rank_test(table: pd.DataFrame, metric: str, alpha: float = ALPHA) -> RankTest:
    """Friedman test on a complete problem x method table (lower is better), Nemenyi post-hoc,
    mean ranks and the critical difference of the CD diagram."""
    import scikit_posthocs
    from scipy import stats

    values = table.to_numpy(dtype=float)
    n, k = values.shape
    result = stats.friedmanchisquare(*values.T)
    ranks = pd.Series(stats.rankdata(values, axis=1).mean(axis=0), index=table.columns).sort_values(kind="stable")
    posthoc = scikit_posthocs.posthoc_nemenyi_friedman(pd.DataFrame(values, columns=table.columns))
    posthoc.index, posthoc.columns = list(table.columns), list(table.columns)
    q_alpha = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    cd = float(q_alpha * math.sqrt(k * (k + 1) / (6.0 * n)))
    names = list(ranks.index)
    return RankTest(metric, float(result.statistic), float(result.pvalue), n, names, ranks, posthoc, cd, alpha,
                    _cliques(names, posthoc, alpha))


# ---------------------------------------------------------------- win rates

def win_rates(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Row method against column method on the same problem and seed, both finished:
    the share of those pairs the row wins (lower cost), the share tied and the pair count.
    Rows and columns are ordered by overall win rate (the mean over opponents), best first."""
    ok = df[df["ok"] & df["cost"].notna()]
    costs = ok.groupby(["problem", "seed", "method"])["cost"].median().unstack("method")
    methods = list(costs.columns)
    m = costs.to_numpy(dtype=float)
    k = len(methods)
    wins, ties, pairs = np.full((k, k), np.nan), np.full((k, k), np.nan), np.zeros((k, k), dtype=int)
    for a in range(k):
        for b in range(k):
            both = ~np.isnan(m[:, a]) & ~np.isnan(m[:, b])
            if a == b or not both.any():
                continue
            x, y = m[both, a], m[both, b]
            tied = np.abs(x - y) <= TIE_REL * np.maximum(np.abs(x), np.abs(y))
            wins[a, b], ties[a, b], pairs[a, b] = np.mean((x < y) & ~tied), np.mean(tied), both.sum()
    wins_df = pd.DataFrame(wins, index=methods, columns=methods)
    order = list(wins_df.mean(axis=1).sort_values(ascending=False, kind="stable").index) if methods else []
    ties_df = pd.DataFrame(ties, index=methods, columns=methods)
    pairs_df = pd.DataFrame(pairs, index=methods, columns=methods)
    return wins_df.loc[order, order], ties_df.loc[order, order], pairs_df.loc[order, order]


# ---------------------------------------------------------------- Pareto view

def pareto(df: pd.DataFrame) -> pd.DataFrame:
    """Per method: median decision time and median gap over finished runs, and whether no
    other method is at least as good on both and better on one."""
    ok = df[df["ok"]]
    table = (ok.groupby("method").agg(decision_ms=("decision_ms", "median"), gap_pct=("gap_pct", "median"),
                                      runs=("ok", "size"))
             .dropna(subset=["decision_ms", "gap_pct"]).reset_index())
    t, g = table["decision_ms"].to_numpy(), table["gap_pct"].to_numpy()
    dominated = [bool(np.any((t <= t[i]) & (g <= g[i]) & ((t < t[i]) | (g < g[i])))) for i in range(len(table))]
    table["non_dominated"] = ~np.asarray(dominated, dtype=bool)
    return table.sort_values(["decision_ms", "gap_pct"]).reset_index(drop=True)


# ---------------------------------------------------------------- anytime behaviour

def trace_points(df: pd.DataFrame) -> pd.DataFrame:
    """Every point of every finished run's `info.trace`, its cost turned into a gap (%);
    `run` is the run's row label in `df`."""
    columns = ["method", "problem", "group", "seed", "run", "seconds", "evaluations", "gap_pct"]
    rows = []
    ok = df.loc[df["ok"], ["method", "problem", "group", "seed", "info", "reference_cost"]]
    for run, row in zip(ok.index, ok.itertuples(index=False), strict=True):
        info = parse_json(row.info)
        trace = info.get("trace") if isinstance(info, dict) else None
        if not trace or pd.isna(row.reference_cost):
            continue
        for point in trace:
            seconds, evaluations, best = point
            rows.append((row.method, row.problem, row.group, row.seed, run, float(seconds), float(evaluations),
                         100.0 * gap(float(best), float(row.reference_cost))))
    return pd.DataFrame(rows, columns=columns)


def _step_values(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A best-so-far step function (points x, y) at `grid`: inf (no answer yet) before its first point."""
    at = np.searchsorted(x, grid, side="right") - 1
    return np.where(at >= 0, y[np.clip(at, 0, None)], np.inf)


def anytime_curves(points: pd.DataFrame, axis: str, n_grid: int = GRID_POINTS) -> pd.DataFrame:
    """Per (group, method): the median best-so-far gap over runs and its 25-75 % band on a
    log grid of `axis` ("seconds" or "evaluations"). A run without an answer yet counts as
    infinitely far, so the quantiles (taken without interpolation) never rise; the curve starts
    where half the runs have an answer, and the band has no upper part while more than a
    quarter of the runs have none."""
    out = []
    for (group, method), part in points.groupby(["group", "method"], sort=True):
        positive = part.loc[part[axis] > 0, axis]
        if positive.empty:
            continue
        grid = np.geomspace(positive.min(), part[axis].max(), n_grid) if part[axis].max() > positive.min() \
            else np.array([positive.min()])
        values = np.vstack([_step_values(run[axis].to_numpy(), run["gap_pct"].to_numpy(), grid)
                            for _, run in part.groupby("run")])
        q25, median, q75 = np.quantile(values, [0.25, 0.5, 0.75], axis=0, method="inverted_cdf")
        keep = np.isfinite(median)
        q75 = np.where(np.isfinite(q75), q75, median)
        out.append(pd.DataFrame({"group": group, "method": method, "x": grid[keep], "median": median[keep],
                                 "q25": q25[keep], "q75": q75[keep], "runs": values.shape[0]}))
    columns = ["group", "method", "x", "median", "q25", "q75", "runs"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=columns)


def time_to_target(df: pd.DataFrame, points: pd.DataFrame, targets: Sequence[float] = TARGETS) -> pd.DataFrame:
    """Seconds each finished run needed to reach each gap target (inf: never). A run with a
    trace reaches it at its first point within the target; a run without one (a solver that
    does not search) at its decision time, if its answer is within the target."""
    traced = {run: part for run, part in points.groupby("run")}
    rows = []
    ok = df.loc[df["ok"], ["method", "problem", "seed", "gap", "gap_pct", "decision_ms"]]
    for run, row in zip(ok.index, ok.itertuples(index=False), strict=True):
        if pd.isna(row.gap):
            continue
        for target in targets:
            limit = 100.0 * max(target, OPTIMAL_REL)
            if run in traced:
                part = traced[run]
                hit = part.loc[part["gap_pct"] <= limit, "seconds"]
                seconds = float(hit.iloc[0]) if len(hit) else math.inf
            else:
                seconds = row.decision_ms / 1e3 if row.gap_pct <= limit else math.inf
            rows.append((row.method, row.problem, row.seed, target, seconds, run in traced))
    return pd.DataFrame(rows, columns=["method", "problem", "seed", "target", "seconds", "traced"])


def ecdf(times: pd.DataFrame) -> pd.DataFrame:
    """Per (target, method): the share of runs that reached the target by each time."""
    out = []
    for (target, method), part in times.groupby(["target", "method"], sort=True):
        finite = np.sort(part["seconds"].to_numpy()[np.isfinite(part["seconds"].to_numpy())])
        out.append(pd.DataFrame({"target": target, "method": method, "seconds": finite,
                                 "share": np.arange(1, finite.size + 1) / len(part), "runs": len(part)}))
    columns = ["target", "method", "seconds", "share", "runs"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=columns)
