"""`Problem`: the encoding, the batched scorer and the cost structure of one instance.

Following pymoo's `Problem`, the problem owns the encoding (an int vector of tiers per
block) and a batched `evaluate(X[pop, n])`; solvers stay thin. Scoring reads the tables
of `problems.tables` through the scorers of `problems.scoring` only. Large chain
populations go through group tables: the chain is cut into groups of g blocks, every tier
pattern of a group (with the tier of the block before it) is scored once by the same
chain walk, and an assignment's value is a handful of row lookups instead of one per block.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from problems.errors import ProblemError
from problems.profile import Profile
from problems.scenario import Scenario
from problems.scoring import Stack, chain_walk, dag_sum
from problems.structure import check_finite, check_structure
from problems.tables import COMPONENTS, ChainTables, CostTables, build_tables

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
        check_structure(profile, scenario)
        self.profile = profile
        self.scenario = scenario
        self.name = name or profile.name
        with np.errstate(over="ignore", invalid="ignore"):
            self.chain: ChainTables = build_tables(profile, scenario)
        self.cost_tables: CostTables = self.chain.cost_view()
        check_finite(self.chain, profile, scenario, self.cost_tables)  # finite inputs whose costs overflow are refused

    def with_scenario(self, scenario: Scenario, name: str | None = None) -> Problem:
        """The same model under another scenario (e.g. other network conditions)."""
        return Problem(self.profile, scenario, name=name or self.name)

    def with_network(self, network, name: str | None = None) -> Problem:
        """The same model and tiers under the links of `network` (a `problems.presets.Network`)."""
        return self.with_scenario(self.scenario.with_network(network), name=name)

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

    @property
    def is_dag(self) -> bool:
        """Whether scoring needs the DAG data flow (a chain written with explicit inputs does not)."""
        return self.chain.dag is not None

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
    @cached_property
    def _stack(self) -> Stack:
        return Stack.of_components(self.chain)

    def evaluate(self, X) -> Evaluation:
        """Score a population of assignments [pop, n] (or one assignment [n])."""
        X = self.check(X)
        if self.is_dag:
            comps = dag_sum(self._stack, X[None])[0]  # any integer dtype: no [pop, n] intp copy
        elif X.shape[0] >= GROUPED_MIN_POP:
            comps = self._evaluate_grouped(X)
        else:
            comps = chain_walk(self._stack, X.astype(np.intp, copy=False)[None])[0][0]
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
            acc, reach = chain_walk(self._stack, pats[None, :, 1:], a, pats[None, :, 0])
            rows.append(np.vstack([acc[0], reach]))
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

    # -- structure for structured solvers --------------------------------------
    def fixed(self, tier: int) -> np.ndarray:
        """The assignment that places every block on one tier."""
        return np.full(self.n_blocks, tier, dtype=np.intp)

    def component_names(self) -> tuple[str, ...]:
        return COMPONENTS
