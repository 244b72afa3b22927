"""What recording `info.trace` costs a searching solver's decision (`make bench`).

Each searcher's `solve` is timed on resnet32 (MEC, 5g_avg) with the real recorder and with
one whose methods do nothing, same seed; the time spent inside the recorder is also summed
directly (`trace_share` in extra_info). Numbers go to BENCHMARKS.md ("Anytime traces").
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from solver_helpers import paper_problem

from solvers import _trace, make_solver

pytestmark = pytest.mark.bench

SEARCHERS = {"genetic": {}, "random_search": {}, "optuna": {"trials": 100}}


@pytest.fixture(scope="module")
def problem():
    return paper_problem("resnet32", "mec")


@pytest.mark.parametrize("recorder", ["trace", "no-op"])
@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_solve_with_and_without_the_trace(benchmark, monkeypatch, problem, name, recorder):
    spent = [0.0]
    if recorder == "no-op":
        monkeypatch.setattr(_trace.Trace, "record", lambda self, evaluations, cost: None)
        monkeypatch.setattr(_trace.Trace, "record_batch", lambda self, before, costs: None)
    else:
        for method in ("record", "record_batch"):
            real = getattr(_trace.Trace, method)

            def timed(self, *args, _real=real):
                t0 = time.perf_counter()
                _real(self, *args)
                spent[0] += time.perf_counter() - t0

            monkeypatch.setattr(_trace.Trace, method, timed)
    solver = make_solver(name, SEARCHERS[name])
    solver.solve(problem, np.random.default_rng(0))  # warm-up
    spent[0] = 0.0
    rounds = 3 if name == "optuna" else 20
    benchmark.pedantic(lambda: solver.solve(problem, np.random.default_rng(0)), rounds=rounds, iterations=1)
    if recorder == "trace":
        benchmark.extra_info["trace_share"] = round(spent[0] / (rounds * benchmark.stats.stats.mean), 5)
