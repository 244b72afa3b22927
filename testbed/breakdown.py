"""Where a request's time went, from the trace the tiers stamp on its way.

A trace lists the blocks each tier ran (start and end) and the transfers it received
(sender's send stamp, hub arrival, shaped time, receiver's stamp). A transfer's measured
time splits into `to_hub` (the sender's own send work and the loopback socket), the
`shaped` time the hub held it (the configured link) and `after` (the rest: the hub's
release to the receiver reading it, in the browser under CPU throttling too). The device's
end-to-end time minus blocks and transfers is `other` (starting and finishing on the page).
Stamps of different processes share the wall clock; the page's may be off by a few ms.
"""

from __future__ import annotations

import statistics
from collections import defaultdict


def request_parts(trace: list[dict], e2e_ms: float) -> dict:
    blocks = [{"block": e["i"], "tier": e["tier"], "ms": e["t1"] - e["t0"]} for e in trace if e["k"] == "block"]
    transfers = []
    for e in trace:
        if e["k"] != "xfer":
            continue
        total = e["t_recv"] - e["t_send"]
        to_hub = e["hub_in"] - e["t_send"]
        transfers.append({"src": e["src"], "dst": e["dst"], "bytes": e["bytes"], "ms": total, "to_hub_ms": to_hub,
                          "shaped_ms": e["shaped_ms"], "after_ms": total - to_hub - e["shaped_ms"]})
    other = e2e_ms - sum(b["ms"] for b in blocks) - sum(t["ms"] for t in transfers)
    return {"e2e_ms": e2e_ms, "blocks": blocks, "transfers": transfers, "other_ms": other}


def median_parts(parts: list[dict]) -> dict:
    """Medians over requests of every block's and every transfer's times (same partition)."""
    by_block: dict[tuple[int, int], list[float]] = defaultdict(list)
    by_xfer: dict[tuple[int, int, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for p in parts:
        for b in p["blocks"]:
            by_block[(b["block"], b["tier"])].append(b["ms"])
        for k, t in enumerate(p["transfers"]):
            for key in ("ms", "to_hub_ms", "shaped_ms", "after_ms"):
                by_xfer[(k, t["src"], t["dst"])][key].append(t[key])
            by_xfer[(k, t["src"], t["dst"])]["bytes"] = [t["bytes"]]
    med = statistics.median
    return {
        "e2e_ms": med(p["e2e_ms"] for p in parts),
        "other_ms": med(p["other_ms"] for p in parts),
        "blocks": [{"block": i, "tier": s, "ms": med(v)} for (i, s), v in sorted(by_block.items())],
        "transfers": [{"src": s, "dst": d, "bytes": int(v["bytes"][0]), **{k: med(v[k]) for k in
                       ("ms", "to_hub_ms", "shaped_ms", "after_ms")}} for (_, s, d), v in sorted(by_xfer.items())],
    }


def calibration_vs_requests(calibration: list[list[float]], partitions: list[dict]) -> dict:
    """The calibrated block times against the same blocks' times inside requests.

    `calibration[i][s]` is block i's calibrated ms on tier s; `partitions` are requests.json's
    rows (each with its requests' parts). Per (block, tier) that some request ran: the
    calibrated ms and the median in-request ms over every request of every partition; per
    partition and tier: the sums of both over the blocks the partition gives that tier."""
    runs: dict[tuple[int, int], list[float]] = defaultdict(list)
    for row in partitions:
        for p in row["requests"]:
            for b in p["blocks"]:
                runs[(b["block"], b["tier"])].append(b["ms"])
    blocks = [{"block": i, "tier": s, "calibrated_ms": calibration[i][s], "in_request_ms": statistics.median(v)}
              for (i, s), v in sorted(runs.items())]
    sums = []
    for row in partitions:
        med = {(b["block"], b["tier"]): b["ms"] for b in row["breakdown"]["blocks"]}
        for s in sorted({s for _, s in med}):
            cal = sum(calibration[i][t] for (i, t) in med if t == s)
            got = sum(ms for (_, t), ms in med.items() if t == s)
            sums.append({"solver": row["solver"], "tier": s, "calibrated_ms": cal, "in_request_ms": got,
                         "ratio": cal / got if got > 0 else None})
    return {"blocks": blocks, "tiers": sums}
