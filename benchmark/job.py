"""One benchmark job: resolve the problem, run the solver, write and print the result.

Files go to the job's output directory: `instance.json` (the resolved problem,
spec section 9), `result.json` (one long-format row) and, when a solver reports a
training curve, `training_curve.csv`. All are written atomically and only once the
inputs are known to be valid.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmark.files import write_text
from benchmark.isolate import IsolationConfig, check_timeout, run_isolated
from benchmark.plugins import load_plugins
from benchmark.provenance import VERSIONED, git_revision, machine, versions
from benchmark.resume import RUN_KEYS, finished, job_overrides
from benchmark.runner import TimingConfig, jsonable, run
from benchmark.schemas import RUNNER_KEYS
from problems import Problem
from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import dumps_instance, load_instance
from problems.schema import from_mapping

MAX_RUNS_SHOWN = 16  # runs of equal tiers printed in the summary of a result
__all__ = ["VERSIONED", "describe", "resolve_problem", "run_job", "solver_params", "versions"]


def resolve_problem(cfg: Mapping) -> Problem:
    """The instance file if `instance` is set, else the problem built from the groups."""
    path = cfg.get("instance")
    if path:
        return load_instance(Path(str(path)).expanduser())
    return build_problem(cfg.get("model"), cfg.get("scenario"), cfg.get("network"))


def solver_params(cfg: Mapping) -> tuple[str, dict[str, Any]]:
    solver = dict(cfg.get("solver") or {})
    name = solver.get("name")
    if not isinstance(name, str):
        raise FieldError("solver.name", "missing solver name", name)
    return name, {k: v for k, v in solver.items() if k not in RUNNER_KEYS}


def describe(problem: Problem, row: Mapping) -> str:
    """A short human summary of one result."""
    lines = [f"{row['instance']}  solver={row['solver']}  status={row['status']}"]
    if row["status"] != "ok":
        lines.append(f"  {row['error']}")
        return "\n".join(lines)
    names = problem.tier_names
    runs: list[list] = []
    for tier in row["assignment"]:
        if runs and runs[-1][0] == tier:
            runs[-1][1] += 1
        else:
            runs.append([tier, 1])
    shown = " ".join(f"{names[t]}:{c}" for t, c in runs[:MAX_RUNS_SHOWN])
    if len(runs) > MAX_RUNS_SHOWN:
        shown += f" ... ({len(runs)} runs in all)"
    lines.append("  assignment: " + shown)
    lines.append(
        f"  T={row['latency_ms']:.3f} ms  E={row['energy_j']:.4f} J  D={row['deploy']:.3f}  "
        f"cost={row['cost']:.3f}  optimum={row['optimal_cost']:.3f}  gap={100 * row['gap']:.3f}%"
    )
    lines.append(f"  decision={row['decision_ms']:.4f} ms (median of {row['decision_repeats']})  "
                 f"prepare={row['prepare_s']:.3f} s")
    return "\n".join(lines)


def check_resume(cfg: Mapping) -> bool:
    value = cfg.get("resume", False)
    if not isinstance(value, bool):
        raise FieldError("resume", "must be true or false", value)
    return value


def run_job(cfg: Mapping, out_dir: Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Validate everything, run, then write the job's files. Bad input raises FieldError
    before anything is written. With `resume=true`, a job that already finished with
    status ok returns its recorded row and touches nothing."""
    overrides = job_overrides(overrides or [])
    if check_resume(cfg):
        done = finished(out_dir, overrides)
        if done is not None:
            print(f"{done.get('instance')}  solver={done.get('solver')}  status=ok  (resumed: kept {out_dir})",
                  flush=True)
            return done
    seed = cfg.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise FieldError("seed", "must be a non-negative integer", seed)
    timing = from_mapping(TimingConfig, cfg.get("timing"), "timing")
    isolation = from_mapping(IsolationConfig, cfg.get("isolation"), "isolation")
    plugins = load_plugins(cfg.get("plugins"))
    name, params = solver_params(cfg)
    timeout_s = check_timeout((cfg.get("solver") or {}).get("timeout_s"))
    problem = resolve_problem(cfg)
    if timeout_s is None:
        row = run(problem, name, params, seed=seed, timing=timing)
    else:
        row = run_isolated(problem, name, params, seed, timing, timeout_s, plugins, isolation.start_method)
    from_groups = not cfg.get("instance")
    row["model"] = (cfg.get("model") or {}).get("name") if from_groups else None
    row["network"] = (cfg.get("network") or {}).get("name") if from_groups else None
    row["overrides"] = overrides
    row["versions"] = versions()
    row["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    row["config"] = jsonable({k: v for k, v in cfg.items() if k not in RUN_KEYS})
    row["machine"] = machine()
    row["git_revision"] = git_revision()
    curve = row["info"].pop("training_curve", None) if isinstance(row["info"], dict) else None
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "instance.json", dumps_instance(problem))
    if curve:
        write_text(out_dir / "training_curve.csv",
                   "episode,mean_reward\n" + "".join(f"{i},{v!r}\n" for i, v in enumerate(curve)))
        row["info"]["training_curve_file"] = "training_curve.csv"
    write_text(out_dir / "result.json", json.dumps(row, indent=1, allow_nan=False) + "\n")
    print(describe(problem, row), file=sys.stdout, flush=True)
    return row
