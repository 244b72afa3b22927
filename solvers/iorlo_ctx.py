"""`iorlo_ctx`: one IoRLO actor for every network condition, trained once per model.

The paper trains an actor per DNN model and network condition; a deployment whose
links change would have to retrain. Here the actor's state carries the condition: the
paper's per-block cost vector of the initial partition plus the log link bandwidths
and delays and the log tier speed factors, standardized. Training draws a new
condition per episode, so the trained actor decides for unseen conditions with one
inference and no retraining.

What is kept from IoRLO: the sigmoid actor with one value per block, the intent
thresholds, Gaussian exploration on the actor's output and a reward that is only
observed, never differentiated. What changes, and why (`iorlo` shows the problems):
- An episode is one decision. The cost of a partition does not depend on the
  partition before it, so the paper's 200-step episodes only add a bootstrapped
  target for the critic to fit.
- No critic. Through the thresholds the cost is piecewise constant in the action, so
  a critic's action gradient is an artefact of its smoothing, and with -0.1 x cost as
  reward it must fit values of 10^3-10^4. With the cost of any assignment cheap and
  exact, the actor learns by policy improvement instead (expert iteration): for each
  drawn condition, the best of its own decision and `samples` noisy actions is
  improved by `search_rounds` rounds of best-improvement "put blocks i..j on tier t"
  moves (which jump whole runs of blocks at once; single-block noise cannot leave a
  run that only pays off when moved together), and the actor regresses onto the
  middle of the threshold interval of each improved tier. The learning curve is
  -mean log(cost of the decision / cost after improvement): 0 when the actor's
  decisions cannot be improved by the search.
- The learning rate anneals geometrically from `lr` to `lr_end`.
Conditions come from `problems.networks.sample_network` (Table 2 ranges, mean at the
5g_avg values) and, for a share `box_share` of episodes, from a log-uniform draw over
the whole Table 2 box, so that rare corners such as 5g_worst are trained on too. Tier
speed factors are the problem's, each scaled by exp(U(-tier_jitter, tier_jitter)).

The state, the thresholds and the scoring are the partition environment's
(`partbench_env.core`, as for `iorlo`). The batched DDPG trainer does not apply: there
is no critic, and one update already batches `contexts` conditions.

Training is cached per (model profile and everything of the scenario except the
network, config, seed) under `checkpoint_dir`, so all network conditions of one model
share one trained actor.

`info.trace` is the training's anytime curve on the condition it was prepared on: after
each update, the actor's decision for that condition, scored in one batch at the end
(evaluations: episodes so far, one env step each). It is stored in the checkpoint with
that condition's table digest, and reported only for that condition: the others were
never seen in training.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
import torch
from tqdm.auto import tqdm

from problems import Problem
from problems.errors import FieldError
from problems.networks import sample_network, sample_ranges
from problems.presets import Network
from problems.scenario import D2DLink, Link, MecScenario
from problems.schema import require
from problems.scoring import Stack, stacked_cost
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
    tables_digest,
    to_tiers,
    torch_threads,
    training_seed,
    validate_thresholds,
)
from solvers._trace import improvements
from solvers.base import Solution, Solver
from solvers.iorlo import state_table
from solvers.registry import register

FORMAT = "partbench-iorlo-ctx/1"
META_KEYS = {"mean": "numbers", "std": "numbers", "train_s": "number", "episodes": "int", "updates": "int",
             "seed": "int", "training_curve": "list"}
DELAY_FLOOR_MS = 0.1  # log features of delays that may be 0


@dataclass
class IorloCtxConfig:
    eps: float = 1 / 3  # MEC: a < eps -> device
    phi: float = 2 / 3  # MEC: a >= phi -> cloud
    zeta: float = 0.4  # D2D: a < zeta -> device
    hidden: int = 64  # units of each of the two hidden layers
    updates: int = 3000  # gradient steps
    contexts: int = 32  # network conditions (episodes) per update
    samples: int = 8  # noisy actions per condition
    sigma: float = 0.1  # exploration noise on the actor output
    search_rounds: int = 3  # segment-move improvement rounds per condition
    lr: float = 3e-3
    lr_end: float = 3e-4
    box_share: float = 0.5  # share of conditions drawn log-uniformly over the Table 2 box
    tier_jitter: float = 0.2  # tier speed factors scaled by exp(U(-j, j)) during training
    seed: int | None = None  # training seed; null: drawn from the run's generator
    checkpoint_dir: str | None = "~/.cache/partbench/iorlo"  # null: no cache
    checkpoint: str | None = None  # load this file instead of training
    retrain: bool = False  # train even if the cache has this run
    progress: bool = True  # tqdm bar while training

    def validate(self, prefix: str) -> None:
        validate_thresholds(self, prefix)
        require(prefix, self, positive=("hidden", "updates", "contexts", "lr", "lr_end"))
        for name in ("samples", "sigma", "search_rounds"):
            if not getattr(self, name) >= 0:
                raise FieldError(f"{prefix}.{name}", "must not be negative", getattr(self, name))
        if not 0 <= self.box_share <= 1:
            raise FieldError(f"{prefix}.box_share", "must lie in [0, 1]", self.box_share)
        if not self.tier_jitter >= 0:
            raise FieldError(f"{prefix}.tier_jitter", "must not be negative", self.tier_jitter)
        check_seed(prefix, self.seed)


# -- conditions --------------------------------------------------------------------------------

def check_context(path: object, meta: dict, n_features: int) -> None:
    """The context statistics must fit this problem's features (and `std` must divide)."""
    for key in ("mean", "std"):
        if len(meta[key]) != n_features:
            raise CheckpointError(f"checkpoint {path}: meta {key!r} has {len(meta[key])} entries, "
                                  f"this problem has {n_features} context features")
    if not all(v > 0 for v in meta["std"]):
        raise CheckpointError(f"checkpoint {path}: meta 'std' must be positive")

