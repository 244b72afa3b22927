"""AlexNet (CaffeNet layout: conv-relu, then pool before LRN; grouped conv2/4/5) in 10 blocks.

The grouping follows the paper's measured profile:

| block | layers |
|---|---|
| b1 | conv1 11x11/4 (96) + relu |
| b2 | max pool 3/2 + local response norm |
| b3 | conv2 5x5 (256, 2 groups) + relu |
| b4 | max pool 3/2 + local response norm |
| b5 | conv3 3x3 (384) + relu |
| b6 | conv4 3x3 (384, 2 groups) + relu |
| b7 | conv5 3x3 (256, 2 groups) + relu |
| b8 | max pool 3/2 |
| b9 | flatten + fc6 (4096) + relu + dropout |
| b10 | fc7 (4096) + relu + dropout + fc8 (classes) |

At 3x224x224 the feature maps are 55x55, 27x27, 13x13 and 6x6.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from problems.zoo._common import spatial_out
from problems.zoo.checks import check_input

#: (kernel, stride, padding) of the convs and pools, in order
SPATIAL = ((11, 4, 2), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0))


def _features(cin: int) -> list[nn.Sequential]:
    return [
        nn.Sequential(nn.Conv2d(cin, 96, 11, 4, 2), nn.ReLU(inplace=True)),
        nn.Sequential(nn.MaxPool2d(3, 2), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0)),
        nn.Sequential(nn.Conv2d(96, 256, 5, 1, 2, groups=2), nn.ReLU(inplace=True)),
        nn.Sequential(nn.MaxPool2d(3, 2), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0)),
        nn.Sequential(nn.Conv2d(256, 384, 3, 1, 1), nn.ReLU(inplace=True)),
        nn.Sequential(nn.Conv2d(384, 384, 3, 1, 1, groups=2), nn.ReLU(inplace=True)),
        nn.Sequential(nn.Conv2d(384, 256, 3, 1, 1, groups=2), nn.ReLU(inplace=True)),
        nn.Sequential(nn.MaxPool2d(3, 2)),
    ]


class AlexNet(nn.Module):
    """AlexNet as a chain of 10 blocks (module docstring); `forward` runs `blocks`."""

    def __init__(self, num_classes: int = 1000, input_shape: Sequence[int] = (3, 224, 224)):
        super().__init__()
        shape = check_input(input_shape, "alexnet")
        h, w = spatial_out(shape, SPATIAL, "alexnet")
        flat = 256 * h * w
        self.blocks = nn.Sequential(
            *_features(shape[0]),
            nn.Sequential(nn.Flatten(), nn.Linear(flat, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5)),
            nn.Sequential(nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(4096, num_classes)),
        )

    def forward(self, x):
        return self.blocks(x)
