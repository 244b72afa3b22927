"""DAG profiles (spec section 12) from real torch modules: a torch.fx trace plus one forward pass.

`trace_profile(module, input_shape, granularity=...)` does it all in two steps.
`trace_ops` traces a module with `torch.fx` and runs it once on a seeded float32 sample
(batch 1) with `ShapeProp`, so every operation has the real size of its output. The
result is an `OpGraph`: one op per leaf module call or tensor function call, each with
the ops it reads. `dag_profile` turns it into a `Profile` whose blocks carry explicit
`inputs` (a DAG instance, also where the graph happens to be a chain):

- `granularity="layer"`: every op is a block;
- `granularity="stage"`: straight-line runs are merged (an op with one reader that
  is its only input's one reader joins it), so block boundaries sit only where the
  graph branches or joins.

Sizes are KB (1024 bytes) of the real tensors. A block reading the raw input has
`inputs = ()` and `in_kb` = the raw input's size; any other block's `in_kb` is the
sum of its inputs' `out_kb`, and every block but the last is read by a later one.

Costs are Table 1 predictions of each op, typed as the chain profiler types layers:
a module's type comes from `problems.torch_profile.layer_type` (its class table and
`layer_types` overrides); a function or method call is typed as the module class it
computes (`F.relu` as `nn.ReLU`, `torch.flatten` as `nn.Flatten`, ...). A layer's
input size is the sum of its tensor arguments, as in the chain profiler. Two rules
the chain profiler does not need (it only sees modules):

- **Element-wise arithmetic** (`+`, `torch.add`, `*`, ...: the residual joins) is
  costed as a `relu` layer with x = the bytes of all its operands. Table 1 has no row
  for it; ReLU is its one element-wise, memory-bound layer (no output term), and an
  addition is one such pass over its operands. Costing it at zero would make a join
  free to place anywhere, which no runtime is.
- **Data movement** (`torch.cat`, flatten, reshape, view, dropout and identity at
  inference, indexing) costs nothing, as between layers in Table 1. `cat` stays an op
  of its own (a join: its output is its inputs' sizes summed). A costless op that
  reads one tensor and outputs exactly as many bytes (flatten, reshape, dropout,
  identity) is folded into its producer: it moves nothing, and a block of its own
  would only add a cut point identical to its producer's. A block without costed
  layers states its zero cost, as in the chain profiler.

Where an op reads the raw input together with other ops (the spec's raw-input blocks
read nothing else), a zero-cost `input` block reading the raw input comes first and
stands for it. Ops whose result never reaches the output are dropped. The model must
take one tensor and return one tensor.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from problems.errors import FieldError
from problems.layers import KB
from problems.profile import Block, Layer, Profile

GRANULARITIES = ("layer", "stage")
RAW = -1  # an op input that is the model's raw input
#: Table 1 type of element-wise arithmetic (module docstring)
ELEMENTWISE = "relu"


@dataclass(frozen=True)
class Op:
    """One traced operation: the ops it reads (RAW: the raw input), its output size, its layer."""

    name: str
    inputs: tuple[int, ...]
    out_kb: float
    layer: Layer | None  # None: costs nothing


@dataclass(frozen=True)
class OpGraph:
    """A model's ops in topological order; the last one's output is the result."""

    raw_kb: float
    ops: tuple[Op, ...]
    output_shape: tuple[int, ...]


class OpGraphBuilder:
    """Collects ops in execution order; folds size-preserving free ops; drops dead ones."""

    def __init__(self, raw_kb: float):
        self.raw_kb = raw_kb
        self.ops: list[Op] = []

    def size(self, ref: int) -> float:
        return self.raw_kb if ref == RAW else self.ops[ref].out_kb

    def add(self, name: str, reads: Sequence[int], out_kb: float, kind: str | None) -> int:
        """A new op (or, for a folded op, its input) as a reference for later reads.

        `reads`: every tensor argument's reference, repeats included (an `x + x` reads
        x twice: its layer's input size is the sum over `reads`); `kind`: Table 1 type or None.
        """
        inputs = tuple(dict.fromkeys(reads))
        if kind is None and len(inputs) == 1 and out_kb == self.size(inputs[0]):
            return inputs[0]
        layer = None if kind is None else Layer(kind, sum(self.size(r) for r in reads), out_kb)
        self.ops.append(Op(name, inputs, out_kb, layer))
        return len(self.ops) - 1

    def finish(self, result: int, output_shape: Sequence[int], field: str) -> OpGraph:
        """The graph of the ops that reach `result`, renumbered, with an `input` op if needed."""
        if result == RAW:
            raise FieldError(field, "has no operations: its output is its input", None)
        live = {result}
        for i in range(result, -1, -1):
            if i in live:
                live.update(r for r in self.ops[i].inputs if r != RAW)
        order = sorted(live)
        mixed = any(RAW in self.ops[i].inputs and len(self.ops[i].inputs) > 1 for i in order)
        ops: list[Op] = [Op("input", (RAW,), self.raw_kb, None)] if mixed else []
        index = {RAW: 0} if mixed else {RAW: RAW}
        for i in order:
            op = self.ops[i]
            index[i] = len(ops)
            ops.append(Op(op.name, tuple(dict.fromkeys(index[r] for r in op.inputs)), op.out_kb, op.layer))
        return OpGraph(self.raw_kb, tuple(ops), tuple(output_shape))


def _merge_stages(graph: OpGraph) -> list[list[int]]:
    """Ops grouped into maximal straight-line runs, each group in order, groups by first op."""
    readers = [0] * len(graph.ops)
    for op in graph.ops:
        for r in op.inputs:
            if r != RAW:
                readers[r] += 1
    group_of: dict[int, int] = {}
    groups: list[list[int]] = []
    for v, op in enumerate(graph.ops):
        if len(op.inputs) == 1 and op.inputs[0] != RAW and readers[op.inputs[0]] == 1:
            g = group_of[op.inputs[0]]
            groups[g].append(v)
        else:
            g = len(groups)
            groups.append([v])
        group_of[v] = g
    return groups


def _span(first: str, last: str) -> str:
    """A merged block's name: `layer1.0.conv1..bn2` (the last op without the scope they share,
    unless what is left starts with an index: `features.0..features.3`)."""
    a, b = first.split("."), last.split(".")
    shared = 0
    while shared < min(len(a), len(b)) - 1 and a[shared] == b[shared]:
        shared += 1
    if b[shared].isdigit():
        shared = 0
    return f"{first}..{'.'.join(b[shared:])}"


def dag_profile(graph: OpGraph, granularity: str, *, name: str, num_classes: int | None = None,
                meta: Mapping | None = None, field: str = "model.granularity") -> Profile:
    """The DAG profile of `graph` at `granularity` ("layer" or "stage")."""
    if granularity not in GRANULARITIES:
        raise FieldError(field, f"choose one of {list(GRANULARITIES)}", granularity)
    groups = _merge_stages(graph) if granularity == "stage" else [[v] for v in range(len(graph.ops))]
    block_of = {v: b for b, members in enumerate(groups) for v in members}
    blocks: list[Block] = []
    for members in groups:
        head, tail = graph.ops[members[0]], graph.ops[members[-1]]
        inputs = tuple(dict.fromkeys(block_of[r] for r in head.inputs if r != RAW))
        in_kb = graph.raw_kb if not inputs else sum(blocks[u].out_kb for u in inputs)
        layers = tuple(graph.ops[v].layer for v in members if graph.ops[v].layer is not None)
        cost = None if layers else 0.0
        label = head.name if len(members) == 1 else _span(head.name, tail.name)
        blocks.append(Block(label, in_kb, tail.out_kb, layers, latency_ms=cost, energy_j=cost, inputs=inputs))
    if num_classes is None and len(graph.output_shape) == 2:
        num_classes = int(graph.output_shape[1])
    return Profile(name=name, blocks=tuple(blocks), num_classes=num_classes,
                   meta={**(meta or {}), "granularity": granularity})


# --- torch.fx --------------------------------------------------------------------------------------

def _function_classes() -> dict[Callable | str, type | str | None]:
    """Function / method -> the torch module class whose Table 1 type it takes (or a type / None)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    table: dict[Callable | str, type | str | None] = {
        F.relu: nn.ReLU, torch.relu: nn.ReLU, F.relu_: nn.ReLU, torch.relu_: nn.ReLU, "relu": nn.ReLU,
        "relu_": nn.ReLU, F.relu6: nn.ReLU6, F.hardtanh: nn.ReLU6,
        F.conv1d: nn.Conv1d, F.conv2d: nn.Conv2d, F.conv3d: nn.Conv3d, torch.conv2d: nn.Conv2d,
        F.max_pool1d: nn.MaxPool1d, F.max_pool2d: nn.MaxPool2d, F.max_pool3d: nn.MaxPool3d,
        F.avg_pool1d: nn.AvgPool1d, F.avg_pool2d: nn.AvgPool2d, F.avg_pool3d: nn.AvgPool3d,
        F.adaptive_avg_pool1d: nn.AdaptiveAvgPool1d, F.adaptive_avg_pool2d: nn.AdaptiveAvgPool2d,
        F.adaptive_max_pool2d: nn.AdaptiveMaxPool2d, "mean": nn.AdaptiveAvgPool2d, torch.mean: nn.AdaptiveAvgPool2d,
        F.batch_norm: nn.BatchNorm2d, F.layer_norm: nn.LayerNorm, F.local_response_norm: nn.LocalResponseNorm,
        F.linear: nn.Linear, torch.matmul: nn.Linear, operator.matmul: nn.Linear,
        F.dropout: nn.Dropout, torch.flatten: nn.Flatten, "flatten": nn.Flatten,
    }
    for fn in (operator.add, operator.iadd, torch.add, "add", "add_", operator.sub, torch.sub, "sub",
               operator.mul, operator.imul, torch.mul, "mul", "mul_"):
        table[fn] = ELEMENTWISE
    for fn in (torch.cat, torch.concat, torch.stack, operator.getitem, torch.reshape, torch.squeeze,
               torch.unsqueeze, torch.transpose, torch.permute, torch.chunk, torch.split, F.pad, "view",
               "reshape", "contiguous", "permute", "transpose", "squeeze", "unsqueeze", "chunk", "split",
               "expand", "clone", "detach", "to", "float"):
        table[fn] = None
    return table


