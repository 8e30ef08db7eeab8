"""Benchmark losskit's fast path against its peers, side by side in one run.

    .venv/bin/python benchmarks/run.py            # the full run (about 10 minutes)
    .venv/bin/python benchmarks/run.py --quick    # small sizes, no torch.compile (about a minute)

Every case is timed interleaved with its peers (A B C, B C A, C A B ...), after a warm-up, and reported as
the median of the repeats; the "speed of light" is a 2-thread copy of arrays of the same size,
measured in the same run. Bandwidth counts the minimum traffic of value+gradient: one read of y_true
and y_pred and one write of the gradient. Peak memory is measured in a fresh subprocess per case
(VmHWM after resetting it, minus the resident size just before the call, with losskit's buffer pool
emptied first). Results go to a JSON file (--json, default benchmarks/results.json).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # idle OpenBLAS workers spin and steal the second core
os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0))))
# PyTorch's idle OpenMP workers otherwise spin on the cores after each call and slow whatever runs next
# (measured: a 2-thread loss right after a PyTorch call ran up to 1.6x slower); passive waiting costs
# PyTorch itself about 5-10% here, which RESULTS.md states.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import losskit as lk  # noqa: E402
from losskit import fast  # noqa: E402

THREADS = len(os.sched_getaffinity(0))

# --------------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------------


def interleaved(candidates: dict, repeats: int, warmup: int = 2) -> dict:
    """Median seconds of each callable, run in rounds A B C, B C A, C A B ... after ``warmup`` calls each.

    Each round starts one candidate later, so that none always runs right after the same peer: PyTorch's
    OpenMP workers keep spinning on the cores for a while after its call, slowing whatever comes next.
    """
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    times = {k: [] for k in candidates}
    order = list(candidates.items())
    for r in range(repeats):
        for name, fn in order[r % len(order):] + order[:r % len(order)]:
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: float(np.median(v)) for k, v in times.items()}


def copy_kernel():
    import numba

    @numba.njit(parallel=True)
    def copy(a, b):
        n = a.size
        block = 65536
        for k in numba.prange((n + block - 1) // block):
            lo = k * block
            hi = min(n, lo + block)
            x = a[lo:hi]
            y = b[lo:hi]
            for i in range(hi - lo):
                y[i] = x[i]

    return copy


# --------------------------------------------------------------------------------------------------
# Elementwise losses: the same formula in each library
# --------------------------------------------------------------------------------------------------


def _data(name, n, rng):
    if name in ("hinge", "squared_hinge"):
        y_true = rng.choice(np.array([-1.0, 1.0], np.float32), size=n)
        y_pred = rng.standard_normal(n, dtype=np.float32)
    elif name == "binary_cross_entropy":
        y_true = (rng.random(n, dtype=np.float32) > 0.5).astype(np.float32)
        y_pred = rng.random(n, dtype=np.float32) * np.float32(0.98) + np.float32(0.01)
    elif name == "sigmoid_cross_entropy":
        y_true = (rng.random(n, dtype=np.float32) > 0.5).astype(np.float32)
        y_pred = rng.standard_normal(n, dtype=np.float32) * np.float32(3)
    elif name == "msle":
        y_true = rng.exponential(size=n).astype(np.float32)
        y_pred = rng.exponential(size=n).astype(np.float32)
    else:
        y_true = rng.standard_normal(n, dtype=np.float32)
        y_pred = rng.standard_normal(n, dtype=np.float32) * np.float32(2)
    return y_true, y_pred


def numpy_plain(name):
    """The obvious NumPy code for value and gradient (mean reduction)."""

    def f(t, p):
        n = p.size
        if name == "mse":
            r = p - t
            return np.mean(r * r), 2 * r / n
        if name == "mae":
            r = p - t
            return np.mean(np.abs(r)), np.sign(r) / n
        if name == "rmse":
            r = p - t
            v = np.sqrt(np.mean(r * r))
            return v, r / (n * v)
        if name == "huber":
            r = p - t
            a = np.abs(r)
            return np.mean(np.where(a <= 1, 0.5 * r * r, a - 0.5)), np.clip(r, -1, 1) / n
        if name == "pseudo_huber":
            r = p - t
            root = np.sqrt(1 + r * r)
            return np.mean(root - 1), r / root / n
        if name == "log_cosh":
            r = p - t
            a = np.abs(r)
            return np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2)), np.tanh(r) / n
        if name == "msle":
            d = np.log1p(p) - np.log1p(t)
            return np.mean(d * d), 2 * d / (1 + p) / n
        if name == "hinge":
            s = 1 - t * p
            return np.mean(np.maximum(s, 0)), np.where(s > 0, -t, 0) / n
        if name == "squared_hinge":
            s = np.maximum(1 - t * p, 0)
            return np.mean(s * s), -2 * t * s / n
        if name == "binary_cross_entropy":
            lp, l1 = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
            return np.mean(-(t * lp + (1 - t) * l1)), (-t / p + (1 - t) / (1 - p)) / n
        if name == "sigmoid_cross_entropy":
            sp = np.logaddexp(0, p)
            return np.mean(sp - t * p), (1 / (1 + np.exp(-p)) - t) / n
        raise KeyError(name)

    return f


def torch_loss(name):
    import torch
    import torch.nn.functional as F

    def f(t, p):
        if name == "mse":
            return F.mse_loss(p, t)
        if name == "mae":
            return F.l1_loss(p, t)
        if name == "rmse":
            return torch.sqrt(F.mse_loss(p, t))
        if name == "huber":
            return F.huber_loss(p, t)
        if name == "pseudo_huber":
            r = p - t
            return (torch.sqrt(1 + r * r) - 1).mean()
        if name == "log_cosh":
            r = p - t
            a = r.abs()
            return (a + F.softplus(-2 * a) - 0.6931471805599453).mean()
        if name == "msle":
            return F.mse_loss(torch.log1p(p), torch.log1p(t))
        if name == "hinge":
            return torch.clamp(1 - t * p, min=0).mean()
        if name == "squared_hinge":
            return (torch.clamp(1 - t * p, min=0) ** 2).mean()
        if name == "binary_cross_entropy":
            return F.binary_cross_entropy(p, t)
        if name == "sigmoid_cross_entropy":
            return F.binary_cross_entropy_with_logits(p, t)
        raise KeyError(name)

    return f


def jax_loss(name):
    import jax
    import jax.numpy as jnp

    def f(p, t):
        r = p - t
        if name == "mse":
            return jnp.mean(r * r)
        if name == "mae":
            return jnp.mean(jnp.abs(r))
        if name == "rmse":
            return jnp.sqrt(jnp.mean(r * r))
        if name == "huber":
            a = jnp.abs(r)
            return jnp.mean(jnp.where(a <= 1, 0.5 * r * r, a - 0.5))
        if name == "pseudo_huber":
            return jnp.mean(jnp.sqrt(1 + r * r) - 1)
        if name == "log_cosh":
            a = jnp.abs(r)
            return jnp.mean(a + jax.nn.softplus(-2 * a) - jnp.log(2.0))
        if name == "msle":
            d = jnp.log1p(p) - jnp.log1p(t)
            return jnp.mean(d * d)
        if name == "hinge":
            return jnp.mean(jnp.maximum(1 - t * p, 0))
        if name == "squared_hinge":
            return jnp.mean(jnp.maximum(1 - t * p, 0) ** 2)
        if name == "binary_cross_entropy":
            return -jnp.mean(t * jnp.maximum(jnp.log(p), -100) + (1 - t) * jnp.maximum(jnp.log1p(-p), -100))
        if name == "sigmoid_cross_entropy":
            return jnp.mean(jax.nn.softplus(p) - t * p)
        raise KeyError(name)

    return jax.jit(jax.value_and_grad(f))


def sklearn_loss(name):
    from sklearn._loss import loss as L

    make = {
        "mse": L.HalfSquaredError,
        "mae": L.AbsoluteError,
        "huber": lambda: L.HuberLoss(delta=1.0),
        "sigmoid_cross_entropy": L.HalfBinomialLoss,
    }.get(name)
    if make is None:
        return None
    loss = make()

    def f(t, p):
        values, grad = loss.loss_gradient(t, p, n_threads=THREADS)
        return values.mean(), grad

    return f


ELEMENTWISE = ["mse", "mae", "rmse", "huber", "pseudo_huber", "hinge", "squared_hinge", "log_cosh", "msle",
               "binary_cross_entropy", "sigmoid_cross_entropy"]  # fmt: skip
#: Targets of the issue: arithmetic losses at 80% of copy bandwidth and 8x PyTorch eager; transcendental
#: ones 2.5x PyTorch eager and no slower than jax.jit.
BANDWIDTH_BOUND = {"mse", "mae", "huber", "pseudo_huber", "hinge", "squared_hinge"}


def bench_elementwise(n, repeats, use_compile, results):
    import jax
    import torch

    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    copy = copy_kernel()
    src = rng.standard_normal(n, dtype=np.float32)
    dst = np.empty_like(src)
    copy(src, dst)
    rows = []
    for name in ELEMENTWISE:
        t_np, p_np = _data(name, n, rng)
        loss = lk.get(name)
        out = np.empty_like(p_np)
        tt = torch.from_numpy(t_np)
        pt = torch.from_numpy(p_np.copy()).requires_grad_(True)
        tf = torch_loss(name)

        def torch_eager():
            pt.grad = None
            v = tf(tt, pt)
            v.backward()
            return v, pt.grad

        cands = {
            "copy": lambda: copy(src, dst),
            "losskit": lambda: loss.value_and_grad(t_np, p_np),
            "losskit_out": lambda: fast.value_and_grad(loss, t_np, p_np, out=out),
            "losskit_ref": None,
            "numpy": (lambda f: lambda: f(t_np, p_np))(numpy_plain(name)),
            "torch": torch_eager,
        }

        def reference():
            with fast.fast_path("never"):
                return loss.value_and_grad(t_np, p_np)

        cands["losskit_ref"] = reference
        jf = jax_loss(name)
        jp, jt = jax.device_put(p_np), jax.device_put(t_np)
        cands["jax_jit"] = lambda: jax.block_until_ready(jf(jp, jt))
        sk = sklearn_loss(name)
        if sk is not None:
            cands["sklearn"] = lambda: sk(t_np, p_np)
        if use_compile:
            torch._dynamo.reset()  # the same closure for every loss: without this, dynamo's recompile limit
            cf = torch.compile(tf)  # turns the later losses' column into eager PyTorch
            pc = torch.from_numpy(p_np.copy()).requires_grad_(True)

            def torch_compiled():
                pc.grad = None
                v = cf(tt, pc)
                v.backward()
                return v, pc.grad

            torch_compiled()
            cands["torch_compile"] = torch_compiled
        # Value error against a float64 reference.
        with fast.fast_path("never"):
            exact = float(loss(t_np.astype(np.float64), p_np.astype(np.float64)))
        got = float(loss.value_and_grad(t_np, p_np)[0])
        with lk.validation(False):
            times = interleaved(cands, repeats)
        byte_count = 3 * n * 4
        copy_bw = 2 * n * 4 / times["copy"]
        row = {"loss": name, "n": n, "times_s": times, "copy_GBps": copy_bw / 1e9,
               "losskit_GBps": byte_count / times["losskit"] / 1e9,
               "pct_of_copy": 100 * (byte_count / times["losskit"]) / copy_bw,
               "pct_of_copy_out": 100 * (byte_count / times["losskit_out"]) / copy_bw,
               "value_rel_error": abs(got - exact) / max(abs(exact), 1e-300)}  # fmt: skip
        row["speedup"] = {k: times[k] / times["losskit"] for k in times if k not in ("copy", "losskit")}
        rows.append(row)
        print_row(row)
    results["elementwise"] = rows


# --------------------------------------------------------------------------------------------------
# Value, gradient and Hessian diagonal: the one-pass kernels against the tiled reference (what boosting calls)
# --------------------------------------------------------------------------------------------------

#: The losses of the Hessian kernels, a setting each, and scikit-learn's loss class of the same numbers (half).
HESSIAN_CASES = {
    "smooth_l1": ({}, None), "epsilon_insensitive": ({}, None), "squared_epsilon_insensitive": ({}, None),
    "cauchy": ({}, None), "geman_mcclure": ({}, None), "welsch": ({}, None), "tukey_biweight": ({}, None),
    "general_robust": ({"alpha": 0.5}, None), "log_poisson_nll": ({}, ("HalfPoissonLoss", {})),
    "poisson_deviance": ({}, ("HalfTweedieLossIdentity", {"power": 1.0})),
    "gamma_deviance": ({}, ("HalfTweedieLossIdentity", {"power": 2.0})),
    "tweedie_deviance": ({"power": 1.5}, ("HalfTweedieLossIdentity", {"power": 1.5})),
    "log_poisson_deviance": ({}, ("HalfPoissonLoss", {})), "log_gamma_deviance": ({}, ("HalfGammaLoss", {})),
    "log_tweedie_deviance": ({"power": 1.5}, ("HalfTweedieLoss", {"power": 1.5})),
    "exponential": ({}, ("ExponentialLoss", {})), "soft_margin": ({}, ("HalfBinomialLoss", {})),
    "sigmoid_focal": ({}, None), "asymmetric": ({}, None),
}  # fmt: skip


def _hessian_data(loss, n, rng):
    """float64 targets and predictions inside the loss's domains (counts or positive amounts where asked)."""
    spec_true, spec_pred = loss.info.inputs
    if spec_true.domain.bounds in ((-1.0, 1.0), (0.0, 1.0)):  # labels: 0/1, which margin losses read as -1/+1
        t = (rng.random(n) < 0.3).astype(np.float64)
    elif spec_true.domain.bounds[0] < 0:
        t = rng.standard_normal(n)
    elif getattr(spec_true.domain, "open_low", False):
        t = rng.gamma(2.0, 1.5, n)
    else:
        t = rng.poisson(2.0, n).astype(np.float64)
    p = rng.gamma(2.0, 1.5, n) if spec_pred.domain.bounds[0] >= 0 else 2.0 * rng.standard_normal(n)
    return t, p


