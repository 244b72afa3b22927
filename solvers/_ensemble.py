"""Many IoRLO DDPG agents trained in one computation: stacked weights, batched matmuls.

Each agent has its own problem (a `partbench_env.Partition`), seed, generators (the
torch one draws its initial weights as `iorlo` always did, the numpy one its noise and
memory samples), replay memory, exploration noise and hyperparameters. Agents whose
networks and schedules have the same shape form one group; a group's networks are B
rows of one flat float32 buffer and every learning step is a handful of stacked numpy
matmuls ([B, M, K] @ [B, K, N]) and elementwise updates for all of them. Gradients are
written out by hand (two-layer MLPs), so a step builds no autograd graph.

An agent's result does not depend on which other agents share its group, bit for bit:
acting, noise, memory sampling and scoring are per agent; elementwise float32 arithmetic
is exact per element; numpy's stacked matmul calls BLAS once per matrix. (torch.bmm
is not used: MKL's batched kernels round a matrix differently depending on how many
others share the call and where it sits among them.) `tests/test_ensemble.py` checks
it alone and among others.

Scoring is lazy: the state that follows an action depends only on the action, so a
transition's reward is needed only when a learning step samples it. Pending
transitions are scored together through `Problem.evaluate` (one call instead of one
per step) the first time one of them is drawn, when too many wait, and at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from partbench_env.core import Partition, to_tiers
from solvers._trace import improvements, step_seconds

PAD = 16  # floats: agents' rows start on 64-byte boundaries
MAX_PENDING = 4096  # transitions waiting for their reward before a forced scoring


def padded(width: int) -> int:
    return -(-width // PAD) * PAD


@dataclass
class AgentSpec:
    """One training run: the MDP, the IoRLO config (solvers.iorlo.Config) and the seed."""

    mdp: Partition
    cfg: Any
    seed: int
    label: str = ""

    def shape(self) -> tuple:
        """Agents with equal shapes train in one group."""
        c = self.cfg
        return (self.mdp.n_blocks, c.actor_hidden, c.critic_hidden, c.batch_size, c.memory, c.episodes, c.steps)


@dataclass
class AgentResult:
    """What one agent's training produced: its networks as nn.Linear state dicts and its metadata."""

    actor: dict[str, torch.Tensor]
    critic: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)


