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
        h, w, y, bias=bias, label_smoothing=kwargs.pop("eps", 0.0), chunk_size=8, **kwargs
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
    loss = lk.torch.linear_cross_entropy(h, w, torch.full((4,), -100))
    loss.backward()
    assert float(loss) == 0.0 and not h.grad.any() and not w.grad.any()


def test_leading_axes_and_errors():
    h = torch.randn(2, 3, 4)
    w = torch.randn(6, 4)
    y = torch.randint(0, 6, (2, 3))
    assert lk.torch.linear_cross_entropy(h, w, y, reduction="none").shape == (2, 3)
    with pytest.raises(ValueError, match="reduction"):
        lk.torch.linear_cross_entropy(h, w, y, reduction="avg")
    with pytest.raises(ValueError, match="do not match"):
        lk.torch.linear_cross_entropy(h, w, y[:, :2])
