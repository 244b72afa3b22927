"""`python -m benchmark`: the Hydra app. `solver=... model=... scenario=... network=...`
or `instance=PATH`; `-m` sweeps over any of them (one job, one result row each).

In a sweep a job never raises: Hydra's basic sweeper stops at the first job that does,
and the sweep's `results.csv` and `report.html` (`benchmark.callbacks`) are only written
when it ends. Bad input is one line on stderr; anything else also prints its traceback.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from benchmark.job import run_job
from benchmark.schemas import register
from problems.errors import ProblemError

register()  # the config schemas conf/ extends (benchmark.schemas)


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    data = OmegaConf.to_container(cfg, resolve=True)
    try:
        row = run_job(data, Path(hc.runtime.output_dir), list(hc.overrides.task))
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        if hc.mode == RunMode.RUN:
            sys.exit(2)
        return
    except Exception as exc:
        if hc.mode == RunMode.RUN:
            raise
        traceback.print_exc()
        print(f"error: job {hc.job.num}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return
    if hc.mode == RunMode.RUN and row["status"] != "ok":
        sys.exit(1)


if __name__ == "__main__":
    from benchmark.cli_errors import run_cli

    run_cli(main)
