"""Pieces shared by the IoRLO solvers: intent thresholds, the networks, a numpy actor
for the timed decision, seeded initialization and cached checkpoints.

Both solvers train in `prepare` and decide in `solve` with one actor inference. The
decision runs in numpy (no torch dispatch overhead: a few microseconds for 17 blocks);
`NumpyActor` reads the same weights as the torch actor, so both give the same action.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import pickle
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from partbench_env.core import intent_bounds, to_tiers  # noqa: F401 - re-exported for the solvers
from problems import Problem
from problems.atomic import atomic_write_bytes
from problems.errors import FieldError
from problems.paths import safe_name

#: config fields that change where or whether training happens, not what it produces
RUN_ONLY_FIELDS = ("checkpoint_dir", "checkpoint", "retrain", "progress")


class CheckpointError(ValueError):
    """A checkpoint file cannot be used for this problem; the message says why."""


# -- intent thresholds (spec section 7): the environment's, re-exported for the solvers ---------
def validate_thresholds(cfg: Any, prefix: str) -> None:
    if not 0.0 <= cfg.eps <= cfg.phi <= 1.0:
        raise FieldError(f"{prefix}.eps", f"need 0 <= eps <= phi <= 1 (phi = {cfg.phi})", cfg.eps)
    if not 0.0 <= cfg.zeta <= 1.0:
        raise FieldError(f"{prefix}.zeta", "must lie in [0, 1]", cfg.zeta)


# -- networks -------------------------------------------------------------------------------
def _linear(n_in: int, n_out: int, gen: torch.Generator) -> nn.Linear:
    """nn.Linear with torch's default initialization drawn from `gen`, not the global RNG."""
    layer = nn.Linear(n_in, n_out)
    bound = 1.0 / math.sqrt(n_in)
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=gen)
        nn.init.uniform_(layer.bias, -bound, bound, generator=gen)
    return layer


def mlp(n_in: int, hidden: tuple[int, ...], n_out: int, gen: torch.Generator, sigmoid: bool) -> nn.Sequential:
    """Linear-ReLU stack; with `sigmoid` the output lies in (0, 1) like the paper's actor."""
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [_linear(n_in, h, gen), nn.ReLU()]
        n_in = h
    layers.append(_linear(n_in, n_out, gen))
    if sigmoid:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


class NumpyActor:
    """The actor's forward pass in numpy: ReLU hidden layers, sigmoid output."""

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray]]):
        self.layers = layers  # (W^T [in, out], b [out]) per linear layer

    @classmethod
    def view(cls, actor: nn.Sequential) -> NumpyActor:
        """Views on the torch parameters: in-place optimizer steps show through, no copies."""
        lin = [m for m in actor if isinstance(m, nn.Linear)]
        return cls([(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in lin])

    @classmethod
    def copy(cls, actor: nn.Sequential) -> NumpyActor:
        """Contiguous float64 copies: the fastest layout for single decisions."""
        lin = [m for m in actor if isinstance(m, nn.Linear)]
        return cls([(np.ascontiguousarray(m.weight.detach().numpy().T, dtype=np.float64),
                     m.bias.detach().numpy().astype(np.float64)) for m in lin])

    def __call__(self, state: np.ndarray) -> np.ndarray:
        h = state
        last = len(self.layers) - 1
        for j, (wt, b) in enumerate(self.layers):
            h = h @ wt + b
            if j < last:
                h = np.maximum(h, 0.0)
        return 1.0 / (1.0 + np.exp(-h))


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Tiny networks train fastest, and reproducibly, on one intra-op thread."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    with torch.no_grad():
        torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)


MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes 64-bit seeds


