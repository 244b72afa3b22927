"""`python -m benchmark.tune solver=<name> ...`: tune a solver's hyperparameters with Optuna.

Minimizes the mean optimality gap (cost / dp optimum - 1) of the solver over a set of
instances and seeds, each run through `benchmark.runner.run` like any benchmark job.
TPE sampler; the study lives in `<run dir>/optuna.db` (sqlite), so running the same
command again resumes it until `tune.n_trials` trials have finished. The default run
directory is `outputs/tune/<solver>`; pass `hydra.run.dir=...` for another study.

The search space is, in order of precedence: `tune.params` (name -> `[low, high]`,
`{low, high, log}` or `{choices: [...]}`), the solver class's `search_space`, or one
derived from the config dataclass: every int or float field with a positive default
searches [default / 4, default x 4] (ints) or [default / 10, default x 10] (floats,
capped at 1 for defaults in (0, 1]), log-scaled; Literal fields search their choices.
Seeds, null defaults, switches and run-only fields (progress bars, checkpoints) are
left alone; `tune.exclude` removes more. A sampled config that the solver's
validation refuses is pruned.

Outputs in the run directory: `best_params.yaml` (the tuned values: solver overrides),
`solver/<name>_tuned.yaml` (a complete solver config: `python -m benchmark
hydra.searchpath=[file://<run dir>] solver=<name>_tuned`) and `trials.csv`.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import optuna
import yaml
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from benchmark.cli_errors import error_line, run_cli
from benchmark.runner import TimingConfig, run
from benchmark.schemas import RUNNER_KEYS, register
from problems import Problem
from problems.atomic import atomic_write_text
from problems.build import build_problem
from problems.errors import FieldError, ProblemError
from problems.instance import load_instance
from problems.paths import safe_name
from problems.schema import from_mapping
from solvers import make_solver, solver_class

#: fields never tuned: seeds, budgets of exact solvers and run-only switches
NOT_TUNED = {"seed", "timeout_s", "time_limit_s", "limit", "progress", "retrain", "checkpoint", "checkpoint_dir"}
#: values forced while tuning (when the solver has the field): no bars, no checkpoint files
QUIET = {"progress": False, "checkpoint_dir": None}
PAPER_MEC = ["alexnet/mec/5g_avg", "vgg16/mec/5g_avg", "resnet32/mec/5g_avg", "mobilenet_v1/mec/5g_avg"]


@dataclass
class TuneConfig:
    n_trials: int = 20  # finished trials the study should reach (a rerun resumes)
    instances: list[str] = field(default_factory=lambda: list(PAPER_MEC))  # model/scenario/network or a file
    seeds: list[int] = field(default_factory=lambda: [0])  # run seeds per instance
    params: dict[str, Any] = field(default_factory=dict)  # explicit search space, see the module docstring
    exclude: list[str] = field(default_factory=list)  # fields left at their configured value
    sampler_seed: int = 0
    startup_trials: int = 10  # random trials before TPE models the results
    timeout_s: float | None = None  # stop starting trials after this long (the study stays resumable)

    def validate(self, prefix: str) -> None:
        if self.n_trials < 0:
            raise FieldError(f"{prefix}.n_trials", "must not be negative", self.n_trials)
        if not self.instances:
            raise FieldError(f"{prefix}.instances", "must list at least one instance", [])
        if not self.seeds:
            raise FieldError(f"{prefix}.seeds", "must list at least one seed", [])


@dataclass(frozen=True)
class Dim:
    """One searched parameter: a float or int range, or categorical choices."""

    name: str
    kind: str  # "float" | "int" | "cat"
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple = ()

    def suggest(self, trial: optuna.Trial) -> Any:
        if self.kind == "cat":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)


# -- the search space ------------------------------------------------------------------------
def _base_type(tp: Any) -> Any:
    """int, float, bool, str or a Literal, with `X | None` unwrapped."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return tp


