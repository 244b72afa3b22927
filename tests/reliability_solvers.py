"""Solvers for the reliability tests, loaded with `plugins=[reliability_solvers]`.

`test_sys_exit` calls `sys.exit(0)` in `solve`, `test_cycle` reports an info dict that
holds itself, `test_nap` writes its process id to `$RELIABILITY_PID_DIR/<seed>.pid`
and sleeps (the job a test kills), `test_hang` starts a grandchild and never returns.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from problems import Problem
from solvers import Solution, Solver, register

PID_DIR = "RELIABILITY_PID_DIR"


@register
class SysExit(Solver):
    name = "test_sys_exit"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        sys.exit(0)


@register
class Cycle(Solver):
    name = "test_cycle"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        info: dict = {"note": "holds itself"}
        info["self"] = info
        loop: list = [1]
        loop.append(loop)
        info["loop"] = loop
        return Solution(problem.fixed(0), info)


@dataclass
class NapConfig:
    seconds: float = 0.0
    tag: int = 0  # which job this is (the name of its pid file)


@register
class Nap(Solver):
    name = "test_nap"
    Config = NapConfig

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        folder = os.environ.get(PID_DIR)
        if folder:
            Path(folder, f"{self.config.tag}.pid").write_text(str(os.getpid()))
        time.sleep(self.config.seconds)
        return Solution(problem.fixed(0))


@register
class Hang(Solver):
    name = "test_hang"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        child = subprocess.Popen(["sleep", "600"])
        folder = os.environ.get(PID_DIR)
        if folder:
            Path(folder, "hang.pid").write_text(f"{os.getpid()} {child.pid}")
        time.sleep(600)
        return Solution(problem.fixed(0))
