"""lk.torch.linear_cross_entropy against matmul + losskit's sparse softmax cross-entropy (and PyTorch's)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import losskit as lk  # noqa: E402


def _reference(h, w, y, bias=None, ignore_index=-100, eps=0.0, z_loss=0.0, sample_weight=None, reduction="mean",
               normalizer=None):  # fmt: skip
    logits = h @ w.T + (0 if bias is None else bias)
    keep = y != ignore_index
    ids = torch.where(keep, y, torch.zeros_like(y))
    lse = torch.logsumexp(logits, -1)
    loss = (1 - eps) * (lse - logits.gather(1, ids[:, None])[:, 0]) + eps * (lse - logits.mean(-1)) + z_loss * lse**2
    wgt = keep.float() * (1 if sample_weight is None else sample_weight)
    weighted = torch.where(wgt == 0, torch.zeros_like(loss), wgt * loss)
    if reduction == "none":
        return weighted
    if normalizer is not None:
        return weighted.sum() / normalizer
    if reduction == "sum":
        return weighted.sum()
    total = wgt.sum()
    return weighted.sum() / torch.where(total > 0, total, torch.ones_like(total))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"eps": 0.1}, {"z_loss": 1e-3}, {"reduction": "sum"}, {"reduction": "none"}, {"normalizer": 7.0},
     {"sample_weight": "random"}, {"bias": True, "eps": 0.2, "z_loss": 1e-2}],  # fmt: skip
)
def test_matches_matmul_then_cross_entropy(kwargs):
    g = torch.Generator().manual_seed(0)
    rows, d, vocab = 37, 16, 50
    h = torch.randn(rows, d, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(vocab, d, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, vocab, (rows,), generator=g)
    y[::5] = -100
    kwargs = dict(kwargs)
    bias = torch.randn(vocab, generator=g, dtype=torch.float64, requires_grad=True) if kwargs.pop("bias", False) else None
    if kwargs.get("sample_weight") == "random":
        kwargs["sample_weight"] = torch.rand(rows, generator=g, dtype=torch.float64)
    ref_kwargs = dict(kwargs)
    expected = _reference(h, w, y, bias=bias, **ref_kwargs)
    got = lk.torch.linear_cross_entropy(
        h, w, y, bias=bias, label_smoothing=kwargs.pop("eps", 0.0), chunk_size=8, ignore_index=-100, **kwargs
    )
    torch.testing.assert_close(got, expected)
    upstream = torch.randn(got.shape, generator=g, dtype=torch.float64)
    params = [h, w] + ([bias] if bias is not None else [])
    g_expected = torch.autograd.grad((expected * upstream).sum(), params)
    g_got = torch.autograd.grad((got * upstream).sum(), params)
    for a, b in zip(g_got, g_expected):
        torch.testing.assert_close(a, b)


def test_agrees_with_losskit_and_torch_cross_entropy():
    g = torch.Generator().manual_seed(1)
    h = torch.randn(64, 8, generator=g)
    w = torch.randn(100, 8, generator=g)
    y = torch.randint(0, 100, (64,), generator=g)
    logits = h @ w.T
    got = lk.torch.linear_cross_entropy(h, w, y, label_smoothing=0.1, chunk_size=16)
    torch.testing.assert_close(got, lk.sparse_softmax_cross_entropy(y, logits, label_smoothing=0.1))
    torch.testing.assert_close(got, torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.1))


def test_all_rows_ignored_gives_zero():
    h = torch.randn(4, 3, requires_grad=True)
    w = torch.randn(5, 3, requires_grad=True)
    loss = lk.torch.linear_cross_entropy(h, w, torch.full((4,), -100), ignore_index=-100)
    loss.backward()
    assert float(loss.detach()) == 0.0 and not h.grad.any() and not w.grad.any()


def test_leading_axes_and_errors():
    h = torch.randn(2, 3, 4)
    w = torch.randn(6, 4)
    y = torch.randint(0, 6, (2, 3))
    assert lk.torch.linear_cross_entropy(h, w, y, reduction="none").shape == (2, 3)
    with pytest.raises(ValueError, match="reduction"):
        lk.torch.linear_cross_entropy(h, w, y, reduction="avg")
    with pytest.raises(ValueError, match="do not match"):
        lk.torch.linear_cross_entropy(h, w, y[:, :2])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda h, w, y: lk.torch.linear_cross_entropy(h, w, torch.full((4,), -100)), lk.InputError,
         r"targets must be class ids in \[0, 5\) .* pass ignore_index=-100"),
        (lambda h, w, y: lk.torch.linear_cross_entropy(h, w, torch.tensor([0, 1, 5, 2])), lk.InputError,
         r"class ids in \[0, 5\) \(the rows of weight\); got 1 value outside it: 5 at \(2,\)"),
        (lambda h, w, y: lk.torch.linear_cross_entropy(h.numpy(), w, y), lk.InputTypeError, "hidden must be a torch.Tensor"),
        (lambda h, w, y: lk.torch.linear_cross_entropy(h, w[:, :2], y), lk.InputError, r"do not multiply; expected hidden"),
        (lambda h, w, y: lk.torch.linear_cross_entropy(h, w, y.float()), lk.InputTypeError, "integer class ids"),
    ],
)  # fmt: skip
def test_linear_cross_entropy_checks_its_inputs_like_the_core_losses(call, error, message):
    h, w, y = torch.randn(4, 3), torch.randn(5, 3), torch.tensor([0, 1, 2, 4])
    with pytest.raises(error, match=message):
        call(h, w, y)


# --------------------------------------------------------------------------------------------------
# Eager autograd through any loss (losskit/integrations/autograd.py) against the reference path
# --------------------------------------------------------------------------------------------------

from losskit.fast import fast_path  # noqa: E402
from losskit.integrations import autograd as lk_autograd  # noqa: E402

EAGER = {
    "mse": {}, "mae": {}, "rmse": {}, "huber": {"delta": 0.7}, "pseudo_huber": {}, "log_cosh": {}, "msle": {},
    "hinge": {}, "squared_hinge": {}, "binary_cross_entropy": {}, "sigmoid_cross_entropy": {"pos_weight": 2.0},
    "sparse_softmax_cross_entropy": {"label_smoothing": 0.1, "ignore_index": -100}, "softmax_cross_entropy": {},
    "kl_divergence": {}, "smooth_l1": {"beta": 0.5}, "soft_margin": {}, "multilabel_soft_margin": {},
    "hinge_embedding": {"margin": 1.5}, "poisson_nll": {}, "nll": {}, "weston_watkins_hinge": {"margin": 0.5},
}  # fmt: skip


def _eager_inputs(name, n, dtype, rng, extremes):
    import numpy as np

    if name.endswith("softmax_cross_entropy") or name in ("kl_divergence", "nll", "weston_watkins_hinge"):
        rows, classes = max(n // 40, 2), 40
        logits = rng.normal(size=(rows, classes)) * 3
        if extremes:
            logits[1, 3] = np.inf
            logits[2] = -np.inf
            logits[3, 0] = np.nan
        if name in ("sparse_softmax_cross_entropy", "nll", "weston_watkins_hinge"):
            ids = rng.integers(0, classes, size=rows)
            if name == "sparse_softmax_cross_entropy":
                ids[::7] = -100
            z = torch.from_numpy(logits).to(dtype)
            return torch.from_numpy(ids), torch.log_softmax(z, dim=-1) if name == "nll" else z
        y = rng.dirichlet(np.ones(classes), size=rows)
        if name == "kl_divergence":
            p = rng.dirichlet(np.ones(classes), size=rows)
            return torch.from_numpy(y).to(dtype), torch.from_numpy(p).to(dtype)
        return torch.from_numpy(y).to(dtype), torch.from_numpy(logits).to(dtype)
    if name == "multilabel_soft_margin":
        y, p = rng.choice([0.0, 1.0], size=(max(n // 40, 2), 40)), rng.normal(size=(max(n // 40, 2), 40)) * 3
    elif name in ("hinge", "squared_hinge", "soft_margin"):
        y, p = rng.choice([-1.0, 1.0], size=n), rng.normal(size=n) * 2
    elif name == "hinge_embedding":
        y, p = rng.choice([-1.0, 1.0], size=n), np.abs(rng.normal(size=n)) * 2
        if extremes:
            p[::101] = np.inf
    elif name == "binary_cross_entropy":
        y, p = rng.uniform(size=n), rng.uniform(0.001, 0.999, size=n)
        if extremes:
            p[::101] = 0.0
            p[5::103] = 1.0
    elif name == "sigmoid_cross_entropy":
        y, p = rng.choice([0.0, 1.0, 0.3], size=n), rng.normal(size=n) * 5
        if extremes:
            p[::101] = np.inf
            p[5::103] = -np.inf
    elif name == "msle":
        y, p = rng.exponential(size=n), rng.exponential(size=n)
    elif name == "poisson_nll":
        y, p = rng.poisson(3.0, size=n).astype(float), rng.exponential(3.0, size=n)
        p[::13] = 0.0  # the eps inside the log
        if extremes:
            p[::101] = np.inf
    else:
        y, p = rng.normal(size=n), rng.normal(size=n) * 3
        if extremes:
            p[::101] = np.inf
    if extremes:
        p[7::97] = np.nan
    return torch.from_numpy(y).to(dtype), torch.from_numpy(p).to(dtype)


def _assert_values_close(got, expected, tol):
    """Losses to ``tol``, and to two ulps of the largest loss: where terms cancel (Poisson's mu - y log mu,
    1 - cos, a difference of distances) an ulp of NumPy's and PyTorch's float32 log or sqrt shows on the
    scale of the terms."""
    finite = expected[torch.isfinite(expected)].abs()
    ulps = 2 * torch.finfo(expected.dtype).eps * float(finite.max()) if finite.numel() else 0.0
    torch.testing.assert_close(got, expected, equal_nan=True, rtol=tol["rtol"], atol=max(tol["atol"], ulps))


def _reference_value_and_grad(loss, *arrays, **call):
    with fast_path("never"), torch.no_grad():
        return loss.value_and_grad(*arrays, **call)


@pytest.mark.parametrize("extremes", [False, True])
@pytest.mark.parametrize("n, dtype", [(300, torch.float32), (300, torch.float64), (70000, torch.float32)])  # the
@pytest.mark.parametrize("name", sorted(EAGER))  # large size for the kernels' chunks and threads, in one dtype
def test_eager_autograd_matches_reference(name, n, extremes, dtype):
    import numpy as np

    rng = np.random.default_rng(11)
    loss = lk.get(name, **EAGER[name])
    y, p0 = _eager_inputs(name, n, dtype, rng, extremes)
    losses_shape = p0.shape[:-1] if loss.info.predictions[0].event == 1 else p0.shape
    w = torch.from_numpy(rng.uniform(size=losses_shape)).to(dtype)
    w[::3] = 0
    calls = [{}, {"reduction": "sum"}, {"reduction": "none"}, {"sample_weight": w}, {"normalizer": 9.0},
             {"sample_weight": w, "reduction": "none"}]  # fmt: skip
    tol = dict(rtol=1e-5, atol=1e-7) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-14)
    with lk.validation(False):
        for call in calls:
            expected_value, expected_grad = _reference_value_and_grad(loss, y, p0, **call)
            p = p0.clone().requires_grad_(True)
            with fast_path("always"):
                value = loss(y, p, **call)
            assert type(value.grad_fn).__name__ == "_ClosedFormBackward"
            assert value.grad_fn is not None and value.dtype == dtype and value.shape == expected_value.shape
            upstream = torch.rand(value.shape, dtype=dtype, generator=torch.Generator().manual_seed(0)) + 0.5
            (value * upstream).sum().backward()
            scale = upstream[..., None] if (loss.info.predictions[0].event == 1 and value.dim()) else upstream
            _assert_values_close(value.detach(), expected_value, tol)
            expected = expected_grad * scale
            finite = expected[torch.isfinite(expected)].abs()
            # NumPy's and PyTorch's float32 log1p differ by an ulp; where a slope cancels (MSLE's
            # log1p(p) - log1p(t)) that is judged on the array's scale
            atol = max(tol["atol"], tol["rtol"] * float(finite.max())) if finite.numel() else tol["atol"]
            torch.testing.assert_close(p.grad, expected, equal_nan=True, rtol=tol["rtol"], atol=atol)


@pytest.mark.parametrize("name", ["margin_ranking", "gaussian_nll", "cosine_embedding", "triplet_margin"])
def test_eager_autograd_of_several_predictions_matches_reference(name, monkeypatch):
    """Losses of several arrays through the NumPy engine's tiles: every prediction's gradient, weights and
    reductions, against the reference formulas."""
    import numpy as np

    from losskit import fast
    from losskit._samples import sample_inputs
    from losskit.fast import _impl

    monkeypatch.setattr(_impl, "TILE", 300)  # several tiles on both threads
    monkeypatch.setattr(_impl, "MIN_PER_THREAD", 600)
    loss = lk.get(name)
    arrays = [torch.from_numpy(a).float() for a in sample_inputs(loss, np.random.default_rng(12), n=3000, classes=3)]
    served = []
    monkeypatch.setattr(fast, "serve", lambda *a, _serve=fast.serve, **k: served.append(_serve(*a, **k)) or served[-1])
    w = torch.rand(3000, generator=torch.Generator().manual_seed(1))
    w[::3] = 0
    is_prediction = [spec.is_prediction for spec in loss.info.inputs]
    for call in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"sample_weight": w}):
        expected_value, expected_grads = _reference_value_and_grad(loss, *arrays, **call)
        given = [a.clone().requires_grad_(True) if pred else a for a, pred in zip(arrays, is_prediction)]
        value = loss(*given, **call)
        assert type(value.grad_fn).__name__ == "_ClosedFormBackward" and served.pop() is not None
        upstream = torch.rand(value.shape, generator=torch.Generator().manual_seed(0)) + 0.5
        (value * upstream).sum().backward()
        _assert_values_close(value.detach(), expected_value, dict(rtol=1e-5, atol=1e-7))
        grads = [a.grad for a, pred in zip(given, is_prediction) if pred]
        for grad, expected in zip(grads, expected_grads, strict=True):
            scale = upstream[..., None] if (expected.dim() > value.dim() > 0) else upstream
            torch.testing.assert_close(grad, expected * scale, rtol=1e-5, atol=1e-7)


def test_eager_autograd_plain_backward_retain_graph_and_accumulation():
    g = torch.Generator().manual_seed(2)
    y, p = torch.randn(50000, generator=g), torch.randn(50000, generator=g).requires_grad_(True)
    expected = lk.mse.loss_class().grad(y, p.detach())
    value = lk.mse(y, p)
    value.backward(retain_graph=True)
    first = p.grad.clone()
    value.backward()  # the saved gradient must not have been handed over and then changed
    torch.testing.assert_close(first, expected)
    torch.testing.assert_close(p.grad, 2 * expected)
    p.grad = None
    lk.mse(y, p).backward()
    p.grad.mul_(0)  # the caller owns p.grad: changing it changes nothing of losskit's
    lk.mse(y, p).backward()
    torch.testing.assert_close(p.grad, expected)


def test_eager_autograd_float16_and_class_axis_first():
    g = torch.Generator().manual_seed(3)
    p = torch.randn(100, generator=g).to(torch.float16).requires_grad_(True)
    with fast_path("always"):
        lk.huber(torch.zeros(100, dtype=torch.float16), p).backward()
    assert p.grad.dtype == torch.float16
    torch.testing.assert_close(p.grad, lk.Huber().grad(torch.zeros(100), p.detach().float()).half())
    z = torch.randn(4, 7, 6, generator=g, dtype=torch.float64, requires_grad=True)
    ids = torch.randint(0, 7, (4, 6), generator=g)
    loss = lk.SparseSoftmaxCrossEntropy(axis=1)
    with fast_path("always"):
        loss(ids, z).backward()
    torch.testing.assert_close(z.grad, loss.grad(ids, z.detach()))


def test_eager_autograd_is_off_when_no_gradient_or_compiling():
    p = torch.randn(10)
    assert not lk_autograd.applies(p)
    q = p.clone().requires_grad_(True)
    assert lk_autograd.applies(q)  # every size: the gradient at a kink is losskit's on every backend
    with fast_path("always"):
        assert lk_autograd.applies(q)
        with torch.no_grad():
            assert not lk_autograd.applies(q)
        value = lk.mse(torch.zeros(10), q)
    with fast_path("never"):
        assert not lk_autograd.applies(torch.zeros(10**5, requires_grad=True))
    assert type(value.grad_fn).__name__ == "_ClosedFormBackward"
    # double backward works through the closed-form Function: d/dq of sum(2 q / 10) is 2 / 10 per entry
    (gq,) = torch.autograd.grad(value, q, create_graph=True)
    gq.sum().backward()
    torch.testing.assert_close(q.grad, torch.full_like(q, 0.2))


@pytest.mark.parametrize("n", [1000, 40000])
def test_double_backward_at_every_size(n):
    """create_graph through lk.pseudo_huber, at sizes below and above the engine's threshold, against
    PyTorch's double backward through the formula written out here: delta^2 (sqrt(1 + (r/delta)^2) - 1)."""
    g = torch.Generator().manual_seed(7)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    p0 = torch.randn(n, generator=g, dtype=torch.float64) * 3
    delta = 1.5
    results = []
    for fn in (lambda p: lk.pseudo_huber(y, p, delta=delta, reduction="sum"),
               lambda p: (delta**2 * (torch.sqrt(1 + ((p - y) / delta) ** 2) - 1)).sum()):  # fmt: skip
        p = p0.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(fn(p), p, create_graph=True)
        (second,) = torch.autograd.grad((grad * torch.linspace(0.5, 1.5, n, dtype=torch.float64)).sum(), p)
        results.append((grad.detach(), second))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(results[0][1], results[1][1], rtol=1e-12, atol=1e-14)


