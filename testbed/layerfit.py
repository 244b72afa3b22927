"""The paper's Sec. 3.2 experiment on this testbed: every Table 1 layer type timed at a range
of input and output sizes on every tier runtime, and the three model families fitted.

The grid varies input and output sizes independently where the type allows it (convs with
more or fewer output than input channels, pools of stride 2 and of stride 1, fully connected
layers of every in/out pair); ReLU and Norm keep their size. Each layer is one ONNX file,
timed like a block (`testbed.timing`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from problems.torch_profile import torch_threads
from testbed.fits import MODELS, fit_type
from testbed.session import Testbed


def layer_grid() -> list[tuple[str, nn.Module, tuple[int, ...]]]:
    """(Table 1 type, module, input shape with batch) for every point of the grid."""
    grid: list[tuple[str, nn.Module, tuple[int, ...]]] = []
    for hw in (8, 16, 32):
        for cin, cout in ((16, 32), (32, 16), (32, 64), (64, 32)):
            grid.append(("conv", nn.Conv2d(cin, cout, 3, padding=1), (1, cin, hw, hw)))
    for c in (16, 64):
        for hw in (8, 16, 32, 56):
            grid.append(("relu", nn.ReLU(), (1, c, hw, hw)))
            grid.append(("norm", nn.BatchNorm2d(c).eval(), (1, c, hw, hw)))
        for hw in (16, 32, 56):
            grid.append(("pool", nn.MaxPool2d(2, 2), (1, c, hw, hw)))
            grid.append(("pool", nn.MaxPool2d(3, 1, 1), (1, c, hw, hw)))
    for fin in (256, 1024, 2048):
        for fout in (256, 1024, 2048):
            grid.append(("fc", nn.Linear(fin, fout), (1, fin)))
    return grid


def export_layers(folder: Path, seed: int) -> tuple[list[dict], list[Path], list[np.ndarray]]:
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    rows, files, inputs = [], [], []
    with torch_threads(1):
        for k, (kind, module, shape) in enumerate(layer_grid()):
            x = torch.rand(shape, generator=torch.Generator().manual_seed(seed + k))
            with torch.inference_mode():
                y = module.eval()(x)
            path = folder / f"layer{k}_{kind}.onnx"
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(module, (x,), str(path), dynamo=False, opset_version=17,
                                  input_names=["x"], output_names=["y"])
            rows.append({"type": kind, "layer": type(module).__name__, "input_shape": list(shape),
                         "x_bytes": x.numel() * 4, "y_bytes": y.numel() * 4})
            files.append(path)
            inputs.append(np.ascontiguousarray(x.numpy(), dtype="<f4"))
    return rows, files, inputs


def error_table(models: dict, tiers: list[str]) -> list[dict]:
    table = []
    for tier in tiers:
        for kind, fits in models[tier].items():
            errors = {m: fits[m]["loo_error"] for m in MODELS}
            table.append({"tier": tier, "type": kind, **errors, "best": min(errors, key=errors.get)})
    return table


def markdown(table: list[dict]) -> str:
    lines = ["| tier | type | linear | logistic | polynomial | best |", "|---|---|---|---|---|---|"]
    for r in table:
        lines.append(f"| {r['tier']} | {r['type']} | {r['linear']:.3f} | {r['logistic']:.3f} | "
                     f"{r['polynomial']:.3f} | {r['best']} |")
    return "\n".join(lines) + "\n"


async def fit_layers(tb: Testbed, files_dir: Path, cfg, seed: int) -> dict:
    rows, files, inputs = export_layers(files_dir / "layers", seed)
    await tb.load("layers", files)
    for k in tqdm(range(len(files)), desc="timing layers", unit="layer", leave=False):
        timed = await tb.time_file("layers", k, inputs[k], warmup=1, repeats=cfg.repeats, min_loop_ms=cfg.min_loop_ms)
        rows[k]["ms"] = [t["ms"] for t in timed]
    models: dict[str, dict] = {}
    for s, tier in enumerate(tb.tier_names):
        models[tier] = {}
        for kind in dict.fromkeys(r["type"] for r in rows):
            pts = [r for r in rows if r["type"] == kind]
            models[tier][kind] = fit_type(kind, [r["x_bytes"] for r in pts], [r["y_bytes"] for r in pts],
                                          [r["ms"][s] for r in pts])
    table = error_table(models, tb.tier_names)
    wins = sum(r["best"] == "linear" for r in table)
    return {"tiers": tb.tier_names, "error": "median |predicted - measured| / measured, leave-one-out",
            "layers": rows, "models": models, "error_table": table,
            "linear_best": {"count": wins, "of": len(table), "claim_holds": wins == len(table)},
            "error_table_markdown": markdown(table)}
