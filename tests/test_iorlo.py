"""IoRLO solvers: short training end to end, thresholds, checkpoints, determinism, numpy = torch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from solver_helpers import paper_problem

from benchmark.runner import run
from problems import FieldError, Problem
from solvers import iorlo, iorlo_ctx
from solvers._ddpg import CheckpointError, NumpyActor, intent_bounds, mlp, to_tiers
from solvers.dp import optimum
from solvers.registry import make_solver

SHORT = {"episodes": 3, "steps": 20, "memory": 40, "batch_size": 8, "progress": False, "seed": 3}
SHORT_CTX = {"updates": 4, "contexts": 3, "samples": 2, "search_rounds": 1, "progress": False, "seed": 3}


def problem(model: str = "alexnet", kind: str = "mec", network: str = "5g_avg") -> Problem:
    return paper_problem(model, kind, network)


def trained(name: str, pr: Problem, **params):
    solver = make_solver(name, params)
    solver.prepare(pr, np.random.default_rng(0))
    return solver


# -- intent thresholds ---------------------------------------------------------------------
def test_mec_thresholds_at_the_boundaries():
    eps, phi = 1 / 3, 2 / 3
    b = intent_bounds("mec", eps, phi, 0.4)
    a = np.array([0.0, np.nextafter(eps, 0), eps, np.nextafter(phi, 0), phi, 1.0])
    assert to_tiers(a, b).tolist() == [0, 0, 1, 1, 2, 2]


def test_d2d_threshold_at_the_boundary():
    b = intent_bounds("d2d", 1 / 3, 2 / 3, 0.4)
    a = np.array([0.0, np.nextafter(0.4, 0), 0.4, 1.0])
    assert to_tiers(a, b).tolist() == [0, 0, 1, 1]


def test_degenerate_thresholds_leave_out_a_tier():
    b = intent_bounds("mec", 0.0, 1.0, 0.4)  # eps = 0: never the device; phi = 1: cloud only at a = 1
    assert to_tiers(np.array([0.0, 0.5, 0.999, 1.0]), b).tolist() == [1, 1, 1, 2]


@pytest.mark.parametrize(("params", "field"), [
    ({"eps": 0.8, "phi": 0.5}, "solver.eps"),
    ({"zeta": 1.5}, "solver.zeta"),
    ({"memory": 0}, "solver.memory"),
    ({"tau": 0.0}, "solver.tau"),
    ({"batch_size": 64, "memory": 32}, "solver.batch_size"),
    ({"episode": 3}, "solver.episode"),
])
def test_bad_config_names_the_field(params, field):
    with pytest.raises(FieldError, match=field.replace(".", r"\.")):
        make_solver("iorlo", params)


@pytest.mark.parametrize("params", [{"samples": -1}, {"box_share": 2.0}, {"eps": -0.1}])
def test_bad_ctx_config_is_refused(params):
    with pytest.raises(FieldError):
        make_solver("iorlo_ctx", params)


# -- short training end to end -----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["mec", "d2d"])
def test_iorlo_short_training_through_the_runner(kind):
    pr = problem("alexnet", kind)
    row = run(pr, "iorlo", {**SHORT, "checkpoint_dir": None}, seed=1)
    assert row["status"] == "ok", row["error"]
    assert len(row["assignment"]) == pr.n_blocks and max(row["assignment"]) < pr.n_tiers
    info = row["info"]
    assert len(info["training_curve"]) == SHORT["episodes"]
    assert info["learn_steps"] == SHORT["episodes"] * SHORT["steps"] - SHORT["memory"] + 1
    assert info["best_seen_cost"] >= row["optimal_cost"] - 1e-9
    assert info["best_seen_cost"] == pytest.approx(pr.score(info["best_seen"])["cost"])
    assert info["final_sigma"] == pytest.approx(3.0 * 0.9998 ** info["learn_steps"])
    json.dumps(row, allow_nan=False)


@pytest.mark.parametrize("kind", ["mec", "d2d"])
def test_iorlo_ctx_short_training_through_the_runner(kind):
    pr = problem("mobilenet_v1", kind)
    row = run(pr, "iorlo_ctx", {**SHORT_CTX, "checkpoint_dir": None}, seed=1)
    assert row["status"] == "ok", row["error"]
    assert len(row["assignment"]) == pr.n_blocks
    assert len(row["info"]["training_curve"]) == SHORT_CTX["updates"]
    assert all(v <= 1e-12 for v in row["info"]["training_curve"])  # the search never makes things worse
    json.dumps(row, allow_nan=False)


def test_iorlo_ctx_decides_for_other_conditions_without_retraining(tmp_path):
    solver = trained("iorlo_ctx", problem("mobilenet_v1"), **SHORT_CTX, checkpoint_dir=str(tmp_path))
    assert solver.training_info["cached"] is False
    for network in ("5g_worst", "5g_best"):
        other = problem("mobilenet_v1", network=network)
        solver.prepare(other, np.random.default_rng(0))
        assert solver.solve(other, None).assignment.shape == (other.n_blocks,)
    assert len(list(tmp_path.glob("*.pt"))) == 1  # one actor for every condition of the model
    fresh = trained("iorlo_ctx", problem("mobilenet_v1", network="5g_worst"), **SHORT_CTX, checkpoint_dir=str(tmp_path))
    assert fresh.training_info["cached"] is True


def test_ctx_key_ignores_the_network_only():
    digest = iorlo_ctx.template_digest
    assert digest(problem("alexnet")) == digest(problem("alexnet", network="5g_worst"))
    assert digest(problem("alexnet")) != digest(problem("vgg16"))
    assert digest(problem("alexnet")) != digest(problem("alexnet", "d2d"))


def test_segment_search_reaches_the_optimum_from_the_device():
    prs = [problem("alexnet"), problem("alexnet", network="5g_worst"), problem("alexnet", network="5g_best")]
    tables = iorlo_ctx.stacked_costs(prs)
    start = np.zeros((3, 1, prs[0].n_blocks), dtype=np.intp)
    x, cost, first = iorlo_ctx.improve(tables, start, iorlo_ctx.segment_moves(prs[0].n_blocks, 3), rounds=10)
    for b, pr in enumerate(prs):
        assert cost[b] == pytest.approx(optimum(pr.cost_tables)[1])
        assert pr.score(x[b])["cost"] == pytest.approx(cost[b])
        assert first[b, 0] == pytest.approx(pr.score(pr.fixed(0))["cost"])


@pytest.mark.parametrize("exits", [False, True])
@pytest.mark.parametrize("kind", ["mec", "d2d"])
def test_stacked_tables_score_like_the_problem(kind, exits):
    from problem_factory import random_problem

    rng = np.random.default_rng(7)
    base = random_problem(11 if kind == "mec" else 12, 9, kind=kind, exits=exits)
    cfg = iorlo_ctx.IorloCtxConfig()
    prs = [iorlo_ctx.condition(base, rng, cfg) for _ in range(4)]
    X = rng.integers(0, base.n_tiers, (4, 50, base.n_blocks))
    got = iorlo_ctx.costs(iorlo_ctx.stacked_costs(prs), X)
    for b, pr in enumerate(prs):
        assert np.allclose(got[b], pr.evaluate(X[b]).cost, rtol=1e-12)


def test_ctx_conditions_vary_the_network_and_keep_the_model():
    pr = problem("alexnet")
    cfg = iorlo_ctx.IorloCtxConfig(tier_jitter=0.0)
    rng = np.random.default_rng(0)
    feats = np.stack([iorlo_ctx.features(iorlo_ctx.condition(pr, rng, cfg)) for _ in range(20)])
    assert feats[:, :6].std(0).min() > 0  # every link quantity is drawn
    assert np.allclose(feats[:, 6:], np.log([t.d for t in pr.scenario.tiers]))  # no jitter: the problem's tiers


# -- determinism ---------------------------------------------------------------------------------
def test_iorlo_same_seed_same_result():
    pr = problem("alexnet")
    a = trained("iorlo", pr, **SHORT, checkpoint_dir=None)
    b = trained("iorlo", pr, **SHORT, checkpoint_dir=None)
    c = trained("iorlo", pr, **{**SHORT, "seed": 4}, checkpoint_dir=None)
    assert a.training_info["training_curve"] == b.training_info["training_curve"]
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a._actor.layers, b._actor.layers, strict=True))
    assert a.training_info["training_curve"] != c.training_info["training_curve"]


def test_iorlo_seed_comes_from_the_run_generator_when_unset():
    pr = problem("alexnet")
    params = {**SHORT, "seed": None, "checkpoint_dir": None}
    first, second = (run(pr, "iorlo", params, seed=s)["info"] for s in (5, 5))
    assert first["seed"] == second["seed"] and first["training_curve"] == second["training_curve"]
    assert run(pr, "iorlo", params, seed=6)["info"]["seed"] != first["seed"]


def test_iorlo_ctx_same_seed_same_result():
    pr = problem("mobilenet_v1")
    a = trained("iorlo_ctx", pr, **SHORT_CTX, checkpoint_dir=None)
    b = trained("iorlo_ctx", pr, **SHORT_CTX, checkpoint_dir=None)
    assert a.training_info["training_curve"] == b.training_info["training_curve"]
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a._actor.layers, b._actor.layers, strict=True))


# -- checkpoints -------------------------------------------------------------------------------
def test_checkpoint_round_trip_and_retrain(tmp_path):
    pr = problem("alexnet")
    first = trained("iorlo", pr, **SHORT, checkpoint_dir=str(tmp_path))
    files = list(tmp_path.glob("*.pt"))
    assert len(files) == 1 and first.training_info["cached"] is False
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temporary file
    again = trained("iorlo", pr, **SHORT, checkpoint_dir=str(tmp_path))
    assert again.training_info["cached"] is True
    assert again.training_info["training_curve"] == first.training_info["training_curve"]
    assert np.array_equal(again.solve(pr, None).assignment, first.solve(pr, None).assignment)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(again._actor.layers, first._actor.layers, strict=True))
    forced = trained("iorlo", pr, **SHORT, checkpoint_dir=str(tmp_path), retrain=True)
    assert forced.training_info["cached"] is False
    other_seed = trained("iorlo", pr, **{**SHORT, "seed": 9}, checkpoint_dir=str(tmp_path))
    assert other_seed.training_info["cached"] is False and len(list(tmp_path.glob("*.pt"))) == 2
    explicit = trained("iorlo", pr, **{**SHORT, "seed": 9}, checkpoint=str(files[0]), checkpoint_dir=None)
    assert explicit.training_info["training_curve"] == first.training_info["training_curve"]


def test_checkpoint_for_another_model_is_refused(tmp_path):
    trained("iorlo", problem("alexnet"), **SHORT, checkpoint_dir=str(tmp_path))
    (path,) = tmp_path.glob("*.pt")
    with pytest.raises(CheckpointError, match=r"shape \[50, 10\] but this problem needs \[50, 15\]"):
        trained("iorlo", problem("vgg16"), **SHORT, checkpoint=str(path), checkpoint_dir=None)
    row = run(problem("vgg16"), "iorlo", {**SHORT, "checkpoint": str(path), "checkpoint_dir": None})
    assert row["status"] == "failed" and "shape" in row["error"]


def test_ctx_checkpoint_for_another_model_is_refused(tmp_path):
    trained("iorlo_ctx", problem("mobilenet_v1"), **SHORT_CTX, checkpoint_dir=str(tmp_path))
    (path,) = tmp_path.glob("*.pt")
    with pytest.raises(CheckpointError, match="shape"):
        trained("iorlo_ctx", problem("alexnet"), **SHORT_CTX, checkpoint=str(path), checkpoint_dir=None)
    with pytest.raises(CheckpointError, match="format"):  # an iorlo file is not an iorlo_ctx file
        trained("iorlo", problem("alexnet"), **SHORT, checkpoint=str(path), checkpoint_dir=None)


def test_damaged_cache_entry_is_retrained(tmp_path):
    pr = problem("alexnet")
    trained("iorlo", pr, **SHORT, checkpoint_dir=str(tmp_path))
    (path,) = tmp_path.glob("*.pt")
    path.write_bytes(b"not a checkpoint")
    again = trained("iorlo", pr, **SHORT, checkpoint_dir=str(tmp_path))
    assert again.training_info["cached"] is False
    with pytest.raises(CheckpointError, match="no such file"):
        trained("iorlo", pr, **SHORT, checkpoint=str(tmp_path / "missing.pt"), checkpoint_dir=None)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"unreadable|refused"):
        trained("iorlo", pr, **SHORT, checkpoint=str(path), checkpoint_dir=None)


# -- numpy decision path = torch actor -----------------------------------------------------------
@pytest.mark.parametrize("n", [6, 17])
def test_numpy_actor_matches_torch(n):
    gen = torch.Generator().manual_seed(n)
    actor = mlp(n, (50,), n, gen, sigmoid=True)
    states = np.random.default_rng(n).random((200, n))
    with torch.no_grad():
        want = actor(torch.from_numpy(states.astype(np.float32))).numpy()
    fast = NumpyActor.copy(actor)
    got = np.stack([fast(s) for s in states])
    assert np.allclose(got, want, atol=1e-6)
    b = intent_bounds("mec", 1 / 3, 2 / 3, 0.4)
    clear = np.abs(want[..., None] - b).min(-1) > 1e-5  # away from a threshold both sides agree
    assert np.array_equal(to_tiers(got, b)[clear], to_tiers(want, b)[clear])
    assert np.allclose(NumpyActor.view(actor)(states.astype(np.float32)), want, atol=1e-6)


def test_solve_is_the_trained_torch_actor_on_the_initial_state(tmp_path):
    pr = problem("alexnet")
    solver = trained("iorlo", pr, **SHORT, checkpoint_dir=str(tmp_path))
    (path,) = tmp_path.glob("*.pt")
    actor, critic = iorlo.build_nets(pr.n_blocks, solver.config, torch.Generator())
    iorlo.load_checkpoint(path, iorlo.FORMAT, {"actor": actor, "critic": critic})
    s0 = torch.from_numpy(iorlo.state_table(pr)[:, 0].astype(np.float32))
    with torch.no_grad():
        a = actor(s0).numpy()
    bounds = intent_bounds("mec", 1 / 3, 2 / 3, 0.4)
    assert np.array_equal(solver.solve(pr, None).assignment, to_tiers(a, bounds))


def test_state_table_is_min_max_normalized():
    pr = problem("alexnet")
    table = iorlo.state_table(pr)
    assert table.shape == (pr.n_blocks, pr.n_tiers)
    assert table.min() == 0.0 and table.max() == 1.0
    ct = pr.chain
    raw = ct.unary[0] + pr.scenario.w_energy * ct.unary[1]
    assert np.argmax(table) == np.argmax(raw)


@pytest.mark.parametrize(("seed", "kind"), [(0, "d2d"), (5, "mec")])
def test_ctx_handles_pools_and_early_exits(seed, kind):
    from problem_factory import random_problem

    pr = random_problem(seed, 7, kind=kind, exits=True)  # seed 0: a D2D collaborator pool
    assert pr.chain.has_exits and (kind == "mec" or pr.scenario.collaborators)
    row = run(pr, "iorlo_ctx", {**SHORT_CTX, "checkpoint_dir": None}, seed=1)
    assert row["status"] == "ok", row["error"]
    row = run(pr, "iorlo", {**SHORT, "checkpoint_dir": None}, seed=1)
    assert row["status"] == "ok", row["error"]
