"""Hydra's joblib launcher, made to survive a worker that is killed.

With the stock launcher, one worker killed by SIGKILL (the OOM killer, a user) makes
loky raise `TerminatedWorkerError` for the whole batch: a traceback, no `results.csv`,
no report, and the jobs not yet run never run. Here the batch is looked at instead: a
job that left its `result.json` is done; a job that had started (its input was valid,
so it wrote `.hydra/`) but left no result is recorded as `failed` (`worker killed`);
loky stops every worker of a broken pool, so a job that ran beside the killed one is
recorded the same way (`resume=true` runs such jobs again). Jobs that had not started
run in a new pool.

Hydra instantiates launchers only from its `hydra_plugins` package, so `install()`
(called by the sweep callback when a sweep starts) puts this `launch` on the stock
`JoblibLauncher` class that Hydra loaded; `hydra/launcher=joblib` and its options stay
as they are.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, setup_globals
from omegaconf import DictConfig, OmegaConf, open_dict

from benchmark.files import RESULT
from benchmark.job import RECORD, hydra_record, record_refused

log = logging.getLogger(__name__)
STOCK = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
CHUNKS_PER_WORKER = 16  # jobs go to the workers in chunks (see _execute_chunk)
MAX_BROKEN_POOLS = 3  # a job still not started after this many broken pools is recorded as failed too


def _job_config(launcher: Any, idx: int, overrides: Sequence[str]) -> DictConfig:
    """The composed config of job `idx`, as `execute_job` builds it in a worker."""
    assert launcher.hydra_context is not None and launcher.config is not None
    cfg = launcher.hydra_context.config_loader.load_sweep_config(launcher.config, list(overrides))
    with open_dict(cfg):
        cfg.hydra.job.id = f"{cfg.hydra.job.name}_{idx}"
        cfg.hydra.job.num = idx
    return cfg


def _job_dir(cfg: DictConfig) -> Path:
    saved = HydraConfig.instance().cfg
    HydraConfig.instance().set_config(cfg)
    try:
        return Path(str(OmegaConf.select(cfg, "hydra.sweep.dir"))) / str(OmegaConf.select(cfg, "hydra.sweep.subdir"))
    finally:
        HydraConfig.instance().cfg = saved


def _newer(path: Path, since: float) -> bool:
    try:
        return path.stat().st_mtime >= since
    except OSError:
        return False


def _recorded(overrides: Sequence[str]) -> JobReturn:
    """What the sweeper gets for a job this launcher settled itself (its files say the rest)."""
    ret = JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)
    ret.return_value = None
    return ret


def _record_killed(cfg: DictConfig, out_dir: Path, overrides: Sequence[str], error: str) -> None:
    task = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    try:
        data = OmegaConf.to_container(task, resolve=True)
    except Exception:  # an interpolation that does not resolve: keep it as written
        data = OmegaConf.to_container(task, resolve=False)
    record = None if (out_dir / RECORD).is_dir() else hydra_record(task, cfg)
    record_refused(data, out_dir, list(overrides), error, record, status="failed")


def _execute_chunk(jobs: list[tuple[int, list[str]]], hydra_context: Any, config: DictConfig, task_function: Any,
                   state: dict) -> list[JobReturn]:
    """Hydra's `execute_job` for each of a few jobs: their shared arguments (the master config,
    Hydra's context and singletons, the task) are pickled once for the chunk, not once per job,
    which was a tenth of a second of the parent's CPU per job on the paper grid."""
    from hydra_plugins.hydra_joblib_launcher import _core

    from benchmark.compose import share_store

    share_store()
    returns = []
    for idx, overrides in jobs:
        ret = _core.execute_job(idx, overrides, hydra_context, config, task_function, state)
        ret.cfg = ret.hydra_cfg = None  # the sweeper reads only status and return value: not pickled back
        returns.append(ret)
    return returns


def chunks(order: list[int], workers: int) -> list[list[int]]:
    """`order` in consecutive chunks, about CHUNKS_PER_WORKER per worker (so the last chunk to
    finish keeps one worker busy for a small share of the sweep)."""
    size = max(1, -(-len(order) // (max(1, workers) * CHUNKS_PER_WORKER)))
    return [order[i:i + size] for i in range(0, len(order), size)]


def launch(self: Any, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
    """`JoblibLauncher.launch`, settling the jobs of a pool broken by a killed worker."""
    from hydra_plugins.hydra_joblib_launcher import _core
    from joblib import Parallel, delayed, effective_n_jobs
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    setup_globals()
    assert self.config is not None and self.task_function is not None and self.hydra_context is not None
    joblib_cfg = dict(self.joblib)
    joblib_cfg["backend"] = "loky"
    _core.process_joblib_cfg(joblib_cfg)
    pending = {initial_job_idx + i: list(o) for i, o in enumerate(job_overrides)}
    returns: dict[int, JobReturn] = {}
    broken = 0
    while pending:
        order = sorted(pending)
        log.info(f"Joblib.Parallel is launching {len(order)} jobs, sweep output dir: {self.config.hydra.sweep.dir}")
        state = Singleton.get_state()
        started = time.time() - 1.0  # file times are coarse on some file systems
        try:
            done = Parallel(**joblib_cfg)(
                delayed(_execute_chunk)([(idx, pending[idx]) for idx in chunk], self.hydra_context, self.config,
                                        self.task_function, state)
                for chunk in chunks(order, effective_n_jobs(joblib_cfg.get("n_jobs"))))
            runs = [ret for part in done for ret in part]
        except TerminatedWorkerError as exc:
            broken += 1
            lines = [ln.strip() for ln in str(exc).splitlines() if "exit code" in ln]
            reason = lines[0] if lines else type(exc).__name__
            for idx in order:
                cfg = _job_config(self, idx, pending[idx])
                out_dir = _job_dir(cfg)
                if _newer(out_dir / RESULT, started):  # finished in this pool
                    returns[idx] = _recorded(pending.pop(idx))
                elif _newer(out_dir / RECORD / "overrides.yaml", started) or broken >= MAX_BROKEN_POOLS:
                    error = f"worker killed ({reason})"
                    print(f"error: job {idx}: {error}", file=sys.stderr, flush=True)
                    _record_killed(cfg, out_dir, pending[idx], error)
                    returns[idx] = _recorded(pending.pop(idx))
            continue
        for idx, ret in zip(order, runs, strict=True):
            returns[idx] = ret
        pending.clear()
    return [returns[initial_job_idx + i] for i in range(len(job_overrides))]


def install() -> None:
    """Make `hydra/launcher=joblib` use `launch` (nothing happens without the plugin).
    Hydra loads its plugin modules itself, so the class is taken from its registry."""
    from hydra.core.plugins import Plugins

    stock = Plugins.instance().class_name_to_class.get(STOCK)
    if stock is not None:
        stock.launch = launch


