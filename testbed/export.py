"""The model's blocks as ONNX files, one per block, from the `problems/zoo` torch modules.

The torch module is the architecture `problems.models` profiles, built with seeded weights
(torch's default init under `torch.manual_seed(seed)`), and split into blocks the way
`problems.torch_profile` splits it, so that block i of the files is block i of the problem.
The input is a seeded image (uniform in [0, 1)) of the model's input shape. Export uses the
legacy exporter (`dynamo=False`): one self-contained opset-17 file per block.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from problems import Problem
from problems.errors import FieldError
from problems.models import DEFAULT_INPUT, ModelConfig
from problems.torch_profile import block_modules, torch_threads

OPSET = 17


@dataclass
class Exported:
    """Block files, every block's input tensor, the raw input and the whole model's output."""

    folder: Path
    files: list[Path]
    inputs: list[np.ndarray]  # inputs[i]: block i's input (inputs[0] is the image)
    reference: np.ndarray  # one torch forward pass of the whole model

    @property
    def image(self) -> np.ndarray:
        return self.inputs[0]


def seeded_model(cfg: ModelConfig, seed: int) -> tuple[list[nn.Module], nn.Module | None, tuple[int, int, int]]:
    """(blocks, whole model or None, input shape [C, H, W]) with seeded weights, in eval mode."""
    from problems.zoo.alexnet import AlexNet
    from problems.zoo.mobilenet_v1 import MobileNetV1
    from problems.zoo.resnet import CifarResNet
    from problems.zoo.synthetic import synthetic_blocks, synthetic_plan
    from problems.zoo.vgg16 import VGG16

    default_shape, default_classes = DEFAULT_INPUT[cfg.name]
    shape = tuple(cfg.input_shape) if cfg.input_shape is not None else default_shape
    classes = cfg.num_classes if cfg.num_classes is not None else default_classes
    torch.manual_seed(seed)
    model: nn.Module | None
    if cfg.name == "synthetic":
        blocks = list(synthetic_blocks(synthetic_plan(cfg.resolved_depth, cfg.seed, shape, classes)))
        model = None
    else:
        if cfg.name == "alexnet":
            model = AlexNet(classes, shape)
        elif cfg.name == "vgg16":
            model = VGG16(classes, shape)
        elif cfg.name == "mobilenet_v1":
            model = MobileNetV1(classes, shape)
        else:
            model = CifarResNet(32 if cfg.name == "resnet32" else cfg.resolved_depth, classes, shape)
        model.eval()
        blocks = list(block_modules(model))
    for b in blocks:
        b.eval()
    return blocks, model, shape  # type: ignore[return-value]


def seeded_image(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.rand((1, *shape), generator=torch.Generator().manual_seed(seed), dtype=torch.float32)


def forward(blocks: list[nn.Module], model: nn.Module | None,
            x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Every block's input, and the output of one forward pass of the whole model."""
    with torch.inference_mode():
        inputs = []
        y = x
        for b in blocks:
            inputs.append(y.clone())
            y = b(y)
        whole = model(x.clone()) if model is not None else y
    return inputs, whole


def export_blocks(cfg: ModelConfig, problem: Problem, folder: Path, seed: int = 0) -> Exported:
    """Write b1.onnx .. bn.onnx and input.bin into `folder`; the blocks must be the problem's."""
    folder.mkdir(parents=True, exist_ok=True)
    with torch_threads(1):
        blocks, model, shape = seeded_model(cfg, seed)
        if len(blocks) != problem.n_blocks:
            raise FieldError("model", f"the torch module has {len(blocks)} blocks, the problem "
                             f"{problem.n_blocks}", cfg.name)
        inputs, whole = forward(blocks, model, seeded_image(shape, seed))
        files = []
        for i, (block, x) in enumerate(zip(blocks, inputs, strict=True)):
            path = folder / f"b{i + 1}.onnx"
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(block, (x,), str(path), dynamo=False, opset_version=OPSET,
                                  input_names=["x"], output_names=["y"], do_constant_folding=True)
            files.append(path)
    arrays = [np.ascontiguousarray(t.numpy(), dtype="<f4") for t in inputs]
    (folder / "input.bin").write_bytes(arrays[0].tobytes())
    for i, (a, b) in enumerate(zip(arrays, problem.profile.blocks, strict=True)):
        if abs(a.nbytes / 1024 - b.in_kb) > 1e-6:
            raise FieldError(f"blocks[{i}].in_kb", f"the exported block reads {a.nbytes / 1024} KB", b.in_kb)
    return Exported(folder, files, arrays, np.ascontiguousarray(whole.numpy(), dtype="<f4"))
