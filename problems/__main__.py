"""`python -m problems show [group=name] [group.key=value ...] [out=PATH | --write PATH]`.

Prints a problem's blocks (layers, in/out KB, reference latency, device energy, exit
probability) and optionally writes its instance file. A DAG (spec section 12) also
shows each block's number and the blocks it reads (`input`: the raw input), so that
branches and joins can be followed down the table. The groups are
`model`, `scenario` and `network`, as in the benchmark's configuration: `model=vgg16`
starts from `conf/model/vgg16.yaml` (when the repository's `conf/` is there), dotted
keys override single fields. Bad input is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from problems.build import SCENARIO_SCHEMAS, build_problem
from problems.errors import FieldError, ProblemError
from problems.instance import save_instance
from problems.models import ModelConfig
from problems.networks import NetworkConfig
from problems.problem import Problem
from problems.profile import Profile

GROUPS = ("model", "scenario", "network")
CONF = Path(__file__).resolve().parents[1] / "conf"
#: the key a bare `group=name` sets when the group has no YAML file of that name
NAME_KEY = {"model": "name", "scenario": "kind", "network": "name"}


def _schemas() -> dict[str, type]:
    """The dataclass behind each `<name>_schema` a group file extends (as `benchmark.schemas` registers)."""
    from problems.fleet_build import FleetConfig

    return {"model_schema": ModelConfig, "network_schema": NetworkConfig, "fleet_schema": FleetConfig,
            **{f"{kind}_schema": cls for kind, cls in SCENARIO_SCHEMAS.items()}}


def _group_base(group: str, name: str) -> dict:
    """The group file composed as Hydra composes it: its schema's defaults, then the file's keys."""
    path = CONF / group / f"{name}.yaml"
    if not path.is_file():
        return {NAME_KEY[group]: name}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise FieldError(group, f"cannot read {path}: {exc.__class__.__name__}", name) from None
    if not isinstance(data, dict):
        raise FieldError(group, f"{path} is not a mapping", name)
    defaults = data.pop("defaults", None) or []
    schemas = _schemas()
    parts = [dataclasses.asdict(schemas[d]()) for d in defaults if isinstance(d, str) and d in schemas]
    return OmegaConf.to_container(OmegaConf.merge(*parts, data), resolve=True) if parts else data


def parse_overrides(items: Sequence[str]) -> tuple[dict, str | None]:
    """The three config groups and the `out` path from `key=value` arguments."""
    base: dict[str, dict] = {}
    dotted, out = [], None
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise FieldError("argument", "expected key=value", item)
        if key == "out":
            out = value
        elif key in GROUPS:
            base[key] = _group_base(key, value)
        elif key.split(".", 1)[0] in GROUPS and "." in key:
            dotted.append(item)
        else:
            raise FieldError(key, f"unknown key; expected out, one of {list(GROUPS)} or group.field", value)
    parts = [OmegaConf.create({g: base.get(g, {}) for g in GROUPS})]
    for item in dotted:
        key, _, value = item.partition("=")
        try:
            parts.append(OmegaConf.from_dotlist([item]))
        except (OmegaConfBaseException, yaml.YAMLError) as exc:
            raise FieldError(key, f"cannot parse the value ({exc.__class__.__name__})", value) from None
    try:
        cfg = OmegaConf.to_container(OmegaConf.merge(*parts), resolve=True)
    except OmegaConfBaseException as exc:
        raise FieldError("overrides", str(exc).splitlines()[0], list(dotted)) from None
    return cfg, out


def _layers(types: Sequence[str]) -> str:
    counts = Counter(types)
    return " ".join(t if counts[t] == 1 else f"{t}*{counts[t]}" for t in counts) or "-"


NAME_WIDTH = 48  # longer block names (merged stages, ONNX scopes) keep their informative end


def _name(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else "..." + name[-(NAME_WIDTH - 3):]


def _inputs(profile: Profile, v: int) -> str:
    """`1, 0` or, for runs of three or more consecutive blocks (DenseNet's concatenations), `0-6`."""
    runs: list[list[int]] = []
    for u in profile.inputs_of(v):
        if runs and u == runs[-1][-1] + 1:
            runs[-1].append(u)
        else:
            runs.append([u])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs]
    return ", ".join(parts) or "input"


def block_table(problem: Problem) -> str:
    """One row per block: layers, in/out KB, reference latency (ms), device energy (J), exit prob.

    A DAG's rows start with the block's number and the numbers of the blocks it reads.
    """
    profile = problem.profile
    dag = profile.is_dag
    lat, eng = profile.reference_costs()
    left = ("#", "block", "inputs") if dag else ("block",)
    rows = [(*left, "layers", "in KB", "out KB", "latency ms", "energy J", "exit")]
    for i, b in enumerate(profile.blocks):
        exit_ = "-" if b.exit_prob is None else f"{b.exit_prob:.3f}"
        names = (str(i), _name(b.name), _inputs(profile, i)) if dag else (b.name,)
        rows.append((*names, _layers([x.type for x in b.layers]), f"{b.in_kb:.3f}", f"{b.out_kb:.3f}",
                     f"{lat[i]:.3f}", f"{eng[i]:.4f}", exit_))
    rows.append(("total", *[""] * (len(left) - 1), "", "", "", f"{lat.sum():.3f}", f"{eng.sum():.4f}", ""))
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    text = len(left) + 1  # left-aligned columns: the names, inputs and layers
    lines = [
        "  ".join(c.ljust(w) if j < text else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(-1, lines[1])
    shape = f"{profile.n_blocks} blocks"
    if dag:
        edges = sum(len(profile.inputs_of(v)) for v in range(profile.n_blocks))
        shape += f", {edges} edges (DAG)"
    head = f"{problem.name}: {shape}, {problem.scenario.kind} scenario"
    return head + "\n" + "\n".join(line.rstrip() for line in lines)


def show(items: Sequence[str], write: str | None) -> None:
    cfg, out = parse_overrides(items)
    out = write or out
    problem = build_problem(cfg["model"], cfg["scenario"], cfg["network"])
    print(block_table(problem))
    if out:
        try:
            path = save_instance(problem, out)
        except OSError as exc:
            raise FieldError("out", f"cannot write: {exc.strerror or exc.__class__.__name__}", out) from None
        print(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m problems", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("show", help="print a problem's blocks and optionally write its instance file")
    p.add_argument("overrides", nargs="*", help="group=name, group.key=value, out=PATH")
    p.add_argument("--write", metavar="PATH", help="write the partition-instance/1 JSON here")
    args = parser.parse_args(argv)
    try:
        show(args.overrides, args.write)
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `| head`: the reader left; not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
    return 0


if __name__ == "__main__":
    sys.exit(main())
