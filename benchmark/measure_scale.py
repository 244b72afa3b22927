"""Time and peak memory of the solvers on long synthetic chains (docs/bench-scale.md).

    python -m benchmark.measure_scale --depths 1000 10000 --out outputs/scale

The instance of each depth (`model=synthetic depth=N seed=0`, MEC, 5g_avg; with
`--exits` also its early-exit variant) is built once and saved under `<out>/instances`.
Every (instance, solver) case then runs through the benchmark runner in a fresh
interpreter (`benchmark.isolate`, start method spawn, `runner.run(memory=True)`), so its
peak RSS is its own: imports, instance and solver, without the torch profiler that built
the chain. A case records load time, `prepare` time (training), the first `solve`, the
decision time as every job measures it (`runner.time_solve`: the median of the repeated
`solve` calls within `--budget` seconds, at most `--repeats`), the gap to the dp optimum
(`runner.gap`) and the peak RSS at the start, after `prepare` and at the end. The memory
loops call `solve` (or `evaluate`) many times in one fresh process and sample the RSS,
which after a warm-up must stay flat. Rows go to `<out>/rows.json`, one line per case is
printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmark.isolate import call_isolated, run_isolated
from benchmark.runner import TimingConfig
from problems.atomic import atomic_write_text

#: label -> (solver, configuration); iorlo: a short training, then the numpy inference is timed
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "dp": ("dp", {}),
    "exhaustive": ("exhaustive", {}),
    "ilp": ("ilp", {"time_limit_s": 300}),
    "ilp-scip": ("ilp", {"backend": "scip", "time_limit_s": 300}),
    "genetic": ("genetic", {}),
    "iorlo": ("iorlo", {"episodes": 2, "steps": 50, "memory": 64, "batch_size": 32, "seed": 0,
                        "checkpoint_dir": None, "progress": False}),
}
SEED = 0  # the runner's seed of every case
DEFAULT_CASES = ("dp", "exhaustive", "ilp", "genetic", "iorlo")
#: cases run on the early-exit variant too (`--exits`)
EXIT_CASES = ("dp", "ilp", "ilp-scip")
#: (what, case, iterations) of the memory loops: `evaluate` scores a random population of 64
LOOPS = (("evaluate", None, 200), ("solve", "dp", 500), ("solve", "iorlo", 500), ("solve", "genetic", 20),
         ("solve", "ilp", 30))


def run_loop(instance: str, what: str, solver: str | None, params: dict, iterations: int) -> dict[str, Any]:
    """RSS while calling solve (or evaluate) `iterations` times: sampled after a warm-up (a tenth, at least 3)."""
    import numpy as np

    from benchmark.runner import rss_mb
    from problems.instance import load_instance
    from solvers import make_solver

    problem = load_instance(instance)
    made = make_solver(solver, params) if solver else None
    rng = np.random.default_rng(0)
    X = rng.integers(0, problem.n_tiers, (64, problem.n_blocks))
    if made is not None:
        made.prepare(problem, np.random.default_rng(0))
    warm = min(iterations, max(3, iterations // 10))
    samples = []
    t0 = time.perf_counter()
    for j in range(iterations):
        if made is not None:
            made.solve(problem, np.random.default_rng(j))
        else:
            problem.evaluate(X)
        if j + 1 >= warm and (j + 1 - warm) % max(1, (iterations - warm) // 10) == 0:
            samples.append(rss_mb())
    samples.append(rss_mb())
    return {"loop": what, "solver": solver, "params": params, "instance": problem.name,
            "n_blocks": problem.n_blocks, "iterations": iterations, "seconds": time.perf_counter() - t0,
            "rss_after_warmup_MB": samples[0], "rss_end_MB": samples[-1], "rss_max_MB": max(samples),
            "growth_MB": round(samples[-1] - samples[0], 1), "samples_MB": samples}


# -- the parent ---------------------------------------------------------------------------------
def build_instance(depth: int, exits: bool, folder: Path) -> Path:
    """The synthetic chain's instance file (built once; later runs reuse it)."""
    path = folder / f"synthetic{depth}_s0-mec{'-exits' if exits else ''}.json"
    if not path.exists():
        from problems.build import build_problem
        from problems.instance import save_instance

        t0 = time.perf_counter()
        scenario = {"kind": "mec", "early_exit": {"enabled": exits}}
        problem = build_problem({"name": "synthetic", "depth": depth, "seed": 0}, scenario, {})
        save_instance(problem, path)
        print(f"built {path} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def run_case(instance: Path, label: str, repeats: int, budget_s: float, timeout_s: float) -> dict[str, Any]:
    """One case: the runner's row, run in a fresh interpreter, as a measurement row."""
    from problems.instance import load_instance

    solver, params = CASES[label]
    t0 = time.perf_counter()
    problem = load_instance(instance)
    load_s = time.perf_counter() - t0
    timing = TimingConfig(budget_s=budget_s, max_repeats=repeats)
    t0 = time.perf_counter()
    row = run_isolated(problem, solver, params, SEED, timing, timeout_s, start_method="spawn", memory=True)
    memory = row.get("memory_MB") or {}
    info = row.get("info") or {}
    return {
        "case": label, "solver": solver, "params": params, "instance": row["instance"], "n_blocks": row["n_blocks"],
        "exits": problem.chain.has_exits, "status": row["status"], "error": row["error"], "load_s": load_s,
        "prepare_s": row["prepare_s"], "first_solve_ms": row.get("first_solve_ms"),
        "decision_ms": row["decision_ms"], "decision_repeats": row["decision_repeats"], "cost": row["cost"],
        "gap": row["gap"], "start_MB": memory.get("start"), "prepared_MB": memory.get("prepared"),
        "peak_MB": memory.get("peak"), "process_s": time.perf_counter() - t0,
        "info": {k: v for k, v in info.items() if isinstance(v, int | float | str) and k != "value"},
    }


def loop_case(instance: Path, what: str, label: str | None, iterations: int, timeout_s: float) -> dict[str, Any]:
    """One memory loop in a fresh interpreter; a failure or time-out is a row with status and error."""
    solver, params = CASES[label] if label else (None, {})
    try:
        return call_isolated(run_loop, (str(instance), what, solver, params, iterations), timeout_s)
    except (RuntimeError, TimeoutError) as exc:
        return {"loop": what, "solver": solver, "status": "failed", "error": str(exc)}


def measure(depths: list[int], cases: list[str], repeats: int, budget_s: float, exits: bool, loops: bool,
            out: Path, timeout_s: float, run_cases: bool = True) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for depth in depths:
        variants = ([False, True] if exits else [False]) if run_cases else []
        for with_exits in variants:
            path = build_instance(depth, with_exits, out / "instances")
            for label in cases:
                if with_exits and label not in EXIT_CASES:
                    continue
                row = run_case(path, label, repeats, budget_s, timeout_s)
                row["depth"] = depth
                rows.append(row)
                print(line(row), flush=True)
                atomic_write_text(out / "rows.json", json.dumps(rows, indent=1) + "\n")
        if loops:
            path = build_instance(depth, False, out / "instances")
            for what, label, n_iter in LOOPS:
                if label is not None and label not in cases:
                    continue
                row = loop_case(path, what, label, n_iter, timeout_s)
                row.update(case=label, depth=depth)
                rows.append(row)
                print(line(row), flush=True)
                atomic_write_text(out / "rows.json", json.dumps(rows, indent=1) + "\n")
    return rows


def line(row: dict[str, Any]) -> str:
    if "loop" in row:
        if row.get("status") == "failed":
            return f"loop {row['loop']} {row['solver'] or '-'} depth={row.get('depth')}: failed: {row['error']}"
        return (f"loop {row['loop']:8s} {row['solver'] or '-':10s} n={row['n_blocks']:6d} x{row['iterations']}: "
                f"RSS {row['rss_after_warmup_MB']} -> {row['rss_end_MB']} MB (growth {row['growth_MB']} MB), "
                f"{row['seconds']:.1f} s")
    if row.get("status") != "ok":
        return f"{row.get('case')} depth={row.get('depth')}: {row.get('status')}: {row.get('error')}"
    return (f"{row['case']:10s} n={row['n_blocks']:6d} exits={row['exits']!s:5s} load {row['load_s']:.2f} s  "
            f"prepare {row['prepare_s']:.3g} s  decision {row['decision_ms']:.4g} ms "
            f"(first {row['first_solve_ms']:.4g} ms, median of {row['decision_repeats']})  gap {row['gap']:.3g}  "
            f"VmHWM {row['start_MB']} / {row['prepared_MB']} / {row['peak_MB']} MB")


def _ms(ms: float) -> str:
    return f"{ms:.3g} ms" if ms < 1000 else f"{ms / 1e3:.3g} s"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The cases and the memory loops as two markdown tables."""
    out = ["| blocks | exits | case | status | decision | first solve | prepare | gap | "
           "VmHWM start / prepared / peak (MB) | solver status |", "|" + "---|" * 10]
    for r in rows:
        if "loop" in r:
            continue
        memory = f"{r.get('start_MB', '')} / {r.get('prepared_MB', '')} / {r.get('peak_MB', '')}"
        if r.get("status") != "ok":
            out.append(f"| {r.get('depth')} | {r.get('exits', '')} | {r.get('case')} | {r.get('status')} | "
                       f"| | | | {memory} | {r.get('error')} |")
            continue
        info = r.get("info", {})
        solver_status = info.get("status", "")
        if "wall_s" in info:
            solver_status += f", {info['wall_s']:.3g} s in the backend"
        gap = "0" if abs(r["gap"]) < 1e-9 else f"{100 * r['gap']:.3g} %"
        out.append(f"| {r['n_blocks']} | {r['exits']} | {r['case']} | ok | {_ms(r['decision_ms'])} "
                   f"(median of {r['decision_repeats']}) | {_ms(r['first_solve_ms'])} | {r['prepare_s']:.3g} s | "
                   f"{gap} | {memory} | {solver_status} |")
    out += ["", "| blocks | loop | calls | RSS after warm-up (MB) | RSS at the end | max | growth |",
            "|" + "---|" * 7]
    for r in rows:
        if "loop" in r and r.get("status") != "failed":
            what = r["loop"] if r["solver"] is None else f"{r['solver']}.solve"
            out.append(f"| {r['n_blocks']} | {what} | {r['iterations']} | {r['rss_after_warmup_MB']} | "
                       f"{r['rss_end_MB']} | {r['rss_max_MB']} | {r['growth_MB']} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmark.measure_scale", description=__doc__.split("\n\n")[0])
    ap.add_argument("--depths", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES), choices=list(CASES))
    ap.add_argument("--repeats", type=int, default=5, help="at most this many timed solve calls after the first")
    ap.add_argument("--budget", type=float, default=30.0, help="timing budget (timing.budget_s of a job)")
    ap.add_argument("--exits", action="store_true", help="also the early-exit variant (dp, ilp, ilp-scip)")
    ap.add_argument("--no-loops", action="store_true", help="skip the memory loops")
    ap.add_argument("--loops-only", action="store_true", help="only the memory loops")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per case")
    ap.add_argument("--out", type=Path, default=Path("outputs/scale"))
    ap.add_argument("--table", type=Path, metavar="ROWS_JSON", help="only print the tables of a rows.json")
    args = ap.parse_args(argv)
    if args.table:
        print(markdown(json.loads(args.table.read_text())))
        return 0
    rows = measure(args.depths, args.cases, args.repeats, args.budget, args.exits, not args.no_loops, args.out,
                   args.timeout, run_cases=not args.loops_only)
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