class Stack:
    """B one-hidden-layer MLPs and their B target copies, each network in one padded float32 row.

    `P` is [2, B, width]: P[0] the trained networks, P[1] their targets. Layer weights are
    stored augmented, [n_in + 1, n_out] with the bias as the last row, so that a layer is
    one matmul on inputs with a trailing column of ones and its gradient (weights and
    bias) is one matmul too. `W1`/`W2` are [2, B, ...] views, so a forward pass of the
    networks and their targets is one stacked matmul per layer (still one BLAS call per
    matrix).
    """

    def __init__(self, B: int, n_in: int, hidden: int, n_out: int):
        self.dims = (n_in, hidden, n_out)
        self.sizes = ((n_in + 1) * hidden, (hidden + 1) * n_out)
        self.width = padded(sum(self.sizes))
        self.P = np.zeros((2, B, self.width), dtype=np.float32)
        a, b = self.sizes
        self.W1 = self.P[:, :, :a].reshape(2, B, n_in + 1, hidden)  # views into P
        self.W2 = self.P[:, :, a : a + b].reshape(2, B, hidden + 1, n_out)
        assert np.shares_memory(self.W1, self.P) and np.shares_memory(self.W2, self.P)
        self.grad = np.zeros((B, self.width), dtype=np.float32)  # the padding stays zero
        self.grad_W1 = self.grad[:, :a].reshape(B, n_in + 1, hidden)
        self.grad_W2 = self.grad[:, a : a + b].reshape(B, hidden + 1, n_out)

    def load_linear(self, row: int, seq: torch.nn.Sequential) -> None:
        """Copy an nn.Sequential(Linear, ReLU, Linear[, Sigmoid]) into agent `row` and its target."""
        lin = [m for m in seq if isinstance(m, torch.nn.Linear)]
        for W, m in zip((self.W1, self.W2), lin, strict=True):
            W[:, row, :-1] = m.weight.detach().numpy().T
            W[:, row, -1] = m.bias.detach().numpy()

    def state_dict(self, row: int) -> dict[str, torch.Tensor]:
        """Agent `row`'s trained network as the state dict of the nn.Sequential it was loaded from."""
        W1, W2 = self.W1[0, row], self.W2[0, row]
        return {"0.weight": torch.from_numpy(np.ascontiguousarray(W1[:-1].T)),
                "0.bias": torch.from_numpy(W1[-1].copy()),
                "2.weight": torch.from_numpy(np.ascontiguousarray(W2[:-1].T)),
                "2.bias": torch.from_numpy(W2[-1].copy())}

    @staticmethod
    def hidden_of(x_aug: np.ndarray, W1: np.ndarray) -> np.ndarray:
        """ReLU hidden layer with a ones column appended: [..., M, hidden + 1]."""
        pre = x_aug @ W1
        out = np.ones((*pre.shape[:-1], pre.shape[-1] + 1), dtype=np.float32)
        np.maximum(pre, 0.0, out=out[..., :-1])
        return out

    def grads(self, x_aug: np.ndarray, h_aug: np.ndarray, d_out: np.ndarray) -> np.ndarray:
        """Gradient rows [B, width] of the trained networks for the output gradient d_out [B, M, n_out]."""
        dh = (d_out @ self.W2[0, :, :-1].transpose(0, 2, 1)) * (h_aug[:, :, :-1] > 0)
        np.matmul(x_aug.transpose(0, 2, 1), dh, out=self.grad_W1)
        np.matmul(h_aug.transpose(0, 2, 1), d_out, out=self.grad_W2)
        return self.grad


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class Adam:
    """torch.optim.Adam's update on a flat [B, width] float32 buffer, one learning rate per agent."""

    def __init__(self, P: np.ndarray, lr: np.ndarray, betas=(0.9, 0.999), eps: float = 1e-8):
        self.P, self.lr, self.betas, self.eps = P, lr.astype(np.float32), betas, eps
        self.m = np.zeros_like(P)
        self.v = np.zeros_like(P)
        self.tmp = np.zeros_like(P)
        self.t = 0

    def step(self, grad: np.ndarray) -> None:
        """m += (1 - b1)(g - m); v = b2 v + (1 - b2) g^2; P -= lr_t m / (sqrt(v) / c2 + eps), in place."""
        b1, b2 = self.betas
        m, v, tmp = self.m, self.v, self.tmp
        self.t += 1
        np.subtract(grad, m, out=tmp)
        tmp *= 1 - b1
        m += tmp
        v *= b2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - b2
        v += tmp
        step_size = (self.lr / np.float32(1 - b1**self.t))[:, None]
        np.sqrt(v, out=tmp)
        tmp /= np.float32((1 - b2**self.t) ** 0.5)
        tmp += np.float32(self.eps)
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        self.P -= tmp


def soft_update(P: np.ndarray, tau: np.ndarray) -> None:
    """Targets P[1] move towards the networks P[0] by tau (per agent)."""
    target = P[1]
    target += tau * (P[0] - target)


