"""partbench's Gymnasium environment, registered as `partbench/Partition-v0`.

The package is a `gymnasium.envs` entry-point plugin (pyproject.toml), so after
`pip install -e .` a plain `import gymnasium` registers the environment
(`register_envs()` does it by hand). The MDP itself (`partbench_env.core`) does not
need Gymnasium, so the solvers import it without loading Gymnasium.
"""

from __future__ import annotations

from partbench_env.core import Partition, Settings, intent_bounds, state_table, to_tiers

ENV_ID = "partbench/Partition-v0"

__all__ = ["ENV_ID", "Partition", "Settings", "intent_bounds", "register_envs", "state_table", "to_tiers"]


def register_envs() -> None:
    """Register `partbench/Partition-v0` once (Gymnasium's plugin loader calls this)."""
    from gymnasium.envs.registration import register, registry  # loaded while `import gymnasium` runs this

    if ENV_ID not in registry:
        register(id=ENV_ID, entry_point="partbench_env.env:PartitionEnv")
