"""Named defaults: the paper's tiers (spec section 3) and 5G networks (spec section 8).

Tier speed factors use the exact expressions of the spec (capacity = GHz x cores; a
phone's capacity goes through the authors' fit 0.38 x + 0.065; the reference edge
server is 2.3 GHz x 16 = 36.8).
"""

from __future__ import annotations

from dataclasses import dataclass

from problems.errors import FieldError
from problems.scenario import D2DLink, Link, Tier

REFERENCE_CAPACITY = 2.3 * 16  # 36.8


def phone_d(ghz_total: float) -> float:
    return REFERENCE_CAPACITY / (ghz_total * 0.38 + 0.065)


DEVICE_D = phone_d(9.6)  # Kirin 970, 4 x 2.4 GHz
EDGE_D = 1.0
CLOUD_D = REFERENCE_CAPACITY / 112  # Xeon, 56 x 2.0 GHz

#: D2D collaborator presets: name -> d.
COLLABORATORS = {
    "co-h": phone_d(18.4),  # Mi 8, 4 x 2.8 + 4 x 1.8 GHz
    "co-l": phone_d(5.76),  # the device's 9.6 GHz at 60 % availability
}


def mec_tiers(device_e: float = 1.0) -> tuple[Tier, Tier, Tier]:
    return (Tier("device", DEVICE_D, device_e), Tier("edge", EDGE_D), Tier("cloud", CLOUD_D))


@dataclass(frozen=True)
class Network:
    """Link conditions for both scenarios: one-way delays (Table 2 round trip / 2)."""

    name: str
    te: Link
    ec: Link
    d2d: D2DLink


def _preset(name, te_up, te_down, ec_up, ec_down, d2d, te_rtt, ec_rtt, d2d_rtt) -> Network:
    return Network(
        name,
        Link(te_up, te_down, te_rtt / 2),
        Link(ec_up, ec_down, ec_rtt / 2),
        D2DLink(d2d, d2d_rtt / 2),
    )


#: Table 2 of the paper: bandwidths in Mbit/s, end-to-end latencies in ms.
NETWORKS = {
    "5g_avg": _preset("5g_avg", 76.1, 382.4, 73.3, 542.3, 87.6, 8.76, 27.04, 23.14),
    "5g_worst": _preset("5g_worst", 74.4, 332.5, 72.2, 466.3, 71.1, 104.25, 905.16, 304.16),
    "5g_best": _preset("5g_best", 77.9, 440.3, 73.9, 600.7, 97.3, 1.61, 15.37, 2.72),
}


def network_preset(name: str) -> Network:
    if name not in NETWORKS:
        raise FieldError("network.name", f"unknown network; choose one of {sorted(NETWORKS)}", name)
    return NETWORKS[name]


def collaborator_d(name: str) -> float:
    if name not in COLLABORATORS:
        raise FieldError("scenario.collaborator", f"unknown collaborator; choose one of {sorted(COLLABORATORS)}", name)
    return COLLABORATORS[name]
