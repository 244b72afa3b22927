"""Fleet instance files (`partition-instance/2` with `users`, spec sections 13 and 14).

The block, link and power readers are those of `problems.instance`, so a user's blocks are
validated exactly like a single-user file's, with every error naming its field under
`users[k]` (`users[0].blocks[2].in_kb`, `users[3].rate_rps`, `scenario.edge.workers`).
"""

from __future__ import annotations

from typing import Any

from problems.errors import FieldError
from problems.fleet import QUEUEING, FleetProblem, FleetShared, FleetUser
from problems.instance import (
    BLOCK_KEYS,
    FORMAT_V2,
    _block,
    _block_dict,
    _deploy_weights,
    _link,
    _mec_power,
    _mec_weights,
    _Obj,
)
from problems.profile import Profile
from problems.scenario import Link, Tier
from problems.schema import short

#: a user's blocks: v1's keys and per-tier latencies (no DAG inputs in v2 fleets)
FLEET_BLOCK_KEYS = BLOCK_KEYS | {"tier_latency_ms"}
SCENARIO_KEYS = {"kind", "edge", "cloud", "ec", "power", "deploy_weights", "weights", "max_utilization", "queueing"}
USER_KEYS = {"name", "rate_rps", "device", "te", "blocks"}


def _workers(o: _Obj) -> int:
    value = o.raw("workers")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FieldError(o.where("workers"), "must be a positive integer (a JSON integer >= 1)", short(value))
    return value


def _server(sc: _Obj, key: str) -> tuple[Tier, int]:
    o = sc.obj(key, {"d", "workers"})
    return Tier(key, o.number("d", positive=True)), _workers(o)


def _shared(sc: _Obj) -> FleetShared:
    edge, edge_workers = _server(sc, "edge")
    cloud, cloud_workers = _server(sc, "cloud")
    rho_max = sc.number("max_utilization", 0.9, positive=True, at_most=1.0)
    queueing = sc.string("queueing", "none")
    if queueing not in QUEUEING:
        raise FieldError(sc.where("queueing"), f"unknown queueing; expected one of {list(QUEUEING)}", short(queueing))
    w_energy, w_deploy = _mec_weights(sc)
    return FleetShared(edge=edge, cloud=cloud, edge_workers=edge_workers, cloud_workers=cloud_workers,
                       ec=_link(sc, "ec"), power=_mec_power(sc), deploy_weights=_deploy_weights(sc),
                       w_energy=w_energy, w_deploy=w_deploy, max_utilization=rho_max, queueing=queueing)


def _user(data: Any, k: int) -> FleetUser:
    where = f"users[{k}]"
    o = _Obj(data, where, USER_KEYS)
    rate = o.number("rate_rps", positive=True)
    dev = o.obj("device", {"d", "e"})
    device = Tier("device", dev.number("d", positive=True), dev.number("e", 1.0))
    blocks_raw = o.array("blocks")
    if not blocks_raw:
        raise FieldError(o.where("blocks"), "must not be empty", [])
    blocks = tuple(_block(b, i, FLEET_BLOCK_KEYS, prefix=o.where("blocks")) for i, b in enumerate(blocks_raw))
    name = o.string("name", f"u{k}")
    return FleetUser(name, rate, device, _link(o, "te"), Profile(name=name, blocks=blocks))


def fleet_from_dict(doc: Any) -> FleetProblem:
    """Validate a parsed fleet document and build its FleetProblem."""
    top = _Obj(doc, "", {"format", "name", "scenario", "users"})
    fmt = top.string("format")
    if fmt != FORMAT_V2:
        raise FieldError("format", f"a fleet is always {FORMAT_V2!r}", short(fmt))
    sc = top.obj("scenario", SCENARIO_KEYS)
    if sc.raw("kind") != "fleet":
        raise FieldError("scenario.kind", "a document with users must have kind 'fleet'", short(sc.raw("kind")))
    users_raw = top.array("users")
    if not users_raw:
        raise FieldError("users", "must not be empty", [])
    shared = _shared(sc)
    users = [_user(u, k) for k, u in enumerate(users_raw)]
    return FleetProblem(users, shared, name=top.string("name", "fleet"))


def _link_dict(x: Link) -> dict:
    return {"up_mbps": x.up_mbps, "down_mbps": x.down_mbps, "delay_ms": x.delay_ms}


def fleet_to_dict(fleet: FleetProblem) -> dict:
    """The fully resolved fleet as a `partition-instance/2` document."""
    s = fleet.shared
    scenario = {
        "kind": "fleet",
        "edge": {"d": s.edge.d, "workers": int(s.edge_workers)},
        "cloud": {"d": s.cloud.d, "workers": int(s.cloud_workers)},
        "ec": _link_dict(s.ec),
        "power": {"alpha_up_mw_per_mbps": s.power.alpha_up_mw_per_mbps,
                  "alpha_down_mw_per_mbps": s.power.alpha_down_mw_per_mbps, "beta_mw": s.power.beta_mw},
        "deploy_weights": list(s.deploy_weights),
        "weights": {"energy": s.w_energy, "deploy": s.w_deploy},
        "max_utilization": s.max_utilization,
        "queueing": s.queueing,
    }
    users = []
    for u in fleet.users:
        blocks = []
        for b in u.profile.blocks:
            d = _block_dict(b, True)
            d.pop("inputs", None)
            blocks.append(d)
        users.append({"name": u.name, "rate_rps": u.rate_rps, "device": {"d": u.device.d, "e": u.device.e},
                      "te": _link_dict(u.te), "blocks": blocks})
    return {"format": FORMAT_V2, "name": fleet.name, "scenario": scenario, "users": users}