def _dim(name: str, spec: Any, tp: Any, key: str) -> Dim:
    """A Dim from a user or solver spec, typed by the config field."""
    base = _base_type(tp)
    if isinstance(spec, Mapping) and "choices" in spec:
        choices = tuple(spec["choices"])
        if not choices:
            raise FieldError(f"{key}.choices", "must not be empty", [])
        return Dim(name, "cat", choices=choices)
    if isinstance(spec, list | tuple):
        if len(spec) != 2:
            raise FieldError(key, "a range is [low, high]", list(spec))
        spec = {"low": spec[0], "high": spec[1]}
    if not isinstance(spec, Mapping) or set(spec) - {"low", "high", "log"} or not {"low", "high"} <= set(spec):
        raise FieldError(key, "expected [low, high], {low, high, log} or {choices: [...]}", spec)
    if base not in (int, float):
        raise FieldError(key, f"a range needs an int or float field, {name} is {tp}", spec)
    low, high = spec["low"], spec["high"]
    if not (isinstance(low, int | float) and isinstance(high, int | float)) or not low < high:
        raise FieldError(key, "needs numbers low < high", [low, high])
    log = bool(spec.get("log", low > 0 and high / low >= 100))
    if log and low <= 0:
        raise FieldError(f"{key}.log", "a log range needs low > 0", low)
    return Dim(name, "int" if base is int else "float", float(low), float(high), log)


