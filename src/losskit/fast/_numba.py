"""Fused elementwise kernels compiled with numba.

Two kinds, one template each, with the math of one element per loss:

- arithmetic losses (``ELEMENTS``): one pass reads ``y_true``, ``y_pred`` (and the weight) and writes
  the gradient, returning the weighted sum (``reduction="none"``, which must write every loss, takes
  the tiled reference formulas instead: one compiled variant less per loss and dtype);
- transcendental losses (``SPLIT_ELEMENTS``): LLVM cannot vectorise ``exp`` or ``log`` here (no vector
  math library), and a scalar libm call per element is several times slower than NumPy's SIMD ufuncs.
  So a tile's exponentials and logarithms are taken by NumPy into tile buffers (``SPLIT_STAGES``, run by
  the caller), and one kernel (``split_kernel``) does all the arithmetic around them: the losses, the
  weighted sum and the gradient. It writes the gradient only once the tile's sum is known to be finite,
  so the caller can hand a non-finite tile to the reference formula even when the gradient overwrites
  ``y_pred``.

Each kernel is the reference formula of its loss (``losses/*.py``) written for one element, so NaN and
inf come out where the reference gives them. Only ``fastmath={'reassoc'}`` is used (it lets the sum
vectorise); ``nnan``/``ninf`` stay off. Kernels are compiled lazily, once per dtype, on first use,
with ``cache=True``. The arithmetic kernels run in numba's parallel loop (``parallel_kernel``), one
compiled function per loss, weight layout and gradient-or-not (four per dtype); the split kernels
release the GIL (``nogil=True``) and run on the caller's threads, between its NumPy calls.
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
    # Pseudo-Huber (P0 = delta, P1 = delta^2): x = r / delta, root = hypot(1, x), which is |x| to rounding beyond
    # 1e18 (where x^2 could overflow); delta^2 (root - 1) for |x| > 1, delta^2 x^2 / (root + 1) otherwise;
    # r / root (delta sign(x) at x = +-inf).
    "pseudo_huber": """
r = p - t
x = r / P0
a = abs(x)
root = np.sqrt(ONE + x * x) if a <= 1e18 else a
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
    # Smooth L1 (P0 = beta): where(|r| < beta, r^2 / (2 beta), |r| - beta / 2), r / beta inside, sign(r) outside
    # (beta = 0: the absolute error)
    "smooth_l1": """
r = p - t
a = abs(r)
l = ((HALF * r) * r) / P0 if a < P0 else a - HALF * P0
d = r / P0 if a < P0 else (ONE if r > ZERO else (-ONE if r < ZERO else r * ZERO))""",
    # Hinge embedding (P0 = margin), labels 0 read as -1: d for y = +1, max(0, margin - d) otherwise; NaN kept
    "hinge_embedding": """
l = p if (t > ZERO or p != p) else (P0 - p if p < P0 else ZERO)
d = p if p != p else (ONE if t > ZERO else (-ONE if p < P0 else ZERO))""",
}

#: A block of elements for one weight each (``repeat`` layout: weight ``w[i // R]``), or one weight per
#: element (``full``). ``{body}`` computes ``l`` and ``d`` of one element; ``{grad}`` writes the gradient.
_FULL_BLOCK = """
        ta = yt[lo:hi]; pa = yp[lo:hi]; wa = w[lo:hi]; ga = out_g[lo:hi]
        for j in range(hi - lo):
            t = ta[j]; p = pa[j]
{body}
            wi = wa[j]
            acc += ZERO if wi == ZERO else wi * l
{grad}"""
_FULL_GRAD = """            sc = wi / den
            ga[j] = ZERO if sc == ZERO else sc * d"""
_REPEAT_BLOCK = """
        i = lo
        while i < hi:
            e = min(hi, (i // R + 1) * R)
            wi = w[i // R]
            sc = wi / den
            ta = yt[i:e]; pa = yp[i:e]; ga = out_g[i:e]
            for j in range(e - i):
                t = ta[j]; p = pa[j]
{body}
                acc += ZERO if wi == ZERO else wi * l
{grad}
            i = e"""
_REPEAT_GRAD = """                ga[j] = ZERO if sc == ZERO else sc * d"""

_PARALLEL_TEMPLATE = """
def {key}(yt, yp, w, R, n, den, c, out_g):
    ZERO = c[0]; ONE = c[1]; TWO = c[2]; HALF = c[3]; P0 = c[4]; P1 = c[5]
    total = 0.0
    for b in numba.prange((n + BLOCK - 1) // BLOCK):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        acc = 0.0{block}
        total += acc
    return total
"""

_KERNELS: dict = {}


def _jit(key: str, source: str, namespace: dict, **options):
    """Compile the function ``key`` defined in ``source`` with numba, cached on disk; kept in ``_KERNELS``."""
    # Compiled against this file's name so that numba's on-disk cache can find (and invalidate) it.
    exec(compile(source, __file__, "exec"), namespace)
    py_func = namespace[key]
    py_func.__module__ = __name__
    py_func.__qualname__ = key
    k = _KERNELS[key] = numba.njit(nogil=True, cache=True, **options)(py_func)
    return k


