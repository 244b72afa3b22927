"""Time and peak memory of the solvers on long synthetic chains (docs/bench-scale.md).

    python -m benchmark.measure_scale --depths 1000 10000 --out outputs/scale

The instance of each depth (`model=synthetic depth=N seed=0`, MEC, 5g_avg; with
`--exits` also its early-exit variant) is built once and saved under `<out>/instances`.
Every (instance, solver) case then runs in a fresh interpreter that loads the instance
file, so its peak RSS (`VmHWM` of /proc/self/status) is its own: imports, instance and
solver, without the torch profiler that built the chain. A case records load time,
`prepare` time (training), the first `solve` and the median of up to `--repeats` more
(none once `--budget` seconds are spent: then the first is the median), the gap to the
dp optimum and VmHWM after the imports, after loading and at the end. The memory loops
call `solve` (or `evaluate`) many times in one process and sample the RSS, which after a
warm-up must stay flat. Rows go to `<out>/rows.json`, one line per case is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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
DEFAULT_CASES = ("dp", "exhaustive", "ilp", "genetic", "iorlo")
#: cases run on the early-exit variant too (`--exits`)
EXIT_CASES = ("dp", "ilp", "ilp-scip")
#: (what, case, iterations) of the memory loops: `evaluate` scores a random population of 64
LOOPS = (("evaluate", None, 200), ("solve", "dp", 500), ("solve", "iorlo", 500), ("solve", "genetic", 20),
         ("solve", "ilp", 30))


def status_kb(key: str) -> int:
    """A `Vm*` line of /proc/self/status, in kB (Linux)."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))


def mb(kb: int) -> float:
    return round(kb / 1024, 1)


