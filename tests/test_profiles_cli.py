"""`python -m problems show`: the block table, the instance file and one-line errors."""

import subprocess
import sys
from pathlib import Path

import pytest

from problems.__main__ import main, parse_overrides
from problems.build import build_problem
from problems.instance import load_instance

pytestmark = pytest.mark.slow  # every test runs `python -m problems` as a command

ROOT = Path(__file__).resolve().parents[1]


def test_show_vgg16_torch_prints_blocks_and_writes_the_instance(tmp_path):
    out = tmp_path / "vgg.json"
    proc = subprocess.run([sys.executable, "-m", "problems", "show", "model=vgg16", "model.source=torch",
                           "--write", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("vgg16_torch-mec-5g_avg: 15 blocks")
    assert lines[1].split() == ["block", "layers", "in", "KB", "out", "KB", "latency", "ms", "energy", "J", "exit"]
    rows = [line.split() for line in lines if line.startswith("b")][1:]
    assert [r[0] for r in rows] == [f"b{i}" for i in range(1, 16)]
    assert rows[0][1:5] == ["conv", "relu", "588.000", "12544.000"]
    problem = load_instance(out)
    assert problem.name == "vgg16_torch-mec-5g_avg" and problem.n_blocks == 15
    assert problem.profile.blocks == build_problem({"name": "vgg16", "source": "torch"}, {}, {}).profile.blocks


def test_out_key_and_exit_column(tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["show", "model=resnet", "model.depth=20", "scenario.kind=d2d", "scenario.early_exit.enabled=true",
                 "network=sampled", "network.seed=2", f"out={out}"]) == 0
    text = capsys.readouterr().out
    assert "resnet20_torch-d2d-sampled2: 11 blocks, d2d scenario" in text
    exits = [line.split()[-1] for line in text.splitlines() if line.startswith("b") and line[1].isdigit()]
    assert exits[-1] == "-" and all(0 <= float(x) <= 1 for x in exits[:-1])
    assert load_instance(out).profile.blocks[0].exit_prob is not None


def test_groups_start_from_the_yaml_files():
    cfg, out = parse_overrides(["model=synthetic", "model.seed=4", "network=5g_best"])
    assert cfg["model"]["name"] == "synthetic" and cfg["model"]["seed"] == 4 and cfg["model"]["depth"] == 100
    assert cfg["network"] == {"name": "5g_best", "scale": {"bandwidth": 1.0, "delay": 1.0}, "seed": 0}
    assert cfg["scenario"] == {} and out is None


@pytest.mark.parametrize(("args", "field"), [
    (["model=resnet", "model.depth=33"], "model.depth"),
    (["model=synthetic", "model.depth=0"], "model.depth"),
    (["model=resnet", "model.depth=abc"], "model.depth"),
    (["model.input_shape=[3,x"], "model.input_shape"),
    (["network.scale.bandwidth=0"], "network.scale.bandwidth"),
    (["model=nosuch"], "model.name"),
    (["solver=dp"], "solver"),
    (["model.depth"], "argument"),
    (["out=/proc/no/such/dir/x.json"], "out"),
])
def test_bad_input_is_one_line_naming_the_field(args, field, capsys):
    assert main(["show", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {field}") and err.count("\n") == 1


def test_bad_input_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "problems", "show", "model=resnet", "model.depth=33"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "model.depth" in proc.stderr and "33" in proc.stderr and "Traceback" not in proc.stderr
