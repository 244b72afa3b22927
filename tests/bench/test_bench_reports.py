"""Speed and size of the report (`make bench`).

Targets: report.html for 1,000 result rows in <= 5 s and <= 10 MB; results.csv of the
same rows written alongside. Rows are real: the paper's 4 models x 2 scenarios x 3
networks x 6 fast solvers, 7 seeds each (1,008 rows), plus 8 training curves. Numbers
go to docs/bench-reports.md; the size is asserted, the time is not.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from benchmark.runner import TimingConfig, run
from problems.atomic import atomic_write_text
from problems.build import build_problem
from reports import analysis, figures, stats_report
from reports.build import build_report
from reports.collect import Collected, flatten, to_frame, write_csv

pytestmark = pytest.mark.bench

MODELS = ("alexnet", "vgg16", "resnet32", "mobilenet_v1")
NETWORKS = ("5g_avg", "5g_worst", "5g_best")
SOLVERS = ("dp", "device_only", "edge_only", "cloud_only", "collaborator_only", "neurosurgeon")
SEEDS = 7
MAX_BYTES = 10 * 2**20


@pytest.fixture(scope="module")
def rows_1000(tmp_path_factory) -> Collected:
    root = tmp_path_factory.mktemp("bench-report")
    timing = TimingConfig(budget_s=0.0, max_repeats=1)
    rows = []
    for model in MODELS:
        for kind in ("mec", "d2d"):
            for network in NETWORKS:
                problem = build_problem({"name": model}, {"kind": kind}, {"name": network})
                for solver in SOLVERS:
                    for seed in range(SEEDS):
                        row = run(problem, solver, {}, seed, timing)
                        overrides = [f"solver={solver}", f"model={model}", f"scenario={kind}",
                                     f"network={network}", f"seed={seed}"]
                        row.update(model=model, network=network, overrides=overrides,
                                   versions={"python": "3.11"}, timestamp="2026-01-01T00:00:00+00:00")
                        job = root / str(len(rows))
                        if solver == "dp" and seed == 0 and network == "5g_avg":
                            job.mkdir(parents=True)
                            atomic_write_text(job / "training_curve.csv", "episode,mean_reward\n" + "".join(
                                f"{i},{-1000 / (i + 1)}\n" for i in range(200)))
                            row["info"]["training_curve_file"] = "training_curve.csv"
                        rows.append(flatten(row, job, str(root), str(len(rows))))
    return Collected(to_frame(rows), [str(root)])


def test_report_for_1000_rows(benchmark, rows_1000, tmp_path):
    assert len(rows_1000.frame) == 1008
    out = tmp_path / "report.html"
    cpu = []

    def build():
        start = time.process_time()
        build_report(rows_1000, out)
        cpu.append(time.process_time() - start)

    benchmark.pedantic(build, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["cpu_s_median"] = round(sorted(cpu)[len(cpu) // 2], 3)
    size = out.stat().st_size
    benchmark.extra_info["rows"] = len(rows_1000.frame)
    benchmark.extra_info["report_MB"] = round(size / 2**20, 2)
    assert size <= MAX_BYTES
    page = out.read_text()
    stats_figures = sum(page[page.index(f'<section id="{name}">'):].split("</section>", 1)[0]
                        .count('class="plotly-graph-div"')
                        for name in ("performance-profiles", "anytime", "rank-tests", "win-rates", "pareto"))
    assert page.count('class="plotly-graph-div"') - stats_figures == 6  # figs 10-13, depth, training
    assert stats_figures == 5  # profiles, 2 CD diagrams, win rates, Pareto, and no traces: no anytime


def test_comparison_sections_for_1000_rows(benchmark, rows_1000):
    """The comparison sections alone (`reports.stats_report.context`), on the prepared table."""
    df = analysis.prepare(rows_1000.frame)
    colors = figures.palette(df["method"])
    cpu = []

    def sections():
        start = time.process_time()
        out = stats_report.context(df, colors)
        cpu.append(time.process_time() - start)
        return out

    out = benchmark.pedantic(sections, rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info["cpu_s_median"] = round(sorted(cpu)[len(cpu) // 2], 3)
    assert out["anytime_missing"] and not out["rank_missing"]


def test_results_csv_for_1000_rows(benchmark, rows_1000, tmp_path):
    out = tmp_path / "results.csv"
    benchmark.pedantic(write_csv, args=(rows_1000.frame, out), rounds=3, iterations=1)
    benchmark.extra_info["csv_MB"] = round(out.stat().st_size / 2**20, 2)
    assert len(pd.read_csv(out)) == 1008


def test_report_cold_process(tmp_path, rows_1000):
    """The same report from a CSV in a fresh `python -m reports` process (imports included)."""
    import subprocess
    import sys

    csv = write_csv(rows_1000.frame, tmp_path / "results.csv")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "reports", str(csv), "-o", str(tmp_path / "r.html")],
                          capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    print(f"\npython -m reports on 1,008 rows: {elapsed:.2f} s wall, "
          f"{(tmp_path / 'r.html').stat().st_size / 2**20:.2f} MB")
