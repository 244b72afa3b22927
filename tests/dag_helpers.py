"""Shared by the DAG profile tests: spec section 12's rules as a check, sizes, ONNX export."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from problems.profile import Profile

KB = 1024


def kb(*shape: int) -> float:
    """KB of a float32 tensor of this shape (batch 1)."""
    n = 1
    for s in shape:
        n *= s
    return n * 4 / KB


def assert_valid_dag(profile: Profile) -> None:
    """Spec section 12, from its text: explicit inputs, earlier and distinct, sizes add up, one sink."""
    blocks = profile.blocks
    assert profile.is_dag and all(b.inputs is not None for b in blocks)
    raw = {b.in_kb for b in blocks if b.inputs == ()}
    assert len(raw) == 1, raw
    read = set()
    for v, b in enumerate(blocks):
        assert len(set(b.inputs)) == len(b.inputs) and all(0 <= u < v for u in b.inputs), (v, b.inputs)
        if b.inputs:
            total = sum(blocks[u].out_kb for u in b.inputs)
            assert abs(b.in_kb - total) <= 1e-9 * max(b.in_kb, total), (v, b.name)
        read.update(b.inputs)
    assert read == set(range(len(blocks) - 1)), "every block but the last is read, the last by nobody"


def shape_of(profile: Profile) -> list[tuple]:
    """What fx and ONNX profiles must agree on: inputs, sizes and layer types per block."""
    return [(b.inputs, b.in_kb, b.out_kb, tuple((x.type, x.in_kb, x.out_kb) for x in b.layers)) for b in profile.blocks]


def export(module: nn.Module, shape, path, *, preserve: bool = True, dynamic_batch: bool = False) -> str:
    """`module` as an ONNX file; `preserve` keeps batch norms as nodes (eval export folds them)."""
    kwargs = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False} if preserve else {}
    if dynamic_batch:
        kwargs.update(input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.randn(1, *shape),), str(path), dynamo=False, **kwargs)
    return str(path)
