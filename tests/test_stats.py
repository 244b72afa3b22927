"""Comparison statistics (reports.stats) on small tables written out here."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from reports import analysis, stats
from reports.collect import to_frame, typed, write_parquet


def frame(rows: list[dict]) -> pd.DataFrame:
    """Result rows (solver, instance, seed, cost, ...) as the prepared table the report uses."""
    full = []
    for row in rows:
        optimal = row.get("optimal_cost", 100.0)
        cost = row.get("cost", optimal)
        full.append({"scenario": "mec", "network": "5g_avg", "status": "ok", "optimal_cost": optimal,
                     "gap": None if cost is None else (cost - optimal) / optimal, "decision_ms": 1.0,
                     "assignment": json.dumps([0, 1]), "info": json.dumps({}), "tiers": json.dumps(["d", "e"]),
                     **row, "cost": cost})
    return stats.with_problems(analysis.prepare(to_frame(full)))


# ---------------------------------------------------------------- bootstrap

def test_bootstrap_intervals_are_reproducible_and_hold_the_median():
    rng = np.random.default_rng(7)
    cells = [rng.gamma(2.0, 1.0, 5) for _ in range(6)] + [np.array([3.0])]
    first = stats.bootstrap_median(cells, seed=11)
    again = stats.bootstrap_median(cells, seed=11)
    assert first == again
    median, low, high = first
    assert median == pytest.approx(np.median(np.concatenate(cells)))
    assert low < median < high
    one = cells[0]  # a single problem: exactly scipy's own bootstrap of the median
    reference = scipy_stats.bootstrap((one,), np.median, n_resamples=stats.BOOTSTRAP_RESAMPLES, method="percentile",
                                      rng=np.random.default_rng(11)).confidence_interval
    assert stats.bootstrap_median([one], seed=11)[1:] == pytest.approx((reference.low, reference.high))


def test_bootstrap_without_repetitions_claims_no_interval():
    median, low, high = stats.bootstrap_median([np.array([1.0]), np.array([3.0])])
    assert median == 2.0 and math.isnan(low) and math.isnan(high)
    assert stats.bootstrap_median([np.array([2.0, 2.0]), np.array([2.0])]) == (2.0, 2.0, 2.0)


def test_repetitions_flag_a_seed_independent_solver_and_give_the_others_intervals():
    rows = []
    for seed in range(4):
        for instance in ("p1", "p2", "p3"):
            rows.append({"solver": "exact", "instance": instance, "seed": seed, "decision_ms": 1.0 + 0.01 * seed,
                         "info": json.dumps({"value": 100.0, "wall_s": 0.001 * seed})})  # timings may differ
            rows.append({"solver": "search", "instance": instance, "seed": seed, "cost": 100.0 + seed,
                         "assignment": json.dumps([seed % 2, 1]),
                         "info": json.dumps({"trace": [[0.01 * seed, 1, 100.0 + seed]]})})
            rows.append({"solver": "lucky", "instance": instance, "seed": seed,  # same answer, different search
                         "info": json.dumps({"trace": [[0.1, 1, 120.0], [0.2, 3 + seed, 100.0]]})})
    table = stats.repetitions(frame(rows)).set_index("method")
    assert table.loc["exact", "deterministic"] and math.isnan(table.loc["exact", "gap_lo"])
    assert table.loc["exact", "time_lo"] < table.loc["exact", "time_hi"]
    assert not table.loc["search", "deterministic"] and not table.loc["lucky", "deterministic"]
    assert table.loc["search", "gap_lo"] <= table.loc["search", "median_gap_pct"] <= table.loc["search", "gap_hi"]
    assert (table["repetitions"] == 4).all() and (table["problems"] == 3).all()
    again = stats.repetitions(frame(rows)).set_index("method")
    pd.testing.assert_frame_equal(table, again)


# ---------------------------------------------------------------- performance profiles

COSTS = pd.DataFrame({"A": [10.0, 30.0, 8.0, 5.0], "B": [20.0, 15.0, 8.0, 10.0], "C": [np.nan, 15.0, 16.0, 2.5]},
                     index=["p1", "p2", "p3", "p4"])  # C failed on p1


def test_performance_profile_matches_a_hand_computation():
    ratios = stats.performance_ratios(COSTS)
    # by hand: p1 best 10 -> A 1, B 2, C inf; p2 best 15 -> A 2, B 1, C 1;
    #          p3 best 8 -> A 1, B 1, C 2; p4 best 2.5 -> A 2, B 4, C 1
    expected = pd.DataFrame({"A": [1, 2, 1, 2], "B": [2, 1, 1, 4], "C": [np.inf, 1, 2, 1]}, index=COSTS.index,
                            dtype=float)
    pd.testing.assert_frame_equal(ratios, expected)
    assert stats.profile_taus(ratios).tolist() == [1.0, 2.0, 4.0]
    profile = stats.performance_profile(ratios, [1.0, 1.5, 2.0, 4.0, 100.0])
    assert profile["A"].tolist() == [0.5, 0.5, 1.0, 1.0, 1.0]
    assert profile["B"].tolist() == [0.5, 0.5, 0.75, 1.0, 1.0]
    assert profile["C"].tolist() == [0.5, 0.5, 0.75, 0.75, 0.75]  # never reaches p1


def test_performance_ratios_of_a_zero_best_and_of_a_problem_nobody_finished():
    table = pd.DataFrame({"A": [0.0, np.nan], "B": [3.0, np.nan]}, index=["zero", "none"])
    ratios = stats.performance_ratios(table)
    assert list(ratios.index) == ["zero"]
    assert ratios.loc["zero"].tolist() == [1.0, math.inf]


# ---------------------------------------------------------------- rank tests

GAPS = pd.DataFrame({"A": [0.0, 0.1, 0.0, 0.2, 0.0, 0.3], "B": [0.5, 0.4, 0.2, 0.9, 0.1, 0.6],
                     "C": [0.0, 0.6, 0.3, 0.7, 0.2, 0.5], "D": [0.9, 0.8, 0.9, 1.0, 0.7, 0.9]},
                    index=[f"p{i}" for i in range(6)])


def test_friedman_statistic_and_ranks_equal_scipy_and_a_hand_count():
    test = stats.rank_test(GAPS, "gap")
    reference = scipy_stats.friedmanchisquare(*(GAPS[c] for c in GAPS.columns))
    assert test.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert test.p_value == pytest.approx(reference.pvalue, rel=1e-12)
    assert test.n_problems == 6 and test.methods[0] == "A" and test.methods[-1] == "D"
    # ranks per problem by hand (ties share the mean rank): A 1.5,1,1,1,1,1 ...
    assert test.mean_ranks["A"] == pytest.approx((1.5 + 1 + 1 + 1 + 1 + 1) / 6)
    assert test.mean_ranks["D"] == pytest.approx(4.0)
    assert test.mean_ranks.sum() == pytest.approx(4 * 5 / 2)
    posthoc = test.posthoc.to_numpy()
    assert np.allclose(posthoc, posthoc.T)


def test_critical_difference_uses_demsars_q_alpha():
    # Demšar (2006), Table 5a: q_0.05 = 2.343 for 3 methods, 2.569 for 4
    three = stats.rank_test(GAPS[["A", "B", "D"]], "gap")
    four = stats.rank_test(GAPS, "gap")
    assert three.critical_difference == pytest.approx(2.343 * math.sqrt(3 * 4 / (6 * 6)), abs=1e-3)
    assert four.critical_difference == pytest.approx(2.569 * math.sqrt(4 * 5 / (6 * 6)), abs=1e-3)


def test_cliques_join_methods_no_test_separates():
    names = ["A", "B", "C", "D"]
    p = pd.DataFrame(1.0, index=names, columns=names)
    p.loc["A", "D"] = p.loc["D", "A"] = 0.01
    p.loc["A", "C"] = p.loc["C", "A"] = 0.01
    assert stats._cliques(names, p, 0.05) == [["A", "B"], ["B", "C", "D"]]


def test_rank_tests_say_what_they_need():
    assert "at least 3 methods" in stats.rank_test_needs(GAPS[["A", "B"]])
    assert "at least 2 problems" in stats.rank_test_needs(GAPS.iloc[:1])
    assert "tied" in stats.rank_test_needs(pd.DataFrame(0.0, index=["p", "q"], columns=["A", "B", "C"]))
    assert stats.rank_test_needs(GAPS) is None
    gappy = GAPS.copy()
    gappy.loc["p0", "B"] = np.nan
    gappy["E"] = np.nan
    assert stats.complete_table(gappy).shape == (5, 4)  # E dropped, then the problem B missed


# ---------------------------------------------------------------- win rates

def test_win_rate_matrix_is_antisymmetric_apart_from_ties():
    rng = np.random.default_rng(3)
    rows = []
    for seed in range(3):
        for instance in ("p1", "p2", "p3", "p4"):
            for solver in ("A", "B", "C", "D"):
                cost = float(100 + rng.integers(0, 4))  # few distinct values: many ties
                rows.append({"solver": solver, "instance": instance, "seed": seed, "cost": cost})
    rows.append({"solver": "D", "instance": "p1", "seed": 9, "cost": 100.0})  # a run nobody else has
    wins, ties, pairs = stats.win_rates(frame(rows))
    off = ~np.eye(len(wins), dtype=bool)
    w, t = wins.to_numpy(), ties.to_numpy()
    assert np.allclose((w + w.T + t)[off], 1.0)
    assert np.allclose(t, t.T, equal_nan=True) and (t[off] > 0).any()
    assert (pairs.to_numpy()[off] == 12).all()
    overall = wins.mean(axis=1)
    assert list(overall) == sorted(overall, reverse=True)  # ordered by overall win rate
    assert list(wins.columns) == list(wins.index)


# ---------------------------------------------------------------- Pareto view

def test_pareto_marks_the_non_dominated_methods():
    rows = []
    for solver, cost, ms in (("fast", 110.0, 1.0), ("exact", 100.0, 50.0), ("slow_bad", 120.0, 60.0),
                             ("mid", 105.0, 10.0), ("same_time_worse", 115.0, 10.0)):
        rows.append({"solver": solver, "instance": "p", "seed": 0, "cost": cost, "decision_ms": ms})
    table = stats.pareto(frame(rows)).set_index("method")
    assert table["non_dominated"].to_dict() == {"fast": True, "mid": True, "same_time_worse": False,
                                                "exact": True, "slow_bad": False}


# ---------------------------------------------------------------- anytime

def traced_rows() -> list[dict]:
    rows = []
    for seed in range(2):
        rows.append({"solver": "ga", "instance": "p", "seed": seed, "cost": 100.0,
                     "info": json.dumps({"trace": [[0.001, 1, 150.0], [0.01 * (seed + 1), 10, 100.5],
                                                   [0.1 * (seed + 1), 50, 100.0]]})})
        rows.append({"solver": "rs", "instance": "p", "seed": seed, "cost": 102.0,
                     "info": json.dumps({"trace": [[0.002, 1, 130.0], [0.02, 20, 102.0]]})})
        rows.append({"solver": "dp", "instance": "p", "seed": seed, "cost": 100.0, "decision_ms": 5.0})
    return rows


def test_trace_points_become_gaps_and_time_to_target():
    df = frame(traced_rows())
    points = stats.trace_points(df)
    assert set(points["method"]) == {"ga", "rs"} and len(points) == 10
    assert points["gap_pct"].max() == pytest.approx(50.0)
    times = stats.time_to_target(df, points).set_index(["method", "seed", "target"])["seconds"]
    assert times[("ga", 0, 0.01)] == pytest.approx(0.01) and times[("ga", 1, 0.001)] == pytest.approx(0.2)
    assert times[("ga", 1, 0.0)] == pytest.approx(0.2)
    assert math.isinf(times[("rs", 0, 0.01)])  # 2 % never reaches 1 %
    assert times[("dp", 0, 0.0)] == pytest.approx(0.005)  # no trace: its decision time
    curves = stats.ecdf(stats.time_to_target(df, points))
    ga = curves[(curves["method"] == "ga") & (curves["target"] == 0.0)]
    assert ga["share"].tolist() == [0.5, 1.0] and ga["seconds"].tolist() == pytest.approx([0.1, 0.2])
    rs = curves[(curves["method"] == "rs") & (curves["target"] == 0.0)]
    assert rs.empty


def test_anytime_curves_are_monotone_medians_with_a_band():
    points = stats.trace_points(frame(traced_rows()))
    for axis in ("seconds", "evaluations"):
        curves = stats.anytime_curves(points, axis)
        for _, part in curves.groupby("method"):
            assert np.all(np.diff(part["median"]) <= 1e-12)
            assert np.all(part["q25"] <= part["median"] + 1e-12) and np.all(part["median"] <= part["q75"] + 1e-12)
            assert (part["runs"] == 2).all()
    steps = stats._step_values(np.array([1.0, 2.0]), np.array([5.0, 3.0]), np.array([0.5, 1.0, 1.5, 9.0]))
    assert steps.tolist() == [math.inf, 5.0, 5.0, 3.0]  # no answer before the first point


def test_anytime_median_never_rises_when_runs_start_late():
    rows = [{"solver": "rs", "instance": "p", "seed": 0, "cost": 100.0,
             "info": json.dumps({"trace": [[0.001, 1, 101.0], [0.002, 2, 100.0]]})},
            {"solver": "rs", "instance": "p", "seed": 1, "cost": 100.0,  # starts late, far off
             "info": json.dumps({"trace": [[0.01, 1, 200.0], [0.02, 5, 100.0]]})}]
    curves = stats.anytime_curves(stats.trace_points(frame(rows)), "seconds")
    assert np.all(np.diff(curves["median"]) <= 0)
    assert curves["x"].min() == pytest.approx(0.001) and curves["median"].iloc[-1] == 0.0


# ---------------------------------------------------------------- results.parquet

def test_parquet_has_the_csv_columns_typed(tmp_path):
    rows = [{"solver": "dp", "instance": "p", "seed": 0, "status": "ok", "cost": 1.5, "early_exit": False,
             "n_blocks": 4, "error": None, "machine.cpus": 2},
            {"solver": "ga", "instance": "p", "seed": 1, "status": "failed", "cost": None, "early_exit": True,
             "n_blocks": 4, "error": "ValueError: x", "machine.cpus": 2}]
    table = to_frame(rows)
    path = write_parquet(table, tmp_path / "results.parquet")
    back = pd.read_parquet(path)
    assert list(back.columns) == list(table.columns)
    assert back["seed"].dtype == "Int64" and back["cost"].dtype == "float64"
    assert back["early_exit"].dtype == "boolean" and back["error"].dtype == "string"
    assert back["gap"].dtype == "float64"  # a number column, even with every value missing
    assert back["cost"].isna().tolist() == [False, True]
    assert typed(table)["solver"].tolist() == ["dp", "ga"]
