"""The torch.fx and ONNX DAG profilers (spec section 12): sizes, inputs, costing rules, errors, the CLI."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from config_compose import composer
from dag_helpers import assert_valid_dag, export, kb, shape_of
from torch import nn

from problems.__main__ import main, parse_overrides
from problems.dag_profile import dag_profile, trace_ops, trace_profile
from problems.errors import FieldError
from problems.instance import load_instance
from problems.layers import predict
from problems.models import ModelConfig, _dag_ops, clear_cache, profile_from_config
from problems.onnx_profile import read_onnx


class Toy(nn.Module):
    """A stem, a residual join, a two-way branch joined by cat, then a head: every rule once."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.left = nn.Conv2d(8, 4, 1)
        self.right = nn.Conv2d(8, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))   # 0 conv, 1 bn, 2 relu (a function)
        y = y + self.bn(y)                  # 3 bn again (a reused module), 4 add (2, 3)
        z = torch.cat([self.left(y), self.right(y)], 1)  # 5 left, 6 right, 7 cat
        z = torch.flatten(self.pool(z), 1)  # 8 pool; flatten folded
        return self.fc(self.drop(z))        # dropout folded; 9 fc


@pytest.fixture(scope="module")
def toy_ops():
    return trace_ops(Toy(), (3, 6, 6))


def test_layer_granularity_blocks_inputs_and_sizes(toy_ops):
    p = dag_profile(toy_ops, "layer", name="toy")
    assert_valid_dag(p)
    assert [b.inputs for b in p.blocks] == [(), (0,), (1,), (2,), (2, 3), (4,), (4,), (5, 6), (7,), (8,)]
    assert [b.out_kb for b in p.blocks] == [kb(8, 6, 6)] * 5 + [kb(4, 6, 6)] * 2 + [kb(8, 6, 6), kb(8), kb(5)]
    assert p.blocks[0].in_kb == kb(3, 6, 6)
    assert p.blocks[4].in_kb == 2 * kb(8, 6, 6)
    assert [b.name for b in p.blocks][:2] == ["conv", "bn"] and p.blocks[2].name == "relu"
    assert [[x.type for x in b.layers] for b in p.blocks] == [
        ["conv"], ["norm"], ["relu"], ["norm"], ["relu"], ["conv"], ["conv"], [], ["pool"], ["fc"]]
    assert p.num_classes == 5 and p.meta["granularity"] == "layer"


def test_add_is_costed_as_relu_over_both_operands_and_cat_costs_nothing(toy_ops):
    p = dag_profile(toy_ops, "layer", name="toy")
    add, cat = p.blocks[4], p.blocks[7]
    assert add.layers[0].in_kb == 2 * kb(8, 6, 6) and add.layers[0].out_kb == kb(8, 6, 6)
    lat, eng = p.reference_costs()
    expected = predict(["relu"], [2 * kb(8, 6, 6)], [kb(8, 6, 6)])
    assert lat[4] == pytest.approx(expected[0][0]) and eng[4] == pytest.approx(expected[1][0])
    assert cat.layers == () and cat.latency_ms == 0.0 and cat.energy_j == 0.0 and lat[7] == 0 == eng[7]


def test_stage_granularity_cuts_only_at_branches_and_joins(toy_ops):
    layer = dag_profile(toy_ops, "layer", name="toy")
    p = dag_profile(toy_ops, "stage", name="toy")
    assert_valid_dag(p)
    # conv bn relu | bn | add | left | right | cat pool fc
    assert [b.inputs for b in p.blocks] == [(), (0,), (0, 1), (2,), (2,), (3, 4)]
    assert [len(b.layers) for b in p.blocks] == [3, 1, 1, 1, 1, 2]
    assert p.blocks[0].name == "conv..relu" and p.blocks[-1].out_kb == kb(5)
    assert p.reference_costs()[0].sum() == pytest.approx(layer.reference_costs()[0].sum())
    assert p.reference_costs()[1].sum() == pytest.approx(layer.reference_costs()[1].sum())


def test_stage_of_a_chain_is_one_block():
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    p = trace_profile(seq, (3, 6, 6), granularity="stage", name="chain")
    assert p.name == "chain" and p.meta == {"source": "torch", "input_shape": [3, 6, 6], "granularity": "stage"}
    with pytest.raises(FieldError, match=r"^granularity: choose one of"):
        trace_profile(seq, (3, 6, 6), granularity="block")
    assert len(p.blocks) == 1 and p.blocks[0].inputs == () and [x.type for x in p.blocks[0].layers] == [
        "conv", "relu", "fc"]


class TwoFromRaw(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 2, 1), nn.Conv2d(3, 2, 1)

    def forward(self, x):
        return self.a(x) * self.b(x)