def bench_hessian(n, repeats, results, cases=None):
    from sklearn._loss import loss as sk_losses

    from losskit.fast import _impl
    from losskit.inputs import prepare

    rng = np.random.default_rng(0)
    rows = []
    for name, (hyper, peer) in HESSIAN_CASES.items():
        if cases and name not in cases:
            continue
        loss = lk.get(name, **hyper)
        t, p = _hessian_data(loss, n, rng)
        batch = prepare(loss, (t, p))
        cands = {
            "losskit": lambda: loss.grad_and_hessian(t, p),
            "tiled_reference": lambda: _impl._tiled_hessian(loss, batch, 2, None),
        }

        def reference():
            with fast.fast_path("never"):
                return loss.grad_and_hessian(t, p)

        cands["reference"] = reference
        if peer is not None:
            sk = getattr(sk_losses, peer[0])(**peer[1])
            cands["sklearn"] = lambda sk=sk: sk.gradient_hessian(t, p, n_threads=THREADS)  # p: its raw prediction too
        with lk.validation(False):
            times = interleaved(cands, repeats)
        rows.append(_ratios(name, times, hyperparameters=hyper, n=n))
    results["hessian"] = rows


def _ratios(name, times, **fields) -> dict:
    """A result row: the times and each other's time over losskit's, printed as it comes."""
    row = {"loss": name, **fields, "times_s": times,
           "speedup": {k: times[k] / times["losskit"] for k in times if k != "losskit"}}  # fmt: skip
    peers = "  ".join(f"{k}={v:.1f}x" for k, v in row["speedup"].items())
    print(f"{name:>28s}  {1e3 * times['losskit']:7.1f} ms  | {peers}", flush=True)
    return row


