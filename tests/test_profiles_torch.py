"""Profiles from torch modules: hand-computed sizes, the paper's block groupings, the profiler's rules."""

import itertools
import json

import pytest
import torch
from torch import nn

from problems.build import build_problem
from problems.errors import FieldError
from problems.instance import problem_from_dict, problem_to_dict
from problems.models import ModelConfig, profile_from_config
from problems.paper import paper_profile
from problems.torch_profile import profile_module
from problems.zoo.resnet import BasicBlock

KB = 1024


def kb(*shape: int) -> float:
    """Size in KB of a float32 tensor of this shape (batch 1)."""
    n = 1
    for s in shape:
        n *= s
    return n * 4 / KB


@pytest.fixture(scope="module")
def zoo():
    return {name: profile_from_config(ModelConfig(name=name, source="torch"))
            for name in ("alexnet", "vgg16", "resnet32", "mobilenet_v1")}


def assert_chains(profile):
    for a, b in itertools.pairwise(profile.blocks):
        assert a.out_kb == b.in_kb, (a.name, b.name)


def assert_round_trip(problem):
    doc = json.loads(json.dumps(problem_to_dict(problem)))
    again = problem_from_dict(doc)
    assert again.profile.blocks == problem.profile.blocks
    assert again.score(problem.fixed(0)) == pytest.approx(problem.score(problem.fixed(0)))
    assert again.score(problem.fixed(1)) == pytest.approx(problem.score(problem.fixed(1)))


def test_block_counts(zoo):
    assert {k: p.n_blocks for k, p in zoo.items()} == {"alexnet": 10, "vgg16": 15, "resnet32": 17, "mobilenet_v1": 6}


def test_alexnet_sizes(zoo):
    b = zoo["alexnet"].blocks
    assert b[0].in_kb == kb(3, 224, 224) == 588.0
    assert b[0].layers[0].type == "conv" and b[0].layers[0].out_kb == kb(96, 55, 55) == 1134.375
    assert b[0].out_kb == kb(96, 55, 55)
    assert b[1].out_kb == kb(96, 27, 27)  # max pool 3/2
    assert b[7].out_kb == kb(256, 6, 6)
    assert b[8].out_kb == kb(4096)
    assert b[-1].in_kb == kb(4096) and b[-1].out_kb == 1000 * 4 / KB


def test_vgg16_sizes(zoo):
    b = zoo["vgg16"].blocks
    assert b[0].in_kb == 588.0 and b[0].out_kb == kb(64, 224, 224) == 12544.0
    assert b[1].out_kb == kb(64, 112, 112)
    assert b[12].out_kb == kb(512, 7, 7) == 98.0
    assert b[13].layers[0].in_kb == kb(512, 7, 7) and b[13].out_kb == kb(4096)
    assert b[-1].in_kb == kb(4096) and b[-1].out_kb == 1000 * 4 / KB


def test_resnet32_sizes(zoo):
    b = zoo["resnet32"].blocks
    assert b[0].in_kb == kb(3, 32, 32) == 12.0 and b[0].out_kb == kb(16, 32, 32) == 64.0
    assert b[1].in_kb == 64.0 and b[1].out_kb == kb(16, 32, 32)
    assert b[6].out_kb == kb(32, 16, 16)  # first block of stage 2 halves the map
    assert b[-2].out_kb == kb(64, 8, 8) == 16.0
    assert b[-1].in_kb == 16.0 and b[-1].out_kb == 10 * 4 / KB


def test_mobilenet_sizes(zoo):
    b = zoo["mobilenet_v1"].blocks
    assert [x.out_kb for x in b[:-1]] == [kb(64, 112, 112), kb(128, 56, 56), kb(256, 28, 28), kb(512, 14, 14),
                                          kb(512, 14, 14)]
    assert b[-1].out_kb == 1000 * 4 / KB


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet32", "mobilenet_v1"])
def test_weighted_layers_per_block_match_the_paper(zoo, name):
    """Same grouping as the measured profile: the conv and fc layers of every block."""

    def weighted(profile):
        return [tuple(x.type for x in b.layers if x.type in ("conv", "fc")) for b in profile.blocks]

    assert weighted(zoo[name]) == weighted(paper_profile(name))


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet32", "mobilenet_v1"])
def test_zoo_profiles_chain_and_validate(zoo, name):
    profile = zoo[name]
    assert_chains(profile)
    assert profile.num_classes == (10 if name == "resnet32" else 1000)
    for scenario in ({"kind": "mec"}, {"kind": "d2d"}):
        problem = build_problem({"name": name, "source": "torch"}, scenario, {})
        assert name in problem.name
        assert_round_trip(problem)


def test_paper_stays_the_default():
    assert build_problem({"name": "vgg16"}, {}, {}).profile.blocks == paper_profile("vgg16").blocks