class RawSkip(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.unused = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        self.unused(x)  # dead: never reaches the output
        return self.conv(x) + x


def test_several_blocks_read_the_raw_input():
    p = dag_profile(trace_ops(TwoFromRaw(), (3, 4, 4)), "layer", name="two")
    assert_valid_dag(p)
    assert [b.inputs for b in p.blocks] == [(), (), (0, 1)]
    assert p.blocks[0].in_kb == p.blocks[1].in_kb == kb(3, 4, 4)


def test_raw_input_read_with_a_block_gets_an_input_block_and_dead_code_is_dropped():
    p = dag_profile(trace_ops(RawSkip(), (3, 4, 4)), "layer", name="skip")
    assert_valid_dag(p)
    assert p.blocks[0].name == "input" and p.blocks[0].latency_ms == 0.0
    assert [b.inputs for b in p.blocks] == [(), (0,), (1, 0)]
    assert p.blocks[0].out_kb == p.blocks[0].in_kb == kb(3, 4, 4)


class Sigmoid(nn.Module):
    def forward(self, x):
        return torch.sigmoid(x) + 1


def test_unknown_function_names_the_node_and_can_be_mapped():
    with pytest.raises(FieldError, match=r"^sigmoid: function sigmoid has no Table 1 type"):
        trace_ops(Sigmoid(), (4,))
    ops = trace_ops(Sigmoid(), (4,), layer_types={"sigmoid": "relu"})
    assert [op.layer.type for op in ops.ops] == ["relu", "relu"]
    with pytest.raises(FieldError, match=r"layer_types\[sigmoid\]"):
        trace_ops(Sigmoid(), (4,), layer_types={"sigmoid": "softmax"})


def test_unknown_module_class_names_its_path_as_the_chain_profiler_does():
    net = nn.Sequential(nn.Conv2d(3, 3, 1), nn.Sequential(nn.Sigmoid()))
    with pytest.raises(FieldError, match=r"^1\.0: layer class Sigmoid has no Table 1 type"):
        trace_ops(net, (3, 4, 4))
    ops = trace_ops(net, (3, 4, 4), layer_types={nn.Sigmoid: "relu"})
    assert [op.layer.type for op in ops.ops] == ["conv", "relu"]


class Branchy(nn.Module):
    def forward(self, x):
        return x.relu() if x.sum() > 0 else x


class TwoOut(nn.Module):
    def forward(self, x):
        return F.relu(x), F.relu(x)


def test_untraceable_and_two_output_models_are_refused():
    with pytest.raises(FieldError, match=r"^model: torch.fx cannot trace Branchy"):
        trace_ops(Branchy(), (4,))
    with pytest.raises(FieldError, match=r"^model: must return exactly one tensor"):
        trace_ops(TwoOut(), (4,))
    with pytest.raises(FieldError, match=r"^model: has no operations"):
        trace_ops(nn.Identity(), (4,))


def test_a_forward_pass_that_fails_names_the_input_shape():
    with pytest.raises(FieldError, match=r"^model.input_shape: the forward pass failed"):
        trace_ops(Toy(), (4, 6, 6))


def test_tracing_keeps_the_modules_training_flags():
    toy = Toy().train()
    trace_ops(toy, (3, 6, 6))
    assert all(m.training for m in toy.modules())


# -- configuration ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("cfg", "field"), [
    ({"name": "resnet18", "granularity": "block"}, "model.granularity"),
    ({"name": "alexnet", "granularity": "layer"}, "model.granularity"),
    ({"name": "resnet18", "path": "x.onnx"}, "model.path"),
    ({"name": "resnet18", "source": "paper"}, "model.source"),
    ({"name": "resnet18", "depth": 18}, "model.depth"),
    ({"source": "onnx"}, "model.path"),
    ({"source": "onnx", "path": "/no/such/model.onnx"}, "model.path"),
    ({"source": "onnx", "path": "."}, "model.path"),
])
def test_bad_model_keys_are_one_line_naming_the_field(cfg, field):
    with pytest.raises(FieldError) as err:
        profile_from_config(ModelConfig(**cfg))
    assert err.value.field == field and "\n" not in str(err.value)


def test_not_an_onnx_file_names_model_path(tmp_path):
    for i, content in enumerate([b"not a model", b"", bytes(range(256)) * 8]):
        path = tmp_path / f"bad{i}.onnx"
        path.write_bytes(content)
        with pytest.raises(FieldError, match=r"^model.path: not "):
            profile_from_config(ModelConfig(source="onnx", path=str(path)))


def test_a_dag_model_is_traced_once_for_both_granularities():
    clear_cache()
    cfg = {"name": "mobilenet_v2", "input_shape": (3, 32, 32)}
    layer = profile_from_config(ModelConfig(**cfg))
    stage = profile_from_config(ModelConfig(**cfg, granularity="stage"))
    assert _dag_ops.cache_info().misses == 1
    assert layer.name == "mobilenet_v2_torch_3x32x32_layer" and stage.name == "mobilenet_v2_torch_3x32x32_stage"
    assert layer.n_blocks > stage.n_blocks and profile_from_config(ModelConfig(**cfg)).blocks == layer.blocks


