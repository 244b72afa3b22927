"""`python -m benchmark` end to end on a DAG instance file (spec sections 12 and 14)."""

import json
import subprocess
import sys

import pytest
from dag_factory import synthetic_dag

from problems.instance import save_instance

pytestmark = pytest.mark.slow


def cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize(("kind", "solver", "reference"), [("mec", "ilp", "ilp"), ("d2d", "mincut", "mincut"),
                                                           ("mec", "neurosurgeon", "ilp")])
def test_a_dag_instance_runs_end_to_end(tmp_path, kind, solver, reference):
    problem = synthetic_dag(30, 3, kind)
    path = save_instance(problem, tmp_path / "dag.json")
    assert json.loads(path.read_text())["format"] == "partition-instance/2"
    out = tmp_path / "run"
    proc = cli(f"instance={path}", f"solver={solver}", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    row = json.loads((out / "result.json").read_text())
    assert row["status"] == "ok" and row["reference_kind"] == "optimal"
    assert row["cost"] == pytest.approx(problem.score(row["assignment"])["cost"], rel=1e-12)
    if solver != "neurosurgeon":
        assert row["gap"] == pytest.approx(0.0, abs=1e-9)
    assert "optimum=" in proc.stdout and "gap=" in proc.stdout


def test_dp_on_a_dag_instance_is_unsupported(tmp_path):
    path = save_instance(synthetic_dag(30, 3, "mec"), tmp_path / "dag.json")
    proc = cli(f"instance={path}", "solver=dp", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert proc.returncode == 1
    assert "ilp" in proc.stdout and "mincut" in proc.stdout


def test_a_bad_reference_time_limit_is_one_line(tmp_path):
    path = save_instance(synthetic_dag(30, 3, "mec"), tmp_path / "dag.json")
    out = tmp_path / "run"
    proc = cli(f"instance={path}", "solver=ilp", "reference.time_limit_s=0", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: reference.time_limit_s: must be > 0 (got 0.0)"
    assert not (out / "result.json").exists()
