"""`python -m benchmark` end to end, as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from problems.build import build_problem
from problems.instance import load_instance, save_instance

pytestmark = pytest.mark.slow  # every test runs `python -m benchmark` as a command

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_default_run_writes_instance_and_result(tmp_path):
    out = tmp_path / "run"
    proc = cli(f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "alexnet-mec-5g_avg" in proc.stdout and "gap=0.000%" in proc.stdout
    row = json.loads((out / "result.json").read_text())
    assert row["solver"] == "dp" and row["status"] == "ok"
    assert row["instance"] == "alexnet-mec-5g_avg"
    assert row["assignment"] == [1, 1, 2, 2, 2, 2, 2, 2, 2, 2]
    assert row["cost"] == pytest.approx(765.492, abs=5e-4)
    assert row["gap"] == 0.0 and row["optimal_cost"] == row["cost"]
    for key in ("scenario", "n_blocks", "tiers", "latency_ms", "energy_j", "deploy", "decision_ms", "prepare_s",
                "error", "seed", "info"):
        assert key in row
    problem = load_instance(out / "instance.json")
    assert problem.score(row["assignment"])["cost"] == row["cost"]


def test_instance_file_and_fixed_policy(tmp_path):
    path = save_instance(build_problem({"name": "mobilenet_v1"}, {"kind": "d2d"}, {"name": "5g_best"}),
                         tmp_path / "mob.json")
    out = tmp_path / "run"
    proc = cli(f"instance={path}", "solver=device_only", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    row = json.loads((out / "result.json").read_text())
    assert row["instance"] == "mobilenet_v1-d2d-5g_best"
    assert row["assignment"] == [0] * 6 and row["gap"] > 0


def test_multirun_records_unsupported_and_goes_on(tmp_path):
    sweep = tmp_path / "sweep"
    proc = cli("-m", "solver=cloud_only,dp", "scenario=d2d", "model=resnet32", f"hydra.sweep.dir={sweep}",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = sorted((json.loads(p.read_text()) for p in sweep.glob("*/result.json")), key=lambda r: r["solver"])
    assert [(r["solver"], r["status"]) for r in rows] == [("cloud_only", "unsupported"), ("dp", "ok")]
    assert "d2d scenario" in rows[0]["error"]


def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    proc = cli("scenario.weights.energy=-3", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: scenario.weights.energy: must be >= 0 (got -3.0)"
    assert not (out / "result.json").exists() and not (out / "instance.json").exists()
