"""Shared by the reliability tests: real job configs composed by Hydra, run in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from config_compose import composer

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PLUGIN = "plugins=[reliability_solvers]"


def config(*overrides: str) -> dict[str, Any]:
    """The resolved job config `python -m benchmark OVERRIDES` would hand `run_job`."""
    with composer() as compose:
        return compose(overrides)


def env(**extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: this checkout and the test solvers importable."""
    path = os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **extra}


def cli(*args: str, cwd: Path, module: str = "benchmark", timeout: float = 300,
        **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env(**extra))


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file below `folder` (relative path -> (mtime, bytes)), to show nothing changed."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}
