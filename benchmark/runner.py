"""Run one solver on one problem, benchopt style: the runner owns seeds, timing,
error capture and re-scoring.

Only `solve` is timed: after a first call (which also warms caches and JIT code), it is
repeated with the same seed until `budget_s` is spent (at most `max_repeats` times) and
the median is reported; a solver slower than the budget runs once. Every metric comes
from the problem's own scoring of the returned assignment, never from the solver.
"""

from __future__ import annotations

import math
import reprlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.reference import reference as find_reference
from benchmark.results import STATUSES
from problems import Problem, ProblemError
from problems.errors import FieldError
from solvers import Unsupported, make_solver

__all__ = ["STATUSES", "TimingConfig", "base_row", "gap", "jsonable", "run", "seeds"]
MAX_BUDGET_S = 3600.0
MAX_REPEATS = 1_000_000


@dataclass
class TimingConfig:
    budget_s: float = 0.5  # time spent repeating solve() for the median
    max_repeats: int = 200

    def validate(self, prefix: str) -> None:
        if not 0 <= self.budget_s <= MAX_BUDGET_S:
            raise FieldError(f"{prefix}.budget_s", f"must be between 0 and {MAX_BUDGET_S:g} seconds", self.budget_s)
        if not 1 <= self.max_repeats <= MAX_REPEATS:
            raise FieldError(f"{prefix}.max_repeats", f"must be between 1 and {MAX_REPEATS:,}", self.max_repeats)


def seeds(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for prepare and for every (identical) solve call."""
    prep, solve = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(prep), np.random.default_rng(solve)


MAX_JSON_DEPTH = 100  # deeper info is cut (a repr); Python's JSON encoder recurses


def jsonable(value: Any, _seen: frozenset[int] = frozenset()) -> Any:
    """Info dicts as plain JSON values (numpy scalars and arrays included). A container
    that holds itself becomes the text `<cycle>`, one nested too deeply its repr."""
    if isinstance(value, dict | list | tuple):
        if id(value) in _seen:
            return "<cycle>"
        if len(_seen) >= MAX_JSON_DEPTH:
            return reprlib.repr(value)
        inner = _seen | {id(value)}
        if isinstance(value, dict):
            return {str(k): jsonable(v, inner) for k, v in value.items()}
        return [jsonable(v, inner) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist(), _seen)
    if isinstance(value, np.generic):
        return jsonable(value.item(), _seen)
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def gap(cost: float, optimal: float) -> float:
    if optimal == 0:
        return 0.0 if cost == 0 else math.inf
    return (cost - optimal) / optimal


#: `on_phase(name, seconds)`: "prepare" before prepare starts, "solve" when it is done (its
#: seconds), "solved" after the first solve (its seconds)
PhaseHook = Callable[[str, float], None]


def _no_phase(name: str, seconds: float) -> None:
    return None


def _timed_solve(solver, problem: Problem, seed: int, timing: TimingConfig, on_phase: PhaseHook = _no_phase):
    _, solve_seed = np.random.SeedSequence(seed).spawn(2)
    t0 = time.perf_counter()
    first = solver.solve(problem, np.random.default_rng(solve_seed))
    times = [time.perf_counter() - t0]
    spent = times[0]
    on_phase("solved", spent)
    if spent < timing.budget_s:
        times = []
        while len(times) < timing.max_repeats and (spent < timing.budget_s or len(times) < 3):
            rng = np.random.default_rng(solve_seed)
            t0 = time.perf_counter()
            solver.solve(problem, rng)
            dt = time.perf_counter() - t0
            times.append(dt)
            spent += dt
    return first, float(np.median(times)) * 1e3, len(times)


def base_row(problem: Problem, solver_name: str, seed: int) -> dict[str, Any]:
    """The row of a job before its solver ran: status `ok`, no solution yet, the optimum known."""
    row: dict[str, Any] = {
        "solver": solver_name,
        "instance": problem.name,
        "scenario": problem.kind,
        "n_blocks": problem.n_blocks,
        "tiers": problem.tier_names,
        "early_exit": bool(problem.scenario.early_exit.enabled),
        "seed": seed,
        "status": "ok",
        "error": None,
        "assignment": None,
        "cost": None,
        "latency_ms": None,
        "energy_j": None,
        "deploy": None,
        "optimal_cost": None,
        "reference_cost": None,
        "reference_kind": None,
        "gap": None,
        "decision_ms": None,
        "decision_repeats": 0,
        "prepare_s": None,
        "info": {},
    }
    ref = find_reference(problem)
    row["reference_cost"], row["reference_kind"] = ref.cost, ref.kind
    row["optimal_cost"] = ref.cost if ref.kind == "optimal" else None
    return row


def run(problem: Problem, solver_name: str, params: dict | None = None, seed: int = 0,
        timing: TimingConfig | None = None, *, on_phase: PhaseHook | None = None) -> dict[str, Any]:
    """One long-format result row. Configuration errors propagate (bad input);
    solver errors become status `failed`, refusals `unsupported`. `on_phase` lets a
    supervising process time prepare + first solve (see `benchmark.isolate`)."""
    timing = timing or TimingConfig()
    on_phase = on_phase or _no_phase
    solver = make_solver(solver_name, params or {})
    row = base_row(problem, solver_name, seed)
    prep_rng, _ = seeds(seed)
    try:
        on_phase("prepare", 0.0)
        t0 = time.perf_counter()
        solver.prepare(problem, prep_rng)
        row["prepare_s"] = time.perf_counter() - t0
        on_phase("solve", row["prepare_s"])
        solution, row["decision_ms"], row["decision_repeats"] = _timed_solve(solver, problem, seed, timing, on_phase)
        assignment = np.asarray(solution.assignment)
        try:
            problem.check(assignment)
        except ProblemError as exc:
            raise RuntimeError(f"solver returned an invalid assignment: {exc}") from None
        if assignment.ndim != 1:
            raise RuntimeError(f"solver returned an assignment of shape {list(assignment.shape)}")
        row["assignment"] = [int(x) for x in assignment]
        row.update(problem.score(assignment))
        if row["reference_cost"] is not None:
            row["gap"] = gap(row["cost"], row["reference_cost"])
        row["info"] = solution.info
    except Unsupported as exc:
        row["status"], row["error"] = "unsupported", str(exc) or "unsupported"
    except (Exception, SystemExit) as exc:  # a solver calling sys.exit() must not end a sweep
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["info"] = {"traceback": traceback.format_exc(limit=8)}
    try:
        row["info"] = jsonable(row["info"])
    except Exception as exc:  # an info object whose repr fails
        row["info"] = {"unrecordable": f"{type(exc).__name__}: {exc}"}
    return row
