"""Build a `Problem` from the three configuration groups: model, scenario, network.

Each group is read strictly into a dataclass (a typo names its key); numeric values
are checked here so that a bad value fails before anything is computed or written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from problems.errors import FieldError
from problems.instance import problem_to_dict, read_document
from problems.models import ModelConfig, profile_from_config
from problems.networks import NetworkConfig, network_from_config
from problems.presets import COLLABORATORS, Network, collaborator_d, mec_tiers, network_preset
from problems.problem import Problem
from problems.profile import Profile
from problems.scenario import (
    DEPLOY_WEIGHTS,
    MAX_CLASSES,
    NUM_CLASSES,
    W_DEPLOY,
    W_ENERGY,
    Collaborator,
    D2DPower,
    D2DScenario,
    EarlyExit,
    MecPower,
    MecScenario,
    Scenario,
    Tier,
)
from problems.schema import bounded, from_mapping


@dataclass
class TierConfig:
    """`d: null` takes the spec's default for that tier."""

    d: float | None = bounded(None, gt=0)
    e: float = bounded(1.0, ge=0)


@dataclass
class ServerTierConfig:
    """A server tier has only a speed factor: only the device's energy counts."""

    d: float | None = bounded(None, gt=0)


@dataclass
class EarlyExitConfig:
    enabled: bool = False
    num_classes: int | None = bounded(None, ge=1, le=MAX_CLASSES)  # null: the model's classes, else 10
    threshold: float = bounded(0.5, ge=0)  # confidence threshold of the exit-probability model
    seed: int = 0


@dataclass
class MecWeights:
    energy: float = bounded(W_ENERGY, ge=0)
    deploy: float = bounded(W_DEPLOY, ge=0)


@dataclass
class D2DWeights:
    energy: float = bounded(W_ENERGY, ge=0)


@dataclass
class MecConfig:
    kind: str = "mec"
    device: TierConfig = field(default_factory=TierConfig)
    edge: ServerTierConfig = field(default_factory=ServerTierConfig)
    cloud: ServerTierConfig = field(default_factory=ServerTierConfig)
    power: MecPower = field(default_factory=MecPower)
    deploy_weights: tuple[float, float, float] = bounded(DEPLOY_WEIGHTS, ge=0)
    weights: MecWeights = field(default_factory=MecWeights)
    early_exit: EarlyExitConfig = field(default_factory=EarlyExitConfig)


@dataclass
class CollaboratorConfig:
    """A pool member; null fields take the preset's `d` and the network's d2d link."""

    name: str
    d: float | None = bounded(None, gt=0)
    mbps: float | None = bounded(None, gt=0)
    delay_ms: float | None = bounded(None, ge=0)

    def validate(self, prefix: str) -> None:
        if self.d is None and self.name not in COLLABORATORS:
            raise FieldError(f"{prefix}.d", f"needed for a collaborator not in {sorted(COLLABORATORS)}", None)


@dataclass
class D2DConfig:
    kind: str = "d2d"
    device: TierConfig = field(default_factory=TierConfig)
    collaborator: str = "co-h"
    collaborator_d: float | None = bounded(None, gt=0)  # null: the preset's d
    collaborators: list[CollaboratorConfig] | None = None  # a pool: H_x is selected (spec section 5)
    power: D2DPower = field(default_factory=D2DPower)
    weights: D2DWeights = field(default_factory=D2DWeights)
    early_exit: EarlyExitConfig = field(default_factory=EarlyExitConfig)

    def validate(self, prefix: str) -> None:
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


def _early_exit(cfg: EarlyExitConfig, profile: Profile | None) -> tuple[EarlyExit, Profile | None]:
    classes = cfg.num_classes or (profile.num_classes if profile is not None else None) or NUM_CLASSES
    if profile is not None and cfg.enabled and any(b.exit_prob is None for b in profile.blocks[:-1]):
        from problems.exits import with_exit_probs

        profile = with_exit_probs(profile, threshold=cfg.threshold, seed=cfg.seed)
    return EarlyExit(cfg.enabled, classes), profile


