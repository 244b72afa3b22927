"""`python -m testbed.measure_links [--network 5g_avg ...] [--repeats N]`: the link-shaping benchmark.

The hub alone (no browser, no workers) shapes probe messages on every hop of each network
preset, as the testbed's link check does, and the table gives each hop's measured rate and
delay against the configured ones with the targets' errors (5 % of rate, 1 ms of delay).
"""

from __future__ import annotations

import argparse
import asyncio

from problems.build import build_problem
from testbed.hub import Hub
from testbed.linkcheck import link_check
from testbed.links import hop_specs, routes


async def measure(network: str, sizes_kb: list[float], repeats: int) -> list[dict]:
    problem = build_problem({"name": "alexnet"}, {"kind": "mec"}, {"name": network})
    hub = Hub(["device", "edge", "cloud"], routes(problem), hop_specs(problem))
    await hub.start()
    try:
        return await link_check(hub, sizes_kb, repeats)
    finally:
        await hub.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.measure_links", description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", nargs="+", default=["5g_avg", "5g_worst", "5g_best"])
    parser.add_argument("--sizes-kb", nargs="+", type=float, default=[16.0, 256.0, 1024.0, 2048.0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print("| network | hop | configured Mbit/s | measured | rate error | configured delay ms | measured "
          "| delay error |")
    print("|---|---|---|---|---|---|---|---|")
    for network in args.network:
        for h in asyncio.run(measure(network, args.sizes_kb, args.repeats)):
            rate_err = (h["measured_mbps"] - h["configured_mbps"]) / h["configured_mbps"]
            delay_err = h["measured_delay_ms"] - h["configured_delay_ms"]
            print(f"| {network} | {h['name']} | {h['configured_mbps']:.1f} | {h['measured_mbps']:.1f} | "
                  f"{100 * rate_err:+.1f} % | {h['configured_delay_ms']:.2f} | {h['measured_delay_ms']:.2f} | "
                  f"{delay_err:+.2f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
