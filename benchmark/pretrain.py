"""`python -m benchmark.pretrain`: train every learned-solver agent a sweep needs, up front.

    python -m benchmark.pretrain -m +experiment=paper            # then: python -m benchmark -m +experiment=paper
    python -m benchmark.pretrain -m solver=iorlo model=alexnet,vgg16 scenario=mec,d2d

It takes the sweep's own command line (`-m`, overrides, `+experiment=...`), expands it as
Hydra's basic sweeper would, and instead of running the jobs resolves each learned-solver
job's problem, config and training seed exactly as the runner would (`benchmark.runner.seeds`).
All `iorlo` agents the cache lacks train as one batched ensemble (`solvers._ensemble`);
`iorlo_ctx` (one actor per model and scenario) and the SB3 baselines train one by one, in one
process per CPU (each process a set of models and scenario kinds).
Everything goes to the solvers' checkpoint caches, so the sweep then runs warm.

`conf/experiment/paper.yaml` installs `Pretrain` as a Hydra callback, so
`python -m benchmark -m +experiment=paper` pretrains by itself before its first job.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict
from tqdm.auto import tqdm

from benchmark.job import resolve_problem, solver_params
from benchmark.runner import seeds
from problems.errors import FieldError, ProblemError
from solvers._ddpg import training_seed
from solvers.registry import make_solver

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
LEARNED = ("iorlo", "iorlo_ctx", "sb3_ddpg", "sb3_ddpg_small", "sb3_td3", "sb3_sac", "sb3_ppo")
MULTIRUN_FLAGS = ("-m", "--multirun")


def _loader():
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_config_search_path
    from hydra.core.utils import setup_globals

    from benchmark.compose import share_store
    from benchmark.schemas import register

    share_store()  # as the sweep's own compositions
    setup_globals()  # Hydra's resolvers (`now`, ...), as an app registers them
    register()  # the config schemas conf/ extends
    return ConfigLoaderImpl(config_search_path=create_config_search_path(str(CONF_DIR)))


def sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """Every job's override list, as Hydra's basic sweeper expands the command line."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.types import RunMode

    loader = _loader()
    cfg = loader.load_configuration("config", overrides, RunMode.MULTIRUN)
    node = cfg.hydra.sweeper.get("params")
    params = OmegaConf.to_container(node, resolve=False) if OmegaConf.is_config(node) else {}
    args = [f"{k}={v}" for k, v in params.items()] + list(overrides)
    parsed = OverridesParser.create(config_loader=loader).parse_overrides(args)
    return BasicSweeper.split_arguments(parsed, None)[0]


def _solver_of(job: list[str]) -> str | None:
    for item in job:
        key, _, value = item.partition("=")
        if key.lstrip("+~") == "solver":
            return value
    return None


def job_configs(overrides: list[str]) -> Iterable[dict[str, Any]]:
    """The composed config of every job that runs a learned solver."""
    from hydra.types import RunMode

    loader = _loader()
    default = _default_solver()
    for job in sweep_jobs(overrides):
        if (_solver_of(job) or default) not in LEARNED:
            continue  # composing is the slow part: only learned solvers' jobs
        cfg = loader.load_configuration("config", job, RunMode.RUN)
        with open_dict(cfg):
            del cfg["hydra"]
        yield OmegaConf.to_container(cfg, resolve=True)


def _default_solver() -> str:
    defaults = OmegaConf.load(CONF_DIR / "config.yaml").get("defaults", [])
    for item in defaults:
        if isinstance(item, dict) and "solver" in item:
            return str(item["solver"])
    return ""


def collect(overrides: list[str]) -> dict[str, list[tuple[Any, Any, Any, int]]]:
    """Per learned solver: (problem, solver, prepare generator, seed) of each job."""
    by_solver: dict[str, list] = {}
    for data in job_configs(overrides):
        name, params = solver_params(data)
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise FieldError("seed", "must be a non-negative integer", seed)
        problem = resolve_problem(data)
        solver = make_solver(name, params)
        by_solver.setdefault(name, []).append((problem, solver, seeds(seed)[0], seed))
    return by_solver


def pretrain(overrides: list[str], progress: bool = True, workers: int | None = None) -> dict[str, dict[str, float]]:
    """Train what the sweep of `overrides` needs; returns per solver: jobs, trained agents and seconds.
    The iorlo ensemble's groups, and the other solvers' agents, train in `workers` processes
    (default: one per CPU)."""
    from solvers import iorlo

    summary: dict[str, dict[str, float]] = {}
    for name, jobs in collect(overrides).items():
        t0 = time.perf_counter()
        if name == "iorlo":
            todo = [iorlo.Job(p, s.config, training_seed(s.config.seed, rng)) for p, s, rng, _ in jobs]
            trained = iorlo.pretrain(todo, progress=progress, workers=workers or os.cpu_count() or 1)
        else:
            trained = _prepare_all(name, jobs, progress, workers or os.cpu_count() or 1)
        summary[name] = {"jobs": len(jobs), "trained": trained, "seconds": time.perf_counter() - t0}
    return summary


def _prepare_group(jobs: list[tuple[Any, Any, Any, int]]) -> int:
    """Prepare each job's solver in order (train and cache, or load what an earlier job cached)."""
    trained = 0
    for problem, solver, rng, _ in jobs:
        solver.config.progress = False
        solver.prepare(problem, rng)
        trained += not solver.training_info.get("cached", True)
    return trained


def _prepare_all(name: str, jobs: list[tuple[Any, Any, Any, int]], progress: bool, workers: int) -> int:
    """The jobs of one solver other than iorlo, in `workers` processes. Jobs are grouped by model
    and scenario kind and a group stays in one process: every learned solver's cache key includes
    both, so two processes never train the same agent, and a group's later jobs load what its
    earlier ones cached."""
    groups: dict[tuple[str, str], list] = {}
    for job in jobs:
        groups.setdefault((job[0].profile.name, job[0].kind), []).append(job)
    # longest first (the jobs, then the blocks x tiers each agent trains on), so that the last
    # group to finish is a short one
    ordered = sorted(groups.values(), key=lambda g: (len(g), g[0][0].n_blocks * g[0][0].n_tiers), reverse=True)
    bar = tqdm(total=len(jobs), desc=f"pretrain {name}", disable=not progress, leave=False)
    workers = max(1, min(workers, len(ordered)))
    with bar:
        if workers == 1:
            trained = 0
            for group in ordered:
                trained += _prepare_group(group)
                bar.update(len(group))
            return trained
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
            futures = {pool.submit(_prepare_group, group): len(group) for group in ordered}
            trained = 0
            for future in as_completed(futures):
                trained += future.result()
                bar.update(futures[future])
    return trained


class Pretrain(Callback):
    """Hydra callback: before a sweep's first job, train its learned agents (see module doc)."""

    def __init__(self, progress: bool = True) -> None:
        self.progress = progress

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        overrides = list(config.hydra.overrides.task)
        report(pretrain(overrides, self.progress))


def report(summary: dict[str, dict[str, float]]) -> None:
    for name, s in summary.items():
        print(f"pretrain {name}: {int(s['jobs'])} jobs, {int(s['trained'])} agents trained in {s['seconds']:.1f} s",
              flush=True)


def main(argv: list[str] | None = None) -> None:
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a not in MULTIRUN_FLAGS]
    try:
        report(pretrain(args))
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    except Exception as exc:  # a Hydra override that does not parse or compose
        if type(exc).__module__.startswith(("hydra", "omegaconf")):
            first = (str(exc).strip().splitlines() or [""])[0]
            print(f"error: {first}", file=sys.stderr, flush=True)
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
