"""The batched IoRLO trainer: an agent's result does not depend on who shares its batch;
`iorlo` trains through it; `benchmark.pretrain` fills the cache a sweep then reads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from solver_helpers import paper_problem

from benchmark.job import resolve_problem, solver_params
from benchmark.pretrain import job_configs, pretrain, sweep_jobs
from benchmark.runner import run
from solvers import iorlo
from solvers._ddpg import NumpyActor, to_tiers
from solvers._ensemble import AgentSpec, train_ensemble

SHORT = {"episodes": 3, "steps": 20, "memory": 40, "batch_size": 8, "progress": False}



GRID = [(m, k, n) for m in ("alexnet", "vgg16", "resnet32", "mobilenet_v1") for k in ("mec", "d2d")
        for n in ("5g_avg", "5g_worst", "5g_best")]


def specs(cfg: iorlo.IorloConfig) -> list[AgentSpec]:
    """The paper grid's 24 agents, with some hyperparameters varied per agent."""
    out = []
    for i, (m, k, n) in enumerate(GRID):
        c = dataclasses.replace(cfg, lr_actor=cfg.lr_actor * (1 + i % 3), gamma=0.9 - 0.1 * (i % 2),
                                sigma=cfg.sigma / (1 + i % 4))
        out.append(AgentSpec(iorlo.mdp(paper_problem(m, k, n), c), c, seed=100 + i))
    return out


def decision(spec: AgentSpec, result) -> list[int]:
    actor, _ = iorlo.build_nets(spec.mdp.n_blocks, spec.cfg, torch.Generator())
    actor.load_state_dict(result.actor)
    return to_tiers(NumpyActor.copy(actor)(spec.mdp.observe(spec.mdp.start())), spec.mdp.bounds).tolist()


@pytest.mark.parametrize("batch_size", [8, 32])
def test_an_agent_trains_the_same_alone_and_among_24(batch_size):
    cfg = iorlo.IorloConfig(**{**SHORT, "batch_size": batch_size, "memory": 48})
    all24 = specs(cfg)
    together = train_ensemble(all24, progress=False)
    for j in (0, 7, 13, 23):  # first and last of their groups, and two in between
        (alone,) = train_ensemble([all24[j]], progress=False)
        mixed = together[j]
        assert mixed.meta["best_seen_cost"] == alone.meta["best_seen_cost"]
        assert mixed.meta["best_seen"] == alone.meta["best_seen"]
        assert mixed.meta["training_curve"] == alone.meta["training_curve"]
        for key in alone.actor:
            assert torch.equal(mixed.actor[key], alone.actor[key]), key
        for key in alone.critic:
            assert torch.equal(mixed.critic[key], alone.critic[key]), key
        assert decision(all24[j], mixed) == decision(all24[j], alone)
        assert mixed.meta["ensemble_size"] == 6 and alone.meta["ensemble_size"] == 1


def test_agents_of_one_group_differ_and_see_their_own_problem():
    cfg = iorlo.IorloConfig(**SHORT)
    group = specs(cfg)[:6]  # alexnet: one shape, six problems
    results = train_ensemble(group, progress=False)
    assert len({tuple(r.meta["training_curve"]) for r in results}) == 6
    for spec, r in zip(group, results, strict=True):
        pr = spec.mdp.problem
        assert r.meta["best_seen_cost"] == pytest.approx(pr.score(r.meta["best_seen"])["cost"], rel=1e-12)
        assert np.all(np.isfinite(r.meta["training_curve"]))  # every step was scored
        assert r.meta["learn_steps"] == SHORT["episodes"] * SHORT["steps"] - SHORT["memory"] + 1


def test_best_seen_is_the_minimum_over_every_step():
    cfg = iorlo.IorloConfig(**SHORT)
    spec = specs(cfg)[3]
    from solvers._ensemble import Group

    group = Group([spec])
    for e in range(cfg.episodes):
        group.episode(e * cfg.steps, cfg.steps)
    (result,) = group.results(0.0)
    costs = spec.mdp.score(group.visited[0].astype(np.intp)).cost
    assert np.allclose(group.costs[0], costs, rtol=1e-12)
    assert result.meta["best_seen_cost"] == pytest.approx(costs.min(), rel=1e-12)
    means = (-cfg.reward_scale * costs).reshape(cfg.episodes, cfg.steps).mean(1)
    assert np.allclose(result.meta["training_curve"], means, rtol=1e-12)


