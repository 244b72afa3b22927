"""The cost tables of a partition problem: every formula of the spec, once.

An assignment's expected (T, E, D) is a sum of table entries. On a chain:

    reach = 1; prev = device
    for i in blocks:
        acc += reach * (unary[:, i, S_i] + trans[:, i, prev, S_i])
        if i < n-1:
            acc += reach * pay[:, i, S_i, S_{i+1}];  reach *= gain[i, S_i, S_{i+1}]
        prev = S_i
    acc += reach * final[:, prev]

Component axis 0 is (T ms, E J, D). `unary` is compute (+ the deploy share), with
`compute[i, s]` the block's compute time alone (the server load of spec section 13);
`trans[:, 0, p, s]` is the move of the raw input from the device, the same for every
`p`. `pay` and `gain` are the early-exit rule of spec section 6, written only here: at
a tier change after block i the exit branch is paid and the reach scaled by 1 - h_i;
without exits (or on the diagonal) `pay` is 0 and `gain` 1.

A DAG (spec section 12) keeps `unary` and `final` and replaces `trans` by the moves of
each producer's output (`DagTables.send[:, u, p, t]`, paid once per destination tier)
and of the raw input (`DagTables.raw[:, t]`). `Problem.evaluate`, the DP, exhaustive
search, the ILP and every stacked scorer read these tables, so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from problems.layers import KB, predict
from problems.profile import Profile
from problems.scenario import Scenario

COMPONENTS = ("latency_ms", "energy_j", "deploy")


def fold(w: np.ndarray, table: np.ndarray) -> np.ndarray:
    """`np.tensordot(w, table, axes=1)`, bit for bit (the same single dot call), without
    tensordot's argument handling, which dominated building small problems."""
    return np.dot(w.reshape(1, -1), table.reshape(table.shape[0], -1)).reshape(table.shape[1:])