def _torch_rows(name, loss):
    """The straightforward PyTorch formula of a row loss (its mean over rows), or PyTorch's own function."""
    import torch
    import torch.nn.functional as F

    def focal(y, z):
        log_p = F.log_softmax(z, -1)
        return -(y * (1 - log_p.exp()) ** loss.gamma * log_p).sum(-1).mean()

    def sparsemax_loss(t, z):
        ranked, _ = torch.sort(z, -1, descending=True)
        k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype)
        sums = ranked.cumsum(-1)
        support = (1 + k * ranked > sums).sum(-1, keepdim=True)
        tau = (sums.gather(-1, support - 1) - 1) / support
        p = torch.clamp(z - tau, min=0)
        return (tau[:, 0] - z.gather(-1, t[:, None])[:, 0] + 0.5 * (1 + (p * p).sum(-1))).mean()

    def crammer_singer(t, z):
        true = z.gather(-1, t[:, None])[:, 0]
        others = z.scatter(-1, t[:, None], float("-inf")).max(-1).values
        return torch.clamp(loss.margin + others - true, min=0).mean()

    def jensen_shannon(p, q):
        m = 0.5 * (p + q)
        return 0.5 * (torch.xlogy(p, p) - torch.xlogy(p, m) + torch.xlogy(q, q) - torch.xlogy(q, m)).sum(-1).mean()

    t2 = getattr(loss, "temperature", 1.0) ** 2
    formulas = {
        "softmax_focal": focal,
        "sparse_softmax_focal": lambda t, z: focal(F.one_hot(t, z.shape[-1]).to(z.dtype), z),
        "categorical_focal": lambda y, p: -(y * (1 - p) ** loss.gamma * torch.log(p)).sum(-1).mean(),
        "poly1_softmax_cross_entropy": lambda y, z: (-(y * F.log_softmax(z, -1)).sum(-1)
                                                     + loss.epsilon * (1 - (y * F.softmax(z, -1)).sum(-1))).mean(),
        "generalized_cross_entropy": lambda t, z: ((1 - F.softmax(z, -1).gather(-1, t[:, None]) ** loss.q) / loss.q).mean(),
        "crammer_singer_hinge": crammer_singer,
        "weston_watkins_hinge": lambda t, z: F.multi_margin_loss(z, t, p=loss.p, margin=loss.margin),
        "sparsemax_loss": sparsemax_loss,
        "multilabel_soft_margin": lambda y, z: F.multilabel_soft_margin_loss(z, y),
        "reverse_kl_divergence": lambda p, q: F.kl_div(torch.log(p), torch.log(q), log_target=True,
                                                       reduction="batchmean"),
        "jensen_shannon": jensen_shannon,
        "generalized_kl_divergence": lambda p, z: (torch.xlogy(p, p) - p * z - p + z.exp()).sum(-1).mean(),
        "distillation": lambda t, s: t2 * F.kl_div(F.log_softmax(s / loss.temperature, -1),
                                                   F.softmax(t / loss.temperature, -1), reduction="batchmean"),
    }  # fmt: skip
    return formulas[name]