def _indent(body: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in body.strip().splitlines())


#: Elements per block of the parallel loop.
BLOCK = 1 << 16


def parallel_kernel(name: str, full: bool, write_g: bool):
    """The arithmetic kernel of loss ``name`` over ``[0, n)`` in blocks on numba's threads (its OpenMP or
    TBB pool): ``k(yt, yp, w, R, n, den, c, out_g)`` returns the weighted sum and, with ``write_g``, writes
    the gradient scaled by ``w / den``.

    The weight layout and ``write_g`` are compiled in: passed at run time, flags kept the loop inside
    the parallel region from vectorising (2.3x slower). Measured on the 2-core machine of
    benchmarks/RESULTS.md: the same kernel on two Python threads ran no faster than on one, while
    numba's parallel loop ran it twice as fast.
    """
    key = f"parallel_{name}_{int(full)}{int(write_g)}"
    if key in _KERNELS:
        return _KERNELS[key]
    block, grad, indent = (_FULL_BLOCK, _FULL_GRAD, 12) if full else (_REPEAT_BLOCK, _REPEAT_GRAD, 16)
    block = block.format(body=_indent(ELEMENTS[name], indent), grad=grad if write_g else "")
    source = _PARALLEL_TEMPLATE.format(key=key, block=block.rstrip())
    return _jit(key, source, {"numba": numba, "np": np, "BLOCK": BLOCK}, parallel=True, fastmath={"reassoc"},
                error_model="numpy")  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Transcendental losses: NumPy's ufuncs for exp and log on a tile, one kernel for the rest
# --------------------------------------------------------------------------------------------------


@numba.njit(nogil=True, cache=True, error_model="numpy")
def negative_abs(x, lo, hi, out):
    """``out[:hi - lo] = -|x[lo:hi]|``."""
    xa = x[lo:hi]
    for j in range(hi - lo):
        out[j] = -abs(xa[j])


@numba.njit(nogil=True, cache=True, error_model="numpy")
def capped_abs_residual(t, p, lo, hi, cap, out):
    """``out[:hi - lo] = min(|p - t|, cap)`` over ``[lo, hi)`` (NaN gives ``cap``; the kernel sees the NaN)."""
    ta, pa = t[lo:hi], p[lo:hi]
    for j in range(hi - lo):
        a = abs(pa[j] - ta[j])
        out[j] = a if a < cap else cap


@numba.njit(nogil=True, cache=True, error_model="numpy")
def cosh_minus_one(e, m, two, out):
    """``out[:m] = E^2 / (2 + 2 E)`` with ``E = e[:m] = expm1(a)``: that is ``cosh a - 1``, exact near 0."""
    for j in range(m):
        x = e[j]
        out[j] = (x * x) / ((x + x) + two)


def _sigmoid_stage(t, p, lo, hi, b0, b1):
    m = hi - lo
    negative_abs(p, lo, hi, b0)
    np.exp(b0[:m], out=b0[:m])  # e = exp(-|z|)
    np.log1p(b0[:m], out=b1[:m])  # log1p(e): softplus(z) = max(z, 0) + log1p(e)


def _bce_stage(t, p, lo, hi, b0, b1):
    m = hi - lo
    np.log(p[lo:hi], out=b0[:m])
    np.negative(p[lo:hi], out=b1[:m])
    np.log1p(b1[:m], out=b1[:m])  # log(1 - p)


def _msle_stage(t, p, lo, hi, b0, b1):
    m = hi - lo
    np.log1p(p[lo:hi], out=b0[:m])
    np.log1p(t[lo:hi], out=b1[:m])


def _log_cosh_stage(t, p, lo, hi, b0, b1):
    m = hi - lo
    capped_abs_residual(t, p, lo, hi, b0.dtype.type(30.0), b0)
    np.expm1(b0[:m], out=b0[:m])  # E = expm1(min(|r|, 30))
    cosh_minus_one(b0, m, b0.dtype.type(2.0), b1)
    np.log1p(b1[:m], out=b1[:m])  # log cosh |r| (for |r| <= 30)


#: Per transcendental loss, the NumPy stage of a tile: ``stage(t, p, lo, hi, b0, b1)`` fills the tile
#: buffers ``b0``, ``b1`` that the kernel reads as ``x0``, ``x1``.
SPLIT_STAGES = {
    "sigmoid_cross_entropy": _sigmoid_stage,
    "binary_cross_entropy": _bce_stage,
    "msle": _msle_stage,
    "log_cosh": _log_cosh_stage,
}

