"""Configuration checks of the zoo, free of torch so that validating a config stays cheap."""

from __future__ import annotations

from collections.abc import Sequence

from problems.errors import FieldError


def check_input(input_shape: Sequence[int], model: str) -> tuple[int, int, int]:
    shape = tuple(int(v) for v in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise FieldError("model.input_shape", f"{model} needs [channels, height, width], all positive",
                         list(input_shape))
    return shape  # type: ignore[return-value]


def resnet_stage_blocks(depth: int) -> int:
    """k of a CIFAR ResNet-(6k+2); any other depth is a one-line error naming model.depth."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise FieldError("model.depth", "a CIFAR ResNet has depth 6k+2 with k >= 1 (20, 32, 44, 56, 110, ...)", depth)
    return (depth - 2) // 6


def check_depth(depth: int) -> int:
    """A synthetic chain's depth: its number of blocks, at least 1."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise FieldError("model.depth", "a synthetic chain needs a positive number of blocks", depth)
    return depth
