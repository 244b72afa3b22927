"""Helpers shared by the model zoo: spatial sizes and the usual conv-norm-act triple."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from problems.errors import FieldError


def spatial_out(input_shape: Sequence[int], ops: Sequence[tuple[int, int, int]], model: str) -> tuple[int, int]:
    """Height and width after convs / pools given as (kernel, stride, padding), floor mode."""
    sides = []
    for side in input_shape[1:]:
        for kernel, stride, pad in ops:
            side = (side + 2 * pad - kernel) // stride + 1
            if side < 1:
                raise FieldError("model.input_shape", f"too small for {model}", list(input_shape))
        sides.append(side)
    return sides[0], sides[1]


def conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1,
                 act: type[nn.Module] = nn.ReLU) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        act(inplace=True),
    ]