class Group:
    """B agents of one shape: stacked networks, per-agent memories and generators."""

    def __init__(self, specs: list[AgentSpec]):
        from solvers.iorlo import build_nets  # the published initialization, drawn per agent

        self.specs = specs
        B = self.B = len(specs)
        c0 = specs[0].cfg
        n = self.n = specs[0].mdp.n_blocks
        self.cap, self.batch = c0.memory, c0.batch_size
        # per agent: one stream for exploration noise, one for replay sampling
        streams = [np.random.SeedSequence(s.seed).spawn(2) for s in specs]
        self.noise_rngs = [np.random.default_rng(a) for a, _ in streams]
        self.memory_rngs = [np.random.default_rng(b) for _, b in streams]
        self.actor, self.critic = Stack(B, n, c0.actor_hidden, n), Stack(B, 2 * n, c0.critic_hidden, 1)
        for b, s in enumerate(specs):
            actor, critic = build_nets(n, s.cfg, torch.Generator().manual_seed(s.seed))
            self.actor.load_linear(b, actor)
            self.critic.load_linear(b, critic)

        def per_agent(name: str, shape=(B,)) -> np.ndarray:
            return np.array([float(getattr(s.cfg, name)) for s in specs], dtype=np.float32).reshape(shape)

        self.opt_a = Adam(self.actor.P[0], per_agent("lr_actor"))
        self.opt_c = Adam(self.critic.P[0], per_agent("lr_critic"))
        self.gamma = per_agent("gamma", (B, 1, 1))
        self.tau = per_agent("tau", (B, 1))
        self.sigma = np.array([s.cfg.sigma for s in specs], dtype=np.float64)
        self.decay = np.array([s.cfg.sigma_decay for s in specs], dtype=np.float64)
        self.scale = np.array([s.mdp.settings.reward_scale for s in specs], dtype=np.float64)
        J = max(len(s.mdp.bounds) for s in specs)
        self.bounds = np.full((B, 1, J), np.inf)
        for b, s in enumerate(specs):
            self.bounds[b, 0, : len(s.mdp.bounds)] = s.mdp.bounds
        self.start = np.stack([s.mdp.observe(s.mdp.start()) for s in specs])  # [B, n] float64
        K = max(s.mdp.n_tiers for s in specs)
        tables = np.zeros((B, n, K))  # each agent's state table, padded to the most tiers
        for b, s in enumerate(specs):
            tables[b, :, : s.mdp.n_tiers] = s.mdp.table
        # `partbench_env.core.observe` on these tables, as one flat gather: entry (i, x_i) of agent b
        self.tables_flat = tables.reshape(B * n * K)
        self.table_offsets = (np.arange(B)[:, None] * n + np.arange(n)) * K

        # replay memories, one float32 row per transition: [s, 1 | s', 1 | s, a, 1 | r | waiting];
        # s and s' carry the ones column the augmented layers take, [s, a, 1] is the critic's input,
        # a the continuous action (which the critic's gradient assumes), waiting = reward not scored yet
        self.col_s2 = n + 1
        self.col_sa = 2 * n + 2
        self.col_r = 4 * n + 3
        self.col_wait = 4 * n + 4
        self.mem = np.zeros((B, self.cap, 4 * n + 5), dtype=np.float32)
        self.mem[:, :, [n, 2 * n + 1, 4 * n + 2]] = 1.0
        total = c0.episodes * c0.steps
        self.visited = np.zeros((B, total, n), dtype=np.int8 if K <= 127 else np.intp)  # every step's partition
        self.scored = [0] * B  # agent b's steps before scored[b] have their costs
        self.costs = np.full((B, total), np.nan)
        self.best_cost = np.full(B, np.inf)
        self.best = [np.zeros(n, dtype=np.intp) for _ in range(B)]
        self.stored = 0
        self.learn_steps = 0
        self.rows = np.arange(B)[:, None]
        self.dq = np.float32(-1.0 / self.batch)  # d(-mean Q)/dQ of each sample

    # -- acting ------------------------------------------------------------------------------
    def act(self, s: np.ndarray) -> np.ndarray:
        """Every agent's actor on its state, in numpy float32 (per agent, as the decision runs)."""
        W1, W2 = self.actor.W1[0], self.actor.W2[0]
        x = s.astype(np.float32)[:, None, :]
        h = np.maximum(x @ W1[:, :-1] + W1[:, -1:], 0.0)
        z = (h @ W2[:, :-1] + W2[:, -1:])[:, 0]
        return 1.0 / (1.0 + np.exp(-z))

    def episode(self, t0: int, steps: int) -> None:
        """One episode of every agent from all-device; t0 is the index of its first step."""
        cap, n, mem = self.cap, self.n, self.mem
        noise = np.stack([rng.standard_normal((steps, n)) for rng in self.noise_rngs], 1)  # [steps, B, n]
        learning = max(0, self.stored + steps - cap + 1)
        learning = min(learning, steps)
        if learning:
            idx = np.stack([rng.integers(0, cap, (learning, self.batch)) for rng in self.memory_rngs], 1)
        s = self.start
        for i in range(steps):
            t = t0 + i
            a = np.clip(self.act(s) + self.sigma[:, None] * noise[i], 0.0, 1.0)
            x = to_tiers(a, self.bounds)
            s2 = self.tables_flat[self.table_offsets + x]
            row = mem[:, self.stored % cap]
            row[:, :n] = s
            row[:, self.col_s2 : self.col_s2 + n] = s2
            row[:, self.col_sa : self.col_sa + n] = s
            row[:, self.col_sa + n : self.col_sa + 2 * n] = a
            row[:, self.col_wait] = 1.0
            self.visited[:, t] = x
            if t + 1 - min(self.scored) >= MAX_PENDING:
                for b in range(self.B):
                    if t + 1 - self.scored[b] >= MAX_PENDING:
                        self.score(b, t + 1)
            self.stored += 1
            if self.stored >= cap:
                self.learn(idx[i - (steps - learning)], t + 1)
            s = s2

    def score(self, b: int, upto: int) -> None:
        """Score agent b's transitions scored[b]..upto-1 in one `Problem.evaluate` call."""
        lo = self.scored[b]
        if lo >= upto:
            return
        steps = np.arange(lo, upto)
        X = self.visited[b, lo:upto].astype(np.intp)
        cost = self.specs[b].mdp.score(X).cost
        slots = steps % self.cap
        self.mem[b, slots, self.col_r] = -cost * self.scale[b]
        self.mem[b, slots, self.col_wait] = 0.0
        self.costs[b, lo:upto] = cost
        k = int(np.argmin(cost))  # the first minimum, as a running `cost < best` would keep
        if cost[k] < self.best_cost[b]:
            self.best_cost[b], self.best[b] = float(cost[k]), X[k].copy()
        self.scored[b] = upto

    # -- learning ----------------------------------------------------------------------------
    def learn(self, idx: np.ndarray, upto: int) -> None:
        """One DDPG step of every agent on memory rows idx [B, batch] (critic, then actor on the
        updated critic, then targets); `upto` steps have been taken."""
        batch = self.mem[self.rows, idx]  # [B, M, row]
        waiting = batch[:, :, self.col_wait].any(1)
        if waiting.any():
            for b in np.flatnonzero(waiting):
                self.score(int(b), upto)
            batch = self.mem[self.rows, idx]
        M, n, B = self.batch, self.n, self.B
        s_aug = batch[:, :, : n + 1]
        xc = batch[:, :, self.col_sa : self.col_sa + 2 * n + 1]
        r = batch[:, :, self.col_r : self.col_r + 1]
        # the actors on s and their targets on s', in one stacked matmul per layer (the actor
        # is not changed by the critic's step, so mu(s) may be taken before it)
        states = batch[:, :, : 2 * n + 2].reshape(B, M, 2, n + 1).transpose(2, 0, 1, 3)
        h_actors = Stack.hidden_of(states, self.actor.W1)
        out = sigmoid(h_actors @ self.actor.W2)
        ha, mu, a2 = h_actors[0], out[0], out[1]

        # critic: regress Q(s, a) on r + gamma Q'(s', mu'(s')), Q and Q' in one stacked matmul per layer
        pairs = np.empty((2, B, M, 2 * n + 1), dtype=np.float32)
        pairs[0] = xc
        pairs[1, :, :, :n] = batch[:, :, self.col_s2 : self.col_s2 + n]
        pairs[1, :, :, n : 2 * n] = a2
        pairs[1, :, :, 2 * n] = 1.0
        h_critics = Stack.hidden_of(pairs, self.critic.W1)
        q_both = h_critics @ self.critic.W2
        target = r + self.gamma * q_both[1]
        self.opt_c.step(self.critic.grads(xc, h_critics[0], (q_both[0] - target) * np.float32(2.0 / M)))

        # actor: ascend Q(s, mu(s)) through the updated critic
        xq = np.empty((B, M, 2 * n + 1), dtype=np.float32)
        xq[:, :, :n] = batch[:, :, :n]
        xq[:, :, n : 2 * n] = mu
        xq[:, :, 2 * n] = 1.0
        hq = Stack.hidden_of(xq, self.critic.W1[0])
        dhq = (self.dq * self.critic.W2[0, :, None, :-1, 0]) * (hq[:, :, :-1] > 0)
        dmu = dhq @ self.critic.W1[0, :, n : 2 * n].transpose(0, 2, 1)
        self.opt_a.step(self.actor.grads(s_aug, ha, dmu * mu * (1 - mu)))

        soft_update(self.actor.P, self.tau)
        soft_update(self.critic.P, self.tau)
        self.sigma *= self.decay
        self.learn_steps += 1

    def results(self, train_s: float) -> list[AgentResult]:
        for b in range(self.B):
            self.score(b, self.costs.shape[1])
        out = []
        for b, spec in enumerate(self.specs):
            c = spec.cfg
            rewards = -self.costs[b] * self.scale[b]
            meta = {
                "best_seen": [int(v) for v in self.best[b]],
                "best_seen_cost": float(self.best_cost[b]),
                "train_s": train_s / self.B,
                "ensemble_s": train_s,
                "ensemble_size": self.B,
                "episodes": c.episodes,
                "steps": c.steps,
                "env_steps": c.episodes * c.steps,
                "learn_steps": self.learn_steps,
                "final_sigma": float(self.sigma[b]),
                "training_curve": [float(v) for v in rewards.reshape(c.episodes, c.steps).mean(1)],
                "seed": spec.seed,
            }
            out.append(AgentResult(self.actor.state_dict(b), self.critic.state_dict(b), meta))
        return out