def auto_dim(name: str, default: Any, tp: Any) -> Dim | None:
    """The derived range of one field, or None if it is not tuned by default."""
    base = _base_type(tp)
    if typing.get_origin(base) is typing.Literal:
        return Dim(name, "cat", choices=typing.get_args(base))
    if base is bool or isinstance(default, bool) or not isinstance(default, int | float) or default <= 0:
        return None
    if base is int:
        return Dim(name, "int", max(1, default // 4), default * 4, log=True)
    if base is float:
        high = min(default * 10, 1.0) if default <= 1 else default * 10
        return Dim(name, "float", default / 10, high, log=True) if high > default / 10 else None
    return None


def search_space(solver: str, user: Mapping[str, Any], exclude: list[str]) -> list[Dim]:
    cls = solver_class(solver)
    hints = typing.get_type_hints(cls.Config)
    fields = {f.name: f for f in dataclasses.fields(cls.Config)}
    for key, names in (("params", list(user)), ("exclude", list(exclude))):
        for name in names:
            if name not in fields:
                raise FieldError(f"tune.{key}.{name}" if key == "params" else "tune.exclude",
                                 f"no such {solver} field; expected one of {sorted(fields)}", name)
    declared = getattr(cls, "search_space", None)
    dims: dict[str, Dim] = {}
    if declared is not None:
        for name, spec in declared.items():
            dims[name] = _dim(name, spec, hints[name], f"{solver}.search_space.{name}")
    else:
        for name, f in fields.items():
            if name in NOT_TUNED or f.default is dataclasses.MISSING:
                continue
            dim = auto_dim(name, f.default, hints[name])
            if dim is not None:
                dims[name] = dim
    for name, spec in user.items():
        dims[name] = _dim(name, spec, hints[name], f"tune.params.{name}")
    for name in exclude:
        dims.pop(name, None)
    if not dims:
        raise FieldError("tune.params", f"{solver} has nothing to tune; give ranges here", {})
    return list(dims.values())


# -- instances --------------------------------------------------------------------------------
def load_problems(specs: list[str]) -> list[tuple[str, Problem]]:
    """`model/scenario/network` builds from the config groups; anything else is an instance file."""
    out = []
    for j, spec in enumerate(specs):
        parts = spec.split("/")
        if len(parts) == 3 and not Path(spec).suffix:
            model, scenario, network = parts
            try:
                out.append((spec, build_problem({"name": model}, {"kind": scenario}, {"name": network})))
            except FieldError as exc:
                raise FieldError(f"tune.instances[{j}]", str(exc), spec) from None
        else:
            out.append((spec, load_instance(Path(spec).expanduser())))
    return out


class TrialFailedError(RuntimeError):
    """A solver run failed; optuna records the trial as failed and goes on."""


def objective_for(solver: str, base: dict[str, Any], dims: list[Dim], problems: list[tuple[str, Problem]],
                  seeds: list[int]):
    timing = TimingConfig(budget_s=0.0, max_repeats=1)  # one timed decision per run: the gap is the target

    def objective(trial: optuna.Trial) -> float:
        params = dict(base)
        for dim in dims:
            params[dim.name] = dim.suggest(trial)
        try:
            make_solver(solver, params)
        except ProblemError as exc:
            trial.set_user_attr("invalid", str(exc))
            raise optuna.TrialPruned(str(exc)) from None
        gaps, decision_ms, prepare_s = [], [], []
        for label, problem in problems:
            for seed in seeds:
                row = run(problem, solver, params, seed=seed, timing=timing)
                if row["status"] == "unsupported":
                    continue
                if row["status"] != "ok":
                    trial.set_user_attr("error", f"{label} seed {seed}: {row['error']}")
                    raise TrialFailedError(f"{label} seed {seed}: {row['error']}")
                gaps.append(row["gap"])
                decision_ms.append(row["decision_ms"])
                prepare_s.append(row["prepare_s"] or 0.0)
        if not gaps:
            raise TrialFailedError("the solver supports none of the instances")
        trial.set_user_attr("gaps", gaps)
        trial.set_user_attr("mean_decision_ms", float(np.mean(decision_ms)))
        trial.set_user_attr("mean_prepare_s", float(np.mean(prepare_s)))
        return float(np.mean(gaps))

    return objective


# -- outputs ------------------------------------------------------------------------------------
def write_outputs(out: Path, solver: str, solver_cfg: Mapping[str, Any], study: optuna.Study) -> dict[str, Any] | None:
    rows = ["number,state,value," + ",".join(sorted({k for t in study.trials for k in t.params}))]
    keys = sorted({k for t in study.trials for k in t.params})
    for t in study.trials:
        cells = [str(t.number), t.state.name, "" if t.value is None else repr(t.value)]
        cells += ["" if k not in t.params else repr(t.params[k]) for k in keys]
        rows.append(",".join(cells))
    atomic_write_text(out / "trials.csv", "\n".join(rows) + "\n")
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        return None
    best = study.best_trial
    tuned = dict(best.params)
    header = (f"# best of {len(done)} finished trials (trial {best.number}): mean gap {best.value:.6g}\n"
              f"# instances: {', '.join(study.user_attrs.get('instances', []))}; "
              f"seeds: {study.user_attrs.get('seeds')}\n")
    atomic_write_text(out / "best_params.yaml", header + yaml.safe_dump(tuned, sort_keys=False))
    full = dict(solver_cfg)
    full.update(tuned)
    atomic_write_text(out / "solver" / f"{safe_name(solver)}_tuned.yaml",
                      header + yaml.safe_dump(full, sort_keys=False))
    return tuned


def tune(cfg: Mapping[str, Any], out: Path) -> optuna.Study:
    """Create or resume the study in `out`, run the missing trials, write the outputs."""
    solver_cfg = dict(cfg.get("solver") or {})
    solver = solver_cfg.get("name")
    if not isinstance(solver, str):
        raise FieldError("solver.name", "missing solver name", solver)
    tc: TuneConfig = from_mapping(TuneConfig, cfg.get("tune"), "tune")
    params = {k: v for k, v in solver_cfg.items() if k not in RUNNER_KEYS}
    make_solver(solver, params)  # the configured solver is valid before anything runs
    fields = {f.name for f in dataclasses.fields(solver_class(solver).Config)}
    base = params | {k: v for k, v in QUIET.items() if k in fields}
    dims = search_space(solver, tc.params, tc.exclude)
    problems = load_problems(tc.instances)

    out.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(out / 'optuna.db').resolve()}"
    study = optuna.create_study(study_name=solver, storage=storage, direction="minimize", load_if_exists=True)
    # a resumed study must not replay the random start-up draws of the first session
    study.sampler = optuna.samplers.TPESampler(seed=tc.sampler_seed + len(study.trials),
                                               n_startup_trials=tc.startup_trials)
    setup = {"instances": list(tc.instances), "seeds": list(tc.seeds),
             "space": [dataclasses.asdict(d) | {"choices": list(d.choices)} for d in dims],
             "fixed": {k: v for k, v in base.items() if k not in {d.name for d in dims}}}
    if study.user_attrs:
        for key, value in setup.items():
            if json_like(study.user_attrs.get(key)) != json_like(value):
                raise FieldError(f"tune.{key}" if key in ("instances", "seeds") else "tune.params",
                                 f"the study in {out} was run with other {key}; use another hydra.run.dir",
                                 value)
    else:
        for key, value in setup.items():
            study.set_user_attr(key, value)

    finished = sum(t.state.is_finished() for t in study.trials)
    todo = max(0, tc.n_trials - finished)
    print(f"tuning {solver}: {len(dims)} parameters ({', '.join(d.name for d in dims)}), "
          f"{len(problems)} instances x {len(tc.seeds)} seeds; {finished} trials done, {todo} to run; "
          f"study {storage}", flush=True)
    objective = objective_for(solver, base, dims, problems, list(tc.seeds))
    t0 = time.perf_counter()

    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        value = "-" if trial.value is None else f"{trial.value:.6g}"
        best = "-" if not any(t.state.name == "COMPLETE" for t in study.trials) else f"{study.best_value:.6g}"
        print(f"[{time.perf_counter() - t0:7.1f}s] trial {trial.number} {trial.state.name} mean gap {value} "
              f"(best {best}) {trial.params}", flush=True)

    study.optimize(objective, n_trials=todo, timeout=tc.timeout_s, catch=(TrialFailedError,), callbacks=[report])
    tuned = write_outputs(out, solver, solver_cfg, study)
    if tuned is None:
        print("no trial finished; nothing written but trials.csv", flush=True)
    else:
        overrides = " ".join(f"solver.{k}={v}" for k, v in tuned.items())
        print(f"best mean gap {study.best_value:.6g} (trial {study.best_trial.number}); "
              f"wrote {out / 'best_params.yaml'}"
              f"\n  python -m benchmark hydra.searchpath=[file://{out.resolve()}] solver={solver}_tuned"
              f"\n  or: python -m benchmark solver={solver} {overrides}", flush=True)
    return study


def json_like(value: Any) -> Any:
    return yaml.safe_load(yaml.safe_dump(value)) if value is not None else None


# -- the Hydra app -----------------------------------------------------------------------------
if not OmegaConf.has_resolver("safe_name"):  # `${safe_name:...}`: a name as one path component
    OmegaConf.register_new_resolver("safe_name", safe_name)
ConfigStore.instance().store(name="tune", node={
    "defaults": [{"solver": "genetic"}, "_self_"],
    "tune": dataclasses.asdict(TuneConfig()),
    "hydra": {"run": {"dir": "outputs/tune/${safe_name:${solver.name}}"}},
})


@hydra.main(version_base="1.3", config_path="../conf", config_name="tune")
def main(cfg: DictConfig) -> None:
    try:
        data = OmegaConf.to_container(cfg, resolve=True)
        tune(data, Path(HydraConfig.get().runtime.output_dir))
    except (ProblemError, OmegaConfBaseException) as exc:  # bad input, or an interpolation that does not resolve
        print(error_line(exc), file=sys.stderr, flush=True)
        sys.exit(2)


if __name__ == "__main__":
    register()  # the config schemas conf/ extends (benchmark.schemas)
    run_cli(main)
