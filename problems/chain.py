"""The chain structure of a partition problem: every formula of the spec, once.

An assignment's expected (T, E, D) is a sum of table entries along the chain:

    reach = 1; prev = device
    for i in blocks:
        acc += reach * (unary[:, i, S_i] + trans[:, i, prev, S_i])
        if exits and i < n-1 and S_{i+1} != S_i:
            acc += reach * exit[:, i, S_i];  reach *= keep[i]
        prev = S_i
    acc += reach * final[:, prev]

Component axis 0 is (T ms, E J, D). `trans[:, 0, p, s]` is the move of the raw input
from the device, the same for every `p`. Without early exits `exit` is 0 and `keep` 1.
`Problem.evaluate`, the DP and the ILP all read these tables, so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from problems.layers import KB, predict
from problems.profile import Profile
from problems.scenario import Scenario

COMPONENTS = ("latency_ms", "energy_j", "deploy")


@dataclass(frozen=True, eq=False)
class ChainTables:
    unary: np.ndarray  # [3, n, k]  compute on tier s (+ deploy share)
    trans: np.ndarray  # [3, n, k, k]  move block i's input from tier p to tier s
    final: np.ndarray  # [3, k]  return the last output from tier s to the device
    exit: np.ndarray  # [3, n, k]  exit branch at a boundary after block i on tier s
    keep: np.ndarray  # [n]  probability of going on past an active exit
    weights: np.ndarray  # [3]  weights of (T, E, D) in the cost
    has_exits: bool

    @property
    def n(self) -> int:
        return self.unary.shape[1]

    @property
    def k(self) -> int:
        return self.unary.shape[2]

    def cost_view(self, weights=None) -> CostTables:
        """The same chain with (T, E, D) folded into one scalar: by the scenario's cost
        weights, or by `weights` (e.g. (1, 0, 0) for the latency alone)."""
        w = self.weights if weights is None else np.asarray(weights, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):  # overflowing inputs are refused by check_finite
            return self._folded(w)

    def _folded(self, w: np.ndarray) -> CostTables:
        return CostTables(
            unary=np.tensordot(w, self.unary, axes=1),
            trans=np.tensordot(w, self.trans, axes=1),
            final=w @ self.final,
            exit=np.tensordot(w, self.exit, axes=1),
            keep=self.keep,
            has_exits=self.has_exits,
        )


@dataclass(frozen=True, eq=False)
class CostTables:
    """Scalar-cost chain tables, the input of structured solvers (DP, ILP)."""

    unary: np.ndarray  # [n, k]
    trans: np.ndarray  # [n, k, k]
    final: np.ndarray  # [k]
    exit: np.ndarray  # [n, k]
    keep: np.ndarray  # [n]
    has_exits: bool


def _moves(hops: tuple[np.ndarray, ...], kb) -> tuple[np.ndarray, np.ndarray]:
    """Time (ms) and device radio energy (J) of moving kb[j] between every tier pair.

    `hops` = scenario.hop_matrices(): zero on the diagonal, so staying costs nothing."""
    a, b, c, d = hops
    kb = np.asarray(kb, dtype=float)[..., None, None]
    return kb * a + b, kb * c + d


def build_chain(profile: Profile, scenario: Scenario) -> ChainTables:
    n, k = profile.n_blocks, scenario.n_tiers
    tiers = scenario.tiers
    d = np.array([t.d for t in tiers], dtype=float)
    e = float(tiers[0].e)
    lat, eng = profile.reference_costs()
    in_kb, out_kb = profile.sizes()

    unary = np.zeros((3, n, k))
    unary[0] = lat[:, None] * d[None, :]
    unary[1, :, 0] = e * eng
    unary[2] = scenario.deploy_vector()[None, :] / n

    hops = scenario.hop_matrices()
    trans = np.zeros((3, n, k, k))
    trans[0], trans[1] = _moves(hops, in_kb)
    trans[:, 0] = trans[:, 0, :1, :]  # block 0 reads the raw input from the device

    last_t, last_e = _moves(hops, out_kb[-1])
    final = np.stack([last_t[:, 0], last_e[:, 0], np.zeros(k)])

    exit_ = np.zeros((3, n, k))
    keep = np.ones(n)
    has_exits = bool(scenario.early_exit.enabled) and n > 1
    if has_exits:
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
        keep = 1.0 - h
        has_exits = bool(branch.any())
    return ChainTables(unary, trans, final, exit_, keep, scenario.weights, has_exits)
