"""Bad input, as a user types it: one line naming the field and the value, a non-zero exit,
no traceback and no result files. Refusals that are results (a checkpoint that does not
fit, exhaustive above its limit) are recorded as such and still exit non-zero.

Every case runs in-process (the config composed as the command line does, `run_job`, and
the one-line formatter of `benchmark.cli_errors`); a handful also run as real commands
(`slow`), which checks the exit status and that nothing else reaches stderr."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from config_compose import composer
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException
from problem_factory import mutated

from benchmark.cli_errors import error_line
from benchmark.job import run_job
from problems.build import build_problem
from problems.errors import ProblemError
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


#: cases that also run as a command: one per kind of failure (Hydra, the job, an instance file, the OS)
AS_COMMANDS = ("unknown-solver", "unknown-key", "seed-text", "negative-bandwidth", "truncated-file",
               "unwritable-output")
#: cases only a command can show (Hydra creates the run folder before the job starts)
COMMAND_ONLY = ("unwritable-output",)


def _args(tmp: Path, case) -> tuple[list[str], Path]:
    name, args, text, _ = case
    work = tmp / name
    work.mkdir()
    if text is not None:
        (work / "instance.json").write_text(text)
        args = [*args, f"instance={work / 'instance.json'}"]
    out = work / "run"
    if not any(a.startswith("hydra.run.dir=") for a in args):
        args = [*args, f"hydra.run.dir={out}"]
    return args, out


def _command(tmp: Path, case) -> tuple:
    args, out = _args(tmp, case)
    proc = subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=tmp / case[0], capture_output=True,
                          text=True, timeout=300)
    return proc, out


def _in_process(compose, tmp: Path, case) -> tuple[str | None, Path]:
    """The error line the command would print, or None if the job ran."""
    args, out = _args(tmp, case)
    task = [a for a in args if not a.startswith("hydra.")]
    try:
        run_job(compose(task), out, task)
    except (ProblemError, HydraException, OmegaConfBaseException) as exc:  # what the command turns into one line
        return error_line(exc, args), out
    return None, out


def _check_line(line: str, words: list[str]) -> None:
    assert line.startswith("error: ") and "\n" not in line, line
    assert "Traceback" not in line
    for word in words:
        assert word in line, (word, line)


@pytest.fixture
def compose():
    with composer() as run:
        yield run


@pytest.mark.parametrize("case", [c for c in CONFIG_CASES if c[0] not in COMMAND_ONLY], ids=lambda c: c[0])
def test_bad_input_is_one_line_in_process(compose, tmp_path, case):
    line, out = _in_process(compose, tmp_path, case)
    assert line is not None, f"{case[0]}: the job ran"
    _check_line(line, case[3])
    assert not (out / "result.json").exists() and not (out / "instance.json").exists()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    cases = [c for c in CONFIG_CASES if c[0] in AS_COMMANDS]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda c: _command(tmp, c), cases))
    return {case[0]: res for case, res in zip(cases, results, strict=True)}


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CONFIG_CASES if c[0] in AS_COMMANDS], ids=lambda c: c[0])
def test_bad_input_is_one_line(outcomes, case):
    name, _, _, words = case
    proc, out = outcomes[name]
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    _check_line(lines[0], words)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (out / "result.json").exists() and not (out / "instance.json").exists()


@pytest.mark.slow
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
