"""`iorlo`: the paper's DDPG partitioner (Sec. 4.2) with its published settings.

Environment. The state is the per-block cost vector of the current partition: block
i's compute latency on its tier plus, on the device, `w_energy` x its device energy
(no transfers, no deployment share), min-max normalized over the table of every
(block, tier) value so that states of different partitions stay comparable. Every
episode starts with all blocks on the device. An action is one value in (0, 1) per
block; the intent thresholds of spec section 7 turn it into tiers, the new partition
is the next state and the reward is -cost x `reward_scale`.

Agent. DDPG (Lillicrap et al.) as the paper sizes it: actor 1 hidden layer of 50
units with a sigmoid output, critic 1 hidden layer of 30 units on [state, action];
Gaussian exploration noise (sigma 3, x0.9998 per learning step, clipped to [0, 1]);
replay memory of 10,000, learning from when it is full, batch 32, gamma 0.9, soft
target updates tau 0.01, Adam 1e-3 / 2e-3, 200 episodes x 200 steps.

Decision. The trained actor on the initial state, thresholded: the paper deploys
"the pre-trained Actor network". `info` also reports the best assignment met while
training (`best_seen_cost`), which a deployment would not have without search.

Training is cached per (instance content, config, seed) under `checkpoint_dir`
(default `~/.cache/partbench/iorlo`, absolute, so any run directory finds it).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from problems import Problem
from problems.errors import FieldError
from problems.schema import require
from solvers._ddpg import (
    CheckpointError,
    NumpyActor,
    cache_key,
    check_seed,
    checkpoint_path,
    intent_bounds,
    load_checkpoint,
    mlp,
    save_checkpoint,
    soft_update,
    tables_digest,
    to_tiers,
    torch_threads,
    training_seed,
    validate_thresholds,
)
from solvers.base import Solution, Solver
from solvers.registry import register

FORMAT = "partbench-iorlo/1"
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


def raise_bad(prefix: str, name: str, value: object, message: str) -> None:
    raise FieldError(f"{prefix}.{name}", message, value)


# -- environment ------------------------------------------------------------------------------
def state_table(problem: Problem) -> np.ndarray:
    """[n, k] normalized per-block cost of each (block, tier): the paper's state entries."""
    ct = problem.chain
    cost = ct.weights[0] * ct.unary[0] + ct.weights[1] * ct.unary[1]  # latency + w_energy x device energy
    lo, hi = cost.min(), cost.max()
    return (cost - lo) / (hi - lo) if hi > lo else np.zeros_like(cost)


def build_nets(n: int, cfg: IorloConfig, gen: torch.Generator):
    actor = mlp(n, (cfg.actor_hidden,), n, gen, sigmoid=True)
    critic = mlp(2 * n, (cfg.critic_hidden,), 1, gen, sigmoid=False)
    return actor, critic


