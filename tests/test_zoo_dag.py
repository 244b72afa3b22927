"""The zoo's DAG models: published parameter counts, valid DAG profiles at both granularities, fx = ONNX."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections import Counter

import pytest
from config_compose import composer
from dag_helpers import assert_valid_dag, export, kb, shape_of

from problems.build import build_problem
from problems.dag_profile import dag_profile
from problems.instance import load_instance
from problems.models import DAG_MODELS, ModelConfig, _dag_module, profile_from_config
from problems.onnx_profile import read_onnx

#: the published parameter counts (torchvision's reference implementations)
PARAMETERS = {"resnet18": 11_689_512, "resnet50": 25_557_032, "googlenet": 6_624_904, "densenet121": 7_978_856,
              "mobilenet_v2": 3_504_872}
#: conv layers of each network (its stem, every unit, projection shortcuts, transitions)
CONVS = {"resnet18": 1 + 8 * 2 + 3, "resnet50": 1 + 16 * 3 + 4, "googlenet": 3 + 9 * 6, "densenet121": 1 + 58 * 2 + 3,
         "mobilenet_v2": 1 + 2 + 16 * 3 + 1}
#: (layer blocks, stage blocks) at 3x224x224
BLOCKS = {"resnet18": (68, 20), "resnet50": (174, 37), "googlenet": (195, 46), "densenet121": (426, 63),
          "mobilenet_v2": (151, 21)}


@pytest.fixture(scope="module")
def zoo():
    return {(name, g): profile_from_config(ModelConfig(name=name, granularity=g))
            for name in DAG_MODELS for g in ("layer", "stage")}


@pytest.mark.parametrize("name", DAG_MODELS)
def test_parameter_counts_are_the_published_ones(name):
    module = _dag_module(name, 0, (3, 224, 224), 1000)
    assert sum(p.numel() for p in module.parameters()) == PARAMETERS[name]


def test_weights_are_seeded():
    a, b, c = (_dag_module("mobilenet_v2", s, (3, 224, 224), 1000) for s in (0, 0, 1))
    wa, wb, wc = (next(m.parameters()) for m in (a, b, c))
    assert (wa == wb).all() and not (wa == wc).all() and wa.std() > 0


@pytest.mark.parametrize("name", DAG_MODELS)
def test_layer_profile_is_a_valid_dag_with_every_layer(zoo, name):
    p = zoo[name, "layer"]
    assert_valid_dag(p)
    assert p.n_blocks == BLOCKS[name][0]
    types = Counter(x.type for b in p.blocks for x in b.layers)
    assert types["conv"] == CONVS[name] and types["fc"] == 1
    assert all(len(b.layers) <= 1 for b in p.blocks)
    assert p.blocks[0].inputs == () and p.blocks[0].in_kb == kb(3, 224, 224)
    assert p.blocks[-1].out_kb == kb(1000) and p.num_classes == 1000
    assert any(len(b.inputs) > 1 for b in p.blocks), "a join"


@pytest.mark.parametrize("name", DAG_MODELS)
def test_stage_profile_cuts_only_where_the_graph_branches_or_joins(zoo, name):
    p, layer = zoo[name, "stage"], zoo[name, "layer"]
    assert_valid_dag(p)
    assert p.n_blocks == BLOCKS[name][1]
    readers = Counter(u for b in p.blocks for u in b.inputs)
    for v, b in enumerate(p.blocks[1:], 1):
        assert len(b.inputs) != 1 or readers[b.inputs[0]] > 1, (v, b.name)  # else it would have been merged
    assert [x for b in p.blocks for x in b.layers] == [x for b in layer.blocks for x in b.layers]
    assert p.reference_costs()[0].sum() == pytest.approx(layer.reference_costs()[0].sum())


def test_known_sizes(zoo):
    r50 = zoo["resnet50", "stage"].blocks
    assert r50[0].out_kb == kb(64, 56, 56) and r50[0].name == "conv1..maxpool"
    assert r50[1].inputs == r50[2].inputs == (0,)  # bottleneck branch and projection shortcut
    assert r50[3].inputs == (1, 2) and r50[3].in_kb == 2 * kb(256, 56, 56)
    googlenet = zoo["googlenet", "stage"].blocks
    join = next(b for b in googlenet if len(b.inputs) == 4)  # inception3a's concatenation
    assert join.in_kb == kb(256, 28, 28) and join.layers == ()
    dense = zoo["densenet121", "layer"].blocks
    assert max(len(b.inputs) for b in dense) == 1 + 24  # a cat of the 3rd block's input and its 24 layers


def test_model_groups_select_the_dag_models():
    with composer() as compose:
        for name in DAG_MODELS:
            assert compose([f"model={name}"])["model"] == {**dataclasses.asdict(ModelConfig()), "name": name}
        cfg = compose(["model=googlenet", "model.granularity=stage", "model.input_shape=[3,64,64]"])["model"]
        onnx = compose(["model.source=onnx", "model.path=net.onnx"])["model"]
    assert onnx["source"] == "onnx" and onnx["path"] == "net.onnx"
    problem = build_problem(cfg, {}, {})
    assert problem.profile.is_dag and problem.name.startswith("googlenet_torch_3x64x64_stage")


# -- fx and ONNX agree ------------------------------------------------------------------------------
#: torch's ONNX export takes seconds per model: `make check` exports resnet18, CI all three
@pytest.mark.parametrize("name", ["resnet18", *(pytest.param(m, marks=pytest.mark.slow)
                                                for m in ("googlenet", "mobilenet_v2"))])
def test_onnx_export_of_a_zoo_model_has_the_fx_profile(tmp_path, name):
    shape = (3, 64, 64)
    module = _dag_module(name, 0, shape, 1000)
    fx = profile_from_config(ModelConfig(name=name, input_shape=shape))
    ops = read_onnx(export(module, shape, tmp_path / f"{name}.onnx"))
    for granularity in ("layer", "stage"):
        onnx = dag_profile(ops, granularity, name=name)
        assert_valid_dag(onnx)
        ref = fx if granularity == "layer" else profile_from_config(ModelConfig(name=name, input_shape=shape,
                                                                                granularity="stage"))
        assert shape_of(onnx) == shape_of(ref)


def test_eval_export_folds_batch_norms_yet_stage_sizes_agree(tmp_path):
    shape = (3, 64, 64)
    fx = profile_from_config(ModelConfig(name="resnet18", input_shape=shape, granularity="stage"))
    path = export(_dag_module("resnet18", 0, shape, 1000), shape, tmp_path / "r18.onnx", preserve=False)
    onnx = profile_from_config(ModelConfig(source="onnx", path=path, granularity="stage"))
    assert [(b.inputs, b.in_kb, b.out_kb) for b in onnx.blocks] == [(b.inputs, b.in_kb, b.out_kb) for b in fx.blocks]
    assert not any(x.type == "norm" for b in onnx.blocks for x in b.layers)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet50", "densenet121"])
def test_onnx_export_of_the_larger_zoo_models_has_the_fx_profile(tmp_path, name):
    shape = (3, 64, 64)
    ops = read_onnx(export(_dag_module(name, 0, shape, 1000), shape, tmp_path / f"{name}.onnx"))
    for granularity in ("layer", "stage"):
        fx = profile_from_config(ModelConfig(name=name, input_shape=shape, granularity=granularity))
        assert shape_of(dag_profile(ops, granularity, name=name)) == shape_of(fx)


# -- end to end ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_benchmark_cli_runs_a_zoo_dag_and_writes_its_instance(tmp_path):
    out = tmp_path / "run"
    args = ["model=resnet18", "model.granularity=stage", "solver=genetic", f"hydra.run.dir={out}"]
    proc = subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "resnet18_torch_stage-mec-5g_avg" in proc.stdout
    row = json.loads((out / "result.json").read_text())
    assert row["status"] == "ok" and row["n_blocks"] == 20
    doc = json.loads((out / "instance.json").read_text())
    assert doc["format"] == "partition-instance/2" and doc["blocks"][2]["inputs"] == [1, 0]
    problem = load_instance(out / "instance.json")
    assert problem.profile.is_dag and problem.score(row["assignment"])["cost"] == pytest.approx(row["cost"])
    built = build_problem({"name": "resnet18", "granularity": "stage"}, {}, {})
    assert problem.score(row["assignment"])["cost"] == pytest.approx(built.score(row["assignment"])["cost"])
