"""A plain, loop-by-loop scorer written from the spec's text, independent of the
chain tables, used to check `Problem.evaluate`."""

from __future__ import annotations

from problems import Problem
from problems.layers import KB, TABLE1
from problems.scenario import MecScenario


def _pred(kind: str, in_kb: float, out_kb: float) -> tuple[float, float]:
    (la, lb, lg), (ea, eb, eg) = TABLE1[kind]
    x, y = in_kb * KB, out_kb * KB
    return max(la * x + lb * y + lg, 0.0), max(ea * x + eb * y + eg, 0.0)


def _block_ref(b) -> tuple[float, float]:
    lat = sum(_pred(x.type, x.in_kb, x.out_kb)[0] for x in b.layers)
    eng = sum(_pred(x.type, x.in_kb, x.out_kb)[1] for x in b.layers)
    return (b.latency_ms if b.latency_ms is not None else lat), (b.energy_j if b.energy_j is not None else eng)


def _hops(problem: Problem, p: int, s: int) -> list[tuple[float, float, float]]:
    """(mbps, delay, device power or 0) of each hop of the path p -> s."""
    sc = problem.scenario
    if p == s:
        return []
    if isinstance(sc, MecScenario):
        pw = sc.power

        def up(link, dev):
            return (link.up_mbps, link.delay_ms, pw.alpha_up_mw_per_mbps * link.up_mbps + pw.beta_mw if dev else 0.0)

        def down(link, dev):
            return (link.down_mbps, link.delay_ms,
                    pw.alpha_down_mw_per_mbps * link.down_mbps + pw.beta_mw if dev else 0.0)

        dev = p == 0 or s == 0
        table = {
            (0, 1): [up(sc.te, dev)], (0, 2): [up(sc.te, dev), up(sc.ec, dev)], (1, 2): [up(sc.ec, dev)],
            (1, 0): [down(sc.te, dev)], (2, 0): [down(sc.ec, dev), down(sc.te, dev)], (2, 1): [down(sc.ec, dev)],
        }
        return table[(p, s)]
    _, link = sc.chosen()
    return [(link.mbps, link.delay_ms, sc.power.alpha_mw_per_mbps * link.mbps + sc.power.beta_mw)]


def _move(problem: Problem, kb: float, p: int, s: int) -> tuple[float, float]:
    t = e = 0.0
    for mbps, delay, power in _hops(problem, p, s):
        hop = kb * 1024 * 8 / (mbps * 1e6) * 1e3 + delay
        t += hop
        e += hop * power * 1e-6
    return t, e


def reference_score(problem: Problem, S) -> dict[str, float]:
    sc = problem.scenario
    tiers = sc.tiers
    blocks = problem.profile.blocks
    n = len(blocks)
    ee = sc.early_exit
    deploy = list(sc.deploy_weights) if isinstance(sc, MecScenario) else [0.0, 0.0]
    T = E = D = 0.0
    reach, prev = 1.0, 0
    for i, b in enumerate(blocks):
        lat, eng = _block_ref(b)
        mt, me = _move(problem, b.in_kb, prev, S[i])
        T += reach * (tiers[S[i]].d * lat + mt)
        E += reach * ((tiers[0].e * eng if S[i] == 0 else 0.0) + me)
        D += reach * deploy[S[i]] / n
        if ee.enabled and i < n - 1 and S[i + 1] != S[i] and b.exit_prob is not None:
            h = b.exit_prob
            bl, be = _pred("fc", b.out_kb, ee.num_classes * 4 / 1024)
            rt, re = _move(problem, ee.num_classes * 4 / 1024, S[i], 0)
            T += reach * (tiers[S[i]].d * bl + h * rt)
            E += reach * ((tiers[0].e * be if S[i] == 0 else 0.0) + h * re)
            reach *= 1 - h
        prev = S[i]
    mt, me = _move(problem, blocks[-1].out_kb, prev, 0)
    T += reach * mt
    E += reach * me
    w = sc.weights
    return {"latency_ms": T, "energy_j": E, "deploy": D, "cost": T + w[1] * E + w[2] * D}