# The arithmetic of one element: inputs t, p, x0, x1 (from the stage); outputs l, d and ok (False sends
# the tile to the reference formula). Constants as above, plus P0, P1 (hyperparameters) and LOG2.
SPLIT_ELEMENTS = {
    # Sigmoid CE (P0 = pos_weight, P1 = label smoothing): x0 = e = exp(-|z|), x1 = log1p(e).
    # y = t (1 - eps) + eps / 2; pos = P0 y, neg = 1 - y; pos softplus(-z) + neg softplus(z), a term with
    # a zero coefficient dropped; neg sigmoid(z) - pos sigmoid(-z), sigmoid(|z|) = 1 / (1 + e).
    "sigmoid_cross_entropy": """
y = t * (ONE - P1) + HALF * P1
pos = P0 * y
neg = ONE - y
up = (p if p > ZERO else ZERO) + x1
down = (-p if p < ZERO else ZERO) + x1
l = (ZERO if pos == ZERO else pos * down) + (ZERO if neg == ZERO else neg * up)
big = ONE / (ONE + x0)
small = x0 * big
d = neg * (big if p >= ZERO else small) - pos * (small if p >= ZERO else big)
ok = True""",
    # Binary CE from probabilities: x0 = log p, x1 = log(1 - p); a clamped log (or NaN) leaves the tile
    # to the reference (which clamps at -100 and zeroes that term's derivative).
    "binary_cross_entropy": """
l = -(t * x0 + (ONE - t) * x1)
d = -t / p + (ONE - t) / (ONE - p)
ok = (x0 > -100.0) and (x1 > -100.0)""",
    # MSLE: x0 = log1p(p), x1 = log1p(t); (x0 - x1)^2, 2 (x0 - x1) / (1 + p).
    "msle": """
e = x0 - x1
l = e * e
d = TWO * e / (ONE + p)
ok = True""",
    # Log-cosh: r = p - t, x0 = E = expm1(min(|r|, 30)), x1 = log cosh min(|r|, 30); beyond 30,
    # |r| - log 2 (exp(-2|r|) is below rounding); tanh |r| = E (E + 2) / (E (E + 2) + 2), signed.
    "log_cosh": """
r = p - t
a = abs(r)
l = x1 if a <= 30.0 else a - LOG2
q = x0 * (x0 + TWO)
th = q / (q + TWO)
d = th if r > ZERO else (-th if r < ZERO else r)
ok = True""",
}

_SPLIT_TEMPLATE = '''
def kernel(yt, yp, x0s, x1s, ds, w, full, R, lo, hi, den, c, out_l, out_g, write_l, write_g):
    """Elements [lo, hi) of the flattened arrays, tile buffers indexed from 0; the weight is w[i] (full)
    or w[i // R]. Returns the weighted sum (NaN if an element is not ok); writes the gradient only if
    that sum is finite."""
    ZERO = c[0]; ONE = c[1]; TWO = c[2]; HALF = c[3]; P0 = c[4]; P1 = c[5]; LOG2 = c[6]
    NAN = ZERO / ZERO
    total = 0.0
    i = lo
    while i < hi:  # runs of one weight entry (the whole range if the weight is full)
        stop = hi if full else min(hi, (i // R + 1) * R)
        m = stop - i
        ta = yt[i:stop]; pa = yp[i:stop]; x0a = x0s[i - lo:stop - lo]; x1a = x1s[i - lo:stop - lo]
        da = ds[i - lo:stop - lo]; la = out_l[i:stop] if write_l else out_l
        wa = w[i:stop] if full else w[i // R:i // R + 1]
        acc = 0.0
        for j in range(m):
            t = ta[j]; p = pa[j]; x0 = x0a[j]; x1 = x1a[j]
{body}
            wi = wa[j] if full else wa[0]
            lw = ZERO if wi == ZERO else (wi * l if ok else NAN)
            acc += lw
            da[j] = d
            if write_l:
                la[j] = lw
        total += acc
        i = stop
    if write_g and total - total == 0.0:
        i = lo
        while i < hi:
            stop = hi if full else min(hi, (i // R + 1) * R)
            m = stop - i
            ga = out_g[i:stop]; da = ds[i - lo:stop - lo]
            wa = w[i:stop] if full else w[i // R:i // R + 1]
            for j in range(m):
                sc = (wa[j] if full else wa[0]) / den
                ga[j] = ZERO if sc == ZERO else sc * da[j]
            i = stop
    return total
'''


def _tile_kernel(kind: str, template: str, elements: dict, name: str):
    """The kernel ``template`` with the element math of loss ``name``, compiled once."""
    key = f"{kind}_kernel_{name}"
    if key in _KERNELS:
        return _KERNELS[key]
    source = template.format(body=_indent(elements[name], 12)).replace("def kernel(", f"def {key}(")
    return _jit(key, source, {"np": np}, fastmath={"reassoc"}, error_model="numpy")


def split_kernel(name: str):
    """The compiled arithmetic kernel of transcendental loss ``name``, run after ``SPLIT_STAGES[name]``."""
    return _tile_kernel("split", _SPLIT_TEMPLATE, SPLIT_ELEMENTS, name)


