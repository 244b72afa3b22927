"""Untrusted input: checkpoints, names that become paths, names shown in reports.

- A checkpoint is loaded with `torch.load(weights_only=True)`: a pickle that would run
  code (here: create a marker directory) is refused with a one-line error and runs nothing,
  whether given as `solver.checkpoint` or planted in the checkpoint cache.
- Every file name derived from an instance, model or solver name goes through
  `problems.paths.safe_name`: `../../x`, `/etc/x`, `a\\0b` stay inside the output directory.
- Names in `report.html` are text: a model, instance, network, tier or error message
  holding HTML or a script never appears there verbatim.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from problem_factory import random_problem

from benchmark.runner import TimingConfig, jsonable, run
from problems import Problem
from problems.paths import MAX_LEN, safe_name
from solvers import make_solver
from solvers._ddpg import CheckpointError, cache_key, checkpoint_path, load_checkpoint, tables_digest
from solvers.iorlo import FORMAT as IORLO_FORMAT
from solvers.iorlo_ctx import FORMAT as CTX_FORMAT

ROOT = Path(__file__).resolve().parents[1]
SHORT_IORLO = {"episodes": 1, "steps": 20, "memory": 16, "batch_size": 8, "seed": 0, "progress": False}
SHORT_CTX = {"updates": 2, "contexts": 2, "samples": 1, "search_rounds": 1, "seed": 0, "progress": False}


# -- checkpoints ---------------------------------------------------------------------------------
class Payload:
    """Unpickling this creates `marker` (a directory): harmless proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def malicious_files(folder: Path, fmt: str) -> dict[str, Path]:
    """The payload as a plain pickle (protocols 2 and 4) and inside a torch zip checkpoint."""
    marker = folder / "marker"
    files = {}
    for protocol in (2, 4):
        files[f"pickle{protocol}"] = folder / f"evil-p{protocol}.pt"
        files[f"pickle{protocol}"].write_bytes(pickle.dumps(Payload(marker), protocol=protocol))
    files["torch_zip"] = folder / "evil-zip.pt"
    torch.save({"format": fmt, "nets": Payload(marker), "meta": {}}, files["torch_zip"])
    return files


def test_the_payload_runs_code_when_unpickled(tmp_path):
    # the files of the tests below really are malicious
    path = malicious_files(tmp_path, IORLO_FORMAT)["pickle2"]
    pickle.loads(path.read_bytes())
    assert (tmp_path / "marker").is_dir()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind", ["pickle2", "pickle4", "torch_zip"])
def test_load_checkpoint_refuses_a_malicious_pickle(kind, tmp_path):
    path = malicious_files(tmp_path, IORLO_FORMAT)[kind]
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, IORLO_FORMAT, {})
    text = str(err.value)
    assert len(text.splitlines()) == 1 and str(path) in text and "refused" in text
    assert "weights_only" not in text  # no advice to turn the protection off
    assert not (tmp_path / "marker").exists()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("solver", "params", "fmt"), [("iorlo", SHORT_IORLO, IORLO_FORMAT),
                                                      ("iorlo_ctx", SHORT_CTX, CTX_FORMAT)])
