"""The paper's Sec. 3.2 layer-latency models, fitted to this testbed's timings.

For one layer type on one tier, `x` and `y` are the layer's input and output sizes in bytes
and `t` its time in ms. Three model families, as the paper compared them:
- linear: `t = alpha * x + beta * y + gamma` (Table 1; ReLU and Norm have no beta), least squares;
- polynomial: degree 2 in the same features (x, y, x^2, x*y, y^2, 1), least squares;
- logistic: `t = c + L / (1 + exp(-k (s - s0)))` with `s` = (x + y) scaled to [0, 1],
  fitted by Levenberg-Marquardt.
Each is scored by leave-one-out cross-validation (fit on all points but one, predict that one):
the median of |predicted - measured| / measured. In-sample errors would always favour the
polynomial, which contains the linear model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MODELS = ("linear", "logistic", "polynomial")
#: types whose Table 1 row has no beta: their output size equals their input size
NO_BETA = ("relu", "norm")


def _design(x: np.ndarray, y: np.ndarray, with_y: bool, degree: int) -> np.ndarray:
    cols = [x, y] if with_y else [x]
    if degree == 2:
        cols = cols + [x * x] + ([x * y, y * y] if with_y else [])
    return np.column_stack([*cols, np.ones_like(x)])


def fit_least_squares(x, y, t, with_y: bool, degree: int) -> np.ndarray:
    """Coefficients (in MB units of x and y, for conditioning) of the linear / polynomial model."""
    A = _design(np.asarray(x) / 1e6, np.asarray(y) / 1e6, with_y, degree)
    coef, *_ = np.linalg.lstsq(A, np.asarray(t, dtype=float), rcond=None)
    return coef


def predict_least_squares(coef, x, y, with_y: bool, degree: int) -> np.ndarray:
    return _design(np.asarray(x, dtype=float) / 1e6, np.asarray(y, dtype=float) / 1e6, with_y, degree) @ coef


def _logistic(p: np.ndarray, s: np.ndarray) -> np.ndarray:
    c, big_l, k, s0 = p
    return c + big_l / (1.0 + np.exp(np.clip(-k * (s - s0), -60, 60)))


def fit_logistic(s: np.ndarray, t: np.ndarray, iterations: int = 300) -> np.ndarray:
    """[c, L, k, s0] by Levenberg-Marquardt with a numerical Jacobian (s in [0, 1])."""
    s, t = np.asarray(s, dtype=float), np.asarray(t, dtype=float)
    p = np.array([t.min(), max(t.max() - t.min(), 1e-6), 5.0, 0.5])
    lam = 1e-2
    err = np.sum((_logistic(p, s) - t) ** 2)
    for _ in range(iterations):
        r = _logistic(p, s) - t
        J = np.empty((len(s), 4))
        for j in range(4):
            h = 1e-6 * max(1.0, abs(p[j]))
            q = p.copy()
            q[j] += h
            J[:, j] = (_logistic(q, s) - _logistic(p, s)) / h
        JTJ = J.T @ J
        step = np.linalg.solve(JTJ + lam * np.diag(np.diag(JTJ) + 1e-12), -J.T @ r)
        trial = p + step
        trial_err = np.sum((_logistic(trial, s) - t) ** 2)
        if trial_err < err:
            p, err, lam = trial, trial_err, lam / 3
            if np.linalg.norm(step) < 1e-10 * (1 + np.linalg.norm(p)):
                break
        else:
            lam *= 4
            if lam > 1e12:
                break
    return p


class Fitted:
    """One model family fitted to one (type, tier): its parameters and a predictor."""

    def __init__(self, family: str, x, y, t, with_y: bool):
        self.family, self.with_y = family, with_y
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if family == "logistic":
            total = x + y if with_y else x
            self.scale = float(total.max()) or 1.0
            self.params = fit_logistic(total / self.scale, t)
        else:
            self.params = fit_least_squares(x, y, t, with_y, 1 if family == "linear" else 2)

    def predict(self, x, y) -> np.ndarray:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if self.family == "logistic":
            return _logistic(self.params, (x + y if self.with_y else x) / self.scale)
        return predict_least_squares(self.params, x, y, self.with_y, 1 if self.family == "linear" else 2)

    def describe(self) -> dict:
        if self.family == "linear":
            coef = self.params / np.array([1e6, 1e6, 1.0] if self.with_y else [1e6, 1.0])
            names = ["alpha", "beta", "gamma"] if self.with_y else ["alpha", "gamma"]
            return dict(zip(names, map(float, coef), strict=True))  # per byte, as Table 1
        if self.family == "logistic":
            return {"c": float(self.params[0]), "L": float(self.params[1]), "k": float(self.params[2]),
                    "s0": float(self.params[3]), "s_scale_bytes": self.scale}
        return {"coef_mb_units": [float(v) for v in self.params],
                "terms": ["x", "y", "x^2", "x*y", "y^2", "1"] if self.with_y else ["x", "x^2", "1"]}


def rel_errors(pred: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.abs(pred - t) / np.maximum(np.abs(t), 1e-9)


def leave_one_out(make: Callable[[np.ndarray], Fitted], x, y, t) -> np.ndarray:
    """Each point's relative error when the model is fitted without it."""
    x, y, t = (np.asarray(v, dtype=float) for v in (x, y, t))
    out = np.empty(len(t))
    for i in range(len(t)):
        keep = np.arange(len(t)) != i
        out[i] = rel_errors(make(keep).predict(x[i : i + 1], y[i : i + 1]), t[i : i + 1])[0]
    return out


def fit_type(layer_type: str, x, y, t) -> dict:
    """All three families for one (type, tier): parameters, in-sample and leave-one-out errors."""
    with_y = layer_type not in NO_BETA
    x, y, t = (np.asarray(v, dtype=float) for v in (x, y, t))
    out = {}
    for family in MODELS:
        whole = Fitted(family, x, y, t, with_y)
        loo = leave_one_out(lambda keep, f=family: Fitted(f, x[keep], y[keep], t[keep], with_y), x, y, t)
        out[family] = {**whole.describe(), "fit_error": float(np.median(rel_errors(whole.predict(x, y), t))),
                       "loo_error": float(np.median(loo))}
    return out
