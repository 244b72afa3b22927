"""Stable-Baselines3 baselines on the partition environment: `sb3_ddpg`, `sb3_td3`,
`sb3_sac`, `sb3_ppo`.

Each trains the library's algorithm with its default hyperparameters (MlpPolicy) in
`prepare` on `partbench/Partition-v0` (`partbench_env.env.PartitionEnv`: IoRLO's state,
Box(0, 1) action through the intent thresholds, reward -cost x `reward_scale`, episodes of
`steps` steps from all-device), for `total_steps` environment steps: `iorlo`'s budget of
200 episodes x 200 steps by default. The decision is the trained policy's deterministic
action on the initial state, thresholded. So the two differ only in the agent: whether
IoRLO's gap to the optimum is DDPG's or its settings' can be read off side by side.

Training is cached per (instance content, config, seed) like `iorlo`'s. A checkpoint
holds only the policy's `state_dict` (loaded with `torch.load(weights_only=True)`) and
JSON metadata, never SB3's own zip archive, whose pickled objects could run code when
loaded. Stable-Baselines3 is imported in `prepare`, so listing solvers stays fast.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from problems import Problem
from problems.errors import FieldError
from problems.schema import POSITIVE, require
from solvers._ddpg import (
    CheckpointError,
    cache_key,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
    tables_digest,
    torch_threads,
    training_seed,
    training_trace,
    validate_thresholds,
)
from solvers._trace import Trace
from solvers.base import Solution, Solver
from solvers.registry import register

FORMAT = "partbench-sb3/1"


@dataclass
class Config:
    total_steps: int = 40_000  # environment steps of training (iorlo: 200 episodes x 200 steps)
    steps: int = 200  # per episode
    reward_scale: float = 0.1
    eps: float = 1 / 3  # MEC: a < eps -> device
    phi: float = 2 / 3  # MEC: a >= phi -> cloud
    zeta: float = 0.4  # D2D: a < zeta -> device
    action_noise: float = 0.1  # DDPG / TD3: Gaussian exploration noise (SB3 has none by default)
    # hidden layers of the actor (PPO: policy) and of the critic (PPO: value) network; both null:
    # SB3's defaults (DDPG / TD3 400, 300; SAC 256, 256; PPO 64, 64); [50] and [30]: iorlo's sizes
    actor_hidden: list[int] | None = None
    critic_hidden: list[int] | None = None
    seed: int | None = None  # training seed; null: drawn from the run's generator
    checkpoint_dir: str | None = "~/.cache/partbench/sb3"  # null: no cache
    checkpoint: str | None = None  # load this file instead of training
    retrain: bool = False  # train even if the cache has this run
    progress: bool = True  # tqdm bar while training

    def validate(self, prefix: str) -> None:
        validate_thresholds(self, prefix)
        require(prefix, self, positive=("total_steps", "steps", "reward_scale"))
        require(prefix, self, non_negative=("action_noise",))
        if (self.actor_hidden is None) != (self.critic_hidden is None):
            raise FieldError(f"{prefix}.critic_hidden" if self.critic_hidden is None else f"{prefix}.actor_hidden",
                             "set both actor_hidden and critic_hidden, or neither", show_value=False)
        for key in ("actor_hidden", "critic_hidden"):
            for i, width in enumerate(getattr(self, key) or []):
                POSITIVE.check(f"{prefix}.{key}[{i}]", width)


class Recorder:
    """Every step's re-scored cost: the best assignment seen, the per-episode mean reward and
    the best-so-far trace over env steps (`solvers._trace`, restarted when training starts)."""

    def __init__(self) -> None:
        self.trace = Trace()
        self.best_cost = np.inf
        self.best: list[int] = []
        self.env_steps = 0
        self.curve: list[float] = []
        self._episode: list[float] = []

    def wrap(self, env):
        import gymnasium as gym

        recorder = self

        class Recording(gym.Wrapper):
            def step(self, action):
                obs, reward, terminated, truncated, info = self.env.step(action)
                recorder.env_steps += 1
                recorder._episode.append(float(reward))
                if info["cost"] < recorder.best_cost:
                    recorder.best_cost, recorder.best = float(info["cost"]), [int(v) for v in info["assignment"]]
                    recorder.trace.record(recorder.env_steps, recorder.best_cost)
                if terminated or truncated:
                    recorder.curve.append(float(np.mean(recorder._episode)))
                    recorder._episode = []
                return obs, reward, terminated, truncated, info

        return Recording(env)


def make_env(problem: Problem, cfg: Config):
    from partbench_env.env import PartitionEnv

    return PartitionEnv(problem, steps=cfg.steps, reward_scale=cfg.reward_scale, eps=cfg.eps, phi=cfg.phi,
                        zeta=cfg.zeta)


def build_model(algo: str, env, cfg: Config, seed: int):
    """The SB3 model with its default hyperparameters, on the CPU, seeded."""
    import stable_baselines3 as sb3
    from stable_baselines3.common.noise import NormalActionNoise

    cls = {"ddpg": sb3.DDPG, "td3": sb3.TD3, "sac": sb3.SAC, "ppo": sb3.PPO}[algo]
    kwargs: dict[str, Any] = {}
    if algo in ("ddpg", "td3") and cfg.action_noise > 0:
        n = env.action_space.shape[0]
        kwargs["action_noise"] = NormalActionNoise(np.zeros(n), np.full(n, cfg.action_noise))
    if cfg.actor_hidden is not None and cfg.critic_hidden is not None:
        critic = "vf" if algo == "ppo" else "qf"
        kwargs["policy_kwargs"] = {"net_arch": {"pi": list(cfg.actor_hidden), critic: list(cfg.critic_hidden)}}
    return cls("MlpPolicy", env, seed=seed % 2**32, device="cpu", verbose=0, **kwargs)  # SB3 takes 32-bit seeds


class SB3Solver(Solver):
    """A Stable-Baselines3 algorithm trained per instance in `prepare`."""

    algo: ClassVar[str] = ""
    Config = Config

    def __init__(self, config: Config | None = None):
        super().__init__(config)
        self._problem: Problem | None = None

    def prepare(self, problem: Problem, rng: np.random.Generator) -> None:
        cfg: Config = self.config
        seed = training_seed(cfg.seed, rng)
        key = cache_key(self.name, tables_digest(problem), cfg, seed)
        env = make_env(problem, cfg)
        with torch_threads(1):
            model = build_model(self.algo, env, cfg, seed)
            path, meta, cached = None, None, False
            if cfg.checkpoint is not None:
                path = cfg.checkpoint
                meta, cached = load_checkpoint(path, FORMAT, {"policy": model.policy}), True
            else:
                if cfg.checkpoint_dir is not None:
                    path = checkpoint_path(cfg.checkpoint_dir, f"{problem.name}-{self.name}", key)
                    if path.exists() and not cfg.retrain:
                        try:
                            meta, cached = load_checkpoint(path, FORMAT, {"policy": model.policy}), True
                        except CheckpointError:
                            meta = None  # a stale or damaged cache entry: train again and overwrite it
                if meta is None:
                    meta = self._train(model, env, cfg, seed)
                    meta.update(key=key, instance=problem.name, config=asdict(cfg))
                    if path is not None:
                        save_checkpoint(path, FORMAT, {"policy": model.policy}, meta)
        self._policy = model.policy
        self._policy.set_training_mode(False)
        obs, _ = env.reset(seed=seed % 2**32)
        self._obs = obs
        self._env = env
        self._info = {
            "algorithm": self.algo,
            "train_s": meta["train_s"],
            "env_steps": meta["env_steps"],
            "best_seen": meta["best_seen"],
            "best_seen_cost": meta["best_seen_cost"],
            "training_curve": meta["training_curve"],
            "seed": meta["seed"],
            "cached": cached,
            "checkpoint": None if path is None else str(path),
            "trained_on": meta.get("instance"),  # best_seen refers to this instance
            **training_trace(meta, key),
        }
        self._problem = problem

    def _train(self, model, env, cfg: Config, seed: int) -> dict[str, Any]:
        recorder = Recorder()
        model.set_env(recorder.wrap(env))
        recorder.trace = Trace()  # seconds count from here, as train_s does
        t0 = time.perf_counter()
        model.learn(total_timesteps=cfg.total_steps, progress_bar=False,
                    callback=_progress(cfg, f"{self.name} {env.problem.name}"))
        return {"train_s": time.perf_counter() - t0, "env_steps": recorder.env_steps,
                "best_seen": recorder.best, "best_seen_cost": recorder.best_cost,
                "training_curve": recorder.curve, "seed": seed, "trace": recorder.trace.points()}

    @property
    def training_info(self) -> dict:
        """What `prepare` trained or loaded (train_s, env_steps, cached, best_seen, ...); empty before."""
        return dict(getattr(self, "_info", {}))

    def decide(self, problem: Problem) -> Solution:
        """The policy's deterministic action on the initial state, through the thresholds: one inference."""
        if problem is not self._problem:
            raise RuntimeError(f"{self.name}.decide: prepare this problem first (it trains per instance)")
        with torch.no_grad():
            action, _ = self._policy.predict(self._obs, deterministic=True)
        return Solution(self._env.mdp.decode(np.asarray(action, dtype=np.float64)), self.training_info)

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        if problem is not self._problem:
            self.prepare(problem, rng)
        return self.decide(problem)