def test_a_malicious_checkpoint_given_to_the_solver_is_refused(solver, params, fmt, tmp_path):
    problem = random_problem(2, 4, kind="mec")
    for path in malicious_files(tmp_path, fmt).values():
        made = make_solver(solver, {**params, "checkpoint": str(path), "checkpoint_dir": None})
        with pytest.raises(CheckpointError, match="refused") as err:
            made.prepare(problem, rng())
        assert len(str(err.value).splitlines()) == 1
        row = run(problem, solver, {**params, "checkpoint": str(path), "checkpoint_dir": None},
                  timing=TimingConfig(0.0, 1))
        assert row["status"] == "failed" and row["assignment"] is None
        assert "refused" in row["error"] and len(row["error"].splitlines()) == 1
    assert not (tmp_path / "marker").exists()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_malicious_file_planted_in_the_cache_is_never_unpickled(tmp_path):
    problem = random_problem(2, 4, kind="mec")
    cache = tmp_path / "cache"
    params = {**SHORT_IORLO, "checkpoint_dir": str(cache)}
    made = make_solver("iorlo", params)
    path = checkpoint_path(str(cache), f"{problem.name}-iorlo", cache_key("iorlo", tables_digest(problem),
                                                                          made.config, 0))
    cache.mkdir()
    evil = malicious_files(tmp_path, IORLO_FORMAT)["torch_zip"]
    path.write_bytes(evil.read_bytes())
    made.prepare(problem, rng())
    info = made.solve(problem, rng()).info
    assert info["checkpoint"] == str(path)
    assert info["cached"] is False  # refused, trained again, and the entry replaced
    assert not (tmp_path / "marker").exists()
    data = torch.load(path, weights_only=True)
    assert data["format"] == IORLO_FORMAT
    again = make_solver("iorlo", params)
    again.prepare(problem, rng())
    assert again.solve(problem, rng()).info["cached"] is True


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# -- names that become paths -------------------------------------------------------------------
HOSTILE = ["../../x", "/etc/x", "a\0b", "..", ".", "", "-rf", "a/../../b", "..\\..\\x", "C:\\x", "~", "$HOME",
           "a\nb", "\u202egnp.exe", "x" * 10_000, ".hidden", "/", "//", "\ud800", "résumé", None, 12]
SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def assert_component(name: object, result: str, tmp_path: Path) -> None:
    assert SAFE.fullmatch(result), (name, result)
    assert len(result) <= MAX_LEN
    assert (tmp_path / result).resolve().parent == tmp_path.resolve()


@pytest.mark.parametrize("name", HOSTILE)
def test_safe_name_is_one_plain_component(name, tmp_path):
    assert_component(name, safe_name(name), tmp_path)


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=300) | st.binary(max_size=50).map(lambda b: b.decode("latin-1")))
def test_safe_name_of_any_text(name):
    result = safe_name(name)
    assert SAFE.fullmatch(result) and len(result) <= MAX_LEN
    assert safe_name(result) == result


@pytest.mark.parametrize("name", ["alexnet-mec-5g_avg", "synthetic10000_s0", "resnet32_torch-d2d-5g_best", "a.b"])
def test_plain_names_are_kept(name):
    assert safe_name(name) == name


def test_long_names_stay_distinct():
    a, b = "m" * 200 + "a", "m" * 200 + "b"
    assert safe_name(a) != safe_name(b) and len(safe_name(a)) <= MAX_LEN


@pytest.mark.parametrize("name", [n for n in HOSTILE if isinstance(n, str)])
def test_checkpoint_paths_stay_in_their_directory(name, tmp_path):
    path = checkpoint_path(str(tmp_path), name, "0123456789abcdef0123")
    assert path.parent == tmp_path.resolve()
    assert path.name.endswith("-0123456789abcdef0123.pt")


def renamed(problem: Problem, name: str, tier_name: str | None = None) -> Problem:
    scenario = problem.scenario
    if tier_name is not None:
        tiers = tuple(dataclasses.replace(t, name=tier_name) if i == 1 else t for i, t in enumerate(scenario.tiers))
        scenario = dataclasses.replace(scenario, tiers=tiers)
    return Problem(problem.profile, scenario, name=name)


@pytest.mark.parametrize("name", ["../../escape", "/tmp/escape", "..", "a\0b"])
def test_a_hostile_instance_name_trains_into_the_checkpoint_directory(name, tmp_path):
    problem = renamed(random_problem(1, 3, kind="mec"), name)
    cache = tmp_path / "deep" / "cache"
    made = make_solver("iorlo", {**SHORT_IORLO, "checkpoint_dir": str(cache)})
    made.prepare(problem, rng())
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 1 and written[0].parent == cache
    assert not Path("/tmp/escape-iorlo").exists()


