"""Measure `iorlo` and `iorlo_ctx` against the exact optimum (docs/bench-iorlo.md).

    python -m benchmark.measure_iorlo --out outputs/iorlo-measure

1. The paper's 4 models x 3 presets x 2 scenarios, every solver through the runner
   (`benchmark.runner.run`, seed `--seed`): gap of the decision, gap of the best
   assignment seen while training (iorlo), training time, decision time.
2. Held-out conditions: `--heldout` networks drawn by `sample_network` from a seed no
   training uses, and as many drawn log-uniformly over the whole Table 2 box; the one
   trained `iorlo_ctx` actor per model decides for each. `iorlo` is retrained on the
   first `--retrain` of the sampled ones, for comparison.
Checkpoints go to `<out>/checkpoints` (fresh: training times are measured, not loaded).
Rows go to `<out>/rows.json`; the summary tables are printed as markdown.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmark.reference import reference
from benchmark.runner import gap, jsonable, run
from problems import Problem
from problems.atomic import atomic_write_text
from problems.networks import sample_network
from problems.paper import PAPER_MODELS, paper_profile
from problems.presets import COLLABORATORS, Network, mec_tiers, network_preset
from problems.scenario import D2DScenario, MecScenario, Tier
from solvers.iorlo_ctx import box_network
from solvers.registry import make_solver

PRESETS = ("5g_avg", "5g_worst", "5g_best")
HELDOUT_SEED = 20_240_527  # no training draws from this stream


def make_problem(model: str, kind: str, net: Network, label: str) -> Problem:
    if kind == "mec":
        sc = MecScenario(tiers=mec_tiers(), te=net.te, ec=net.ec)
    else:
        sc = D2DScenario(device=mec_tiers()[0], collaborator=Tier("co-h", COLLABORATORS["co-h"]), link=net.d2d)
    return Problem(paper_profile(model), sc, name=f"{model}-{kind}-{label}")


def quantiles(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "p90": float(np.quantile(v, 0.9)), "max": float(v.max()),
            "over_1pct": float((v > 0.01).mean()), "n": len(v)}


def row_summary(row: dict) -> dict:
    info = row["info"]
    best_seen = info.get("best_seen_cost")
    return {
        "solver": row["solver"], "instance": row["instance"], "status": row["status"], "error": row["error"],
        "gap": row["gap"], "cost": row["cost"], "optimal_cost": row["optimal_cost"],
        "gap_best_seen": None if best_seen is None else gap(best_seen, row["optimal_cost"]),
        "train_s": info.get("train_s"), "prepare_s": row["prepare_s"], "decision_ms": row["decision_ms"],
        "assignment": row["assignment"], "cached": info.get("cached"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("outputs/iorlo-measure"))
    ap.add_argument("--models", nargs="+", default=list(PAPER_MODELS))
    ap.add_argument("--scenarios", nargs="+", default=["mec", "d2d"])
    ap.add_argument("--solvers", nargs="+", default=["iorlo", "iorlo_ctx"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--heldout", type=int, default=200)
    ap.add_argument("--retrain", type=int, default=3, help="held-out conditions iorlo is retrained on")
    ap.add_argument("--iorlo", default="{}", help="JSON overrides of the iorlo config")
    ap.add_argument("--ctx", default="{}", help="JSON overrides of the iorlo_ctx config")
    args = ap.parse_args()

    ckpt = str((args.out / "checkpoints").resolve())
    params = {
        "iorlo": {"checkpoint_dir": ckpt, "progress": False, **json.loads(args.iorlo)},
        "iorlo_ctx": {"checkpoint_dir": ckpt, "progress": False, **json.loads(args.ctx)},
    }
    rows: list[dict] = []
    heldout: list[dict] = []

    def save() -> None:
        atomic_write_text(args.out / "rows.json", json.dumps(jsonable({"args": vars(args) | {"out": str(args.out)},
                                                                       "presets": rows, "heldout": heldout}),
                                                             indent=1, allow_nan=False))

    t_start = time.perf_counter()
    for model in args.models:
        for kind in args.scenarios:
            for solver in args.solvers:
                for preset in PRESETS:
                    pr = make_problem(model, kind, network_preset(preset), preset)
                    row = row_summary(run(pr, solver, params[solver], seed=args.seed))
                    row.update(model=model, scenario=kind, network=preset)
                    rows.append(row)
                    print(f"[{time.perf_counter() - t_start:7.0f}s] {solver:9s} {pr.name:28s} gap={row['gap']} "
                          f"best_seen={row['gap_best_seen']} train_s={row['train_s']}", flush=True)
                    save()
            # held-out conditions: one trained iorlo_ctx actor (cached above), iorlo retrained per condition
            rng = np.random.default_rng([HELDOUT_SEED, PAPER_MODELS.index(model) if model in PAPER_MODELS else 99])
            draws = [("sampled", sample_network(rng)) for _ in range(args.heldout)]
            draws += [("box", box_network(rng)) for _ in range(args.heldout)]
            ctx_gaps: dict[str, list[float]] = {"sampled": [], "box": []}
            if "iorlo_ctx" in args.solvers:
                solver_rows = [r for r in rows if r["solver"] == "iorlo_ctx" and r["model"] == model
                               and r["scenario"] == kind]
                ctx = make_solver("iorlo_ctx", params["iorlo_ctx"])
                base = make_problem(model, kind, network_preset("5g_avg"), "5g_avg")
                prep, _ = np.random.SeedSequence(args.seed).spawn(2)
                ctx.prepare(base, np.random.default_rng(prep))  # the runner's prepare seed: loads the cached actor
                assert ctx.training_info["cached"] or not solver_rows, "iorlo_ctx retrained on held-out conditions"
                for j, (family, net) in enumerate(draws):
                    pr = make_problem(model, kind, net, f"{family}{j}")
                    cost = pr.score(ctx.decide(pr).assignment)["cost"]
                    ctx_gaps[family].append(gap(cost, reference(pr).cost))
            retrained = []
            if "iorlo" in args.solvers:
                for j, (_, net) in enumerate(draws[: args.retrain]):
                    pr = make_problem(model, kind, net, f"sampled{j}")
                    r = row_summary(run(pr, "iorlo", params["iorlo"], seed=args.seed))
                    r["ctx_gap"] = ctx_gaps["sampled"][j] if ctx_gaps["sampled"] else None
                    retrained.append(r)
                    print(f"[{time.perf_counter() - t_start:7.0f}s] iorlo     {pr.name:28s} gap={r['gap']} "
                          f"ctx_gap={r['ctx_gap']}", flush=True)
            heldout.append({
                "model": model, "scenario": kind,
                "ctx_sampled": quantiles(ctx_gaps["sampled"]) if ctx_gaps["sampled"] else None,
                "ctx_box": quantiles(ctx_gaps["box"]) if ctx_gaps["box"] else None,
                "iorlo_retrained": retrained,
            })
            save()
    print_tables(rows, heldout)


def pct(v: float | None) -> str:
    """A gap in percent; rounding noise below 1e-12 of the optimum prints as 0."""
    return "n/a" if v is None else f"{100 * (0.0 if abs(v) < 1e-12 else v):.2f} %"


def print_tables(rows: list[dict], heldout: list[dict]) -> None:
    print("\n| solver | model | scenario | network | gap decision | gap best seen | train s | decision us |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        dec = "n/a" if r["decision_ms"] is None else f"{1e3 * r['decision_ms']:.1f}"
        train = "n/a" if r["train_s"] is None else f"{r['train_s']:.1f}"
        print(f"| {r['solver']} | {r['model']} | {r['scenario']} | {r['network']} | {pct(r['gap'])} | "
              f"{pct(r['gap_best_seen'])} | {train} | {dec} |")
    print("\n| solver | scenario | median gap | p90 gap | max gap | median gap best seen | median train s "
          "| median decision us |")
    print("|---|---|---|---|---|---|---|---|")
    for solver in dict.fromkeys(r["solver"] for r in rows):
        for kind in dict.fromkeys(r["scenario"] for r in rows):
            sel = [r for r in rows if r["solver"] == solver and r["scenario"] == kind and r["status"] == "ok"]
            if not sel:
                continue
            g = [r["gap"] for r in sel]
            bs = [r["gap_best_seen"] for r in sel if r["gap_best_seen"] is not None]
            tr = [r["train_s"] for r in sel]
            dec = [1e3 * r["decision_ms"] for r in sel]
            print(f"| {solver} | {kind} | {pct(float(np.median(g)))} | {pct(float(np.quantile(g, 0.9)))} | "
                  f"{pct(max(g))} | {pct(float(np.median(bs))) if bs else 'n/a'} | {np.median(tr):.1f} | "
                  f"{np.median(dec):.1f} |")
    print("\n| model | scenario | ctx sampled: median / p90 / max gap, share > 1 % | ctx box: median / p90 / max, "
          "share > 1 % | iorlo retrained per condition: gaps | ctx on the same conditions |")
    print("|---|---|---|---|---|---|")
    for h in heldout:
        def q(d):
            if not d:
                return "n/a"
            return f"{pct(d['median'])} / {pct(d['p90'])} / {pct(d['max'])}, {100 * d['over_1pct']:.1f} %"
        re = ", ".join(pct(r["gap"]) for r in h["iorlo_retrained"]) or "n/a"
        cg = ", ".join(pct(r["ctx_gap"]) for r in h["iorlo_retrained"] if r["ctx_gap"] is not None) or "n/a"
        print(f"| {h['model']} | {h['scenario']} | {q(h['ctx_sampled'])} | {q(h['ctx_box'])} | {re} | {cg} |")


if __name__ == "__main__":
    main()
