"""The portable instance files `partition-instance/1` and `/2` (spec sections 9 and 14).

`load_instance` validates strictly: unknown keys, missing required keys, non-finite or
negative numbers, zero bandwidth, empty block lists, exit probabilities outside [0, 1]
and tier lists that do not fit the scenario raise `FieldError` naming the field.
Optional keys (absent or null) take the spec's defaults. `save_instance` writes the
fully resolved problem at full precision, atomically.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from problems.atomic import atomic_write_text
from problems.errors import FieldError
from problems.layers import LAYER_TYPES
from problems.problem import Problem
from problems.profile import Block, Layer, Profile
from problems.scenario import (
    DEPLOY_WEIGHTS,
    MAX_CLASSES,
    NUM_CLASSES,
    W_DEPLOY,
    W_ENERGY,
    Collaborator,
    D2DLink,
    D2DPower,
    D2DScenario,
    EarlyExit,
    Link,
    MecPower,
    MecScenario,
    Scenario,
    Tier,
)
from problems.schema import NON_NEGATIVE, POSITIVE, Bound, finite_number, key_text, short

FORMAT = "partition-instance/1"
FORMAT_V2 = "partition-instance/2"
#: block keys each format knows (spec sections 9, 11, 12 and 14)
BLOCK_KEYS = {"name", "in_kb", "out_kb", "latency_ms", "energy_j", "exit_prob", "layers"}
BLOCK_KEYS_V2 = BLOCK_KEYS | {"tier_latency_ms", "inputs"}


# -- reading helpers: every accessor knows the dotted path of what it reads ------------
class _Obj:
    def __init__(self, data: Any, path: str, allowed: set[str]):
        if not isinstance(data, Mapping):
            raise FieldError(path or "<document>", "must be a JSON object", short(data))
        for key in data:
            if key not in allowed:
                where = f"{path}.{key_text(key)}" if path else key_text(key)
                raise FieldError(where, f"unknown key; expected one of {sorted(allowed)}", short(data[key]))
        self.data, self.path = data, path

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, required: bool = True) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise FieldError(self.where(key), "missing required key", None, show_value=False)
            return None
        return self.data[key]

    def number(self, key: str, default: float | None = None, *, positive: bool = False,
               at_most: float | None = None, required: bool | None = None) -> float | None:
        required = default is None if required is None else required
        value = self.raw(key, required=required)
        if value is None:
            return default
        return _number(value, self.where(key), positive=positive, at_most=at_most)

    def string(self, key: str, default: str | None = None) -> str:
        value = self.raw(key, required=default is None)
        if value is None:
            return default  # type: ignore[return-value]
        if not isinstance(value, str):
            raise FieldError(self.where(key), "must be a string", short(value))
        return value

    def obj(self, key: str, allowed: set[str], required: bool = True) -> _Obj | None:
        value = self.raw(key, required=required)
        return None if value is None else _Obj(value, self.where(key), allowed)

    def array(self, key: str, required: bool = True) -> list | None:
        value = self.raw(key, required=required)
        if value is None:
            return None
        if not isinstance(value, list):
            raise FieldError(self.where(key), "must be a JSON array", short(value))
        return value


def _number(value: Any, where: str, *, positive: bool = False, at_most: float | None = None) -> float:
    value = finite_number(value, where)
    (POSITIVE if positive else NON_NEGATIVE).check(where, value)
    if at_most is not None:
        Bound(le=at_most).check(where, value)
    return value


# -- profile ---------------------------------------------------------------------------
def _layer(data: Any, where: str) -> Layer:
    o = _Obj(data, where, {"type", "in_kb", "out_kb"})
    kind = o.string("type")
    if kind not in LAYER_TYPES:
        raise FieldError(o.where("type"), f"unknown layer type; expected one of {list(LAYER_TYPES)}", short(kind))
    return Layer(kind, o.number("in_kb"), o.number("out_kb"))


def _index(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(where, "must be a block index (an integer)", short(value))
    return value


def _block(data: Any, i: int, keys: set[str], prefix: str = "blocks") -> Block:
    where = f"{prefix}[{i}]"
    o = _Obj(data, where, keys)
    layers = tuple(_layer(v, f"{where}.layers[{j}]") for j, v in enumerate(o.array("layers", required=False) or []))
    latency = o.number("latency_ms", required=False)
    energy = o.number("energy_j", required=False)
    tier_raw = o.array("tier_latency_ms", required=False)
    tier_latency = None if tier_raw is None else tuple(
        _number(v, f"{where}.tier_latency_ms[{j}]") for j, v in enumerate(tier_raw))
    inputs_raw = o.array("inputs", required=False)
    inputs = None if inputs_raw is None else tuple(
        _index(v, f"{where}.inputs[{j}]") for j, v in enumerate(inputs_raw))
    if not layers and ((latency is None and tier_latency is None) or energy is None):
        raise FieldError(f"{where}.layers", "needed when energy_j, or both latency_ms and tier_latency_ms, are absent",
                         [])
    return Block(
        name=o.string("name", f"b{i + 1}"),
        in_kb=o.number("in_kb"),
        out_kb=o.number("out_kb"),
        layers=layers,
        latency_ms=latency,
        energy_j=energy,
        exit_prob=o.number("exit_prob", required=False, at_most=1.0),
        tier_latency_ms=tier_latency,
        inputs=inputs,
    )


# -- scenario --------------------------------------------------------------------------
def _tier(data: Any, where: str) -> Tier:
    o = _Obj(data, where, {"name", "d", "e"})
    return Tier(o.string("name"), o.number("d", positive=True), o.number("e", 1.0))


def _tiers(o: _Obj, lo: int, hi: int, kind: str) -> list[Tier]:
    items = o.array("tiers")
    if not lo <= len(items) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise FieldError(o.where("tiers"), f"a {kind} scenario needs {want} tiers, got {len(items)}", len(items),
                         show_value=False)
    return [_tier(v, f"{o.where('tiers')}[{j}]") for j, v in enumerate(items)]


def _early_exit(o: _Obj) -> EarlyExit:
    e = o.obj("early_exit", {"enabled", "num_classes"}, required=False)
    if e is None:
        return EarlyExit()
    enabled = e.raw("enabled", required=False)
    if enabled is not None and not isinstance(enabled, bool):
        raise FieldError(e.where("enabled"), "must be true or false", short(enabled))
    classes = e.raw("num_classes", required=False)
    if classes is not None and (isinstance(classes, bool) or not isinstance(classes, int) or classes < 1):
        raise FieldError(e.where("num_classes"), "must be a positive integer", short(classes))
    if classes is not None and classes > MAX_CLASSES:
        raise FieldError(e.where("num_classes"), f"must be at most 2^53 ({MAX_CLASSES})", short(classes))
    return EarlyExit(bool(enabled), NUM_CLASSES if classes is None else classes)


def _link(o: _Obj, key: str) -> Link:
    """A MEC link `{up_mbps, down_mbps, delay_ms}` under `key` of `o`."""
    lo = o.obj(key, {"up_mbps", "down_mbps", "delay_ms"})
    return Link(lo.number("up_mbps", positive=True), lo.number("down_mbps", positive=True), lo.number("delay_ms"))


def _mec_power(o: _Obj) -> MecPower:
    p = o.obj("power", {"alpha_up_mw_per_mbps", "alpha_down_mw_per_mbps", "beta_mw"}, required=False)
    default = MecPower()
    return default if p is None else MecPower(
        p.number("alpha_up_mw_per_mbps", default.alpha_up_mw_per_mbps),
        p.number("alpha_down_mw_per_mbps", default.alpha_down_mw_per_mbps),
        p.number("beta_mw", default.beta_mw),
    )


def _deploy_weights(o: _Obj) -> tuple[float, float, float]:
    dw = o.array("deploy_weights", required=False)
    if dw is None:
        return DEPLOY_WEIGHTS
    if len(dw) != 3:
        raise FieldError(o.where("deploy_weights"), "needs one weight per tier (3)", short(dw))
    return tuple(_number(v, f"{o.where('deploy_weights')}[{j}]") for j, v in enumerate(dw))  # type: ignore[return-value]


def _mec_weights(o: _Obj) -> tuple[float, float]:
    """(w_energy, w_deploy) of `weights {energy, deploy}`, with the spec's defaults."""
    w = o.obj("weights", {"energy", "deploy"}, required=False)
    return (W_ENERGY, W_DEPLOY) if w is None else (w.number("energy", W_ENERGY), w.number("deploy", W_DEPLOY))