def bench_rows(rows, classes, repeats, results, cases=None):
    """The row losses on the generic tiled path: losskit's NumPy engine against the same formula on whole
    arrays (the reference, with the fast path off) and the straightforward PyTorch eager formula (forward
    and backward), all float64."""
    import torch

    from losskit._samples import sample_inputs
    from losskit.fast import _impl

    out = []
    names = sorted(name for name, impl in _impl.IMPLS.items() if impl.__qualname__.startswith("_tiled_rows")
                   and lk.get(name).info.name not in ("softmax_cross_entropy", "sparse_softmax_cross_entropy"))  # fmt: skip
    for name in names:
        if cases and name not in cases:
            continue
        loss = lk.get(name)
        try:
            formula = _torch_rows(name, loss)
        except KeyError:
            continue
        t, p = sample_inputs(loss, np.random.default_rng(0), n=rows, classes=classes)
        t_torch = torch.from_numpy(t)

        def torch_eager(formula=formula, t_torch=t_torch, p=p):
            x = torch.from_numpy(p).requires_grad_()
            formula(t_torch, x).backward()
            return x.grad

        def reference(loss=loss, t=t, p=p):
            with fast.fast_path("never"):
                return loss.value_and_grad(t, p)

        with lk.validation(False):
            times = interleaved({"losskit": lambda loss=loss, t=t, p=p: loss.value_and_grad(t, p),
                                 "numpy_reference": reference, "torch_eager": torch_eager}, repeats)  # fmt: skip
        out.append(_ratios(name, times, rows=rows, classes=classes))
    results["rows"] = out


def print_row(row):
    t = row["times_s"]
    peers = "  ".join(f"{k}={row['speedup'][k]:.1f}x" for k in row["speedup"])
    print(f"{row['loss']:>22s}  {1e3 * t['losskit']:7.2f} ms  {row['losskit_GBps']:5.1f} GB/s  "
          f"{row['pct_of_copy']:5.0f}% of copy ({row['pct_of_copy_out']:.0f}% with out=)  "
          f"err {row['value_rel_error']:.1e}  | {peers}", flush=True)  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Softmax cross-entropy over a large vocabulary: time and peak memory
# --------------------------------------------------------------------------------------------------

SOFTMAX_CASES = ["losskit", "losskit_inplace", "losskit_ref", "torch", "numpy", "sklearn"]


def _softmax_inputs(rows, vocab):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((rows, vocab), dtype=np.float32)
    ids = rng.integers(0, vocab, size=rows)
    return logits, ids


def softmax_case(name, logits, ids):
    """A callable doing value+gradient of the mean sparse softmax cross-entropy."""
    loss = lk.SparseSoftmaxCrossEntropy()
    if name == "losskit":
        return lambda: loss.value_and_grad(ids, logits)
    if name == "losskit_inplace":
        work = logits.copy()  # the buffer the gradient overwrites (its logits are consumed)

        def inplace():
            return fast.value_and_grad(loss, ids, work, out=work)

        return inplace
    if name == "losskit_ref":

        def ref():
            with fast.fast_path("never"):
                return loss.value_and_grad(ids, logits)

        return ref
    if name == "torch":
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(THREADS)
        z = torch.from_numpy(logits).requires_grad_(True)
        y = torch.from_numpy(ids)

        def eager():
            z.grad = None
            v = F.cross_entropy(z, y)
            v.backward()
            return v, z.grad

        return eager
    if name == "numpy":

        def plain():
            m = logits.max(axis=1, keepdims=True)
            e = np.exp(logits - m)
            s = e.sum(axis=1, keepdims=True)
            logp = logits - m - np.log(s)
            value = -logp[np.arange(len(ids)), ids].mean()
            g = e / s
            g[np.arange(len(ids)), ids] -= 1
            return value, g / len(ids)

        return plain
    if name == "sklearn":
        from sklearn._loss.loss import HalfMultinomialLoss

        sk = HalfMultinomialLoss(n_classes=logits.shape[1])
        yf = ids.astype(np.float32)

        def skl():
            values, grad = sk.loss_gradient(yf, logits, n_threads=THREADS)
            return values.mean(), grad

        return skl
    raise KeyError(name)


def _rss():
    with open("/proc/self/status") as f:
        status = f.read()
    get = lambda key: int(status.split(key + ":")[1].split()[0]) * 1024  # noqa: E731
    return get("VmRSS"), get("VmHWM")


def measure_memory(kind, name, args):
    """In a fresh process: peak extra resident memory of one call (bytes), after a warm-up call."""
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-case", kind, name, *map(str, args)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def memory_case(kind, name, args):
    if kind == "softmax":
        rows, vocab = map(int, args)
        logits, ids = _softmax_inputs(rows, vocab)
        fn = softmax_case(name, logits, ids)
        base_size = logits.nbytes
    else:
        fn, base_size = linear_case(name, *map(int, args))
    result = fn()
    del result
    if hasattr(fn, "clear"):
        fn.clear()
    gc.collect()
    fast.release_buffers()  # the warm-up's gradient block must not serve the measured call for free
    rss, _ = _rss()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    result = fn()
    _, hwm = _rss()
    print(json.dumps({"extra_bytes": hwm - rss, "base_bytes": base_size}))


