"""One benchmark job: resolve the problem, run the solver, write and print the result.

Files go to the job's output directory: `instance.json` (the resolved problem,
spec section 9), `result.json` (one long-format row) and, when a solver reports a
training curve, `training_curve.csv`. All are written atomically, only once the inputs
are known to be valid, and as one commit (`benchmark.files.commit_job`): `result.json`
last, so a folder never pairs a new instance with an old result. In a sweep, a job with
bad input is a row too (`invalid_row`, status `invalid`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmark.files import begin_job, commit_job
from benchmark.fleet_rows import describe_fleet, is_fleet
from benchmark.isolate import IsolationConfig, check_timeout, run_isolated
from benchmark.plugins import load_plugins
from benchmark.provenance import VERSIONED, git_revision, machine, versions
from benchmark.reference import ReferenceConfig
from benchmark.resume import RUN_KEYS, finished, job_overrides
from benchmark.runner import TimingConfig, jsonable, run
from benchmark.schemas import RUNNER_KEYS
from problems import Problem
from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import MAX_INSTANCE_MB, dumps_instance, load_instance
from problems.schema import from_mapping
from problems.text import clean
from solvers import make_solver

MAX_RUNS_SHOWN = 16  # runs of equal tiers printed in the summary of a result
__all__ = ["VERSIONED", "describe", "resolve_problem", "run_job", "solver_params", "versions"]


def resolve_problem(cfg: Mapping) -> Problem:
    """The instance file if `instance` is set, else the problem built from the groups."""
    path = cfg.get("instance")
    if path:
        return load_instance(Path(absolute(str(path))), max_mb=instance_max_mb(cfg))
    return build_problem(cfg.get("model"), cfg.get("scenario"), cfg.get("network"))


def absolute(path: str) -> str:
    """A path given on the command line, relative to where the command ran (with
    `hydra.job.chdir=true` a job runs in its output folder)."""
    from hydra.utils import to_absolute_path

    return to_absolute_path(os.path.expanduser(path))


def instance_max_mb(cfg: Mapping) -> float:
    """`instance_max_mb`: the largest instance file read, in MB (null: the default)."""
    value = cfg.get("instance_max_mb")
    if value is None:
        return MAX_INSTANCE_MB
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise FieldError("instance_max_mb", "must be a positive number of megabytes", value)
    return float(value)


def solver_params(cfg: Mapping) -> tuple[str, dict[str, Any]]:
    solver = dict(cfg.get("solver") or {})
    name = solver.get("name")
    if not isinstance(name, str):
        raise FieldError("solver.name", "missing solver name", name)
    return name, {k: v for k, v in solver.items() if k not in RUNNER_KEYS}


def describe(problem: Problem, row: Mapping) -> str:
    """A short human summary of one result."""
    lines = [f"{clean(row['instance'])}  solver={clean(row['solver'])}  status={row['status']}"]
    if is_fleet(problem):
        return "\n".join(lines + ([f"  {clean(row['error'])}"] if row.get("error") else []) + describe_fleet(row))
    if row["status"] != "ok":
        lines.append(f"  {clean(row['error'])}")
        return "\n".join(lines)
    names = [clean(name) for name in problem.tier_names]
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
    ref, kind = row.get("reference_cost"), row.get("reference_kind")
    versus = (f"{'optimum' if kind == 'optimal' else 'bound'}={ref:.3f}  gap={100 * row['gap']:.3f}%"
              if ref is not None and row.get("gap") is not None else "no reference")
    lines.append(
        f"  T={row['latency_ms']:.3f} ms  E={row['energy_j']:.4f} J  D={row['deploy']:.3f}  "
        f"cost={row['cost']:.3f}  {versus}"
    )
    lines.append(f"  decision={row['decision_ms']:.4f} ms (median of {row['decision_repeats']})  "
                 f"prepare={row['prepare_s']:.3f} s")
    return "\n".join(lines)


def check_resume(cfg: Mapping) -> bool:
    value = cfg.get("resume", False)
    if not isinstance(value, bool):
        raise FieldError("resume", "must be true or false", value)
    return value


def check_seed(cfg: Mapping) -> int:
    seed = cfg.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise FieldError("seed", "must be a non-negative integer", seed)
    return seed


def run_job(cfg: Mapping, out_dir: Path, overrides: list[str] | None = None,
            record: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Validate everything, run, then write the job's files. Bad input raises FieldError
    before anything is written; once it is known to be valid, the job's `record`
    (`.hydra/*.yaml`) is written and an old result removed. With `resume=true`, a job
    that already finished with status ok returns its recorded row and touches nothing."""
    overrides = job_overrides(overrides or [])
    if check_resume(cfg):
        done = finished(out_dir, overrides)
        if done is not None:
            print(f"{clean(done.get('instance'))}  solver={clean(done.get('solver'))}  status=ok  "
                  f"(resumed: kept {clean(out_dir)})", flush=True)
            return done
    seed = check_seed(cfg)
    timing = from_mapping(TimingConfig, cfg.get("timing"), "timing")
    isolation = from_mapping(IsolationConfig, cfg.get("isolation"), "isolation")
    ref_limit = from_mapping(ReferenceConfig, cfg.get("reference"), "reference").time_limit_s
    plugins = load_plugins(cfg.get("plugins"))
    name, params = solver_params(cfg)
    timeout_s = check_timeout((cfg.get("solver") or {}).get("timeout_s"))
    make_solver(name, params)  # a bad solver config is bad input, refused before any file changes
    problem = resolve_problem(cfg)
    begin_job(out_dir, record)
    if timeout_s is None:
        row = run(problem, name, params, seed=seed, timing=timing, reference_time_limit_s=ref_limit)
    else:
        row = run_isolated(problem, name, params, seed, timing, timeout_s, plugins, isolation.start_method,
                           reference_time_limit_s=ref_limit)
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
    files = {"instance.json": dumps_instance(problem)}
    if curve:
        files["training_curve.csv"] = "episode,mean_reward\n" + "".join(f"{i},{v!r}\n" for i, v in enumerate(curve))
        row["info"]["training_curve_file"] = "training_curve.csv"
    commit_job(out_dir, files, result_text(row))
    print(describe(problem, row), file=sys.stdout, flush=True)
    return row


