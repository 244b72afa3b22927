"""Solver registry: a solver is one module in `solvers/` that calls `@register`.

Solvers are resolved lazily, by name: `solver_class("dp")` imports `solvers.dp` and no
other solver module, so a run pays only for its own solver's imports (torch, numba,
OR-Tools and Optuna cost seconds together). A solver whose module is not named after it
is listed in `MODULES`; a name found nowhere else makes every module load (`available`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

from problems.errors import FieldError
from problems.schema import from_mapping
from solvers.base import Solver

_REGISTRY: dict[str, type[Solver]] = {}
_INTERNAL = {"base", "registry"}
#: solver name -> module in `solvers/`, for the solvers whose module has another name
MODULES = {"device_only": "fixed", "edge_only": "fixed", "cloud_only": "fixed", "collaborator_only": "fixed",
           "optuna": "optuna_tpe", "sb3_ddpg": "sb3", "sb3_ddpg_small": "sb3", "sb3_td3": "sb3", "sb3_sac": "sb3",
           "sb3_ppo": "sb3"}


def register(cls: type[Solver]) -> type[Solver]:
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"solver name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _modules() -> list[str]:
    import solvers

    return [m.name for m in pkgutil.iter_modules(solvers.__path__)
            if m.name not in _INTERNAL and not m.name.startswith("_")]


def _discover() -> None:
    for name in _modules():
        importlib.import_module(f"solvers.{name}")


def _load(name: str) -> None:
    """Import the one module that should define solver `name`, if there is one."""
    module = MODULES.get(name, name)
    if module.isidentifier() and module in _modules():
        importlib.import_module(f"solvers.{module}")


def names() -> list[str]:
    """Every solver's name without importing any solver module: a module is named after
    its solver unless `MODULES` says otherwise; plugins registered so far are included."""
    named = set(MODULES.values())
    return sorted({*MODULES, *(m for m in _modules() if m not in named), *_REGISTRY})


def available() -> list[str]:
    """Every registered solver: partbench's own and those plugins registered."""
    _discover()
    return sorted(_REGISTRY)


def builtin() -> list[str]:
    """partbench's own solvers (the modules of `solvers/`), without plugins."""
    _discover()
    return sorted(name for name, cls in _REGISTRY.items() if cls.__module__.startswith("solvers."))


def solver_class(name: str) -> type[Solver]:
    if name not in _REGISTRY and isinstance(name, str):
        _load(name)
    if name not in _REGISTRY:
        _discover()
    if name not in _REGISTRY:
        raise FieldError("solver.name", f"unknown solver; choose one of {sorted(_REGISTRY)}", name)
    return _REGISTRY[name]


def make_solver(name: str, params: Mapping[str, Any] | None = None, prefix: str = "solver") -> Solver:
    """Instantiate solver `name` with its config built strictly from `params`."""
    cls = solver_class(name)
    return cls(from_mapping(cls.Config, params or {}, prefix))