# -- the child: one case in a fresh interpreter ------------------------------------------------
def run_case(instance: str, solver: str, params: dict, repeats: int, budget_s: float) -> dict[str, Any]:
    import numpy as np

    from problems.instance import load_instance
    from solvers import Unsupported, make_solver
    from solvers.dp import optimum

    made = make_solver(solver, params)  # imports the solver's modules (torch for iorlo)
    out: dict[str, Any] = {"solver": solver, "params": params, "import_MB": mb(status_kb("VmHWM"))}
    t0 = time.perf_counter()
    problem = load_instance(instance)
    _ = problem.cost_tables
    out.update(instance=problem.name, n_blocks=problem.n_blocks, exits=problem.chain.has_exits,
               load_s=time.perf_counter() - t0, loaded_MB=mb(status_kb("VmHWM")))
    try:
        t0 = time.perf_counter()
        made.prepare(problem, np.random.default_rng(0))
        out["prepare_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        sol = made.solve(problem, np.random.default_rng(1))
        out["first_solve_s"] = time.perf_counter() - t0
        times: list[float] = []
        while len(times) < repeats and out["first_solve_s"] + sum(times) < budget_s:
            t0 = time.perf_counter()
            made.solve(problem, np.random.default_rng(1))
            times.append(time.perf_counter() - t0)
        out["solve_median_s"] = float(np.median(times)) if times else out["first_solve_s"]
        out["solve_min_s"] = float(np.min(times)) if times else out["first_solve_s"]
        out["repeats"] = len(times)
        out["peak_MB"] = mb(status_kb("VmHWM"))
        cost = problem.score(sol.assignment)["cost"]
        out.update(status="ok", cost=cost, gap=cost / optimum(problem.cost_tables)[1] - 1,
                   info={k: v for k, v in sol.info.items() if isinstance(v, int | float | str) and k != "value"})
    except Unsupported as exc:
        out.update(status="unsupported", error=str(exc), peak_MB=mb(status_kb("VmHWM")))
    return out


def run_loop(instance: str, what: str, solver: str | None, params: dict, iterations: int) -> dict[str, Any]:
    """RSS while calling solve (or evaluate) `iterations` times: sampled after a warm-up (a tenth, at least 3)."""
    import numpy as np

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
            samples.append(mb(status_kb("VmRSS")))
    samples.append(mb(status_kb("VmRSS")))
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


def child(args: list[str], timeout_s: float) -> dict[str, Any]:
    """Run this module with `args` in a fresh interpreter and return its JSON line."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmark.measure_scale", *args], capture_output=True, text=True,
                          timeout=timeout_s, env=env, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"status": "failed", "error": (proc.stderr.strip().splitlines() or ["?"])[-1], "args": args,
                "process_s": wall}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["process_s"] = wall
    return row


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
                solver, params = CASES[label]
                row = child(["--case", str(path), solver, json.dumps(params), str(repeats), str(budget_s)],
                            timeout_s)
                row.setdefault("solver", solver)
                row.update(case=label, depth=depth)
                rows.append(row)
                print(line(row), flush=True)
                atomic_write_text(out / "rows.json", json.dumps(rows, indent=1) + "\n")
        if loops:
            path = build_instance(depth, False, out / "instances")
            for what, label, n_iter in LOOPS:
                if label is not None and label not in cases:
                    continue
                solver, params = CASES[label] if label else ("-", {})
                row = child(["--loop", str(path), what, solver, json.dumps(params), str(n_iter)], timeout_s)
                row.update(case=label, depth=depth)
                rows.append(row)
                print(line(row), flush=True)
                atomic_write_text(out / "rows.json", json.dumps(rows, indent=1) + "\n")
    return rows


def line(row: dict[str, Any]) -> str:
    if "loop" in row:
        return (f"loop {row['loop']:8s} {row['solver'] or '-':10s} n={row['n_blocks']:6d} x{row['iterations']}: "
                f"RSS {row['rss_after_warmup_MB']} -> {row['rss_end_MB']} MB (growth {row['growth_MB']} MB), "
                f"{row['seconds']:.1f} s")
    if row.get("status") != "ok":
        return f"{row.get('case')} depth={row.get('depth')}: {row.get('status')}: {row.get('error')}"
    return (f"{row['case']:10s} n={row['n_blocks']:6d} exits={row['exits']!s:5s} load {row['load_s']:.2f} s  "
            f"prepare {row['prepare_s']:.3g} s  solve median {row['solve_median_s'] * 1e3:.4g} ms "
            f"(first {row['first_solve_s'] * 1e3:.4g} ms, {row['repeats']} repeats)  gap {row['gap']:.3g}  "
            f"VmHWM {row['import_MB']} / {row['loaded_MB']} / {row['peak_MB']} MB")


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3g} ms" if ms < 1000 else f"{seconds:.3g} s"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The cases and the memory loops as two markdown tables."""
    out = ["| blocks | exits | case | status | decision | first solve | prepare | gap | "
           "VmHWM imports / loaded / peak (MB) | solver status |", "|" + "---|" * 10]
    for r in rows:
        if "loop" in r:
            continue
        if r.get("status") != "ok":
            out.append(f"| {r.get('depth')} | {r.get('exits', '')} | {r.get('case')} | {r.get('status')} | "
                       f"| | | | {r.get('import_MB', '')} / {r.get('loaded_MB', '')} / {r.get('peak_MB', '')} | "
                       f"{r.get('error')} |")
            continue
        info = r.get("info", {})
        solver_status = info.get("status", "")
        if "wall_s" in info:
            solver_status += f", {info['wall_s']:.3g} s in the backend"
        runs = "first only" if not r["repeats"] else f"median of {r['repeats']}"
        gap = "0" if abs(r["gap"]) < 1e-9 else f"{100 * r['gap']:.3g} %"
        out.append(f"| {r['n_blocks']} | {r['exits']} | {r['case']} | ok | {_ms(r['solve_median_s'])} "
                   f"({runs}) | {_ms(r['first_solve_s'])} | {r['prepare_s']:.3g} s | "
                   f"{gap} | {r['import_MB']} / {r['loaded_MB']} / {r['peak_MB']} | "
                   f"{solver_status} |")
    out += ["", "| blocks | loop | calls | RSS after warm-up (MB) | RSS at the end | max | growth |",
            "|" + "---|" * 7]
    for r in rows:
        if "loop" in r:
            what = r["loop"] if r["solver"] is None else f"{r['solver']}.solve"
            out.append(f"| {r['n_blocks']} | {what} | {r['iterations']} | {r['rss_after_warmup_MB']} | "
                       f"{r['rss_end_MB']} | {r['rss_max_MB']} | {r['growth_MB']} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmark.measure_scale", description=__doc__.split("\n\n")[0])
    ap.add_argument("--depths", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES), choices=list(CASES))
    ap.add_argument("--repeats", type=int, default=5, help="timed solve calls after the first (median)")
    ap.add_argument("--budget", type=float, default=30.0, help="no more repeats once this many seconds are spent")
    ap.add_argument("--exits", action="store_true", help="also the early-exit variant (dp, ilp, ilp-scip)")
    ap.add_argument("--no-loops", action="store_true", help="skip the memory loops")
    ap.add_argument("--loops-only", action="store_true", help="only the memory loops")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per case")
    ap.add_argument("--out", type=Path, default=Path("outputs/scale"))
    ap.add_argument("--table", type=Path, metavar="ROWS_JSON", help="only print the tables of a rows.json")
    ap.add_argument("--case", nargs=5, metavar=("INSTANCE", "SOLVER", "PARAMS", "REPEATS", "BUDGET"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--loop", nargs=5, metavar=("INSTANCE", "WHAT", "SOLVER", "PARAMS", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.case:
        instance, solver, params, repeats, budget = args.case
        print(json.dumps(run_case(instance, solver, json.loads(params), int(repeats), float(budget))))
        return 0
    if args.loop:
        instance, what, solver, params, n = args.loop
        print(json.dumps(run_loop(instance, what, None if solver == "-" else solver, json.loads(params), int(n))))
        return 0
    if args.table:
        print(markdown(json.loads(args.table.read_text())))
        return 0
    rows = measure(args.depths, args.cases, args.repeats, args.budget, args.exits, not args.no_loops, args.out,
                   args.timeout, run_cases=not args.loops_only)
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