def result_text(row: Mapping[str, Any]) -> str:
    """The row as `result.json` text (non-finite numbers as `jsonable` writes them)."""
    return json.dumps(jsonable(dict(row)), indent=1, allow_nan=False) + "\n"


RECORD = ".hydra"  # what Hydra writes there when `hydra.output_subdir` is set


def hydra_record(cfg: Any, full: Any = None) -> dict[str, str]:
    """The files Hydra would have written to `.hydra/` before the job ran: the task
    config `cfg`, and the Hydra node of `full` (default: the running job's)."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    hydra_cfg = OmegaConf.masked_copy(full, "hydra") if full is not None else HydraConfig.instance().cfg
    return {f"{RECORD}/config.yaml": OmegaConf.to_yaml(cfg),
            f"{RECORD}/hydra.yaml": OmegaConf.to_yaml(hydra_cfg),
            f"{RECORD}/overrides.yaml": OmegaConf.to_yaml(hydra_cfg.hydra.overrides.task)}


def invalid_row(cfg: Mapping, overrides: list[str], error: str) -> dict[str, Any]:
    """The row of a sweep job whose input was refused: what the config says, and why."""
    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    solver, model = cfg.get("solver"), cfg.get("model")
    scenario, network = cfg.get("scenario"), cfg.get("network")
    instance = text(cfg.get("instance"))
    seed = cfg.get("seed")
    return {
        "solver": text(solver.get("name")) if isinstance(solver, Mapping) else None,
        "instance": instance,
        "scenario": None if instance else text(scenario.get("kind")) if isinstance(scenario, Mapping) else None,
        "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        "status": "invalid",
        "error": error,
        "assignment": None,
        "info": {},
        "model": None if instance else text(model.get("name")) if isinstance(model, Mapping) else None,
        "network": None if instance else text(network.get("name")) if isinstance(network, Mapping) else None,
        "overrides": job_overrides(overrides),
        "versions": versions(),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": jsonable({k: v for k, v in cfg.items() if k not in RUN_KEYS}),
        "machine": machine(),
        "git_revision": git_revision(),
    }


def record_refused(cfg: Mapping, out_dir: Path, overrides: list[str], error: str,
                   record: Mapping[str, str] | None = None, status: str = "invalid") -> dict[str, Any]:
    """Write the row of a sweep job that produced none itself: bad input (`invalid`), or a
    worker killed under it (`failed`). Its record and `result.json`, nothing else."""
    row = invalid_row(cfg, overrides, error)
    row["status"] = status
    begin_job(out_dir, record)
    commit_job(out_dir, {}, result_text(row))
    return row
