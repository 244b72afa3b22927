"""`python -m benchmark`: the Hydra app. `solver=... model=... scenario=... network=...`
or `instance=PATH`; `-m` sweeps over any of them (one job, one result row each)."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from benchmark.job import run_job
from problems.errors import ProblemError


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
    if hc.mode == RunMode.RUN and row["status"] != "ok":
        sys.exit(1)


if __name__ == "__main__":
    main()
