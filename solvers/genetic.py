"""`genetic`: a generational genetic algorithm over assignments.

One module of its own rather than pymoo or DEAP: DEAP evolves Python lists one
individual at a time, far from a 50 ms decision, and pymoo would be a new dependency
for a dozen lines of operators. Here every operator is a numpy expression on the
whole population ([pop, n] int8 tiers) and each generation is one batched
`problem.evaluate` call.

A generation: tournament selection, crossover (two-point by default: it keeps runs of
blocks on one tier together, the shape good partitions have, or uniform), per-gene
mutation to a different tier, a run mutation (a random run of blocks set to one tier:
it moves a partition boundary by several blocks at once, which single-gene mutation
cannot do without passing through costly back-and-forth transfers), redrawing of
children that duplicate the elite or each other (keeps diversity in small spaces), and
elitism (the best `elite` survive unchanged). The run stops after `generations` or when
the best cost has not improved for `patience` generations. With `seed_uniform` the first
population holds the k single-tier assignments (device-only, edge-only, ...), the
baselines every method is compared to; the rest is uniform random.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from problems import Problem
from problems.errors import FieldError
from problems.schema import bounded
from solvers._fleet import searchable
from solvers._trace import Trace
from solvers.base import Solution, Solver
from solvers.registry import register


@dataclass
class GeneticConfig:
    population: int = bounded(128, ge=2)
    generations: int = bounded(100, ge=0)  # at most this many generations after the first population
    patience: int = bounded(20, ge=0)  # stop after this many generations without improvement
    elite: int = 4  # best individuals copied unchanged into the next generation
    tournament: int = 3  # tournament size of parent selection
    crossover: Literal["two_point", "uniform"] = "two_point"
    crossover_rate: float = bounded(0.9, ge=0, le=1)  # share of parent pairs that cross over (the rest are copied)
    mutation_rate: float | None = bounded(None, ge=0, le=1)  # per-gene probability; null: 1 / n_blocks
    seed_uniform: bool = True  # start with the single-tier assignments in the population
    segment_rate: float = bounded(0.2, ge=0, le=1)  # share of children whose random run of blocks is set to one tier
    dedupe: bool = True  # children that copy a member of the population are redrawn at random

    def validate(self, prefix: str) -> None:
        if not 0 <= self.elite < self.population:
            raise FieldError(f"{prefix}.elite", "must lie in 0..population-1", self.elite)
        if not 1 <= self.tournament <= self.population:
            raise FieldError(f"{prefix}.tournament", "must lie in 1..population", self.tournament)

    def max_evaluations(self) -> int:
        """Evaluations of a run that never stops early."""
        return self.population + self.generations * (self.population - self.elite)


def _tournament(rng: np.random.Generator, cost: np.ndarray, count: int, size: int) -> np.ndarray:
    """Indices of `count` parents, each the cheapest of `size` drawn with replacement."""
    draws = rng.integers(0, cost.size, (count, size))
    return draws[np.arange(count), np.argmin(cost[draws], axis=1)]


def _crossover(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, kind: str, rate: float) -> np.ndarray:
    """Two children per parent pair (a[j], b[j]), stacked as [2 * pairs, n]."""
    pairs, n = a.shape
    if kind == "two_point":
        cuts = np.sort(rng.integers(0, n + 1, (pairs, 2)), axis=1)
        pos = np.arange(n)[None, :]
        swap = (pos >= cuts[:, :1]) & (pos < cuts[:, 1:])
    else:
        swap = rng.random((pairs, n)) < 0.5
    swap &= (rng.random(pairs) < rate)[:, None]
    return np.vstack([np.where(swap, b, a), np.where(swap, a, b)])


def _mutate(rng: np.random.Generator, X: np.ndarray, k: int, rate: float) -> np.ndarray:
    """Each gene moves to one of the other k-1 tiers with probability `rate`."""
    hit = rng.random(X.shape) < rate
    shift = rng.integers(1, k, X.shape, dtype=np.int8)
    return np.where(hit, (X + shift) % k, X).astype(np.int8)


def _segment(rng: np.random.Generator, X: np.ndarray, k: int, rate: float) -> np.ndarray:
    """With probability `rate` per row, set a random run of blocks to one random tier."""
    m, n = X.shape
    cuts = np.sort(rng.integers(0, n + 1, (m, 2)), axis=1)
    pos = np.arange(n)[None, :]
    run = (pos >= cuts[:, :1]) & (pos < cuts[:, 1:]) & (rng.random(m) < rate)[:, None]
    tier = rng.integers(0, k, (m, 1), dtype=np.int8)
    return np.where(run, tier, X).astype(np.int8)


def _redraw_duplicates(rng: np.random.Generator, kids: np.ndarray, elite: np.ndarray, k: int) -> np.ndarray:
    """Replace children equal to an elite or an earlier child by uniform random rows."""
    both = np.vstack([elite, kids])
    _, first = np.unique(both, axis=0, return_index=True)
    dup = np.ones(both.shape[0], dtype=bool)
    dup[first] = False
    dup = dup[elite.shape[0]:]
    if dup.any():
        kids = kids.copy()
        kids[dup] = rng.integers(0, k, (int(dup.sum()), kids.shape[1]), dtype=np.int8)
    return kids


def initial_population(rng: np.random.Generator, size: int, n: int, k: int, seed_uniform: bool) -> np.ndarray:
    X = rng.integers(0, k, (size, n), dtype=np.int8)
    if seed_uniform:
        m = min(k, size)
        X[:m] = np.arange(m, dtype=np.int8)[:, None]
    return X


@register
class Genetic(Solver):
    name = "genetic"
    Config = GeneticConfig

    fleets = True  # on the joint assignment, through the fleet's flat search view

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        problem, answer = searchable(problem)
        cfg = self.config
        n, k = problem.n_blocks, problem.n_tiers
        rate = cfg.mutation_rate if cfg.mutation_rate is not None else 1.0 / n
        trace = Trace()
        X = initial_population(rng, cfg.population, n, k, cfg.seed_uniform)
        cost = problem.evaluate(X).cost
        trace.record_batch(0, cost)
        evaluations = X.shape[0]
        best = float(cost.min())
        stale, generation = 0, 0
        n_children = cfg.population - cfg.elite
        pairs = (n_children + 1) // 2
        while generation < cfg.generations and stale < cfg.patience:
            generation += 1
            parents = _tournament(rng, cost, 2 * pairs, cfg.tournament)
            kids = _crossover(rng, X[parents[:pairs]], X[parents[pairs:]], cfg.crossover, cfg.crossover_rate)
            kids = _mutate(rng, kids[:n_children], k, rate)
            kids = _segment(rng, kids, k, cfg.segment_rate)
            keep = np.argsort(cost, kind="stable")[: cfg.elite]
            if cfg.dedupe:
                kids = _redraw_duplicates(rng, kids, X[keep], k)
            kid_cost = problem.evaluate(kids).cost
            trace.record_batch(evaluations, kid_cost)
            evaluations += kids.shape[0]
            X = np.vstack([X[keep], kids])
            cost = np.concatenate([cost[keep], kid_cost])
            now = float(cost.min())
            if now < best:
                best, stale = now, 0
            else:
                stale += 1
        j = int(np.argmin(cost))
        info = {
            "value": float(cost[j]),
            "generations": generation,
            "iterations": generation,
            "evaluations": evaluations,
            "stopped": "stagnation" if stale >= cfg.patience and generation < cfg.generations else "generations",
            "status": "heuristic",
            "trace": trace.points(),
        }
        return Solution(answer(X[j].astype(np.int64)), info)
