"""Hydra callback: one sweep per folder, and when a sweep ends, its `results.csv` and
`report.html`.

When a sweep starts, it locks its folder (`benchmark.sweeplock`): a second, different
sweep into the same `hydra.sweep.dir` is refused in one line, exit 2. When it ends, the
callback reads what the jobs wrote (Hydra hands `on_multirun_end` no job results, and
remote launchers could not): every `result.json` under `hydra.sweep.dir`. Hydra turns an
exception raised in a callback into a warning; this callback prints its own one-line
error and ends the sweep with a non-zero exit instead: 2 when a job had bad input
(status `invalid`), 1 when a job left no result or the report could not be written. The
jobs' files are left as they are.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from benchmark.cli_errors import error_line
from benchmark.sweeplock import SweepConflictError, SweepLock
from problems.errors import ProblemError
from problems.text import clean

INVALID_EXIT = 2
INCOMPLETE_EXIT = 1


class SweepReport(Callback):
    def __init__(self, csv: str = "results.csv", report: str = "report.html") -> None:
        self.csv = csv
        self.report = report
        self.lock = SweepLock()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from benchmark import compose, launcher

        launcher.install()  # hydra/launcher=joblib: a killed worker fails its job, not the sweep
        compose.install()  # each job's config composed once; a sample checked before the first job
        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            self.lock.acquire(sweep_dir, [str(o) for o in OmegaConf.to_container(config.hydra.overrides.task)])
        except SweepConflictError as exc:
            print(error_line(exc), file=sys.stderr, flush=True)
            raise SystemExit(INVALID_EXIT) from None
        except OSError:  # a folder that cannot be made: Hydra's sweeper reports it
            return

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            status = self._outputs(Path(str(config.hydra.sweep.dir)))
        finally:
            self.lock.release()
        if status:
            raise SystemExit(status)

    def _outputs(self, sweep_dir: Path) -> int:
        from reports.build import write_sweep_outputs
        from reports.collect import read_sweep

        try:
            collected = read_sweep(sweep_dir)
            csv, html = write_sweep_outputs(sweep_dir, self.csv, self.report, collected)
        except ProblemError as exc:
            print(error_line(exc), file=sys.stderr, flush=True)
            return INCOMPLETE_EXIT
        except OSError as exc:
            print(f"error: report for {clean(sweep_dir)}: {exc.strerror or type(exc).__name__}"
                  f"{f' ({clean(exc.filename)})' if exc.filename else ''}", file=sys.stderr, flush=True)
            return INCOMPLETE_EXIT
        except Exception as exc:
            traceback.print_exc()
            print(f"error: report for {clean(sweep_dir)}: {type(exc).__name__}: {clean(exc)}", file=sys.stderr,
                  flush=True)
            return INCOMPLETE_EXIT
        print(f"results: {csv}\nreport:  {html}", flush=True)
        statuses = list(collected.frame["status"]) if not collected.frame.empty else []
        invalid = sum(s == "invalid" for s in statuses)
        total = len(statuses) + len(collected.missing)
        if invalid:
            print(f"error: {invalid} of {total} jobs had bad input (status invalid); see {csv}", file=sys.stderr,
                  flush=True)
            return INVALID_EXIT
        if collected.missing:
            print(f"error: {len(collected.missing)} of {total} jobs left no usable result; see {html}",
                  file=sys.stderr, flush=True)
            return INCOMPLETE_EXIT
        return 0
