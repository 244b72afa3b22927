"""Network conditions from configuration: the Table 2 presets, sampled networks, scaling.

`network=sampled network.seed=k` draws every link quantity independently from a Beta
distribution scaled to Table 2's range (`5g_worst` .. `5g_best`) whose mean is the
`5g_avg` value: with `m = (avg - lo) / (hi - lo)` the draw is `lo + (hi - lo) * Beta(m c, (1 - m) c)`,
concentration `c = CONCENTRATION`. Bandwidths and one-way delays are drawn; a sampled
network therefore never leaves the measured range and averages to the paper's average.
Table 2's loss tolerance and jitter are not part of the cost model and are not drawn.

`network.scale.bandwidth` multiplies every link's bandwidth and `network.scale.delay`
every one-way delay (presets and sampled networks alike), so that sweeps over network
quality are one override.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from problems.errors import FieldError
from problems.presets import NETWORKS, Network, network_preset
from problems.scenario import D2DLink, Link
from problems.schema import bounded

#: Beta concentration a + b of every sampled quantity: variance = m (1 - m) (hi - lo)^2 / (c + 1)
CONCENTRATION = 10.0
SAMPLED = "sampled"
NETWORK_NAMES = (*NETWORKS, SAMPLED)

#: every sampled quantity as (link, field) of `Network`
_QUANTITIES = (
    ("te", "up_mbps"), ("te", "down_mbps"), ("te", "delay_ms"),
    ("ec", "up_mbps"), ("ec", "down_mbps"), ("ec", "delay_ms"),
    ("d2d", "mbps"), ("d2d", "delay_ms"),
)


@dataclass
class ScaleConfig:
    bandwidth: float = bounded(1.0, gt=0)
    delay: float = bounded(1.0, gt=0)


@dataclass
class NetworkConfig:
    name: str = "5g_avg"
    scale: ScaleConfig = field(default_factory=ScaleConfig)
    seed: int = bounded(0, ge=0)  # the draw of `name: sampled`; ignored by the fixed presets

    def validate(self, prefix: str) -> None:
        if self.name not in NETWORK_NAMES:
            raise FieldError(f"{prefix}.name", f"unknown network; choose one of {list(NETWORK_NAMES)}", self.name)


def sample_ranges() -> dict[tuple[str, str], tuple[float, float, float]]:
    """(link, field) -> (lo, mean, hi) of Table 2: min, average and max over the presets."""
    avg = NETWORKS["5g_avg"]
    out = {}
    for link, key in _QUANTITIES:
        values = [getattr(getattr(NETWORKS[p], link), key) for p in ("5g_worst", "5g_best")]
        out[link, key] = (min(values), getattr(getattr(avg, link), key), max(values))
    return out


def sample_network(rng: np.random.Generator, name: str = SAMPLED) -> Network:
    """One network drawn within Table 2's ranges, mean = the 5g_avg values (module docstring)."""
    drawn: dict[str, dict[str, float]] = {"te": {}, "ec": {}, "d2d": {}}
    for (link, key), (lo, mean, hi) in sample_ranges().items():
        m = (mean - lo) / (hi - lo)
        drawn[link][key] = float(lo + (hi - lo) * rng.beta(m * CONCENTRATION, (1 - m) * CONCENTRATION))
    return Network(name, Link(**drawn["te"]), Link(**drawn["ec"]), D2DLink(**drawn["d2d"]))


def scaled(net: Network, bandwidth: float = 1.0, delay: float = 1.0) -> Network:
    """`net` with every bandwidth times `bandwidth` and every delay times `delay`."""
    if bandwidth == 1.0 and delay == 1.0:
        return net

    def link(x: Link) -> Link:
        return Link(x.up_mbps * bandwidth, x.down_mbps * bandwidth, x.delay_ms * delay)

    name = net.name
    if bandwidth != 1.0:
        name += f"-bw{bandwidth:g}"
    if delay != 1.0:
        name += f"-dl{delay:g}"
    d2d = D2DLink(net.d2d.mbps * bandwidth, net.d2d.delay_ms * delay)
    return dataclasses.replace(net, name=name, te=link(net.te), ec=link(net.ec), d2d=d2d)


def network_from_config(cfg: NetworkConfig) -> Network:
    if cfg.name == SAMPLED:
        net = sample_network(np.random.default_rng(cfg.seed), name=f"{SAMPLED}{cfg.seed}")
    else:
        net = network_preset(cfg.name)
    return scaled(net, cfg.scale.bandwidth, cfg.scale.delay)
