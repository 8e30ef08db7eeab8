"""Fused elementwise kernels compiled with numba: one pass reads ``y_true``, ``y_pred`` (and the weight)
and writes the gradient (and, for ``reduction="none"``, the weighted losses), returning the weighted sum.

Each kernel is the reference formula of its loss (``losses/*.py``) written for one element, with the
same operations in the same order, so NaN and inf come out where the reference gives them. Only
``fastmath={'reassoc'}`` is used (it lets the sum vectorise); ``nnan``/``ninf`` stay off.

Kernels are generated from one template per loss (below) and compiled lazily, once per dtype, on
first use, with ``cache=True`` (``nogil=True``: the caller splits the work across threads).
"""

from __future__ import annotations

import numba
import numpy as np

# --- the math of one element, per loss: inputs t (target), p (prediction); outputs l, d ----------
# Constants: ZERO, ONE, TWO, HALF and the hyperparameters P0, P1 come in the array's dtype.
ELEMENTS = {
    # MSE: r^2, 2r
    "mse": """
r = p - t
l = r * r
d = TWO * r""",
    # MAE: |r|, sign(r) (0 at 0, NaN at NaN)
    "mae": """
r = p - t
l = abs(r)
d = ONE if r > ZERO else (-ONE if r < ZERO else r * ZERO)""",
    # Huber (P0 = delta, P1 = delta / 2): where(|r| <= delta, r^2 / 2, delta (|r| - delta / 2)), clip(r, -delta, delta)
    "huber": """
r = p - t
a = abs(r)
l = (HALF * r) * r if a <= P0 else P0 * (a - P1)
d = -P0 if r < -P0 else (P0 if r > P0 else r)""",
    # Pseudo-Huber (P0 = delta, P1 = delta^2): x = r / delta, root = hypot(1, x) (scaled so it cannot overflow),
    # delta^2 (root - 1) for |x| > 1, delta^2 x^2 / (hypot(1, x) + 1) otherwise; r / root (delta sign(x) at x = +-inf).
    "pseudo_huber": """
r = p - t
x = r / P0
a = abs(x)
inv = ONE / a
root = np.sqrt(ONE + x * x) if a <= ONE else a * np.sqrt(ONE + inv * inv)
l = P1 * (root - ONE if a > ONE else (x * x) / (root + ONE))
d = r / root if a != np.inf else (P0 if x > ZERO else -P0)""",
    # Hinge: labels 0 read as -1; slack = 1 - t p; max(slack, 0) (NaN kept); -t where slack > 0.
    "hinge": """
s = -ONE if t == ZERO else t
v = ONE - s * p
l = ZERO if v <= ZERO else v
d = -s if v > ZERO else (ZERO if v <= ZERO else v)""",
    # Squared hinge: slack = max(1 - t p, 0); slack^2, -2 t slack.
    "squared_hinge": """
s = -ONE if t == ZERO else t
v = ONE - s * p
v = ZERO if v <= ZERO else v
l = v * v
d = ((-TWO) * s) * v""",
}

_TEMPLATE = '''
def kernel(yt, yp, w, full, R, lo, hi, den, c, out_l, out_g, write_l, write_g):
    """Elements [lo, hi) of the flattened arrays; the weight is w[i] (full) or w[i // R]."""
    ZERO = c[0]; ONE = c[1]; TWO = c[2]; HALF = c[3]; P0 = c[4]; P1 = c[5]
    total = 0.0
    i = lo
    while i < hi:
        if full:
            e = min(hi, i + 4096)
        else:
            e = min(hi, (i // R + 1) * R, i + 4096)
        ta = yt[i:e]; pa = yp[i:e]; gl = out_l[i:e]; gg = out_g[i:e]
        acc = 0.0
        if full:
            wa = w[i:e]
            for j in range(e - i):
                t = ta[j]; p = pa[j]
{body}
                wi = wa[j]
                lw = ZERO if wi == ZERO else wi * l
                acc += lw
                if write_l:
                    gl[j] = lw
                if write_g:
                    sc = wi / den
                    gg[j] = ZERO if sc == ZERO else sc * d
        else:
            wi = w[i // R]
            sc = wi / den
            for j in range(e - i):
                t = ta[j]; p = pa[j]
{body}
                lw = ZERO if wi == ZERO else wi * l
                acc += lw
                if write_l:
                    gl[j] = lw
                if write_g:
                    gg[j] = ZERO if sc == ZERO else sc * d
        total += acc
        i = e
    return total
'''

_KERNELS: dict = {}


def kernel(name: str):
    """The compiled kernel of loss ``name`` (compiled per dtype on its first call, cached on disk)."""
    k = _KERNELS.get(name)
    if k is None:
        body = "\n".join(" " * 16 + line for line in ELEMENTS[name].strip().splitlines())
        source = _TEMPLATE.format(body=body).replace("def kernel(", f"def kernel_{name}(")
        namespace = {"np": np}
        # Compiled against this file's name so that numba's on-disk cache can find (and invalidate) it.
        exec(compile(source, __file__, "exec"), namespace)
        py_func = namespace[f"kernel_{name}"]
        py_func.__module__ = __name__
        py_func.__qualname__ = f"kernel_{name}"
        k = numba.njit(nogil=True, cache=True, fastmath={"reassoc"}, error_model="numpy")(py_func)
        _KERNELS[name] = k
    return k
