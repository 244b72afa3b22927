"""Instances for the solver tests: the paper's models and seeded random chains."""

from __future__ import annotations

import itertools

import numpy as np

from problems import Problem
from problems.build import make_scenario
from problems.paper import PAPER_MODELS, paper_profile
from problems.profile import Block, Profile
from problems.scenario import EarlyExit

KINDS = ("mec", "d2d")
PRESETS = ("5g_avg", "5g_worst", "5g_best")


def scenario(kind: str, network: str = "5g_avg", early_exit: EarlyExit | None = None):
    ee = early_exit or EarlyExit()
    return make_scenario(kind, network, early_exit={"enabled": ee.enabled, "num_classes": ee.num_classes})


def paper_problem(model: str, kind: str = "mec", network: str = "5g_avg") -> Problem:
    return Problem(paper_profile(model), scenario(kind, network), name=f"{model}-{kind}-{network}")


def paper_problems(presets=("5g_avg",), kinds=KINDS) -> list[Problem]:
    return [paper_problem(m, k, p) for m in PAPER_MODELS for p in presets for k in kinds]


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, size=None):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def chain_problem(n: int, seed: int = 0, kind: str = "mec") -> Problem:
    """A long chain with the paper's networks and device-scale costs (for sizing runs)."""
    rng = np.random.default_rng(seed)
    sizes = _log_uniform(rng, 1.0, 2000.0, n + 1)
    lat = _log_uniform(rng, 0.1, 30.0, n)
    eng = _log_uniform(rng, 1e-3, 0.5, n)
    blocks = tuple(Block(f"b{i}", float(sizes[i]), float(sizes[i + 1]), latency_ms=float(lat[i]),
                         energy_j=float(eng[i])) for i in range(n))
    return Problem(Profile(f"chain{n}", blocks), scenario(kind), name=f"chain{n}-{kind}")


def all_assignments(n: int, tiers) -> np.ndarray:
    """Every assignment of n blocks over `tiers`, one per row."""
    return np.array(list(itertools.product(tiers, repeat=n)), dtype=np.int64).reshape(-1, n)


def brute_optimum(problem: Problem) -> float:
    """The optimal expected cost by scoring every assignment."""
    return float(problem.evaluate(all_assignments(problem.n_blocks, range(problem.n_tiers))).cost.min())