def test_seed_changes_the_weights_not_the_profile():
    cfg = {"name": "resnet18", "input_shape": (3, 32, 32), "granularity": "stage"}
    assert profile_from_config(ModelConfig(**cfg)).blocks == profile_from_config(ModelConfig(**cfg, seed=3)).blocks


# -- ONNX ------------------------------------------------------------------------------------------
def test_onnx_of_the_toy_equals_its_fx_profile(tmp_path, toy_ops):
    ops = read_onnx(export(Toy(), (3, 6, 6), tmp_path / "toy.onnx"))
    for granularity in ("layer", "stage"):
        fx, onnx = dag_profile(toy_ops, granularity, name="t"), dag_profile(ops, granularity, name="t")
        assert_valid_dag(onnx)
        assert shape_of(onnx) == shape_of(fx)


def test_onnx_symbolic_batch_and_input_shape(tmp_path):
    path = export(Toy(), (3, 6, 6), tmp_path / "toy.onnx", dynamic_batch=True)
    assert read_onnx(path).raw_kb == kb(3, 6, 6)
    bigger = read_onnx(path, (3, 10, 10))
    assert bigger.raw_kb == kb(3, 10, 10) and bigger.ops[0].out_kb == kb(8, 10, 10)
    with pytest.raises(FieldError, match=r"^model.input_shape: the ONNX input has 4 dims"):
        read_onnx(path, (3, 10))


def test_onnx_from_config_is_named_after_the_file_and_cached(tmp_path):
    path = export(Toy(), (3, 6, 6), tmp_path / "my_net.onnx")
    p = profile_from_config(ModelConfig(source="onnx", path=path, granularity="stage"))
    assert p.name == "my_net_onnx_stage" and p.meta["source"] == "onnx" and p.n_blocks == 6


class TwoIn(nn.Module):
    def forward(self, x, y):
        return x + y


def test_onnx_errors_name_model_path(tmp_path):
    path = tmp_path / "two.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(TwoIn(), (torch.randn(1, 4), torch.randn(1, 4)), str(path), dynamo=False)
    with pytest.raises(FieldError, match=r"^model.path: an ONNX model with one input tensor is needed, not 2"):
        read_onnx(path)
    with pytest.raises(FieldError, match=r"^model.path: ONNX node .*operator Sigmoid has no Table 1 type"):
        read_onnx(export(Sigmoid(), (4,), tmp_path / "sig.onnx"))


# -- python -m problems show -----------------------------------------------------------------------
def test_show_draws_each_block_with_its_inputs(capsys):
    assert main(["show", "model=resnet18", "model.granularity=stage", "model.input_shape=[3,32,32]"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "20 blocks, 27 edges (DAG)" in lines[0]
    assert lines[1].split()[:4] == ["#", "block", "inputs", "layers"]
    rows = {line.split()[0]: line.split() for line in lines[3:-2]}
    assert rows["0"][1:3] == ["conv1..maxpool", "input"]
    assert rows["1"][1:3] == ["layer1.0.conv1..bn2", "0"]
    assert rows["2"][1:4] == ["layer1.0.add..relu2", "1,", "0"]
    assert rows["19"][2:4] == ["18,", "17"]


def test_show_writes_runs_of_inputs_as_ranges(capsys):
    assert main(["show", "model=densenet121", "model.granularity=stage", "model.input_shape=[3,32,32]"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[3:-2]}
    assert "  0, 1  " in rows["2"] and "  0-2  " in rows["3"] and "  0-6  " in rows["7"]
    assert rows["1"].split()[1] == "features.4.layers.0.norm1..conv2"
    assert rows["0"].split()[1] == "features.0..features.3"


def test_show_writes_a_dag_instance(tmp_path, capsys):
    out = tmp_path / "g.json"
    args = ["show", "model=googlenet", "model.granularity=stage", "model.input_shape=[3,64,64]", f"out={out}"]
    assert main(args) == 0
    problem = load_instance(out)
    built = profile_from_config(ModelConfig(name="googlenet", granularity="stage", input_shape=(3, 64, 64)))
    assert [b.inputs for b in problem.profile.blocks] == [b.inputs for b in built.blocks]
    assert "46 blocks, 72 edges (DAG)" in capsys.readouterr().out


def test_show_reads_the_scenario_files_as_the_benchmark_composes_them():
    """(the model and network files: tests/test_config_schemas.py, which composes each once)"""
    conf = Path(__file__).resolve().parents[1] / "conf"
    with composer() as compose:
        for group in ("scenario",):
            for path in sorted((conf / group).glob("*.yaml")):
                override = [f"{group}={path.stem}"]
                assert parse_overrides(override)[0][group] == compose(override)[group], path


def test_show_of_a_chain_has_no_inputs_column(capsys):
    assert main(["show", "model=alexnet"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["block", "layers"]
