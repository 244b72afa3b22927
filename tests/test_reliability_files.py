"""Nothing already written is lost: a job's files change together, reports never overwrite
their inputs, one sweep per folder, a rejected run leaves `.hydra/` alone, a full disk is
one line, written files are 0644, and result files are read as untrusted input."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest
from reliability_helpers import cli, config, snapshot

import benchmark.files
from benchmark.callbacks import SweepReport
from benchmark.files import OutputError
from benchmark.job import record_refused, run_job
from benchmark.resume import finished
from benchmark.sweeplock import SweepConflictError, SweepLock
from problems.atomic import atomic_write_text, file_mode
from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import save_instance
from reports.__main__ import main as report_main
from reports.collect import read_csv, read_sweep

FAST = ("timing.budget_s=0", "timing.max_repeats=1")


def finished_job(folder: Path, *overrides: str) -> dict:
    overrides = (*FAST, *overrides)
    return run_job(config(*overrides), folder, list(overrides))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A two-job sweep folder with a results.csv, as the sweep callback leaves it."""
    root = tmp_path_factory.mktemp("sweep") / "sweep"
    finished_job(root / "0", "solver=dp")
    finished_job(root / "1", "solver=cloud_only")
    SweepReport()._outputs(root)
    return root


# -- 1: a job's files change together ----------------------------------------------------------
def test_a_failed_result_write_never_pairs_a_new_instance_with_an_old_result(tmp_path, monkeypatch):
    job = tmp_path / "job"
    finished_job(job, "model=alexnet")
    real = benchmark.files.write_text

    def failing(path, text):
        if Path(path).name == "result.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(benchmark.files, "write_text", failing)
    with pytest.raises(OutputError):
        finished_job(job, "model=vgg16")
    instance = json.loads((job / "instance.json").read_text())
    assert instance["name"].startswith("vgg16")
    assert not (job / "result.json").exists()  # the alexnet result is not left beside it
    assert finished(job, [*FAST, "model=vgg16"]) is None and finished(job, [*FAST, "model=alexnet"]) is None


def test_a_row_that_cannot_be_serialized_leaves_no_result_and_the_old_instance(tmp_path, monkeypatch):
    job = tmp_path / "job"
    finished_job(job)
    before = snapshot(job)
    monkeypatch.setattr("benchmark.job.result_text", lambda row: (_ for _ in ()).throw(ValueError("boom")))
    with pytest.raises(ValueError):
        finished_job(job, "model=vgg16")
    assert snapshot(job)["instance.json"] == before["instance.json"]
    assert not (job / "result.json").exists()


