"""`neurosurgeon` equals a brute force over its split points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from problem_factory import random_problem
from solver_helpers import paper_problem

from problems import Problem
from problems.errors import FieldError
from problems.profile import Block, Profile
from problems.scenario import D2DLink, D2DScenario, Tier
from solvers import make_solver

FIELD = {"latency": "latency_ms", "energy": "energy_j", "cost": "cost"}


def brute_split(problem, objective: str, server: int) -> tuple[int, float]:
    n = problem.n_blocks
    best_k, best = -1, np.inf
    for k in range(n + 1):
        value = problem.score([0] * k + [server] * (n - k))[FIELD[objective]]
        if value < best:  # strict: ties keep the smaller k
            best_k, best = k, value
    return best_k, best


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    kind=st.sampled_from(["mec", "d2d"]),
    objective=st.sampled_from(["latency", "energy", "cost"]),
    server=st.sampled_from(["cloud", "edge"]),
    exits=st.booleans(),
)
def test_equals_brute_force_over_splits(seed, n, kind, objective, server, exits):
    problem = random_problem(seed, n, kind, exits, wide=True)
    tier = {"mec": {"edge": 1, "cloud": 2}[server], "d2d": 1}[kind]
    sol = make_solver("neurosurgeon", {"objective": objective, "server": server}).solve(
        problem, np.random.default_rng(0)
    )
    k, value = brute_split(problem, objective, tier)
    assert sol.info["split"] == k
    assert sol.assignment.tolist() == [0] * k + [tier] * (n - k)
    assert sol.info["value"] == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert sol.info["evaluations"] == n + 1


def test_ties_go_to_the_smaller_split():
    # zero-size tensors, zero compute energy and a zero-delay link: every split costs the device 0 J
    blocks = tuple(Block(f"b{i}", 0.0, 0.0, latency_ms=1.0, energy_j=0.0) for i in range(5))
    sc = D2DScenario(device=Tier("device", 10.0), collaborator=Tier("co", 2.0), link=D2DLink(50.0, 0.0))
    problem = Problem(Profile("flat", blocks), sc)
    assert np.all(problem.evaluate([[0] * k + [1] * (5 - k) for k in range(6)]).energy_j == 0)
    sol = make_solver("neurosurgeon", {"objective": "energy"}).solve(problem, np.random.default_rng(0))
    assert sol.info["split"] == 0
    assert sol.assignment.tolist() == [1] * 5


def test_paper_alexnet_latency_split_is_server_side():
    problem = paper_problem("alexnet", "mec")
    sol = make_solver("neurosurgeon").solve(problem, np.random.default_rng(0))
    assert sol.info["server"] == "cloud"
    # the cloud is ~30x faster than the device and the 5G uplink is fast: offload everything
    assert sol.info["split"] == 0


def test_bad_config_names_the_field():
    with pytest.raises(FieldError, match=r"solver\.objective"):
        make_solver("neurosurgeon", {"objective": "speed"})
    with pytest.raises(FieldError, match=r"solver\.servr"):
        make_solver("neurosurgeon", {"servr": "edge"})
