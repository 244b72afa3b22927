"""The "Testbed" report section from a run directory: `python -m reports DIR` renders it, and a
sweep report includes it when a testbed run directory is given beside the sweep."""

from __future__ import annotations

import json

from reports.__main__ import main
from testbed.breakdown import median_parts, request_parts
from testbed.summary import partition_row, summary


def _run_dir(path):
    trace = [{"k": "xfer", "src": 0, "dst": 1, "bytes": 602112, "t_send": 0.0, "hub_in": 20.0, "t_recv": 100.0,
              "shaped_ms": 70.0},
             {"k": "block", "i": 0, "tier": 1, "t0": 100.0, "t1": 130.0},
             {"k": "block", "i": 1, "tier": 1, "t0": 130.0, "t1": 150.0},
             {"k": "xfer", "src": 1, "dst": 0, "bytes": 4000, "t_send": 150.0, "hub_in": 151.0, "t_recv": 170.0,
              "shaped_ms": 4.5}]
    parts = [request_parts(trace, 172.0), request_parts(trace, 180.0)]
    rows = [partition_row("edge_only", [1, 1], 150.0, [172.0, 180.0]),
            partition_row("device_only", [0, 0], 900.0, [1000.0, 1100.0])]
    doc = {"device_runtime": {"user_agent": "HeadlessChrome/156", "engine": "onnxruntime-web 1.30.0",
                              "backend": "wasm", "cpu_throttling": 4.0, "energy": "modelled, not measured"},
           "server_runtime": {"engine": "onnxruntime 1.32.0", "edge_threads": 1, "cloud_threads": 2},
           "links": [{"name": "te.up", "configured_mbps": 76.1, "measured_mbps": 75.0, "configured_delay_ms": 4.38,
                      "measured_delay_ms": 4.9}],
           "partitions": rows, "summary": summary(rows)}
    requests = {"tiers": ["device", "edge", "cloud"], "calibration": [[400.0, 28.0, 20.0], [500.0, 19.0, 15.0]],
                "partitions": [{"solver": "edge_only", "assignment": [1, 1], "breakdown": median_parts(parts),
                                "requests": parts}]}
    path.mkdir()
    (path / "testbed.json").write_text(json.dumps(doc))
    (path / "requests.json").write_text(json.dumps(requests))
    return path


def test_reports_render_a_testbed_run(tmp_path, capsys):
    run = _run_dir(tmp_path / "run")
    assert main([str(run)]) == 0
    html = (run / "report.html").read_text()
    assert 'id="testbed"' in html
    for text in ("edge_only", "device_only", "te.up", "Kendall tau", "onnxruntime-web 1.30.0", "modelled",
                 "Breakdown of edge_only", "device → edge", "Plotly.newPlot"):
        assert text in html, text
    assert "1 testbed run" in capsys.readouterr().out
