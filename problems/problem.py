"""`Problem`: the encoding, the batched scorer and the chain structure of one instance.

Following pymoo's `Problem`, the problem owns the encoding (an int vector of tiers per
block) and a batched `evaluate(X[pop, n])`; solvers stay thin. Scoring reads the chain
tables of `problems.chain` only. Large populations go through group tables: the
chain is cut into groups of g blocks, every tier pattern of a group (with the tier of
the block before it) is scored once by the same chain walk, and an assignment's
value is a handful of row lookups instead of one per block.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from problems.chain import COMPONENTS, ChainTables, CostTables, build_chain
from problems.errors import ProblemError
from problems.profile import Profile
from problems.scenario import Scenario

#: populations at least this large use the group tables
GROUPED_MIN_POP = 16
#: upper bound on the rows of one group table (k^(g+1))
GROUP_PATTERNS = 729
#: rows scored at once by the group tables
CHUNK = 1 << 15


@dataclass(frozen=True)
class Evaluation:
    """Per-assignment latency (ms), device energy (J), deploy share and weighted cost."""

    latency_ms: np.ndarray
    energy_j: np.ndarray
    deploy: np.ndarray
    cost: np.ndarray

    def row(self, j: int = 0) -> dict[str, float]:
        return {f: float(getattr(self, f)[j]) for f in ("latency_ms", "energy_j", "deploy", "cost")}


def _walk(ct: ChainTables, X: np.ndarray, start: int, prev: np.ndarray, pending_exit: bool):
    """Walk blocks start..start+X.shape[1]-1 for every row of X.

    `prev` holds the tier of block start-1 (the device for start = 0). With
    `pending_exit` the exit decision after block start-1 is made here. Returns the
    (T, E, D) sums [3, pop] relative to the reach at entry, and the surviving reach.
    """
    pop, width = X.shape
    n = ct.n
    acc = np.zeros((3, pop))
    reach = np.ones(pop)
    if pending_exit and ct.has_exits:
        boundary = X[:, 0] != prev
        acc += boundary * ct.exit[:, start - 1, prev]
        reach = np.where(boundary, ct.keep[start - 1], 1.0)
    for j in range(width):
        i = start + j
        s = X[:, j]
        acc += reach * (ct.unary[:, i, s] + ct.trans[:, i, prev, s])
        if ct.has_exits and j + 1 < width:
            boundary = X[:, j + 1] != s
            acc += (boundary * reach) * ct.exit[:, i, s]
            reach = np.where(boundary, reach * ct.keep[i], reach)
        prev = s
    if start + width == n:
        acc += reach * ct.final[:, prev]
    return acc, reach


@dataclass(frozen=True, eq=False)
class _Groups:
    bounds: list[tuple[int, int]]
    offsets: np.ndarray  # [G] first row of each group's table
    rows: np.ndarray  # [4, sum of patterns] (T, E, D, survival) per pattern


class Problem:
    """One partition instance: a profile on a scenario, scored as the spec says."""

    def __init__(self, profile: Profile, scenario: Scenario, name: str | None = None):
        if profile.n_blocks == 0:
            raise ProblemError("blocks: the block list is empty")
        self.profile = profile
        self.scenario = scenario
        self.name = name or profile.name
        self.chain: ChainTables = build_chain(profile, scenario)

    # -- encoding -------------------------------------------------------------
    @property
    def n_blocks(self) -> int:
        return self.profile.n_blocks

    @property
    def n_tiers(self) -> int:
        return self.scenario.n_tiers

    @property
    def tier_names(self) -> list[str]:
        return [t.name for t in self.scenario.tiers]

    @property
    def kind(self) -> str:
        return self.scenario.kind

    @cached_property
    def cost_tables(self) -> CostTables:
        return self.chain.cost_view()

    def check(self, X) -> np.ndarray:
        """X as a 2-D intp array of valid tiers, or a ProblemError saying what is wrong."""
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_blocks:
            raise ProblemError(f"assignment: expected shape [pop, {self.n_blocks}], got {list(X.shape)}")
        if X.size and not np.issubdtype(X.dtype, np.integer):
            raise ProblemError(f"assignment: expected integer tiers, got dtype {X.dtype}")
        if X.size and (X.min() < 0 or X.max() >= self.n_tiers):  # one pass each
            raise ProblemError(f"assignment: tiers must lie in 0..{self.n_tiers - 1}")
        return X

    # -- scoring --------------------------------------------------------------
    def evaluate(self, X) -> Evaluation:
        """Score a population of assignments [pop, n] (or one assignment [n])."""
        X = self.check(X)
        if X.shape[0] >= GROUPED_MIN_POP:
            comps = self._evaluate_grouped(X)
        else:
            prev = np.zeros(X.shape[0], dtype=np.intp)
            comps, _ = _walk(self.chain, X.astype(np.intp, copy=False), 0, prev, False)
        cost = self.chain.weights @ comps
        return Evaluation(comps[0], comps[1], comps[2], cost)

    def score(self, assignment) -> dict[str, float]:
        """latency_ms, energy_j, deploy and cost of one assignment."""
        return self.evaluate(np.asarray(assignment)[None, :]).row(0)

    @cached_property
    def _groups(self) -> _Groups:
        n, k = self.n_blocks, self.n_tiers
        g = 1
        while k ** (g + 2) <= GROUP_PATTERNS and g < n:
            g += 1
        bounds = [(a, min(a + g, n)) for a in range(0, n, g)]
        offsets, rows, base = [], [], 0
        for a, b in bounds:
            w = b - a
            # pattern code = prev + k * S_a + k^2 * S_{a+1} + ...
            pats = np.indices((k,) * (w + 1)).reshape(w + 1, -1)[::-1].T.astype(np.intp)
            prev = pats[:, 0] if a > 0 else np.zeros(len(pats), dtype=np.intp)
            acc, reach = _walk(self.chain, pats[:, 1:], a, prev, pending_exit=a > 0)
            rows.append(np.vstack([acc, reach]))
            offsets.append(base)
            base += len(pats)
        return _Groups(bounds, np.array(offsets, dtype=np.intp), np.hstack(rows))

    def _evaluate_grouped(self, X: np.ndarray) -> np.ndarray:
        comps = np.empty((3, X.shape[0]))
        for lo in range(0, X.shape[0], CHUNK):  # chunks keep the working set in cache
            comps[:, lo : lo + CHUNK] = self._evaluate_chunk(X[lo : lo + CHUNK])
        return comps

    def _evaluate_chunk(self, X: np.ndarray) -> np.ndarray:
        grp, k = self._groups, self.n_tiers
        Xt = np.ascontiguousarray(X.astype(np.int8, copy=False).T).astype(np.int16)  # [n, pop]
        pop = X.shape[0]
        comps = np.zeros((3, pop))
        reach = np.ones(pop) if self.chain.has_exits else None
        for (a, b), off in zip(grp.bounds, grp.offsets, strict=True):
            code = Xt[a] * np.int16(k)
            for t in range(a + 1, b):
                code += Xt[t] * np.int16(k ** (t - a + 1))
            if a > 0:
                code += Xt[a - 1]
            idx = code.astype(np.intp)
            idx += off
            for c in range(3):
                part = np.take(grp.rows[c], idx)
                comps[c] += part if reach is None else part * reach
            if reach is not None:
                reach *= np.take(grp.rows[3], idx)
        return comps

    # -- chain structure for structured solvers --------------------------------
    def fixed(self, tier: int) -> np.ndarray:
        """The assignment that places every block on one tier."""
        return np.full(self.n_blocks, tier, dtype=np.intp)

    def component_names(self) -> tuple[str, ...]:
        return COMPONENTS
