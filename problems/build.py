"""Build a `Problem` from the three configuration groups: model, scenario, network.

Each group is read strictly into a dataclass (a typo names its key); numeric values
are checked here so that a bad value fails before anything is computed or written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from problems.errors import FieldError
from problems.models import ModelConfig, profile_from_config
from problems.networks import NetworkConfig, network_from_config
from problems.presets import COLLABORATORS, collaborator_d, mec_tiers
from problems.problem import Problem
from problems.profile import Profile
from problems.scenario import Collaborator, D2DPower, D2DScenario, EarlyExit, MecPower, MecScenario, Tier
from problems.schema import from_mapping, require


@dataclass
class TierConfig:
    """`d: null` takes the spec's default for that tier."""

    d: float | None = None
    e: float = 1.0

    def validate(self, prefix: str) -> None:
        require(prefix, self, positive=("d",), non_negative=("e",))


@dataclass
class ServerTierConfig:
    """A server tier has only a speed factor: only the device's energy counts."""

    d: float | None = None

    def validate(self, prefix: str) -> None:
        require(prefix, self, positive=("d",))


@dataclass
class EarlyExitConfig:
    enabled: bool = False
    num_classes: int | None = None  # null: the model's classes, else 10
    threshold: float = 0.5  # confidence threshold of the exit-probability model
    seed: int = 0

    def validate(self, prefix: str) -> None:
        if self.num_classes is not None and self.num_classes < 1:
            raise FieldError(f"{prefix}.num_classes", "must be a positive integer", self.num_classes)
        if not self.threshold >= 0:
            raise FieldError(f"{prefix}.threshold", "must not be negative", self.threshold)


@dataclass
class MecWeights:
    energy: float = 300.0
    deploy: float = 500.0

    def validate(self, prefix: str) -> None:
        require(prefix, self, non_negative=("energy", "deploy"))


@dataclass
class D2DWeights:
    energy: float = 300.0

    def validate(self, prefix: str) -> None:
        require(prefix, self, non_negative=("energy",))


@dataclass
class MecPowerConfig:
    alpha_up_mw_per_mbps: float = 65.0
    alpha_down_mw_per_mbps: float = 6.5
    beta_mw: float = 11475.97

    def validate(self, prefix: str) -> None:
        require(prefix, self, non_negative=("alpha_up_mw_per_mbps", "alpha_down_mw_per_mbps", "beta_mw"))


@dataclass
class D2DPowerConfig:
    alpha_mw_per_mbps: float = 283.17
    beta_mw: float = 132.86

    def validate(self, prefix: str) -> None:
        require(prefix, self, non_negative=("alpha_mw_per_mbps", "beta_mw"))


@dataclass
class MecConfig:
    kind: str = "mec"
    device: TierConfig = field(default_factory=TierConfig)
    edge: ServerTierConfig = field(default_factory=ServerTierConfig)
    cloud: ServerTierConfig = field(default_factory=ServerTierConfig)
    power: MecPowerConfig = field(default_factory=MecPowerConfig)
    deploy_weights: tuple[float, float, float] = (0.0, 1.0, 1.0)
    weights: MecWeights = field(default_factory=MecWeights)
    early_exit: EarlyExitConfig = field(default_factory=EarlyExitConfig)

    def validate(self, prefix: str) -> None:
        for j, w in enumerate(self.deploy_weights):
            if w < 0:
                raise FieldError(f"{prefix}.deploy_weights[{j}]", "must not be negative", w)


@dataclass
class CollaboratorConfig:
    """A pool member; null fields take the preset's `d` and the network's d2d link."""

    name: str
    d: float | None = None
    mbps: float | None = None
    delay_ms: float | None = None

    def validate(self, prefix: str) -> None:
        require(prefix, self, positive=("d", "mbps"), non_negative=("delay_ms",))
        if self.d is None and self.name not in COLLABORATORS:
            raise FieldError(f"{prefix}.d", f"needed for a collaborator not in {sorted(COLLABORATORS)}", None)


