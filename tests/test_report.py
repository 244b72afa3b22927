"""The HTML report: every section, self-contained, escaped, rendered by a real browser;
`python -m reports` on sweep directories and CSV files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import plotly.offline
import pytest

from benchmark.job import run_job
from reports.build import build_report, write_sweep_outputs
from reports.collect import read_csv, read_paths, read_sweep

TESTS = Path(__file__).resolve().parent
SECTIONS = ("summary", "latency", "energy", "tiers", "headline", "depth", "network-scale", "training",
            "configuration")
EVIL = "<script>alert(1)</script>"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def job(sweep: Path, num: int, solver: str, model: str = "alexnet", scenario: str = "mec",
        network: dict | None = None, overrides: tuple[str, ...] = ()) -> None:
    cfg = {"solver": {"name": solver, "timeout_s": None}, "model": {"name": model}, "scenario": {"kind": scenario},
           "network": network or {"name": "5g_avg"}, "seed": 0, "timing": {"budget_s": 0.0, "max_repeats": 1},
           "plugins": ["sweep_solvers"]}
    run_job(cfg, sweep / str(num), [f"solver={solver}", f"model={model}", f"scenario={scenario}", *overrides])


def make_sweep(sweep: Path) -> Path:
    """A small sweep with every section's data: two models (two depths), both scenarios,
    varied bandwidth scale, a learning solver's training curve, a failure, an evil name."""
    sys.path.insert(0, str(TESTS))
    n = 0
    for model in ("alexnet", "mobilenet_v1"):
        for scenario in ("mec", "d2d"):
            for solver in ("dp", "device_only", "cloud_only", "collaborator_only", "neurosurgeon", "test_learner"):
                job(sweep, n, solver, model, scenario)
                n += 1
    for scale in (0.1, 10.0):
        for solver in ("dp", "neurosurgeon", "cloud_only"):
            job(sweep, n, solver, network={"name": "5g_avg", "scale": {"bandwidth": scale}},
                overrides=(f"network.scale.bandwidth={scale}",))
            n += 1
    job(sweep, n, "test_crash")
    job(sweep, n + 1, "dp")
    evil = sweep / str(n + 1) / "result.json"
    row = json.loads(evil.read_text())
    row["model"], row["solver"] = EVIL, f"solver{EVIL}"
    evil.write_text(json.dumps(row))
    (sweep / "multirun.yaml").write_text("hydra:\n  overrides:\n    task:\n    - solver=dp,device_only\n")
    return sweep


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    path = make_sweep(tmp_path_factory.mktemp("report") / "sweep")
    write_sweep_outputs(path)
    return path


@pytest.fixture(scope="module")
def page(sweep) -> str:
    return (sweep / "report.html").read_text()


def section(page: str, name: str) -> str:
    start = page.index(f'<section id="{name}">')
    return page[start:page.index("</section>", start)]


def test_results_csv_has_one_row_per_job_with_flattened_fields(sweep):
    df = pd.read_csv(sweep / "results.csv")
    assert len(df) == 32
    assert {"solver", "status", "gap", "decision_ms", "overrides", "info", "config", "version.python",
            "machine.cpus", "override.network.scale.bandwidth", "scale_bandwidth", "training_curve"} <= set(df.columns)
    assert set(df["status"]) == {"ok", "unsupported", "failed"}
    assert sorted(df["scale_bandwidth"].unique()) == [0.1, 1.0, 10.0]
    learner = df[df["solver"] == "test_learner"]
    assert learner["training_curve"].map(lambda p: Path(p).is_file()).all()
    assert json.loads(df.loc[0, "assignment"]) == [1, 1, 2, 2, 2, 2, 2, 2, 2, 2]