def bench_softmax(rows, vocab, repeats, results):
    logits, ids = _softmax_inputs(rows, vocab)
    cands = {name: softmax_case(name, logits, ids) for name in SOFTMAX_CASES}
    with lk.validation(False):
        times = interleaved(cands, repeats, warmup=1)
    memory = {name: measure_memory("softmax", name, (rows, vocab)) for name in SOFTMAX_CASES}
    row = {"rows": rows, "vocab": vocab, "logits_bytes": logits.nbytes, "times_s": times,
           "extra_memory_bytes": {k: v["extra_bytes"] for k, v in memory.items()}}  # fmt: skip
    row["extra_memory_x_logits"] = {k: v / logits.nbytes for k, v in row["extra_memory_bytes"].items()}
    row["speedup"] = {k: times[k] / times["losskit"] for k in times if k != "losskit"}
    results["softmax"] = row
    print(f"\nsparse_softmax_cross_entropy value+grad, ({rows}, {vocab}) float32 logits "
          f"({logits.nbytes / 1e6:.0f} MB)")  # fmt: skip
    for k in SOFTMAX_CASES:
        print(f"  {k:>16s}  {1e3 * times[k]:8.1f} ms  ({times[k] / times['losskit']:.2f}x losskit)  "
              f"peak extra {row['extra_memory_bytes'][k] / 1e6:7.1f} MB = {row['extra_memory_x_logits'][k]:.2f}x logits")


# --------------------------------------------------------------------------------------------------
# linear + cross-entropy
# --------------------------------------------------------------------------------------------------

LINEAR_CASES = ["losskit", "matmul_ce", "torch_chunked"]
#: JAX: lk.jax.linear_cross_entropy against h @ W.T and Optax's integer-label cross-entropy, both jitted value+grad.
JAX_LINEAR_CASES = ["jax_losskit", "jax_matmul_ce"]


def linear_case(name, rows, hidden, vocab):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(THREADS)
    g = torch.Generator().manual_seed(0)
    h = (torch.randn(rows, hidden, generator=g) * 0.5).requires_grad_(True)
    w = (torch.randn(vocab, hidden, generator=g) / hidden**0.5).requires_grad_(True)
    y = torch.randint(0, vocab, (rows,), generator=g)
    base = (h.numel() + w.numel()) * 4
    if name == "losskit":
        from losskit.integrations.torch import linear_cross_entropy

        def f():
            h.grad = w.grad = None
            v = linear_cross_entropy(h, w, y)
            v.backward()
            return v

    elif name == "matmul_ce":

        def f():
            h.grad = w.grad = None
            v = F.cross_entropy(h @ w.T, y)
            v.backward()
            return v

    elif name == "torch_chunked":
        opts = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=256)

        def f():
            h.grad = w.grad = None
            v = F.linear_cross_entropy(h, w, y, options=opts)
            v.backward()
            return v

    elif name in JAX_LINEAR_CASES:
        import jax
        import jax.numpy as jnp
        import optax

        hj, wj, yj = jnp.asarray(h.detach().numpy()), jnp.asarray(w.detach().numpy()), jnp.asarray(y.numpy())
        if name == "jax_losskit":
            def cost(a, b):
                return lk.jax.linear_cross_entropy(a, b, yj)
        else:
            def cost(a, b):
                return optax.softmax_cross_entropy_with_integer_labels(a @ b.T, yj).mean()
        step = jax.jit(jax.value_and_grad(cost, argnums=(0, 1)))

        def f():
            return jax.block_until_ready(step(hj, wj))

    else:
        raise KeyError(name)

    def clear():
        h.grad = w.grad = None

    f.clear = clear  # the memory case drops the gradients before it reads the baseline: they count as extra
    return f, base


def bench_jax_linear(rows, hidden, vocab, repeats, results):
    cands = {name: linear_case(name, rows, hidden, vocab)[0] for name in JAX_LINEAR_CASES}
    times = interleaved(cands, repeats, warmup=1)
    memory = {name: measure_memory("linear", name, (rows, hidden, vocab)) for name in cands}
    row = {"rows": rows, "hidden": hidden, "vocab": vocab, "times_s": times,
           "extra_memory_bytes": {k: v["extra_bytes"] for k, v in memory.items()}}  # fmt: skip
    row["time_x_plain"] = times["jax_losskit"] / times["jax_matmul_ce"]
    row["memory_x_plain"] = row["extra_memory_bytes"]["jax_losskit"] / row["extra_memory_bytes"]["jax_matmul_ce"]
    results["jax_linear"] = row
    print(f"\nJAX linear_cross_entropy rows={rows} hidden={hidden} vocab={vocab}, jitted value+grad")
    for k in cands:
        print(f"  {k:>14s}  {1e3 * times[k]:8.1f} ms  peak extra {row['extra_memory_bytes'][k] / 1e6:7.1f} MB")
    print(f"  losskit / plain: time {row['time_x_plain']:.2f}x (target <= 1.2), memory {row['memory_x_plain']:.2f}x "
          "(target <= 0.25)")


def bench_linear(rows, hidden, vocabs, repeats, results):
    out = []
    for vocab in vocabs:
        cands = {}
        for name in LINEAR_CASES:
            try:
                cands[name] = linear_case(name, rows, hidden, vocab)[0]
            except Exception as e:  # noqa: BLE001 - a peer missing from this torch
                print(f"  {name}: unavailable ({type(e).__name__}: {e})")
        times = interleaved(cands, repeats, warmup=1)
        memory = {name: measure_memory("linear", name, (rows, hidden, vocab)) for name in cands}
        row = {"rows": rows, "hidden": hidden, "vocab": vocab, "times_s": times,
               "extra_memory_bytes": {k: v["extra_bytes"] for k, v in memory.items()}}  # fmt: skip
        row["time_x_matmul_ce"] = {k: times[k] / times["matmul_ce"] for k in times}
        row["memory_x_matmul_ce"] = {
            k: row["extra_memory_bytes"][k] / row["extra_memory_bytes"]["matmul_ce"] for k in times
        }
        out.append(row)
        print(f"\nlinear_cross_entropy rows={rows} hidden={hidden} vocab={vocab}")
        for k in cands:
            print(f"  {k:>14s}  {1e3 * times[k]:8.1f} ms ({row['time_x_matmul_ce'][k]:.2f}x matmul+ce)  "
                  f"peak extra {row['extra_memory_bytes'][k] / 1e6:7.1f} MB ({row['memory_x_matmul_ce'][k]:.2f}x)")
    results["linear_cross_entropy"] = out


