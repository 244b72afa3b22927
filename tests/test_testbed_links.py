"""User-space link shaping: routes cost what the model's hops say, and messages take at least
(and not much more than) the configured time. Rates stay at or below 50 Mbit/s, and the upper
bounds are loose, so that a loaded machine cannot make these fail; the 5 % / 1 ms targets at
the presets' rates are benchmarks (BENCHMARKS.md), not tests."""

from __future__ import annotations

import asyncio
import statistics

import numpy as np
import pytest

from problems.build import build_problem
from problems.scenario import MS_PER_KB_MBPS
from testbed.hub import Hub
from testbed.linkcheck import probe_hop
from testbed.links import HopSpec, Shaper, hop_specs, routes


@pytest.mark.parametrize("scenario", ["mec", "d2d"])
def test_routes_cost_what_the_problems_hops_cost(scenario):
    problem = build_problem({"name": "alexnet"}, {"kind": scenario}, {"name": "5g_worst", "scale": {"bandwidth": 0.5}})
    hops = hop_specs(problem)
    per_kb, fixed, _, _ = problem.scenario.hop_matrices()
    table = routes(problem)
    k = problem.n_tiers
    assert set(table) == {(a, b) for a in range(k) for b in range(k) if a != b}
    for (a, b), names in table.items():
        assert sum(MS_PER_KB_MBPS / hops[n].mbps for n in names) == pytest.approx(per_kb[a, b])
        assert sum(hops[n].delay_ms for n in names) == pytest.approx(fixed[a, b])


def test_schedule_is_store_and_forward_and_queues_on_a_busy_link():
    shaper = Shaper({"x": HopSpec("x", 8.0, 5.0), "y": HopSpec("y", 16.0, 1.0)})
    nbytes = 10_000  # 10 ms on x, 5 ms on y
    begin, end = shaper.schedule(["x", "y"], nbytes, 0.0)
    assert begin == pytest.approx(0.010 + 0.005 + 0.001)
    assert end == pytest.approx(begin + 0.005)
    begin2, _ = shaper.schedule(["x"], nbytes, 0.002)  # x is serializing until t = 10 ms
    assert begin2 == pytest.approx(0.010 + 0.005)


def _probe(mbps: float, delay_ms: float, sizes_kb: list[float], repeats: int) -> dict:
    async def main():
        hub = Hub(["device"], {}, {"l": HopSpec("l", mbps, delay_ms)})
        await hub.start()
        try:
            return await probe_hop(hub, "l", sizes_kb, repeats)
        finally:
            await hub.stop()

    return asyncio.run(main())


@pytest.mark.parametrize(("mbps", "delay_ms"), [(20.0, 10.0), (50.0, 2.0)])
def test_messages_take_the_configured_time(mbps, delay_ms):
    row = _probe(mbps, delay_ms, [8.0, 64.0, 256.0], repeats=3)
    for size in row["sizes"]:
        configured = delay_ms + size["bytes"] * 8 / (mbps * 1e6) * 1e3
        # never early: the last fragment is released at the deadline
        assert min(size["samples"]) >= configured - 0.2, (size, configured)
        # not much later, even on a loaded machine
        assert statistics.median(size["samples"]) <= 1.5 * configured + 40, (size, configured)
    assert row["measured_mbps"] == pytest.approx(mbps, rel=0.5)


def test_bytes_are_paced_not_held_and_released_at_once():
    """A 256 KB message at 20 Mbit/s arrives in fragments spread over its serialization time."""

    async def main():
        from websockets.asyncio.client import connect

        from testbed.hub import WS_OPTIONS
        from testbed.wire import encode

        hub = Hub(["device"], {}, {"l": HopSpec("l", 20.0, 0.0)})
        await hub.start()
        try:
            async with connect(f"{hub.url}/tier/probe-src", **WS_OPTIONS) as src, \
                       connect(f"{hub.url}/tier/probe-dst", **WS_OPTIONS) as dst:
                while len(hub.conns) < 2:
                    await asyncio.sleep(0.01)
                loop = asyncio.get_running_loop()
                await src.send(encode({"type": "probe", "hops": ["l"], "dst": "probe-dst", "t_send": 0},
                                      bytes(256 * 1024)))
                stamps = []
                async for fragment in dst.recv_streaming():
                    stamps.append(loop.time())
                    del fragment
                return np.diff(stamps)
        finally:
            await hub.stop()

    gaps = asyncio.run(main())
    assert len(gaps) >= 8
    assert gaps.sum() >= 0.5 * 256 * 1024 * 8 / 20e6  # the fragments span at least half of 105 ms