def features(problem: Problem) -> np.ndarray:
    """Raw context: log link bandwidths and delays, then log tier speed factors."""
    sc = problem.scenario
    if isinstance(sc, MecScenario):
        te, ec = sc.te, sc.ec
        links = [te.up_mbps, te.down_mbps, te.delay_ms + DELAY_FLOOR_MS,
                 ec.up_mbps, ec.down_mbps, ec.delay_ms + DELAY_FLOOR_MS]
    else:
        _, link = sc.chosen()
        links = [link.mbps, link.delay_ms + DELAY_FLOOR_MS]
    return np.log(np.array(links + [t.d for t in sc.tiers]))


def state(problem: Problem, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The paper's state (normalized per-block cost, all on the device) + the standardized context."""
    return np.concatenate([state_table(problem)[:, 0], (features(problem) - mean) / std])


def box_network(rng: np.random.Generator) -> Network:
    """Every Table 2 quantity log-uniform over its full range (covers the corners)."""
    drawn: dict[str, dict[str, float]] = {"te": {}, "ec": {}, "d2d": {}}
    for (link, key), (lo, _, hi) in sample_ranges().items():
        drawn[link][key] = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    return Network("box", Link(**drawn["te"]), Link(**drawn["ec"]), D2DLink(**drawn["d2d"]))


def condition(problem: Problem, rng: np.random.Generator, cfg: IorloCtxConfig) -> Problem:
    """`problem`'s model and scenario under a freshly drawn network and jittered tiers."""
    net = box_network(rng) if rng.random() < cfg.box_share else sample_network(rng)
    sc = resolved(problem.scenario)
    jitter = np.exp(rng.uniform(-cfg.tier_jitter, cfg.tier_jitter, len(sc.tiers)))
    tiers = tuple(dataclasses.replace(t, d=t.d * f) for t, f in zip(sc.tiers, jitter, strict=True))
    return problem.with_scenario(sc.with_tiers(tiers).with_network(net), name=f"{problem.name}-ctx")


def resolved(sc):
    """A D2D pool as the collaborator it selects: the conditions vary that one's link and speed."""
    return sc.resolved() if getattr(sc, "collaborators", None) else sc


def template_digest(problem: Problem) -> str:
    """Hash of the instance without its network: one actor serves all conditions of a model."""
    sc = problem.scenario
    ref = Network("ref", Link(100.0, 100.0, 10.0), Link(100.0, 100.0, 10.0), D2DLink(100.0, 10.0))
    ct = problem.with_scenario(resolved(sc).with_network(ref)).chain
    h = hashlib.sha256(sc.kind.encode())
    for arr in ct.arrays():
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    return h.hexdigest()


# -- training ---------------------------------------------------------------------------------
def build_actor(n_state: int, n: int, cfg: IorloCtxConfig, gen: torch.Generator):
    return mlp(n_state, (cfg.hidden, cfg.hidden), n, gen, sigmoid=True)


def segment_moves(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every move "put blocks i..j on tier t": masks [m, n] and tiers [m, 1]."""
    i, j = np.triu_indices(n)
    span = (np.arange(n) >= i[:, None]) & (np.arange(n) <= j[:, None])
    masks = np.tile(span, (k, 1))
    tiers = np.repeat(np.arange(k), len(i))[:, None]
    return masks, tiers


def stacked_costs(problems: list[Problem]) -> Stack:
    """The scalar cost tables of B conditions of one model, stacked for one scoring pass."""
    return Stack.of_costs([p.cost_tables for p in problems])


def costs(tables: Stack, X: np.ndarray) -> np.ndarray:
    """Expected cost [B, m] of assignments X [B, m, n] under each stacked condition."""
    return stacked_cost(tables, X)[:, 0]


def improve(tables: Stack, X: np.ndarray, moves: tuple[np.ndarray, np.ndarray], rounds: int):
    """Per condition: the best of its candidate rows X [B, m, n], then `rounds` rounds of the
    best-improving segment move. Returns the assignments [B, n], their costs and the costs of X."""
    cost_x = costs(tables, X)
    j = np.argmin(cost_x, 1)
    rows = np.arange(len(X))
    x, best = X[rows, j], cost_x[rows, j]
    masks, tiers = moves
    for _ in range(rounds):
        cand = np.where(masks[None], tiers[None], x[:, None, :])  # [B, moves, n]
        cost = costs(tables, cand)
        j = np.argmin(cost, 1)
        better = cost[rows, j] < best * (1 - 1e-12)
        if not better.any():
            break
        x = np.where(better[:, None], cand[rows, j], x)
        best = np.where(better, cost[rows, j], best)
    return x, best, cost_x


def train(problem: Problem, cfg: IorloCtxConfig, seed: int) -> dict:
    """Train the contextual actor on freshly drawn conditions by policy improvement."""
    n, k = problem.n_blocks, problem.n_tiers
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    bounds = intent_bounds(problem.kind, cfg.eps, cfg.phi, cfg.zeta)
    edges = np.concatenate([[0.0], bounds, [1.0]])
    centers = (edges[:-1] + edges[1:]) / 2  # the action that sits deepest inside each tier's interval
    moves = segment_moves(n, k)
    t_probe = time.perf_counter()
    probe = np.stack([features(condition(problem, rng, cfg)) for _ in range(256)])
    mean, std = probe.mean(0), probe.std(0)
    std[std < 1e-9] = 1.0  # a constant feature stays 0
    t_probe = time.perf_counter() - t_probe

    actor = build_actor(n + len(mean), n, cfg, gen)
    opt = torch.optim.Adam(actor.parameters(), lr=cfg.lr)
    lr_rate = (cfg.lr_end / cfg.lr) ** (1 / max(cfg.updates - 1, 1))
    B, M = cfg.contexts, cfg.samples

    curve: list[float] = []
    own = torch.from_numpy(state(problem, mean, std)[None].astype(np.float32))  # the trace's condition
    decisions = np.empty((cfg.updates, n), dtype=np.intp)
    seconds = np.empty(cfg.updates)
    t0 = time.perf_counter()
    bar = tqdm(range(cfg.updates), desc=f"iorlo_ctx {problem.profile.name}", disable=not cfg.progress, leave=False)
    for u in bar:
        for g in opt.param_groups:
            g["lr"] = cfg.lr * lr_rate**u
        problems = [condition(problem, rng, cfg) for _ in range(B)]
        S = torch.from_numpy(np.stack([state(p, mean, std) for p in problems]).astype(np.float32))
        mu = actor(S)  # [B, n]
        mu_np = mu.detach().numpy().astype(np.float64)
        noisy = np.clip(mu_np[:, None, :] + cfg.sigma * rng.standard_normal((B, M, n)), 0.0, 1.0)
        X = to_tiers(np.concatenate([mu_np[:, None, :], noisy], axis=1), bounds)  # row 0: the decision
        x, best, cost_x = improve(stacked_costs(problems), X, moves, cfg.search_rounds)
        target = centers[x]
        regret = np.log(cost_x[:, 0] / best)
        loss = torch.nn.functional.mse_loss(mu, torch.from_numpy(target.astype(np.float32)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(float(-regret.mean()))
        with torch.no_grad():
            decisions[u] = to_tiers(actor(own)[0].numpy().astype(np.float64), bounds)
        seconds[u] = time.perf_counter() - t0
        if u % 50 == 0:
            bar.set_postfix(reward=f"{curve[-1]:.4f}", refresh=False)
    meta = {
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "train_s": time.perf_counter() - t0 + t_probe,  # not the one-time import torch.optim does on first use
        "updates": cfg.updates,
        "episodes": cfg.updates * B,
        "training_curve": curve,
        "seed": seed,
        "trace": improvements(problem.evaluate(decisions).cost, seconds, (np.arange(cfg.updates) + 1) * B),
        "trace_digest": tables_digest(problem),
    }
    return {"actor": actor, "meta": meta}


@register
class IoRLOCtx(Solver):
    """A contextual IoRLO actor: trained once per model, decides for any network condition."""

    name = "iorlo_ctx"
    Config = IorloCtxConfig
    #: ranges `python -m benchmark.tune` searches (the thresholds are intent, not tuned)
    search_space: ClassVar[dict] = {
        "hidden": {"low": 32, "high": 256, "log": True},
        "contexts": {"low": 8, "high": 64, "log": True},
        "samples": {"low": 0, "high": 32},
        "sigma": {"low": 0.02, "high": 0.5, "log": True},
        "search_rounds": {"low": 1, "high": 5},
        "lr": {"low": 3e-4, "high": 1e-2, "log": True},
        "lr_end": {"low": 1e-5, "high": 1e-3, "log": True},
        "box_share": {"low": 0.0, "high": 1.0},
    }

    def __init__(self, config: IorloCtxConfig | None = None):
        super().__init__(config)
        self._problem: Problem | None = None
        self._trained: dict[str, tuple[NumpyActor, dict, bool, str | None]] = {}

    def _load_or_train(self, problem: Problem, seed: int) -> tuple[NumpyActor, dict, bool, str | None]:
        cfg: IorloCtxConfig = self.config
        n = problem.n_blocks
        n_state = n + len(features(problem))
        key = cache_key(self.name, self._template, cfg, seed)
        if key in self._trained:
            return self._trained[key]
        actor = build_actor(n_state, n, cfg, torch.Generator().manual_seed(seed))
        path, meta = None, None
        if cfg.checkpoint is not None:
            meta, path = load_checkpoint(cfg.checkpoint, FORMAT, {"actor": actor}, META_KEYS), cfg.checkpoint
            check_context(cfg.checkpoint, meta, n_state - n)
        else:
            if cfg.checkpoint_dir is not None:
                path = checkpoint_path(cfg.checkpoint_dir, f"{problem.profile.name}-{problem.kind}-ctx", key)
                if path.exists() and not cfg.retrain:
                    try:
                        meta = load_checkpoint(path, FORMAT, {"actor": actor}, META_KEYS)
                        check_context(path, meta, n_state - n)
                    except CheckpointError:
                        meta = None  # a stale or damaged cache entry: train again and overwrite it
        cached = meta is not None
        if meta is None:
            with torch_threads(1):
                out = train(problem, cfg, seed)
            actor, meta = out["actor"], out["meta"]
            meta["key"] = key
            meta["config"] = asdict(cfg)
            if path is not None:
                save_checkpoint(path, FORMAT, {"actor": actor}, meta)
        entry = (NumpyActor.copy(actor), meta, cached, None if path is None else str(path))
        self._trained[key] = entry
        return entry

    def prepare(self, problem: Problem, rng: np.random.Generator) -> None:
        cfg: IorloCtxConfig = self.config
        seed = training_seed(cfg.seed, rng)
        self._template = template_digest(problem)
        actor, meta, cached, path = self._load_or_train(problem, seed)
        self._actor = actor
        self._mean, self._std = np.array(meta["mean"]), np.array(meta["std"])
        self._bounds = intent_bounds(problem.kind, cfg.eps, cfg.phi, cfg.zeta)
        self._info = {
            "train_s": meta["train_s"],
            "episodes": meta["episodes"],
            "env_steps": meta["episodes"],  # an episode is one decision: one step of the environment
            "updates": meta["updates"],
            "seed": meta["seed"],
            "cached": cached,
            "checkpoint": path,
            "training_curve": meta["training_curve"],
        }
        self._traced = problem if tables_digest(problem) == meta.get("trace_digest") else None
        self._trace = meta.get("trace") if isinstance(meta.get("trace"), list) else None
        self._problem = problem

    @property
    def training_info(self) -> dict:
        """What `prepare` trained or loaded (train_s, cached, checkpoint, ...); empty before."""
        return dict(getattr(self, "_info", {}))

    def _with_trace(self, problem: Problem) -> dict:
        """training_info, with the training trace if it was recorded on `problem`'s condition."""
        info = self.training_info
        if self._trace is None:
            info["trace_note"] = "no training trace: the checkpoint predates them"
        elif problem is self._traced:
            info.update(trace=self._trace, trace_evaluations="episodes of training (one env step each)")
        else:
            info["trace_note"] = "no training trace for this condition: training traced the one it was prepared on"
        return info

    def decide(self, problem: Problem) -> Solution:
        """One inference for `problem`'s network condition, no training: `problem` must have the
        model and scenario (up to the network) of the prepared one."""
        if problem is not self._problem:  # another condition of the same model needs no preparation
            if self._problem is None or template_digest(problem) != self._template:
                raise RuntimeError("iorlo_ctx.decide: prepare on a problem of this model and scenario first")
            self._problem = problem
        action = self._actor(state(problem, self._mean, self._std))
        return Solution(to_tiers(action, self._bounds), self._with_trace(problem))

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        """One inference on this problem's condition: the state is built from the problem."""
        if self._problem is None or (problem is not self._problem and template_digest(problem) != self._template):
            self.prepare(problem, rng)
        return self.decide(problem)
