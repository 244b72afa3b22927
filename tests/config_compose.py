"""Compose `python -m benchmark`'s config in-process, as Hydra does for the command line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from benchmark.compose import share_store
from benchmark.schemas import register

CONF = Path(__file__).resolve().parents[1] / "conf"


@contextlib.contextmanager
def composer(conf: Path = CONF) -> Iterator:
    """`compose(overrides) -> dict` of the config in `conf` (the job's config, resolved)."""
    register()
    share_store()  # as the sweeps compose
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        def run(overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
            cfg = compose("config", overrides=list(overrides))
            return OmegaConf.to_container(cfg, resolve=True)

        yield run
