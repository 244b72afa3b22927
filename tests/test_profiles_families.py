"""Depth families: CIFAR ResNet-(6k+2) and seeded synthetic chains; the model config group."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import problem_from_dict, problem_to_dict
from problems.models import ModelConfig, profile_from_config
from problems.torch_profile import profile_module
from problems.zoo.synthetic import SyntheticNet, synthetic_blocks, synthetic_plan
from solvers.dp import optimum

CONF = Path(__file__).resolve().parents[1] / "conf"


def synthetic(depth: int, seed: int, shape=(3, 224, 224), classes=1000):
    """A fresh (uncached) profile of a synthetic chain."""
    plan = synthetic_plan(depth, seed, shape, classes)
    return profile_module(None, shape, blocks=synthetic_blocks(plan), name="s")


def assert_valid(problem):
    blocks = problem.profile.blocks
    for a, b in itertools.pairwise(blocks):
        assert a.out_kb == b.in_kb
    again = problem_from_dict(json.loads(json.dumps(problem_to_dict(problem))))
    assert again.profile.blocks == blocks
    x = np.random.default_rng(0).integers(0, problem.n_tiers, (8, problem.n_blocks))
    assert np.allclose(again.evaluate(x).cost, problem.evaluate(x).cost)


# -- ResNet-(6k+2) --------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [20, 32, 44, 56, 110])
def test_resnet_depths(depth):
    problem = build_problem({"name": "resnet", "depth": depth}, {}, {})
    k = (depth - 2) // 6
    assert problem.n_blocks == 3 * k + 2
    assert f"resnet{depth}" in problem.name
    blocks = problem.profile.blocks
    assert blocks[0].in_kb == 12.0 and blocks[-1].out_kb == 10 * 4 / 1024
    assert [b.out_kb for b in blocks[1:-1]] == [64.0] * k + [32.0] * k + [16.0] * k
    assert_valid(problem)


def test_resnet32_family_equals_the_zoo_model():
    family = build_problem({"name": "resnet", "depth": 32}, {}, {})
    zoo = build_problem({"name": "resnet32", "source": "torch"}, {}, {})
    assert family.profile.blocks == zoo.profile.blocks and family.name == zoo.name


@pytest.mark.parametrize("depth", [33, 2, 0, -4, 21])
def test_bad_resnet_depth_names_the_field_and_value(depth):
    with pytest.raises(FieldError) as err:
        build_problem({"name": "resnet", "depth": depth}, {}, {})
    assert err.value.field == "model.depth" and f"(got {depth})" in str(err.value)
    assert "\n" not in str(err.value)


# -- synthetic -------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [1, 2, 3, 7, 64, 300])
def test_synthetic_has_exactly_depth_blocks_and_validates(depth):
    problem = build_problem({"name": "synthetic", "depth": depth, "seed": 5}, {}, {})
    assert problem.n_blocks == depth
    assert "synthetic" in problem.name
    assert problem.profile.blocks[0].in_kb == 588.0
    assert problem.profile.blocks[-1].out_kb == 1000 * 4 / 1024
    assert_valid(problem)


def test_synthetic_is_deterministic_per_seed():
    a, b, c = synthetic(120, 7), synthetic(120, 7), synthetic(120, 8)
    assert a == b
    assert a.blocks != c.blocks


@pytest.mark.parametrize("seed", range(8))
def test_synthetic_feature_maps_shrink(seed):
    p = synthetic(200, seed)
    out = np.array([b.out_kb for b in p.blocks[:-1]])
    assert np.all(np.diff(out) <= 0) or np.mean(out[:40]) > np.mean(out[-40:])
    assert out.max() <= 4 * out[0] and out[-1] < out[0] / 4  # like an ImageNet CNN: a few MB down to ~100 KB
    assert {x.type for b in p.blocks for x in b.layers} >= {"conv", "fc"}


def test_synthetic_streamed_equals_the_materialized_module():
    net = SyntheticNet(40, seed=3)
    assert len(net.blocks) == 40
    streamed = synthetic(40, 3)
    assert profile_module(net, (3, 224, 224), name="s").blocks == streamed.blocks


def test_synthetic_small_inputs_and_classes():
    p = synthetic(30, 1, shape=(1, 8, 8), classes=3)
    assert p.n_blocks == 30 and p.blocks[0].in_kb == 64 * 4 / 1024 and p.blocks[-1].out_kb == 3 * 4 / 1024


@pytest.mark.parametrize("depth", [0, -1])
def test_bad_synthetic_depth_names_the_field(depth):
    with pytest.raises(FieldError) as err:
        build_problem({"name": "synthetic", "depth": depth}, {}, {})
    assert err.value.field == "model.depth" and f"(got {depth})" in str(err.value)


def test_depth_refused_for_fixed_models_and_paper_source_for_families():
    with pytest.raises(FieldError, match=r"model\.depth"):
        build_problem({"name": "alexnet", "depth": 8}, {}, {})
    with pytest.raises(FieldError, match=r"model\.source"):
        build_problem({"name": "synthetic", "source": "paper"}, {}, {})
    with pytest.raises(FieldError, match=r"model\.name"):
        build_problem({"name": "vgg19"}, {}, {})


def test_dp_on_a_synthetic_chain_matches_evaluate():
    problem = build_problem({"name": "synthetic", "depth": 500, "seed": 2}, {}, {"name": "sampled", "seed": 1})
    assignment, value = optimum(problem.cost_tables)
    assert problem.score(assignment)["cost"] == pytest.approx(value)


def test_cached_profiles_cannot_be_changed_through_meta():
    cfg = ModelConfig(name="synthetic", depth=10, seed=1)
    first = profile_from_config(cfg)
    first.meta["x"] = 1
    assert "x" not in profile_from_config(cfg).meta


# -- config group files (their composition: tests/test_config_schemas.py) -------------------
def test_model_yaml_files_cover_every_model():
    assert {p.stem for p in (CONF / "model").glob("*.yaml")} >= {"alexnet", "vgg16", "resnet32", "mobilenet_v1",
                                                                 "resnet", "synthetic"}