def _progress(cfg: Config, desc: str):
    """A tqdm bar over environment steps (an SB3 callback), or None."""
    if not cfg.progress:
        return None
    from stable_baselines3.common.callbacks import BaseCallback
    from tqdm.auto import tqdm

    class Bar(BaseCallback):
        def _on_training_start(self) -> None:
            self.bar = tqdm(total=cfg.total_steps, desc=desc, leave=False, unit="step")

        def _on_step(self) -> bool:
            self.bar.update(self.training_env.num_envs)
            return True

        def _on_training_end(self) -> None:
            self.bar.close()

    return Bar()


@register
class SB3DDPG(SB3Solver):
    name = "sb3_ddpg"
    algo = "ddpg"


@dataclass
class SmallNetsConfig(Config):
    actor_hidden: list[int] | None = field(default_factory=lambda: [50])  # iorlo's actor_hidden
    critic_hidden: list[int] | None = field(default_factory=lambda: [30])  # iorlo's critic_hidden


@register
class SB3DDPGSmall(SB3Solver):
    """SB3's DDPG with iorlo's network sizes (one hidden layer: actor 50, critic 30), the rest
    SB3's defaults and noise 0.1: the same algorithm and networks as iorlo, other settings.
    About five times as fast per step as `sb3_ddpg`'s 400 x 300 networks."""

    name = "sb3_ddpg_small"
    algo = "ddpg"
    Config = SmallNetsConfig


@register
class SB3TD3(SB3Solver):
    name = "sb3_td3"
    algo = "td3"


@register
class SB3SAC(SB3Solver):
    name = "sb3_sac"
    algo = "sac"


@register
class SB3PPO(SB3Solver):
    name = "sb3_ppo"
    algo = "ppo"
