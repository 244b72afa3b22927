"""Spec section 10: golden values on the paper profiles, relative 1e-6."""

import json

import numpy as np
import pytest

from problems.build import build_problem
from problems.paper import PAPER_MODELS, _raw
from solvers.dp import optimum

GOLDEN = [
    ("alexnet", "mec", "0000000000", 2590.298, 16.1421, 0, 7432.937),
    ("alexnet", "mec", "1111111111", 274.119, 0.1989, 1, 833.775),
    ("alexnet", "mec", "2222222222", 129.836, 0.6887, 1, 836.459),
    ("alexnet", "mec", "0011220120", 2033.469, 9.9591, 0.6, 5321.201),
    ("mobilenet_v1", "d2d", "000000", 2966.658, 158.2068, 0, 50428.707),
    ("mobilenet_v1", "d2d", "111111", 1587.542, 0.6647, 0, 1786.941),
    ("mobilenet_v1", "d2d", "010110", 2494.186, 78.1134, 0, 25928.200),
]


def _rel(printed: float) -> float:
    """The spec prints rounded values: the tolerance is 1e-6 or half the last printed digit."""
    text = f"{printed}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    return max(1e-6, 0.5 * 10**-decimals / abs(printed)) if printed else 0


@pytest.mark.parametrize(("model", "kind", "assignment", "T", "E", "D", "cost"), GOLDEN)
def test_golden_values(model, kind, assignment, T, E, D, cost):
    p = build_problem({"name": model}, {"kind": kind}, {"name": "5g_avg"})
    got = p.score([int(c) for c in assignment])
    for key, want in (("latency_ms", T), ("energy_j", E), ("deploy", D), ("cost", cost)):
        assert got[key] == pytest.approx(want, rel=_rel(want), abs=1e-9), key


def test_golden_optimum():
    p = build_problem({"name": "alexnet"}, {"kind": "mec"}, {"name": "5g_avg"})
    assignment, value = optimum(p.cost_tables)
    assert "".join(map(str, assignment)) == "1122222222"
    assert value == pytest.approx(765.492, abs=5e-4)
    assert p.score(assignment)["cost"] == pytest.approx(value, rel=1e-12)


def test_tier_defaults_are_the_spec_expressions():
    p = build_problem({}, {}, {})
    d = [t.d for t in p.scenario.tiers]
    assert d[0] == pytest.approx(36.8 / (9.6 * 0.38 + 0.065), rel=1e-15)
    assert d[2] == 36.8 / 112
    assert (d[0], d[2]) == pytest.approx((9.91112, 0.328571), rel=2e-6)  # the spec's rounded "about" column
    co_h = build_problem({}, {"kind": "d2d", "collaborator": "co-h"}, {}).scenario.tiers[1].d
    co_l = build_problem({}, {"kind": "d2d", "collaborator": "co-l"}, {}).scenario.tiers[1].d
    assert (co_h, co_l) == pytest.approx((5.21468, 16.3280), rel=1e-5)


def test_network_delays_are_half_the_round_trip():
    sc = build_problem({}, {}, {"name": "5g_worst"}).scenario
    assert (sc.te.delay_ms, sc.ec.delay_ms) == (104.25 / 2, 905.16 / 2)
    assert (sc.te.up_mbps, sc.ec.down_mbps) == (74.4, 466.3)


def test_packaged_profiles_equal_the_shared_copy(shared_dir):
    shared = json.loads((shared_dir / "data" / "paper_profiles.json").read_text())
    assert _raw() == shared
    assert sorted(shared["models"]) == sorted(PAPER_MODELS)


def test_block_counts_of_the_paper_models():
    counts = {m: build_problem({"name": m}, {}, {}).n_blocks for m in PAPER_MODELS}
    assert counts == {"alexnet": 10, "vgg16": 15, "resnet32": 17, "mobilenet_v1": 6}
    assert np.isfinite(build_problem({"name": "vgg16"}, {}, {}).score([0] * 15)["cost"])
