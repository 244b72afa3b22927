"""Speed of the exact DAG solvers and of DAG scoring (spec section 12; `make bench`).

Targets (not asserted): `ilp` with its fastest backend on ResNet-50 at layer granularity,
MEC 5g_avg, <= 2 s and proven optimal; `mincut` on the same model in D2D <= 10 ms;
`evaluate` of 100,000 random assignments of that model <= 1 s. Also `ilp` time against the
number of blocks on seeded synthetic DAGs (tests/dag_factory.py) of 100 to 2,000 blocks,
and `mincut` on the same DAGs in D2D. Numbers go to BENCHMARKS.md and docs/bench-dag.md.
"""

import numpy as np
import pytest
from dag_factory import synthetic_dag

from problems.build import build_problem
from solvers import make_solver

pytestmark = pytest.mark.bench

SYNTHETIC_BLOCKS = (100, 250, 500, 1000, 2000)


def resnet50(kind: str):
    return build_problem({"name": "resnet50", "granularity": "layer"}, {"kind": kind}, {"name": "5g_avg"})


def timed_solve(benchmark, name: str, params: dict, problem, rounds: int):
    solver = make_solver(name, params)
    first = solver.solve(problem, np.random.default_rng(0))  # warm-up (imports, JIT)
    sol = benchmark.pedantic(solver.solve, setup=lambda: ((problem, np.random.default_rng(0)), {}),
                             rounds=rounds, iterations=1)
    benchmark.extra_info.update(blocks=problem.n_blocks, edges=len(problem.chain.dag.producers),
                                status=sol.info.get("status"), cost=sol.info["value"])
    assert sol.info["value"] == pytest.approx(first.info["value"], rel=1e-9)
    return sol


@pytest.mark.parametrize("backend", ["cbc", "scip", "cp-sat"])
def test_ilp_resnet50_layer_mec(benchmark, backend):
    benchmark.group = "ilp resnet50 layer MEC 5g_avg"
    sol = timed_solve(benchmark, "ilp", {"backend": backend}, resnet50("mec"), rounds=3)
    assert sol.info["status"] == "optimal"


def test_mincut_resnet50_layer_d2d(benchmark):
    benchmark.group = "mincut resnet50 layer D2D 5g_avg"
    problem = resnet50("d2d")
    sol = timed_solve(benchmark, "mincut", {}, problem, rounds=50)
    assert sol.info["value"] == pytest.approx(make_solver("ilp", {"backend": "scip"}).solve(
        problem, np.random.default_rng(0)).info["value"], rel=1e-9)


def test_evaluate_resnet50_layer(benchmark):
    benchmark.group = "evaluate 100,000 assignments, resnet50 layer"
    problem = resnet50("mec")
    X = np.random.default_rng(0).integers(0, 3, (100_000, problem.n_blocks), dtype=np.int8)
    problem.evaluate(X[:64])
    ev = benchmark.pedantic(problem.evaluate, args=(X,), rounds=5, iterations=1)
    assert ev.cost.shape == (100_000,)


@pytest.mark.parametrize("backend", ["cbc", "scip"])
@pytest.mark.parametrize("n", SYNTHETIC_BLOCKS)
def test_ilp_synthetic_dags(benchmark, n, backend):
    benchmark.group = f"ilp synthetic DAG MEC ({backend})"
    sol = timed_solve(benchmark, "ilp", {"backend": backend, "time_limit_s": 300}, synthetic_dag(n, 0, "mec"),
                      rounds=1)
    benchmark.extra_info["solver_wall_s"] = sol.info["wall_s"]


@pytest.mark.parametrize("n", SYNTHETIC_BLOCKS)
def test_mincut_synthetic_dags(benchmark, n):
    benchmark.group = "mincut synthetic DAG D2D"
    timed_solve(benchmark, "mincut", {}, synthetic_dag(n, 0, "d2d"), rounds=10)
