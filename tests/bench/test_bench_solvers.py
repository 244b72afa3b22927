"""Decision time and optimality gap of the comparison solvers (`make bench`).

Every solver on the paper's four models, MEC and D2D, 5g_avg; `genetic` on the 4 models x
3 presets x 2 scenarios, with and without the single-tier seeds; `ilp` per backend on 17
blocks (resnet32) and on 500-block chains: the paper's networks with random blocks
(`paper-net`, the optimum is nearly one tier) and a random instance (`random13`, 120 tier
changes in D2D), unconstrained and with a latency limit halfway between the minimum
latency and the latency of the cost optimum. Each round is one `solve` with a fresh
generator of the same seed, after one untimed warm-up. The gap (cost / dp optimum - 1)
goes to extra_info. Targets (not asserted): ilp <= 10 ms on 17 blocks and <= 2 s on
500 blocks; genetic median gap <= 0.1 % and decision <= 50 ms.
"""

from __future__ import annotations

import numpy as np
import pytest
from problem_factory import random_problem
from solver_helpers import KINDS, PRESETS, chain_problem, paper_problem

from benchmark.runner import gap
from problems.paper import PAPER_MODELS
from solvers import Unsupported, make_solver
from solvers._chain_mip import component_tables
from solvers.dp import optimum

pytestmark = pytest.mark.bench

#: solver -> rounds (optuna takes about a second per decision)
SOLVERS = {"dp": 50, "neurosurgeon": 50, "maui": 30, "ilp": 30, "genetic": 30, "random_search": 30, "optuna": 3}


def measure(benchmark, solver_name: str, params: dict, problem, rounds: int) -> None:
    solver = make_solver(solver_name, params)
    try:
        solver.solve(problem, np.random.default_rng(0))
    except Unsupported as exc:
        benchmark.extra_info["status"] = f"unsupported: {exc}"
        pytest.skip(str(exc))
    sol = benchmark.pedantic(
        solver.solve, setup=lambda: ((problem, np.random.default_rng(0)), {}), rounds=rounds, iterations=1
    )
    best = optimum(problem.cost_tables)[1]
    benchmark.extra_info["gap"] = gap(problem.score(sol.assignment)["cost"], best)
    benchmark.extra_info["assignment"] = "".join(map(str, sol.assignment.tolist()))
    for key in ("evaluations", "generations", "status", "nodes", "iterations"):
        if key in sol.info:
            benchmark.extra_info[key] = sol.info[key]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("model", PAPER_MODELS)
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_paper_models(benchmark, solver, model, kind):
    benchmark.group = f"{solver} paper models 5g_avg"
    measure(benchmark, solver, {}, paper_problem(model, kind), SOLVERS[solver])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", ["cbc", "scip", "cp-sat"])
def test_ilp_17_blocks(benchmark, backend, kind):
    benchmark.group = "ilp resnet32 (17 blocks)"
    measure(benchmark, "ilp", {"backend": backend}, paper_problem("resnet32", kind), 30)


@pytest.mark.parametrize("seed_uniform", [True, False])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("model", PAPER_MODELS)
def test_genetic_all_presets(benchmark, model, preset, kind, seed_uniform):
    benchmark.group = f"genetic 4 models x 3 presets x 2 scenarios, seed_uniform={seed_uniform}"
    measure(benchmark, "genetic", {"seed_uniform": seed_uniform}, paper_problem(model, kind, preset), 10)


CHAINS = {"paper-net": lambda kind: chain_problem(500, 0, kind),
          "random13": lambda kind: random_problem(13, 500, kind, wide=True)}


def halfway_latency(problem) -> float:
    fastest = optimum(component_tables(problem.chain, (1, 0, 0)))[1]
    at_optimum = problem.score(optimum(problem.cost_tables)[0])["latency_ms"]
    return fastest + 0.5 * (at_optimum - fastest)


# the paper-net chain gets no latency limit: its minimum latency and cost optimum nearly coincide
@pytest.mark.parametrize(("chain", "limited"), [("paper-net", False), ("random13", False), ("random13", True)])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", ["cbc", "scip", "cp-sat"])
def test_ilp_500_blocks(benchmark, backend, kind, chain, limited):
    benchmark.group = f"ilp 500-block chain{' with a latency limit' if limited else ''}"
    problem = CHAINS[chain](kind)
    params = {"backend": backend}
    if limited:
        params["max_latency_ms"] = halfway_latency(problem)
    measure(benchmark, "ilp", params, problem, 3 if limited else 5)


def summarize(path: str) -> str:
    """Markdown tables of decision-time medians and gaps from a `--benchmark-json` file."""
    import json
    import statistics

    with open(path) as f:
        runs = {b["name"]: b for b in json.load(f)["benchmarks"]}

    def ms(b) -> str:
        t = b["stats"]["median"] * 1e3
        return f"{t * 1e3:.2g} us" if t < 0.1 else f"{t:.3g} ms"

    def pct(g: float) -> str:
        return f"{g * 100:.2f} %" if abs(g) >= 5e-5 else "0"

    out = []
    for kind in KINDS:
        out += [f"\n{kind.upper()}, 5g_avg: median decision time / gap to the optimum\n",
                "| solver | " + " | ".join(PAPER_MODELS) + " | median gap |", "|---" * (len(PAPER_MODELS) + 2) + "|"]
        for s in SOLVERS:
            row = [runs[f"test_paper_models[{s}-{m}-{kind}]"] for m in PAPER_MODELS]
            gaps = [b["extra_info"]["gap"] for b in row]
            cells = [f"{ms(b)} / {pct(b['extra_info']['gap'])}" for b in row]
            out.append(f"| {s} | " + " | ".join(cells) + f" | {pct(statistics.median(gaps))} |")
    out += ["\ngenetic, 4 models x 3 presets x 2 scenarios\n",
            "| seed_uniform | median gap | max gap | optimal | median decision | slowest median | evaluations |",
            "|---|---|---|---|---|---|---|"]
    for su in (True, False):
        row = [b for n, b in runs.items() if n.startswith("test_genetic_all_presets") and n.endswith(f"-{su}]")]
        gaps = [b["extra_info"]["gap"] for b in row]
        times = [b["stats"]["median"] * 1e3 for b in row]
        evals = statistics.median(b["extra_info"]["evaluations"] for b in row)
        out.append(f"| {str(su).lower()} | {pct(statistics.median(gaps))} | {pct(max(gaps))} | "
                   f"{sum(g < 1e-9 for g in gaps)}/{len(row)} | {statistics.median(times):.3g} ms | "
                   f"{max(times):.3g} ms | {evals:g} |")
    out += ["\nilp per backend (gap: cost above the unconstrained optimum)\n",
            "| instance | scenario | cbc | scip | cp-sat | gap |", "|---|---|---|---|---|---|"]
    cases = [("test_ilp_17_blocks[{b}-{k}]", "resnet32, 17 blocks")]
    cases += [(f"test_ilp_500_blocks[{{b}}-{{k}}-{c}-{lim}]", f"500 blocks, {c}" + (", latency limit" if lim else ""))
              for c, lim in (("paper-net", False), ("random13", False), ("random13", True))]
    for pattern, label in cases:
        for k in KINDS:
            row = [runs[pattern.format(b=b, k=k)] for b in ("cbc", "scip", "cp-sat")]
            times = " | ".join(ms(b) for b in row)
            out.append(f"| {label} | {k} | {times} | {pct(row[0]['extra_info']['gap'])} |")
    return "\n".join(out)


if __name__ == "__main__":
    import sys

    print(summarize(sys.argv[1]))
