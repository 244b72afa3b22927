"""`python -m testbed` end to end: the smoke run (alexnet, 3 partitions, 3 requests) writes a
testbed.json with every field, and a missing browser, a dead worker and a request that times
out each end in one line and a non-zero exit with no process of the run left behind."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest
from testbed_env import check_testbed_json, marked_env, need_browser_tier, survivors

pytestmark = pytest.mark.slow
PARTITIONS = ["dp", "device_only", "edge_only"]


def _cmd(tmp_path, *overrides):
    return [sys.executable, "-m", "testbed", f"hydra.run.dir={tmp_path}", *overrides]


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def _descendant_commands(pid: int) -> list[str]:
    out = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            out.append(" ".join(child.cmdline()))
        except psutil.Error:
            continue
    return out


def _gone(mark: str, timeout_s: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while (left := survivors(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.mark.timeout(180)
def test_smoke_run_writes_every_field(tmp_path):
    need_browser_tier()
    env, mark = marked_env()
    proc = subprocess.run(_cmd(tmp_path, "model=alexnet", f"testbed.partitions=[{','.join(PARTITIONS)}]",
                               "testbed.requests=3", "testbed.repeats=3"), env=env, capture_output=True, text=True,
                          timeout=175)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "testbed.json").read_text())
    check_testbed_json(doc, PARTITIONS, requests=3)
    assert doc["partitions"][1]["assignment"] == [0] * 10
    for name in ("calibration.json", "instance.json", "requests.json"):
        assert (tmp_path / name).exists(), name
    assert _gone(mark) == []


def test_missing_browser_is_one_line(tmp_path):
    env, mark = marked_env()
    proc = subprocess.run(_cmd(tmp_path, "model=resnet32", "testbed.device.browser=/nonexistent/chromium"),
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1 and "testbed.device.browser" in lines[0] and "/nonexistent/chromium" in lines[0]
    assert _gone(mark) == []


def test_request_timeout_is_one_line_and_nothing_survives(tmp_path):
    need_browser_tier()
    env, mark = marked_env()
    proc = subprocess.run(_cmd(tmp_path, "model=resnet32", "testbed.partitions=[device_only]",
                               "testbed.calibration=null", "testbed.repeats=1", "testbed.warmup=1",
                               "testbed.request_timeout_s=0.001"),
                          env=env, capture_output=True, text=True, timeout=170)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1 and "request" in lines[0] and "within 0.001 s" in lines[0], lines
    assert _gone(mark) == []


@contextlib.contextmanager
def _long_run(tmp_path) -> Iterator[tuple[subprocess.Popen, str]]:
    """A testbed run long enough to be interrupted, with the env mark its processes carry;
    killed on the way out if it is still running."""
    need_browser_tier()
    env, mark = marked_env()
    proc = subprocess.Popen(_cmd(tmp_path, "model=resnet32", "testbed.requests=500", "testbed.partitions=[edge_only]"),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc, mark
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_dead_worker_is_one_line_and_nothing_survives(tmp_path):
    with _long_run(tmp_path) as (proc, mark):
        deadline = time.monotonic() + 150
        victim = None
        while victim is None and time.monotonic() < deadline and proc.poll() is None:
            for child in psutil.Process(proc.pid).children(recursive=True):
                try:
                    if "testbed.worker" in child.cmdline() and "edge" in child.cmdline():
                        victim = child
                except psutil.Error:
                    continue
            time.sleep(0.2)
        assert victim is not None, "the edge worker never started"
        time.sleep(8.0)  # into the run: past start-up, most likely calibrating or serving requests
        victim.kill()
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    lines = _error_lines(stderr)
    assert len(lines) == 1 and "edge" in lines[0], lines
    assert _gone(mark) == []


def test_sigterm_stops_every_process(tmp_path):
    with _long_run(tmp_path) as (proc, mark):
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and proc.poll() is None:
            names = _descendant_commands(proc.pid)
            if any("chromium" in n for n in names) and sum("testbed.worker" in n for n in names) == 2:
                break
            time.sleep(0.2)
        time.sleep(3.0)
        proc.terminate()
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode not in (0, None), stderr[-2000:]
    assert "Traceback" not in stderr
    assert len(_error_lines(stderr)) == 1, stderr[-2000:]
    assert _gone(mark) == []