def scenario_from_config(scfg: MecConfig | D2DConfig, net: Network, early_exit: EarlyExit) -> Scenario:
    """The scenario of a validated scenario config over network `net`: spec defaults for every null."""
    dev, edge, cloud = mec_tiers()
    device = _tier("device", scfg.device, dev.d)
    if isinstance(scfg, MecConfig):
        return MecScenario(
            tiers=(device, _tier("edge", scfg.edge, edge.d), _tier("cloud", scfg.cloud, cloud.d)),
            te=net.te,
            ec=net.ec,
            power=scfg.power,
            deploy_weights=tuple(scfg.deploy_weights),
            w_energy=scfg.weights.energy,
            w_deploy=scfg.weights.deploy,
            early_exit=early_exit,
        )
    if scfg.collaborators:
        pool = tuple(
            Collaborator(
                c.name,
                c.d if c.d is not None else collaborator_d(c.name),
                c.mbps if c.mbps is not None else net.d2d.mbps,
                c.delay_ms if c.delay_ms is not None else net.d2d.delay_ms,
            )
            for c in scfg.collaborators
        )
        return D2DScenario(device=device, collaborators=pool, power=scfg.power, w_energy=scfg.weights.energy,
                           early_exit=early_exit)
    d = scfg.collaborator_d if scfg.collaborator_d is not None else collaborator_d(scfg.collaborator)
    return D2DScenario(device=device, collaborator=Tier(scfg.collaborator, d), link=net.d2d, power=scfg.power,
                       w_energy=scfg.weights.energy, early_exit=early_exit)


def make_scenario(kind: str = "mec", network: str | Network = "5g_avg", **overrides) -> Scenario:
    """A scenario from the spec defaults: `kind` (mec | d2d), a network preset name (or a
    `Network`), and any keys of the `scenario` config group, e.g.
    `make_scenario("d2d", "5g_worst", collaborator="co-l", early_exit={"enabled": True})`."""
    scfg = scenario_config({"kind": kind, **overrides})
    net = network_preset(network) if isinstance(network, str) else network
    early_exit, _ = _early_exit(scfg.early_exit, None)
    return scenario_from_config(scfg, net, early_exit)


def build_problem(model: Mapping | None, scenario: Mapping | None, network: Mapping | None) -> Problem:
    """The problem named `<model>-<scenario>-<network>` from the three config groups
    (a `FleetProblem` for `scenario.kind: fleet`, see `problems.fleet_build`)."""
    if isinstance(scenario, Mapping) and scenario.get("kind") == "fleet":
        from problems.fleet_build import build_fleet

        return build_fleet(model, scenario, network)  # type: ignore[return-value]
    mcfg = from_mapping(ModelConfig, model, "model")
    scfg = scenario_config(scenario)
    ncfg = from_mapping(NetworkConfig, network, "network")
    profile = profile_from_config(mcfg)
    net = network_from_config(ncfg)
    early_exit, profile = _early_exit(scfg.early_exit, profile)
    sc = scenario_from_config(scfg, net, early_exit)
    name = f"{profile.name}-{scfg.kind}-{net.name}"
    try:
        problem = Problem(profile, sc, name=name)  # the profile keeps the model's name
    except FieldError as exc:
        raise _as_config_error(exc, scfg, ncfg) from None
    read_document(problem_to_dict(problem))  # one validation path: what a job accepts, its instance.json loads
    return problem


def _as_config_error(exc: FieldError, scfg: MecConfig | D2DConfig, ncfg: NetworkConfig) -> FieldError:
    """An instance-level error (scenario.links.te.up_mbps, scenario.tiers[1].d) as the config key
    the user set (network.scale.bandwidth, scenario.edge.d), with that key's value."""
    field = exc.field
    own_pool_value = None
    if field.startswith("scenario.collaborators[") and scfg.collaborators:
        j, key = int(field.split("[")[1].split("]")[0]), field.rsplit(".", 1)[1]
        own_pool_value = getattr(scfg.collaborators[j], key, None)
    if field.startswith(("scenario.links.", "scenario.link.")) or (
            field.startswith("scenario.collaborators[") and own_pool_value is None and not field.endswith(".d")):
        key = "delay" if field.endswith("delay_ms") else "bandwidth"
        scale = getattr(ncfg.scale, key)
        return FieldError(f"network.scale.{key}", exc.message, scale) if scale != 1 else \
            FieldError("network.name", exc.message, ncfg.name)
    tiers = {"scenario.tiers[0].d": "scenario.device.d", "scenario.tiers[0].e": "scenario.device.e",
             "scenario.tiers[2].d": "scenario.cloud.d",
             "scenario.tiers[1].d": "scenario.edge.d" if isinstance(scfg, MecConfig) else "scenario.collaborator_d"}
    if field in tiers:
        return FieldError(tiers[field], exc.message, exc.value)
    return exc
