"""Solvers that exist only for the sweep and report tests, loaded with `plugins=[sweep_solvers]`.

`test_crash` raises, `test_exit` kills its own process, `test_sleep` never finishes in time
(and starts a grandchild, to show that a timeout stops the whole process group), and
`test_learner` reports a training curve like a learning solver.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from problems import Problem
from solvers import Solution, Solver, register


@register
class Crash(Solver):
    name = "test_crash"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        raise RuntimeError("boom")


@register
class Exit(Solver):
    name = "test_exit"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        os._exit(3)


PID_FILE = "SWEEP_SOLVERS_PID_FILE"  # environment: where test_sleep writes "<own pid> <grandchild pid>"


@dataclass
class SleepConfig:
    seconds: float = 60.0


@register
class Sleep(Solver):
    name = "test_sleep"
    Config = SleepConfig

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        child = subprocess.Popen(["sleep", str(self.config.seconds)])
        if os.environ.get(PID_FILE):
            Path(os.environ[PID_FILE]).write_text(f"{os.getpid()} {child.pid}\n")
        time.sleep(self.config.seconds)
        return Solution(problem.fixed(0))


@register
class Learner(Solver):
    name = "test_learner"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        curve = [-100.0 / (1 + i) for i in range(20)]
        return Solution(problem.fixed(0), {"training_curve": curve})
