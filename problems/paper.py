"""The paper's measured per-block profiles, shipped inside the package.

`data/paper_profiles.json` is the seed paper's data (AlexNet, VGG-16, ResNet-32,
MobileNet-V1); blocks carry measured reference latencies, energies come from the
Table 1 model over the listed layers.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from problems.errors import FieldError
from problems.profile import Block, Layer, Profile

PAPER_MODELS = ("alexnet", "vgg16", "resnet32", "mobilenet_v1")


@cache
def _raw() -> dict:
    text = resources.files("problems").joinpath("data/paper_profiles.json").read_text()
    return json.loads(text)


def paper_profile(name: str) -> Profile:
    """The measured profile of one of the paper's four models."""
    models = _raw()["models"]
    if name not in models:
        raise FieldError("model.name", f"no paper profile; choose one of {sorted(models)}", name)
    blocks = tuple(
        Block(
            name=b["name"],
            in_kb=float(b["in_kb"]),
            out_kb=float(b["out_kb"]),
            latency_ms=float(b["latency_ms"]),
            layers=tuple(Layer(lay["type"], float(lay["in_kb"]), float(lay["out_kb"])) for lay in b["layers"]),
        )
        for b in models[name]["blocks"]
    )
    return Profile(name=name, blocks=blocks)
