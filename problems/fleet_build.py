"""Build a `FleetProblem` from the `scenario=fleet` config group (spec section 13).

`scenario.models` is cycled over the `scenario.users` users (null: the `model` group's
model for everyone). Rates are explicit (`scenario.rates`, one per user) or set by the
offered load: equal rates such that cloud-only's cloud utilization equals
`scenario.load`, i.e. `lambda = load * 1000 * cloud.workers / sum_k sum_i c(k, i, cloud)`.
`user_networks: preset` gives every user the network's `te` link; `sampled` draws one per
user within Table 2's ranges (seeded by `network.seed`). The `ec` link is the network's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from problems.build import MecWeights, ServerTierConfig, TierConfig
from problems.errors import FieldError
from problems.fleet import CLOUD, QUEUEING, FleetProblem, FleetShared, FleetUser
from problems.models import ModelConfig, profile_from_config
from problems.networks import NetworkConfig, network_from_config, sample_network
from problems.presets import mec_tiers
from problems.scenario import MecPower, Tier
from problems.schema import bounded, from_mapping


@dataclass
class ServerConfig(ServerTierConfig):
    workers: int = bounded(1, ge=1)


@dataclass
class FleetConfig:
    kind: str = "fleet"
    users: int = 4
    models: list[str] | None = None  # cycled over the users; null: the model group's model
    load: float | None = 1.0  # offered load: cloud-only's cloud utilization
    rates: list[float] | None = None  # explicit rates (requests/s), one per user; replaces load
    device: TierConfig = field(default_factory=TierConfig)
    edge: ServerConfig = field(default_factory=ServerConfig)
    cloud: ServerConfig = field(default_factory=ServerConfig)
    power: MecPower = field(default_factory=MecPower)
    deploy_weights: tuple[float, float, float] = (0.0, 1.0, 1.0)
    weights: MecWeights = field(default_factory=MecWeights)
    queueing: str = "none"
    max_utilization: float = 0.9
    user_networks: Literal["preset", "sampled"] = "preset"

    def validate(self, prefix: str) -> None:
        if self.users < 1:
            raise FieldError(f"{prefix}.users", "must be a positive integer", self.users)
        if self.models is not None and not self.models:
            raise FieldError(f"{prefix}.models", "must not be empty (or null for the model group's model)", [])
        if self.rates is None:
            if self.load is None or not self.load > 0:
                raise FieldError(f"{prefix}.load", "must be greater than 0 (or give scenario.rates)", self.load)
        else:
            if len(self.rates) != self.users:
                raise FieldError(f"{prefix}.rates", f"needs one rate per user ({self.users})", len(self.rates))
            for j, r in enumerate(self.rates):
                if not r > 0:
                    raise FieldError(f"{prefix}.rates[{j}]", "must be greater than 0", r)
        if self.queueing not in QUEUEING:
            raise FieldError(f"{prefix}.queueing", f"unknown queueing; choose one of {list(QUEUEING)}", self.queueing)
        if not 0 < self.max_utilization <= 1:
            raise FieldError(f"{prefix}.max_utilization", "must lie in (0, 1]", self.max_utilization)
        for j, w in enumerate(self.deploy_weights):
            if w < 0:
                raise FieldError(f"{prefix}.deploy_weights[{j}]", "must not be negative", w)


def build_fleet(model: Mapping | None, scenario: Mapping | None, network: Mapping | None) -> FleetProblem:
    """The fleet of `scenario` (kind fleet) under `network`."""
    cfg = from_mapping(FleetConfig, scenario, "scenario")
    ncfg = from_mapping(NetworkConfig, network, "network")
    net = network_from_config(ncfg)
    profiles = {}
    if cfg.models is None:
        mcfg = from_mapping(ModelConfig, model, "model")
        names = [mcfg.name]
        profiles[mcfg.name] = profile_from_config(mcfg)
    else:
        names = list(cfg.models)
        for j, m in enumerate(names):
            if m not in profiles:
                profiles[m] = profile_from_config(from_mapping(ModelConfig, {"name": m}, f"scenario.models[{j}]"))
    dev, edge, cloud = mec_tiers()
    device = Tier("device", dev.d if cfg.device.d is None else cfg.device.d, cfg.device.e)
    shared = FleetShared(
        edge=Tier("edge", edge.d if cfg.edge.d is None else cfg.edge.d),
        cloud=Tier("cloud", cloud.d if cfg.cloud.d is None else cfg.cloud.d),
        edge_workers=cfg.edge.workers, cloud_workers=cfg.cloud.workers, ec=net.ec,
        power=cfg.power, deploy_weights=tuple(cfg.deploy_weights),  # type: ignore[arg-type]
        w_energy=cfg.weights.energy, w_deploy=cfg.weights.deploy,
        max_utilization=cfg.max_utilization, queueing=cfg.queueing,
    )
    if cfg.user_networks == "sampled":
        seqs = np.random.SeedSequence(ncfg.seed).spawn(cfg.users)
        links = [sample_network(np.random.default_rng(s)).te for s in seqs]
    else:
        links = [net.te] * cfg.users
    users = [FleetUser(f"u{k}-{names[k % len(names)]}", 1.0, device, links[k], profiles[names[k % len(names)]])
             for k in range(cfg.users)]
    fleet = FleetProblem(users, shared)
    if cfg.rates is not None:
        rates = [float(r) for r in cfg.rates]
        label = "rates"
    else:
        cloud_ms = float(fleet.tables.load[:, :, CLOUD].sum())  # cloud-only's cloud load, all users
        rates = [cfg.load * 1000.0 * cfg.cloud.workers / cloud_ms] * cfg.users
        label = f"load{cfg.load:g}"
    users = [FleetUser(u.name, r, u.device, u.te, u.profile) for u, r in zip(users, rates, strict=True)]
    nets = "sampled" if cfg.user_networks == "sampled" else net.name
    return FleetProblem(users, shared, name=f"fleet{cfg.users}-{label}-{cfg.queueing}-{nets}")
