"""Sweeps end to end: results.csv and report.html when a sweep ends, failures and
timeouts recorded while the sweep goes on, resume, and the run-level config keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmark.isolate import run_isolated
from benchmark.resume import finished
from benchmark.runner import TimingConfig, run
from problems.build import build_problem

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PLUGINS = "plugins=[sweep_solvers]"


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m benchmark ...` with the test solvers importable."""
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]), **(env or {})}
    return subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def results(sweep: Path) -> pd.DataFrame:
    return pd.read_csv(sweep / "results.csv", dtype={"job": str}).sort_values("job", key=lambda s: s.astype(int))


@pytest.mark.slow
def test_sweep_gathers_ok_failed_and_timed_out_jobs(tmp_path):
    sweep, pids = tmp_path / "sweep", tmp_path / "pids"
    proc = cli("-m", "solver.name=dp,test_crash,test_sleep,test_exit", PLUGINS, "solver.timeout_s=2",
               "model=mobilenet_v1", "timing.budget_s=0.01", f"hydra.sweep.dir={sweep}", cwd=tmp_path,
               env={"SWEEP_SOLVERS_PID_FILE": str(pids)})
    assert proc.returncode == 0, proc.stderr
    df = results(sweep)
    assert list(df["solver"]) == ["dp", "test_crash", "test_sleep", "test_exit"]
    assert list(df["status"]) == ["ok", "failed", "timeout", "failed"]
    crash, sleep, exited = (df[df["solver"] == name].iloc[0] for name in ("test_crash", "test_sleep", "test_exit"))
    assert crash["error"] == "RuntimeError: boom"
    assert "solver.timeout_s=2 s during solve" in sleep["error"]
    assert "exited with code 3" in exited["error"]
    ok = df[df["status"] == "ok"].iloc[0]
    assert ok["gap"] == 0 and ok["instance"] == "mobilenet_v1-mec-5g_avg"
    assert sleep["optimal_cost"] == pytest.approx(ok["optimal_cost"])  # a timed-out row still knows the optimum
    for column in ("overrides", "seed", "version.numpy", "machine.cpu", "timestamp", "git_revision", "config",
                   "override.solver.name", "scale_bandwidth", "info"):
        assert column in df.columns
    assert json.loads(ok["overrides"])[0] == "solver.name=dp"
    assert (sweep / "report.html").stat().st_size > 1_000_000
    # the timed-out solver and the process it started were both stopped
    solver_pid, grandchild_pid = map(int, pids.read_text().split())
    deadline = time.monotonic() + 10
    while (alive(solver_pid) or alive(grandchild_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(solver_pid) and not alive(grandchild_pid)


@pytest.mark.slow
def test_resume_skips_finished_jobs_and_keeps_their_files(tmp_path):
    sweep = tmp_path / "sweep"
    args = ("-m", PLUGINS, "model=alexnet", "timing.budget_s=0.01", f"hydra.sweep.dir={sweep}")
    first = cli(*args, "solver.name=dp,test_crash,device_only", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    kept = {job: {name: ((sweep / job / name).read_bytes(), (sweep / job / name).stat().st_mtime_ns)
                  for name in ("result.json", "instance.json")} for job in ("0", "2")}
    failed_before = (sweep / "1" / "result.json").read_text()
    second = cli(*args, "solver.name=dp,test_crash,device_only", "resume=true", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("(resumed: kept") == 2
    for job, files in kept.items():
        for name, (data, mtime) in files.items():
            assert (sweep / job / name).read_bytes() == data
            assert (sweep / job / name).stat().st_mtime_ns == mtime
    rerun = json.loads((sweep / "1" / "result.json").read_text())
    assert rerun["status"] == "failed" and (sweep / "1" / "result.json").read_text() != failed_before
    df = results(sweep)
    assert list(df["solver"]) == ["dp", "test_crash", "device_only"]
    assert all("resume=true" not in o for o in df["overrides"])
    other = cli(*args, "solver.name=dp,test_crash,device_only,cloud_only", "resume=true", cwd=tmp_path)
    assert other.returncode == 2 and "holds another sweep" in other.stderr  # a different sweep: refused


def test_resume_counts_only_ok_results_made_with_the_same_overrides(tmp_path):
    (tmp_path / "result.json").write_text(json.dumps({"status": "ok", "overrides": ["solver=dp", "seed=1"]}))
    assert finished(tmp_path, ["seed=1", "solver=dp", "resume=true"]) is not None
    assert finished(tmp_path, ["solver=device_only", "seed=1"]) is None
    (tmp_path / "result.json").write_text(json.dumps({"status": "timeout", "overrides": ["solver=dp"]}))
    assert finished(tmp_path, ["solver=dp"]) is None
    (tmp_path / "result.json").write_text("{half a file")
    assert finished(tmp_path, ["solver=dp"]) is None


@pytest.mark.slow
@pytest.mark.parametrize(("override", "message"), [
    ("resume=maybe", "error: resume: must be true or false (got 'maybe')"),
    ("plugins=[no_such_module_xyz]", "error: plugins[0]: cannot import module"),
    ("solver.timeout_s=-1", "error: solver.timeout_s: must be null or a number of seconds in (0, 604800] (got -1"),
    ("isolation.start_method=thread", "error: isolation.start_method: choose one of"),
])
def test_bad_run_keys_are_one_line_and_write_nothing(tmp_path, override, message):
    out = tmp_path / "run"
    proc = cli(override, f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith(message) and "\n" not in proc.stderr.strip()
    assert not (out / "result.json").exists()


@pytest.mark.slow
def test_isolated_run_matches_in_process_run_and_stops_what_it_started():
    sys.path.insert(0, str(TESTS))
    import sweep_solvers  # noqa: F401 - registers the test solvers

    problem = build_problem({"name": "alexnet"}, {"kind": "mec"}, {"name": "5g_avg"})
    timing = TimingConfig(budget_s=0.0, max_repeats=3)
    here = run(problem, "dp", {}, 0, timing)
    there = run_isolated(problem, "dp", {}, 0, timing, 30.0, ["sweep_solvers"], "fork")
    keys = ("status", "assignment", "cost", "optimal_cost", "gap", "latency_ms", "energy_j")
    assert {k: there[k] for k in keys} == {k: here[k] for k in keys}
    t0 = time.monotonic()
    row = run_isolated(problem, "test_sleep", {"seconds": 30.0}, 0, timing, 0.5, ["sweep_solvers"], "fork")
    assert row["status"] == "timeout" and time.monotonic() - t0 < 10
    assert row["info"] == {"timeout_s": 0.5, "phase": "solve"} and row["assignment"] is None
    row = run_isolated(problem, "test_crash", {}, 0, timing, 30.0, ["sweep_solvers"], "fork")
    assert row["status"] == "failed" and row["error"] == "RuntimeError: boom"


@pytest.mark.slow
def test_joblib_launcher_runs_a_small_sweep_in_parallel(tmp_path):
    """Also the time limit inside joblib's worker processes (whose default start method is loky's)."""
    sweep = tmp_path / "sweep"
    proc = cli("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "solver.name=dp,device_only,test_sleep",
               "scenario=mec,d2d", PLUGINS, "solver.timeout_s=2", "timing.budget_s=0.01", f"hydra.sweep.dir={sweep}",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    df = results(sweep)
    assert len(df) == 6
    assert set(df[df["solver"] != "test_sleep"]["status"]) == {"ok"}
    assert set(df[df["solver"] == "test_sleep"]["status"]) == {"timeout"}
    assert "JoblibLauncher" in (sweep / "multirun.yaml").read_text()
    assert (sweep / "report.html").exists()


@pytest.mark.slow
def test_default_sweep_dir_gets_its_results_even_when_the_clock_moves_on(tmp_path):
    """The sweep directory holds `${now:...}`; the callback must resolve it to the same time."""
    proc = cli("-m", "solver=dp,device_only", "timing.budget_s=1.1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (sweep,) = [p.parent for p in (tmp_path / "multirun").glob("*/*/multirun.yaml")]
    assert len(results(sweep)) == 2 and (sweep / "report.html").exists()
