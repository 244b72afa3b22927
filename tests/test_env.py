"""partbench/Partition-v0: Gymnasium's checker, IoRLO's MDP, re-scored info, the plugin entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from problem_factory import random_problem

import partbench_env
from partbench_env.env import PartitionEnv
from problems.instance import save_instance
from problems.paper import paper_profile
from problems.presets import COLLABORATORS, mec_tiers, network_preset
from problems.problem import Problem
from problems.scenario import D2DScenario, MecScenario, Tier
from solvers import iorlo

ROOT = Path(__file__).resolve().parents[1]


def paper(model: str = "alexnet", kind: str = "mec") -> Problem:
    net = network_preset("5g_avg")
    if kind == "mec":
        sc = MecScenario(tiers=mec_tiers(), te=net.te, ec=net.ec)
    else:
        sc = D2DScenario(device=mec_tiers()[0], collaborator=Tier("co-h", COLLABORATORS["co-h"]), link=net.d2d)
    return Problem(paper_profile(model), sc, name=f"{model}-{kind}")


def diamond(kind: str) -> Problem:
    """A DAG (spec section 12): 0 -> {1, 2} -> 3, and a raw-input branch 4 joining at 5."""
    from problems.profile import Block, Profile

    sizes = [(100.0, 40.0), (40.0, 30.0), (40.0, 20.0), (50.0, 10.0), (100.0, 5.0), (15.0, 2.0)]
    inputs = [(), (0,), (0,), (1, 2), (), (3, 4)]
    blocks = tuple(Block(f"b{i}", a, b, latency_ms=3.0 + i, energy_j=0.1 * (i + 1), inputs=inputs[i])
                   for i, (a, b) in enumerate(sizes))
    problem = Problem(Profile("diamond", blocks), paper("alexnet", kind).scenario, name=f"diamond-{kind}")
    assert problem.is_dag
    return problem


CASES = {
    "dag-mec": lambda: diamond("mec"),
    "dag-d2d": lambda: diamond("d2d"),
    "mec": lambda: paper("alexnet", "mec"),
    "d2d": lambda: paper("mobilenet_v1", "d2d"),
    "mec-exits": lambda: random_problem(5, 7, kind="mec", exits=True),
    "d2d-pool": lambda: random_problem(0, 6, kind="d2d", exits=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("space", ["box", "multidiscrete"])
def test_check_env_passes(case, space):
    env = PartitionEnv(CASES[case](), steps=7, action_space=space)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker's warnings count as failures
        check_env(env, skip_render_check=True)


def test_make_through_the_registry_with_a_problem_or_a_file(tmp_path):
    partbench_env.register_envs()
    pr = paper()
    path = save_instance(pr, tmp_path / "alexnet.json")
    for instance in (pr, str(path), path):
        env = gym.make(partbench_env.ENV_ID, instance=instance, steps=3)
        obs, info = env.reset(seed=0)
        assert obs.shape == (pr.n_blocks,) and info["cost"] == pytest.approx(pr.score(pr.fixed(0))["cost"])
        check_env(env.unwrapped, skip_render_check=True)


def test_observation_and_start_are_iorlo_state():
    pr = paper()
    env = PartitionEnv(pr)
    obs, info = env.reset(seed=1)
    assert np.array_equal(obs, iorlo.state_table(pr)[:, 0].astype(np.float32))
    assert info["assignment"].tolist() == [0] * pr.n_blocks
    assert env.observation_space.contains(obs)


@pytest.mark.parametrize("kind", ["mec", "d2d", "dag-mec"])
def test_step_thresholds_reward_and_rescored_info(kind):
    pr = diamond("mec") if kind == "dag-mec" else paper("alexnet", kind)
    env = PartitionEnv(pr, steps=4, reward_scale=0.01)
    env.reset(seed=0)
    a = np.linspace(0, 1, pr.n_blocks, dtype=np.float32)
    obs, reward, terminated, truncated, info = env.step(a)
    bounds = [1 / 3, 2 / 3] if pr.kind == "mec" else [0.4]
    want = np.searchsorted(bounds, a.astype(np.float64), side="right")
    assert info["assignment"].tolist() == want.tolist()
    scored = pr.score(want)
    for key in ("latency_ms", "energy_j", "deploy", "cost"):
        assert info[key] == pytest.approx(scored[key], rel=1e-12)
    assert reward == pytest.approx(-0.01 * scored["cost"], rel=1e-12)
    assert np.array_equal(obs, iorlo.state_table(pr)[np.arange(pr.n_blocks), want].astype(np.float32))
    assert not terminated and not truncated


def test_episode_lasts_steps_and_restarts_from_the_device():
    pr = paper()
    env = PartitionEnv(pr, steps=3, action_space="multidiscrete")
    obs0, _ = env.reset(seed=0)
    flags = [env.step(np.full(pr.n_blocks, 2))[3] for _ in range(3)]
    assert flags == [False, False, True]
    obs, info = env.reset()
    assert np.array_equal(obs, obs0) and info["assignment"].sum() == 0


def test_discrete_action_is_one_tier_per_block():
    pr = paper("mobilenet_v1", "d2d")
    env = PartitionEnv(pr, action_space="multidiscrete")
    env.reset(seed=0)
    x = np.array([0, 1, 1, 0, 1, 0])
    _, reward, _, _, info = env.step(x)
    assert info["assignment"].tolist() == x.tolist()
    assert reward == pytest.approx(-0.1 * pr.score(x)["cost"])
    assert env.action_space.nvec.tolist() == [2] * 6


@pytest.mark.parametrize(("space", "action", "match"), [
    ("box", np.zeros(3), "shape"),
    ("box", np.full(10, np.nan), "not finite"),
    ("multidiscrete", np.full(10, 3), "tiers"),
    ("multidiscrete", np.full(10, 0.5), "tiers"),
])
def test_bad_actions_are_refused(space, action, match):
    env = PartitionEnv(paper(), action_space=space)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)


def test_bad_arguments_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="action_space"):
        PartitionEnv(paper(), action_space="discrete")
    with pytest.raises(ValueError, match="steps"):
        PartitionEnv(paper(), steps=0)
    from problems.errors import FieldError

    with pytest.raises(FieldError, match="instance"):
        PartitionEnv(str(tmp_path / "missing.json"))


def test_seeded_reset_is_reproducible():
    env = PartitionEnv(paper())
    env.reset(seed=5)
    first = env.np_random.random(3)
    env.reset(seed=5)
    assert np.array_equal(first, env.np_random.random(3))


@pytest.mark.slow
def test_the_entry_point_registers_the_env_on_import_gymnasium(tmp_path):
    """The pyproject entry point, installed as pip writes it, makes `gymnasium.make` work with no other import."""
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["gymnasium.envs"]
    dist = tmp_path / "site" / "partbench_plugin_probe-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: partbench-plugin-probe\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[gymnasium.envs]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
    path = save_instance(paper(), tmp_path / "alexnet.json")
    code = ("import sys, gymnasium\n"
            f"env = gymnasium.make('partbench/Partition-v0', instance={str(path)!r}, steps=2)\n"
            "obs, info = env.reset(seed=0)\n"
            "print(type(env.unwrapped).__module__, round(info['cost'], 3))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(ROOT)])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["partbench_env.env", "7432.937"]
