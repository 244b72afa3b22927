"""Seeded random CNN-like chains of exactly N blocks, as real torch modules.

`synthetic_plan(depth, seed)` draws the architecture (cheap, pure numpy);
`SyntheticNet` materializes it as one module and `synthetic_blocks` yields the same
blocks one at a time, so that a 10,000-block chain is profiled holding one block.

The architecture, all choices from `numpy.random.default_rng(seed)`:
- b1 is the stem: conv 3x3 (16, 24 or 32 channels) + norm + act, stride 2 when the input
  is at least 8 pixels.
- The last block is the head: global average pool + flatten + [fc 512/1024 + relu +
  dropout, with probability 0.3] + fc (classes). With N = 1 the stem and head are one block.
- The N - 2 blocks between are split over up to 5 stages (fewer for small inputs, so the
  last stage keeps at least 4 pixels at a 2^stages reduction) at stage proportions
  drawn from a Dirichlet around ResNet-50's (1 : 3 : 4 : 6 : 3 with a short first
  stage). Each stage after the first halves the feature map in its first block and
  doubles the channels (at most 1024), like ImageNet CNNs: at 3x224x224 the maps run
  112, 56, 28, 14, 7 pixels and a block's output shrinks from about 1.5 MB to 100 KB.
- Each body block is one of: plain (conv kxk + norm + act, k in 1, 3, 5), separable
  (depthwise 3x3 + norm + act + pointwise 1x1 + norm + act), residual (two 3x3 convs,
  shortcut, act) and bottleneck (1x1 reduce, 3x3, 1x1 expand, shortcut, act), drawn from
  a per-network mix. A downsampling block uses stride 2 (residual kinds then add a 1x1
  projection shortcut) or, with probability 0.3, keeps stride 1 and ends in a 2x2 max
  or average pool. Norm is BatchNorm (probability 0.85 per network, else none) and act
  ReLU or ReLU6 (0.8 / 0.2 per network).
- k x k convs are grouped with at most 16 channels per group (ResNeXt-style): the
  Table 1 costs depend only on tensor sizes, and this keeps the forward pass cheap.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from problems.zoo.checks import check_depth, check_input

STAGE_WEIGHTS = (1.0, 3.0, 4.0, 6.0, 3.0)
KINDS = ("plain", "separable", "residual", "bottleneck")
MAX_CHANNELS = 1024
GROUP_WIDTH = 16


@dataclass(frozen=True)
class BlockSpec:
    """One block of a synthetic chain; `kind` is stem, head, stem+head or a body kind."""

    kind: str
    cin: int
    cout: int
    stride: int = 1
    kernel: int = 3
    pool: str | None = None  # "max" / "avg": a 2x2 pool ends the block
    hidden: int | None = None  # head: width of the extra fc layer
    classes: int = 0


@dataclass(frozen=True)
class SyntheticPlan:
    blocks: tuple[BlockSpec, ...]
    norm: bool
    act: str  # "relu" or "relu6"
    input_shape: tuple[int, int, int]
    num_classes: int


def _stage_lengths(rng: np.random.Generator, body: int, stages: int) -> list[int]:
    weights = np.array(STAGE_WEIGHTS[-stages:] if stages < len(STAGE_WEIGHTS) else STAGE_WEIGHTS)
    p = rng.dirichlet(2.0 * weights)
    raw = p * body
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: body - counts.sum()]] += 1  # largest remainders
    return counts.tolist()


def synthetic_plan(depth: int, seed: int, input_shape: Sequence[int] = (3, 224, 224),
                   num_classes: int = 1000) -> SyntheticPlan:
    """The seeded architecture of a depth-block chain (module docstring)."""
    check_depth(depth)
    shape = check_input(input_shape, "synthetic")
    rng = np.random.default_rng(seed)
    norm = bool(rng.random() < 0.85)
    act = "relu" if rng.random() < 0.8 else "relu6"
    mix = rng.dirichlet(np.ones(len(KINDS)))
    side = min(shape[1:])
    reductions = int(np.clip(np.floor(np.log2(side / 4)), 0, len(STAGE_WEIGHTS))) if side >= 8 else 0
    stem_stride = 2 if reductions else 1
    width = int(rng.choice([16, 24, 32]))
    stem = BlockSpec("stem", shape[0], width, stem_stride)
    hidden = int(rng.choice([512, 1024])) if rng.random() < 0.3 else None
    if depth == 1:
        return SyntheticPlan((BlockSpec("stem+head", shape[0], width, stem_stride, hidden=hidden,
                                        classes=num_classes),), norm, act, shape, num_classes)
    blocks = [stem]
    cin = width
    lengths = _stage_lengths(rng, depth - 2, max(reductions, 1))
    for stage, length in enumerate(lengths):
        cout = min(width * 2**stage, MAX_CHANNELS)
        for j in range(length):
            kind = KINDS[rng.choice(len(KINDS), p=mix)]
            down = stage > 0 and j == 0
            pool = None
            if down and rng.random() < 0.3:
                pool = "max" if rng.random() < 0.5 else "avg"
            kernel = int(rng.choice([1, 3, 5], p=[0.15, 0.7, 0.15])) if kind == "plain" else 3
            blocks.append(BlockSpec(kind, cin, cout, 2 if down and pool is None else 1, kernel, pool))
            cin = cout
    blocks.append(BlockSpec("head", cin, cin, hidden=hidden, classes=num_classes))
    return SyntheticPlan(tuple(blocks), norm, act, shape, num_classes)


def _groups(cin: int, cout: int) -> int:
    """Groups of a k x k conv: GROUP_WIDTH input channels per group where the widths allow."""
    g = math.gcd(cin, cout)
    return g // GROUP_WIDTH if g % GROUP_WIDTH == 0 else 1


class Residual(nn.Module):
    """body(x) + shortcut(x), then the activation: the addition lives inside the block."""

    def __init__(self, body: nn.Module, shortcut: nn.Module, act: nn.Module):
        super().__init__()
        self.body, self.shortcut, self.act = body, shortcut, act

    def forward(self, x):
        return self.act(self.body(x) + self.shortcut(x))


class _Builder:
    def __init__(self, plan: SyntheticPlan):
        self.norm, self.act = plan.norm, nn.ReLU if plan.act == "relu" else nn.ReLU6

    def cna(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1, act: bool = True):
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups,
                                             bias=not self.norm)]
        if self.norm:
            layers.append(nn.BatchNorm2d(cout))
        if act:
            layers.append(self.act(inplace=True))
        return layers

    def head(self, s: BlockSpec) -> list[nn.Module]:
        layers: list[nn.Module] = [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        width = s.cout
        if s.hidden:
            layers += [nn.Linear(width, s.hidden), nn.ReLU(inplace=True), nn.Dropout(0.5)]
            width = s.hidden
        return [*layers, nn.Linear(width, s.classes)]

    def block(self, s: BlockSpec) -> nn.Module:
        if s.kind in ("stem", "stem+head"):
            layers = self.cna(s.cin, s.cout, 3, s.stride)
            return nn.Sequential(*layers, *(self.head(s) if s.kind == "stem+head" else []))
        if s.kind == "head":
            return nn.Sequential(*self.head(s))
        g = _groups(s.cin, s.cout)
        if s.kind == "plain":
            core: nn.Module = nn.Sequential(*self.cna(s.cin, s.cout, s.kernel, s.stride, g if s.kernel > 1 else 1))
        elif s.kind == "separable":
            core = nn.Sequential(*self.cna(s.cin, s.cin, 3, s.stride, s.cin), *self.cna(s.cin, s.cout, 1))
        else:
            if s.kind == "residual":
                g2 = _groups(s.cout, s.cout)
                body = [*self.cna(s.cin, s.cout, 3, s.stride, g), *self.cna(s.cout, s.cout, 3, 1, g2, act=False)]
            else:
                mid = max(s.cout // 4, GROUP_WIDTH)
                body = [*self.cna(s.cin, mid, 1), *self.cna(mid, mid, 3, s.stride, _groups(mid, mid)),
                        *self.cna(mid, s.cout, 1, act=False)]
            same = s.stride == 1 and s.cin == s.cout
            shortcut = nn.Identity() if same else nn.Sequential(*self.cna(s.cin, s.cout, 1, s.stride, act=False))
            core = Residual(nn.Sequential(*body), shortcut, self.act(inplace=False))
        if s.pool is None:
            return core
        pool = nn.MaxPool2d(2, 2) if s.pool == "max" else nn.AvgPool2d(2, 2)
        return nn.Sequential(core, pool)


def synthetic_blocks(plan: SyntheticPlan) -> Iterator[nn.Module]:
    """The plan's blocks, built one at a time (nothing is kept)."""
    builder = _Builder(plan)
    for spec in plan.blocks:
        yield builder.block(spec)


class SyntheticNet(nn.Module):
    """A synthetic chain materialized as one module; `forward` runs `blocks`."""

    def __init__(self, depth: int, seed: int = 0, num_classes: int = 1000,
                 input_shape: Sequence[int] = (3, 224, 224)):
        super().__init__()
        self.plan = synthetic_plan(depth, seed, input_shape, num_classes)
        self.blocks = nn.Sequential(*synthetic_blocks(self.plan))

    def forward(self, x):
        return self.blocks(x)
