"""Structural rules of an instance that the tables rely on (spec sections 11, 12 and 14).

Checked when a `Problem` is built, so instance files, configs and code share them; every
error is a `FieldError` naming the field as an instance file spells it.
"""

from __future__ import annotations

import math

import numpy as np

from problems.errors import FieldError
from problems.profile import Profile
from problems.scenario import Scenario
from problems.schema import NON_NEGATIVE, finite_number, short
from problems.tables import ChainTables, CostTables, fold

#: an upper bound on any assignment's latency, energy, deploy share and cost
MAX_TOTAL = 1e300

#: relative tolerance of the size checks of spec section 12
SIZE_RTOL = 1e-9


def same_size(a: float, b: float) -> bool:
    """|a - b| <= 1e-9 * max(|a|, |b|) (spec section 12)."""
    return abs(a - b) <= SIZE_RTOL * max(abs(a), abs(b))


def check_structure(profile: Profile, scenario: Scenario) -> None:
    _check_tier_latencies(profile, scenario)
    if profile.is_dag:
        _check_dag(profile, scenario)


def _check_tier_latencies(profile: Profile, scenario: Scenario) -> None:
    k = scenario.n_tiers
    pool = getattr(scenario, "collaborators", None)
    for i, b in enumerate(profile.blocks):
        if b.tier_latency_ms is None:
            continue
        where = f"blocks[{i}].tier_latency_ms"
        if pool:
            raise FieldError(where, "not allowed with a collaborator pool (the collaborator is chosen per instance)",
                             short(list(b.tier_latency_ms)))
        if len(b.tier_latency_ms) != k:
            raise FieldError(where, f"needs one latency per tier ({k})", short(list(b.tier_latency_ms)))
        for j, v in enumerate(b.tier_latency_ms):
            NON_NEGATIVE.check(f"{where}[{j}]", finite_number(v, f"{where}[{j}]"))


def _check_dag(profile: Profile, scenario: Scenario) -> None:
    n = profile.n_blocks
    if scenario.early_exit.enabled:
        raise FieldError("scenario.early_exit.enabled", "early exits are not defined on DAG instances (blocks with "
                         "inputs)", True)
    read = [False] * n
    raw_kb: tuple[int, float] | None = None
    for v, b in enumerate(profile.blocks):
        inputs = profile.inputs_of(v)
        seen: set[int] = set()
        for j, u in enumerate(inputs):
            where = f"blocks[{v}].inputs[{j}]"
            if isinstance(u, bool) or not isinstance(u, int):
                raise FieldError(where, "must be a block index (an integer)", short(u))
            if not 0 <= u < v:
                raise FieldError(where, f"must be the index of an earlier block (0..{v - 1})" if v else
                                 "block 0 can only read the raw input (inputs: [])", u)
            if u in seen:
                raise FieldError(where, "repeats an input", u)
            seen.add(u)
            read[u] = True
        if inputs:
            total = sum(profile.blocks[u].out_kb for u in inputs)
            if not same_size(b.in_kb, total):
                raise FieldError(f"blocks[{v}].in_kb", f"must equal the summed out_kb of its inputs ({total!r})",
                                 b.in_kb)
        elif raw_kb is None:
            raw_kb = (v, b.in_kb)
        elif not same_size(b.in_kb, raw_kb[1]):
            raise FieldError(f"blocks[{v}].in_kb", f"raw-input blocks read the same raw input "
                             f"(blocks[{raw_kb[0]}].in_kb = {raw_kb[1]!r})", b.in_kb)
    for u in range(n - 1):
        if not read[u]:
            raise FieldError(f"blocks[{u}]", "no later block reads its output: only the last block may be a sink",
                             profile.blocks[u].name)


