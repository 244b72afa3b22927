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
from testbed.links import HopSpec, Shaper, Transfer, hop_specs, routes


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


def test_transfer_paces_fragments_as_they_arrive():
    hop = HopSpec("x", 8.0, 5.0)  # 1000 bytes take 1 ms
    fast = Transfer(Shaper({"x": hop}), ["x"], 0.0)
    got = [fast.feed(1000, 0.0001 * k, last=k == 9) for k in range(10)]  # the sender outruns the link
    assert [len(g) for g in got] == [1] * 10
    assert got[0][0] == pytest.approx((1000, 0.005, 0.006))
    assert got[-1][0][2] == pytest.approx(0.010 + 0.005) == pytest.approx(fast.end)  # the upload overlapped
    slow = Transfer(Shaper({"x": hop}), ["x"], 0.0)
    for k in range(10):  # the link outruns the sender: it waits for each fragment
        (_, begin, end), = slow.feed(1000, 0.003 * k, last=k == 9)
        assert begin == pytest.approx(0.003 * k + 0.005) and end == pytest.approx(begin + 0.001)
    shaper = Shaper({"x": hop, "y": HopSpec("y", 16.0, 1.0)})
    two = Transfer(shaper, ["x", "y"], 0.0)
    assert two.feed(1000, 0.0, last=False) == []  # store-and-forward: y waits for the whole message
    (nbytes, begin, end), = two.feed(1000, 0.0, last=True)
    assert nbytes == 2000 and begin == pytest.approx(0.002 + 0.005 + 0.001) and end == pytest.approx(begin + 0.001)
    assert shaper.free_at["x"] == pytest.approx(0.002)


def test_fragmented_upload_overlaps_the_link():
    """Fragments sent 5 ms apart over a 10 Mbit/s link (13 ms each): the message arrives one
    serialization time after the first fragment, not after the last."""
    frag, count, mbps, delay_ms = 16 * 1024, 16, 10.0, 2.0

    async def main():
        from websockets.asyncio.client import connect

        from testbed.hub import WS_OPTIONS
        from testbed.wire import decode, fragments, now_ms

        hub = Hub(["device"], {}, {"l": HopSpec("l", mbps, delay_ms)})
        await hub.start()
        rows = []
        try:
            async with connect(f"{hub.url}/tier/probe-src", **WS_OPTIONS) as src, \
                       connect(f"{hub.url}/tier/probe-dst", **WS_OPTIONS) as dst:
                while len(hub.conns) < 2:
                    await asyncio.sleep(0.01)
                for _ in range(3):
                    messages = fragments({"type": "probe", "hops": ["l"], "dst": "probe-dst", "t_send": now_ms()},
                                         bytes(frag * count), size=frag)
                    assert len(messages) == count
                    for k, message in enumerate(messages):
                        if k:
                            await asyncio.sleep(0.005)
                        await src.send(message)
                    last_sent = now_ms()
                    header, payload = decode(await dst.recv())
                    counted = len(messages[0]) + frag * (count - 1)  # fragment headers are framing
                    rows.append((header["hub_in"], last_sent, now_ms(), len(payload), counted))
        finally:
            await hub.stop()
        return rows

    ser_ms = frag * 8 / (mbps * 1e3)  # one fragment
    for hub_in, last_sent, received, nbytes, counted in asyncio.run(main()):
        assert nbytes == frag * count
        paced = max(hub_in + counted * 8 / (mbps * 1e3), last_sent + ser_ms) + delay_ms
        assert received >= paced - 1.0
        # store-and-forward of the whole upload would take >= last_sent + count * ser_ms (210 ms)
        assert received <= paced + 0.5 * (count - 1) * ser_ms


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
    row = _probe(mbps, delay_ms, [8.0, 64.0, 256.0, 512.0], repeats=3)  # 256 KB and up: in fragments
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