def check_seed(prefix: str, seed: object) -> None:
    """`solver.seed`: null or an integer in [0, 2^63 - 1] (a config error, before any file is written)."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise FieldError(f"{prefix}.seed", "must be null or an integer from 0 to 2^63 - 1", seed)


def training_seed(cfg_seed: int | None, rng: np.random.Generator) -> int:
    """The config's seed, else one drawn from the run's generator."""
    return int(cfg_seed) if cfg_seed is not None else int(rng.integers(0, 2**62))


# -- cache keys and checkpoints -------------------------------------------------------------
def tables_digest(problem: Problem) -> str:
    """Hash of everything that scores assignments: the chain tables and the scenario kind."""
    ct = problem.chain
    h = hashlib.sha256(problem.kind.encode())
    for arr in ct.arrays():
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    h.update(b"exits" if ct.has_exits else b"")
    return h.hexdigest()


def cache_key(solver: str, content: str, cfg: Any, seed: int) -> str:
    """Key of one training run: (instance content, training config, seed)."""
    params = {k: v for k, v in asdict(cfg).items() if k not in RUN_ONLY_FIELDS and k != "seed"}
    text = json.dumps({"solver": solver, "content": content, "config": params, "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def checkpoint_path(directory: str, name: str, key: str) -> Path:
    """`<directory>/<name>-<key>.pt`; `~` expands, so the default works from any run directory."""
    return Path(os.path.expanduser(directory)).resolve() / f"{safe_name(name, 80)}-{key}.pt"


def save_checkpoint(path: Path, fmt: str, nets: Mapping[str, nn.Module], meta: dict[str, Any]) -> None:
    """Write state dicts and JSON-like metadata atomically (temp file + rename)."""
    buf = io.BytesIO()
    torch.save({"format": fmt, "nets": {k: v.state_dict() for k, v in nets.items()}, "meta": meta}, buf)
    atomic_write_bytes(path, buf.getvalue())


#: what a metadata entry must hold, by the kind a solver asks for
META_KINDS: dict[str, tuple[str, Any]] = {
    "number": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "list": ("a list", lambda v: isinstance(v, list)),
    "numbers": ("a list of finite numbers", lambda v: isinstance(v, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in v)),
}


def _check_tensor(path: Path | str, where: str, tensor: Any, want: torch.Tensor) -> None:
    """Saved weights must be finite real floating-point tensors of the network's shape."""
    if not isinstance(tensor, torch.Tensor):
        raise CheckpointError(f"checkpoint {path}: {where} is {type(tensor).__name__}, not a tensor")
    if not tensor.dtype.is_floating_point:
        raise CheckpointError(f"checkpoint {path}: {where} holds {str(tensor.dtype).removeprefix('torch.')} "
                              "values; weights are floating-point numbers")
    if tuple(tensor.shape) != tuple(want.shape):
        raise CheckpointError(
            f"checkpoint {path}: {where} has shape {list(tensor.shape)} but this problem "
            f"needs {list(want.shape)} (trained for another model or config?)"
        )
    if not bool(torch.isfinite(tensor).all()):
        raise CheckpointError(f"checkpoint {path}: {where} holds NaN or infinite weights")


def load_checkpoint(path: Path | str, fmt: str, nets: Mapping[str, nn.Module],
                    meta_keys: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Load weights into `nets` and return the metadata. Everything is checked first: the
    structure, each tensor's type, shape and finiteness, and the metadata entries the
    solver reads (`meta_keys`: name -> kind of `META_KINDS`). Any mismatch is a one-line
    CheckpointError naming the file; nothing is loaded then."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path}: no such file") from None
    except pickle.UnpicklingError as exc:  # weights_only refused an object that is not tensors and plain data
        why = next((ln.strip() for ln in str(exc).splitlines() if "GLOBAL" in ln or "Unsupported" in ln), "")
        raise CheckpointError(f"checkpoint {path}: refused: holds objects other than tensors and plain data"
                              + (f" ({why})" if why else "")) from None
    except Exception as exc:  # a truncated or foreign file
        first = (str(exc).strip().splitlines() or [""])[0]
        raise CheckpointError(f"checkpoint {path}: unreadable ({type(exc).__name__}: {first})") from None
    if not isinstance(data, dict) or data.get("format") != fmt:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(f"checkpoint {path}: format {got!r}, expected {fmt!r}")
    saved_nets, meta = data.get("nets"), data.get("meta")
    if not isinstance(saved_nets, dict):
        raise CheckpointError(f"checkpoint {path}: 'nets' is missing or not a mapping of networks")
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path}: 'meta' is missing or not a mapping")
    for key, kind in (meta_keys or {}).items():
        what, ok = META_KINDS[kind]
        if key not in meta:
            raise CheckpointError(f"checkpoint {path}: meta has no {key!r}")
        if not ok(meta[key]):
            raise CheckpointError(f"checkpoint {path}: meta {key!r} must be {what}")
    for name, net in nets.items():
        saved = saved_nets.get(name)
        if saved is None:
            raise CheckpointError(f"checkpoint {path}: has no {name!r} network")
        if not isinstance(saved, dict):
            raise CheckpointError(f"checkpoint {path}: {name!r} is not a mapping of tensors")
        want = net.state_dict()
        if set(saved) != set(want):
            raise CheckpointError(f"checkpoint {path}: {name} layers {sorted(map(str, saved))} do not match "
                                  f"{sorted(want)}")
        for key, tensor in want.items():
            _check_tensor(path, f"{name}.{key}", saved[key], tensor)
    for name, net in nets.items():
        net.load_state_dict(saved_nets[name])
    return meta


def training_trace(meta: dict, key: str) -> dict:
    """info["trace"] from a checkpoint's metadata: [seconds since training start, env steps,
    best cost seen], or a note saying why there is none. Only a checkpoint of this very run
    (instance content, config, seed: its cache `key`) has a trace of this instance's costs."""
    trace = meta.get("trace")
    if trace is None:
        return {"trace_note": "no training trace: the checkpoint predates them"}
    number = META_KINDS["number"][1]
    if not isinstance(trace, list) or not trace or not all(
            isinstance(p, list) and len(p) == 3 and all(number(v) for v in p) for p in trace):
        return {"trace_note": "no training trace: the checkpoint's is not a list of [seconds, steps, cost] points"}
    if meta.get("key") != key:
        return {"trace_note": f"no training trace: the checkpoint was trained on {meta.get('instance')}, "
                              "another instance, config or seed"}
    return {"trace": trace, "trace_evaluations": "env steps of training"}
