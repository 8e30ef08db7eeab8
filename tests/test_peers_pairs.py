"""Pair losses against PyTorch on the same float64 inputs: ``margin_ranking_loss`` and
``hinge_embedding_loss`` (values and autograd, reductions and weights of DESIGN.md section 2), and the
values CATALOGUE.md 7.1 checked against PyTorch. Their Hessians are the approximate 1 of piecewise linear
losses, which the contract checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_peers import N, check_peer, covers, rng_for, torch_peer

import losskit as lk


def _away(values, kink, gap=0.05):
    """Values kept ``gap`` away from a kink (autograd and the closed form may pick different sides there)."""
    return np.where(np.abs(values - kink) < gap, values + 2 * gap, values)


def _redraw(rng, x, near):
    """Redraw the rows of ``x`` where ``near(x)`` holds (near a kink) until none does."""
    for _ in range(100):
        close = near(x)
        if not close.any():
            return x
        x[close] = rng.normal(size=x[close].shape)
    raise AssertionError("no rows away from the kinks")


@covers("margin_ranking")
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_against_torch(margin):
    rng = rng_for(f"margin ranking {margin}")
    y = rng.choice([-1.0, 1.0], size=N)
    x1, x2 = rng.normal(size=N), rng.normal(size=N)
    x1 = x2 + _away(x1 - x2, margin * y)  # the kink: y (x1 - x2) = margin
    reference = torch_peer(lambda t, a, b: F.margin_ranking_loss(a, b, t, margin=margin, reduction="none"), (1, 2))
    check_peer(lk.MarginRanking(margin=margin), (y, x1, x2), reference, what=f"margin_ranking {margin}", hessian=False)
    # CATALOGUE.md 7.1: x1 = [0.5, 2], x2 = [1, 1], y = [1, -1], margin 0.5
    loss = lk.MarginRanking(margin=0.5, reduction="sum")
    np.testing.assert_array_equal(loss([1, -1], [0.5, 2.0], [1.0, 1.0], reduction="none"), [1.0, 1.5])
    g1, g2 = loss.grad([1, -1], [0.5, 2.0], [1.0, 1.0])
    np.testing.assert_array_equal(g1, [-1.0, 1.0])
    np.testing.assert_array_equal(g2, [1.0, -1.0])


@covers("hinge_embedding")
@pytest.mark.parametrize("margin", [1.0, 2.0])
def test_hinge_embedding_against_torch(margin):
    rng = rng_for(f"hinge embedding {margin}")
    y = rng.choice([-1.0, 1.0], size=N)
    d = _away(rng.uniform(0.0, 2.5, size=N), margin)
    reference = torch_peer(lambda t, x: F.hinge_embedding_loss(x, t, margin=margin, reduction="none"), (1,))
    check_peer(lk.HingeEmbedding(margin=margin), (y, d), reference, what=f"hinge_embedding {margin}", hessian=False)
    # 0 labels read as -1, as everywhere in losskit's label losses
    np.testing.assert_array_equal(lk.hinge_embedding([0.0], [0.25]), lk.hinge_embedding([-1.0], [0.25]))


@covers("triplet_margin")
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_cosine_distance_against_torch(swap):
    """PyTorch's TripletMarginWithDistanceLoss with 1 - cosine_similarity as its distance: values, autograd and
    double backward (rows kept away from the hinge)."""
    rng = rng_for(f"triplet cosine {swap}")
    a, p, n = (rng.normal(size=(N, 4)) for _ in range(3))
    loss = lk.TripletMargin(distance="cosine", margin=0.5, swap=swap)

    def d(x, y):
        return 1 - np.sum(x * y, -1) / np.linalg.norm(x, axis=-1) / np.linalg.norm(y, axis=-1)

    def near(n):  # the hinge, and the swap's switch
        negative = np.minimum(d(a, n), d(p, n)) if swap else d(a, n)
        return (np.abs(d(a, p) - negative + 0.5) < 0.05) | (swap & (np.abs(d(a, n) - d(p, n)) < 0.05))

    n = _redraw(rng, n, near)
    peer = torch.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda x, y: 1.0 - F.cosine_similarity(x, y), margin=0.5, swap=swap, reduction="none"
    )
    reference = torch_peer(lambda x, y, z: peer(x, y, z), (0, 1, 2))
    check_peer(loss, (a, p, n), reference, what=f"triplet cosine swap={swap}")


@covers("cosine_embedding")
@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_cosine_embedding_against_torch(margin):
    """PyTorch's cosine_embedding_loss (it adds 1e-12 to each squared norm: a relative 1e-12 here), values,
    autograd and double backward; CATALOGUE.md 7.2 at its reference input."""
    rng = rng_for(f"cosine embedding {margin}")
    y = rng.choice([-1.0, 1.0], size=N)
    x1, x2 = rng.normal(size=(N, 4)), rng.normal(size=(N, 4))
    x2 = _redraw(rng, x2, lambda x2: np.abs(np.sum(x1 * x2, -1) / np.linalg.norm(x1, axis=-1)
                                            / np.linalg.norm(x2, axis=-1) - margin) < 0.05)  # fmt: skip
    reference = torch_peer(lambda t, a, b: F.cosine_embedding_loss(a, b, t, margin=margin, reduction="none"), (1, 2))
    check_peer(lk.CosineEmbedding(margin=margin), (y, x1, x2), reference, what=f"cosine_embedding {margin}",
               rtol=1e-10)  # fmt: skip
    loss = lk.CosineEmbedding(margin=0.2, reduction="sum")
    x1, x2 = [[1.0, 2.0, 0.0], [0.5, -1.0, 1.0]], [[2.0, 1.0, 1.0], [1.0, -0.5, 0.5]]
    np.testing.assert_allclose(loss([1, -1], x1, x2, reduction="none"), [0.269703, 0.616497], atol=5e-7)
    np.testing.assert_allclose(loss.grad([1, -1], x1, x2)[0], [[-0.219089, 0.109545, -0.182574],
                                                                [0.362887, 0.090722, -0.090722]], atol=5e-7)  # fmt: skip


@covers("contrastive")
@pytest.mark.parametrize("margin", [1.0, 2.5])
def test_contrastive_against_the_papers_formula_in_torch(margin):
    """Hadsell, Chopra and LeCun (CVPR 2006), eq. 4 with Y = 0 for similar pairs, written in PyTorch: values,
    autograd and double backward; CATALOGUE.md 7.4 at its reference input."""
    rng = rng_for(f"contrastive {margin}")
    y = rng.choice([-1.0, 1.0], size=N)
    x1, x2 = rng.normal(size=(N, 3)), rng.normal(size=(N, 3))
    x2 = _redraw(rng, x2, lambda x2: np.abs(np.linalg.norm(x1 - x2, axis=-1) - margin) < 0.05)

    def paper(t, a, b):
        big_y = (t < 0).to(a.dtype)  # the paper's Y: 1 for a dissimilar pair
        d = torch.sqrt(((a - b) ** 2).sum(-1))
        return (1 - big_y) * 0.5 * d**2 + big_y * 0.5 * torch.clamp(margin - d, min=0) ** 2

    check_peer(lk.Contrastive(margin=margin), (y, x1, x2), torch_peer(paper, (1, 2)), what=f"contrastive {margin}")
    loss = lk.Contrastive(margin=2.0, reduction="sum")
    zero, x2 = [[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [0.6, 0.8]]
    np.testing.assert_allclose(loss([1, -1], zero, x2, reduction="none"), [1.0, 0.5], rtol=1e-15)
    np.testing.assert_allclose(loss.grad([1, -1], zero, x2)[0], [[-1.0, -1.0], [0.6, 0.8]], rtol=1e-15)
