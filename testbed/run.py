"""`command=run` and `command=calibrate`: the testbed's two jobs, start to end.

run: export the blocks, start the testbed, calibrate (or reuse `testbed.calibration`),
check the links, solve every partition on the calibrated instance, run its requests and
write `testbed.json` (the issue's fields), `requests.json` (every request's trace and the
per-block / per-transfer breakdown), `calibration.json` and `instance.json`.
calibrate: the same calibration, plus the Sec. 3.2 layer-type fit (`layer_models.json`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf
from tqdm import tqdm

from benchmark.runner import TimingConfig, run
from benchmark.schemas import RUNNER_KEYS
from problems import Problem
from problems.atomic import atomic_write_text
from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import save_instance
from problems.models import ModelConfig
from problems.schema import from_mapping
from solvers.registry import make_solver, solver_class
from testbed.breakdown import calibration_vs_requests, median_parts, request_parts
from testbed.calibrate import (
    calibrate_blocks,
    calibrated_problem,
    calibration_document,
    device_runtime,
    load_calibration,
    server_runtime,
    write_calibration,
)
from testbed.config import COMMANDS, TestbedConfig
from testbed.errors import TestbedError
from testbed.export import export_blocks
from testbed.linkcheck import link_check
from testbed.session import Limits, Testbed
from testbed.summary import partition_row, summary

SOLVER_CONF = Path(__file__).resolve().parent.parent / "conf" / "solver"

#: a request's result must equal one torch forward pass of the whole model
RESULT_ATOL = 1e-4
ENERGY_NOTE = "modelled, not measured: there is no power monitor (the cost model's E is unchanged)"


def solver_params(name: str, where: str) -> dict[str, Any]:
    """The solver's default parameters: its conf/solver YAML without the runner's keys."""
    try:
        solver_class(name)
    except FieldError as exc:
        raise FieldError(where, exc.args[0].split(": ", 1)[1].split(" (got")[0], name) from None
    path = SOLVER_CONF / f"{name}.yaml"
    if not path.exists():
        raise FieldError(where, f"no conf/solver/{name}.yaml", name)
    data = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    params = {k: v for k, v in data.items() if k not in (*RUNNER_KEYS, "defaults")}  # defaults: its schema
    make_solver(name, params, prefix=where)  # a bad parameter fails now, not after the calibration
    return params


def _json(path: Path, doc: Any) -> None:
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")


class Job:
    """One command on one configuration; everything is validated before anything starts."""

    def __init__(self, cfg: Mapping, outdir: Path):
        self.command = cfg.get("command", "run")
        if self.command not in COMMANDS:
            raise FieldError("command", f"choose one of {list(COMMANDS)}", self.command)
        self.tcfg = from_mapping(TestbedConfig, cfg.get("testbed"), "testbed")
        self.seed = int(cfg.get("seed", 0))
        self.model = from_mapping(ModelConfig, cfg.get("model"), "model")
        if self.model.resolved_source != "torch":
            raise FieldError("model.source", "the testbed runs the problems/zoo torch modules; use torch",
                             self.model.source)
        self.problem = build_problem(cfg.get("model"), cfg.get("scenario"), cfg.get("network"))
        self.model_cfg = dict(cfg.get("model") or {})
        self.params = {}
        if self.command == "run":
            for i, name in enumerate(self.tcfg.partitions):
                self.params[name] = solver_params(name, f"testbed.partitions[{i}]")
        self.calibration = load_calibration(self.tcfg.calibration) if self.tcfg.calibration else None
        if self.calibration is not None:
            calibrated_problem(self.problem, self.calibration)  # refuse a calibration of another problem now
        self.outdir = outdir

    def testbed(self, files: Path, work: Path) -> Testbed:
        t = self.tcfg
        threads = {"edge": t.edge.threads, "cloud": t.cloud.threads, "collaborator": t.edge.threads}
        limits = Limits(startup_s=t.startup_timeout_s, request_s=t.request_timeout_s)
        return Testbed(self.problem, files, work, logdir=self.outdir / "logs", browser=t.device.browser,
                       cpu_throttling=t.device.cpu_throttling, threads=threads, limits=limits)

    async def execute(self) -> dict:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for sig in (signal.SIGTERM, signal.SIGHUP):  # stop like Ctrl-C does: cancelled, then cleaned up
            loop.add_signal_handler(sig, task.cancel)
        work = Path(tempfile.mkdtemp(prefix="partbench-testbed-"))
        try:
            tb = self.testbed(work / "files", work)  # a missing browser fails before the export
            exported = export_blocks(self.model, self.problem, work / "files", seed=self.seed)
            async with tb.running():
                await tb.load("blocks", exported.files, image=exported.image)
                await tb.throttle()
                problem = await self.calibrated(tb, exported)
                if self.command == "calibrate":
                    return await self.layer_fit(tb, work)
                return await self.measure(tb, problem, exported)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    async def calibrated(self, tb: Testbed, exported) -> Problem:
        doc = self.calibration
        if doc is None:
            t = self.tcfg
            rows = await calibrate_blocks(tb, exported, warmup=t.warmup, repeats=t.repeats)
            settings = {"warmup": t.warmup, "repeats": t.repeats, "timing": "single-tier requests", "seed": self.seed}
            doc = calibration_document(tb, rows, settings, self.model_cfg)
            write_calibration(doc, self.outdir / "calibration.json")
        problem = calibrated_problem(self.problem, doc)
        save_instance(problem, self.outdir / "instance.json")
        return problem

    async def measure(self, tb: Testbed, problem: Problem, exported) -> dict:
        t = self.tcfg
        checked = await link_check(tb.hub, t.link_check.sizes_kb, t.link_check.repeats)
        links = [{k: v for k, v in row.items() if k != "sizes"} for row in checked]
        rows, traces = [], []
        for name in self.tcfg.partitions:
            row = run(problem, name, self.params[name], self.seed, TimingConfig(budget_s=0.0, max_repeats=1))
            if row["status"] != "ok":
                raise TestbedError(f"partition {name}: {row['status']}: {row['error']}")
            assignment = row["assignment"]
            label = "".join(map(str, assignment))
            for k in range(t.warmup_requests):
                await tb.request(-1 - k, assignment)
            parts = []
            for req in tqdm(range(t.requests), desc=f"{name} {label}", unit="request", leave=False):
                done, result = await tb.request(req, assignment)
                err = float(np.max(np.abs(result - exported.reference)))
                if not err <= RESULT_ATOL:
                    raise TestbedError(f"partition {name} ({label}): the result differs from torch's by {err:.3g}")
                parts.append(request_parts(done["trace"], done["e2e_ms"]))
            rows.append(partition_row(name, assignment, row["latency_ms"], [p["e2e_ms"] for p in parts]))
            traces.append({"solver": name, "assignment": assignment, "breakdown": median_parts(parts),
                           "requests": parts})
        doc = {"device_runtime": {**device_runtime(tb), "energy": ENERGY_NOTE},
               "server_runtime": server_runtime(tb), "links": links, "partitions": rows, "summary": summary(rows)}
        calibration = [list(b.tier_latency_ms) for b in problem.profile.blocks]
        _json(self.outdir / "requests.json", {"tiers": tb.tier_names, "partitions": traces,
                                              "calibration": calibration,
                                              "calibration_vs_requests": calibration_vs_requests(calibration, traces),
                                              "link_check": checked})
        _json(self.outdir / "testbed.json", doc)
        return doc

    async def layer_fit(self, tb: Testbed, work: Path) -> dict:
        if not self.tcfg.layer_fit.enabled:
            return {}
        from testbed.layerfit import fit_layers

        doc = await fit_layers(tb, work / "files", self.tcfg.layer_fit, self.seed)
        atomic_write_text(self.outdir / "layer_errors.md", doc.pop("error_table_markdown"))
        _json(self.outdir / "layer_models.json", doc)
        return doc
