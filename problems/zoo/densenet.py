"""DenseNet-121 (Huang et al. 2017): growth rate 32, dense blocks of 6, 12, 24 and 16 layers.

The layout of torchvision's reference implementation (published parameter count
7,978,856): a 7x7/2 stem conv + norm + ReLU + 3x3/2 max pool; every dense layer is
norm + ReLU + 1x1 conv (128) + norm + ReLU + 3x3 conv (32) on the concatenation of
every earlier feature map of its dense block; transitions are norm + ReLU + 1x1 conv
(halving the channels) + 2x2/2 average pool; then a final norm + ReLU, global average
pooling and one fc. Every feature map is read by all later layers of its block, the
widest fan-out of the zoo.
"""

from __future__ import annotations

import torch
from torch import nn

GROWTH = 32
BLOCKS = (6, 12, 24, 16)
BOTTLENECK = 4  # the 1x1 conv widens to BOTTLENECK * GROWTH channels


class DenseLayer(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, BOTTLENECK * GROWTH, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(BOTTLENECK * GROWTH)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(BOTTLENECK * GROWTH, GROWTH, 3, 1, 1, bias=False)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(features, 1)
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.Module):
    def __init__(self, cin: int, n_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(cin + i * GROWTH) for i in range(n_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    def __init__(self, cin: int, cout: int):
        super().__init__(nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.Conv2d(cin, cout, 1, bias=False),
                         nn.AvgPool2d(2, 2))


class DenseNet121(nn.Module):
    """DenseNet-121 (module docstring)."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3):
        super().__init__()
        stages: list[nn.Module] = [nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                   nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
        channels = 64
        for i, n_layers in enumerate(BLOCKS):
            stages.append(DenseBlock(channels, n_layers))
            channels += n_layers * GROWTH
            if i < len(BLOCKS) - 1:
                stages.append(Transition(channels, channels // 2))
                channels //= 2
        stages += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*stages)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.avgpool(self.features(x))))