def _call_name(target) -> str:
    return target if isinstance(target, str) else getattr(target, "__name__", repr(target))


def _call_type(target, path: str, layer_types: Mapping | None, functions: Mapping) -> str | None:
    from problems.torch_profile import TORCH_LAYER_TYPES

    label = _call_name(target)
    extra = layer_types or {}
    for key in (target, label):
        if key in extra:
            return extra[key]
    if target in functions:
        kind = functions[target]
        return TORCH_LAYER_TYPES[kind] if isinstance(kind, type) else kind
    raise FieldError(path, f"function {label} has no Table 1 type; map it with layer_types={{{label!r}: "
                     "<a Table 1 type or None>}", label)


def _tensor_kb(meta) -> float | None:
    """Bytes/1024 of a ShapeProp result (a tensor or a tuple / list of them); None: not tensors."""
    from torch.fx.passes.shape_prop import TensorMetadata

    if isinstance(meta, TensorMetadata):
        return math.prod(meta.shape) * meta.dtype.itemsize / KB
    if isinstance(meta, list | tuple) and meta:
        sizes = [_tensor_kb(m) for m in meta]
        return None if any(s is None for s in sizes) else sum(sizes)
    return None


def _node_args(node) -> Iterable:
    from torch.fx.node import map_arg

    found = []
    map_arg((node.args, node.kwargs), found.append)
    return found