# --------------------------------------------------------------------------------------------------
# Row losses of two embeddings
# --------------------------------------------------------------------------------------------------


@numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def cosine_embedding_rows(y, x1, x2, w, lo, hi, den, margin, out_l, g1, g2, write_l, write_g):
    """Rows ``[lo, hi)`` of cosine_embedding (``losses.embedding.CosineEmbedding``), each pair of rows read for
    its three dot products and again, from the cache, for both gradients, scaled by ``w / den`` (``w``: one
    weight per row). Returns the weighted sum; a zero row has cosine 0 and no slope, a NaN row gives NaN."""
    total = 0.0
    for i in range(lo, hi):
        a = x1[i]
        b = x2[i]
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for j in range(a.shape[0]):
            sxx += a[j] * a[j]
            syy += b[j] * b[j]
            sxy += a[j] * b[j]
        live = sxx != 0.0 and syy != 0.0
        norms = np.sqrt(sxx * syy) if live else 1.0
        cos = sxy / norms if live else 0.0
        dist = 1.0 - cos
        if y[i] > 0:
            loss = dist
            k = 1.0
        else:
            slack = 1.0 - dist - margin
            loss = slack if slack > 0.0 else dist - dist  # 0, or NaN where the distance is NaN
            k = -1.0 if slack > 0.0 else 0.0
        wi = w[i]
        lw = 0.0 if wi == 0 else wi * loss
        total += lw
        if write_l:
            out_l[i] = lw
        if write_g:
            ga = g1[i]
            gb = g2[i]
            s = wi / den
            if s == 0 or not live:
                ga[:] = 0
                gb[:] = 0
            else:  # k (cos a / |a|^2 - b / (|a| |b|)), and the same with a and b swapped
                ca = s * k * cos / sxx
                cb = s * k * cos / syy
                cab = s * k / norms
                for j in range(a.shape[0]):
                    ga[j] = ca * a[j] - cab * b[j]
                    gb[j] = cb * b[j] - cab * a[j]
    return total


# --------------------------------------------------------------------------------------------------
# Value, gradient and Hessian diagonal in one pass (the robust losses, the deviances, log-link Poisson)
# --------------------------------------------------------------------------------------------------
# As for the transcendental losses, a tile's exp, log, log1p and expm1 are taken by NumPy (``HESSIAN_STAGES``:
# ``stage(t, p, lo, hi, xs, c)`` fills the rows of the tile buffer ``xs``, which the kernel reads as x0 .. x4)
# and one kernel does the arithmetic, writing the weighted losses, the gradient and the Hessian diagonal,
# each scaled by w / den. A tile whose sum is not finite (or an element not ``ok``) is recomputed by the
# reference formula, which overwrites what the kernel wrote. Constants: ZERO, ONE, TWO, HALF, P0 .. P3.


def _scaled_square(t, p, lo, hi, out, k):
    """``out = k (p - t)^2`` over the tile."""
    np.subtract(p[lo:hi], t[lo:hi], out=out)
    np.multiply(out, out, out=out)
    np.multiply(out, out.dtype.type(k), out=out)
    return out


def _no_stage(t, p, lo, hi, xs, c):
    pass


def _cauchy_stage(t, p, lo, hi, xs, c):  # P0 = scale: x0 = log1p(x^2 / 2), x = r / scale
    np.log1p(_scaled_square(t, p, lo, hi, xs[0, : hi - lo], 0.5 / (c[4] * c[4])), out=xs[0, : hi - lo])


def _welsch_stage(t, p, lo, hi, xs, c):  # P0 = scale: x0 = expm1(-x^2 / 2)
    np.expm1(_scaled_square(t, p, lo, hi, xs[0, : hi - lo], -0.5 / (c[4] * c[4])), out=xs[0, : hi - lo])


def _barron_stage(t, p, lo, hi, xs, c):  # P0 = alpha, P1 = scale, P2 = b = |alpha - 2|
    m = hi - lo  # x0 = expm1(alpha / 2 log u), x1 = exp((alpha / 2 - 1) log u), log u = log1p(x^2 / b)
    log_u = _scaled_square(t, p, lo, hi, xs[3, :m], 1.0 / (c[5] * c[5] * c[6]))
    np.log1p(log_u, out=log_u)
    np.multiply(log_u, c[3] * c[4], out=xs[0, :m])
    np.expm1(xs[0, :m], out=xs[0, :m])
    np.multiply(log_u, c[3] * c[4] - c[1], out=xs[1, :m])
    np.exp(xs[1, :m], out=xs[1, :m])


def _exp_stage(t, p, lo, hi, xs, c):  # x0 = exp(p)
    np.exp(p[lo:hi], out=xs[0, : hi - lo])


