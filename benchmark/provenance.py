"""Where a result came from: package versions, the machine and the git revision.

Jobs record these themselves because a sweep's jobs may run on different machines
(joblib workers, Ray nodes); the report shows every distinct value it finds.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

VERSIONED = ("partbench", "numpy", "numba", "torch", "ortools", "optuna", "hydra-core")
REPO = Path(__file__).resolve().parents[1]


@functools.cache
def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def machine() -> dict[str, object]:
    try:  # POSIX: no need to import psutil (tens of milliseconds) for one number
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (AttributeError, ValueError, OSError):
        import psutil

        memory_gb = round(psutil.virtual_memory().total / 2**30, 1)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "node": platform.node(),
        "system": f"{platform.system()} {platform.release()}",
        "arch": platform.machine(),
        "cpu": _cpu_model(),
        "cpus": usable,
        "memory_gb": memory_gb,
    }


@functools.cache
def git_revision(repo: Path = REPO) -> str | None:
    """`<sha>` or `<sha>+dirty` of the checkout that holds this package, None outside git."""
    if not (repo / ".git").exists():
        return None
    try:
        sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}+dirty" if dirty else sha
