"""CIFAR ResNets of depth 6k+2 (He et al. 2016, Sec. 4.2): ResNet-20, 32, 44, 56, 110, ...

One block per residual block plus stem and head, so ResNet-(6k+2) has 3k + 2 blocks
(ResNet-32: 17, the paper's count):

| block | layers |
|---|---|
| b1 (stem) | conv 3x3 (16) + norm + relu |
| 3 stages of k residual blocks | conv 3x3 + norm + relu + conv 3x3 + norm, + shortcut, + relu |
| last (head) | global average pool + flatten + fc (classes) |

The stages have 16, 32 and 64 channels; the first residual block of stages 2 and 3
halves the feature map with a stride-2 conv and uses the parameter-free shortcut
("option A": subsample and zero-pad channels), so shortcuts add no layers; the
residual addition lives inside the block and costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import nn

from problems.zoo.checks import check_input, resnet_stage_blocks


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU(inplace=True)
        self.stride, self.pad = stride, cout - cin

    def shortcut(self, x):
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6k+2) for CIFAR as a chain of 3k + 2 blocks (module docstring)."""

    def __init__(self, depth: int = 32, num_classes: int = 10, input_shape: Sequence[int] = (3, 32, 32)):
        super().__init__()
        k = resnet_stage_blocks(depth)
        shape = check_input(input_shape, f"resnet{depth}")
        blocks: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(shape[0], 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        ]
        cin = 16
        for stage, width in enumerate((16, 32, 64)):
            for j in range(k):
                blocks.append(BasicBlock(cin, width, 2 if stage and not j else 1))
                cin = width
        blocks.append(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, num_classes)))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(x)