def _suspects(profile: Profile, scenario: Scenario, block: int, weighted: bool) -> list[tuple[float, str, float]]:
    """(log10 of how far a value pushes costs up, its instance field, the value) for every scenario
    value and the block's own sizes and latency: the largest is named when a cost overflows."""
    out: list[tuple[float, str, float]] = []

    def add(push: float, field: str, value: float) -> None:
        out.append((push, field, value))

    def big(field: str, value: float) -> None:
        if value > 0:
            add(math.log10(value), field, value)

    def slow(field: str, mbps: float) -> None:  # a small bandwidth pushes transfer times up
        if mbps > 0:
            add(-math.log10(mbps), field, mbps)

    b = profile.blocks[block]
    big(f"blocks[{block}].in_kb", b.in_kb)
    big(f"blocks[{block}].out_kb", b.out_kb)
    for key in ("latency_ms", "energy_j"):
        if getattr(b, key) is not None:
            big(f"blocks[{block}].{key}", getattr(b, key))
    pool = getattr(scenario, "collaborators", None)
    tiers = scenario.tiers if not pool else scenario.tiers[:1]
    for s, t in enumerate(tiers):
        big(f"scenario.tiers[{s}].d", t.d)
    big("scenario.tiers[0].e", tiers[0].e)
    if scenario.kind == "mec":
        for name in ("te", "ec"):
            link = getattr(scenario, name)
            slow(f"scenario.links.{name}.up_mbps", link.up_mbps)
            slow(f"scenario.links.{name}.down_mbps", link.down_mbps)
            big(f"scenario.links.{name}.delay_ms", link.delay_ms)
    elif pool:
        for j, c in enumerate(pool):
            big(f"scenario.collaborators[{j}].d", c.d)
            slow(f"scenario.collaborators[{j}].mbps", c.mbps)
            big(f"scenario.collaborators[{j}].delay_ms", c.delay_ms)
    else:
        slow("scenario.link.mbps", scenario.link.mbps)
        big("scenario.link.delay_ms", scenario.link.delay_ms)
    for key, value in vars(scenario.power).items():
        big(f"scenario.power.{key}", value)
    if weighted:
        big("scenario.weights.energy", float(scenario.weights[1]))
        big("scenario.weights.deploy", float(scenario.weights[2]))
    return out


def _overflow(profile: Profile, scenario: Scenario, block: int, weighted: bool, message: str) -> FieldError:
    """The error of an overflowing cost, naming the value that pushes it up most."""
    _, field, value = max(_suspects(profile, scenario, block, weighted), key=lambda x: x[0])
    return FieldError(field, message, value)


def check_finite(ct: ChainTables, profile: Profile, scenario: Scenario, ct_cost: CostTables) -> None:
    """Finite inputs can still overflow the cost (1e300 KB over a 1e-300 Mbit/s link); such
    a problem would score NaN or inf, so it is refused, naming where along the chain.

    Every table entry is >= 0 and the reach is <= 1, so when the sum of each table's
    largest entries is below `MAX_TOTAL`, every assignment's (T, E, D) and cost are
    finite, with room left for rounding. A DAG sends each output to at most k - 1 tiers.
    `ct_cost` is `ct.cost_view()`, which the problem keeps (folded once)."""
    n, k = ct.n, ct.k
    with np.errstate(over="ignore", invalid="ignore"):
        w = ct.weights
        if ct.dag is None:
            move = ct.trans
            move_cost = ct_cost.trans[None]
        else:
            send = ct.dag.send * (k - 1)
            raw = np.zeros_like(send)
            raw[:, ct.dag.raw_readers] = ct.dag.raw[:, None, None, :]
            move = send + raw
            move_cost = fold(w, move)[None]
    checks = (
        ("latency, energy or deploy share", ct.unary, move, ct.exit, ct.final),
        ("weighted cost", ct_cost.unary[None], move_cost, ct_cost.exit[None], ct_cost.final[None]),
    )
    for label, unary, trans, exit_, final in checks:
        with np.errstate(over="ignore", invalid="ignore"):
            running = np.cumsum(unary.max(axis=2) + trans.max(axis=(2, 3)) + exit_.max(axis=2), axis=1)  # [c, n]
        if (running[:, -1] + final.max(axis=1) < MAX_TOTAL).all():
            continue  # entries are >= 0: a NaN or inf anywhere would have failed the comparison
        weighted = label == "weighted cost"
        for table in (unary, trans, exit_):
            finite = np.isfinite(table)
            if finite.all():
                continue
            bad = ~finite.reshape(table.shape[0], n, -1).all(axis=(0, 2))
            if bad.any():
                raise _overflow(profile, scenario, int(np.argmax(bad)), weighted,
                                f"makes the {label} overflow")
        if not np.isfinite(final).all():
            raise _overflow(profile, scenario, n - 1, weighted, f"makes the {label} overflow")
        over = (running >= MAX_TOTAL).any(axis=0)
        raise _overflow(profile, scenario, int(np.argmax(over)) if over.any() else n - 1, weighted,
                        f"makes the {label} exceed {MAX_TOTAL:g}")