def _expm1_over(x, a, out):
    """``out = expm1(a x) / a`` (``x`` itself at ``a = 0``); ``out`` may be ``x``."""
    if a == 0:
        np.copyto(out, x)
        return
    np.multiply(x, a, out=out)
    np.expm1(out, out=out)
    np.multiply(out, 1.0 / a, out=out)


#: Powers within this of 1 or 2 take the expm1 form of the Tweedie deviance; the others the direct form.
NEAR_SPECIAL_POWER = 0.05


def _tweedie_direct_stage(log_link):
    """Powers away from 1 and 2: x2 = mu^a, x3 = y^a (a = 1 - power) and, with ``log_link``, x4 = mu, from
    which the kernel takes y (y^a - mu^a) / a + (mu^b - y^b) / b, b = 2 - power (mu^b = mu mu^a): two
    exponentials where the expm1 form takes four. Its rounding error grows like eps / min(|a|, |b|)."""

    def stage(t, p, lo, hi, xs, c):
        m = hi - lo
        a = float(c[1] - c[4])
        if log_link:
            log_mu = p[lo:hi]
            np.exp(log_mu, out=xs[4, :m])
        else:
            log_mu = np.log(p[lo:hi], out=xs[0, :m])
        np.multiply(log_mu, a, out=xs[2, :m])
        np.exp(xs[2, :m], out=xs[2, :m])
        log_y = np.maximum(t[lo:hi], np.finfo(xs.dtype).tiny, out=xs[3, :m])
        np.log(log_y, out=log_y)
        np.multiply(log_y, a, out=log_y)
        np.exp(log_y, out=log_y)

    return stage


def _tweedie_stage(log_link):
    """P0 = power: x0 = expm1(-b s) / b and x1 = expm1(a s) / a with s = log y - log mu, x2 = mu^a, x3 = y^b,
    and with ``log_link`` (the prediction is log mu) x4 = mu; a = 1 - power, b = 2 - power: the pieces of
    ``probabilistic.half_deviance``. Where y <= 0 the kernel reads none of them."""

    def stage(t, p, lo, hi, xs, c):
        m = hi - lo
        a, b = float(c[1] - c[4]), float(c[2] - c[4])
        if log_link:
            log_mu = p[lo:hi]
            np.exp(log_mu, out=xs[4, :m])
        else:
            log_mu = np.log(p[lo:hi], out=xs[0, :m])
        s = np.maximum(t[lo:hi], np.finfo(xs.dtype).tiny, out=xs[1, :m])  # no log of 0: slow, and unused there
        np.log(s, out=s)
        np.multiply(log_mu, a, out=xs[2, :m])
        np.exp(xs[2, :m], out=xs[2, :m])
        np.multiply(s, b, out=xs[3, :m])
        np.exp(xs[3, :m], out=xs[3, :m])
        np.subtract(s, log_mu, out=s)
        _expm1_over(s, -b, xs[0, :m])
        np.negative(xs[0, :m], out=xs[0, :m])  # expm1(-b s) / b
        _expm1_over(s, a, s)

    return stage


def _log_pieces_stage(log_link, negative):
    """Poisson and Gamma: x0 = log mu, x1 = log y (0 where y <= 0), x2 = exp(+-log mu) (mu, or 1 / mu with
    ``negative``) for the log-mean twins, whose prediction is log mu."""

    def stage(t, p, lo, hi, xs, c):
        m = hi - lo
        if log_link:
            np.multiply(p[lo:hi], -1.0 if negative else 1.0, out=xs[2, :m])
            np.exp(xs[2, :m], out=xs[2, :m])
        else:
            np.log(p[lo:hi], out=xs[0, :m])
        np.maximum(t[lo:hi], np.finfo(xs.dtype).tiny, out=xs[1, :m])  # no log of 0: slow, and unused there
        np.log(xs[1, :m], out=xs[1, :m])

    return stage


def _exp_abs_stage(t, p, lo, hi, xs, c):  # x0 = exp(-|z|)
    m = hi - lo
    np.abs(p[lo:hi], out=xs[0, :m])
    np.negative(xs[0, :m], out=xs[0, :m])
    np.exp(xs[0, :m], out=xs[0, :m])


def _logistic_stage(t, p, lo, hi, xs, c):  # x0 = e = exp(-|z|), x1 = log1p(e)
    _exp_abs_stage(t, p, lo, hi, xs, c)
    np.log1p(xs[0, : hi - lo], out=xs[1, : hi - lo])