def _mec(o: _Obj) -> MecScenario:
    tiers = _tiers(o, 3, 3, "mec")
    links = o.obj("links", {"te", "ec"})
    w_energy, w_deploy = _mec_weights(o)
    return MecScenario(
        tiers=tuple(tiers),  # type: ignore[arg-type]
        te=_link(links, "te"),
        ec=_link(links, "ec"),
        power=_mec_power(o),
        deploy_weights=_deploy_weights(o),
        w_energy=w_energy,
        w_deploy=w_deploy,
        early_exit=_early_exit(o),
    )


def _d2d(o: _Obj) -> D2DScenario:
    pool_raw = o.array("collaborators", required=False)
    if pool_raw is not None:
        if not pool_raw:
            raise FieldError(o.where("collaborators"), "must not be empty", [])
        tiers = _tiers(o, 1, 1, "d2d scenario with a collaborators pool")
        if o.has("link"):
            raise FieldError(o.where("link"), "not allowed with collaborators (each carries its own link)",
                             short(o.data["link"]))
        pool = []
        for j, v in enumerate(pool_raw):
            c = _Obj(v, f"{o.where('collaborators')}[{j}]", {"name", "d", "mbps", "delay_ms"})
            pool.append(Collaborator(c.string("name"), c.number("d", positive=True),
                                     c.number("mbps", positive=True), c.number("delay_ms")))
        collaborator, link, pool_t = None, None, tuple(pool)
    else:
        tiers = _tiers(o, 2, 2, "d2d")
        lo = o.obj("link", {"mbps", "delay_ms"})
        collaborator, link, pool_t = tiers[1], D2DLink(lo.number("mbps", positive=True), lo.number("delay_ms")), None
    p = o.obj("power", {"alpha_mw_per_mbps", "beta_mw"}, required=False)
    default = D2DPower()
    power = default if p is None else D2DPower(
        p.number("alpha_mw_per_mbps", default.alpha_mw_per_mbps), p.number("beta_mw", default.beta_mw)
    )
    w = o.obj("weights", {"energy"}, required=False)
    return D2DScenario(
        device=tiers[0],
        collaborator=collaborator,
        link=link,
        collaborators=pool_t,
        power=power,
        w_energy=W_ENERGY if w is None else w.number("energy", W_ENERGY),
        early_exit=_early_exit(o),
    )


