"""IoRLO's partition MDP on one `Problem`, without Gymnasium: the one place its logic lives.

State. The per-block cost vector of the current partition: block i's compute latency
on its tier plus, on the device, `w_energy` x its device energy (no transfers, no
deployment share), min-max normalized over the table of every (block, tier) value so
that states of different partitions stay comparable (paper Sec. 4.2.1). Every episode
starts with all blocks on the device.

Action. One value in [0, 1] per block, turned into tiers by the intent thresholds of
spec section 7; or, in the discrete variant, one tier per block directly.

Reward. -cost x `reward_scale`, the cost being the problem's own scoring
(`Problem.evaluate`) of the new partition, which is also the next state.

`partbench_env.env.PartitionEnv` exposes this as a Gymnasium environment; the IoRLO
trainers step many `Partition`s at once through the same functions and score their
transitions in batches (`score`), which is what makes training fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from problems import Evaluation, Problem

#: spec section 7 defaults
EPS, PHI, ZETA = 1 / 3, 2 / 3, 0.4


def intent_bounds(kind: str, eps: float = EPS, phi: float = PHI, zeta: float = ZETA) -> np.ndarray:
    """Sorted action boundaries: tier = number of boundaries <= a."""
    return np.array([eps, phi] if kind == "mec" else [zeta], dtype=np.float64)


def to_tiers(action: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """MEC: a < eps device, eps <= a < phi edge, a >= phi cloud; D2D: a < zeta device.

    `bounds` is [J] for any action shape, or [..., 1, J] stacked per row of `action`
    (pad with +inf where a row has fewer tiers).
    """
    return (np.asarray(action)[..., None] >= bounds).sum(-1, dtype=np.intp)


def state_table(problem: Problem) -> np.ndarray:
    """[n, k] normalized per-block cost of each (block, tier): the paper's state entries."""
    chain = getattr(problem, "chain", None)
    if chain is None:
        raise ValueError(f"instance {problem.name!r}: the partition environment needs per-block chain tables")
    cost = chain.block_cost()  # latency + w_energy x energy, by the problem's tables
    lo, hi = cost.min(), cost.max()
    return (cost - lo) / (hi - lo) if hi > lo else np.zeros_like(cost)


def observe(table: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    """The state of a partition: table [..., n, k] read at assignment [..., n]."""
    return np.take_along_axis(table, assignment[..., None], -1)[..., 0]


@dataclass(frozen=True)
class Settings:
    """What defines the MDP besides the problem."""

    steps: int = 200  # per episode
    reward_scale: float = 0.1
    eps: float = EPS
    phi: float = PHI
    zeta: float = ZETA


class Partition:
    """IoRLO's MDP on one problem: states, thresholds, scoring and rewards."""

    def __init__(self, problem: Problem, settings: Settings | None = None):
        self.problem = problem
        self.settings = settings or Settings()
        if self.settings.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.settings.steps}")
        self.n_blocks, self.n_tiers = problem.n_blocks, problem.n_tiers
        self.table = state_table(problem)
        self.bounds = intent_bounds(problem.kind, self.settings.eps, self.settings.phi, self.settings.zeta)

    def start(self) -> np.ndarray:
        """Every episode starts with all blocks on the device."""
        return np.zeros(self.n_blocks, dtype=np.intp)

    def observe(self, assignment: np.ndarray) -> np.ndarray:
        """The state of a partition (float64 in [0, 1], one entry per block)."""
        return observe(self.table, assignment)

    def decode(self, action: np.ndarray) -> np.ndarray:
        """A continuous action through the intent thresholds."""
        return to_tiers(action, self.bounds)

    def score(self, X: np.ndarray) -> Evaluation:
        """The problem's own scoring of assignments X [pop, n]."""
        return self.problem.evaluate(X)

    def reward(self, cost: np.ndarray | float) -> np.ndarray | float:
        return -cost * self.settings.reward_scale

    def info(self, evaluation: Evaluation, j: int, assignment: np.ndarray) -> dict:
        """The re-scored metrics of row j and its assignment."""
        return {**evaluation.row(j), "assignment": np.array(assignment, dtype=np.int64)}
