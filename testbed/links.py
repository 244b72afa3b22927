"""The testbed's network: named one-way hops, the tier-to-tier routes, and user-space shaping.

netem is not available on these kernels, so the hub shapes every message itself. A route
is the list of hops a message crosses (MEC: device -> cloud is te.up then ec.up); each hop
is store-and-forward, as the cost model's path time is the sum of its hops. On a hop the
message waits for the link to be free, takes `bytes * 8 / rate` to serialize and is held for
the hop's one-way delay.

Senders send a tensor in fragments (`testbed.wire.fragments`), and the first hop paces each
fragment as it reaches the hub, like a radio link that starts sending while the sender is
still handing it bytes: the sender's upload overlaps the link instead of preceding it. The
hops after the first are timers in the hub, started when the whole message is through the
hop before. On the last hop the bytes are really paced onto the receiver's socket, released
at the configured rate, the last piece at the exact deadline.

The hop values come from the problem's scenario (presets and `network.scale.*` applied by
`problems.build`); tests check that these routes cost what the problem's own hop matrices say.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from problems import Problem

#: the last ~ms before a deadline is spun, not slept: asyncio sleeps overshoot by up to 1 ms
SPIN_S = 0.0015


@dataclass(frozen=True)
class HopSpec:
    name: str
    mbps: float
    delay_ms: float

    def serialize_s(self, nbytes: int) -> float:
        return nbytes * 8 / (self.mbps * 1e6)


def hop_specs(problem: Problem) -> dict[str, HopSpec]:
    """Every one-way hop of the problem's scenario, by name (te.up, te.down, ec.up, ...)."""
    sc = problem.scenario
    if sc.kind == "mec":
        return {
            "te.up": HopSpec("te.up", sc.te.up_mbps, sc.te.delay_ms),
            "te.down": HopSpec("te.down", sc.te.down_mbps, sc.te.delay_ms),
            "ec.up": HopSpec("ec.up", sc.ec.up_mbps, sc.ec.delay_ms),
            "ec.down": HopSpec("ec.down", sc.ec.down_mbps, sc.ec.delay_ms),
        }
    _, link = sc.chosen()
    return {"d2d.up": HopSpec("d2d.up", link.mbps, link.delay_ms),
            "d2d.down": HopSpec("d2d.down", link.mbps, link.delay_ms)}


def routes(problem: Problem) -> dict[tuple[int, int], list[str]]:
    """(from tier, to tier) -> the hops crossed, as spec sections 4 and 5 list them."""
    if problem.kind == "mec":
        return {(0, 1): ["te.up"], (0, 2): ["te.up", "ec.up"], (1, 2): ["ec.up"],
                (1, 0): ["te.down"], (2, 0): ["ec.down", "te.down"], (2, 1): ["ec.down"]}
    return {(0, 1): ["d2d.up"], (1, 0): ["d2d.down"]}


async def sleep_until(deadline: float, precise: bool = False) -> None:
    """Sleep until `deadline` (time.perf_counter seconds); `precise` spins the last SPIN_S."""
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return
        if left > SPIN_S:
            await asyncio.sleep(left - SPIN_S if precise else left)
        elif not precise:
            return
        else:
            while time.perf_counter() < deadline:
                pass
            return


class Shaper:
    """The hops' state: when each link is free again (messages queue on a busy link)."""

    def __init__(self, hops: dict[str, HopSpec]):
        self.hops = hops
        self.free_at = dict.fromkeys(hops, 0.0)

    def schedule(self, names: list[str], nbytes: int, arrived: float) -> tuple[float, float]:
        """(start, end) in perf_counter seconds of the last hop's serialization of a message
        of `nbytes` that reached the hub at `arrived`: the earlier hops and every hop's delay
        come first."""
        t = arrived
        begin = end = arrived
        for name in names:
            hop = self.hops[name]
            start = max(t, self.free_at[name])
            ser = hop.serialize_s(nbytes)
            self.free_at[name] = start + ser
            begin = start + hop.delay_ms / 1e3
            end = begin + ser
            t = end
        return begin, end


class Transfer:
    """One message crossing a route, fed fragment by fragment as its bytes reach the hub.

    `feed` returns the pieces that may go onto the last hop, each with the interval
    (begin, end) over which the last hop delivers it: on a one-hop route every fragment as it
    arrives (its serialization starts when it is there and the link is free, its bytes leave
    the link `delay` later); on a longer route nothing until the last fragment, then the whole
    message, scheduled store-and-forward over the remaining hops."""

    def __init__(self, shaper: Shaper, names: list[str], arrived: float):
        self.shaper, self.names = shaper, names
        self.first = shaper.hops[names[0]]
        self.arrived = arrived
        self.nbytes = 0
        self.end = arrived  # when the last byte fed so far is delivered on the last hop

    def feed(self, nbytes: int, arrived: float, last: bool) -> list[tuple[int, float, float]]:
        """(bytes, begin, end) of what the last hop now carries (perf_counter seconds)."""
        name = self.first.name
        start = max(arrived, self.shaper.free_at[name])
        done = start + self.first.serialize_s(nbytes)
        self.shaper.free_at[name] = done
        self.nbytes += nbytes
        delay = self.first.delay_ms / 1e3
        if len(self.names) == 1:
            self.end = done + delay
            return [(nbytes, start + delay, done + delay)]
        if not last:
            return []
        begin, self.end = self.shaper.schedule(self.names[1:], self.nbytes, done + delay)
        return [(self.nbytes, begin, self.end)]


#: bytes per paced piece: at least this, and at least 2 ms of the link's rate
MIN_FRAGMENT = 16 * 1024


async def paced(data: bytes, begin: float, end: float, precise: bool = True) -> AsyncIterator[bytes]:
    """`data` in pieces, each released when the link has serialized its last byte; `precise`
    releases the last one at the exact deadline."""
    total = len(data)
    step = max(MIN_FRAGMENT, int(total * 0.002 / max(end - begin, 1e-9)))
    view = memoryview(data)
    for lo in range(0, total, step):
        hi = min(lo + step, total)
        last = hi == total
        await sleep_until(begin + (end - begin) * hi / total, precise=precise and last)
        yield bytes(view[lo:hi])
