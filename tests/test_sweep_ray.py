"""A two-job sweep through the Ray launcher on a local head bound to 127.0.0.1.

The head runs as `ray start --head --block` in a process group of its own, so the test
stops exactly the processes it started (a `ray stop` would stop every Ray process on the
machine). Needs the `[ray]` extra and `hydra-ray-launcher` (see docs/parallel.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # starts a local Ray cluster

#: Ray's fixed default ports, moved to free ones so that another Ray on the machine does not collide
PORT_FLAGS = ("ray-client-server-port", "dashboard-port", "dashboard-agent-listen-port", "dashboard-agent-grpc-port",
              "runtime-env-agent-port", "metrics-export-port")


def requirements() -> Path:
    missing = []
    for module in ("ray", "hydra_plugins.hydra_ray_launcher.ray_launcher"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    exe = Path(sys.executable).with_name("ray")
    if missing or not exe.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Ray launcher not installed ({missing or exe}); .ci/run installs it")
        pytest.skip(f"Ray launcher not installed ({missing or exe})")
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def local_head(exe: Path, env: dict) -> Iterator[str]:
    """A Ray head on 127.0.0.1 for the duration of the block; yields its address."""
    port = free_port()
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths must stay short
    log = (temp / "head.log").open("w")
    head = subprocess.Popen(
        [str(exe), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
         *(f"--{flag}={free_port()}" for flag in PORT_FLAGS), "--num-cpus=2", "--include-dashboard=false",
         "--dashboard-host=127.0.0.1", "--disable-usage-stats", f"--temp-dir={temp}"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in (temp / "head.log").read_text():
            assert head.poll() is None, (temp / "head.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "Ray head did not start in 120 s"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(30)
        deadline = time.monotonic() + 30
        while group_alive(head.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        leftover = group_alive(head.pid)
        if leftover:
            os.killpg(head.pid, signal.SIGKILL)  # the group this test created, nothing else
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
        assert not leftover, "Ray head processes were still running 30 s after SIGTERM"


def test_two_job_sweep_through_a_local_ray_head(tmp_path):
    exe = requirements()
    # loopback address only; no token authentication whatever ~/.ray/auth_token holds (both sides must agree)
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}
    sweep = tmp_path / "sweep"  # absolute: Ray workers do not run in this directory
    with local_head(exe, env) as address:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmark", "-m", "solver=dp,device_only", "timing.budget_s=0.01",
             "hydra/launcher=ray", f"+hydra.launcher.ray.init.address={address}",
             "+hydra.launcher.ray.init.object_store_memory=null", f"hydra.sweep.dir={sweep}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Connecting to existing Ray cluster at address: {address}" in proc.stderr + proc.stdout
    df = pd.read_csv(sweep / "results.csv")
    assert sorted(df["solver"]) == ["device_only", "dp"] and set(df["status"]) == {"ok"}
    assert "RayLauncher" in (sweep / "multirun.yaml").read_text()
    assert (sweep / "report.html").exists()
