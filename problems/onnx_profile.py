"""DAG profiles (spec section 12) from a user's ONNX model: `model.source=onnx model.path=FILE`.

The file is read with the `onnx` package and its shapes come from ONNX shape inference
(with data propagation, so computed reshapes resolve) at batch 1: a symbolic batch
dimension becomes 1, and `model.input_shape` ([C, H, W], no batch axis) fixes the
input's other dimensions where the file leaves them symbolic or should be overridden.
The graph becomes the same `OpGraph` that the torch.fx tracer builds
(`problems.dag_profile`), costed by the same rules: every ONNX operator is typed as
the torch module class it computes (`Conv` as `nn.Conv2d`, `Gemm` as `nn.Linear`,
`Clip` as `nn.ReLU6`, ...), so the Table 1 types come from the chain profiler's one
table; `Add` / `Sum` / `Mul` / `Sub` are element-wise arithmetic and `Concat`,
`Flatten`, `Reshape`, `Dropout`, `Identity`, ... are data movement, as documented there.

Only data flows make edges: weights (initializers), `Constant` nodes and shape
arithmetic (`Shape` and anything computed from shapes and constants alone) are not
ops. The model must have one input tensor and one output tensor. Anything wrong with
the file (missing, not ONNX, no static shape, an operator without a Table 1 type) is
one `FieldError` naming `model.path`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from problems.dag_profile import ELEMENTWISE, RAW, OpGraph, OpGraphBuilder
from problems.errors import FieldError
from problems.layers import KB

FIELD = "model.path"
#: operators whose outputs describe shapes, not data
SHAPE_OPS = ("Shape", "Size")
ELEMENTWISE_OPS = ("Add", "Sum", "Sub", "Mul")
MOVEMENT_OPS = ("Concat", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Pad", "Slice", "Split", "Gather",
                "Expand", "Tile", "Cast")


def _operator_classes() -> dict[str, type]:
    """ONNX operator -> the torch module class whose Table 1 type it takes."""
    from torch import nn

    return {
        "Conv": nn.Conv2d, "Relu": nn.ReLU, "Clip": nn.ReLU6,
        "MaxPool": nn.MaxPool2d, "AveragePool": nn.AvgPool2d, "GlobalAveragePool": nn.AdaptiveAvgPool2d,
        "GlobalMaxPool": nn.AdaptiveMaxPool2d, "ReduceMean": nn.AdaptiveAvgPool2d,
        "BatchNormalization": nn.BatchNorm2d, "LRN": nn.LocalResponseNorm, "LayerNormalization": nn.LayerNorm,
        "Gemm": nn.Linear, "MatMul": nn.Linear,
        "Flatten": nn.Flatten, "Dropout": nn.Dropout, "Identity": nn.Identity,
    }


def _op_type(op: str, node_name: str, classes: dict[str, type]) -> str | None:
    from problems.torch_profile import TORCH_LAYER_TYPES

    if op in ELEMENTWISE_OPS:
        return ELEMENTWISE
    if op in MOVEMENT_OPS:
        return None
    if op in classes:
        return TORCH_LAYER_TYPES[classes[op]]
    raise FieldError(FIELD, f"ONNX node {node_name!r}: operator {op} has no Table 1 type", op)


def _load(path: Path):
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path))
    except OSError as exc:
        raise FieldError(FIELD, f"cannot read the ONNX model: {exc.strerror or type(exc).__name__}",
                         str(path)) from None
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise FieldError(FIELD, f"not an ONNX model ({type(exc).__name__})", str(path)) from None
    if not model.graph.node:
        raise FieldError(FIELD, "not an ONNX model (no graph nodes)", str(path))
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise FieldError(FIELD, f"not a valid ONNX model: {str(exc).splitlines()[0]}", str(path)) from None
    return model


def _fix_input(model, input_shape: Sequence[int] | None, path: Path):
    """The one non-weight input, its dims set to batch 1 (and `input_shape` where given)."""
    weights = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    if len(inputs) != 1:
        raise FieldError(FIELD, f"an ONNX model with one input tensor is needed, not {len(inputs)}", str(path))
    dims = inputs[0].type.tensor_type.shape.dim
    if input_shape is not None:
        if len(dims) != len(input_shape) + 1:
            raise FieldError("model.input_shape", f"the ONNX input has {len(dims)} dims with the batch axis",
                             list(input_shape))
        wanted = [1, *input_shape]
    else:
        wanted = [1] + [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in dims[1:]]
        if None in wanted:
            raise FieldError("model.input_shape", "the ONNX input has symbolic dims: give [C, H, W]", None)
    for d, value in zip(dims, wanted, strict=True):
        d.Clear()
        d.dim_value = int(value)
    return inputs[0]


def read_onnx(path: str | Path, input_shape: Sequence[int] | None = None) -> OpGraph:
    """The op graph of the ONNX model at `path` (module docstring)."""
    import onnx
    from onnx.helper import tensor_dtype_to_np_dtype

    path = Path(path)
    model = _load(path)
    graph_input = _fix_input(model, input_shape, path)
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:  # onnx raises InferenceError and others for inconsistent graphs
        raise FieldError(FIELD, f"ONNX shape inference failed: {str(exc).splitlines()[0]}", str(path)) from None
    graph = model.graph
    types = {v.name: v.type for v in (*graph.input, *graph.value_info, *graph.output)}

    def kb(name: str, node_name: str) -> float:
        tensor = types[name].tensor_type if name in types else None
        if tensor is None or not tensor.HasField("shape") or any(not d.HasField("dim_value") for d in tensor.shape.dim):
            raise FieldError(FIELD, f"ONNX shape inference gives no static shape for {name!r} (node {node_name!r})",
                             str(path))
        size = math.prod(d.dim_value for d in tensor.shape.dim)
        return size * tensor_dtype_to_np_dtype(tensor.elem_type).itemsize / KB

    if len(graph.output) != 1:
        raise FieldError(FIELD, f"an ONNX model with one output tensor is needed, not {len(graph.output)}", str(path))
    used = {name for node in graph.node for name in node.input} | {graph.output[0].name}
    classes = _operator_classes()
    builder = OpGraphBuilder(kb(graph_input.name, "input"))
    ref = {graph_input.name: RAW}
    for i, node in enumerate(graph.node):
        reads = [ref[t] for t in node.input if t in ref]
        if node.op_type in SHAPE_OPS or not reads:
            continue  # shape arithmetic and constants: no data flows
        name = node.name or f"{node.op_type}_{i}"
        outputs = [t for t in node.output if t in used]
        out_kb = sum(kb(t, name) for t in outputs)
        at = builder.add(name, reads, out_kb, _op_type(node.op_type, name, classes))
        ref.update(dict.fromkeys(outputs, at))
    result = graph.output[0].name
    if result not in ref:
        raise FieldError(FIELD, "the ONNX model's output does not depend on its input", str(path))
    shape = tuple(d.dim_value for d in types[result].tensor_type.shape.dim)
    return builder.finish(ref[result], shape, FIELD)
