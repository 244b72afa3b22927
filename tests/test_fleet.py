"""Fleets (spec section 13): golden values, the vectorized scorer against a plain one, the
processor-sharing closed form, the one-user fleet and infeasible assignments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fleet_factory import plain_fleet_score, random_fleet
from hypothesis import given, settings
from hypothesis import strategies as st
from solver_helpers import paper_problem

from problems.fleet import FleetProblem, FleetShared, FleetUser

GOLDEN = {"0000000000": 7432.937, "1111111111": 833.775, "2222222222": 836.459, "0011220120": 5321.201}


def one_user_fleet(queueing: str = "none") -> tuple[FleetProblem, object]:
    p = paper_problem("alexnet")
    sc = p.scenario
    user = FleetUser("u0", 1.0, sc.tiers[0], sc.te, p.profile)
    shared = FleetShared(sc.tiers[1], sc.tiers[2], 1, 1, sc.ec, max_utilization=1.0, queueing=queueing)
    return FleetProblem([user], shared), p


def tiers(text: str) -> np.ndarray:
    return np.array([[int(c) for c in text]])


@pytest.mark.parametrize("assignment", sorted(GOLDEN))
def test_one_user_fleet_has_the_section_10_costs(assignment):
    fleet, single = one_user_fleet()
    got = fleet.score(tiers(assignment))
    assert got["cost"] == pytest.approx(GOLDEN[assignment], abs=5e-4)
    assert got["cost"] == pytest.approx(single.score(tiers(assignment)[0])["cost"], rel=1e-12)


def test_section_15_utilizations_and_theta():
    fleet, _ = one_user_fleet()
    edge = fleet.score(tiers("1111111111"))
    assert edge["rho_edge"] == pytest.approx(0.261352607, abs=1e-9)
    assert edge["theta"] == pytest.approx(3.8262484, abs=1e-7)
    assert edge["rho_cloud"] == 0.0
    cloud = fleet.score(tiers("2222222222"))
    assert cloud["rho_cloud"] == pytest.approx(0.0858730, abs=1e-7)
    assert math.isinf(fleet.score(tiers("0000000000"))["theta"])


def test_one_user_fleet_equals_the_single_user_problem_on_every_assignment():
    fleet, single = one_user_fleet()
    X = np.random.default_rng(0).integers(0, 3, (500, 10))
    assert np.allclose(fleet.evaluate(X[:, None, :]).cost, single.evaluate(X).cost, rtol=1e-12)


def _check_against_plain(fleet: FleetProblem, X: np.ndarray) -> None:
    ev = fleet.evaluate(X)
    for j in range(X.shape[0]):
        S = fleet.unpack(X[j])
        ref = plain_fleet_score(fleet, S)
        assert ev.feasible[j] == ref["feasible"]
        assert ev.rho_edge[j] == pytest.approx(ref["rho_edge"], rel=1e-9, abs=1e-12)
        assert ev.rho_cloud[j] == pytest.approx(ref["rho_cloud"], rel=1e-9, abs=1e-12)
        assert ev.theta[j] == pytest.approx(ref["theta"], rel=1e-9)
        if ref["feasible"]:
            assert ev.cost[j] == pytest.approx(ref["cost"], rel=1e-9)
            assert ev.latency_ms[j] == pytest.approx(ref["latency_ms"], rel=1e-9)
            assert ev.energy_j[j] == pytest.approx(ref["energy_j"], rel=1e-9, abs=1e-12)
            assert np.allclose(ev.user_cost[j], ref["user_cost"], rtol=1e-9)
        else:  # infeasible answers are never scored
            assert np.isnan(ev.cost[j]) and np.isnan(ev.user_cost[j]).all()
            assert ev.row(j)["cost"] is None


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["none", "ps"]))
def test_vectorized_evaluate_equals_the_plain_reference(seed, queueing):
    fleet = random_fleet(seed, queueing)
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, (24, fleet.n_users, fleet.n_max))
    X[0] = fleet.fixed(0)
    _check_against_plain(fleet, X)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["none", "ps"]))
def test_pad_entries_are_ignored(seed, queueing):
    fleet = random_fleet(seed, queueing)
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, (16, fleet.n_users, fleet.n_max))
    Y = np.where(fleet.valid_mask[None], X, rng.integers(0, 3, X.shape))
    a, b = fleet.evaluate(X), fleet.evaluate(Y)
    assert np.array_equal(a.cost, b.cost, equal_nan=True)
    assert np.array_equal(a.rho_edge, b.rho_edge) and np.array_equal(a.rho_cloud, b.rho_cloud)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["none", "ps"]))
def test_closed_form_equals_evaluate(seed, queueing):
    fleet = random_fleet(seed, queueing)
    X = np.random.default_rng(seed).integers(0, 3, (64, fleet.n_users, fleet.n_max))
    a, b = fleet.evaluate(X).cost, fleet.closed_form_cost(X)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    assert np.allclose(a[ok], b[ok], rtol=1e-9)


def test_ps_slows_server_compute_by_one_over_one_minus_rho():
    fleet, _ = one_user_fleet("ps")
    plain, _ = one_user_fleet("none")
    X = tiers("1111111111")
    rho = fleet.score(X)["rho_edge"]
    edge_ms = plain.tables.load[0, :, 1].sum()
    assert fleet.score(X)["latency_ms"] == pytest.approx(plain.score(X)["latency_ms"] + edge_ms * rho / (1 - rho))


def test_overloaded_assignment_is_infeasible_with_its_utilizations():
    fleet, _ = one_user_fleet()
    users = [FleetUser(u.name, 10.0, u.device, u.te, u.profile) for u in fleet.users]
    heavy = FleetProblem(users, fleet.shared)
    got = heavy.score(tiers("1111111111"))
    assert got["feasible"] is False and got["cost"] is None and got["latency_ms"] is None
    assert got["rho_edge"] == pytest.approx(2.61352607)
    assert heavy.score(heavy.fixed(0))["feasible"]


def test_ps_at_full_utilization_is_infeasible():
    fleet, _ = one_user_fleet("ps")
    users = [FleetUser(u.name, 1 / 0.261352607, u.device, u.te, u.profile) for u in fleet.users]
    full = FleetProblem(users, fleet.shared)
    got = full.score(tiers("1111111111"))
    assert got["rho_edge"] == pytest.approx(1.0, rel=1e-9)
    if got["rho_edge"] >= 1.0:
        assert not got["feasible"]


def test_users_with_different_block_counts():
    p1, p2 = paper_problem("alexnet"), paper_problem("mobilenet_v1")
    sc = p1.scenario
    users = [FleetUser("a", 1.0, sc.tiers[0], sc.te, p1.profile), FleetUser("m", 2.0, sc.tiers[0], sc.te, p2.profile)]
    fleet = FleetProblem(users, FleetShared(sc.tiers[1], sc.tiers[2], 2, 2, sc.ec))
    assert fleet.n_max == 10 and list(fleet.n_blocks_of) == [10, 6]
    S = [[1] * 10, [2] * 6]
    got = fleet.score(S)
    want = (p1.score(np.array(S[0]))["cost"] + 2 * p2.score(np.array(S[1]))["cost"]) / 3
    assert got["cost"] == pytest.approx(want, rel=1e-12)
    assert fleet.unpack(fleet.pack(S)) == S


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["none", "ps"]))
def test_gathered_and_per_class_scoring_equal_the_stacked_walk(seed, queueing):
    fleet = random_fleet(seed, queueing)
    X = np.random.default_rng(seed).integers(0, 3, (80, fleet.n_users, fleet.n_max))
    X = fleet.check(X)
    walk = fleet._components_stacked(X)
    assert np.allclose(fleet._components_by_class(X), walk, rtol=1e-12, atol=1e-12)
    assert np.allclose(fleet._components_gathered(X), walk, rtol=1e-12, atol=1e-12)


def repeated_fleet(seed: int, queueing: str, copies: int = 3) -> FleetProblem:
    """A random tiny fleet whose users each appear `copies` times (the same objects)."""
    base = random_fleet(seed, queueing)
    users = [u for u in base.users for _ in range(copies)]
    return FleetProblem(users, base.shared)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["none", "ps"]))
def test_identical_users_share_one_class_and_score_as_the_plain_reference(seed, queueing):
    fleet = repeated_fleet(seed, queueing)
    distinct = {(u.profile.blocks, u.device, u.te) for u in fleet.users}
    assert len(fleet.class_problems) == len(distinct)
    for k, u in enumerate(fleet.users):
        assert fleet.user_problems[k] is fleet.class_problems[fleet.class_of[k]]
        assert fleet.n_blocks_of[k] == len(u.profile.blocks)
    X = np.random.default_rng(seed).integers(0, 3, (5, fleet.n_users, fleet.n_max))
    _check_against_plain(fleet, X)
    groups = fleet.rate_classes()
    assert sorted(int(k) for g in groups for k in g) == list(range(fleet.n_users))
    for g in groups:
        assert len({(fleet.class_of[k], fleet.rates[k]) for k in g}) == 1
