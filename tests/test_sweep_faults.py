"""A sweep interrupted (SIGINT or SIGKILL) and resumed ends with every result exactly once;
the same sweep with the same seeds gives the same numbers with the basic and the joblib
launcher (decision times aside)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # sweeps run as commands and are interrupted by signals

SEEDS = "seed=0,1,2,3,4,5"
NUMBERS = ["assignment", "cost", "latency_ms", "energy_j", "deploy", "optimal_cost", "gap", "status"]


def sweep_cmd(sweep: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "benchmark", "-m", SEEDS, "solver=optuna", "solver.trials=60", "model=alexnet",
            "timing.budget_s=0.3", f"hydra.sweep.dir={sweep}", *extra]


def finished(sweep: Path) -> list[Path]:
    return sorted(sweep.glob("*/result.json"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_sweep_resumes_to_every_result_exactly_once(tmp_path, sig):
    sweep = tmp_path / "sweep"
    proc = subprocess.Popen(sweep_cmd(sweep), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    while len(finished(sweep)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be interrupted"
    os.killpg(proc.pid, sig)
    proc.wait(timeout=60)
    before = {p.parent.name: (p.stat().st_mtime_ns, p.read_text()) for p in finished(sweep)}
    assert 2 <= len(before) < 6
    for p in sweep.glob("*/result.json"):
        json.loads(p.read_text())  # whatever was written is whole
    again = subprocess.run(sweep_cmd(sweep, "resume=true"), cwd=tmp_path, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr
    rows = pd.read_csv(sweep / "results.csv")
    assert len(rows) == 6 and sorted(rows["seed"]) == [0, 1, 2, 3, 4, 5]
    assert set(rows["status"]) == {"ok"}
    for job, (mtime, text) in before.items():  # finished jobs were not run again
        if json.loads(text)["status"] == "ok":
            path = sweep / job / "result.json"
            assert path.stat().st_mtime_ns == mtime and path.read_text() == text


def test_same_sweep_same_numbers_with_basic_and_joblib(tmp_path):
    args = ["-m", "solver=dp,genetic,random_search,neurosurgeon", "model=alexnet,mobilenet_v1", "scenario=mec,d2d",
            "seed=3", "timing.budget_s=0.01"]
    frames = []
    for i, launcher in enumerate([[], [], ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]]):
        sweep = tmp_path / f"sweep{i}"
        proc = subprocess.run([sys.executable, "-m", "benchmark", *args, *launcher, f"hydra.sweep.dir={sweep}"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        df = pd.read_csv(sweep / "results.csv")
        frames.append(df.sort_values(["solver", "instance"]).reset_index(drop=True))
    assert len(frames[0]) == 16
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0][["solver", "instance", *NUMBERS]],
                                      other[["solver", "instance", *NUMBERS]])


def test_jobs_go_to_the_workers_in_order_in_small_chunks():
    from benchmark.launcher import CHUNKS_PER_WORKER, chunks

    for n_jobs, workers in ((384, 2), (7, 2), (1, 4), (0, 2), (100, 1)):
        order = list(range(10, 10 + n_jobs))
        parts = chunks(order, workers)
        assert [i for part in parts for i in part] == order
        assert all(parts) and len(parts) <= max(1, workers * CHUNKS_PER_WORKER)
        assert max(map(len, parts), default=0) - min(map(len, parts), default=0) <= max(map(len, parts), default=0)
