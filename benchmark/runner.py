"""Run one solver on one problem, benchopt style: the runner owns seeds, timing,
error capture and re-scoring.

Decision time (`decision_ms`) is the median wall time of one `solve` call on a prepared
solver: after a first call (which also warms caches and JIT code), `solve` is repeated with
the same seed until `budget_s` is spent (at least 3, at most `max_repeats` times) and the
median of the repeats is reported; a first call slower than the budget is the only one.
`prepare` (training, tuning) is never part of it. Every metric comes from the problem's own
scoring of the returned assignment, never from the solver. `time_solve`, `gap` and
`peak_rss_mb` are the pieces the measurement scripts reuse.
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

from benchmark.fleet_rows import fleet_fields, is_fleet, score_fleet
from benchmark.reference import DEFAULT_TIME_LIMIT_S, edge_count, problem_class
from benchmark.reference import reference as find_reference
from problems import Problem, ProblemError
from problems.results import STATUSES
from problems.schema import bounded
from solvers import Unsupported, make_solver
from solvers.base import Solution

__all__ = ["STATUSES", "TimingConfig", "base_row", "gap", "jsonable", "run", "seeds"]
MAX_BUDGET_S = 3600.0
MAX_REPEATS = 1_000_000


@dataclass
class TimingConfig:
    budget_s: float = bounded(0.5, ge=0, le=MAX_BUDGET_S)  # time spent repeating solve() for the median
    max_repeats: int = bounded(200, ge=1, le=MAX_REPEATS)


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
    """Relative optimality gap `(cost - optimal) / optimal` (0 when both are 0)."""
    if optimal == 0:
        return 0.0 if cost == 0 else math.inf
    return (cost - optimal) / optimal


#: `on_phase(name, seconds)`: "prepare" before prepare starts, "solve" when it is done (its
#: seconds), "solved" after the first solve (its seconds)
PhaseHook = Callable[[str, float], None]


def _no_phase(name: str, seconds: float) -> None:
    return None


@dataclass
class Timed:
    """The first solution and the wall times of the timed `solve` calls."""

    solution: Solution
    first_s: float  # the first call (warms caches and JIT code)
    repeats_s: list[float]  # the repeated calls; empty when the first call spent the budget

    @property
    def decision_ms(self) -> float:
        """The decision time: median of the repeats, else the first call."""
        return float(np.median(self.repeats_s or [self.first_s])) * 1e3

    @property
    def repeats(self) -> int:
        return len(self.repeats_s) or 1


def time_solve(solver, problem: Problem, seed: int, timing: TimingConfig | None = None,
               on_phase: PhaseHook = _no_phase) -> Timed:
    """Time `solver.solve` on a prepared solver, every call with the same solve seed."""
    timing = timing or TimingConfig()
    _, solve_seed = np.random.SeedSequence(seed).spawn(2)
    t0 = time.perf_counter()
    first = solver.solve(problem, np.random.default_rng(solve_seed))
    first_s = time.perf_counter() - t0
    on_phase("solved", first_s)
    spent, times = first_s, []
    if first_s < timing.budget_s:
        while len(times) < timing.max_repeats and (spent < timing.budget_s or len(times) < 3):
            rng = np.random.default_rng(solve_seed)
            t0 = time.perf_counter()
            solver.solve(problem, rng)
            dt = time.perf_counter() - t0
            times.append(dt)
            spent += dt
    return Timed(first, first_s, times)


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            kb = next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))
    except (OSError, StopIteration, ValueError):
        return None
    return round(kb / 1024, 1)


def peak_rss_mb() -> float | None:
    """The memory hook: this process's peak resident memory so far (`VmHWM`, Linux), in MB;
    None elsewhere. It is a run's own in a fresh process (`benchmark.isolate`, spawn)."""
    return _status_mb("VmHWM")


def rss_mb() -> float | None:
    """This process's resident memory now (`VmRSS`, Linux), in MB; None elsewhere."""
    return _status_mb("VmRSS")


def _score(problem: Problem, assignment, row: dict[str, Any], gap) -> None:
    """The problem's scoring of a single-user answer, and its gap to the reference."""
    assignment = np.asarray(assignment)
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


def base_row(problem: Problem, solver_name: str, seed: int,
             reference_time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> dict[str, Any]:
    """The row of a job before its solver ran: status `ok`, no solution yet, the reference known
    (its exact solver stopped after `reference_time_limit_s`)."""
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
    row["problem_class"], row["n_edges"] = problem_class(problem), edge_count(problem)
    if is_fleet(problem):
        row.update(fleet_fields(problem))
    ref = find_reference(problem, reference_time_limit_s)
    row["reference_cost"], row["reference_kind"] = ref.cost, ref.kind
    row["optimal_cost"] = ref.cost if ref.kind == "optimal" else None
    return row


def run(problem: Problem, solver_name: str, params: dict | None = None, seed: int = 0,
        timing: TimingConfig | None = None, *, on_phase: PhaseHook | None = None,
        memory: bool = False, reference_time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> dict[str, Any]:
    """One long-format result row. Configuration errors propagate (bad input);
    solver errors become status `failed`, refusals `unsupported`. `on_phase` lets a
    supervising process time prepare + first solve (see `benchmark.isolate`). `memory`
    (for measurements in a fresh process) adds `memory_MB`, the peak RSS when the run
    starts, after `prepare` and at the end, and `first_solve_ms`."""
    timing = timing or TimingConfig()
    on_phase = on_phase or _no_phase
    solver = make_solver(solver_name, params or {})
    row = base_row(problem, solver_name, seed, reference_time_limit_s)
    if memory:
        row["memory_MB"] = {"start": peak_rss_mb(), "prepared": None, "peak": None}
        row["first_solve_ms"] = None
    prep_rng, _ = seeds(seed)
    try:
        on_phase("prepare", 0.0)
        solver.check_supported(problem)
        t0 = time.perf_counter()
        solver.prepare(problem, prep_rng)
        row["prepare_s"] = time.perf_counter() - t0
        on_phase("solve", row["prepare_s"])
        if memory:
            row["memory_MB"]["prepared"] = peak_rss_mb()
        timed = time_solve(solver, problem, seed, timing, on_phase)
        solution, row["decision_ms"], row["decision_repeats"] = timed.solution, timed.decision_ms, timed.repeats
        if memory:
            row["first_solve_ms"] = timed.first_s * 1e3
        (score_fleet if is_fleet(problem) else _score)(problem, solution.assignment, row, gap)
        row["info"] = solution.info
    except Unsupported as exc:
        row["status"], row["error"] = "unsupported", str(exc) or "unsupported"
    except (Exception, SystemExit) as exc:  # a solver calling sys.exit() must not end a sweep
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["info"] = {"traceback": traceback.format_exc(limit=8)}
    if memory:
        row["memory_MB"]["peak"] = peak_rss_mb()
    try:
        row["info"] = jsonable(row["info"])
    except Exception as exc:  # an info object whose repr fails
        row["info"] = {"unrecordable": f"{type(exc).__name__}: {exc}"}
    return row
