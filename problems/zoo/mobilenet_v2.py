"""MobileNet-V2 (Sandler et al. 2018, width 1.0).

The layout of torchvision's reference implementation (published parameter count
3,504,872): a 3x3/2 conv (32), 17 inverted residual blocks (1x1 expansion by t, 3x3
depthwise, linear 1x1 projection; each conv followed by norm, ReLU6 except after the
projection), a 1x1 conv to 1280 channels, global average pooling, dropout 0.2 and one
fc. A stride-1 block whose width does not change adds its input back (10 of the 17),
the only joins of this DAG.
"""

from __future__ import annotations

import torch
from torch import nn

from problems.zoo._common import conv_bn_relu

#: (expansion t, output channels c, repeats n, first stride s), the paper's Table 2
SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expansion: int):
        super().__init__()
        hidden = cin * expansion
        layers = conv_bn_relu(cin, hidden, 1, act=nn.ReLU6) if expansion != 1 else []
        layers += conv_bn_relu(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6)
        layers += [nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNet-V2 (module docstring)."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Sequential(*conv_bn_relu(in_channels, 32, 3, 2, act=nn.ReLU6))]
        cin = 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(nn.Sequential(*conv_bn_relu(cin, 1280, 1, act=nn.ReLU6)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.avgpool(self.features(x))))