# -- training ---------------------------------------------------------------------------------
def train(problem: Problem, cfg: IorloConfig, seed: int) -> dict:
    """Run DDPG on `problem`; return the actor, critic and what training saw."""
    n = problem.n_blocks
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    bounds = intent_bounds(problem.kind, cfg.eps, cfg.phi, cfg.zeta)
    table = state_table(problem)
    rows = np.arange(n)
    s0 = table[:, 0].copy()  # all blocks on the device

    actor, critic = build_nets(n, cfg, gen)
    actor_t, critic_t = build_nets(n, cfg, gen)
    actor_t.load_state_dict(actor.state_dict())
    critic_t.load_state_dict(critic.state_dict())
    opt_a = torch.optim.Adam(actor.parameters(), lr=cfg.lr_actor, fused=True)
    opt_c = torch.optim.Adam(critic.parameters(), lr=cfg.lr_critic, fused=True)
    policy = NumpyActor.view(actor)  # acting reads the live torch weights without copies

    # replay memory (s, a, r, s'). The paper's environment stores the discretized
    # action; we store the continuous one that the actor produced, which is what the
    # DDPG critic's gradient with respect to the action assumes.
    mem_s = np.zeros((cfg.memory, n), dtype=np.float32)
    mem_a = np.zeros((cfg.memory, n), dtype=np.float32)
    mem_r = np.zeros((cfg.memory, 1), dtype=np.float32)
    mem_s2 = np.zeros((cfg.memory, n), dtype=np.float32)
    stored = 0

    sigma = cfg.sigma
    learn_steps = 0
    best_cost, best = np.inf, np.zeros(n, dtype=np.intp)
    curve: list[float] = []
    t0 = time.perf_counter()
    bar = tqdm(range(cfg.episodes), desc=f"iorlo {problem.name}", disable=not cfg.progress, leave=False)
    for _ in bar:
        s = s0
        ep_reward = 0.0
        for _ in range(cfg.steps):
            a = np.clip(policy(s.astype(np.float32)) + sigma * rng.standard_normal(n), 0.0, 1.0)
            x = to_tiers(a, bounds)
            cost = float(problem.evaluate(x[None, :]).cost[0])
            r = -cost * cfg.reward_scale
            s2 = table[rows, x]
            j = stored % cfg.memory
            mem_s[j], mem_a[j], mem_r[j], mem_s2[j] = s, a, r, s2
            stored += 1
            ep_reward += r
            if cost < best_cost:
                best_cost, best = cost, x
            s = s2

            if stored < cfg.memory:
                continue
            # one DDPG learning step
            idx = rng.integers(0, cfg.memory, cfg.batch_size)
            bs, ba = torch.from_numpy(mem_s[idx]), torch.from_numpy(mem_a[idx])
            br, bs2 = torch.from_numpy(mem_r[idx]), torch.from_numpy(mem_s2[idx])
            with torch.no_grad():
                target = br + cfg.gamma * critic_t(torch.cat([bs2, actor_t(bs2)], 1))
            critic_loss = F.mse_loss(critic(torch.cat([bs, ba], 1)), target)
            opt_c.zero_grad()
            critic_loss.backward()
            opt_c.step()
            actor_loss = -critic(torch.cat([bs, actor(bs)], 1)).mean()
            opt_a.zero_grad()
            actor_loss.backward()
            opt_a.step()
            soft_update(actor_t, actor, cfg.tau)
            soft_update(critic_t, critic, cfg.tau)
            sigma *= cfg.sigma_decay
            learn_steps += 1
        curve.append(ep_reward / cfg.steps)
        bar.set_postfix(best=f"{best_cost:.1f}", sigma=f"{sigma:.3f}", refresh=False)
    meta = {
        "best_seen": [int(v) for v in best],
        "best_seen_cost": float(best_cost),
        "train_s": time.perf_counter() - t0,
        "episodes": cfg.episodes,
        "steps": cfg.steps,
        "learn_steps": learn_steps,
        "final_sigma": sigma,
        "training_curve": [float(v) for v in curve],
        "seed": seed,
    }
    return {"actor": actor, "critic": critic, "meta": meta}


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
        seed = training_seed(cfg.seed, rng)
        key = cache_key(self.name, tables_digest(problem), cfg, seed)
        path = None
        cached = False
        actor, critic = build_nets(n, cfg, torch.Generator().manual_seed(seed))
        if cfg.checkpoint is not None:
            meta = load_checkpoint(cfg.checkpoint, FORMAT, {"actor": actor, "critic": critic}, META_KEYS)
            path, cached = cfg.checkpoint, True
        else:
            if cfg.checkpoint_dir is not None:
                path = checkpoint_path(cfg.checkpoint_dir, f"{problem.name}-iorlo", key)
            if path is not None and path.exists() and not cfg.retrain:
                try:
                    meta = load_checkpoint(path, FORMAT, {"actor": actor, "critic": critic}, META_KEYS)
                    cached = True
                except CheckpointError:
                    cached = False  # a stale or damaged cache entry: train again and overwrite it
            if not cached:
                with torch_threads(1):
                    out = train(problem, cfg, seed)
                actor, critic, meta = out["actor"], out["critic"], out["meta"]
                meta["key"] = key
                meta["instance"] = problem.name
                meta["config"] = asdict(cfg)
                if path is not None:
                    save_checkpoint(path, FORMAT, {"actor": actor, "critic": critic}, meta)
        self._actor = NumpyActor.copy(actor)
        self._state = state_table(problem)[:, 0].copy()
        self._bounds = intent_bounds(problem.kind, cfg.eps, cfg.phi, cfg.zeta)
        self._info = {
            "best_seen_cost": meta["best_seen_cost"],
            "best_seen": meta["best_seen"],
            "train_s": meta["train_s"],
            "episodes": meta["episodes"],
            "learn_steps": meta["learn_steps"],
            "final_sigma": meta["final_sigma"],
            "seed": meta["seed"],
            "cached": cached,
            "checkpoint": None if path is None else str(path),
            "trained_on": meta.get("instance"),  # best_seen refers to this instance
            "training_curve": meta["training_curve"],
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