@dataclass(frozen=True, eq=False)
class DagTables:
    """The data flow of a DAG instance: who reads whom, and what each move costs."""

    producers: np.ndarray  # [E] producer u of every edge u -> v
    readers: np.ndarray  # [E] reader v of every edge
    raw_readers: np.ndarray  # [r] blocks that read the raw input
    send: np.ndarray  # [C, n, k, k]  block u's output from tier p to tier t (0 on the diagonal)
    raw: np.ndarray  # [C, k]  the raw input from the device to tier t (0 for the device)

    def folded(self, w: np.ndarray) -> DagTables:
        return DagTables(self.producers, self.readers, self.raw_readers,
                         fold(w, self.send)[None], (w @ self.raw)[None])

    @cached_property
    def _by_producer(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Readers sorted by producer, each producer once, and where its readers start."""
        order = np.argsort(self.producers, kind="stable")
        prod = self.producers[order]
        starts = np.flatnonzero(np.r_[True, prod[1:] != prod[:-1]]) if prod.size else np.zeros(0, dtype=np.intp)
        return self.readers[order], prod[starts], starts

    def reader_masks(self, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bit masks [n, m] of the other tiers each block's output goes to, and [m] of the
        non-device tiers the raw input goes to (spec section 12: once per destination tier),
        for m assignments given block-major, Xt [n, m]. One OR-reduction per producer."""
        n, m = Xt.shape
        dtype = np.uint8 if self.send.shape[2] <= 8 else np.int64
        bit = np.left_shift(dtype(1), Xt.astype(dtype))  # [n, m]
        masks = np.zeros((n, m), dtype=dtype)
        readers, producers, starts = self._by_producer
        if readers.size:
            masks[producers] = np.bitwise_or.reduceat(bit[readers], starts, axis=0)
        masks &= ~bit
        raw = np.bitwise_or.reduce(bit[self.raw_readers], axis=0) if self.raw_readers.size else np.zeros(m, dtype)
        return masks, raw & ~dtype(1)

    def destination_masks(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`reader_masks` for assignments X [pop, n]: masks [pop, n] and raw [pop]."""
        masks, raw = self.reader_masks(np.ascontiguousarray(np.asarray(X).T))
        return masks.T.astype(np.int64), raw.astype(np.int64)

    @cached_property
    def mask_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """send summed over every destination set: [C, n, k, 2^k], and raw: [C, 2^k]."""
        k = self.send.shape[2]
        sets = (np.arange(1 << k)[:, None] >> np.arange(k)[None, :]) & 1  # [2^k, k]
        return np.einsum("cnpt,mt->cnpm", self.send, sets), self.raw @ sets.T


@dataclass(frozen=True, eq=False)
class ChainTables:
    compute: np.ndarray  # [n, k]  compute time (ms) of block i on tier s
    unary: np.ndarray  # [3, n, k]  compute on tier s (+ deploy share)
    trans: np.ndarray  # [3, n, k, k]  move block i's input from tier p to tier s (chains)
    final: np.ndarray  # [3, k]  return the last output from tier s to the device
    exit: np.ndarray  # [3, n, k]  exit branch at a boundary after block i on tier s
    keep: np.ndarray  # [n]  probability of going on past an active exit
    pay: np.ndarray  # [3, n-1, k, k]  exit paid between block i on p and block i+1 on s
    gain: np.ndarray  # [n-1, k, k]  reach kept between block i on p and block i+1 on s
    weights: np.ndarray  # [3]  weights of (T, E, D) in the cost
    has_exits: bool
    dag: DagTables | None = None

    @property
    def n(self) -> int:
        return self.unary.shape[1]

    @property
    def k(self) -> int:
        return self.unary.shape[2]

    def cost_view(self, weights=None) -> CostTables:
        """The same tables with (T, E, D) folded into one scalar: by the scenario's cost
        weights, or by `weights` (e.g. (1, 0, 0) for the latency alone)."""
        w = self.weights if weights is None else np.asarray(weights, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):  # overflowing inputs are refused by check_finite
            return CostTables(
                unary=fold(w, self.unary),
                trans=fold(w, self.trans),
                final=w @ self.final,
                exit=fold(w, self.exit),
                keep=self.keep,
                pay=fold(w, self.pay),
                gain=self.gain,
                has_exits=self.has_exits,
                dag=None if self.dag is None else self.dag.folded(w),
            )

    def block_cost(self) -> np.ndarray:
        """[n, k] weighted cost of running each block on each tier, compute and device energy
        only (no moves, no deploy share): IoRLO's per-block state entries (paper Sec. 4.2)."""
        return self.weights[0] * self.unary[0] + self.weights[1] * self.unary[1]

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Every table, for hashing an instance's cost structure."""
        out = [self.compute, self.unary, self.trans, self.final, self.pay, self.gain, self.weights]
        if self.dag is not None:
            out += [self.dag.producers, self.dag.readers, self.dag.raw_readers, self.dag.send, self.dag.raw]
        return tuple(out)


@dataclass(frozen=True, eq=False)
class CostTables:
    """Scalar-cost tables, the input of structured solvers (DP, exhaustive, ILP)."""

    unary: np.ndarray  # [n, k]
    trans: np.ndarray  # [n, k, k]
    final: np.ndarray  # [k]
    exit: np.ndarray  # [n, k]
    keep: np.ndarray  # [n]
    pay: np.ndarray  # [n-1, k, k]
    gain: np.ndarray  # [n-1, k, k]
    has_exits: bool
    dag: DagTables | None = None  # send [1, n, k, k], raw [1, k]

    def restrict(self, tiers) -> CostTables:
        """The tables over a subset of tiers (in that order), e.g. a two-tier method's."""
        s = np.asarray(tiers, dtype=np.intp)
        dag = None
        if self.dag is not None:
            d = self.dag
            dag = DagTables(d.producers, d.readers, d.raw_readers, d.send[:, :, s][:, :, :, s], d.raw[:, s])
        return CostTables(self.unary[:, s], self.trans[:, s][:, :, s], self.final[s], self.exit[:, s], self.keep,
                          self.pay[:, s][:, :, s], self.gain[:, s][:, :, s], self.has_exits, dag)


def _moves(hops: tuple[np.ndarray, ...], kb) -> tuple[np.ndarray, np.ndarray]:
    """Time (ms) and device radio energy (J) of moving kb[j] between every tier pair.

    `hops` = scenario.hop_matrices(): zero on the diagonal, so staying costs nothing."""
    a, b, c, d = hops
    kb = np.asarray(kb, dtype=float)[..., None, None]
    return kb * a + b, kb * c + d


def compute_table(profile: Profile, scenario: Scenario) -> np.ndarray:
    """Compute time [n, k] of every block on every tier: `d_s * L_i` (spec section 3), or the
    block's measured `tier_latency_ms[s]`, not scaled (spec section 11)."""
    d = np.array([t.d for t in scenario.tiers], dtype=float)
    lat, _ = profile.reference_costs()
    out = lat[:, None] * d[None, :]
    for i, b in enumerate(profile.blocks):
        if b.tier_latency_ms is not None:
            out[i] = b.tier_latency_ms
    return out


def _exit_terms(profile: Profile, scenario: Scenario, hops, d: np.ndarray, e: float):
    """Exit branch tables [3, n, k] and keep [n] (spec section 6); zeros and ones when off."""
    n, k = profile.n_blocks, scenario.n_tiers
    exit_ = np.zeros((3, n, k))
    keep = np.ones(n)
    if not (scenario.early_exit.enabled and n > 1):
        return exit_, keep, False
    _, out_kb = profile.sizes()
    h = np.array([b.exit_prob if b.exit_prob is not None else np.nan for b in profile.blocks])
    branch = ~np.isnan(h)
    branch[-1] = False
    h = np.where(branch, h, 0.0)
    result_kb = scenario.early_exit.num_classes * 4 / KB
    br_lat, br_eng = predict(["fc"] * n, out_kb, np.full(n, result_kb))
    res_t, res_e = _moves(hops, result_kb)
    exit_[0] = br_lat[:, None] * d[None, :] + h[:, None] * res_t[None, :, 0]
    exit_[1] = h[:, None] * res_e[None, :, 0]
    exit_[1, :, 0] += e * br_eng
    exit_ *= branch[None, :, None]
    return exit_, 1.0 - h, bool(branch.any())


def _boundary_terms(exit_: np.ndarray, keep: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """pay [3, n-1, k, k] and gain [n-1, k, k]: an exit is only active at a tier change."""
    change = ~np.eye(k, dtype=bool)
    pay = exit_[:, :-1, :, None] * change[None, None]
    gain = np.where(change[None], keep[:-1, None, None], 1.0)
    return pay, gain


def chain_shaped(profile: Profile) -> bool:
    """Whether every block reads exactly the block before it (block 0 the raw input)."""
    return all(profile.inputs_of(v) == ((v - 1,) if v else ()) for v in range(profile.n_blocks))


def _dag_tables(profile: Profile, hops) -> DagTables:
    n = profile.n_blocks
    in_kb, out_kb = profile.sizes()
    edges = [(u, v) for v in range(n) for u in profile.inputs_of(v)]
    producers = np.array([u for u, _ in edges], dtype=np.intp)
    readers = np.array([v for _, v in edges], dtype=np.intp)
    raw_readers = np.array([v for v in range(n) if not profile.inputs_of(v)], dtype=np.intp)
    k = hops[0].shape[0]
    send = np.zeros((3, n, k, k))
    send[0], send[1] = _moves(hops, out_kb)
    raw = np.zeros((3, k))
    if raw_readers.size:
        raw_t, raw_e = _moves(hops, in_kb[raw_readers[0]])
        raw[0], raw[1] = raw_t[0], raw_e[0]
    return DagTables(producers, readers, raw_readers, send, raw)


def build_tables(profile: Profile, scenario: Scenario) -> ChainTables:
    n, k = profile.n_blocks, scenario.n_tiers
    tiers = scenario.tiers
    d = np.array([t.d for t in tiers], dtype=float)
    e = float(tiers[0].e)
    _, eng = profile.reference_costs()
    in_kb, out_kb = profile.sizes()

    compute = compute_table(profile, scenario)
    unary = np.zeros((3, n, k))
    unary[0] = compute
    unary[1, :, 0] = e * eng
    unary[2] = scenario.deploy_vector()[None, :] / n

    hops = scenario.hop_matrices()
    trans = np.zeros((3, n, k, k))
    trans[0], trans[1] = _moves(hops, in_kb)
    trans[:, 0] = trans[:, 0, :1, :]  # block 0 reads the raw input from the device

    last_t, last_e = _moves(hops, out_kb[-1])
    final = np.stack([last_t[:, 0], last_e[:, 0], np.zeros(k)])

    exit_, keep, has_exits = _exit_terms(profile, scenario, hops, d, e)
    pay, gain = _boundary_terms(exit_, keep, k)
    dag = None
    if profile.is_dag:
        flow = _dag_tables(profile, hops)
        if chain_shaped(profile):  # the chain walk, with the producers' sizes as the DAG sends them
            trans[:, 1:] = flow.send[:, :-1]
            trans[:, 0] = flow.raw[:, None, :]
        else:
            dag = flow
            trans[:] = np.nan  # a DAG has no chain moves: a chain-only reader would score NaN, not a wrong cost
    return ChainTables(compute, unary, trans, final, exit_, keep, pay, gain, scenario.weights, has_exits, dag)
