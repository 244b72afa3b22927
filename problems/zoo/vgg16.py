"""VGG-16 (configuration D) in 15 blocks, grouped as the paper's measured profile.

One block per conv layer (conv + relu), except that the last conv of each of the five
stages shares its block with the stage's normalization and 2x2 max pool; the paper's
profile has a norm layer there (BatchNorm here; plain VGG-16 has none, `norm=False`
drops it). The classifier is two blocks:

| block | layers |
|---|---|
| b1 | conv 64 + relu |
| b2 | conv 64 + relu + norm + pool |
| b3 | conv 128 + relu |
| b4 | conv 128 + relu + norm + pool |
| b5, b6 | conv 256 + relu |
| b7 | conv 256 + relu + norm + pool |
| b8, b9 | conv 512 + relu |
| b10 | conv 512 + relu + norm + pool |
| b11, b12 | conv 512 + relu |
| b13 | conv 512 + relu + norm + pool |
| b14 | flatten + fc 4096 + relu + dropout |
| b15 | fc 4096 + relu + dropout + fc (classes) |

All convs are 3x3, stride 1, padding 1; at 3x224x224 the stages run at 224, 112, 56,
28 and 14 pixels and the classifier reads 512x7x7.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from problems.zoo._common import spatial_out
from problems.zoo.checks import check_input

STAGES = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def _features(cin: int, norm: bool) -> list[nn.Sequential]:
    blocks = []
    for width, convs in STAGES:
        for j in range(convs):
            layers: list[nn.Module] = [nn.Conv2d(cin, width, 3, 1, 1), nn.ReLU(inplace=True)]
            if j == convs - 1:
                layers += [nn.BatchNorm2d(width)] if norm else []
                layers.append(nn.MaxPool2d(2, 2))
            blocks.append(nn.Sequential(*layers))
            cin = width
    return blocks


class VGG16(nn.Module):
    """VGG-16 as a chain of 15 blocks (module docstring); `forward` runs `blocks`."""

    def __init__(self, num_classes: int = 1000, input_shape: Sequence[int] = (3, 224, 224), norm: bool = True):
        super().__init__()
        shape = check_input(input_shape, "vgg16")
        h, w = spatial_out(shape, [(2, 2, 0)] * len(STAGES), "vgg16")  # 3x3 convs keep the size
        flat = STAGES[-1][0] * h * w
        self.blocks = nn.Sequential(
            *_features(shape[0], norm),
            nn.Sequential(nn.Flatten(), nn.Linear(flat, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5)),
            nn.Sequential(nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(4096, num_classes)),
        )

    def forward(self, x):
        return self.blocks(x)
