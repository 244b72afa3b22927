"""DAG instances for tests and benchmarks (spec section 12): small random DAGs for Hypothesis
and seeded synthetic DAGs of any size with skips, fan-out, branches and concatenations."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import strategies as st
from solver_helpers import scenario

from problems import Problem
from problems.build import build_problem
from problems.profile import Block, Profile


def paper_scenario(kind: str):
    return build_problem({"name": "alexnet"}, {"kind": kind}, {"name": "5g_avg"}).scenario


@st.composite
def random_dags(draw, kinds=("mec", "d2d"), max_blocks: int = 7):
    """Up to `max_blocks` blocks with fan-out, concats, skips and extra raw-input blocks; some
    blocks carry `tier_latency_ms`; the paper's scenario of `kind` at 5g_avg."""
    n = draw(st.integers(1, max_blocks))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(list(kinds)))
    out_kb = rng.uniform(0.1, 500.0, n)
    raw = float(rng.uniform(1.0, 800.0))
    blocks = []
    for v in range(n):
        if v == 0 or rng.random() < 0.15:
            inputs: tuple[int, ...] = ()
        else:
            extra = [u for u in range(v - 1) if rng.random() < 0.3]
            inputs = tuple(sorted({v - 1, *extra}))
        in_kb = raw if not inputs else float(sum(out_kb[u] for u in inputs))
        tier = tuple(float(x) for x in rng.uniform(0, 50, 3 if kind == "mec" else 2)) if rng.random() < 0.3 else None
        blocks.append(Block(f"b{v}", in_kb, float(out_kb[v]), latency_ms=float(rng.uniform(0, 40)),
                            energy_j=float(rng.uniform(0, 2)), tier_latency_ms=tier, inputs=inputs))
    # every block but the last must be read: let the last block read every unread one
    read = {u for b in blocks for u in b.inputs}
    last = blocks[-1]
    if n > 1:
        extra = tuple(sorted(set(last.inputs) | {u for u in range(n - 1) if u not in read}))
        if extra:
            blocks[-1] = dataclasses.replace(last, inputs=extra, in_kb=float(sum(out_kb[u] for u in extra)))
    return Problem(Profile("random-dag", tuple(blocks)), paper_scenario(kind), name="random-dag")


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, size=None):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def synthetic_dag(n: int, seed: int = 0, kind: str = "mec", network: str = "5g_avg") -> Problem:
    """A seeded CNN-like DAG of n blocks: a backbone where about one block in six opens a
    branch (reads an earlier block than its predecessor), skips that re-read a block up to 8
    back (fan-out), joins that concatenate two or three outputs, an occasional second raw-input
    block, and sizes that shrink with depth; consistent sizes (spec section 12)."""
    rng = np.random.default_rng(seed)
    raw_kb = 588.0  # a 3x224x224 float input
    scale = np.exp(-3.0 * np.arange(n) / max(n, 1))  # feature maps shrink with depth
    out_kb = _log_uniform(rng, 20.0, 1500.0, n) * scale + 1.0
    lat = _log_uniform(rng, 0.05, 20.0, n)
    eng = _log_uniform(rng, 1e-4, 0.05, n)
    inputs: list[tuple[int, ...]] = []
    unread: set[int] = set()
    for v in range(n):
        if v == 0 or (v < n - 1 and rng.random() < 0.01):
            ins: set[int] = set()
        else:
            lo = max(0, v - 8)
            first = v - 1 if v < 2 or rng.random() < 0.85 else int(rng.integers(lo, v - 1))
            ins = {first}
            if rng.random() < 0.2:  # a skip or a concat join
                ins |= {int(u) for u in rng.integers(lo, v, int(rng.integers(1, 3)))}
            ins |= {u for u in unread if u < v - 4}  # a branch joins within a few blocks
        if v == n - 1:
            ins |= unread
        ins.discard(v)
        inputs.append(tuple(sorted(ins)))
        unread -= ins
        if v < n - 1:
            unread.add(v)
    blocks = tuple(
        Block(f"b{v}", raw_kb if not ins else float(sum(out_kb[u] for u in ins)), float(out_kb[v]),
              latency_ms=float(lat[v]), energy_j=float(eng[v]), inputs=ins)
        for v, ins in enumerate(inputs)
    )
    return Problem(Profile(f"dag{n}-s{seed}", blocks), scenario(kind, network), name=f"dag{n}-s{seed}-{kind}")
