"""Solver registry: a solver is one module in `solvers/` that calls `@register`."""

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


def register(cls: type[Solver]) -> type[Solver]:
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"solver name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _discover() -> None:
    import solvers

    for mod in pkgutil.iter_modules(solvers.__path__):
        if mod.name not in _INTERNAL and not mod.name.startswith("_"):
            importlib.import_module(f"solvers.{mod.name}")


def available() -> list[str]:
    _discover()
    return sorted(_REGISTRY)


def solver_class(name: str) -> type[Solver]:
    _discover()
    if name not in _REGISTRY:
        raise FieldError("solver.name", f"unknown solver; choose one of {sorted(_REGISTRY)}", name)
    return _REGISTRY[name]


def make_solver(name: str, params: Mapping[str, Any] | None = None, prefix: str = "solver") -> Solver:
    """Instantiate solver `name` with its config built strictly from `params`."""
    cls = solver_class(name)
    return cls(from_mapping(cls.Config, params or {}, prefix))