def train_group(specs: list[AgentSpec], bar=None) -> list[AgentResult]:
    """Train one group of same-shape agents; `bar` (tqdm) advances per episode."""
    group = Group(specs)
    c = group.specs[0].cfg
    t0, cpu0 = time.perf_counter(), time.process_time()
    ends = np.empty(c.episodes)
    for e in range(c.episodes):
        group.episode(e * c.steps, c.steps)
        ends[e] = time.perf_counter() - t0
        if bar is not None:
            bar.update(c.steps)
            bar.set_postfix(agents=group.B, sigma=f"{group.sigma.max():.3f}", refresh=False)
    results = group.results(time.perf_counter() - t0)
    add_training_traces(results, group.costs, ends, c.steps)
    for r in results:
        r.meta["ensemble_cpu_s"] = time.process_time() - cpu0  # the group's CPU time, in its process
    return results


def add_training_traces(results: list[AgentResult], costs: np.ndarray, episode_ends: np.ndarray, steps: int) -> None:
    """meta["trace"]: each agent's best-so-far cost over its env steps (`solvers._trace`), in
    the group's seconds since training started (steps timed per episode)."""
    seconds = step_seconds(episode_ends, steps)
    evaluations = np.arange(1, costs.shape[1] + 1)
    for b, result in enumerate(results):
        result.meta["trace"] = improvements(costs[b], seconds, evaluations)


