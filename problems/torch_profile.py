"""Layer profiles from real PyTorch modules: one CPU forward pass with hooks.

A model is a chain of blocks, the unit of placement. `profile_module` runs the blocks
in order on one float32 sample (batch 1) and records, for every leaf layer a block
calls, its Table 1 type and its input/output sizes in KB (1024 bytes) measured on the
real tensors. Block i's output is block i+1's input, so the profile chains by
construction, and the last block's output is the result returned to the device.
Anything between layers that is not a module (a residual `+`, `F.pad`, a reshape)
costs nothing, as in Table 1.

The blocks are `model.blocks` when the model has that attribute, the children of an
`nn.Sequential` model, or any iterable passed as `blocks=` (a generator that builds one
block at a time keeps memory bounded for very deep chains). Running the blocks in order
must be the model's forward pass.

Profiling runs on one intra-op thread by default: batch-1 layers gain little from more,
and on a loaded machine extra threads make it many times slower. Only sizes matter, so
`zeroed` builds a model without its (slow, for VGG-16 most of the time) weight init.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeVar

import torch
from torch import nn

from problems.errors import FieldError
from problems.layers import KB, LAYER_TYPES
from problems.profile import Block, Layer, Profile

#: torch layer class -> Table 1 type; None: shape-only, costs nothing
TORCH_LAYER_TYPES: dict[type, str | None] = {
    **dict.fromkeys((nn.Conv1d, nn.Conv2d, nn.Conv3d), "conv"),
    **dict.fromkeys((nn.ReLU, nn.ReLU6), "relu"),
    **dict.fromkeys(
        (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
         nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
         nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d),
        "pool",
    ),
    **dict.fromkeys(
        (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.LocalResponseNorm, nn.LayerNorm),
        "norm",
    ),
    nn.Linear: "fc",
    **dict.fromkeys(
        (nn.Flatten, nn.Unflatten, nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
         nn.AlphaDropout, nn.Sequential, nn.ModuleList, nn.ModuleDict),
        None,
    ),
}

LayerTypes = Mapping[type | str, str | None]
M = TypeVar("M", bound=nn.Module)


def zeroed(make: Callable[[], M]) -> M:
    """`make()` built on the meta device, then given zero-filled CPU weights: no init cost."""
    with torch.device("meta"):
        module = make()
    module = module.to_empty(device="cpu")
    with torch.no_grad():
        for t in itertools.chain(module.parameters(), module.buffers()):
            t.zero_()
    return module


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to `n` (None: unchanged) inside the block."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_mapping(layer_types: LayerTypes) -> None:
    """Every `layer_types` value is a Table 1 type or None; a bad one names its key."""
    for key, kind in layer_types.items():
        if kind is not None and kind not in LAYER_TYPES:
            label = key if isinstance(key, str) else key.__name__
            raise FieldError(f"layer_types[{label}]", f"must be one of {list(LAYER_TYPES)} or None", kind)


def layer_type(module: nn.Module, path: str, layer_types: LayerTypes | None = None) -> str | None:
    """Table 1 type of a leaf module (None: costs nothing); an unknown class names `path`."""
    extra = layer_types or {}
    for cls in type(module).__mro__:
        for key in (cls, cls.__name__):
            if key in extra:
                return extra[key]
        if cls in TORCH_LAYER_TYPES:
            return TORCH_LAYER_TYPES[cls]
    name = type(module).__name__
    raise FieldError(
        path,
        f"layer class {name} has no Table 1 type; map it with layer_types={{{name}: <one of "
        f"{list(LAYER_TYPES)} or None>}}",
        name,
    )


def block_modules(model: nn.Module) -> Sequence[nn.Module]:
    """The model's blocks: `model.blocks`, or the children of an `nn.Sequential`."""
    blocks = getattr(model, "blocks", None)
    if blocks is not None:
        return list(blocks)
    if isinstance(model, nn.Sequential):
        return list(model)
    raise FieldError("model", "expose the blocks as `model.blocks` (or pass blocks=)", type(model).__name__)


def _kb(value) -> float:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size() / KB
    if isinstance(value, list | tuple):
        return sum(_kb(v) for v in value)
    return 0.0


def _profile_block(block: nn.Module, x: torch.Tensor, prefix: str, layer_types: LayerTypes | None):
    """Run one block on `x`; its output and the (type, in_kb, out_kb) of each layer call."""
    records: list[Layer] = []
    hooks = []
    for sub, module in block.named_modules():
        if next(module.children(), None) is not None:
            continue
        path = f"{prefix}.{sub}" if sub else prefix
        kind = layer_type(module, path, layer_types)
        if kind is None:
            continue

        def hook(_module, args, output, kind=kind):
            records.append(Layer(kind, _kb(args), _kb(output)))

        hooks.append(module.register_forward_hook(hook))
    modes = [(m, m.training) for m in block.modules()]
    try:
        block.eval()
        y = block(x)
    finally:
        for h in hooks:
            h.remove()
        for m, mode in modes:
            m.training = mode
    if not isinstance(y, torch.Tensor):
        raise FieldError(prefix, "a block must return one tensor", type(y).__name__)
    return y, tuple(records)


def profile_module(
    model: nn.Module | None,
    input_shape: Sequence[int],
    *,
    name: str = "model",
    blocks: Iterable[nn.Module] | None = None,
    layer_types: LayerTypes | None = None,
    num_classes: int | None = None,
    dtype: torch.dtype = torch.float32,
    num_threads: int | None = 1,
) -> Profile:
    """Profile `model` (or `blocks`) on one sample of `input_shape` (without the batch axis).

    `layer_types` maps extra layer classes (or class names) to a Table 1 type or to None
    (costs nothing). `num_classes` defaults to the width of a 2-D result. `num_threads`
    is torch's intra-op thread count while profiling (None: leave it as it is).
    """
    if layer_types:
        check_mapping(layer_types)
    if blocks is None:
        if model is None:
            raise FieldError("model", "pass a model or blocks", None)
        blocks = block_modules(model)
    names = {id(m): n for n, m in model.named_modules()} if model is not None else {}
    x = torch.randn((1, *input_shape), generator=torch.Generator().manual_seed(0), dtype=dtype)
    out: list[Block] = []
    with torch.inference_mode(), torch_threads(num_threads):
        for i, block in enumerate(blocks):
            prefix = names.get(id(block)) or f"blocks.{i}"
            in_kb = _kb(x)
            x, layers = _profile_block(block, x, prefix, layer_types)
            cost = None if layers else 0.0  # a block without costed layers states its zero cost
            out.append(Block(f"b{i + 1}", in_kb, _kb(x), layers, latency_ms=cost, energy_j=cost))
    if not out:
        raise FieldError("blocks", "must not be empty", [])
    if num_classes is None and x.dim() == 2:
        num_classes = int(x.shape[1])
    meta = {"source": "torch", "input_shape": list(input_shape)}
    return Profile(name=name, blocks=tuple(out), num_classes=num_classes, meta=meta)
