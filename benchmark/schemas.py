"""The config schemas of `python -m benchmark`, registered in Hydra's ConfigStore.

Every config group file extends a schema made from the dataclass that reads it, as in
Hydra's structured-config schema pattern (`defaults: [<name>_schema, _self_]`):

- `solver/<name>_schema`: `SolverSchema` (`name`, `timeout_s`: the runner's keys) plus
  the solver's own `Config`;
- `scenario/mec_schema`, `scenario/d2d_schema`, `model/model_schema`,
  `network/network_schema`: the dataclasses of `problems.build`, `problems.models` and
  `problems.networks`;
- `base_config`: the top level (`seed`, `instance`, `timing`, `isolation`, ...).

`python -m benchmark` registers the schemas of the solvers its command line names (and
all of them for an experiment or a glob), so that a run imports only its own solver.
So a YAML file holds only what differs from the dataclass defaults, a default is written
once (in the dataclass), and a misspelt key in a file or on the command line fails when
the config is composed. Hydra checks keys and types only; bounds and choices are
checked where the dataclass is read (`problems.schema.from_mapping`).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

from benchmark.isolate import IsolationConfig
from benchmark.reference import ReferenceConfig
from benchmark.runner import TimingConfig
from problems.instance import MAX_INSTANCE_MB


@dataclass
class SolverSchema:
    """The keys of every solver config that the runner reads; the rest is the solver's `Config`."""

    name: str = MISSING  # the registered solver name
    timeout_s: Optional[float] = None  # noqa: UP045 - OmegaConf reads typing.Optional; null: no limit


#: solver config keys that are not the solver's parameters
RUNNER_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SolverSchema))


@dataclass
class BaseConfig:
    """The top level of `conf/config.yaml`; the groups are filled by its defaults list."""

    solver: Any = MISSING
    model: Any = None
    scenario: Any = None
    network: Any = None
    seed: int = 0  # seeds every random choice of a run
    instance: Optional[str] = None  # noqa: UP045 - a partition-instance file; replaces model/scenario/network
    instance_max_mb: float = MAX_INSTANCE_MB  # larger instance files are refused unread
    timing: TimingConfig = field(default_factory=TimingConfig)
    reference: ReferenceConfig = field(default_factory=ReferenceConfig)  # the exact solver behind a DAG row's gap
    resume: bool = False  # with -m and an existing hydra.sweep.dir: skip jobs whose result.json has status ok
    plugins: list[str] = field(default_factory=list)  # modules imported before the solver is resolved
    isolation: IsolationConfig = field(default_factory=IsolationConfig)


# -- dataclass -> OmegaConf schema -----------------------------------------------------------------
_PLAIN = (int, float, bool, str)


def _omegaconf_type(tp: Any) -> Any:
    """The annotation as OmegaConf 2.3 can check it: Literal -> its value type, `X | None`
    -> Optional[X], tuples -> lists, nested dataclasses -> their schema, else Any."""
    origin = typing.get_origin(tp)
    if tp in _PLAIN or tp is Any:
        return tp
    if dataclasses.is_dataclass(tp):
        return schema_of(tp)
    if origin is typing.Literal:
        kinds = {type(v) for v in typing.get_args(tp)}
        return kinds.pop() if len(kinds) == 1 and kinds <= set(_PLAIN) else Any
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = _omegaconf_type(args[0]) if len(args) == 1 else Any
        return Optional[inner] if inner is not Any and len(args) < len(typing.get_args(tp)) else inner  # noqa: UP045
    if origin in (list, tuple):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        inner = {_omegaconf_type(a) for a in args}
        return list[inner.pop()] if len(inner) == 1 else list[Any]
    if origin is dict or tp is dict:
        return dict[str, Any]
    return Any


def _default(f: dataclasses.Field) -> dataclasses.Field:
    """The field's default for the schema: nested dataclass values become schema instances."""
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    elif f.default is not dataclasses.MISSING:
        value = f.default
    else:
        return field(default=MISSING)
    if dataclasses.is_dataclass(value) or isinstance(value, list | tuple | dict):
        built = _convert(value)
        return field(default_factory=lambda: copy.deepcopy(built))
    return field(default=value)


def _convert(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        cls = schema_of(type(value))
        return cls(**{f.name: _convert(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init})
    if isinstance(value, list | tuple):
        return [_convert(v) for v in value]
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    return value


@functools.cache
def schema_of(cls: type, base: type | None = None) -> type:
    """A dataclass with `cls`'s fields and defaults in types OmegaConf checks (and `base`'s
    fields first); `cls` itself stays the strict reader of the values."""
    hints = typing.get_type_hints(cls)
    own = [(f.name, _omegaconf_type(hints[f.name]), _default(f)) for f in dataclasses.fields(cls) if f.init]
    bases = (base,) if base is not None else ()
    return dataclasses.make_dataclass(f"{cls.__name__}Schema", own, bases=bases)


def solver_schema(name: str) -> type:
    """`SolverSchema` plus the solver's `Config`, with `name` defaulting to the solver's name."""
    from solvers import solver_class

    config = schema_of(solver_class(name).Config, SolverSchema)
    return dataclasses.make_dataclass(f"{config.__name__}Of_{name}", [("name", str, field(default=name))],
                                      bases=(config,))


# -- registration ----------------------------------------------------------------------------------
_PENDING = "partbench: solver schema made on first use"


class _LazySolverSchemas(dict):
    """The ConfigStore group `solver`: an entry `<name>_schema.yaml` is made (its solver's
    module imported, torch for iorlo) only when Hydra opens it. ConfigStore reads a group
    with `in`, `[]` and `keys()` only, so listing the options imports nothing."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, str) and value == _PENDING:
            from hydra.core.config_store import ConfigNode
            from omegaconf import OmegaConf

            name = key.removesuffix(".yaml").removesuffix("_schema")
            value = ConfigNode(name=key, node=OmegaConf.structured(solver_schema(name)), group="solver",
                               package=None, provider=None)
            super().__setitem__(key, value)
        return value


@functools.cache
def register() -> None:
    """Store every schema in Hydra's ConfigStore (once per process; before the config is composed)."""
    from hydra.core.config_store import ConfigStore

    from problems.build import SCENARIO_SCHEMAS
    from problems.models import ModelConfig
    from problems.networks import NetworkConfig
    from solvers.registry import names

    cs = ConfigStore.instance()
    cs.store(name="base_config", node=BaseConfig)
    group = _LazySolverSchemas(cs.repo.get("solver") or {})
    for name in names():  # made when Hydra opens one: a run imports only its own solver's module
        group.setdefault(f"{name}_schema.yaml", _PENDING)
    cs.repo["solver"] = group
    for kind, cls in SCENARIO_SCHEMAS.items():
        cs.store(group="scenario", name=f"{kind}_schema", node=schema_of(cls))
    from problems.fleet_build import FleetConfig

    cs.store(group="scenario", name="fleet_schema", node=schema_of(FleetConfig))
    cs.store(group="model", name="model_schema", node=schema_of(ModelConfig))
    cs.store(group="network", name="network_schema", node=schema_of(NetworkConfig))
