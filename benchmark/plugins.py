"""`plugins: [module, ...]`: modules imported before the solver is resolved.

A solver outside `solvers/` (a private method, a test double) registers itself with
`@solvers.register` when its module is imported; listing the module here makes it
available to `solver.name` without touching the package.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from problems.errors import FieldError


def plugin_names(value: object) -> tuple[str, ...]:
    """The validated list of module names (`null` is no plugins)."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise FieldError("plugins", "must be a list of module names", value)
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name:
            raise FieldError(f"plugins[{i}]", "must be a module name", name)
    return tuple(value)


def load_plugins(value: object) -> tuple[str, ...]:
    """Import every listed module; a module that cannot be imported is bad input."""
    names = plugin_names(value)
    for i, name in enumerate(names):
        try:
            importlib.import_module(name)
        except (Exception, SystemExit) as exc:  # an import error, an error or sys.exit() in the module itself
            raise FieldError(f"plugins[{i}]", f"cannot import module ({type(exc).__name__}: {exc})", name) from None
    return names
