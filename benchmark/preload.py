"""Imported once by the forkserver of `benchmark.isolate`: every solver module (torch,
numba, OR-Tools) is loaded before the server forks, so an isolated job starts in
milliseconds instead of re-importing them."""

from benchmark.runner import run  # noqa: F401 - imported for its side effect
from solvers import available

available()