def test_eager_autograd_matches_torch_functional():
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(4)
    y, p0 = torch.randn(60000, generator=g), torch.randn(60000, generator=g) * 3
    yb = (torch.rand(60000, generator=g) > 0.5).float()
    pairs = [(lambda p: lk.mse(y, p), lambda p: F.mse_loss(p, y)), (lambda p: lk.mae(y, p), lambda p: F.l1_loss(p, y)),
             (lambda p: lk.huber(y, p), lambda p: F.huber_loss(p, y)),
             (lambda p: lk.sigmoid_cross_entropy(yb, p),
              lambda p: F.binary_cross_entropy_with_logits(p, yb))]  # fmt: skip
    for ours, theirs in pairs:
        grads = []
        for f in (ours, theirs):
            p = p0.clone().requires_grad_(True)
            v = f(p)
            v.backward()
            grads.append((v.detach(), p.grad))
        torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-9)


def test_under_torch_compile_the_reference_formulas_are_traced():
    torch._dynamo.reset()
    g = torch.Generator().manual_seed(5)
    y, p0 = (torch.rand(40000, generator=g) > 0.5).double(), torch.randn(40000, generator=g, dtype=torch.float64)
    compiled = torch.compile(lambda t, p: lk.sigmoid_cross_entropy(t, p), fullgraph=True, backend="aot_eager")
    grads = []
    for fn in (compiled, lambda t, p: lk.sigmoid_cross_entropy(t, p)):
        p = p0.clone().requires_grad_(True)
        value = fn(y, p)
        value.backward()
        grads.append((value.detach(), p.grad))
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-12, atol=0)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-10, atol=1e-16)
