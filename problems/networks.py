"""Network conditions from configuration: the Table 2 presets, scaled.

`network.scale.bandwidth` multiplies every link's bandwidth and `network.scale.delay`
every one-way delay, so that sweeps over network quality are one override.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from problems.errors import FieldError
from problems.presets import Network, network_preset
from problems.scenario import D2DLink, Link


@dataclass
class ScaleConfig:
    bandwidth: float = 1.0
    delay: float = 1.0

    def validate(self, prefix: str) -> None:
        for key in ("bandwidth", "delay"):
            value = getattr(self, key)
            if not value > 0:
                raise FieldError(f"{prefix}.{key}", "must be a positive finite number", value)


@dataclass
class NetworkConfig:
    name: str = "5g_avg"
    scale: ScaleConfig = field(default_factory=ScaleConfig)
    seed: int = 0


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
    net = network_preset(cfg.name)
    return scaled(net, cfg.scale.bandwidth, cfg.scale.delay)