def trace_ops(model, input_shape: Sequence[int], *, layer_types: Mapping | None = None,
              num_threads: int | None = 1, field: str = "model") -> OpGraph:
    """Trace `model` with torch.fx and run it on one seeded sample of `input_shape` (no batch axis)."""
    import torch
    from torch import fx
    from torch.fx.passes.shape_prop import ShapeProp

    from problems.torch_profile import check_mapping, layer_type, torch_threads

    if layer_types:
        check_mapping(layer_types)
    try:
        gm = fx.symbolic_trace(model)
    except Exception as exc:  # fx raises many kinds (TraceError, TypeError, ...) for untraceable code
        raise FieldError(field, f"torch.fx cannot trace {type(model).__name__}: {str(exc).splitlines()[0]}",
                         type(model).__name__) from None
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise FieldError(field, "must take exactly one tensor input", [n.name for n in placeholders])
    x = torch.randn((1, *input_shape), generator=torch.Generator().manual_seed(0))
    modes = [(m, m.training) for m in model.modules()]
    try:
        gm.eval()
        with torch.inference_mode(), torch_threads(num_threads):
            ShapeProp(gm).propagate(x)
    except Exception as exc:  # a shape the network cannot take fails somewhere inside torch
        raise FieldError(f"{field}.input_shape", f"the forward pass failed: {str(exc).splitlines()[0]}",
                         list(input_shape)) from None
    finally:
        for m, mode in modes:
            m.training = mode
    modules = dict(gm.named_modules())
    functions = _function_classes()
    builder = OpGraphBuilder(_tensor_kb(placeholders[0].meta["tensor_meta"]))
    ref = {placeholders[0]: RAW}
    result = None
    for node in gm.graph.nodes:
        if node.op == "output":
            outs = [a for a in _node_args(node) if a in ref]
            if len(outs) != 1 or len(_node_args(node)) != 1:
                raise FieldError(field, "must return exactly one tensor", node.args)
            result = ref[outs[0]]
            shape = tuple(node.args[0].meta["tensor_meta"].shape)
            continue
        if node.op not in ("call_module", "call_function", "call_method"):
            continue  # get_attr: weights and constants, not data
        out_kb = _tensor_kb(node.meta.get("tensor_meta"))
        reads = [ref[a] for a in _node_args(node) if a in ref]
        if out_kb is None or not reads:
            continue  # sizes and other metadata, or a constant: no data flows
        if node.op == "call_module":
            kind = layer_type(modules[node.target], node.target, layer_types)
            name = node.target
        else:
            kind = _call_type(node.target, node.name, layer_types, functions)
            stack = node.meta.get("nn_module_stack") or {}
            name = f"{next(reversed(stack.values()))[0]}.{node.name}" if stack else node.name
        ref[node] = builder.add(name, reads, out_kb, kind)
    return builder.finish(result, shape, field)


def trace_profile(model, input_shape: Sequence[int], *, granularity: str = "layer", name: str = "model",
                  layer_types: Mapping | None = None, num_classes: int | None = None) -> Profile:
    """The DAG profile of a torch module in one call: `trace_ops`, then `dag_profile`."""
    ops = trace_ops(model, input_shape, layer_types=layer_types)
    meta = {"source": "torch", "input_shape": list(input_shape)}
    return dag_profile(ops, granularity, name=name, num_classes=num_classes, meta=meta, field="granularity")