# --------------------------------------------------------------------------------------------------
# PyTorch tensors: losskit's eager autograd against torch.nn.functional, forward + backward
# --------------------------------------------------------------------------------------------------

TORCH_TARGET = 1.3  # the issue: no slower than 1.3x the matching torch.nn.functional loss


def torch_pairs(n, rows, vocab):
    """(name, losskit fn(p), torch fn(p), p0): the same loss on the same tensors, every loss torch.nn.functional
    has; losskit's through its module (``lk.torch.<Name>Loss``), as a training loop calls it."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    y = torch.randn(n, generator=g)
    yb = (torch.rand(n, generator=g) > 0.5).float()
    signs = yb * 2 - 1
    counts = torch.poisson(torch.full((n,), 3.0), generator=g)
    p = torch.randn(n, generator=g) * 2
    prob = torch.rand(n, generator=g) * 0.98 + 0.01
    variance = torch.rand(n, generator=g) + 0.5
    logits = torch.randn(rows, vocab, generator=g)
    ids = torch.randint(0, vocab, (rows,), generator=g)
    soft = torch.softmax(torch.randn(rows, vocab, generator=g), dim=-1)
    log_soft = torch.log_softmax(torch.randn(rows, vocab, generator=g), dim=-1)
    labels = (torch.rand(rows, vocab, generator=g) > 0.9).float()
    pairs, dim = n // 128, 128
    a, b, c = (torch.randn(pairs, dim, generator=g) for _ in range(3))
    pair_signs = (torch.rand(pairs, generator=g) > 0.5).float() * 2 - 1
    m = lk.torch
    return [
        ("mse", lambda q: m.MSELoss()(y, q), lambda q: F.mse_loss(q, y), p),
        ("mae", lambda q: m.MAELoss()(y, q), lambda q: F.l1_loss(q, y), p),
        ("huber", lambda q: m.HuberLoss()(y, q), lambda q: F.huber_loss(q, y), p),
        ("smooth_l1", lambda q: m.SmoothL1Loss()(y, q), lambda q: F.smooth_l1_loss(q, y), p),
        ("binary_cross_entropy", lambda q: m.BinaryCrossEntropyLoss()(yb, q),
         lambda q: F.binary_cross_entropy(q, yb), prob),
        ("sigmoid_cross_entropy", lambda q: m.SigmoidCrossEntropyLoss()(yb, q),
         lambda q: F.binary_cross_entropy_with_logits(q, yb), p),
        ("soft_margin", lambda q: m.SoftMarginLoss()(signs, q), lambda q: F.soft_margin_loss(q, signs), p),
        ("log_poisson_nll", lambda q: m.LogPoissonNLLLoss()(counts, q), lambda q: F.poisson_nll_loss(q, counts), p),
        ("poisson_nll", lambda q: m.PoissonNLLLoss()(counts, q),
         lambda q: F.poisson_nll_loss(q, counts, log_input=False), prob * 5),
        ("gaussian_nll", lambda q: m.GaussianNLLLoss()(y, q, variance), lambda q: F.gaussian_nll_loss(q, y, variance), p),
        ("sparse_softmax_cross_entropy", lambda q: m.SparseSoftmaxCrossEntropyLoss()(ids, q),
         lambda q: F.cross_entropy(q, ids), logits),
        ("softmax_cross_entropy", lambda q: m.SoftmaxCrossEntropyLoss()(soft, q),
         lambda q: F.cross_entropy(q, soft), logits),
        ("nll", lambda q: m.NLLLoss()(ids, q), lambda q: F.nll_loss(q, ids), log_soft),
        ("kl_divergence", lambda q: m.KLDivergenceLoss()(soft, q),
         lambda q: F.kl_div(torch.log(q), soft, reduction="batchmean"), torch.softmax(logits, dim=-1)),
        ("multilabel_soft_margin", lambda q: m.MultilabelSoftMarginLoss()(labels, q),
         lambda q: F.multilabel_soft_margin_loss(q, labels), logits),
        ("weston_watkins_hinge", lambda q: m.WestonWatkinsHingeLoss()(ids % 1000, q),
         lambda q: F.multi_margin_loss(q, ids % 1000), logits[:, :1000].contiguous()),
        ("margin_ranking", lambda q: m.MarginRankingLoss()(signs, q, y), lambda q: F.margin_ranking_loss(q, y, signs), p),
        ("hinge_embedding", lambda q: m.HingeEmbeddingLoss()(signs, q), lambda q: F.hinge_embedding_loss(q, signs),
         prob * 3),
        ("cosine_embedding", lambda q: m.CosineEmbeddingLoss()(pair_signs, q, b),
         lambda q: F.cosine_embedding_loss(q, b, pair_signs), a),
        ("triplet_margin", lambda q: m.TripletMarginLoss()(q, b, c), lambda q: F.triplet_margin_loss(q, b, c), a),
    ]  # fmt: skip


def bench_torch(n, rows, vocab, repeats, results):
    import torch

    torch.set_num_threads(THREADS)
    out = []
    for name, ours, theirs, p0 in torch_pairs(n, rows, vocab):
        cands = {}
        for label, fn in (("losskit", ours), ("torch", theirs)):
            q = p0.clone().requires_grad_(True)

            def step(fn=fn, q=q):
                q.grad = None
                v = fn(q)
                v.backward()
                return v

            cands[label] = step
        with lk.validation(False):
            times = interleaved(cands, repeats)
        with lk.validation(True):
            checked = {"losskit_validated": cands["losskit"], "torch": cands["torch"]}
            times_checked = interleaved(checked, max(3, repeats // 3))
        row = {"loss": name, "shape": list(p0.shape), "times_s": times, "ratio": times["losskit"] / times["torch"],
               "ratio_validated": times_checked["losskit_validated"] / times_checked["torch"]}  # fmt: skip
        out.append(row)
        print(f"  {name:>28s} {str(tuple(p0.shape)):>14s}  losskit {1e3 * times['losskit']:8.2f} ms  "
              f"torch.nn.functional {1e3 * times['torch']:8.2f} ms  ratio {row['ratio']:.2f} "
              f"(with value checks {row['ratio_validated']:.2f})  target <= {TORCH_TARGET}", flush=True)
    results["torch"] = out


# --------------------------------------------------------------------------------------------------
# JAX: the closed-form gradient attached (jax.custom_jvp) against jax.grad of the plain formula, under jit
# --------------------------------------------------------------------------------------------------

JAX_LOSSES = ("mse", "mae", "huber", "pseudo_huber", "log_cosh", "hinge", "binary_cross_entropy",
              "sigmoid_cross_entropy")


def bench_jax(n, rows, classes, repeats, results):
    import jax
    import jax.numpy as jnp
    import optax

    rng = np.random.default_rng(0)
    cases = []
    for name in JAX_LOSSES:
        t, p = (jnp.asarray(a.astype(np.float32)) for a in _data(name, n, rng))
        loss = lk.get(name)
        cases.append((name, (p, t), jax.jit(jax.value_and_grad(lambda q, y, loss=loss: loss(y, q))), jax_loss(name)))
    ids = jnp.asarray(rng.integers(0, classes, rows))
    logits = jnp.asarray(rng.normal(size=(rows, classes)).astype(np.float32))
    plain = jax.jit(jax.value_and_grad(lambda z, y: optax.softmax_cross_entropy_with_integer_labels(z, y).mean()))
    ours = jax.jit(jax.value_and_grad(lambda z, y: lk.sparse_softmax_cross_entropy(y, z)))
    cases.append(("sparse_softmax_cross_entropy", (logits, ids), ours, plain))
    out = []
    for name, args, ours, plain in cases:
        cands = {label: (lambda fn=fn: jax.block_until_ready(fn(*args)))
                 for label, fn in (("losskit", ours), ("plain", plain))}  # fmt: skip
        times = interleaved(cands, repeats)
        row = {"loss": name, "shape": list(args[0].shape), "times_s": times, "ratio": times["losskit"] / times["plain"]}
        out.append(row)
        print(f"  {name:>28s} {str(tuple(args[0].shape)):>14s}  losskit {1e3 * times['losskit']:8.2f} ms  "
              f"plain formula {1e3 * times['plain']:8.2f} ms  ratio {row['ratio']:.2f}  target <= 1", flush=True)
    results["jax"] = out


# --------------------------------------------------------------------------------------------------
# Boosting: time per round with losskit's objective against the library's built-in
# --------------------------------------------------------------------------------------------------


def bench_boosting(n, rounds, repeats, results):
    """Seconds per boosting round, losskit's objective (its gradient and Hessian from the fast path) against the
    library's built-in objective, on the same data, start score, depth and threads; trees of depth 6 on 20 features."""
    import lightgbm as lgb
    import xgboost as xgb
    from losskit import boosting

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 20)).astype(np.float32)
    signal = X[:, 0] + np.sin(X[:, 1]) + 0.5 * X[:, 2] * X[:, 3]
    targets = {"pseudo_huber": signal + rng.standard_t(3, n),
               "sigmoid_cross_entropy": (rng.random(n) < 1 / (1 + np.exp(-signal))).astype(np.float64)}  # fmt: skip
    cases = [("xgboost", "pseudo_huber", "reg:pseudohubererror"), ("xgboost", "sigmoid_cross_entropy", "binary:logistic"),
             ("lightgbm", "sigmoid_cross_entropy", "binary")]  # fmt: skip
    out = []
    for library, name, builtin in cases:
        y = targets[name]
        start = boosting.start_score(name, y)
        if library == "xgboost":
            data = xgb.QuantileDMatrix(X, label=y)
            common = {"max_depth": 6, "eta": 0.1, "nthread": THREADS, "base_score": start}
            ours_params = {**common, "disable_default_eval_metric": 1}
            theirs_params = {**common, "objective": builtin,
                             "base_score": 1 / (1 + np.exp(-start)) if builtin == "binary:logistic" else start}

            def ours():
                xgb.train(ours_params, data, rounds, obj=boosting.xgboost_objective(name))

            def theirs():
                xgb.train(theirs_params, data, rounds)
        else:
            data = lgb.Dataset(X, y, init_score=boosting.init_score(name, y), free_raw_data=False)
            common = {"max_depth": 6, "num_leaves": 63, "learning_rate": 0.1, "num_threads": THREADS, "verbose": -1}

            def ours():
                lgb.train({**common, "objective": boosting.lightgbm_objective(name)}, data, rounds)

            def theirs():
                lgb.train({**common, "objective": builtin}, data, rounds)

        times = interleaved({"losskit": ours, "builtin": theirs}, repeats, warmup=1)
        row = {"library": library, "loss": name, "builtin": builtin, "rows": n, "rounds": rounds,
               "seconds_per_round": {k: v / rounds for k, v in times.items()},
               "ratio": times["losskit"] / times["builtin"]}  # fmt: skip
        out.append(row)
        print(f"  {library:>8s} {name:>22s} vs {builtin:>22s}: losskit {1e3 * times['losskit'] / rounds:7.1f} ms/round  "
              f"built-in {1e3 * times['builtin'] / rounds:7.1f} ms/round  ratio {row['ratio']:.2f}  target <= 1.5",
              flush=True)  # fmt: skip
    results["boosting"] = out