_SCENARIO_KEYS = {
    "mec": {"kind", "tiers", "links", "power", "deploy_weights", "weights", "early_exit"},
    "d2d": {"kind", "tiers", "link", "collaborators", "power", "weights", "early_exit"},
}


def is_fleet_document(doc: Any) -> bool:
    """A `/2` document with `users` or a scenario of kind fleet (spec sections 13 and 14)."""
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT_V2:
        return False
    sc = doc.get("scenario")
    return doc.get("users") is not None or (isinstance(sc, Mapping) and sc.get("kind") == "fleet")


def problem_from_dict(doc: Any) -> Problem:
    """Validate a parsed instance document and build its Problem (a FleetProblem for a fleet)."""
    if is_fleet_document(doc):
        from problems.fleet_instance import fleet_from_dict

        return fleet_from_dict(doc)  # type: ignore[return-value]
    profile, scenario, name = read_document(doc)
    return Problem(profile, scenario, name=name)


def read_document(doc: Any) -> tuple[Profile, Scenario, str]:
    """The profile, scenario and name of a parsed instance document, every value validated."""
    fmt = doc.get("format") if isinstance(doc, Mapping) else None
    v2 = fmt == FORMAT_V2
    top = _Obj(doc, "", {"format", "name", "blocks", "scenario", "users"} if v2 else
               {"format", "name", "blocks", "scenario"})
    fmt = top.string("format")
    if fmt not in (FORMAT, FORMAT_V2):
        raise FieldError("format", f"expected {FORMAT!r} or {FORMAT_V2!r}", short(fmt))
    if is_fleet_document(doc):
        raise FieldError("users", "a fleet (spec section 13) has no single profile; read it with problem_from_dict",
                         None, show_value=False)
    blocks_raw = top.array("blocks")
    if not blocks_raw:
        raise FieldError("blocks", "must not be empty", [])
    keys = BLOCK_KEYS_V2 if v2 else BLOCK_KEYS
    blocks = tuple(_block(b, i, keys) for i, b in enumerate(blocks_raw))
    sc_raw = top.raw("scenario")
    if not isinstance(sc_raw, Mapping):
        raise FieldError("scenario", "must be a JSON object", short(sc_raw))
    kind = sc_raw.get("kind")
    if not isinstance(kind, str) or kind not in _SCENARIO_KEYS:
        raise FieldError("scenario.kind", "must be 'mec' or 'd2d'", short(kind))
    o = _Obj(sc_raw, "scenario", _SCENARIO_KEYS[kind])
    scenario = _mec(o) if kind == "mec" else _d2d(o)
    name = top.string("name", "instance")
    return Profile(name=name, blocks=blocks), scenario, name


