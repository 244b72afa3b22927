"""Run one solver in a child process so that `solver.timeout_s` can stop it.

A Python thread cannot be stopped, and a solver stuck in native code (a MIP backend, a
JIT loop, torch) ignores signals it does not check, so a job with a time limit runs its
solver in a child process in a process group of its own. The child reports when
`prepare` starts and when the first `solve` returns; the parent allows `timeout_s` for
that span and otherwise kills the whole group and records status `timeout`. Jobs
without a limit run in-process: no start-up cost and nothing to pickle.

Start methods: `forkserver` (default) forks every child from a clean server process
that imported the solvers once, so children start fast and inherit no threads from
earlier jobs; `spawn` starts a fresh interpreter per job; `fork` is fastest but unsafe
once torch or numba threads run in the parent.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from benchmark.reference import DEFAULT_TIME_LIMIT_S
from problems import Problem
from problems.errors import FieldError
from solvers import make_solver

START_METHODS = ("forkserver", "spawn", "fork")
STARTUP_S = 300.0  # time a child may take to import everything and reach `prepare`
TIMING_GRACE_S = 30.0  # beyond the timing budget, for the repeated solves after the first
MAX_TIMEOUT_S = 7 * 24 * 3600.0  # one week; the OS's wait calls overflow far beyond


@dataclass
class IsolationConfig:
    start_method: str = "forkserver"  # forkserver | spawn | fork

    def validate(self, prefix: str) -> None:
        if self.start_method not in START_METHODS:
            raise FieldError(f"{prefix}.start_method", f"choose one of {list(START_METHODS)}", self.start_method)


def check_timeout(value: object) -> float | None:
    """`solver.timeout_s`: null (no limit) or a positive number of seconds, at most a week."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_TIMEOUT_S:
        raise FieldError("solver.timeout_s", f"must be null or a number of seconds in (0, {MAX_TIMEOUT_S:g}]", value)
    return float(value)