# --------------------------------------------------------------------------------------------------
# The lab's grid on 1 and 2 workers: the local process pool and a local Dask cluster
# --------------------------------------------------------------------------------------------------


def bench_grid(epochs, results):
    """Wall time of a grid of 24 runs (the outliers experiment's 8 losses x 3 seeds, the MLP) on 1 and 2 workers,
    through the process pool and a local Dask cluster (its start included), and the parallel efficiency
    T(1) / (2 T(2)); each configuration once, in a fresh output folder, in one run."""
    import tempfile

    from losskit.lab import run

    rows = []
    for runner in ("local", "dask"):
        for jobs in (1, 2):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                result = run("outliers", model="mlp", epochs=epochs, seeds=3, jobs=jobs, runner=runner, out=out,
                             report=False)  # fmt: skip
                seconds = time.perf_counter() - start
            training = sum(r.final["wall_time"] for r in result.runs)
            rows.append({"runner": runner, "jobs": jobs, "runs": len(result.runs), "seconds": seconds,
                         "training_seconds": training})  # fmt: skip
            print(f"  {runner:>6s} {jobs} worker(s): {len(result.runs)} runs in {seconds:6.1f} s "
                  f"(training steps {training:5.1f} s of them)", flush=True)  # fmt: skip
    by = {(r["runner"], r["jobs"]): r["seconds"] for r in rows}
    for runner in ("local", "dask"):
        efficiency = by[(runner, 1)] / (2 * by[(runner, 2)])
        print(f"  {runner}: parallel efficiency on 2 workers {efficiency:.2f}")
        rows.append({"runner": runner, "parallel_efficiency": efficiency})
    results["grid"] = rows