@dataclass
class D2DConfig:
    kind: str = "d2d"
    device: TierConfig = field(default_factory=TierConfig)
    collaborator: str = "co-h"
    collaborator_d: float | None = None  # null: the preset's d
    collaborators: list[CollaboratorConfig] | None = None  # a pool: H_x is selected (spec section 5)
    power: D2DPowerConfig = field(default_factory=D2DPowerConfig)
    weights: D2DWeights = field(default_factory=D2DWeights)
    early_exit: EarlyExitConfig = field(default_factory=EarlyExitConfig)

    def validate(self, prefix: str) -> None:
        require(prefix, self, positive=("collaborator_d",))
        if self.collaborators is not None and not self.collaborators:
            raise FieldError(f"{prefix}.collaborators", "must not be empty", [])


SCENARIO_SCHEMAS = {"mec": MecConfig, "d2d": D2DConfig}


def scenario_config(data: Mapping | None) -> MecConfig | D2DConfig:
    data = dict(data or {})
    kind = data.get("kind", "mec")
    if not isinstance(kind, str) or kind not in SCENARIO_SCHEMAS:
        raise FieldError("scenario.kind", f"unknown scenario; choose one of {sorted(SCENARIO_SCHEMAS)}", kind)
    return from_mapping(SCENARIO_SCHEMAS[kind], data, "scenario")


def _tier(name: str, cfg: TierConfig | ServerTierConfig, default: float) -> Tier:
    return Tier(name, default if cfg.d is None else cfg.d, getattr(cfg, "e", 1.0))


def _early_exit(cfg: EarlyExitConfig, profile: Profile) -> tuple[EarlyExit, Profile]:
    classes = cfg.num_classes or profile.num_classes or 10
    if cfg.enabled and any(b.exit_prob is None for b in profile.blocks[:-1]):
        from problems.exits import with_exit_probs

        profile = with_exit_probs(profile, threshold=cfg.threshold, seed=cfg.seed)
    return EarlyExit(cfg.enabled, classes), profile


def build_problem(model: Mapping | None, scenario: Mapping | None, network: Mapping | None) -> Problem:
    """The problem named `<model>-<scenario>-<network>` from the three config groups."""
    mcfg = from_mapping(ModelConfig, model, "model")
    scfg = scenario_config(scenario)
    ncfg = from_mapping(NetworkConfig, network, "network")
    profile = profile_from_config(mcfg)
    net = network_from_config(ncfg)
    early_exit, profile = _early_exit(scfg.early_exit, profile)
    dev, edge, cloud = mec_tiers()
    device = _tier("device", scfg.device, dev.d)
    if isinstance(scfg, MecConfig):
        sc: MecScenario | D2DScenario = MecScenario(
            tiers=(device, _tier("edge", scfg.edge, edge.d), _tier("cloud", scfg.cloud, cloud.d)),
            te=net.te,
            ec=net.ec,
            power=MecPower(**vars(scfg.power)),
            deploy_weights=tuple(scfg.deploy_weights),
            w_energy=scfg.weights.energy,
            w_deploy=scfg.weights.deploy,
            early_exit=early_exit,
        )
    elif scfg.collaborators:
        pool = tuple(
            Collaborator(
                c.name,
                c.d if c.d is not None else collaborator_d(c.name),
                c.mbps if c.mbps is not None else net.d2d.mbps,
                c.delay_ms if c.delay_ms is not None else net.d2d.delay_ms,
            )
            for c in scfg.collaborators
        )
        sc = D2DScenario(device=device, collaborators=pool, power=D2DPower(**vars(scfg.power)),
                         w_energy=scfg.weights.energy, early_exit=early_exit)
    else:
        d = scfg.collaborator_d if scfg.collaborator_d is not None else collaborator_d(scfg.collaborator)
        sc = D2DScenario(device=device, collaborator=Tier(scfg.collaborator, d), link=net.d2d,
                         power=D2DPower(**vars(scfg.power)), w_energy=scfg.weights.energy, early_exit=early_exit)
    name = f"{profile.name}-{scfg.kind}-{net.name}"
    return Problem(profile, sc, name=name)  # the profile keeps the model's name