# -- 2: a report never overwrites its input ----------------------------------------------------
@pytest.mark.parametrize("target", ["0/result.json", "results.csv", "summary.csv", "0/instance.json"])
def test_the_report_refuses_to_overwrite_an_input(sweep, target, capsys):
    before = snapshot(sweep)
    assert report_main([str(sweep), "-o", str(sweep / target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --output")
    assert snapshot(sweep) == before


def test_the_report_refuses_to_overwrite_an_input_csv(sweep, tmp_path, capsys):
    csv = tmp_path / "copy.csv"
    csv.write_bytes((sweep / "results.csv").read_bytes())
    assert report_main([str(csv), "-o", str(csv)]) == 2
    assert "input files" in capsys.readouterr().err
    assert csv.read_bytes() == (sweep / "results.csv").read_bytes()


def test_a_report_beside_its_inputs_is_allowed(sweep, tmp_path):
    assert report_main([str(sweep), "-o", str(sweep / "report.html")]) == 0
    assert report_main([str(sweep / "results.csv"), "-o", str(tmp_path / "r.html")]) == 0


# -- 3: one sweep per folder -------------------------------------------------------------------
def test_a_second_sweep_cannot_share_a_running_sweeps_folder(tmp_path):
    first, second = SweepLock(), SweepLock()
    first.acquire(tmp_path, ["seed=0,1"])
    try:
        with pytest.raises(SweepConflictError, match="another sweep is running"):
            second.acquire(tmp_path, ["seed=0,1"])
    finally:
        first.release()
    second.acquire(tmp_path, ["seed=0,1"])
    second.release()


def test_a_folder_holding_another_sweep_is_refused_unless_it_is_the_same_sweep(tmp_path):
    (tmp_path / "multirun.yaml").write_text("hydra:\n  overrides:\n    task:\n    - seed=0,1\n")
    lock = SweepLock()
    with pytest.raises(SweepConflictError, match="holds another sweep") as err:
        lock.acquire(tmp_path, ["seed=2,3"])
    assert len(str(err.value).splitlines()) == 1 and str(tmp_path) in str(err.value)
    lock.acquire(tmp_path, ["seed=0,1", "resume=true"])  # the same sweep, resumed
    lock.release()


@pytest.mark.slow
def test_two_different_sweeps_into_one_folder(tmp_path):
    folder = tmp_path / "sweep"
    first = cli("-m", "solver=dp,cloud_only", *FAST, f"hydra.sweep.dir={folder}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = snapshot(folder)
    second = cli("-m", "solver=edge_only,device_only", *FAST, f"hydra.sweep.dir={folder}", cwd=tmp_path)
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "hydra.sweep.dir" in lines[0] and "Traceback" not in second.stderr
    assert snapshot(folder) == before


# -- 4: a rejected run leaves the folder's .hydra record alone ---------------------------------
def test_a_rejected_job_writes_no_record(tmp_path):
    record = {".hydra/overrides.yaml": "- seed=-1\n"}
    with pytest.raises(FieldError):
        run_job(config("seed=-1"), tmp_path / "job", ["seed=-1"], record=record)
    assert not (tmp_path / "job").exists()


@pytest.mark.slow
def test_a_rejected_run_keeps_the_folders_hydra_record(tmp_path):
    run = tmp_path / "run"
    ok = cli(*FAST, f"hydra.run.dir={run}", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    before = snapshot(run)
    assert set(before) >= {".hydra/config.yaml", ".hydra/overrides.yaml", ".hydra/hydra.yaml", "result.json"}
    bad = cli(*FAST, "model=vgg16", "seed=-1", f"hydra.run.dir={run}", cwd=tmp_path)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert {k: v for k, v in snapshot(run).items() if not k.endswith(".log")} == \
        {k: v for k, v in before.items() if not k.endswith(".log")}


# -- 15: a full disk -------------------------------------------------------------------------
def _full_disk(path, text):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_one_line_naming_the_output_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(benchmark.files, "write_text", _full_disk)
    with pytest.raises(OutputError) as err:
        finished_job(tmp_path / "job")
    text = str(err.value)
    assert text.splitlines() == [text] and "No space left on device" in text and str(tmp_path / "job") in text


def test_a_sweep_report_on_a_full_disk_is_one_line_and_a_failure(sweep, monkeypatch, capsys):
    monkeypatch.setattr("reports.build.write_text", _full_disk)
    monkeypatch.setattr("reports.collect.write_text", _full_disk)
    assert SweepReport()._outputs(sweep) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and "Traceback" not in err[0]


# -- 30: files are 0644 ----------------------------------------------------------------------
def test_written_files_get_the_plain_file_mode(tmp_path):
    old = os.umask(0o022)
    try:
        file_mode.cache_clear()
        problem = build_problem({"name": "alexnet"}, {"kind": "mec"}, {})
        for path in (save_instance(problem, tmp_path / "a.json"), atomic_write_text(tmp_path / "b.txt", "x")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o644
    finally:
        os.umask(old)
        file_mode.cache_clear()


@pytest.mark.slow
def test_problems_show_writes_a_shared_file(tmp_path):
    out = tmp_path / "alexnet.json"
    proc = cli("show", f"out={out}", module="problems", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# -- 17, 18: result.json is untrusted input --------------------------------------------------
BAD_ROWS = {
    "overrides-not-strings": {"overrides": [1, {"a": 2}]},
    "overrides-not-a-list": {"overrides": "seed=1"},
    "negative-tier": {"assignment": [-1, 0, 0]},
    "tier-past-the-end": {"assignment": [0, 7, 0]},
    "status-unknown": {"status": "great"},
    "cost-text": {"cost": "cheap"},
    "config-list": {"config": [1, 2]},
}


def _bad_copy(sweep: Path, folder: Path, change: dict) -> Path:
    folder.mkdir(parents=True)
    row = json.loads((sweep / "0" / "result.json").read_text())
    row.update(change)
    (folder / "result.json").write_text(json.dumps(row))
    return folder


def _mixed(sweep: Path, root: Path, case: str) -> Path:
    """A sweep folder of one bad result (job 0) and one good one (job 1)."""
    _bad_copy(sweep, root / "0", BAD_ROWS[case])
    good = root / "1"
    good.mkdir()
    (good / "result.json").write_bytes((sweep / "1" / "result.json").read_bytes())
    return root


@pytest.mark.parametrize("case", BAD_ROWS, ids=list(BAD_ROWS))
def test_a_bad_result_file_is_skipped_with_one_warning(sweep, tmp_path, case, capsys):
    collected = read_sweep(_mixed(sweep, tmp_path / "mixed", case))
    assert len(collected.frame) == 1 and [m["job"] for m in collected.missing] == ["0"]
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("warning: ")


@pytest.mark.parametrize("case", ["negative-tier", pytest.param("overrides-not-strings", marks=pytest.mark.slow)])
def test_a_sweep_with_a_bad_result_file_still_gets_its_report(sweep, tmp_path, case):
    """(the report reads what read_sweep kept, whichever field was bad: one case in `make check`)"""
    root = _mixed(sweep, tmp_path / "mixed", case)
    assert report_main([str(root)]) == 0
    assert SweepReport()._outputs(root) == 1  # the report is written; the sweep says a job is unusable


@pytest.mark.parametrize("case", ["overrides-not-strings", "negative-tier"])
def test_resume_runs_a_job_with_a_bad_result_again(sweep, tmp_path, case, capsys):
    job = _bad_copy(sweep, tmp_path / "job", {**BAD_ROWS[case], "status": "ok"})
    assert finished(job, []) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "running the job again" in err[0]


def test_a_csv_row_with_a_negative_tier_is_skipped(sweep, tmp_path, capsys):
    text = (sweep / "results.csv").read_text().splitlines()
    bad = tmp_path / "bad.csv"
    row = text[1].replace('"[1,1,2,2,2,2,2,2,2,2]"', '"[-1,1,2,2,2,2,2,2,2,2]"', 1)
    assert row != text[1]
    bad.write_text("\n".join([text[0], row, text[2]]) + "\n")
    assert len(read_csv(bad).frame) == 1
    assert "assignment[0]" in capsys.readouterr().err
    assert report_main([str(bad), "-o", str(tmp_path / "r.html")]) == 0


# -- 21: bad input in a sweep is a row, and the sweep fails ---------------------------------
def test_an_invalid_sweep_job_is_a_row_and_fails_the_sweep(tmp_path, capsys):
    root = tmp_path / "sweep"
    finished_job(root / "0")
    cfg = config("instance=a")
    record_refused(cfg, root / "1", ["instance=a"], "instance: file not found (got 'a')")
    assert SweepReport()._outputs(root) == 2
    err = capsys.readouterr().err
    assert "1 of 2 jobs had bad input" in err
    rows = read_sweep(root).frame
    assert sorted(rows["status"]) == ["invalid", "ok"]
    assert rows.loc[rows["status"] == "invalid", "error"].item() == "instance: file not found (got 'a')"


@pytest.mark.slow
def test_a_sweep_of_bad_inputs_records_them_and_exits_non_zero(tmp_path):
    folder = tmp_path / "sweep"
    proc = cli("-m", "instance=a,b.json", f"hydra.sweep.dir={folder}", cwd=tmp_path)
    assert proc.returncode == 2
    assert "2 of 2 jobs had bad input" in proc.stderr and "Traceback" not in proc.stderr
    rows = read_sweep(folder).frame
    assert list(rows["status"]) == ["invalid", "invalid"]
    assert all("file not found" in e for e in rows["error"])