# --------------------------------------------------------------------------------------------------
# Small inputs: the fast path must not slow them down
# --------------------------------------------------------------------------------------------------


def bench_small(repeats, results):
    rng = np.random.default_rng(0)
    rows = []
    for name in ("mse", "huber", "sigmoid_cross_entropy"):
        t, p = _data(name, 100, rng)
        loss = lk.get(name)

        def auto():
            for _ in range(100):
                loss.value_and_grad(t, p)

        def ref():
            with fast.fast_path("never"):
                for _ in range(100):
                    loss.value_and_grad(t, p)

        times = interleaved({"auto": auto, "reference": ref}, repeats)
        rows.append({"loss": name, "auto_us": times["auto"] * 1e4, "reference_us": times["reference"] * 1e4})
        print(f"  100 elements, {name:>22s}: auto {times['auto'] * 1e4:6.1f} us, "
              f"reference {times['reference'] * 1e4:6.1f} us per call")
    import torch

    for name in ("mse", "sigmoid_cross_entropy"):
        t, p = (torch.from_numpy(a) for a in _data(name, 100, rng))
        loss = lk.get(name)
        q = p.clone().requires_grad_(True)

        def auto_t():
            for _ in range(100):
                q.grad = None
                loss(t, q).backward()

        def ref_t():
            with fast.fast_path("never"):
                auto_t()

        times = interleaved({"auto": auto_t, "reference": ref_t}, repeats)
        rows.append({"loss": f"torch {name}", "auto_us": times["auto"] * 1e4, "reference_us": times["reference"] * 1e4})
        print(f"  100 elements, torch forward+backward, {name:>22s}: auto {times['auto'] * 1e4:6.1f} us, "
              f"reference {times['reference'] * 1e4:6.1f} us per call")
    results["small"] = rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, no torch.compile: about a minute")
    parser.add_argument("--json", default=os.path.join(HERE, "results.json"))
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per case (default 9; 5 with --quick)")
    parser.add_argument("--only", nargs="*",
                        default=["elementwise", "hessian", "rows", "torch", "jax", "softmax", "linear", "jax_linear",
                                 "boosting", "grid", "small"])  # fmt: skip
    parser.add_argument("--cases", nargs="*", help="only these losses in the hessian and rows sections")
    parser.add_argument("--memory-case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_case:
        kind, name, *rest = args.memory_case
        memory_case(kind, name, rest)
        return
    import numba
    import torch

    results = {
        "command": " ".join([os.path.relpath(sys.executable), "benchmarks/run.py", *sys.argv[1:]]),
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": THREADS,
                    "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                    "torch": torch.__version__},  # fmt: skip
    }
    try:
        with open("/proc/cpuinfo") as f:
            results["machine"]["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    results["load_average_at_start"] = os.getloadavg()
    started = time.time()
    print(f"{results['machine']}  load average {results['load_average_at_start']}")
    if args.quick:
        n, repeats, rows, vocab, lin = 10**6, 5, 1024, 32000, (512, 1024, (32000,))
    else:
        n, repeats, rows, vocab, lin = 10**7, 9, 8192, 32000, (2048, 1024, (32000, 128256))
    if args.repeats:
        repeats = args.repeats
    if "elementwise" in args.only:
        print(f"\nElementwise value+grad, n = {n} float32 (times are medians; ratios are peer time / losskit time)")
        bench_elementwise(n, repeats, not args.quick, results)
    if "hessian" in args.only:
        print(f"\nValue, gradient and Hessian, n = {n} float64 (ratios are the other's time / losskit's; sklearn's "
              "gradient_hessian computes no value)")
        bench_hessian(n, repeats, results, args.cases)
    if "rows" in args.only:
        shape = (4096, 128) if args.quick else (32768, 128)
        print(f"\nRow losses on the generic tiled path, {shape[0]} rows x {shape[1]} classes float64, value+grad "
              "(ratios are the other's time / losskit's)")
        bench_rows(*shape, repeats, results, args.cases)
    if "torch" in args.only:
        print("\nPyTorch tensors, forward + backward, losskit / torch.nn.functional (eager, float32)")
        bench_torch(n, 1024, 32000 if not args.quick else 8000, max(5, repeats // 2), results)
    if "jax" in args.only:
        print("\nJAX under jit, value and gradient, losskit (closed form attached) / jax.grad of the plain formula "
              "(float32)")
        bench_jax(n, 1024, 32000 if not args.quick else 8000, repeats, results)
    if "softmax" in args.only:
        bench_softmax(rows, vocab, max(3, repeats // 3), results)
    if "linear" in args.only:
        bench_linear(*lin, max(2, repeats // 4), results)
    if "jax_linear" in args.only:
        bench_jax_linear(*lin[:2], lin[2][0], max(5, repeats // 2), results)
    if "boosting" in args.only:
        print(f"\nBoosting, {n // 10} rows x 20 features, time per round with losskit's objective / the built-in one")
        bench_boosting(n // 10, 10 if args.quick else 20, max(3, repeats // 2), results)
    if "grid" in args.only:
        print("\nThe lab's grid of 24 runs (outliers, MLP) on 1 and 2 workers")
        bench_grid(10 if args.quick else 100, results)
    if "small" in args.only:
        print("\nSmall inputs")
        bench_small(repeats, results)
    results["load_average_at_end"] = os.getloadavg()
    results["wall_seconds"] = time.time() - started
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nwritten {args.json}")


if __name__ == "__main__":
    main()
