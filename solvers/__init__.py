"""partbench solvers: every method that turns a `Problem` into an assignment."""

from solvers.base import NoConfig, Solution, Solver, Unsupported
from solvers.registry import available, builtin, make_solver, register, solver_class

__all__ = ["NoConfig", "Solution", "Solver", "Unsupported", "available", "builtin", "make_solver", "register",
           "solver_class"]
