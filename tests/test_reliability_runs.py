"""A sweep goes on and nothing is left behind: a solver's sys.exit(), an info dict that
holds itself, a killed joblib worker and SIGTERM to a supervising run; names that would
crash or forge output are shown escaped; checkpoints are checked before use; a run
imports only its own solver."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import reliability_solvers  # noqa: F401 - registers the test solvers
import torch
from reliability_helpers import PLUGIN, ROOT, cli, config, env

from benchmark.callbacks import SweepReport
from benchmark.job import describe, run_job
from benchmark.plugins import load_plugins
from benchmark.runner import TimingConfig, run
from problems import Problem
from problems.build import build_problem
from problems.errors import FieldError
from problems.text import clean
from reports.__main__ import main as report_main
from reports.collect import read_sweep
from solvers import iorlo
from solvers._ddpg import CheckpointError, load_checkpoint, save_checkpoint
from solvers.registry import _REGISTRY, MODULES, available

FAST = ("timing.budget_s=0", "timing.max_repeats=1")
TIMING = TimingConfig(0.0, 1)


def alexnet() -> Problem:
    return build_problem({"name": "alexnet"}, {"kind": "mec"}, {})


def renamed(problem: Problem, name: str) -> Problem:
    sc = problem.scenario
    tiers = tuple(dataclasses.replace(t, name=name + str(i)) for i, t in enumerate(sc.tiers))
    return Problem(problem.profile, dataclasses.replace(sc, tiers=tiers), name=name)


# -- 5: sys.exit() ------------------------------------------------------------------------------
def test_sys_exit_in_solve_is_a_failed_row():
    row = run(alexnet(), "test_sys_exit", timing=TIMING)
    assert row["status"] == "failed" and row["error"] == "SystemExit: 0"


def test_sys_exit_in_a_plugin_import_is_bad_input(tmp_path, monkeypatch):
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(FieldError, match=r"plugins\[0\].*SystemExit"):
        load_plugins(["exits_on_import"])


@pytest.mark.slow
def test_a_sweep_goes_on_past_a_solver_that_calls_sys_exit(tmp_path):
    folder = tmp_path / "sweep"
    proc = cli("-m", PLUGIN, "solver.name=test_sys_exit,dp", *FAST, f"hydra.sweep.dir={folder}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = read_sweep(folder).frame.sort_values("solver")
    assert list(rows["status"]) == ["ok", "failed"] and list(rows["error"])[1] == "SystemExit: 0"


# -- 16: an info dict that holds itself -----------------------------------------------------------
def test_a_cyclic_info_is_recorded(tmp_path):
    row = run(alexnet(), "test_cycle", timing=TIMING)
    assert row["status"] == "ok"
    assert row["info"]["self"] == "<cycle>" and row["info"]["loop"] == [1, "<cycle>"]
    done = run_job(config(PLUGIN, "solver.name=test_cycle", *FAST), tmp_path / "job")
    assert json.loads((tmp_path / "job" / "result.json").read_text())["info"] == done["info"]


# -- 6, 23: names are shown escaped ---------------------------------------------------------------
HOSTILE = ["\ud800", "x\x1b[2J\x1b[31mred", "forged\r\nalexnet  solver=dp  status=ok", "\u202etxt.exe", "a\x00b"]


@pytest.mark.parametrize("name", HOSTILE, ids=["surrogate", "ansi", "crlf", "bidi", "nul"])
def test_summary_lines_escape_control_characters(name):
    problem = renamed(alexnet(), name)
    row = run(problem, "dp", timing=TIMING)
    text = describe(problem, row)
    text.encode("utf-8")  # a lone surrogate cannot be printed or written
    assert len(text.splitlines()) == 4
    assert not any(c in text for c in "\x1b\r\x00\u202e\ud800")
    assert clean(name) in text


def test_a_sweep_with_hostile_names_gets_its_csv_and_report(tmp_path):
    root = tmp_path / "sweep"
    for i, name in enumerate(HOSTILE):
        row = run(renamed(alexnet(), name), "dp" if i % 2 else "cloud_only", timing=TIMING)
        row.update(model=name, overrides=[f"model.name={name}"], error=name if i % 2 else None)
        (root / str(i)).mkdir(parents=True)
        (root / str(i) / "result.json").write_text(json.dumps(row))  # ensure_ascii: valid JSON
    assert SweepReport()._outputs(root) == 0
    csv = (root / "results.csv").read_text(encoding="utf-8")
    page = (root / "report.html").read_text(encoding="utf-8")
    for text in (csv, page):
        assert not any(c in text for c in "\x1b\u202e\x00")
    assert "\\x1b[2J" in csv and "\\u202etxt.exe" in page
    assert report_main([str(root), "-o", str(tmp_path / "again.html")]) == 0


# -- 20, 27: checkpoints ----------------------------------------------------------------------------
def iorlo_checkpoint(folder: Path, n: int = 10) -> tuple[Path, dict]:
    cfg = iorlo.IorloConfig(actor_hidden=8, critic_hidden=8, progress=False)
    actor, critic = iorlo.build_nets(n, cfg, torch.Generator().manual_seed(0))
    meta = {"best_seen_cost": 1.0, "best_seen": [0] * n, "train_s": 0.1, "episodes": 1, "learn_steps": 1,
            "final_sigma": 0.1, "seed": 0, "training_curve": [0.0]}
    path = folder / "good.pt"
    save_checkpoint(path, iorlo.FORMAT, {"actor": actor, "critic": critic}, meta)
    return path, {"actor": actor, "critic": critic}


def _nets(n: int = 10) -> dict:
    cfg = iorlo.IorloConfig(actor_hidden=8, critic_hidden=8)
    actor, critic = iorlo.build_nets(n, cfg, torch.Generator().manual_seed(1))
    return {"actor": actor, "critic": critic}


def _rewrite(path: Path, out: Path, change) -> Path:
    data = torch.load(path, weights_only=True)
    change(data)
    torch.save(data, out)
    return out


def _tensors(data: dict, make) -> None:
    first = next(iter(data["nets"]["actor"]))
    data["nets"]["actor"][first] = make(data["nets"]["actor"][first])


BAD_TENSORS = {
    "nan": lambda t: torch.full_like(t, float("nan")),
    "inf": lambda t: torch.full_like(t, float("inf")),
    "int": lambda t: torch.zeros(t.shape, dtype=torch.int64),
    "bool": lambda t: torch.zeros(t.shape, dtype=torch.bool),
    "complex": lambda t: torch.zeros(t.shape, dtype=torch.complex64),
}


@pytest.mark.parametrize("kind", BAD_TENSORS)
def test_a_checkpoint_with_unusable_weights_is_refused_by_name(tmp_path, kind):
    good, _ = iorlo_checkpoint(tmp_path)
    nets = _nets()
    before = {k: v.clone() for k, v in nets["actor"].state_dict().items()}
    bad = _rewrite(good, tmp_path / f"{kind}.pt", lambda d: _tensors(d, BAD_TENSORS[kind]))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(bad, iorlo.FORMAT, nets, iorlo.META_KEYS)
    assert str(bad) in str(err.value) and len(str(err.value).splitlines()) == 1
    assert all(torch.equal(before[k], v) for k, v in nets["actor"].state_dict().items())  # nothing loaded


WRONG_STRUCTURE = {
    "no-meta-key": (lambda d: d["meta"].pop("best_seen_cost"), "best_seen_cost"),
    "meta-wrong-type": (lambda d: d["meta"].update(episodes="many"), "episodes"),
    "no-nets": (lambda d: d.pop("nets"), "nets"),
    "nets-a-list": (lambda d: d.update(nets=[1, 2]), "nets"),
    "net-not-a-mapping": (lambda d: d["nets"].update(actor=[1.0]), "actor"),
    "meta-a-list": (lambda d: d.update(meta=[1]), "meta"),
    "layer-a-number": (lambda d: _tensors(d, lambda t: 1.0), "not a tensor"),
}


@pytest.mark.parametrize("case", WRONG_STRUCTURE)
def test_a_checkpoint_of_the_wrong_structure_is_a_checkpoint_error(tmp_path, case):
    good, _ = iorlo_checkpoint(tmp_path)
    change, word = WRONG_STRUCTURE[case]
    bad = _rewrite(good, tmp_path / f"{case}.pt", change)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(bad, iorlo.FORMAT, _nets(), iorlo.META_KEYS)
    assert str(bad) in str(err.value) and word in str(err.value)


def test_a_nan_checkpoint_given_to_iorlo_fails_the_job_naming_the_file(tmp_path):
    good, _ = iorlo_checkpoint(tmp_path, n=alexnet().n_blocks)
    params = {"actor_hidden": 8, "critic_hidden": 8, "progress": False, "checkpoint_dir": None}
    assert run(alexnet(), "iorlo", {**params, "checkpoint": str(good)}, timing=TIMING)["status"] == "ok"
    bad = _rewrite(good, tmp_path / "nan.pt", lambda d: _tensors(d, BAD_TENSORS["nan"]))
    row = run(alexnet(), "iorlo", {**params, "checkpoint": str(bad)}, timing=TIMING)
    assert row["status"] == "failed" and "CheckpointError" in row["error"] and str(bad) in row["error"]


def test_an_iorlo_ctx_checkpoint_with_the_wrong_context_is_refused(tmp_path):
    problem = alexnet()
    params = {"updates": 1, "contexts": 1, "samples": 1, "search_rounds": 1, "progress": False, "seed": 0,
              "hidden": 8}
    cache = tmp_path / "cache"
    row = run(problem, "iorlo_ctx", {**params, "checkpoint_dir": str(cache)}, timing=TIMING)
    assert row["status"] == "ok", row["error"]
    (path,) = cache.glob("*.pt")
    bad = _rewrite(path, tmp_path / "short.pt", lambda d: d["meta"].update(mean=d["meta"]["mean"][:-1]))
    row = run(problem, "iorlo_ctx", {**params, "checkpoint": str(bad), "checkpoint_dir": None}, timing=TIMING)
    assert row["status"] == "failed" and "CheckpointError" in row["error"] and "mean" in row["error"]
    assert str(bad) in row["error"]


# -- 7: a killed joblib worker --------------------------------------------------------------------
@pytest.mark.slow
def test_a_killed_joblib_worker_fails_its_job_and_the_sweep_goes_on(tmp_path):
    folder, pids = tmp_path / "sweep", tmp_path / "pids"
    pids.mkdir()
    args = [sys.executable, "-m", "benchmark", "-m", PLUGIN, "solver.name=test_nap", "+solver.seconds=4",
            "+solver.tag=0,1,2,3", *FAST, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={folder}"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(RELIABILITY_PID_DIR=str(pids)))
    try:
        deadline = time.monotonic() + 240
        while not (pids / "0.pid").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(int((pids / "0.pid").read_text()), signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "TerminatedWorkerError" not in err
    rows = read_sweep(folder).frame.set_index("job")
    assert len(rows) == 4 and rows.loc["0", "status"] == "failed" and "worker killed" in rows.loc["0", "error"]
    assert (rows.loc[["2", "3"], "status"] == "ok").all()  # the jobs not yet started ran
    assert (folder / "report.html").exists()


# -- 14: SIGTERM to a supervising run ---------------------------------------------------------------
def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_a_run_with_a_timeout_stops_the_solvers_group(tmp_path, sig):
    pids = tmp_path / "pids"
    pids.mkdir()
    args = [sys.executable, "-m", "benchmark", PLUGIN, "solver.name=test_hang", "+solver.timeout_s=300", *FAST,
            f"hydra.run.dir={tmp_path / 'run'}"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env(RELIABILITY_PID_DIR=str(pids)))
    try:
        deadline = time.monotonic() + 240
        while not (pids / "hang.pid").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.2)
        solver, grandchild = map(int, (pids / "hang.pid").read_text().split())
        proc.send_signal(sig)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 20
        while (_alive(solver) or _alive(grandchild)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(solver) and not _alive(grandchild)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in [int(p) for p in (pids / "hang.pid").read_text().split()] if (pids / "hang.pid").exists() else []:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert proc.returncode != 0


# -- start-up: a run imports only its own solver -------------------------------------------------
def test_every_solver_lives_where_the_registry_looks():
    for name in available():
        if _REGISTRY[name].__module__.startswith("solvers."):  # not the test plugins
            assert _REGISTRY[name].__module__ == f"solvers.{MODULES.get(name, name)}", name


@pytest.mark.slow
def test_a_dp_run_imports_no_other_solver_and_no_heavy_library(tmp_path):
    code = ("import runpy, sys\n"
            f"sys.argv = ['benchmark', 'hydra.run.dir={tmp_path / 'run'}', 'timing.budget_s=0']\n"
            "try:\n    runpy.run_module('benchmark', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "heavy = ('torch', 'ortools', 'optuna', 'pandas', 'plotly', 'sklearn')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('solvers.')))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "['solvers.base', 'solvers.dp', 'solvers.registry']"


@pytest.mark.parametrize("kind", ["mec", "d2d"])
def test_the_short_chain_dp_gives_the_compiled_dps_answer_exactly(kind):
    from problem_factory import random_problem

    from solvers import dp

    for seed in range(60):
        tables = random_problem(seed, 1 + seed % 40, kind=kind).cost_tables
        args = (tables.unary, tables.trans, tables.final, tables.pay, tables.gain)
        (fast, fast_cost), (jit, jit_cost) = dp._backward_small(*args), dp._compiled()(*args)
        assert np.array_equal(fast, jit) and fast_cost == jit_cost, seed
    ties = [np.zeros_like(a) for a in args[:3]] + [np.zeros_like(args[3]), np.ones_like(args[4])]
    assert np.array_equal(dp._backward_small(*ties)[0], dp._compiled()(*ties)[0])  # ties: the lower tier
    assert not dp._backward_small(*ties)[0].any()
