"""Model profiles from configuration: `model.name` and `model.source`.

`source=paper` is the paper's measured profiles (the default for its four models).
"""

from __future__ import annotations

from dataclasses import dataclass

from problems.errors import FieldError
from problems.paper import PAPER_MODELS, paper_profile
from problems.profile import Profile


@dataclass
class ModelConfig:
    name: str = "alexnet"
    source: str = "paper"


def profile_from_config(cfg: ModelConfig) -> Profile:
    if cfg.source == "paper":
        if cfg.name not in PAPER_MODELS:
            raise FieldError("model.name", f"no paper profile; choose one of {list(PAPER_MODELS)}", cfg.name)
        return paper_profile(cfg.name)
    raise FieldError("model.source", "unknown source; choose 'paper'", cfg.source)