HESSIAN_STAGES = {
    "pseudo_huber": _no_stage,
    "sigmoid_cross_entropy": _logistic_stage,
    "exponential": _exp_abs_stage,
    "soft_margin": _logistic_stage,
    "sigmoid_focal": _logistic_stage,
    "asymmetric": _logistic_stage,
    "smooth_l1": _no_stage,
    "epsilon_insensitive": _no_stage,
    "squared_epsilon_insensitive": _no_stage,
    "cauchy": _cauchy_stage,
    "geman_mcclure": _no_stage,
    "welsch": _welsch_stage,
    "tukey_biweight": _no_stage,
    "general_robust": _barron_stage,
    "log_poisson_nll": _exp_stage,
    "poisson_deviance": _log_pieces_stage(False, False),
    "gamma_deviance": _log_pieces_stage(False, True),
    "tweedie_deviance": _tweedie_stage(False),
    "tweedie_direct": _tweedie_direct_stage(False),
    "log_tweedie_direct": _tweedie_direct_stage(True),
    "log_poisson_deviance": _log_pieces_stage(True, False),
    "log_gamma_deviance": _log_pieces_stage(True, True),
    "log_tweedie_deviance": _tweedie_stage(True),
}

# NaN in, NaN out: ``r != r`` is true only for NaN; ``SIGN`` is sign(r), 0 at 0 and NaN at NaN.
_SIGN = "sg = ONE if r > ZERO else (-ONE if r < ZERO else r * ZERO)"
#: The excess over the epsilon tube (P0) and whether the residual is outside it.
_TUBE = f"""
r = p - t
e = abs(r) - P0
{_SIGN}
out = e > ZERO"""
# P0 = power; half the unit deviance (probabilistic.half_deviance): y mu^a x1 + y^b x0 for y > 0, else
# mu^b / b - y mu^a / a, with mu^a = x2 and mu^b = x2 MU.
_DEVIANCE = """
half = t * x2 * x1 + x3 * x0 if t > ZERO else x2 * MU / (TWO - P0) - (ZERO if t == ZERO else t * x2 / (ONE - P0))"""
# Focal terms of a hard label from logit p (sigmoid_focal, and asymmetric's positives and unshifted negatives):
# x0 = e = exp(-|z|), x1 = log1p(e); softplus(+-z) = max(+-z, 0) + x1 exactly; sigma(z) = 1 / (1 + e) for z >= 0.
# With s = 2y - 1, 1 - p_t = u = sigma(-s z), log u = -softplus(s z), and p (1 - p) / (1 - p_t) = p_t = 1 - u:
# a = -s u - G s p_t CE is the gradient over the focus, and the Hessian is focus (-G s p_t a + a'), as in
# losses/binary.py. G = the exponent; FW = the weight of the label's class. Soft labels leave the tile.
_FOCAL = """
big = ONE / (ONE + x0)
small = x0 / (ONE + x0)
up = big if p >= ZERO else small
down = small if p >= ZERO else big
s = TWO * t - ONE
ce = ((-p if p < ZERO else ZERO) + x1) if t == ONE else ((p if p > ZERO else ZERO) + x1)
u = down if t == ONE else up
pt = up if t == ONE else down
focus = ONE if G == ZERO else np.exp(-G * (((p if p > ZERO else ZERO) + x1) if t == ONE else ((-p if p < ZERO else ZERO) + x1)))
rc = ZERO if pt == ZERO else pt * ce
res = -s * u
a = res - G * s * rc
slope = -G * s * rc * ((ONE - TWO * up) + s * pt) - G * s * pt * res + up * down
lf = FW * (ZERO if focus == ZERO else focus * ce)
df = FW * focus * a
hf = FW * focus * (-G * s * pt * a + slope)
hard = (t == ZERO or t == ONE) and abs(p) < np.inf"""
HESSIAN_ELEMENTS = {
    # Labels in {-1, 0, +1}, 0 read as -1; the margin m = s p, |m| = |p|. x0 = exp(-|p|): exp(-m) is x0 or 1 / x0
    # (a subnormal x0 leaves the tile to the reference, which takes exp(-m) itself)
    "exponential": """
s = ONE if t > ZERO else (-ONE if t == t else t)
e = x0 if s * p >= ZERO else ONE / x0
l = e
d = -s * e
h = e
ok = x0 > 1e-300 or s * p >= ZERO""",
    # x0 = exp(-|p|), x1 = log1p(x0): softplus(-m), -s sigmoid(-m), sigmoid(m) sigmoid(-m)
    "soft_margin": """
s = ONE if t > ZERO else (-ONE if t == t else t)
m = s * p
big = ONE / (ONE + x0)
small = x0 / (ONE + x0)
l = (-m if m < ZERO else ZERO) + x1
d = -s * (small if m >= ZERO else big)
h = small * big
ok = True""",
    # P0 = gamma, P1, P2 = the weights of positives and negatives (alpha, 1 - alpha; 1 and 1 without alpha)
    "sigmoid_focal": "\nG = P0\nFW = P1 if t == ONE else P2" + _FOCAL + """
l = lf
d = df
h = hf
ok = hard""",
    # P0 = gamma_pos, P1 = gamma_neg, P2 = clip: a positive is focal at gamma_pos; a negative is focal at gamma_neg
    # without the shift, else f(q) = q^g (-log(1 - q)) of q = max(sigmoid(z) - clip, 0), L / q -> 1 at q = 0.
    "asymmetric": "\nG = P0 if t == ONE else (P1 if P2 == ZERO else ZERO)\nFW = ONE" + _FOCAL + """
sig = up
q = sig - P2 if sig > P2 else ZERO
live = q > ZERO
L = -np.log1p(-q)
ratio = L / q if live else ONE
qg = ONE if P1 == ZERO else (q ** P1 if live else ZERO)
outer = qg * (P1 * ratio + ONE / (ONE - q))
sl = up * down
inner = P1 * (P1 - ONE) * ratio / q + TWO * P1 / (q * (ONE - q)) + ONE / ((ONE - q) * (ONE - q)) if live else ZERO
shifted = t == ZERO and P2 > ZERO
l = (qg * L if live else ZERO) if shifted else lf
d = (outer * sl if live else ZERO) if shifted else df
h = ((qg * inner * sl * sl + outer * sl * (ONE - TWO * sig)) if live else ZERO) if shifted else hf
ok = hard""",
    # P0 = beta, P1 = 1 / beta (0 at beta = 0)
    "smooth_l1": f"""
r = p - t
a = abs(r)
{_SIGN}
inside = a < P0
l = HALF * r * r * P1 if inside else a - HALF * P0
d = r * P1 if inside else sg
h = r if r != r else (P1 if inside else ZERO)
ok = True""",
    # P0 = epsilon; the Hessian is the approximate 1
    "epsilon_insensitive": _TUBE + """
l = r if r != r else (e if out else ZERO)
d = r if r != r else (sg if out else ZERO)
h = ONE
ok = True""",
    "squared_epsilon_insensitive": _TUBE + """
e = e if out else ZERO
l = r if r != r else e * e
d = r if r != r else TWO * sg * e
h = r if r != r else (TWO if out else ZERO)
ok = True""",
    # P0 = scale; x0 = log1p(x^2 / 2), not finite past |x| ~ 1e154: the reference takes that tile
    "cauchy": """
x = (p - t) / P0
l = x0
s = ONE / (TWO + x * x)
d = (TWO / P0) * x * s
h = (TWO / (P0 * P0)) * (4.0 * s * s - s)
ok = x0 < np.inf""",
    "geman_mcclure": """
x = (p - t) / P0
q = ONE / (x * x + 4.0)
l = x if x != x else (TWO if q == ZERO else TWO * x * x * q)
d = (16.0 / P0) * x * q * q
h = (16.0 / (P0 * P0)) * (16.0 * q * q * q - 3.0 * q * q)
ok = True""",
    "welsch": """
x = (p - t) / P0
e = ONE + x0
near = ZERO if e == ZERO else x
l = -x0
d = x if x != x else near * e / P0
h = x if x != x else (ONE - near * near) * e / (P0 * P0)
ok = True""",
    # P0 = c
    "tukey_biweight": """
r = p - t
u = (r / P0) * (r / P0)
inside = u <= ONE
v = ONE - u if inside else ZERO
near = r if inside else ZERO
k = u if inside else ONE
l = r if r != r else (P0 * P0 / 6.0) * (k * (3.0 - k * (3.0 - k)))
d = r if r != r else near * v * v
h = r if r != r else (v * (ONE - 5.0 * u) if inside else ZERO)
ok = True""",
    # P0 = alpha, P1 = scale, P2 = b = |alpha - 2|, P3 = sign(alpha - 2); x0 = expm1(alpha / 2 log u),
    # x1 = u^(alpha / 2 - 1), u = x^2 / b + 1: not finite past |x| ~ 1e154, where the reference takes the tile
    "general_robust": """
x = (p - t) / P1
z = x * x
l = (P2 / P0) * x0
d = x * x1 / P1
h = x1 * (ONE + P3 * (z / (ONE + z / P2))) / (P1 * P1)
ok = z < np.inf""",
    # x0 = exp(z); y log(y) dropped at y = 0
    "log_poisson_nll": """
l = x0 - (ZERO if t == ZERO else t * p)
d = x0 - t
h = x0
ok = True""",
    # mu = p: 2 mu^-p (mu - y), 2 mu^(-p-1) ((1 - p) mu + p y)
    "tweedie_deviance": "\nMU = p" + _DEVIANCE + """
l = TWO * half
d = TWO * (x2 / p) * (p - t)
h = TWO * (x2 / (p * p)) * ((ONE - P0) * p + P0 * t)
ok = True""",
    # p = log mu: 2 (mu^b - y mu^a), 2 (b mu^b - a y mu^a)
    "log_tweedie_deviance": "\nMU = x4" + _DEVIANCE + """
l = TWO * half
d = TWO * x2 * (MU - t)
h = TWO * x2 * ((TWO - P0) * MU - (ONE - P0) * t)
ok = True""",
}
# The direct form (P0 = power, P1 = 1 / a, P2 = 1 / b): half = y (y^a - mu^a) / a + (mu^b - y^b) / b for y > 0,
# y^b = y y^a; the same as _DEVIANCE elsewhere.
_DIRECT = """
half = t * (x3 - x2) * P1 + (x2 * MU - t * x3) * P2 if t > ZERO else x2 * MU * P2 - (ZERO if t == ZERO else t * x2 * P1)"""
# The first-order kernels with their second derivatives: pseudo-Huber's 1 / root^3 (0 at an infinite residual,
# and past float32's range of the cube, where it is below the smallest float32), and sigmoid cross-entropy's
# (pos + neg) sigma(z) sigma(-z), with x0 = exp(-|z|) and x1 = log1p(x0) as in its first-order stage.
HESSIAN_ELEMENTS["pseudo_huber"] = ELEMENTS["pseudo_huber"] + "\nh = ONE / (root * root * root)\nok = True"
HESSIAN_ELEMENTS["sigmoid_cross_entropy"] = SPLIT_ELEMENTS["sigmoid_cross_entropy"] + "\nh = (pos + neg) * big * small"
HESSIAN_ELEMENTS["tweedie_direct"] = "\nMU = p" + _DIRECT + HESSIAN_ELEMENTS["tweedie_deviance"].split(_DEVIANCE)[1]
HESSIAN_ELEMENTS["log_tweedie_direct"] = "\nMU = x4" + _DIRECT + HESSIAN_ELEMENTS["log_tweedie_deviance"].split(_DEVIANCE)[1]

