"""Hypothesis properties on random small instances (both scenarios, pools, exits)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from problem_factory import random_problem
from reference import reference_score

import problems.problem as problem_module
from problems.problem import Problem
from problems.profile import Block, Profile
from problems.scenario import D2DScenario, EarlyExit, MecScenario
from solvers import make_solver
from solvers.dp import optimum
from solvers.exhaustive import enumerate_min

FIXED = {"mec": ["device_only", "edge_only", "cloud_only"], "d2d": ["device_only", "collaborator_only"]}
seeds = st.integers(0, 2**31 - 1)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n=st.integers(1, 7))
def test_evaluate_matches_the_plain_reference(seed, n):
    p = random_problem(seed, n)
    X = np.random.default_rng(seed).integers(0, p.n_tiers, (40, n))
    ev = p.evaluate(X)
    for j, row in enumerate(X):
        ref = reference_score(p, list(row))
        for key in ("latency_ms", "energy_j", "deploy", "cost"):
            assert getattr(ev, key)[j] == pytest.approx(ref[key], rel=1e-9, abs=1e-9), key


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(1, 12))
def test_grouped_and_direct_evaluation_agree(seed, n):
    p = random_problem(seed, n)
    X = np.random.default_rng(seed).integers(0, p.n_tiers, (300, n), dtype=np.int8)
    grouped = p.evaluate(X)
    size = problem_module.GROUPED_MIN_POP - 1  # below the threshold: the direct chain walk
    direct = [p.evaluate(X[j : j + size]) for j in range(0, len(X), size)]
    for key in ("latency_ms", "energy_j", "deploy", "cost"):
        np.testing.assert_allclose(getattr(grouped, key), np.concatenate([getattr(d, key) for d in direct]),
                                   rtol=1e-11, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n=st.integers(1, 8))
def test_dp_equals_exhaustive_and_brute_force(seed, n):
    p = random_problem(seed, n)
    assignment, value = optimum(p.cost_tables)
    X = np.array(list(itertools.product(range(p.n_tiers), repeat=n)))
    brute = p.evaluate(X).cost.min()
    assert value == pytest.approx(brute, rel=1e-9, abs=1e-9)
    assert p.score(assignment)["cost"] == pytest.approx(value, rel=1e-9, abs=1e-9)
    _, ex_value, scored = enumerate_min(p.cost_tables)
    assert scored == p.n_tiers**n
    assert ex_value == pytest.approx(brute, rel=1e-9, abs=1e-9)
    ex = make_solver("exhaustive").solve(p, np.random.default_rng(0)).assignment
    assert p.score(ex)["cost"] == pytest.approx(brute, rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(1, 10))
def test_dp_is_no_worse_than_every_fixed_policy(seed, n):
    p = random_problem(seed, n)
    _, value = optimum(p.cost_tables)
    for name in FIXED[p.kind]:
        fixed = make_solver(name).solve(p, np.random.default_rng(0)).assignment
        assert value <= p.score(fixed)["cost"] * (1 + 1e-12) + 1e-12


@settings(max_examples=30, deadline=None)
@given(seed=seeds)
def test_exhaustive_in_chunks_equals_dp(seed):
    import solvers.exhaustive as ex

    p = random_problem(seed, 9)
    old = ex.SUFFIX_CELLS, ex.BATCH_CELLS
    try:
        ex.SUFFIX_CELLS, ex.BATCH_CELLS = 30, 50  # force many prefixes and batches
        _, value, scored = ex.enumerate_min(p.cost_tables)
    finally:
        ex.SUFFIX_CELLS, ex.BATCH_CELLS = old
    assert scored == p.n_tiers**9
    assert value == pytest.approx(optimum(p.cost_tables)[1], rel=1e-9, abs=1e-9)


def test_early_exit_expectation_by_hand():
    """Three blocks on a D2D link, exits after blocks 0 and 1, computed by hand."""
    from problems.scenario import D2DLink, D2DPower, Tier

    blocks = (
        Block("a", 10.0, 20.0, latency_ms=4.0, energy_j=1.0, exit_prob=0.25),
        Block("b", 20.0, 30.0, latency_ms=6.0, energy_j=2.0, exit_prob=0.5),
        Block("c", 30.0, 1.0, latency_ms=8.0, energy_j=3.0),
    )
    sc = D2DScenario(device=Tier("device", 2.0, 1.0), collaborator=Tier("co", 1.0), link=D2DLink(8.192, 1.0),
                     power=D2DPower(0.0, 1000.0), w_energy=10.0, early_exit=EarlyExit(True, 256))
    p = Problem(Profile("hand", blocks), sc)
    # transfer of kb over 8.192 Mbit/s = kb ms, + 1 ms delay; radio power 1000 mW -> 1e-3 J per ms
    result_kb = 1.0  # 256 classes x 4 bytes
    fc = lambda kb_in: 9.163e-5 * kb_in * 1024 + 3.990e-4 * 1024 + 1.172  # noqa: E731
    fc_e = lambda kb_in: 9.213e-6 * kb_in * 1024 + 4.012e-5 * 1024 + 1.125  # noqa: E731
    # S = [0, 1, 0]: boundary after block 0 (on device) and after block 1 (on the collaborator)
    T = E = 0.0
    T += 2 * 4.0
    E += 1.0
    T += 2 * fc(20.0)  # exit branch on the device
    E += fc_e(20.0)  # result is already on the device: no transfer
    reach = 0.75
    T += reach * (1 * 6.0 + 21.0)  # block b on the collaborator, input 20 KB moved
    E += reach * 21.0e-3
    T += reach * (1 * fc(30.0) + 0.5 * (result_kb + 1))  # branch on the collaborator, result home
    E += reach * 0.5 * (result_kb + 1) * 1e-3
    reach *= 0.5
    T += reach * (2 * 8.0 + 31.0)  # block c back on the device, 30 KB moved home
    E += reach * (3.0 + 31.0e-3)
    got = p.score([0, 1, 0])
    assert got["latency_ms"] == pytest.approx(T, rel=1e-12)
    assert got["energy_j"] == pytest.approx(E, rel=1e-12)
    assert got["cost"] == pytest.approx(T + 10.0 * E, rel=1e-12)
    # no boundary, no branch: the same blocks all on the device
    assert p.score([0, 0, 0])["latency_ms"] == pytest.approx(2 * (4 + 6 + 8), rel=1e-12)


def test_collaborator_selection_follows_the_paper_score():
    from problems.scenario import Collaborator, select_collaborator

    pool = (Collaborator("slow", 10.0, 100.0, 5.0), Collaborator("fast", 2.0, 50.0, 5.0),
            Collaborator("fast-twin", 2.0, 50.0, 5.0))
    # scores: 0.2+1+0.1 = 1.3 ; 1+0.5+0.1 = 1.6 ; tie with the first "fast"
    assert select_collaborator(pool) == 1
    near = (*pool, Collaborator("near", 10.0, 100.0, 0.5))  # 0.2 + 1 + 1 = 2.2
    assert select_collaborator(near) == 3


def test_mec_has_three_tiers_and_d2d_two():
    assert random_problem(1, 3, kind="mec").n_tiers == 3
    assert random_problem(1, 3, kind="d2d").n_tiers == 2
    assert isinstance(random_problem(1, 3, kind="mec").scenario, MecScenario)


def test_evaluate_rejects_bad_assignments():
    p = random_problem(3, 4, kind="mec")
    with pytest.raises(ValueError, match="shape"):
        p.evaluate(np.zeros((2, 5), dtype=int))
    with pytest.raises(ValueError, match="tiers must lie"):
        p.evaluate(np.array([[0, 1, 3, 0]]))
    with pytest.raises(ValueError, match="integer"):
        p.evaluate(np.array([[0.0, 1.0, 2.0, 0.0]]))