def test_tune_outputs_of_a_hostile_solver_name_stay_in_the_run_directory(tmp_path):
    import optuna

    from benchmark.tune import write_outputs

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    out = tmp_path / "run"
    write_outputs(out, "../../../x", {"name": "../../../x"}, study)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["run/best_params.yaml", "run/solver/_.._.._x_tuned.yaml", "run/trials.csv"]


@pytest.mark.slow
def test_the_tune_run_directory_of_a_hostile_solver_name_stays_under_outputs(tmp_path):
    # Hydra creates its run directory before the solver name is checked
    cwd = tmp_path / "a" / "b"
    cwd.mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-m", "benchmark.tune", "solver.name=../../../escaped"], cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "solver.name" in proc.stderr
    created = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_dir()}
    assert created == {"a", "a/b", "a/b/outputs", "a/b/outputs/tune", "a/b/outputs/tune/_.._.._escaped",
                       "a/b/outputs/tune/_.._.._escaped/.hydra"}


@pytest.mark.parametrize(("name", "folder"), [("/etc/x", "_etc_x"), ("..", "unnamed"), ("genetic", "genetic")])
def test_the_tune_run_directory_is_one_component(name, folder):
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    import benchmark.tune  # noqa: F401 - registers the node and its resolver

    node = ConfigStore.instance().load("tune.yaml").node
    cfg = OmegaConf.merge(node, {"solver": {"name": name}})
    assert cfg.hydra.run.dir == f"outputs/tune/{folder}"


# -- report strings are escaped ---------------------------------------------------------------
PAYLOADS = ["<script>alert(1)</script>", "</script><script>alert(2)</script>", '"><img src=x onerror=alert(3)>',
            "<b onmouseover=alert(4)>x</b>"]


def hostile_sweep(root: Path) -> None:
    """A sweep whose jobs carry the payloads in every name a report shows."""
    timing = TimingConfig(0.0, 1)
    jobs = []
    for j, payload in enumerate(PAYLOADS):
        problem = renamed(random_problem(j, 4, kind="mec"), payload, tier_name=payload)
        for solver, params in (("dp", {}), ("device_only", {}),
                               ("iorlo", {**SHORT_IORLO, "checkpoint_dir": None})):
            row = run(problem, solver, params, seed=0, timing=timing)
            row.update(model=payload, network=payload if j % 2 else "5g_avg",
                       overrides=[f"model.name={payload}", f"scenario.note={payload}"],
                       config={"model": {"name": payload}}, timestamp="2025-01-01T00:00:00+00:00",
                       versions={"partbench": payload}, machine={"cpu": payload}, git_revision=payload)
            jobs.append(row)
        failed = dict(jobs[-1], status="failed", error=f"ValueError: {payload}", assignment=None, cost=None)
        jobs.append(failed)
    for j, row in enumerate(jobs):
        folder = root / str(j)
        folder.mkdir(parents=True)
        curve = row["info"].pop("training_curve", None)
        if curve:
            (folder / "training_curve.csv").write_text(
                "episode,mean_reward\n" + "".join(f"{i},{v!r}\n" for i, v in enumerate(curve)))
            row["info"]["training_curve_file"] = "training_curve.csv"
        (folder / "result.json").write_text(json.dumps(jsonable(row)))


def test_report_shows_hostile_names_as_text(tmp_path):
    from reports.__main__ import main as report_main

    sweep = tmp_path / "sweep"
    hostile_sweep(sweep)
    out = tmp_path / "report.html"
    assert report_main([str(sweep), "-o", str(out)]) == 0
    page = out.read_text()
    for payload in PAYLOADS:
        assert payload not in page, payload
    # they are there, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "alert(3)" in page and "alert(4)" in page
    # inside the figures' scripts the payloads are data, with no tag of their own
    blocks = [b for b in re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S) if "alert(" in b]
    assert blocks
    for block in blocks:
        assert not re.search(r"<(script|img|b)[\s>]", block), block[:200]
