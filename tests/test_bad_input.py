"""Bad input, as a user types it: one line naming the field and the value, a non-zero exit,
no traceback and no result files. Refusals that are results (a checkpoint that does not
fit, exhaustive above its limit) are recorded as such and still exit non-zero."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from problem_factory import mutated

from problems.build import build_problem
from problems.instance import problem_to_dict

GOOD = problem_to_dict(build_problem({"name": "alexnet"}, {"kind": "mec"}, {}))
GOOD_D2D = problem_to_dict(build_problem({"name": "alexnet"}, {"kind": "d2d"}, {}))


def _doc(base, path, value):
    return json.dumps(mutated(base, path, value), allow_nan=True)


# (case id, command-line arguments, instance text or None, words the one line must contain)
CONFIG_CASES = [
    ("unknown-solver", ["solver=simplex"], None, ["solver", "simplex"]),
    ("unknown-model", ["model=lenet"], None, ["model", "lenet"]),
    ("unknown-scenario", ["scenario=p2p"], None, ["scenario", "p2p"]),
    ("unknown-network", ["network=6g"], None, ["network", "6g"]),
    ("unknown-key", ["scenario.colour=red"], None, ["scenario.colour", "red"]),
    ("unknown-solver-key", ["+solver.depth=3"], None, ["solver.depth", "3"]),
    ("negative-bandwidth", ["network.scale.bandwidth=-1"], None, ["network.scale.bandwidth", "-1"]),
    ("zero-bandwidth", ["network.scale.bandwidth=0"], None, ["network.scale.bandwidth", "0"]),
    ("nan-bandwidth", ["network.scale.bandwidth=nan"], None, ["network.scale.bandwidth", "nan"]),
    ("inf-delay", ["network.scale.delay=inf"], None, ["network.scale.delay", "inf"]),
    ("zero-delay-scale", ["network.scale.delay=0"], None, ["network.scale.delay", "0"]),
    ("negative-d", ["scenario.edge.d=-2"], None, ["scenario.edge.d", "-2"]),
    ("zero-d", ["scenario.cloud.d=0"], None, ["scenario.cloud.d", "0"]),
    ("nan-e", ["scenario.device.e=nan"], None, ["scenario.device.e", "nan"]),
    ("negative-e", ["scenario.device.e=-1"], None, ["scenario.device.e", "-1"]),
    ("negative-weight", ["scenario.weights.energy=-3"], None, ["scenario.weights.energy", "-3"]),
    ("inf-weight", ["scenario.weights.deploy=inf"], None, ["scenario.weights.deploy", "inf"]),
    ("depth-zero", ["model=synthetic", "model.depth=0"], None, ["model.depth", "0"]),
    ("depth-negative", ["model=resnet", "model.depth=-20"], None, ["model.depth", "-20"]),
    ("seed-text", ["seed=abc"], None, ["seed", "abc"]),
    ("unwritable-output", ["hydra.run.dir=/proc/partbench/run"], None, ["output folder", "/proc/partbench"]),
    ("missing-file", ["instance=/nonexistent/partbench.json"], None, ["instance", "/nonexistent/partbench.json"]),
    ("truncated-file", [], json.dumps(GOOD)[:500], ["instance", "not valid JSON"]),
    ("malformed-file", [], "{'format': nope}", ["instance", "not valid JSON"]),
    ("unknown-instance-key", [], _doc(GOOD, ("colour",), "red"), ["colour", "red"]),
    ("missing-instance-key", [], _doc(GOOD, ("scenario", "links"), KeyError), ["scenario.links", "missing"]),
    ("instance-negative-bandwidth", [], _doc(GOOD, ("scenario", "links", "te", "up_mbps"), -5),
     ["scenario.links.te.up_mbps", "-5"]),
    ("instance-zero-bandwidth", [], _doc(GOOD_D2D, ("scenario", "link", "mbps"), 0), ["scenario.link.mbps", "0"]),
    ("instance-nan-delay", [], _doc(GOOD, ("scenario", "links", "ec", "delay_ms"), float("nan")),
     ["scenario.links.ec.delay_ms", "nan"]),
    ("instance-inf-d", [], _doc(GOOD, ("scenario", "tiers", 2, "d"), float("inf")), ["scenario.tiers[2].d", "inf"]),
    ("instance-zero-d", [], _doc(GOOD, ("scenario", "tiers", 1, "d"), 0), ["scenario.tiers[1].d", "0"]),
    ("instance-negative-e", [], _doc(GOOD, ("scenario", "tiers", 0, "e"), -1), ["scenario.tiers[0].e", "-1"]),
    ("instance-negative-weight", [], _doc(GOOD, ("scenario", "weights", "energy"), -300),
     ["scenario.weights.energy", "-300"]),
    ("exit-prob-above-1", [], _doc(GOOD, ("blocks", 3, "exit_prob"), 1.2), ["blocks[3].exit_prob", "1.2"]),
    ("exit-prob-negative", [], _doc(GOOD, ("blocks", 3, "exit_prob"), -0.2), ["blocks[3].exit_prob", "-0.2"]),
    ("tiers-do-not-fit", [], _doc(GOOD, ("scenario", "tiers"), GOOD["scenario"]["tiers"][:2]),
     ["scenario.tiers", "3 tiers"]),
    ("d2d-with-three-tiers", [], _doc(GOOD_D2D, ("scenario", "tiers"), GOOD["scenario"]["tiers"]),
     ["scenario.tiers", "2 tiers"]),
    ("empty-blocks", [], _doc(GOOD, ("blocks",), []), ["blocks", "empty"]),
]


def _run(tmp: Path, case) -> tuple:
    name, args, text, _ = case
    work = tmp / name
    work.mkdir()
    if text is not None:
        (work / "instance.json").write_text(text)
        args = [*args, f"instance={work / 'instance.json'}"]
    out = work / "run"
    if not any(a.startswith("hydra.run.dir=") for a in args):
        args = [*args, f"hydra.run.dir={out}"]
    proc = subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=work, capture_output=True, text=True,
                          timeout=300)
    return proc, out


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda c: _run(tmp, c), CONFIG_CASES))
    return {case[0]: res for case, res in zip(CONFIG_CASES, results, strict=True)}


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_input_is_one_line(outcomes, case):
    name, _, _, words = case
    proc, out = outcomes[name]
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr + proc.stdout
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not (out / "result.json").exists() and not (out / "instance.json").exists()


def test_refusals_are_recorded_results(tmp_path):
    """exhaustive above its limit and a checkpoint that is not one: a result says why, exit 1."""
    bad_ckpt = tmp_path / "bad.pt"
    bad_ckpt.write_bytes(b"not a checkpoint")
    cases = [
        (["solver=exhaustive", "model=synthetic", "model.depth=40"], "unsupported", "solver.limit"),
        (["solver=iorlo", f"solver.checkpoint={bad_ckpt}", "solver.checkpoint_dir=null"], "failed", str(bad_ckpt)),
    ]
    for i, (args, status, word) in enumerate(cases):
        out = tmp_path / f"run{i}"
        proc = subprocess.run([sys.executable, "-m", "benchmark", *args, f"hydra.run.dir={out}"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        row = json.loads((out / "result.json").read_text())
        assert row["status"] == status and word in row["error"] and "\n" not in row["error"]
