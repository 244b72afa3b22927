"""The testbed's pure parts: the summary statistics, the Sec. 3.2 fits, the calibration's
round trip onto the problem (spec §11 scoring through Problem.score), the trace breakdown
and the one-line errors of bad configuration (no browser needed)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from testbed_env import marked_env

from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import dumps_instance, problem_from_dict
from testbed.breakdown import calibration_vs_requests, median_parts, request_parts
from testbed.calibrate import calibrated_problem, chain_medians
from testbed.fits import Fitted, fit_type
from testbed.summary import kendall_tau, partition_row, summary
from testbed.wire import decode, encode, fragments, tensor


def test_kendall_tau():
    assert kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert kendall_tau([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    # tau-b with a tie in the predictions (two solvers that found the same assignment)
    assert kendall_tau([1, 1, 2], [5, 6, 7]) == pytest.approx(2 / np.sqrt(2 * 3))
    assert kendall_tau([1, 1], [2, 3]) is None


def test_partition_rows_and_summary():
    rows = [partition_row("a", [0], 100.0, [110.0, 90.0, 125.0]), partition_row("b", [1], 50.0, [80.0, 40.0, 60.0])]
    assert rows[0]["measured_median_ms"] == 110.0
    assert rows[0]["rel_error"] == pytest.approx(10 / 110)
    assert rows[1]["rel_error"] == pytest.approx(10 / 60)
    s = summary(rows)
    assert s == {"median_abs_rel_error": pytest.approx((10 / 110 + 10 / 60) / 2), "kendall_tau": pytest.approx(1.0),
                 "predicted_best": "b", "measured_best": "b", "predicted_best_gap": 0.0, "same_assignment": True}
    rows.append(partition_row("c", [1], 50.0, [50.0]))  # b's assignment, found again and measured faster
    s = summary(rows)
    assert (s["predicted_best"], s["measured_best"], s["same_assignment"]) == ("b", "c", True)
    assert s["predicted_best_gap"] == pytest.approx(60 / 50 - 1)


def test_linear_fit_recovers_table1_form_and_wins_on_linear_data():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(1e4, 1e6, 16), rng.uniform(1e4, 1e6, 16)
    t = 6.24e-5 * x + 1.074e-4 * y + 3.0 + rng.normal(0, 0.05, 16)
    fits = fit_type("conv", x, y, t)
    assert fits["linear"]["alpha"] == pytest.approx(6.24e-5, rel=0.02)
    assert fits["linear"]["beta"] == pytest.approx(1.074e-4, rel=0.02)
    assert fits["linear"]["gamma"] == pytest.approx(3.0, abs=0.1)
    assert fits["linear"]["loo_error"] < fits["logistic"]["loo_error"]
    relu = fit_type("relu", x, x, 1.5e-5 * x + 0.5)
    assert "beta" not in relu["linear"]
    assert relu["linear"]["alpha"] == pytest.approx(1.5e-5, rel=1e-6)


def test_logistic_fit_recovers_a_logistic_curve():
    s = np.linspace(0, 1, 25) * 1e6
    t = 1 + 5 / (1 + np.exp(-12 * (s / 1e6 - 0.4)))
    fitted = Fitted("logistic", s, np.zeros_like(s), t, with_y=False)
    np.testing.assert_allclose(fitted.predict(s, np.zeros_like(s)), t, atol=1e-6)


def _calibration(problem, values):
    return {"problem": problem.name, "tiers": problem.tier_names,
            "blocks": [{"in_kb": b.in_kb, "out_kb": b.out_kb, "tier_latency_ms": v}
                       for b, v in zip(problem.profile.blocks, values, strict=True)]}


def test_calibration_goes_onto_the_blocks_and_the_problem_scores_it():
    problem = build_problem({"name": "resnet32", "source": "torch"}, {"kind": "mec"}, {"name": "5g_avg"})
    n = problem.n_blocks
    values = [[10.0 + i, 2.0, 1.0] for i in range(n)]
    calibrated = calibrated_problem(problem, _calibration(problem, values))
    assert [list(b.tier_latency_ms) for b in calibrated.profile.blocks] == values
    # all on the device: only the blocks' device times (no transfer: input and result are on the device)
    assert calibrated.score([0] * n)["latency_ms"] == pytest.approx(sum(10.0 + i for i in range(n)))
    doc = problem_from_dict(__import__("json").loads(dumps_instance(calibrated)))
    assert doc.score([1] * n)["latency_ms"] == pytest.approx(calibrated.score([1] * n)["latency_ms"])


def test_a_calibration_of_another_problem_is_refused():
    problem = build_problem({"name": "resnet32", "source": "torch"}, {"kind": "mec"}, {"name": "5g_avg"})
    doc = _calibration(problem, [[1.0, 1.0, 1.0]] * problem.n_blocks)
    with pytest.raises(FieldError, match=r"testbed\.calibration"):
        calibrated_problem(problem, {**doc, "blocks": doc["blocks"][:-1]})
    with pytest.raises(FieldError, match=r"testbed\.calibration\.blocks\[0\]"):
        bad = [dict(b) for b in doc["blocks"]]
        bad[0]["in_kb"] += 1
        calibrated_problem(problem, {**doc, "blocks": bad})


def test_wire_round_trip_keeps_the_payload_aligned():
    x = np.arange(12, dtype="<f4").reshape(3, 4)
    for extra in ("", "a", "ab", "abc"):
        message = encode({"type": "tensor", "pad": extra}, x)
        header, payload = decode(message)
        assert header["pad"] == extra
        assert (len(message) - len(payload)) % 4 == 0
        np.testing.assert_array_equal(tensor(payload, [3, 4]), x)


def test_breakdown_splits_a_request():
    trace = [{"k": "block", "i": 0, "tier": 0, "t0": 0.0, "t1": 5.0},
             {"k": "xfer", "src": 0, "dst": 1, "bytes": 1024, "t_send": 5.0, "hub_in": 6.0, "t_recv": 16.0,
              "shaped_ms": 8.0},
             {"k": "block", "i": 1, "tier": 1, "t0": 16.0, "t1": 18.0},
             {"k": "xfer", "src": 1, "dst": 0, "bytes": 40, "t_send": 18.0, "hub_in": 18.5, "t_recv": 24.0,
              "shaped_ms": 5.0}]
    parts = request_parts(trace, 25.0)
    assert [b["ms"] for b in parts["blocks"]] == [5.0, 2.0]
    assert parts["transfers"][0] == {"src": 0, "dst": 1, "bytes": 1024, "ms": 11.0, "to_hub_ms": 1.0,
                                     "shaped_ms": 8.0, "after_ms": 2.0}
    assert parts["other_ms"] == pytest.approx(25.0 - 7.0 - 11.0 - 6.0)
    med = median_parts([parts, parts])
    assert med["e2e_ms"] == 25.0 and len(med["transfers"]) == 2


@pytest.mark.slow
@pytest.mark.parametrize(("override", "field"), [
    ("testbed.requests=0", "testbed.requests"),
    ("testbed.partitions=[dp,nosuch]", "testbed.partitions[1]"),
    ("testbed.device.cpu_throttling=0.5", "testbed.device.cpu_throttling"),
    ("model.source=paper", "model.source"),
    ("command=serve", "command"),
    ("testbed.calibration=/nonexistent/calibration.json", "testbed.calibration"),
])
def test_bad_configuration_is_one_line(tmp_path, override, field):
    env, _ = marked_env()
    proc = subprocess.run([sys.executable, "-m", "testbed", f"hydra.run.dir={tmp_path}", "model=resnet32", override],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}:"), proc.stderr
    assert not (tmp_path / "testbed.json").exists()


def test_chain_medians_are_per_block_and_tier():
    samples = [[[3.0, 1.0, 2.0], [10.0, 30.0, 20.0]],  # tier 0: block 0, block 1
               [[0.5, 0.5, 9.0], [4.0, 1.0, 1.0]]]  # tier 1
    assert chain_medians(samples) == [[2.0, 0.5], [20.0, 1.0]]


def test_calibration_is_compared_with_the_requests_blocks():
    calibration = [[10.0, 2.0], [20.0, 4.0]]
    part = {"blocks": [{"block": 0, "tier": 0, "ms": 8.0}, {"block": 1, "tier": 1, "ms": 5.0}],
            "transfers": [], "e2e_ms": 20.0, "other_ms": 0.0}
    rows = [{"solver": "mixed", "requests": [part, part], "breakdown": median_parts([part, part])}]
    got = calibration_vs_requests(calibration, rows)
    assert got["blocks"] == [{"block": 0, "tier": 0, "calibrated_ms": 10.0, "in_request_ms": 8.0},
                             {"block": 1, "tier": 1, "calibrated_ms": 4.0, "in_request_ms": 5.0}]
    sums = [(t["tier"], t["calibrated_ms"], t["in_request_ms"]) for t in got["tiers"]]
    assert sums == [(0, 10.0, 8.0), (1, 4.0, 5.0)]
    assert got["tiers"][0]["ratio"] == pytest.approx(1.25)


def test_fragments_carry_the_header_first_and_the_payload_in_order():
    x = np.arange(10_000, dtype="<f4")
    messages = fragments({"type": "tensor", "req": 3}, x, size=16_000)
    assert len(messages) == 3  # 40,000 payload bytes in 16,000-byte fragments
    first, payload = decode(messages[0])
    assert first == {"type": "tensor", "req": 3, "frags": 3} and len(payload) == 16_000
    rest = [decode(m) for m in messages[1:]]
    assert all(h == {"type": "frag"} for h, _ in rest)
    joined = bytes(payload) + b"".join(bytes(p) for _, p in rest)
    np.testing.assert_array_equal(np.frombuffer(joined, dtype="<f4"), x)
    assert len(fragments({"type": "probe"}, b"")) == 1
