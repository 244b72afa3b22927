"""The link check: messages of several sizes over every shaped hop, timed one way.

Two probe endpoints connect to the hub like tiers; a probe message names the hop it
crosses, so each direction (te.up, te.down, ec.up, ec.down; d2d.up, d2d.down) is shaped by
the same code as the tensors of a request. Per hop, the median one-way time of each size
is fitted by least squares to `delay + bytes * 8 / rate`: the slope gives the measured
rate, the intercept the measured delay. A message is timed from its arrival at the hub to
its arrival at the receiver: what the link adds. Probes travel in fragments, as tensors do,
so the link paces them while the sender is still sending. The time from the sender's send
stamp is kept apart, as `from_send_ms`.
"""

from __future__ import annotations

import asyncio
import statistics

import numpy as np
from websockets.asyncio.client import connect

from testbed.hub import WS_OPTIONS, Hub
from testbed.wire import FRAGMENT_BYTES, decode, fragments, now_ms


async def probe_hop(hub: Hub, hop: str, sizes_kb: list[float], repeats: int) -> dict:
    """Measured times of `hop` for each size, and the fitted rate and delay."""
    async with connect(f"{hub.url}/tier/probe-src", **WS_OPTIONS) as src, \
               connect(f"{hub.url}/tier/probe-dst", **WS_OPTIONS) as dst:
        while "probe-dst" not in hub.conns or "probe-src" not in hub.conns:
            await asyncio.sleep(0.01)
        rows = []
        for kb in sizes_kb:
            times, from_send = [], []
            payload = bytes(int(kb * 1024))
            for _ in range(repeats):
                messages = fragments({"type": "probe", "hops": [hop], "dst": "probe-dst", "t_send": now_ms()}, payload)
                for message in messages:
                    await src.send(message)
                raw = await dst.recv()
                received = now_ms()
                sent, _ = decode(raw)
                times.append(received - sent["hub_in"])
                from_send.append(received - sent["t_send"])
            wire = len(messages[0]) + len(payload) - min(len(payload), FRAGMENT_BYTES)  # fragment headers aside
            rows.append({"bytes": wire, "ms": statistics.median(times), "samples": times,
                         "from_send_ms": statistics.median(from_send)})
    nbytes = np.array([r["bytes"] for r in rows], dtype=float)
    ms = np.array([r["ms"] for r in rows])
    slope, intercept = np.polyfit(nbytes, ms, 1)
    spec = hub.shaper.hops[hop]
    return {"name": hop, "configured_mbps": spec.mbps, "measured_mbps": float(8e-3 / slope) if slope > 0 else None,
            "configured_delay_ms": spec.delay_ms, "measured_delay_ms": float(intercept), "sizes": rows}


async def link_check(hub: Hub, sizes_kb: list[float], repeats: int) -> list[dict]:
    return [await probe_hop(hub, hop, sizes_kb, repeats) for hop in hub.shaper.hops]