def test_report_has_every_section_with_content(page):
    for name in SECTIONS:
        assert f'<section id="{name}">' in page
    assert section(page, "summary").count("<tr>") >= 7
    for name in ("latency", "energy"):
        assert section(page, name).count('class="plotly-graph-div"') == 2  # MEC and D2D
    assert "IoRLO, as published" in section(page, "tiers")
    assert "72.17" in section(page, "headline") and "47.02" in section(page, "headline")
    assert "66.91" in section(page, "headline")
    assert "differ" in section(page, "headline")
    for name in ("depth", "network-scale", "training"):
        assert section(page, name).count('class="plotly-graph-div"') == 1, name
    config = section(page, "configuration")
    assert "numpy" in config and "solver=dp,device_only" in config and "cpu" in config


def test_report_is_self_contained_with_plotly_inlined_once(page):
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"@import", page)
    assert page.count(plotly.offline.get_plotlyjs()[:300]) == 1
    assert page.count("<script") == 1 + page.count('class="plotly-graph-div"')


def test_strings_from_results_are_escaped(page):
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_sections_without_data_say_so(tmp_path):
    sweep = tmp_path / "small"
    job(sweep, 0, "dp")
    job(sweep, 1, "device_only")
    _, html_path = write_sweep_outputs(sweep)
    page = html_path.read_text()
    for name in SECTIONS:
        assert f'<section id="{name}">' in page
    for name in ("depth", "network-scale", "training"):
        assert "Not in this run" in section(page, name)
    assert "D2D: not in this run" in section(page, "latency")
    assert "not in this run" in section(page, "headline")


def test_csv_round_trip_gives_the_same_report_data(sweep, tmp_path):
    from_dir = read_sweep(sweep)
    from_csv = read_csv(sweep / "results.csv")
    assert len(from_csv.frame) == len(from_dir.frame)
    both = read_paths([sweep, sweep / "results.csv"])
    assert len(both.frame) == 2 * len(from_dir.frame)
    out = build_report(from_csv, tmp_path / "r.html")
    assert all(f'<section id="{n}">' in out.read_text() for n in SECTIONS)


def reports_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.slow
def test_reports_cli_builds_from_dirs_and_csv_files(sweep, tmp_path):
    out = tmp_path / "both.html"
    proc = reports_cli(str(sweep), str(sweep / "results.csv"), "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "64 jobs" in proc.stdout and out.stat().st_size > 1_000_000


@pytest.mark.slow
@pytest.mark.parametrize("make", ["missing", "empty_dir", "bad_csv", "file"])
def test_reports_cli_bad_path_is_one_line(tmp_path, make):
    path = tmp_path / "input"
    if make == "empty_dir":
        path.mkdir()
    elif make == "bad_csv":
        path = tmp_path / "x.csv"
        path.write_text("a,b\n1,2\n")
    elif make == "file":
        path.write_text("hello")
    proc = reports_cli(str(path), "-o", str(tmp_path / "r.html"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and str(path) in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.html").exists()


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs the Debian package)")
        pytest.skip("chromium not installed")
    return exe


@pytest.mark.slow
def test_report_renders_in_headless_chromium(sweep, page, tmp_path):
    exe = chromium()
    proc = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=15000", "--dump-dom", (sweep / "report.html").as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    assert proc.returncode == 0 and "</html>" in dom, proc.stderr[-2000:]
    plots = dom.split('class="plotly-graph-div')[1:]
    assert len(plots) == page.count('class="plotly-graph-div"')
    assert sum(section(page, name).count('class="plotly-graph-div"') for name in SECTIONS) == 7  # the rest: stats
    for plot in plots:
        assert 'class="main-svg"' in plot[:200_000]  # plotly drew an SVG into every figure div
    assert dom.count('class="main-svg"') >= 2 * len(plots)
    assert dom.count('class="point"') >= 20  # bars and markers were drawn, not just axes
    assert EVIL not in dom
    svg_text = re.findall(r"<text[^>]*>([^<]*)</text>", dom)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg_text  # drawn as text on an axis
    assert f"solver{EVIL}".replace("<", "&lt;").replace(">", "&gt;") in svg_text  # and in a legend
