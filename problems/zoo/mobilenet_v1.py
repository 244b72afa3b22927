"""MobileNet-V1 (Howard et al. 2017, width 1.0) in 6 blocks, grouped as the paper's profile.

Every conv (standard, depthwise 3x3 or pointwise 1x1) is followed by BatchNorm and ReLU;
"dw/s" is a depthwise-separable pair with a stride-s depthwise conv.

| block | layers | output at 3x224x224 |
|---|---|---|
| b1 | conv 3x3/2 (32) + dw/1 (64) | 64x112x112 |
| b2 | dw/2 (128) | 128x56x56 |
| b3 | dw/1 (128) + dw/2 (256) | 256x28x28 |
| b4 | dw/1 (256) + dw/2 (512) | 512x14x14 |
| b5 | 5 x dw/1 (512) | 512x14x14 |
| b6 | dw/2 (1024) + dw/1 (1024) + global average pool + flatten + fc (classes) | classes |

27 conv layers and one fc, as in the original network.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from problems.zoo._common import conv_bn_relu
from problems.zoo.checks import check_input

#: blocks as lists of (output channels, depthwise stride) separable pairs
BLOCKS = (((64, 1),), ((128, 2),), ((128, 1), (256, 2)), ((256, 1), (512, 2)), ((512, 1),) * 5, ((1024, 2), (1024, 1)))


def separable(cin: int, cout: int, stride: int) -> list[nn.Module]:
    return conv_bn_relu(cin, cin, 3, stride, groups=cin) + conv_bn_relu(cin, cout, 1)


class MobileNetV1(nn.Module):
    """MobileNet-V1 as a chain of 6 blocks (module docstring); `forward` runs `blocks`."""

    def __init__(self, num_classes: int = 1000, input_shape: Sequence[int] = (3, 224, 224)):
        super().__init__()
        shape = check_input(input_shape, "mobilenet_v1")
        blocks = []
        cin = 32
        for i, pairs in enumerate(BLOCKS):
            layers = conv_bn_relu(shape[0], 32, 3, 2) if i == 0 else []
            for cout, stride in pairs:
                layers += separable(cin, cout, stride)
                cin = cout
            if i == len(BLOCKS) - 1:
                layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes)]
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(x)
