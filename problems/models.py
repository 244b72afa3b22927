"""Model profiles from configuration: `model.name`, `model.source` and the depth families.

- `source=paper`: the paper's measured profiles, the default for its four models.
- `source=torch`: the same four architectures as plain torch modules (`problems.zoo`),
  profiled from one CPU forward pass (`problems.torch_profile`).
- `name=resnet depth=6k+2` (CIFAR ResNets) and `name=synthetic depth=N seed=S` (seeded
  random CNN chains of N blocks) exist only as torch modules.
- `resnet18`, `resnet50`, `googlenet`, `densenet121` and `mobilenet_v2` are DAGs (spec
  section 12): torch modules with seeded random weights (`seed`), traced with torch.fx
  (`problems.dag_profile`) at `granularity=layer` (every layer a block) or `stage`
  (straight-line runs merged).
- `source=onnx path=FILE`: a user's ONNX model as a DAG profile (`problems.onnx_profile`),
  named after the file; `name` only labels it.

torch is imported only when a torch profile is built. Torch profiles are cached in
memory per configuration (profiles are immutable), so a sweep that rebuilds the same
model under other scenarios profiles it once; a DAG model is traced once for both
granularities, and an ONNX file is read once per path, modification time and size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from problems.dag_profile import GRANULARITIES  # imports torch only when tracing
from problems.errors import FieldError
from problems.paper import PAPER_MODELS, paper_profile
from problems.profile import Profile
from problems.zoo.checks import check_depth, check_input, resnet_stage_blocks

if TYPE_CHECKING:
    from torch import nn

FAMILIES = ("resnet", "synthetic")
#: ImageNet networks with skip connections, branches or concatenations (spec section 12)
DAG_MODELS = ("resnet18", "resnet50", "googlenet", "densenet121", "mobilenet_v2")
MODEL_NAMES = (*PAPER_MODELS, *FAMILIES, *DAG_MODELS)
TORCH_ONLY = (*FAMILIES, *DAG_MODELS)
SOURCES = ("paper", "torch", "onnx")
IMAGENET = ((3, 224, 224), 1000)
CIFAR = ((3, 32, 32), 10)
#: model -> (default input shape, default classes)
DEFAULT_INPUT = {"alexnet": IMAGENET, "vgg16": IMAGENET, "mobilenet_v1": IMAGENET, "synthetic": IMAGENET,
                 "resnet32": CIFAR, "resnet": CIFAR, **dict.fromkeys(DAG_MODELS, IMAGENET)}
DEFAULT_DEPTH = {"resnet": 32, "synthetic": 100}
#: bounds of what a torch profile is built for: profiling runs in the parent process,
#: outside `solver.timeout_s`, so a config must not ask for hours or terabytes
MAX_DEPTH = 10_000  # synthetic blocks / ResNet layers (a 10,000-block chain profiles in seconds)
MAX_INPUT_SIDE = 2048  # pixels of height and width
MAX_INPUT_CHANNELS = 1024
MAX_INPUT_ELEMENTS = 2**24  # channels x height x width (64 MB of float32 per image)
MAX_CLASSES = 1_000_000


@dataclass
class ModelConfig:
    name: str = "alexnet"
    source: str | None = None  # paper | torch | onnx; null: paper for the paper's four models, else torch
    depth: int | None = None  # resnet: 6k+2, synthetic: number of blocks; null: 32 / 100
    seed: int = 0  # synthetic: the architecture draw; DAG models: the random weights
    input_shape: tuple[int, int, int] | None = None  # torch: [C, H, W]; null: 3x224x224 (ImageNet), 3x32x32 (CIFAR)
    num_classes: int | None = None  # torch: null: 1000 (ImageNet), 10 (CIFAR)
    granularity: str | None = None  # DAG models and onnx: layer | stage; null: layer
    path: str | None = None  # onnx: the model file

    def validate(self, prefix: str) -> None:
        if self.source is not None and self.source not in SOURCES:
            raise FieldError(f"{prefix}.source", f"unknown source; choose one of {list(SOURCES)}", self.source)
        if self.source == "onnx":
            self._validate_onnx(prefix)
            return
        if self.name not in MODEL_NAMES:
            raise FieldError(f"{prefix}.name", f"unknown model; choose one of {list(MODEL_NAMES)}", self.name)
        if self.path is not None:
            raise FieldError(f"{prefix}.path", "only for model.source=onnx", self.path)
        if self.granularity is not None and self.name not in DAG_MODELS:
            raise FieldError(f"{prefix}.granularity", f"only for the DAG models {list(DAG_MODELS)} and "
                             "model.source=onnx", self.granularity)
        self._validate_granularity(prefix)
        if self.resolved_source == "paper":
            if self.name in TORCH_ONLY:
                raise FieldError(f"{prefix}.source", f"{self.name} has no paper profile; use torch", self.source)
            for key in ("input_shape", "num_classes"):
                if getattr(self, key) is not None:
                    raise FieldError(f"{prefix}.{key}", "only for model.source=torch", getattr(self, key))
        if self.name in FAMILIES:
            depth = self.resolved_depth
            resnet_stage_blocks(depth) if self.name == "resnet" else check_depth(depth)
            if depth > MAX_DEPTH:
                raise FieldError(f"{prefix}.depth", f"at most {MAX_DEPTH:,}", depth)
        elif self.depth is not None:
            raise FieldError(f"{prefix}.depth", f"only {list(FAMILIES)} take a depth", self.depth)
        if self.seed < 0:
            raise FieldError(f"{prefix}.seed", "must not be negative", self.seed)
        if self.input_shape is not None:
            channels, height, width = check_input(self.input_shape, self.name)
            if channels > MAX_INPUT_CHANNELS or max(height, width) > MAX_INPUT_SIDE or \
                    channels * height * width > MAX_INPUT_ELEMENTS:
                raise FieldError(f"{prefix}.input_shape", f"at most {MAX_INPUT_CHANNELS} channels, {MAX_INPUT_SIDE} "
                                 f"pixels a side and {MAX_INPUT_ELEMENTS:,} values in all", list(self.input_shape))
        if self.num_classes is not None and not 1 <= self.num_classes <= MAX_CLASSES:
            raise FieldError(f"{prefix}.num_classes", f"must be an integer from 1 to {MAX_CLASSES:,}",
                             self.num_classes)

    def _validate_granularity(self, prefix: str) -> None:
        if self.granularity is not None and self.granularity not in GRANULARITIES:
            raise FieldError(f"{prefix}.granularity", f"choose one of {list(GRANULARITIES)}", self.granularity)

    def _validate_onnx(self, prefix: str) -> None:
        if not isinstance(self.path, str) or not self.path:
            raise FieldError(f"{prefix}.path", "model.source=onnx needs the ONNX file", self.path)
        if not Path(self.path).is_file():
            raise FieldError(f"{prefix}.path", "no such file (or not a file)", self.path)
        for key in ("depth", "num_classes"):
            if getattr(self, key) is not None:
                raise FieldError(f"{prefix}.{key}", "not for model.source=onnx (the file fixes it)", getattr(self, key))
        self._validate_granularity(prefix)
        if self.input_shape is not None:
            check_input(self.input_shape, "the ONNX model")

    @property
    def resolved_source(self) -> str:
        return self.source or ("torch" if self.name in TORCH_ONLY else "paper")

    @property
    def resolved_granularity(self) -> str:
        return self.granularity or "layer"

    @property
    def resolved_depth(self) -> int | None:
        return self.depth if self.depth is not None else DEFAULT_DEPTH.get(self.name)


def _base_name(name: str, depth: int | None, seed: int) -> str:
    if name == "resnet":
        return f"resnet{depth}_torch"
    if name == "synthetic":
        return f"synthetic{depth}_s{seed}"
    return f"{name}_torch"


def _dag_module(name: str, seed: int, shape: tuple[int, int, int], classes: int) -> nn.Module:
    """A DAG model of the zoo with random weights drawn from `seed` (torch's global RNG untouched)."""
    import torch

    from problems.zoo.densenet import DenseNet121
    from problems.zoo.googlenet import GoogLeNet
    from problems.zoo.imagenet_resnet import resnet18, resnet50
    from problems.zoo.mobilenet_v2 import MobileNetV2

    make = {"resnet18": resnet18, "resnet50": resnet50, "googlenet": GoogLeNet, "densenet121": DenseNet121,
            "mobilenet_v2": MobileNetV2}[name]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make(classes, shape[0])


@lru_cache(maxsize=8)
def _dag_ops(name: str, seed: int, shape: tuple[int, int, int], classes: int):
    """The traced op graph of a DAG model (shared by both granularities)."""
    from problems.dag_profile import trace_ops

    return trace_ops(_dag_module(name, seed, shape, classes), shape)


@lru_cache(maxsize=16)
def _dag_torch_profile(name: str, seed: int, shape: tuple[int, int, int], classes: int, granularity: str) -> Profile:
    from problems.dag_profile import dag_profile

    label = _label(name, None, seed, shape, classes) + f"_{granularity}"
    meta = {"source": "torch", "input_shape": list(shape), "seed": seed}
    return dag_profile(_dag_ops(name, seed, shape, classes), granularity, name=label, num_classes=classes, meta=meta)


@lru_cache(maxsize=8)
def _onnx_ops(path: str, mtime_ns: int, size: int, shape: tuple[int, int, int] | None):
    from problems.onnx_profile import read_onnx

    return read_onnx(path, shape)


def onnx_profile(cfg: ModelConfig) -> Profile:
    """The DAG profile of the configured ONNX file (read once per path, mtime and size)."""
    from problems.dag_profile import dag_profile

    path = Path(cfg.path).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise FieldError("model.path", f"cannot read: {exc.strerror or type(exc).__name__}", cfg.path) from None
    shape = tuple(cfg.input_shape) if cfg.input_shape is not None else None
    ops = _onnx_ops(str(path), stat.st_mtime_ns, stat.st_size, shape)
    meta = {"source": "onnx", "path": str(path), "input_shape": list(shape) if shape else None}
    return dag_profile(ops, cfg.resolved_granularity, name=f"{path.stem}_onnx_{cfg.resolved_granularity}", meta=meta)


def _module(name: str, depth: int | None, shape: tuple[int, int, int], classes: int) -> nn.Module:
    """The architecture with zero weights: only the tensor sizes matter to Table 1."""
    from problems.torch_profile import zeroed
    from problems.zoo.alexnet import AlexNet
    from problems.zoo.mobilenet_v1 import MobileNetV1
    from problems.zoo.resnet import CifarResNet
    from problems.zoo.vgg16 import VGG16

    if name == "alexnet":
        return zeroed(lambda: AlexNet(classes, shape))
    if name == "vgg16":
        return zeroed(lambda: VGG16(classes, shape))
    if name == "mobilenet_v1":
        return zeroed(lambda: MobileNetV1(classes, shape))
    return zeroed(lambda: CifarResNet(32 if name == "resnet32" else depth, classes, shape))


def _label(name: str, depth: int | None, seed: int, shape: tuple[int, int, int], classes: int) -> str:
    default_shape, default_classes = DEFAULT_INPUT[name]
    label = _base_name(name, depth, seed)
    if shape != default_shape:
        label += "_" + "x".join(map(str, shape))
    if classes != default_classes:
        label += f"_c{classes}"
    return label


@lru_cache(maxsize=16)
def _torch_profile(name: str, depth: int | None, seed: int, shape: tuple[int, int, int], classes: int) -> Profile:
    from problems.torch_profile import profile_module, torch_threads
    from problems.zoo.synthetic import synthetic_blocks, synthetic_plan

    label = _label(name, depth, seed, shape, classes)
    with torch_threads(1):
        if name == "synthetic":
            plan = synthetic_plan(depth, seed, shape, classes)
            return profile_module(None, shape, name=label, blocks=synthetic_blocks(plan), num_classes=classes)
        return profile_module(_module(name, depth, shape, classes), shape, name=label, num_classes=classes)


def clear_cache() -> None:
    """Forget the cached torch profiles (for timing the profiler)."""
    for cached in (_torch_profile, _dag_ops, _dag_torch_profile, _onnx_ops):
        cached.cache_clear()


def torch_profile(cfg: ModelConfig) -> Profile:
    """The profile of the configured torch architecture (cached per configuration)."""
    default_shape, default_classes = DEFAULT_INPUT[cfg.name]
    shape = tuple(cfg.input_shape) if cfg.input_shape is not None else default_shape
    classes = cfg.num_classes if cfg.num_classes is not None else default_classes
    if cfg.name in DAG_MODELS:
        profile = _dag_torch_profile(cfg.name, cfg.seed, shape, classes, cfg.resolved_granularity)
    else:
        profile = _torch_profile(cfg.name, cfg.resolved_depth, cfg.seed, shape, classes)
    return dataclasses.replace(profile, meta=dict(profile.meta))


def profile_from_config(cfg: ModelConfig) -> Profile:
    cfg.validate("model")
    if cfg.resolved_source == "paper":
        return paper_profile(cfg.name)
    if cfg.resolved_source == "onnx":
        return onnx_profile(cfg)  # a new profile on every call: its meta is the caller's
    return torch_profile(cfg)
