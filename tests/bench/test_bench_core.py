"""Speed and memory of the problem model and the exact solvers (`make bench`).

Targets: evaluate >= 15 M assignments/s (resnet32, 1,000,000 random); dp decision
<= 20 us (resnet32 MEC, tables built); chain tables for a new network + dp <= 100 us;
exhaustive over 3^17 <= 2 s and <= 200 MB; dp on a 10,000-block chain <= 50 ms.
Numbers go to BENCHMARKS.md; nothing here asserts a timing.
"""

import dataclasses
import tracemalloc

import numpy as np
import pytest
from problem_factory import random_problem

from problems.build import build_problem
from problems.presets import network_preset
from problems.problem import Problem
from solvers import make_solver
from solvers.dp import optimum

pytestmark = pytest.mark.bench


@pytest.fixture(scope="module")
def resnet32():
    return build_problem({"name": "resnet32"}, {"kind": "mec"}, {"name": "5g_avg"})


@pytest.mark.parametrize("exits", [False, True])
def test_evaluate_million(benchmark, resnet32, exits):
    p = resnet32
    if exits:
        blocks = tuple(dataclasses.replace(b, exit_prob=0.1) for b in p.profile.blocks)
        sc = dataclasses.replace(p.scenario, early_exit=dataclasses.replace(p.scenario.early_exit, enabled=True))
        p = Problem(dataclasses.replace(p.profile, blocks=blocks), sc)
    X = np.random.default_rng(0).integers(0, 3, (1_000_000, 17), dtype=np.int8)
    p.evaluate(X[:4096])
    ev = benchmark(p.evaluate, X)
    assert ev.cost.shape == (1_000_000,)
    benchmark.extra_info["M_assignments_per_s"] = 1.0 / benchmark.stats.stats.median


def test_dp_decision(benchmark, resnet32):
    solver = make_solver("dp")
    rng = np.random.default_rng(0)
    solver.solve(resnet32, rng)
    sol = benchmark(solver.solve, resnet32, rng)
    assert resnet32.score(sol.assignment)["cost"] == pytest.approx(sol.info["value"])


def test_new_network_then_dp(benchmark, resnet32):
    worst = network_preset("5g_worst")
    scenario = dataclasses.replace(resnet32.scenario, te=worst.te, ec=worst.ec)

    def decide():
        return optimum(Problem(resnet32.profile, scenario).cost_tables)

    decide()
    benchmark(decide)


def test_exhaustive_3_pow_17(benchmark, resnet32):
    solver = make_solver("exhaustive")
    solver.solve(resnet32, None)
    tracemalloc.start()
    sol = benchmark.pedantic(solver.solve, args=(resnet32, None), rounds=3, iterations=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    benchmark.extra_info["peak_MB"] = peak / 2**20
    assert sol.info["evaluations"] == 3**17


def test_dp_10000_blocks(benchmark):
    p = random_problem(7, 10_000, kind="mec", exits=True)
    optimum(p.cost_tables)
    a, _ = benchmark(optimum, p.cost_tables)
    assert len(a) == 10_000
