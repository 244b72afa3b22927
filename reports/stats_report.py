"""The comparison-statistics sections of the report: what reports.stats computes, turned
into the tables, figures and one-sentence notes the template shows.

Every section needs some minimum of data (two problems, three methods, traces, ...);
with less it gets a sentence saying what it needs instead of an empty plot.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from reports import stats, stats_figures

MAX_ANYTIME_GROUPS = 12
TRACED_SOLVERS = "genetic, random_search, optuna, ilp, or a learned solver's training"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [] if frame.empty else frame.to_dict("records")


def _repetitions(df: pd.DataFrame) -> dict[str, Any]:
    table = stats.repetitions(df)
    repeated = not table.empty and bool((table["repetitions"] >= 2).any())
    return {"repetition_rows": _records(table) if repeated else [],
            "repetition_missing": None if repeated else
            "Confidence intervals need repetitions: sweep the seed (for example seed=range(10)) so that each "
            "(problem, method) runs more than once.",
            "confidence": round(100 * stats.CONFIDENCE)}


def _profiles(df: pd.DataFrame, colors: dict[str, str]) -> dict[str, Any]:
    profiles = {}
    for metric, column in (("cost", "cost"), ("decision time", "decision_ms")):
        table = stats.cell_medians(df, column)
        if table.empty or table.shape[1] < 2:
            continue
        ratios = stats.performance_ratios(table)
        if len(ratios) < 2:
            continue
        profiles[metric] = (stats.performance_profile(ratios, stats.profile_taus(ratios)), len(ratios))
    if len(profiles) < 2:
        methods, problems = df.loc[df["ok"], "method"].nunique(), df.loc[df["ok"], "problem"].nunique()
        return {"profile_figs": [], "profile_missing":
                f"Performance profiles need at least 2 methods with finished runs on at least 2 problems "
                f"(this run has {methods} method{'s' * (methods != 1)} on {problems} "
                f"problem{'s' * (problems != 1)})."}
    title = "Dolan–Moré performance profiles of cost and decision time (median over repetitions per problem)"
    return {"profile_figs": [(title, stats_figures.profiles_plot(profiles, colors))], "profile_missing": None}


def _anytime(df: pd.DataFrame, colors: dict[str, str]) -> dict[str, Any]:
    points = stats.trace_points(df)
    if points.empty:
        missing = (f"The anytime view needs runs of a searching solver ({TRACED_SOLVERS}) that record "
                   f"info.trace; this run has none.")
        return {"anytime_figs": [], "ecdf_figs": [], "anytime_missing": missing, "anytime_hidden": 0}
    by_time = stats.anytime_curves(points, "seconds")
    by_evaluations = stats.anytime_curves(points, "evaluations")
    groups = sorted(set(by_time["group"]) | set(by_evaluations["group"]))
    figs = []
    for group in groups[:MAX_ANYTIME_GROUPS]:
        runs = points[points["group"] == group]
        n_problems = runs["problem"].nunique()
        title = (f"{group}: best-so-far gap, median and 25–75 % band over {runs['run'].nunique()} runs "
                 f"({n_problems} problem{'s' * (n_problems != 1)} × repetitions)")
        figs.append((title, stats_figures.anytime_plot(by_time[by_time["group"] == group],
                                                       by_evaluations[by_evaluations["group"] == group], colors)))
    times = stats.time_to_target(df, points)
    ecdf = stats.ecdf(times)
    n_runs = times[times["target"] == stats.TARGETS[0]].groupby("method").size()
    title = (f"Fixed targets: share of runs (problems × seeds, {int(n_runs.max())} per method at most) that "
             f"reached 1 %, 0.1 % and 0 % gap by each time")
    return {"anytime_figs": figs, "anytime_missing": None, "anytime_hidden": max(0, len(groups) - len(figs)),
            "ecdf_figs": [(title, stats_figures.ecdf_plot(ecdf, stats.TARGETS, colors))]}


def _rank_tests(df: pd.DataFrame, colors: dict[str, str]) -> dict[str, Any]:
    rows, figs, missing = [], [], []
    for metric, column in (("gap", "gap_pct"), ("decision time", "decision_ms")):
        table = stats.cell_medians(df, column)
        table = stats.complete_table(table) if not table.empty else table
        need = stats.rank_test_needs(table)
        if need:
            missing.append(f"{metric}: {need}")
            continue
        test = stats.rank_test(table, metric)
        pairs = [f"{a} vs {b} (p = {p:.3g})" for a, b, p in test.different_pairs()]
        rows.append({"metric": metric, "test": "Friedman χ² (scipy.stats.friedmanchisquare)",
                     "statistic": test.statistic, "p_value": test.p_value, "n_problems": test.n_problems,
                     "n_methods": len(test.methods), "significant": test.significant,
                     "posthoc": "Nemenyi (scikit-posthocs)", "cd": test.critical_difference,
                     "different": pairs, "ranks": [(m, r) for m, r in test.mean_ranks.items()]})
        figs.append((f"Critical-difference diagram, {metric}: mean rank over {test.n_problems} problems "
                     f"(Nemenyi, α = {test.alpha:g}; a bar joins methods not significantly different)",
                     stats_figures.cd_plot(test, colors)))
    return {"rank_rows": rows, "rank_figs": figs, "rank_missing": missing, "alpha": stats.ALPHA}


def _win_rates(df: pd.DataFrame) -> dict[str, Any]:
    wins, ties, pairs = stats.win_rates(df)
    if wins.shape[0] < 2 or not wins.notna().to_numpy().any():
        return {"winrate_figs": [], "winrate_missing":
                "The win-rate matrix needs at least 2 methods with finished runs of the same problem and seed."}
    overall = wins.mean(axis=1)
    title = (f"Win rate of the row method against the column method, same problem and seed "
             f"({int(pairs.to_numpy().max())} pairs at most), ordered by mean win rate "
             f"({', '.join(f'{m} {100 * v:.0f} %' for m, v in overall.items() if not math.isnan(v))})")
    return {"winrate_figs": [(title, stats_figures.winrate_plot(wins, ties, pairs))], "winrate_missing": None}


def _pareto(df: pd.DataFrame, colors: dict[str, str]) -> dict[str, Any]:
    table = stats.pareto(df)
    if len(table) < 2:
        return {"pareto_figs": [], "pareto_rows": [], "pareto_missing":
                "The Pareto view needs at least 2 methods with finished runs."}
    title = "Median decision time against median gap per method; stars are non-dominated"
    return {"pareto_figs": [(title, stats_figures.pareto_plot(table, colors))], "pareto_rows": _records(table),
            "pareto_missing": None}


def context(df: pd.DataFrame, colors: dict[str, str]) -> dict[str, Any]:
    """The template variables of the comparison sections, from `analysis.prepare`'s table."""
    df = stats.with_problems(df)
    return {**_repetitions(df), **_profiles(df, colors), **_anytime(df, colors), **_rank_tests(df, colors),
            **_win_rates(df), **_pareto(df, colors)}
