"""Child processes of one testbed run, and the guarantee that none of them survives it.

Every child starts in its own session with a temporary HOME (onnxruntime and Chromium
write under $HOME) and carries PARTBENCH_TESTBED_TAG in its environment. Chromium's zygote
and crashpad helpers can outlive the browser and sit in sessions of their own, so the
final sweep ends, by PID, every process whose environment carries this run's tag.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import psutil

TAG_VAR = "PARTBENCH_TESTBED_TAG"


class Children:
    def __init__(self, home: Path):
        self.tag = uuid.uuid4().hex
        self.home = home
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({TAG_VAR: self.tag, "HOME": str(self.home)})
        return env

    def spawn(self, name: str, args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
        self.logs[name] = log
        with open(log, "ab") as out:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=env or self.env(), start_new_session=True)
        self.procs[name] = proc
        return proc

    def dead(self) -> str | None:
        """A line naming the first child that has exited, if any."""
        for name, proc in self.procs.items():
            code = proc.poll()
            if code is not None:
                return f"the {name} exited (code {code}); its log: {self.logs[name]}"
        return None

    def tagged(self) -> list[psutil.Process]:
        """Every live process that carries this run's tag."""
        found = []
        for proc in psutil.process_iter(["pid"]):
            if proc.pid == os.getpid():
                continue
            with contextlib.suppress(psutil.Error):
                if proc.environ().get(TAG_VAR) == self.tag:
                    found.append(proc)
        return found

    def stop_all(self, grace_s: float = 3.0) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
        for _ in range(3):
            left = self.tagged()
            if not left:
                break
            for proc in left:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            psutil.wait_procs(left, timeout=2)
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1)
