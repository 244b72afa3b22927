"""`python -m benchmark`: the Hydra app. `solver=... model=... scenario=... network=...`
or `instance=PATH`; `-m` sweeps over any of them (one job, one result row each).

In a sweep a job never raises: Hydra's basic sweeper stops at the first job that does,
and the sweep's `results.csv` and `report.html` (`benchmark.callbacks`) are only written
when it ends. Bad input is one line on stderr: a single run exits 2 and changes no file
(not even `.hydra/`, which a job writes itself once its input is valid); in a sweep the
job becomes a row with status `invalid` and the sweep exits 2 when it ends. Anything
else also prints its traceback.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from benchmark.cli_errors import error_line
from benchmark.job import hydra_record, record_refused, run_job
from benchmark.schemas import register
from problems.errors import ProblemError
from problems.text import clean

register()  # the config schemas conf/ extends; a solver's is made when Hydra opens it (benchmark.schemas)


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    sweep = hc.mode == RunMode.MULTIRUN
    out_dir = Path(hc.runtime.output_dir)
    overrides = [str(o) for o in OmegaConf.to_container(hc.overrides.task)]  # as typed, unresolved
    data: dict = {}
    try:
        data = OmegaConf.to_container(cfg, resolve=True)
        row = run_job(data, out_dir, overrides, record=hydra_record(cfg))
    except (ProblemError, OmegaConfBaseException) as exc:
        line = error_line(exc)
        print(line, file=sys.stderr, flush=True)
        if not sweep:
            sys.exit(2)
        try:
            record_refused(data or OmegaConf.to_container(cfg, resolve=False), out_dir, overrides,
                           line.removeprefix("error: "), hydra_record(cfg))
        except ProblemError as again:  # the output folder cannot take even that
            print(error_line(again), file=sys.stderr, flush=True)
        return
    except (Exception, SystemExit) as exc:
        if not sweep:
            raise
        traceback.print_exc()
        print(f"error: job {hc.job.num}: {type(exc).__name__}: {clean(exc)}", file=sys.stderr, flush=True)
        return
    if not sweep and row["status"] != "ok":
        sys.exit(1)


if __name__ == "__main__":
    from benchmark.cli_errors import run_cli

    run_cli(main)
