"""Hydra callback: when a sweep ends, gather its jobs' files into `results.csv` and
`report.html` in the sweep directory.

Hydra hands `on_multirun_end` no job results (and remote launchers could not), so the
callback reads what the jobs wrote: every `result.json` under `hydra.sweep.dir`. Hydra
turns an exception raised here into a warning; this callback prints its own one-line
error instead, and the jobs' files are left as they are.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from problems.errors import ProblemError


class SweepReport(Callback):
    def __init__(self, csv: str = "results.csv", report: str = "report.html") -> None:
        self.csv = csv
        self.report = report

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from reports.build import write_sweep_outputs

        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            csv, html = write_sweep_outputs(sweep_dir, self.csv, self.report)
        except ProblemError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return
        except Exception as exc:
            traceback.print_exc()
            print(f"error: report for {sweep_dir}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            return
        print(f"results: {csv}\nreport:  {html}", flush=True)
