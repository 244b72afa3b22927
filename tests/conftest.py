import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# CI explores the same examples on every run (a property failure there is reproducible);
# locally every run draws new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """The read-only shared folder beside the checkout (always there in CI)."""
    if not SHARED.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED} is missing")
        pytest.skip(f"{SHARED} not present")
    return SHARED


# `make check` (PARTBENCH_FAST=1) runs the tests that need no subprocess, browser or cluster;
# a test that starts a process there fails and says to mark it `slow`. `git`, which a job
# runs once to record its revision, is allowed.
FAST = bool(os.environ.get("PARTBENCH_FAST"))


@pytest.fixture(autouse=True)
def _no_process_unless_slow(request, monkeypatch):
    if not FAST or request.node.get_closest_marker("slow"):
        return
    import multiprocessing.process
    import subprocess

    popen_init = subprocess.Popen.__init__

    def guarded_popen(self, args, *rest, **kwargs):
        program = args[0] if isinstance(args, list | tuple) else str(args).split()[0]
        if Path(str(program)).name != "git":
            pytest.fail(f"{request.node.nodeid} starts a process ({program}): mark it @pytest.mark.slow")
        popen_init(self, args, *rest, **kwargs)

    def guarded_start(self):
        pytest.fail(f"{request.node.nodeid} starts a process ({self.name}): mark it @pytest.mark.slow")

    monkeypatch.setattr(subprocess.Popen, "__init__", guarded_popen)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", guarded_start)


#: `make check` explores this share of each property test's examples (at least 5); CI runs them all
FAST_EXAMPLES_SHARE = 0.2


def pytest_collection_modifyitems(config, items):
    if not FAST:
        return
    for item in items:
        test = getattr(item, "obj", None)
        current = getattr(test, "_hypothesis_internal_use_settings", None)  # what @settings attached
        if current is not None:
            fewer = max(5, int(current.max_examples * FAST_EXAMPLES_SHARE))
            test._hypothesis_internal_use_settings = settings(current, max_examples=fewer)
