"""The solver interface: a name, a config dataclass, optional `prepare`, timed `solve`.

`prepare(problem, rng)` is work done once before deciding (training, tuning); the
runner records its wall time as `prepare_s`. `solve(problem, rng)` is the decision a
deployment makes each time conditions change, and only it is timed. A solver that
cannot handle a problem raises `Unsupported` with a one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from problems import Problem


class Unsupported(Exception):  # noqa: N818 - reads as a status, like StopIteration
    """The solver cannot handle this problem; the message says why."""


@dataclass
class Solution:
    assignment: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class NoConfig:
    """For solvers without parameters."""


class Solver:
    """Base class; subclasses set `name` and `Config` and implement `solve`."""

    name: ClassVar[str] = ""
    Config: ClassVar[type] = NoConfig
    #: whether the solver decides fleets (spec section 13); the others refuse them
    fleets: ClassVar[bool] = False

    def __init__(self, config: Any = None):
        self.config = config if config is not None else self.Config()

    def check_supported(self, problem: Problem) -> None:
        """Unsupported (one line) when the solver cannot decide this kind of problem."""
        if getattr(problem, "problem_class", None) == "fleet" and not self.fleets:
            raise Unsupported(f"{self.name} decides one user's chain; fleets (spec section 13) are decided by "
                              "independent, greedy, lagrangian, ilp, genetic, random_search and the fixed policies")

    def prepare(self, problem: Problem, rng: np.random.Generator) -> None:
        """Work done once per problem before deciding (not timed as decision)."""

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        raise NotImplementedError
