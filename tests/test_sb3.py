"""SB3 baselines: short training through the runner, determinism, state-dict-only checkpoints."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from problem_factory import random_problem
from test_security import malicious_files

from benchmark.runner import TimingConfig, run
from solvers._ddpg import CheckpointError
from solvers.registry import make_solver
from solvers.sb3 import FORMAT

ALGOS = ["sb3_ddpg", "sb3_ddpg_small", "sb3_td3", "sb3_sac", "sb3_ppo"]
SHORT = {"total_steps": 160, "steps": 20, "seed": 2**40 + 2, "progress": False}  # a seed beyond 32 bits
#: what the training tests train: SHORT with small networks (SB3's 400x300 defaults take seconds to update)
TRAIN = {**SHORT, "actor_hidden": [16], "critic_hidden": [16]}


def problem():
    return random_problem(3, 5, kind="mec")


#: PPO's shortest training is one whole rollout of 2,048 steps: a slow test
@pytest.mark.parametrize("name", [pytest.param(a, marks=pytest.mark.slow) if a == "sb3_ppo" else a for a in ALGOS])
def test_short_training_through_the_runner(name):
    pr = problem()
    row = run(pr, name, {**TRAIN, "checkpoint_dir": None}, seed=1, timing=TimingConfig(0.0, 1))
    assert row["status"] == "ok", row["error"]
    info = row["info"]
    # PPO collects whole rollouts of n_steps = 2048; the others stop at the budget
    assert info["env_steps"] == (2048 if name == "sb3_ppo" else SHORT["total_steps"])
    assert info["best_seen_cost"] >= row["optimal_cost"] - 1e-9
    assert info["best_seen_cost"] == pytest.approx(pr.score(info["best_seen"])["cost"])
    assert len(info["training_curve"]) == info["env_steps"] // SHORT["steps"]
    assert info["train_s"] > 0 and info["cached"] is False


def test_same_seed_same_decision_and_cache_round_trip(tmp_path):
    pr = problem()
    params = {**TRAIN, "checkpoint_dir": str(tmp_path)}
    first = make_solver("sb3_td3", params)
    first.prepare(pr, np.random.default_rng(0))
    again = make_solver("sb3_td3", {**params, "retrain": True})
    again.prepare(pr, np.random.default_rng(0))
    assert np.array_equal(first.solve(pr, None).assignment, again.solve(pr, None).assignment)
    assert first._info["training_curve"] == again._info["training_curve"]
    (path,) = tmp_path.glob("*.pt")
    cached = make_solver("sb3_td3", params)
    cached.prepare(pr, np.random.default_rng(0))
    assert cached._info["cached"] is True
    assert np.array_equal(cached.solve(pr, None).assignment, first.solve(pr, None).assignment)
    data = torch.load(path, weights_only=True)  # plain tensors and JSON-like metadata only
    assert data["format"] == FORMAT and set(data["nets"]) == {"policy"}
    assert all(isinstance(v, torch.Tensor) for v in data["nets"]["policy"].values())


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_malicious_checkpoint_is_refused(tmp_path):
    pr = problem()
    for path in malicious_files(tmp_path, FORMAT).values():
        solver = make_solver("sb3_ppo", {**SHORT, "checkpoint": str(path), "checkpoint_dir": None})
        with pytest.raises(CheckpointError, match="refused"):
            solver.prepare(pr, np.random.default_rng(0))
    assert not (tmp_path / "marker").exists()


def test_a_checkpoint_of_another_algorithm_is_refused(tmp_path):
    pr = problem()
    make_solver("sb3_td3", {**TRAIN, "checkpoint_dir": str(tmp_path)}).prepare(pr, np.random.default_rng(0))
    (path,) = tmp_path.glob("*.pt")
    with pytest.raises(CheckpointError, match=r"layers|shape"):
        make_solver("sb3_sac", {**SHORT, "checkpoint": str(path), "checkpoint_dir": None}).prepare(
            pr, np.random.default_rng(0))


def hidden_widths(module: torch.nn.Module) -> list[int]:
    return [m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear)][:-1]


@pytest.mark.parametrize(("name", "actor", "critic"),
                         [("sb3_ddpg_small", [50], [30]), ("sb3_ddpg", [400, 300], [400, 300])])
def test_network_sizes(name, actor, critic):
    from solvers.sb3 import build_model, make_env

    solver = make_solver(name, {**SHORT, "checkpoint_dir": None})
    env = make_env(problem(), solver.config)
    policy = build_model("ddpg", env, solver.config, 0).policy
    assert hidden_widths(policy.actor) == actor
    assert hidden_widths(policy.critic) == critic


def test_ppo_takes_the_sizes_for_policy_and_value():
    from solvers.sb3 import build_model, make_env

    solver = make_solver("sb3_ppo", {**SHORT, "checkpoint_dir": None, "actor_hidden": [8], "critic_hidden": [6, 4]})
    policy = build_model("ppo", make_env(problem(), solver.config), solver.config, 0).policy
    assert [m.out_features for m in policy.mlp_extractor.policy_net if isinstance(m, torch.nn.Linear)] == [8]
    assert [m.out_features for m in policy.mlp_extractor.value_net if isinstance(m, torch.nn.Linear)] == [6, 4]


@pytest.mark.parametrize(("params", "field"), [({"actor_hidden": [50]}, "critic_hidden"),
                                               ({"critic_hidden": [30]}, "actor_hidden"),
                                               ({"actor_hidden": [0], "critic_hidden": [30]}, "actor_hidden[0]")])
def test_bad_network_sizes_are_refused_naming_the_field(params, field):
    from problems.errors import FieldError

    with pytest.raises(FieldError, match=re.escape(f"solver.{field}:")):
        make_solver("sb3_ddpg", {**SHORT, **params})
