"""A plain scorer of DAG instances written from spec section 12's text, independent of the
tables: loops over blocks, readers and destination tiers."""

from __future__ import annotations

from reference import _block_ref, _move

from problems import Problem


def dag_reference_score(problem: Problem, S) -> dict[str, float]:
    sc = problem.scenario
    blocks = problem.profile.blocks
    n = len(blocks)
    deploy = list(getattr(sc, "deploy_weights", (0.0, 0.0)))
    inputs = [b.inputs if b.inputs is not None else ([v - 1] if v else []) for v, b in enumerate(blocks)]
    T = E = D = 0.0
    for v, b in enumerate(blocks):
        lat, eng = _block_ref(b)
        s = S[v]
        T += b.tier_latency_ms[s] if b.tier_latency_ms is not None else sc.tiers[s].d * lat
        E += sc.tiers[0].e * eng if s == 0 else 0.0
        D += deploy[s] / n
    for u, b in enumerate(blocks):  # each output once to every other tier that reads it
        for t in sorted({S[v] for v in range(n) if u in inputs[v]} - {S[u]}):
            mt, me = _move(problem, b.out_kb, S[u], t)
            T += mt
            E += me
    raw_tiers = {S[v] for v in range(n) if not inputs[v]} - {0}
    raw_kb = next(blocks[v].in_kb for v in range(n) if not inputs[v])
    for t in sorted(raw_tiers):
        mt, me = _move(problem, raw_kb, 0, t)
        T += mt
        E += me
    mt, me = _move(problem, blocks[-1].out_kb, S[-1], 0)
    T += mt
    E += me
    w = sc.weights
    return {"latency_ms": T, "energy_j": E, "deploy": D, "cost": T + w[1] * E + w[2] * D}