def _child(conn: Connection, problem: Problem, solver_name: str, params: dict, seed: int, timing: Any,
           plugins: tuple[str, ...], memory: bool = False,
           reference_time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> None:
    """Child side: own process group, plugins, the ordinary runner; the row goes back on `conn`."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    try:
        from benchmark.plugins import load_plugins
        from benchmark.runner import run

        load_plugins(list(plugins))
        row = run(problem, solver_name, params, seed, timing,
                  on_phase=lambda name, seconds: conn.send(("phase", (name, seconds))), memory=memory,
                  reference_time_limit_s=reference_time_limit_s)
        conn.send(("row", row))
    except BaseException as exc:  # whatever the runner did not turn into a row
        conn.send(("crash", (f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=8))))
    finally:
        conn.close()


def _stop(proc: mp.process.BaseProcess) -> None:
    """Kill the child and everything it started (its process group), then reap it."""
    if proc.pid is None:
        return
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.join(10)


def _timeout_row(problem: Problem, solver_name: str, seed: int, timeout_s: float, phase: str,
                 prepare_s: float | None, reference_time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> dict[str, Any]:
    from benchmark.runner import base_row

    row = base_row(problem, solver_name, seed, reference_time_limit_s)
    row["status"] = "timeout"
    row["error"] = f"stopped after solver.timeout_s={timeout_s:g} s during {phase}"
    row["prepare_s"] = prepare_s
    row["info"] = {"timeout_s": timeout_s, "phase": phase}
    return row


def _failed_row(problem: Problem, solver_name: str, seed: int, error: str, trace: str | None = None,
                reference_time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> dict[str, Any]:
    from benchmark.runner import base_row

    row = base_row(problem, solver_name, seed, reference_time_limit_s)
    row["status"] = "failed"
    row["error"] = error
    row["info"] = {"traceback": trace} if trace else {}
    return row


#: signals that end a run: while a child runs, they first stop its process group
FORWARDED = (signal.SIGTERM, signal.SIGHUP)


class _Signalled(BaseException):
    """A terminating signal arrived while a child ran (raised so that cleanup runs)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_signalled(signum: int, frame: object) -> None:
    raise _Signalled(signum)


@contextlib.contextmanager
def child_signals() -> Iterator[None]:
    """SIGTERM or SIGHUP to the parent stop the child's group too: the default action
    would end the parent at once and leave a hanging solver running. After the cleanup the
    parent ends by the same signal, as it would have. (SIGINT already raises
    KeyboardInterrupt, so the same cleanup runs.)"""
    try:
        previous = {sig: signal.signal(sig, _raise_signalled) for sig in FORWARDED}
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    except _Signalled as exc:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        previous = {}
        os.kill(os.getpid(), exc.signum)
        raise SystemExit(128 + exc.signum) from None  # the signal was handled by a handler of the caller's
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def standard_default(start_method: str) -> Iterator[None]:
    """A forkserver or spawn child re-applies its parent's default start method. Inside a
    joblib (loky) worker that default is "loky", which a fresh interpreter does not know
    and the child dies before running anything; so, while a child starts, the default is
    the start method it is started with."""
    current = mp.get_start_method(allow_none=True)
    if current is None or current in START_METHODS:
        yield
        return
    default = mp.context._default_context
    saved = default._actual_context
    mp.set_start_method(start_method, force=True)
    try:
        yield
    finally:
        default._actual_context = saved


def context(start_method: str) -> mp.context.BaseContext:
    ctx = mp.get_context(start_method)
    if start_method == "forkserver":
        ctx.set_forkserver_preload(["benchmark.preload"])  # ignored once the server runs
    return ctx


def run_isolated(problem: Problem, solver_name: str, params: dict | None, seed: int, timing: Any,
                 timeout_s: float, plugins: Sequence[str] = (), start_method: str = "forkserver",
                 memory: bool = False, reference_time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> dict[str, Any]:
    """`benchmark.runner.run` in a child process, stopped after `timeout_s` of prepare + first solve.
    `memory=True` with `start_method="spawn"` records the fresh process's peak RSS (`runner.run`)."""
    params = dict(params or {})
    make_solver(solver_name, params)  # a bad solver config is bad input: fail here, in the parent
    with child_signals():
        return _supervise(problem, solver_name, params, seed, timing, timeout_s, plugins, start_method, memory,
                          reference_time_limit_s)


def _supervise(problem: Problem, solver_name: str, params: dict, seed: int, timing: Any, timeout_s: float,
               plugins: Sequence[str], start_method: str, memory: bool,
               reference_time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> dict[str, Any]:
    ctx = context(start_method)
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, problem, solver_name, params, seed, timing, tuple(plugins), memory,
                                                     reference_time_limit_s),
                       name=f"partbench-{solver_name}")
    with standard_default(start_method):
        proc.start()
    send.close()
    phase, prepare_s = "start-up", None
    deadline = time.monotonic() + STARTUP_S
    try:
        while True:
            ready = wait([recv, proc.sentinel], timeout=max(0.0, deadline - time.monotonic()))
            if recv in ready:
                try:
                    kind, value = recv.recv()
                except EOFError:  # the child is gone without a word
                    ready = [proc.sentinel]
                else:
                    if kind == "row":
                        return value
                    if kind == "crash":
                        return _failed_row(problem, solver_name, seed, value[0], value[1], reference_time_limit_s)
                    name, seconds = value
                    if name == "prepare":
                        phase, deadline = "prepare", time.monotonic() + timeout_s
                    elif name == "solve":
                        phase, prepare_s = "solve", seconds
                    elif name == "solved":
                        phase = "timing"
                        deadline = time.monotonic() + timing.budget_s + 3 * seconds + TIMING_GRACE_S
                    continue
            if proc.sentinel in ready:
                proc.join(10)
                return _failed_row(problem, solver_name, seed,
                                   f"solver process exited with code {proc.exitcode} during {phase}",
                                   reference_time_limit_s=reference_time_limit_s)
            if not ready:
                _stop(proc)
                if phase == "start-up":
                    return _failed_row(problem, solver_name, seed, f"solver process did not start in {STARTUP_S:g} s",
                                       reference_time_limit_s=reference_time_limit_s)
                return _timeout_row(problem, solver_name, seed, timeout_s, phase, prepare_s, reference_time_limit_s)
    finally:
        recv.close()
        if proc.is_alive():
            _stop(proc)
        else:
            proc.join(10)


def _call_child(conn: Connection, target: Callable[..., Any], args: tuple) -> None:
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    try:
        conn.send(("value", target(*args)))
    except BaseException as exc:
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def call_isolated(target: Callable[..., Any], args: tuple, timeout_s: float, start_method: str = "spawn") -> Any:
    """`target(*args)` in a child process of its own (a fresh interpreter by default), for
    measurements whose peak memory must be the callee's own; killed after `timeout_s`.
    A failure in the child is raised here as RuntimeError, a time-out as TimeoutError."""
    ctx = context(start_method)
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_call_child, args=(send, target, tuple(args)), name="partbench-measure")
    with standard_default(start_method):
        proc.start()
    send.close()
    try:
        ready = wait([recv, proc.sentinel], timeout=timeout_s)
        if recv in ready:
            with contextlib.suppress(EOFError):
                kind, value = recv.recv()
                if kind == "value":
                    return value
                raise RuntimeError(value)
        if not ready:
            raise TimeoutError(f"stopped after {timeout_s:g} s")
        proc.join(10)
        raise RuntimeError(f"measurement process exited with code {proc.exitcode}")
    finally:
        recv.close()
        if proc.is_alive():
            _stop(proc)
        else:
            proc.join(10)
