"""Shared by the testbed tests: the browser-tier precondition, a process marker, the field check."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid

import psutil
import pytest

from testbed.session import ORT_DIST

MARK_VAR = "PARTBENCH_TEST_MARK"


def need_browser_tier() -> None:
    """Skip (locally) or fail (in CI) when Chromium or the npm install of onnxruntime-web is missing."""
    reasons = []
    if shutil.which("chromium") is None:
        reasons.append("chromium is not installed (apt-get install chromium)")
    if shutil.which("node") is None or shutil.which("npm") is None:
        reasons.append("node/npm are not installed (apt-get install nodejs npm)")
    if not (ORT_DIST / "ort.wasm.min.js").exists():
        reasons.append(f"onnxruntime-web is not installed in {ORT_DIST.parents[1]} (make sets it up)")
    if reasons:
        if os.environ.get("CI"):
            pytest.fail("; ".join(reasons))
        pytest.skip("; ".join(reasons))


def marked_env() -> tuple[dict[str, str], str]:
    """An environment whose every descendant process can be found again by its marker."""
    mark = uuid.uuid4().hex
    env = dict(os.environ)
    env[MARK_VAR] = mark
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_root()), env.get("PYTHONPATH", "")) if p)
    return env, mark


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parents[1]


def survivors(mark: str) -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "name"]):
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(MARK_VAR) == mark:
                found.append(f"{proc.pid} {proc.info['name']} {' '.join(proc.cmdline())[:120]}")
    return found


#: testbed.json: the issue's fields, each with its type
TOP = {"device_runtime": dict, "server_runtime": dict, "links": list, "partitions": list, "summary": dict}
DEVICE = {"user_agent": str, "engine": str, "backend": str, "cpu_throttling": float}
SERVER = {"engine": str, "edge_threads": int, "cloud_threads": int}
LINK = {"name": str, "configured_mbps": float, "measured_mbps": float, "configured_delay_ms": float,
        "measured_delay_ms": float}
PARTITION = {"solver": str, "assignment": list, "predicted_ms": float, "measured_ms": list,
             "measured_median_ms": float, "rel_error": float}
SUMMARY = {"median_abs_rel_error": float, "kendall_tau": (float, type(None)), "predicted_best": str,
           "measured_best": str, "predicted_best_gap": float, "same_assignment": bool}


def check_fields(obj: dict, spec: dict, where: str) -> None:
    for key, tp in spec.items():
        assert key in obj, f"{where}.{key} is missing"
        types = tp if isinstance(tp, tuple) else (tp,)
        if float in types:
            types = (*types, int)
        assert isinstance(obj[key], types), f"{where}.{key} is {type(obj[key]).__name__}"


def check_testbed_json(doc: dict, partitions: list[str], requests: int) -> None:
    check_fields(doc, TOP, "testbed")
    check_fields(doc["device_runtime"], DEVICE, "device_runtime")
    assert "HeadlessChrome" in doc["device_runtime"]["user_agent"]
    assert doc["device_runtime"]["engine"].startswith("onnxruntime-web ")
    assert doc["device_runtime"]["backend"] == "wasm"
    assert "modelled" in doc["device_runtime"]["energy"]
    check_fields(doc["server_runtime"], SERVER, "server_runtime")
    assert [link["name"] for link in doc["links"]] == ["te.up", "te.down", "ec.up", "ec.down"]
    for i, link in enumerate(doc["links"]):
        check_fields(link, LINK, f"links[{i}]")
    assert [p["solver"] for p in doc["partitions"]] == partitions
    for i, p in enumerate(doc["partitions"]):
        check_fields(p, PARTITION, f"partitions[{i}]")
        assert len(p["measured_ms"]) == requests
        assert all(t > 0 for t in p["measured_ms"])
        assert p["rel_error"] == pytest.approx((p["measured_median_ms"] - p["predicted_ms"]) / p["measured_median_ms"])
    check_fields(doc["summary"], SUMMARY, "summary")
    assert doc["summary"]["predicted_best"] in partitions
    assert doc["summary"]["measured_best"] in partitions