def test_iorlo_is_an_ensemble_of_one():
    pr = paper_problem("alexnet", "mec", "5g_avg")
    cfg = iorlo.IorloConfig(**SHORT, seed=4, checkpoint_dir=None)
    solver = iorlo.IoRLO(cfg)
    solver.prepare(pr, np.random.default_rng(0))
    (direct,) = train_ensemble([AgentSpec(iorlo.mdp(pr, cfg), cfg, 4)], progress=False)
    assert solver._info["training_curve"] == direct.meta["training_curve"]
    assert solver._info["best_seen_cost"] == direct.meta["best_seen_cost"]
    assert solver.solve(pr, None).assignment.tolist() == decision(AgentSpec(iorlo.mdp(pr, cfg), cfg, 4), direct)


def test_sweep_expansion_matches_the_basic_sweeper():
    jobs = sweep_jobs(["solver=iorlo,dp", "model=alexnet,vgg16", "scenario=mec,d2d"])
    assert len(jobs) == 8
    assert {j[0] for j in jobs} == {"solver=iorlo", "solver=dp"}
    paper = sweep_jobs(["+experiment=paper"])
    assert len(paper) == 24 * len({j[3] for j in paper})
    assert "solver=iorlo" in {j[3] for j in paper} and not any(j[3].startswith("solver=sb3_") for j in paper)


def check_pretrain_fills_the_cache(tmp_path, overrides: list[str], name: str, jobs: int, agents: int,
                                   workers: int | None = None) -> None:
    """`jobs` jobs of `name` need `agents` agents: trained once, written to the cache, then cached."""
    summary = pretrain(overrides, progress=False, workers=workers)
    assert summary[name]["jobs"] == jobs and summary[name]["trained"] == agents
    assert len(list((tmp_path / "ck").glob("*.pt"))) == agents
    assert pretrain(overrides, progress=False, workers=workers)[name]["trained"] == 0


@pytest.mark.slow
def test_pretrain_trains_each_ctx_agent_once_across_processes(tmp_path):
    """iorlo_ctx: one actor per model and scenario, whatever the network; two processes."""
    overrides = ["solver=iorlo_ctx", "model=alexnet,mobilenet_v1", "scenario=mec,d2d", "network=5g_avg,5g_best",
                 f"solver.checkpoint_dir={tmp_path / 'ck'}", "solver.updates=3", "solver.contexts=2",
                 "solver.samples=2", "solver.search_rounds=1", "solver.progress=false"]
    check_pretrain_fills_the_cache(tmp_path, overrides, "iorlo_ctx", jobs=8, agents=4, workers=2)
    data = next(iter(job_configs(overrides)))
    name, params = solver_params(data)
    row = run(resolve_problem(data), name, params, seed=data["seed"])
    assert row["status"] == "ok" and row["info"]["cached"] is True


@pytest.mark.slow
def test_pretrain_fills_the_cache_the_sweep_reads(tmp_path):
    overrides = ["solver=iorlo", "model=alexnet,mobilenet_v1", "scenario=mec,d2d", "seed=3",
                 f"solver.checkpoint_dir={tmp_path / 'ck'}", "solver.episodes=2", "solver.steps=20",
                 "solver.memory=30", "solver.batch_size=8", "solver.progress=false"]
    check_pretrain_fills_the_cache(tmp_path, overrides, "iorlo", jobs=4, agents=4)
    data = next(d for d in job_configs(overrides) if d["scenario"]["kind"] == "d2d")
    name, params = solver_params(data)
    row = run(resolve_problem(data), name, params, seed=data["seed"])  # the job as the sweep runs it
    assert row["status"] == "ok" and row["info"]["cached"] is True
    assert row["info"]["ensemble_size"] == 2  # alexnet's two scenarios share a shape


@pytest.mark.slow
def test_groups_in_processes_give_the_same_results():
    cfg = iorlo.IorloConfig(**SHORT)
    some = [s for j, s in enumerate(specs(cfg)) if j % 6 < 2]  # two agents of each of the four shapes
    serial = train_ensemble(some, progress=False)
    parallel = train_ensemble(some, progress=False, workers=2)
    for a, b in zip(serial, parallel, strict=True):
        assert a.meta["training_curve"] == b.meta["training_curve"]
        assert all(torch.equal(a.actor[k], b.actor[k]) for k in a.actor)


@pytest.mark.slow
def test_the_paper_experiment_pretrains_before_its_jobs(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "benchmark", "-m", "+experiment=paper", "model=alexnet", "scenario=mec",
           "network=5g_avg", "solver=iorlo", "solver.episodes=2", "solver.steps=20", "solver.memory=30",
           "solver.batch_size=8", "solver.progress=false", f"solver.checkpoint_dir={tmp_path / 'ck'}",
           f"hydra.sweep.dir={tmp_path / 'sweep'}", "timing.budget_s=0"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "pretrain iorlo: 1 jobs, 1 agents trained" in out.stdout
    (result,) = (tmp_path / "sweep").rglob("result.json")
    row = json.loads(result.read_text())
    assert row["status"] == "ok" and row["info"]["cached"] is True
