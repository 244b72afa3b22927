"""`mincut`: the exact two-tier partition of a DAG (or chain) as a minimum s-t cut (DADS).

With two tiers, device (the source side) and one server (the sink side), every cost
term of spec section 12 is a cut arc of OR-Tools' max-flow graph
(`ortools.graph.python.max_flow.SimpleMaxFlow`):

- block v's compute: an arc source -> v paying its server cost (cut when v is on the
  server) and v -> sink paying its device cost; the last block's return to the device is
  part of these, and the smaller of the two is a constant taken out;
- block u's output sent device -> server, once whatever the number of readers there: an
  auxiliary node A_u with u -> A_u paying send[u, device, server] and A_u -> v infinite for
  every reader v (some reader on the server drags A_u there, and the arc into it is cut
  only when u is on the device);
- and server -> device, the other direction of an asymmetric link: a second auxiliary node
  B_u with v -> B_u infinite for every reader and B_u -> u paying send[u, server, device];
- a producer with one reader needs no auxiliary node: u -> v and v -> u pay the two
  directions; the raw input is a producer fixed on the device (the source).

Capacities are scaled to integers (their sum to 2^50 units, so a cut's value moves by at
most half a unit per arc and the cut found is optimal to about 1e-12 of the summed
capacities); the assignment is re-scored exactly by the problem. In MEC,
`server=edge|cloud` restricts the problem to the device and that server, and the cut is the
optimum over those two tiers; in D2D it is the optimum. Early exits make the cost
multiplicative in the reach, which no cut expresses: refused. O(n + E) arcs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from problems import Problem
from problems.tables import CostTables
from solvers._tiers import remote_tier
from solvers.base import Solution, Solver, Unsupported
from solvers.registry import register

#: the finite capacities are scaled so that they sum to this many units
CAPACITY_UNITS = 2.0**50
#: an arc that no minimum cut crosses (more than all finite capacities together)
INFINITE = 2**60


@dataclass
class MincutConfig:
    server: Literal["cloud", "edge"] = "cloud"  # MEC server tier; D2D always uses the collaborator


@dataclass(frozen=True)
class FlowData:
    """The two-tier data flow: costs on each side, and who sends what to whom."""

    side: np.ndarray  # [n, 2] compute (+ the final return) on the device (0) and the server (1)
    producers: np.ndarray  # [E] edge u -> v
    readers: np.ndarray  # [E]
    send: np.ndarray  # [n, 2, 2] block u's output between the two sides
    raw_readers: np.ndarray  # blocks that read the raw input
    raw: float  # the raw input sent to the server


def flow_data(t: CostTables) -> FlowData:
    """Two-tier tables (device first) as a data flow; a chain's moves are its edges i-1 -> i."""
    n = t.unary.shape[0]
    side = t.unary.copy()
    side[n - 1] += t.final
    if t.dag is not None:
        d = t.dag
        return FlowData(side, d.producers, d.readers, d.send[0], d.raw_readers, float(d.raw[0, 1]))
    send = np.zeros((n, 2, 2))
    send[: n - 1] = t.trans[1:]  # block i's input is what block i-1 sends it
    return FlowData(side, np.arange(n - 1), np.arange(1, n), send, np.array([0]), float(t.trans[0, 0, 1]))


def min_cut(data: FlowData) -> tuple[np.ndarray, float]:
    """The assignment (0 device, 1 server) of minimum cost and that cost (from the scaled cut)."""
    from ortools.graph.python import max_flow

    n = data.side.shape[0]
    source, sink = n, n + 1
    tails: list[np.ndarray] = []
    heads: list[np.ndarray] = []
    caps: list[np.ndarray] = []

    def arcs(t, h, c) -> None:
        tails.append(np.asarray(t, dtype=np.int64))
        heads.append(np.asarray(h, dtype=np.int64))
        caps.append(np.asarray(c, dtype=float))

    side = data.side.copy()
    raw_readers = data.raw_readers
    if len(raw_readers) == 1:
        side[raw_readers[0], 1] += data.raw
    offset = float(side.min(axis=1).sum())
    side -= side.min(axis=1, keepdims=True)
    blocks = np.arange(n)
    arcs(np.full(n, source), blocks, side[:, 1])  # cut when the block is on the server
    arcs(blocks, np.full(n, sink), side[:, 0])  # cut when it is on the device
    next_node = n + 2
    counts = np.bincount(data.producers, minlength=n)
    single = counts[data.producers] == 1
    u1, v1 = data.producers[single], data.readers[single]
    arcs(u1, v1, data.send[u1, 0, 1])
    arcs(v1, u1, data.send[u1, 1, 0])
    fan = np.flatnonzero(counts > 1)
    if len(fan):
        a_node = np.full(n, -1)
        a_node[fan] = next_node + np.arange(len(fan))  # A_u: device -> server
        b_node = np.full(n, -1)
        b_node[fan] = next_node + len(fan) + np.arange(len(fan))  # B_u: server -> device
        next_node += 2 * len(fan)
        arcs(fan, a_node[fan], data.send[fan, 0, 1])
        arcs(b_node[fan], fan, data.send[fan, 1, 0])
        u2, v2 = data.producers[~single], data.readers[~single]
        arcs(a_node[u2], v2, np.full(len(u2), np.inf))
        arcs(v2, b_node[u2], np.full(len(u2), np.inf))
    if len(raw_readers) > 1:
        raw_node = next_node
        next_node += 1
        arcs([source], [raw_node], [data.raw])
        arcs(np.full(len(raw_readers), raw_node), raw_readers, np.full(len(raw_readers), np.inf))
    tail, head, cap = np.concatenate(tails), np.concatenate(heads), np.concatenate(caps)
    finite = np.isfinite(cap)
    keep = ~finite | (cap > 0)
    tail, head, cap, finite = tail[keep], head[keep], cap[keep], finite[keep]
    total = float(cap[finite].sum())
    scale = CAPACITY_UNITS / total if total > 0 else 1.0
    ints = np.full(len(cap), INFINITE, dtype=np.int64)
    ints[finite] = np.rint(cap[finite] * scale).astype(np.int64)
    flow = max_flow.SimpleMaxFlow()
    flow.add_arc_with_capacity(source, sink, 0)  # nodes 0..n+1 exist even where a block has no arc
    if len(tail):
        flow.add_arcs_with_capacity(tail, head, ints)
    status = flow.solve(source, sink)
    if status != flow.OPTIMAL:
        raise RuntimeError(f"max-flow ended with status {status}")
    device = np.zeros(flow.num_nodes(), dtype=bool)
    device[np.asarray(flow.get_source_side_min_cut(), dtype=np.int64)] = True
    return np.where(device[:n], 0, 1).astype(np.int64), offset + flow.optimal_flow() / scale


@register
class Mincut(Solver):
    name = "mincut"
    Config = MincutConfig

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        tables = problem.cost_tables
        if tables.has_exits:
            raise Unsupported("mincut: early exits scale the cost by the reach, which no cut expresses; use dp or ilp")
        server = remote_tier(problem, self.config.server)
        tiers = [0, server]
        data = flow_data(tables.restrict(tiers))
        side, cut = min_cut(data)
        assignment = np.asarray(tiers, dtype=np.int64)[side]
        info = {"value": problem.score(assignment)["cost"], "cut_value": cut, "server": problem.tier_names[server],
                "status": "optimal", "edges": len(data.producers)}
        return Solution(assignment, info)