def group_work(specs: list[AgentSpec], members: list[int]) -> float:
    """A group's relative training cost: its environment steps, a little more per agent and block."""
    c = specs[members[0]].cfg
    return c.episodes * c.steps * (1 + 0.05 * len(members)) * (1 + 0.01 * specs[members[0]].mdp.n_blocks)


def train_ensemble(specs: list[AgentSpec], progress: bool = True, desc: str = "iorlo",
                   workers: int = 1) -> list[AgentResult]:
    """Train every agent of `specs`, grouped by shape; results in the order of `specs`.

    With `workers` > 1 the groups train in that many processes at once (each group in
    one process: the results are the same as with one)."""
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(specs):
        groups.setdefault(s.shape(), []).append(i)
    results: list[AgentResult | None] = [None] * len(specs)
    members_of = list(groups.values())
    workers = max(1, min(workers, len(members_of)))
    if workers == 1:
        total = sum(specs[m[0]].cfg.episodes * specs[m[0]].cfg.steps for m in members_of)
        with tqdm(total=total, desc=f"{desc} x{len(specs)}", disable=not progress, leave=False,
                  unit="step") as bar:
            for members in members_of:
                for i, r in zip(members, train_group([specs[i] for i in members], bar), strict=True):
                    results[i] = r
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool, \
                tqdm(total=len(specs), desc=f"{desc} x{len(specs)} ({workers} processes)", disable=not progress,
                     leave=False, unit="agent") as bar:
            # longest first, so that the last group to start is a short one (the cost of a learning
            # step is mostly per call, so a group's work grows with its steps more than with its size)
            order = sorted(members_of, key=lambda m: -group_work(specs, m))
            futures = {pool.submit(train_group, [specs[i] for i in members]): members for members in order}
            for future in as_completed(futures):
                members = futures[future]
                for i, r in zip(members, future.result(), strict=True):
                    results[i] = r
                bar.update(len(members))
    return [r for r in results if r is not None]