def _path_text(path: Path) -> str:
    """The path for an error message: at most 120 characters, keeping the file name."""
    text = str(path)
    return text if len(text) <= 120 else "..." + text[-117:]


#: default cap on an instance file's size (`instance_max_mb`); a 10,000-block chain is ~4 MB
MAX_INSTANCE_MB = 64.0


class _DuplicateKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook`: a key given twice is refused (JSON itself keeps the last one)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _read_capped(path: Path, shown: str, max_mb: float) -> bytes:
    """The bytes of a regular file of at most `max_mb` MB. Anything else (a directory, a
    FIFO that would block, a device that never ends) is refused before it is read."""
    limit = int(max_mb * 2**20)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FieldError("instance", "file not found", shown) from None
    except IsADirectoryError:
        raise FieldError("instance", "is a directory, not an instance file", shown) from None
    except OSError as exc:
        raise FieldError("instance", f"cannot read file: {exc.strerror or type(exc).__name__}", shown) from None
    except ValueError:  # a NUL byte in the path
        raise FieldError("instance", "cannot read file: invalid path", shown) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FieldError("instance", "is a directory, not an instance file", shown)
        if not stat.S_ISREG(info.st_mode):
            raise FieldError("instance", "not a regular file (a device, FIFO or socket)", shown)
        raise FieldError("instance", f"file larger than instance_max_mb={max_mb:g} MB", shown)
    with os.fdopen(fd, "rb") as fh:
        os.set_blocking(fh.fileno(), True)
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise FieldError("instance", f"cannot read file: {exc.strerror or type(exc).__name__}", shown) from None
    if len(data) > limit:  # grew while being read
        raise FieldError("instance", f"file larger than instance_max_mb={max_mb:g} MB", shown)
    return data


def load_instance(path: str | Path, max_mb: float = MAX_INSTANCE_MB) -> Problem:  # or a FleetProblem (section 13)
    """Read and validate an instance file; every failure is a one-line FieldError."""
    path = Path(path)
    shown = _path_text(path)
    data = _read_capped(path, shown, max_mb)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FieldError("instance", "cannot read file: not UTF-8 text", shown) from None
    try:
        doc = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise FieldError("instance", f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                         shown) from None
    except RecursionError:
        raise FieldError("instance", "JSON nested too deeply", shown) from None
    except _DuplicateKeyError as exc:
        raise FieldError("instance", f"duplicate key {exc.args[0]!r} in a JSON object", shown) from None
    except ValueError as exc:  # e.g. an integer literal beyond Python's digit limit
        raise FieldError("instance", f"not valid JSON ({str(exc).split(':')[0]})", shown) from None
    return problem_from_dict(doc)


# -- writing ---------------------------------------------------------------------------
def _tier_dict(t: Tier, device: bool) -> dict:
    out: dict[str, Any] = {"name": t.name, "d": t.d}
    if device:
        out["e"] = t.e
    return out


def uses_v2(problem: Problem) -> bool:
    """Whether the problem needs `partition-instance/2` (spec section 14): per-tier latencies
    or explicit inputs; otherwise `/1` is written so that v1 tools keep reading it."""
    return any(b.tier_latency_ms is not None or b.inputs is not None for b in problem.profile.blocks)


def _block_dict(b: Block, v2: bool) -> dict:
    out: dict[str, Any] = {
        "name": b.name,
        "in_kb": b.in_kb,
        "out_kb": b.out_kb,
        "latency_ms": b.latency_ms,
        "energy_j": b.energy_j,
        "exit_prob": b.exit_prob,
        "layers": [{"type": x.type, "in_kb": x.in_kb, "out_kb": x.out_kb} for x in b.layers],
    }
    if v2:
        out["tier_latency_ms"] = None if b.tier_latency_ms is None else list(b.tier_latency_ms)
        if b.inputs is not None:
            out["inputs"] = list(b.inputs)
    return out


def problem_to_dict(problem: Problem) -> dict:
    """The fully resolved problem as a `partition-instance/1` document, or `/2` where needed."""
    if getattr(problem, "problem_class", None) == "fleet":
        from problems.fleet_instance import fleet_to_dict

        return fleet_to_dict(problem)
    v2 = uses_v2(problem)
    blocks = [_block_dict(b, v2) for b in problem.profile.blocks]
    sc = problem.scenario
    ee = {"enabled": sc.early_exit.enabled, "num_classes": sc.early_exit.num_classes}
    if isinstance(sc, MecScenario):
        scenario: dict[str, Any] = {
            "kind": "mec",
            "tiers": [_tier_dict(t, i == 0) for i, t in enumerate(sc.tiers)],
            "links": {k: {"up_mbps": v.up_mbps, "down_mbps": v.down_mbps, "delay_ms": v.delay_ms}
                      for k, v in (("te", sc.te), ("ec", sc.ec))},
            "power": {"alpha_up_mw_per_mbps": sc.power.alpha_up_mw_per_mbps,
                      "alpha_down_mw_per_mbps": sc.power.alpha_down_mw_per_mbps, "beta_mw": sc.power.beta_mw},
            "deploy_weights": list(sc.deploy_weights),
            "weights": {"energy": sc.w_energy, "deploy": sc.w_deploy},
            "early_exit": ee,
        }
    else:
        scenario = {"kind": "d2d", "tiers": [_tier_dict(sc.device, True)]}
        if sc.collaborators:
            scenario["collaborators"] = [
                {"name": c.name, "d": c.d, "mbps": c.mbps, "delay_ms": c.delay_ms} for c in sc.collaborators
            ]
        else:
            scenario["tiers"].append(_tier_dict(sc.collaborator, False))
            scenario["link"] = {"mbps": sc.link.mbps, "delay_ms": sc.link.delay_ms}
        scenario["power"] = {"alpha_mw_per_mbps": sc.power.alpha_mw_per_mbps, "beta_mw": sc.power.beta_mw}
        scenario["weights"] = {"energy": sc.w_energy}
        scenario["early_exit"] = ee
    return {"format": FORMAT_V2 if v2 else FORMAT, "name": problem.name, "blocks": blocks, "scenario": scenario}


def dumps_instance(problem: Problem) -> str:
    return json.dumps(problem_to_dict(problem), indent=1) + "\n"


def save_instance(problem: Problem, path: str | Path) -> Path:
    """Write the instance file atomically (temporary file + rename)."""
    return atomic_write_text(path, dumps_instance(problem))
