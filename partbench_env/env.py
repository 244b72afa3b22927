"""`partbench/Partition-v0`: the partition problem as a Gymnasium environment.

    env = gymnasium.make("partbench/Partition-v0", instance="alexnet.json")  # or a Problem
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

The MDP is IoRLO's (`partbench_env.core`): observation Box(0, 1, (n,)) float32, the
per-block cost of the current partition; action Box(0, 1, (n,)) through the intent
thresholds, or with `action_space="multidiscrete"` one tier per block; reward
-cost x `reward_scale`; `steps` steps per episode from all-device, ending in truncation
(the task has no terminal state). `info` carries the problem's re-scoring of the new
partition: latency_ms, energy_j, deploy, cost and the assignment. The dynamics are
deterministic; `reset(seed=...)` seeds `np_random` for wrappers and agents that use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from partbench_env.core import EPS, PHI, ZETA, Partition, Settings
from problems import Problem
from problems.instance import load_instance

ACTION_SPACES = ("box", "multidiscrete")


class PartitionEnv(gym.Env):
    """IoRLO's state, action and reward on one partition instance."""

    metadata = {"render_modes": []}  # noqa: RUF012 - Gymnasium's class attribute

    def __init__(self, instance: Problem | str | Path, steps: int = 200, reward_scale: float = 0.1,
                 action_space: str = "box", eps: float = EPS, phi: float = PHI, zeta: float = ZETA):
        problem = instance if isinstance(instance, Problem) else load_instance(instance)
        if action_space not in ACTION_SPACES:
            raise ValueError(f"action_space: expected one of {list(ACTION_SPACES)}, got {action_space!r}")
        self.mdp = Partition(problem, Settings(steps=int(steps), reward_scale=float(reward_scale),
                                               eps=eps, phi=phi, zeta=zeta))
        n, k = self.mdp.n_blocks, self.mdp.n_tiers
        self.discrete = action_space == "multidiscrete"
        self.observation_space = spaces.Box(0.0, 1.0, (n,), dtype=np.float32)
        self.action_space = (spaces.MultiDiscrete(np.full(n, k)) if self.discrete
                             else spaces.Box(0.0, 1.0, (n,), dtype=np.float32))
        self._assignment = self.mdp.start()
        self._t = 0

    @property
    def problem(self) -> Problem:
        return self.mdp.problem

    def _obs(self) -> np.ndarray:
        return self.mdp.observe(self._assignment).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._assignment = self.mdp.start()
        self._t = 0
        ev = self.mdp.score(self._assignment[None, :])
        return self._obs(), self.mdp.info(ev, 0, self._assignment)

    def step(self, action):
        a = np.asarray(action)
        if a.shape != (self.mdp.n_blocks,):
            raise ValueError(f"action: expected shape ({self.mdp.n_blocks},), got {a.shape}")
        if self.discrete:
            if not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= self.mdp.n_tiers:
                raise ValueError(f"action: expected tiers in 0..{self.mdp.n_tiers - 1}")
            x = a.astype(np.intp)
        else:
            if not np.all(np.isfinite(a)):
                raise ValueError("action: not finite")
            x = self.mdp.decode(a.astype(np.float64))
        ev = self.mdp.score(x[None, :])
        self._assignment = x
        self._t += 1
        reward = float(self.mdp.reward(float(ev.cost[0])))
        return self._obs(), reward, False, self._t >= self.mdp.settings.steps, self.mdp.info(ev, 0, x)
