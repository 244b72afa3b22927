"""Decision time of the IoRLO solvers (`make bench`): one actor inference per `solve`.

Training is cut short (the decision's cost does not depend on how long the actor
trained). Target (not asserted): iorlo <= 10 us per decision on 17 blocks (resnet32).
Gap and training time are measured by `python -m benchmark.measure_iorlo`.
"""

from __future__ import annotations

import numpy as np
import pytest
from solver_helpers import paper_problem

from problems import Problem
from problems.paper import PAPER_MODELS
from solvers import make_solver

pytestmark = pytest.mark.bench

SHORT = {
    "iorlo": {"episodes": 2, "steps": 20, "memory": 20, "batch_size": 8},
    "iorlo_ctx": {"updates": 2, "contexts": 2, "samples": 2, "search_rounds": 1},
}


def paper(model: str, kind: str) -> Problem:
    return paper_problem(model, kind)


@pytest.mark.parametrize("kind", ["mec", "d2d"])
@pytest.mark.parametrize("model", PAPER_MODELS)
@pytest.mark.parametrize("name", ["iorlo", "iorlo_ctx"])
def test_decision_time(benchmark, name, model, kind):
    problem = paper(model, kind)
    solver = make_solver(name, {**SHORT[name], "checkpoint_dir": None, "progress": False, "seed": 0})
    solver.prepare(problem, np.random.default_rng(0))
    solver.solve(problem, None)
    sol = benchmark.pedantic(solver.solve, args=(problem, None), rounds=2000, iterations=1, warmup_rounds=100)
    assert sol.assignment.shape == (problem.n_blocks,)
    benchmark.extra_info["n_blocks"] = problem.n_blocks
