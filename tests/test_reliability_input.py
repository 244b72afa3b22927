"""Bad input is refused in one line before any file is written: instance files that are not
regular files or are too large, duplicate JSON keys, unbounded model sizes, timing and
timeouts, solver seeds, interpolations; relative instance paths survive `hydra.job.chdir`."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException
from reliability_helpers import cli, config

from benchmark.cli_errors import error_line
from benchmark.job import run_job
from benchmark.runner import TimingConfig
from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import MAX_INSTANCE_MB, dumps_instance, load_instance
from problems.models import ModelConfig
from problems.schema import from_mapping
from solvers import make_solver

FAST = ("timing.budget_s=0", "timing.max_repeats=1")
ALEXNET = dumps_instance(build_problem({"name": "alexnet"}, {"kind": "mec"}, {}))


def refused(call, *words: str) -> str:
    with pytest.raises(FieldError) as err:
        call()
    text = str(err.value)
    assert text.splitlines() == [text]
    for word in words:
        assert word in text, (word, text)
    return text


def refused_job(tmp_path: Path, *overrides: str, words: tuple[str, ...]) -> None:
    """Refused with one line naming `words`, by the config schema (Hydra) or by the job, before
    anything is written."""
    out = tmp_path / "job"
    try:
        cfg = config(*FAST, *overrides)
    except Exception as exc:  # the typed schema refuses at composition: the command line's one line
        text = error_line(exc, list(overrides))
        assert text.splitlines() == [text] and all(w in text for w in words), text
    else:
        refused(lambda: run_job(cfg, out, list(overrides)), *words)
    assert not out.exists()


# -- 8, 9: instance files ----------------------------------------------------------------------
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_not_an_instance_file(device):
    refused(lambda: load_instance(device), "instance", "not a regular file", device)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome: list = []

    def load():
        try:
            load_instance(fifo)
        except FieldError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():  # unblock the reader so the test process can end
        with open(fifo, "w"):
            pass
        pytest.fail("load_instance blocked on a FIFO")
    assert outcome and "not a regular file" in outcome[0]


def test_a_directory_is_not_an_instance_file(tmp_path):
    refused(lambda: load_instance(tmp_path), "instance", "directory", str(tmp_path))


def test_instance_files_have_a_named_size_cap(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:  # sparse: no disk used
        fh.truncate(int(MAX_INSTANCE_MB * 2**20) + 1)
    refused(lambda: load_instance(big), "instance", f"instance_max_mb={MAX_INSTANCE_MB:g}")


def test_the_size_cap_is_configurable(tmp_path):
    path = tmp_path / "alexnet.json"
    path.write_text(ALEXNET)
    assert load_instance(path).name.startswith("alexnet")
    refused_job(tmp_path, f"instance={path}", "instance_max_mb=0.001", words=("instance_max_mb=0.001",))
    refused_job(tmp_path, f"instance={path}", "instance_max_mb=-1", words=("instance_max_mb", "-1"))


def test_duplicate_json_keys_are_refused_by_name(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text(ALEXNET.replace('"format":', '"name": "shadow",\n "format":', 1))
    assert json.loads(path.read_text())["name"].startswith("alexnet")  # plain JSON keeps the last one
    refused(lambda: load_instance(path), "instance", "duplicate key 'name'", str(path))


# -- 10, 11: model sizes -----------------------------------------------------------------------
@pytest.mark.parametrize(("model", "field", "limit"), [
    ({"name": "synthetic", "depth": 10_001}, "model.depth", "10,000"),
    ({"name": "synthetic", "depth": 1_000_000}, "model.depth", "10,000"),
    ({"name": "resnet", "depth": 6 * 2000 + 2}, "model.depth", "10,000"),
    ({"name": "alexnet", "source": "torch", "input_shape": [3, 100_000, 100_000]}, "model.input_shape", "2048"),
    ({"name": "synthetic", "input_shape": [5000, 64, 64]}, "model.input_shape", "1024 channels"),
    ({"name": "vgg16", "source": "torch", "input_shape": [1000, 2048, 2048]}, "model.input_shape", "16,777,216"),
    ({"name": "alexnet", "source": "torch", "num_classes": 10**12}, "model.num_classes", "1,000,000"),
])
def test_model_sizes_are_bounded_with_the_limit_named(model, field, limit):
    refused(lambda: from_mapping(ModelConfig, model, "model"), field, limit)


def test_the_largest_allowed_models_validate():
    for model in ({"name": "synthetic", "depth": 10_000}, {"name": "resnet", "depth": 6 * 1666 + 2},
                  {"name": "alexnet", "source": "torch", "input_shape": [3, 2048, 2048], "num_classes": 1_000_000}):
        from_mapping(ModelConfig, model, "model")


# -- 12, 13: timing and timeouts ------------------------------------------------------------------
@pytest.mark.parametrize(("timing", "field"), [({"max_repeats": 0}, "timing.max_repeats"),
                                               ({"max_repeats": -5}, "timing.max_repeats"),
                                               ({"budget_s": -1.0}, "timing.budget_s"),
                                               ({"budget_s": 1e9}, "timing.budget_s")])
def test_timing_is_validated(timing, field):
    refused(lambda: from_mapping(TimingConfig, timing, "timing"), field)


def test_a_job_with_zero_repeats_is_refused_before_any_file(tmp_path):
    refused_job(tmp_path, "timing.max_repeats=0", words=("timing.max_repeats", "0"))


@pytest.mark.parametrize("value", ["1e12", "-1", "0", "inf"])
def test_the_timeout_is_bounded(tmp_path, value):
    refused_job(tmp_path, f"+solver.timeout_s={value}", words=("solver.timeout_s",))


# -- 26: learned solvers' seeds -----------------------------------------------------------------
@pytest.mark.parametrize("solver", ["iorlo", "iorlo_ctx"])
@pytest.mark.parametrize("seed", [-1, 2**64, 1e30])
def test_a_learned_solvers_seed_is_a_config_error(tmp_path, solver, seed):
    refused(lambda: make_solver(solver, {"seed": seed}), "solver.seed")
    if isinstance(seed, float):  # not an integer: the config schema refuses it when the config is composed
        args = [f"solver={solver}", f"solver.seed={seed}"]
        with pytest.raises((HydraException, OmegaConfBaseException)) as err:
            config(*args)
        assert error_line(err.value, args).startswith("error: solver.seed: must be an integer")
        return
    refused_job(tmp_path, f"solver={solver}", f"solver.seed={seed}", words=("solver.seed",))


# -- 24, 28, 29: the command line -----------------------------------------------------------------
@pytest.mark.slow
def test_a_relative_instance_survives_hydra_job_chdir(tmp_path):
    (tmp_path / "alexnet.json").write_text(ALEXNET)
    proc = cli(*FAST, "instance=alexnet.json", "hydra.job.chdir=true", f"hydra.run.dir={tmp_path / 'run'}",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "run" / "result.json").read_text())["status"] == "ok"


@pytest.mark.slow
@pytest.mark.parametrize("args", [["solver=nope"], ["tune.n_trials=-3"], ["seed=${oc.env:PARTBENCH_NOPE}"]],
                         ids=["unknown-option", "bad-value", "interpolation"])
def test_tune_errors_are_one_line(tmp_path, args):
    proc = cli(*args, f"hydra.run.dir={tmp_path / 'run'}", module="benchmark.tune", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("sweep", [False, True], ids=["run", "sweep"])
def test_an_unresolvable_interpolation_is_one_line(tmp_path, sweep):
    args = ["-m", f"hydra.sweep.dir={tmp_path / 's'}"] if sweep else [f"hydra.run.dir={tmp_path / 'r'}"]
    proc = cli(*args, "seed=${oc.env:PARTBENCH_NOPE}", cwd=tmp_path)
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if not ln.startswith("[")]  # Hydra's launch log
    assert errors[0].startswith("error: ") and "PARTBENCH_NOPE" in errors[0] and "seed" in errors[0]
    assert len(errors) == (2 if sweep else 1), proc.stderr  # a sweep adds how many jobs were invalid
    assert "Error executing job" not in proc.stderr and "Traceback" not in proc.stderr
