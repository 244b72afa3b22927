"""Portable instance files: round trip and validation naming the field."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from problem_factory import mutated, random_problem

from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import dumps_instance, load_instance, problem_from_dict, problem_to_dict, save_instance

CONFIGS = [
    ({"name": "alexnet"}, {"kind": "mec"}, {"name": "5g_avg"}),
    ({"name": "vgg16"}, {"kind": "mec", "early_exit": {"enabled": False}}, {"name": "5g_worst"}),
    ({"name": "mobilenet_v1"}, {"kind": "d2d", "collaborator": "co-l"}, {"name": "5g_best"}),
    ({"name": "resnet32"}, {"kind": "d2d", "collaborators": [{"name": "co-l"}, {"name": "co-h", "mbps": 3.0}]}, {}),
]


def _same(p, q):
    assert q.name == p.name
    assert q.profile.blocks == p.profile.blocks
    assert q.scenario == p.scenario
    X = np.random.default_rng(0).integers(0, p.n_tiers, (64, p.n_blocks))
    np.testing.assert_array_equal(p.evaluate(X).cost, q.evaluate(X).cost)


@pytest.mark.parametrize("cfg", CONFIGS)
def test_config_built_problem_round_trips(cfg, tmp_path):
    p = build_problem(*cfg)
    path = save_instance(p, tmp_path / "x.json")
    _same(p, load_instance(path))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 9))
def test_random_problems_round_trip(seed, n):
    p = random_problem(seed, n)
    _same(p, problem_from_dict(json.loads(dumps_instance(p))))


def test_spec_example_loads():
    doc = {"format": "partition-instance/1", "name": "alexnet-mec-5g_avg",
           "blocks": [{"name": "b1", "in_kb": 37.151, "out_kb": 327.255, "latency_ms": 9.088, "energy_j": None,
                       "exit_prob": 0.0, "layers": [{"type": "conv", "in_kb": 37.151, "out_kb": 265.72}]}],
           "scenario": {"kind": "mec",
                        "tiers": [{"name": "device", "d": 9.911123, "e": 1.0}, {"name": "edge", "d": 1.0},
                                  {"name": "cloud", "d": 0.328571}],
                        "links": {"te": {"up_mbps": 76.1, "down_mbps": 382.4, "delay_ms": 4.38},
                                  "ec": {"up_mbps": 73.3, "down_mbps": 542.3, "delay_ms": 13.52}},
                        "power": {"alpha_up_mw_per_mbps": 65.0, "alpha_down_mw_per_mbps": 6.5, "beta_mw": 11475.97},
                        "deploy_weights": [0, 1, 1], "weights": {"energy": 300.0, "deploy": 500.0},
                        "early_exit": {"enabled": False, "num_classes": 10}}}
    p = problem_from_dict(doc)
    assert p.n_blocks == 1 and p.n_tiers == 3
    assert p.score([0])["latency_ms"] == pytest.approx(9.911123 * 9.088)


BASE = problem_to_dict(build_problem({"name": "alexnet"}, {}, {}))
BASE_D2D = problem_to_dict(build_problem({"name": "alexnet"}, {"kind": "d2d"}, {}))


BAD = [
    (BASE, ("format",), "partition-instance/3", "format"),
    (BASE, ("blocks",), [], "blocks"),
    (BASE, ("blocks", 0, "in_kb"), -1.0, "blocks[0].in_kb"),
    (BASE, ("blocks", 2, "out_kb"), float("nan"), "blocks[2].out_kb"),
    (BASE, ("blocks", 1, "exit_prob"), 1.5, "blocks[1].exit_prob"),
    (BASE, ("blocks", 1, "exit_prob"), -0.1, "blocks[1].exit_prob"),
    (BASE, ("blocks", 0, "colour"), "red", "blocks[0].colour"),
    (BASE, ("blocks", 0, "in_kb"), KeyError, "blocks[0].in_kb"),
    (BASE, ("blocks", 3, "layers", 0, "type"), "lstm", "blocks[3].layers[0].type"),
    (BASE, ("scenario", "links", "te", "up_mbps"), 0, "scenario.links.te.up_mbps"),
    (BASE, ("scenario", "links", "ec", "delay_ms"), float("inf"), "scenario.links.ec.delay_ms"),
    (BASE, ("scenario", "links", "ec"), KeyError, "scenario.links.ec"),
    (BASE, ("scenario", "tiers"), BASE["scenario"]["tiers"][:2], "scenario.tiers"),
    (BASE, ("scenario", "tiers", 1, "d"), 0, "scenario.tiers[1].d"),
    (BASE, ("scenario", "tiers", 0, "e"), -1, "scenario.tiers[0].e"),
    (BASE, ("scenario", "weights", "energy"), "high", "scenario.weights.energy"),
    (BASE, ("scenario", "deploy_weights"), [0, 1], "scenario.deploy_weights"),
    (BASE, ("scenario", "kind"), "p2p", "scenario.kind"),
    (BASE, ("scenario", "link"), {"mbps": 1, "delay_ms": 1}, "scenario.link"),
    (BASE_D2D, ("scenario", "links"), {}, "scenario.links"),
    (BASE_D2D, ("scenario", "tiers"), BASE["scenario"]["tiers"], "scenario.tiers"),
    (BASE_D2D, ("scenario", "link", "mbps"), 0.0, "scenario.link.mbps"),
    (BASE_D2D, ("scenario", "weights", "deploy"), 1.0, "scenario.weights.deploy"),
    (BASE_D2D, ("scenario", "early_exit", "num_classes"), 0, "scenario.early_exit.num_classes"),
    (BASE_D2D, ("scenario", "collaborators"), [], "scenario.collaborators"),
]


@pytest.mark.parametrize(("doc", "path", "value", "field"), BAD)
def test_invalid_instances_name_the_field(doc, path, value, field):
    with pytest.raises(FieldError) as err:
        problem_from_dict(mutated(doc, path, value))
    assert err.value.field == field
    assert "\n" not in str(err.value)


def test_missing_truncated_and_malformed_files(tmp_path):
    with pytest.raises(FieldError, match="file not found"):
        load_instance(tmp_path / "absent.json")
    text = dumps_instance(build_problem({}, {}, {}))
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    with pytest.raises(FieldError, match="not valid JSON"):
        load_instance(tmp_path / "cut.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(FieldError, match="JSON object"):
        load_instance(tmp_path / "list.json")


def test_saved_numbers_keep_full_precision(tmp_path):
    p = build_problem({}, {}, {})
    doc = json.loads(dumps_instance(p))
    assert doc["scenario"]["tiers"][0]["d"] == 36.8 / (9.6 * 0.38 + 0.065)
    assert doc["scenario"]["links"]["te"]["delay_ms"] == 8.76 / 2