# Poisson (power 1): 2 (y log(y / mu) - y + mu); Gamma (power 2): 2 (y / mu - 1 - log(y / mu)). From the mean
# p: x0 = log mu; from the log-mean p: x2 = mu (Poisson) or 1 / mu (Gamma); x1 = log y.
HESSIAN_ELEMENTS.update({
    "poisson_deviance": """
l = TWO * ((ZERO if t == ZERO else t * (x1 - x0)) - t + p)
d = TWO * (ONE - t / p)
h = TWO * t / (p * p)
ok = True""",
    "log_poisson_deviance": """
l = TWO * ((ZERO if t == ZERO else t * (x1 - p)) - t + x2)
d = TWO * (x2 - t)
h = TWO * x2
ok = True""",
    "gamma_deviance": """
q = t / p
l = TWO * (q - ONE - (x1 - x0))
d = TWO * (p - t) / (p * p)
h = TWO * (TWO * t - p) / (p * p * p)
ok = True""",
    "log_gamma_deviance": """
q = t * x2
l = TWO * (q - ONE - (x1 - p))
d = TWO * (ONE - q)
h = TWO * q
ok = True""",
})

_HESSIAN_TEMPLATE = '''
def kernel(yt, yp, xs, w, full, R, lo, hi, den, c, out_l, out_g, out_h, write_l, write_g, write_h):
    """Elements [lo, hi) of the flattened arrays, tile buffers indexed from 0; the weight is w[i] (full) or
    w[i // R]. Returns the weighted sum (NaN if an element is not ok)."""
    ZERO = c[0]; ONE = c[1]; TWO = c[2]; HALF = c[3]; P0 = c[4]; P1 = c[5]; P2 = c[6]; P3 = c[7]
    NAN = ZERO / ZERO
    total = 0.0
    i = lo
    while i < hi:  # runs of one weight entry (the whole range if the weight is full)
        stop = hi if full else min(hi, (i // R + 1) * R)
        m = stop - i
        ta = yt[i:stop]; pa = yp[i:stop]
        x0a = xs[0, i - lo:stop - lo]; x1a = xs[1, i - lo:stop - lo]
        x2a = xs[2, i - lo:stop - lo]; x3a = xs[3, i - lo:stop - lo]; x4a = xs[4, i - lo:stop - lo]
        la = out_l[i:stop] if write_l else out_l
        ga = out_g[i:stop] if write_g else out_g
        ha = out_h[i:stop] if write_h else out_h
        wa = w[i:stop] if full else w[i // R:i // R + 1]
        acc = 0.0
        for j in range(m):
            t = ta[j]; p = pa[j]; x0 = x0a[j]; x1 = x1a[j]; x2 = x2a[j]; x3 = x3a[j]; x4 = x4a[j]
{body}
            wi = wa[j] if full else wa[0]
            acc += ZERO if wi == ZERO else (wi * l if ok else NAN)
            sc = wi / den
            if write_l:
                la[j] = ZERO if wi == ZERO else wi * l
            if write_g:
                ga[j] = ZERO if sc == ZERO else sc * d
            if write_h:
                ha[j] = ZERO if sc == ZERO else sc * h
        total += acc
        i = stop
    return total
'''


def hessian_kernel(name: str):
    """The compiled kernel of loss ``name`` for value, gradient and Hessian, run after ``HESSIAN_STAGES[name]``."""
    return _tile_kernel("hessian", _HESSIAN_TEMPLATE, HESSIAN_ELEMENTS, name)
