"""`iorlo`: the paper's DDPG partitioner (Sec. 4.2) with its published settings.

Environment. `partbench_env` (also `gymnasium.make("partbench/Partition-v0")`): the
state is the per-block cost vector of the current partition, min-max normalized; every
episode starts with all blocks on the device; an action is one value in (0, 1) per
block, turned into tiers by the intent thresholds of spec section 7; the new partition
is the next state and the reward is -cost x `reward_scale`.

Agent. DDPG (Lillicrap et al.) as the paper sizes it: actor 1 hidden layer of 50
units with a sigmoid output, critic 1 hidden layer of 30 units on [state, action];
Gaussian exploration noise (sigma 3, x0.9998 per learning step, clipped to [0, 1]);
replay memory of 10,000, learning from when it is full, batch 32, gamma 0.9, soft
target updates tau 0.01, Adam 1e-3 / 2e-3, 200 episodes x 200 steps. Training goes
through the batched ensemble trainer (`solvers._ensemble`): one agent is an ensemble of
one, and `python -m benchmark.pretrain` trains every agent of a sweep in one ensemble.

Decision. The trained actor on the initial state, thresholded: the paper deploys
"the pre-trained Actor network". `info` also reports the best assignment met while
training (`best_seen_cost`), which a deployment would not have without search.

Training is cached per (instance content, config, seed) under `checkpoint_dir`
(default `~/.cache/partbench/iorlo`, absolute, so any run directory finds it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from partbench_env.core import Partition, Settings, state_table  # noqa: F401 - iorlo_ctx and tests use it
from problems import Problem
from problems.errors import FieldError
from problems.schema import require
from solvers._ddpg import (
    CheckpointError,
    NumpyActor,
    cache_key,
    check_seed,
    checkpoint_path,
    load_checkpoint,
    mlp,
    save_checkpoint,
    tables_digest,
    to_tiers,
    training_seed,
    training_trace,
    validate_thresholds,
)
from solvers._ensemble import AgentResult, AgentSpec, train_ensemble
from solvers.base import Solution, Solver
from solvers.registry import register

FORMAT = "partbench-iorlo/2"  # /2: trained by the ensemble trainer (other random streams than /1)
META_KEYS = {"best_seen_cost": "number", "best_seen": "list", "train_s": "number", "episodes": "int",
             "learn_steps": "int", "final_sigma": "number", "seed": "int", "training_curve": "list"}


@dataclass
class IorloConfig:
    eps: float = 1 / 3  # MEC: a < eps -> device
    phi: float = 2 / 3  # MEC: a >= phi -> cloud
    zeta: float = 0.4  # D2D: a < zeta -> device
    actor_hidden: int = 50
    critic_hidden: int = 30
    sigma: float = 3.0  # exploration noise on the actor output
    sigma_decay: float = 0.9998  # per learning step
    reward_scale: float = 0.1
    memory: int = 10_000  # replay capacity; learning starts when it is full
    batch_size: int = 32
    gamma: float = 0.9
    tau: float = 0.01
    lr_actor: float = 1e-3
    lr_critic: float = 2e-3
    episodes: int = 200
    steps: int = 200  # per episode
    seed: int | None = None  # training seed; null: drawn from the run's generator
    checkpoint_dir: str | None = "~/.cache/partbench/iorlo"  # null: no cache
    checkpoint: str | None = None  # load this file instead of training
    retrain: bool = False  # train even if the cache has this run
    progress: bool = True  # tqdm bar while training

    def validate(self, prefix: str) -> None:
        validate_thresholds(self, prefix)
        require(prefix, self, positive=("actor_hidden", "critic_hidden", "memory", "batch_size", "episodes", "steps",
                                      "lr_actor", "lr_critic", "reward_scale"))
        for name in ("sigma", "gamma"):
            if not getattr(self, name) >= 0:
                raise_bad(prefix, name, getattr(self, name), "must not be negative")
        for name in ("sigma_decay", "tau"):
            if not 0 < getattr(self, name) <= 1:
                raise_bad(prefix, name, getattr(self, name), "must lie in (0, 1]")
        if self.batch_size > self.memory:
            raise_bad(prefix, "batch_size", self.batch_size, f"must not exceed memory ({self.memory})")
        check_seed(prefix, self.seed)


Config = IorloConfig  # the name the solver class and older callers use


def raise_bad(prefix: str, name: str, value: object, message: str) -> None:
    raise FieldError(f"{prefix}.{name}", message, value)


# -- environment ------------------------------------------------------------------------------
def mdp(problem: Problem, cfg: IorloConfig) -> Partition:
    """The partition environment's MDP with this config's thresholds, episode length and reward scale."""
    return Partition(problem, Settings(steps=cfg.steps, reward_scale=cfg.reward_scale,
                                       eps=cfg.eps, phi=cfg.phi, zeta=cfg.zeta))


def build_nets(n: int, cfg: IorloConfig, gen: torch.Generator):
    actor = mlp(n, (cfg.actor_hidden,), n, gen, sigmoid=True)
    critic = mlp(2 * n, (cfg.critic_hidden,), 1, gen, sigmoid=False)
    return actor, critic


# -- training ---------------------------------------------------------------------------------
def train(problem: Problem, cfg: IorloConfig, seed: int) -> dict:
    """Run DDPG on `problem` (an ensemble of one); return the actor, critic and what training saw."""
    (result,) = train_ensemble([AgentSpec(mdp(problem, cfg), cfg, seed, problem.name)], progress=cfg.progress,
                               desc=f"iorlo {problem.name}")
    return nets_of(problem.n_blocks, cfg, result)


def nets_of(n: int, cfg: IorloConfig, result: AgentResult) -> dict:
    actor, critic = build_nets(n, cfg, torch.Generator().manual_seed(0))
    actor.load_state_dict(result.actor)
    critic.load_state_dict(result.critic)
    return {"actor": actor, "critic": critic, "meta": result.meta}


@dataclass
class Job:
    """One agent a run needs: the problem, the config and the training seed."""

    problem: Problem
    cfg: IorloConfig
    seed: int

    @property
    def key(self) -> str:
        return cache_key(IoRLO.name, tables_digest(self.problem), self.cfg, self.seed)

    @property
    def path(self) -> Path | None:
        if self.cfg.checkpoint_dir is None:
            return None
        return checkpoint_path(self.cfg.checkpoint_dir, f"{self.problem.name}-iorlo", self.key)


def save_trained(job: Job, trained: dict) -> None:
    meta = trained["meta"]
    meta["key"] = job.key
    meta["instance"] = job.problem.name
    meta["config"] = asdict(job.cfg)
    if job.path is not None:
        save_checkpoint(job.path, FORMAT, {"actor": trained["actor"], "critic": trained["critic"]}, meta)


def is_cached(job: Job) -> bool:
    """The cache holds a loadable checkpoint of this job (and it is not to be retrained)."""
    path = job.path
    if path is None or job.cfg.retrain or not path.exists():
        return False
    actor, critic = build_nets(job.problem.n_blocks, job.cfg, torch.Generator().manual_seed(0))
    try:
        load_checkpoint(path, FORMAT, {"actor": actor, "critic": critic}, META_KEYS)
    except CheckpointError:
        return False
    return True


def pretrain(jobs: list[Job], progress: bool = True, workers: int = 1) -> int:
    """Train every job the cache lacks as one ensemble (its same-shape groups in `workers`
    processes) and write their checkpoints; returns how many."""
    todo = list({job.key: job for job in jobs if job.path is not None and not is_cached(job)}.values())
    if todo:
        specs = [AgentSpec(mdp(j.problem, j.cfg), j.cfg, j.seed, j.problem.name) for j in todo]
        results = train_ensemble(specs, progress=progress, desc="iorlo", workers=workers)
        for job, result in zip(todo, results, strict=True):
            save_trained(job, nets_of(job.problem.n_blocks, job.cfg, result))
    return len(todo)


@register
class IoRLO(Solver):
    """DDPG with intent thresholds, trained per instance in `prepare`."""

    name = "iorlo"
    Config = IorloConfig
    #: ranges `python -m benchmark.tune` searches (the thresholds are intent, not tuned)
    search_space: ClassVar[dict] = {
        "reward_scale": {"low": 1e-5, "high": 1e-1, "log": True},
        "sigma": {"low": 0.05, "high": 3.0, "log": True},
        "sigma_decay": {"low": 0.999, "high": 0.99999},
        "lr_actor": {"low": 1e-4, "high": 1e-2, "log": True},
        "lr_critic": {"low": 1e-4, "high": 1e-2, "log": True},
        "gamma": {"low": 0.0, "high": 0.99},
        "tau": {"low": 1e-3, "high": 0.1, "log": True},
        "actor_hidden": {"low": 16, "high": 256, "log": True},
        "critic_hidden": {"low": 16, "high": 256, "log": True},
        "batch_size": {"low": 16, "high": 256, "log": True},
    }

    def __init__(self, config: IorloConfig | None = None):
        super().__init__(config)
        self._problem: Problem | None = None

    def prepare(self, problem: Problem, rng: np.random.Generator) -> None:
        cfg: IorloConfig = self.config
        n = problem.n_blocks
        job = Job(problem, cfg, training_seed(cfg.seed, rng))
        path = None
        cached = False
        actor, critic = build_nets(n, cfg, torch.Generator().manual_seed(job.seed))
        if cfg.checkpoint is not None:
            meta = load_checkpoint(cfg.checkpoint, FORMAT, {"actor": actor, "critic": critic}, META_KEYS)
            path, cached = cfg.checkpoint, True
        else:
            path = job.path
            if path is not None and path.exists() and not cfg.retrain:
                try:
                    meta = load_checkpoint(path, FORMAT, {"actor": actor, "critic": critic}, META_KEYS)
                    cached = True
                except CheckpointError:
                    cached = False  # a stale or damaged cache entry: train again and overwrite it
            if not cached:
                out = train(problem, cfg, job.seed)
                actor, critic, meta = out["actor"], out["critic"], out["meta"]
                save_trained(job, out)
        self._actor = NumpyActor.copy(actor)
        env = mdp(problem, cfg)
        self._state = env.observe(env.start())
        self._bounds = env.bounds
        self._info = {
            "best_seen_cost": meta["best_seen_cost"],
            "best_seen": meta["best_seen"],
            "train_s": meta["train_s"],
            "episodes": meta["episodes"],
            "learn_steps": meta["learn_steps"],
            "env_steps": meta.get("env_steps", meta["episodes"] * meta.get("steps", cfg.steps)),
            "ensemble_size": meta.get("ensemble_size", 1),
            "final_sigma": meta["final_sigma"],
            "seed": meta["seed"],
            "cached": cached,
            "checkpoint": None if path is None else str(path),
            "trained_on": meta.get("instance"),  # best_seen refers to this instance
            "training_curve": meta["training_curve"],
            **training_trace(meta, job.key),
        }
        self._problem = problem

    @property
    def training_info(self) -> dict:
        """What `prepare` trained or loaded (train_s, cached, checkpoint, best_seen, ...); empty before."""
        return dict(getattr(self, "_info", {}))

    def decide(self, problem: Problem) -> Solution:
        """The trained actor's decision for the prepared problem: one inference, no training."""
        if problem is not self._problem:
            raise RuntimeError("iorlo.decide: prepare this problem first (iorlo trains per instance)")
        return Solution(to_tiers(self._actor(self._state), self._bounds), self.training_info)

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        if problem is not self._problem:
            self.prepare(problem, rng)
        return self.decide(problem)