def test_input_shape_and_classes_are_configurable():
    p = profile_from_config(ModelConfig(name="alexnet", source="torch", input_shape=(3, 227, 227), num_classes=10))
    assert p.blocks[0].in_kb == kb(3, 227, 227) and p.blocks[0].out_kb == kb(96, 56, 56)
    assert p.blocks[-1].out_kb == 10 * 4 / KB and p.num_classes == 10
    assert "alexnet" in p.name and p.name != "alexnet_torch"
    r = profile_from_config(ModelConfig(name="resnet32", source="torch", input_shape=(1, 28, 28), num_classes=100))
    assert r.blocks[0].in_kb == kb(1, 28, 28) and r.blocks[-1].out_kb == 100 * 4 / KB


@pytest.mark.parametrize("shape", [(3, 16, 16), (3, 224), (0, 224, 224)])
def test_bad_input_shape_names_the_field(shape):
    with pytest.raises(FieldError) as err:
        build_problem({"name": "alexnet", "source": "torch", "input_shape": list(shape)}, {}, {})
    assert err.value.field == "model.input_shape" and "\n" not in str(err.value)


def test_torch_only_fields_refused_for_paper_profiles():
    with pytest.raises(FieldError, match=r"model\.num_classes"):
        build_problem({"name": "alexnet", "num_classes": 10}, {}, {})


# -- the profiler's rules -----------------------------------------------------------------
def test_unknown_layer_is_refused_by_path_and_class():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU()), nn.Sequential(nn.Flatten(), nn.LazyLinear(2)))
    with pytest.raises(FieldError) as err:
        profile_module(model, (3, 8, 8))
    assert err.value.field == "0.1" and "GELU" in str(err.value) and "\n" not in str(err.value)


def test_unknown_layer_path_inside_a_blocks_attribute():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.SiLU()))

    with pytest.raises(FieldError) as err:
        profile_module(Net(), (3, 8, 8))
    assert err.value.field == "blocks.1.0" and "SiLU" in str(err.value)


@pytest.mark.parametrize("key", [nn.GELU, "GELU"])
def test_explicit_mapping_accepts_a_layer(key):
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU()), nn.Sequential(nn.Flatten(), nn.Linear(144, 2)))
    p = profile_module(model, (3, 8, 8), layer_types={key: "relu"})
    assert [x.type for x in p.blocks[0].layers] == ["conv", "relu"]
    assert [x.type for x in p.blocks[1].layers] == ["fc"]
    assert p.blocks[1].out_kb == 2 * 4 / KB and p.num_classes == 2


def test_mapping_to_none_costs_nothing_and_bad_mapping_is_refused():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU()))
    assert [x.type for x in profile_module(model, (3, 8, 8), layer_types={nn.GELU: None}).blocks[0].layers] == ["conv"]
    with pytest.raises(FieldError, match=r"layer_types\[GELU\]"):
        profile_module(model, (3, 8, 8), layer_types={nn.GELU: "attention"})


def test_shape_only_modules_cost_nothing():
    model = nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Dropout(0.5), nn.Identity()),
        nn.Sequential(nn.Flatten()),  # no costed layer at all
        nn.Sequential(nn.Dropout(), nn.Linear(8 * 4 * 4, 10)),
    )
    p = profile_module(model, (3, 4, 4))
    assert [[x.type for x in b.layers] for b in p.blocks] == [["conv"], [], ["fc"]]
    assert p.blocks[1].latency_ms == 0.0 and p.blocks[1].energy_j == 0.0
    assert p.blocks[1].in_kb == p.blocks[1].out_kb == kb(8, 4, 4)
    assert_chains(p)
    lat, eng = p.reference_costs()
    assert lat[1] == 0.0 and eng[1] == 0.0


def test_residual_addition_lives_inside_the_block_and_costs_nothing():
    block = BasicBlock(16, 32, 2)
    p = profile_module(nn.Sequential(block), (16, 8, 8))
    assert [x.type for x in p.blocks[0].layers] == ["conv", "norm", "relu", "conv", "norm", "relu"]
    assert p.blocks[0].in_kb == kb(16, 8, 8) and p.blocks[0].out_kb == kb(32, 4, 4)


def test_grouped_and_depthwise_convs_are_conv():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(8, 8, 3, groups=8), nn.Conv2d(8, 16, 1, groups=2), nn.ReLU6()))
    assert [x.type for x in profile_module(model, (8, 6, 6)).blocks[0].layers] == ["conv", "conv", "relu"]


def test_a_reused_module_is_recorded_per_call():
    relu = nn.ReLU()
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 1), relu, nn.Conv2d(4, 4, 1), relu))
    assert [x.type for x in profile_module(model, (3, 2, 2)).blocks[0].layers] == ["conv", "relu", "conv", "relu"]


def test_model_without_blocks_is_refused():
    class Net(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(FieldError, match=r"model\.blocks"):
        profile_module(Net(), (3, 4, 4))


def test_training_mode_and_threads_are_restored():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.Dropout()))
    model.train()
    threads = torch.get_num_threads()
    profile_module(model, (3, 2, 2), num_threads=1)
    assert all(m.training for m in model.modules())
    assert torch.get_num_threads() == threads
