"""Pair, embedding and overlap losses against their peers on the same float64 inputs (reductions and
weights of DESIGN.md section 2):

- PyTorch: ``margin_ranking_loss`` and ``hinge_embedding_loss`` (values and autograd: their Hessians are the
  approximate 1 of piecewise linear losses, which the contract checks), ``cosine_embedding_loss`` and
  ``TripletMarginWithDistanceLoss`` with the cosine distance (double backward too), and Hadsell et al.'s
  contrastive formula written in PyTorch.
- Optax: ``dice_loss(alpha, beta, smooth)`` for the Tversky index, Jaccard at alpha = beta = 1, and focal
  Tversky as the paper's power of it (jax.grad, jax.hessian).
- CATALOGUE.md sections 7 and 8 at their reference inputs.
"""

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
    # a row holding NaN gives NaN and a zero row cosine 0, as in PyTorch; on the NumPy engine's kernel too
    rows = np.array([[np.nan, 1.0, 0.0], [0.0, 0.0, 0.0]])
    expected = F.cosine_embedding_loss(torch.tensor(rows), torch.tensor(x2), torch.tensor([1.0, -1.0]), reduction="none")
    for mode in ("never", "always"):
        with lk.validation(False), lk.fast_path(mode):
            value, grads = loss.value_and_grad([1, -1], rows, x2, reduction="none")
        np.testing.assert_allclose(value, expected.numpy(), rtol=1e-10)
        assert np.isnan(grads[0][0]).all() and np.isnan(grads[1][0]).all() and not grads[0][1].any()


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


# --- overlap over whole samples ------------------------------------------------------------------------------


def _optax_tversky(alpha, beta, smooth):
    """Optax's dice_loss(alpha, beta, smooth) on the logits of one-class probabilities, one value per sample:
    1 - (I + s) / (I + alpha (P - I) + beta (T - I) + s), which is the Tversky index."""
    import jax.numpy as jnp
    import optax

    def per_sample(t, p):
        logits = (jnp.log(p) - jnp.log1p(-p))[..., None]
        return optax.losses.dice_loss(logits, t[..., None], alpha=alpha, beta=beta, smooth=smooth, reduction="none")[..., 0]

    return per_sample


@covers("tversky", "jaccard", "focal_tversky")
@pytest.mark.parametrize("alpha, beta, smooth", [(0.3, 0.7, 0.0), (1.0, 1.0, 1.0), (0.7, 0.2, 0.5)])
def test_tversky_family_against_optax(alpha, beta, smooth):
    """Values, jax.grad and jax.hessian of Optax's dice_loss with alpha and beta; Jaccard at alpha = beta = 1;
    focal Tversky as the paper's power of it (Abraham and Khan, eq. 4); CATALOGUE.md 8.1, 8.3, 8.4."""
    from test_peers_classes import jax_peer

    rng = rng_for(f"tversky {alpha} {beta} {smooth}")
    t, p = (rng.random((N, 12)) < 0.3).astype(np.float64), rng.uniform(0.02, 0.98, size=(N, 12))
    t[0] = 0.0  # an empty mask
    reference = jax_peer(_optax_tversky(alpha, beta, smooth), (1,))
    check_peer(lk.Tversky(alpha=alpha, beta=beta, smooth=smooth), (t, p), reference, what=f"tversky {alpha} {beta}")
    if alpha == beta == 1.0:
        check_peer(lk.Jaccard(smooth=smooth), (t, p), reference, what="jaccard")
    gamma = 4.0 / 3.0
    per_sample = _optax_tversky(alpha, beta, smooth)
    focal = jax_peer(lambda t, p: per_sample(t, p) ** (1.0 / gamma), (1,))
    check_peer(lk.FocalTversky(alpha=alpha, beta=beta, gamma=gamma, smooth=smooth), (t, p), focal,
               what=f"focal_tversky {alpha} {beta}")  # fmt: skip
    sample, truth = [[0.9, 0.2, 0.7, 0.4]], [[1.0, 0.0, 1.0, 1.0]]
    np.testing.assert_allclose(float(lk.tversky(truth, sample, alpha=0.3, beta=0.7)), 0.275362, atol=5e-7)
    np.testing.assert_allclose(float(lk.jaccard(truth, sample)), 0.375, rtol=1e-15)
    np.testing.assert_allclose(float(lk.focal_tversky(truth, sample)), 0.380127, atol=5e-7)


def test_overlap_losses_of_empty_masks_and_perfect_samples():
    """Both empty costs 0 with no slope; a perfect sample costs 0, and focal Tversky's infinite slope there is 0."""
    empty = np.zeros((1, 6))
    for loss in (lk.Tversky(reduction="sum"), lk.Jaccard(reduction="sum"), lk.FocalTversky(gamma=2.0, reduction="sum")):
        assert float(loss(empty, empty)) == 0.0
        np.testing.assert_array_equal(loss.grad_and_hessian(empty, empty), np.zeros((2, 1, 6)))
    perfect = np.array([[1.0, 0.0, 1.0, 0.0]])
    focal = lk.FocalTversky(gamma=2.0, reduction="sum")
    assert float(focal(perfect, perfect)) == 0.0
    np.testing.assert_array_equal(focal.grad(perfect, perfect), np.zeros((1, 4)))


def test_a_keras_tversky_config_is_refused_with_the_reason():
    with pytest.raises(lk.InputError, match="pools the whole batch"):
        lk.get({"class_name": "Tversky", "config": {"alpha": 0.3, "beta": 0.7}})


def _clip_logits(q, k, temperature, similarity):
    if similarity == "cosine":
        q, k = F.normalize(q, dim=-1, eps=0.0), F.normalize(k, dim=-1, eps=0.0)
    return q @ k.T / temperature


@covers("info_nce")
@pytest.mark.parametrize("temperature, symmetric, similarity", [(0.07, False, "cosine"), (0.5, True, "cosine"),
                                                                (1.0, True, "dot")])  # fmt: skip
def test_info_nce_is_cross_entropy_over_the_similarity_matrix(temperature, symmetric, similarity):
    """The MoCo and CLIP recipes in PyTorch: ``cross_entropy(q k^T / t, arange(N))``, and CLIP's mean of both
    directions; autograd through them gives the gradients of queries and keys."""
    rng = rng_for(f"info nce {temperature}")
    q, k = rng.normal(size=(N, 5)), rng.normal(size=(N, 5))

    def per_example(q, k):
        logits = _clip_logits(q, k, temperature, similarity)
        labels = torch.arange(len(q))
        rows = F.cross_entropy(logits, labels, reduction="none")
        return 0.5 * (rows + F.cross_entropy(logits.T, labels, reduction="none")) if symmetric else rows

    loss = lk.InfoNCE(temperature=temperature, symmetric=symmetric, similarity=similarity)
    check_peer(loss, (q, k), torch_peer(per_example, (0, 1)), what=f"info_nce {temperature}", hessian=False)


def _ntxent_pairs(labels, e, temperature):
    """CATALOGUE.md 7.5's definition in PyTorch: each positive pair's cross-entropy over its row restricted
    to the positive and the negatives; summed per anchor. (The counted weights: positive pairs per anchor.)"""
    logits = _clip_logits(e, e, temperature, "cosine")
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(e), dtype=torch.bool)
    losses = []
    for i in range(len(e)):
        terms = [torch.logsumexp(logits[i][(~same[i]) | (torch.arange(len(e)) == p)], 0) - logits[i, p]
                 for p in range(len(e)) if same[i, p] and not eye[i, p]]  # fmt: skip
        losses.append(torch.stack(terms).sum() if terms else logits[i, i] * 0.0)
    return torch.stack(losses)


@covers("ntxent")
@pytest.mark.parametrize("temperature", [0.07, 0.5])
def test_ntxent_against_optax_and_the_definition(temperature):
    import jax
    import optax

    rng = rng_for(f"ntxent {temperature}")
    labels = rng.integers(0, 3, size=N).astype(np.float64)
    e = rng.normal(size=(N, 4))
    loss = lk.NTXent(temperature=temperature)
    # Optax: its mean over every positive pair, and jax.grad of it
    value, grad = jax.value_and_grad(lambda x: optax.losses.ntxent(x, labels.astype(np.int64), temperature))(e)
    got_value, got_grad = loss.value_and_grad(labels, e)
    np.testing.assert_allclose(got_value, value, rtol=1e-12)
    np.testing.assert_allclose(got_grad, grad, rtol=1e-10, atol=1e-14)
    # the definition, with every reduction and weights
    pairs = lambda labels, e: ((labels[:, None] == labels[None, :]).sum(1) - 1).to(e.dtype)  # noqa: E731
    reference = torch_peer(lambda y, x: _ntxent_pairs(y, x, temperature), (1,), counted=pairs)
    check_peer(loss, (labels, e), reference, what=f"ntxent {temperature}", hessian=False)
    # CATALOGUE.md 7.5: E = [[1, 0], [0.8, 0.6], [0, 1], [-0.6, 0.8]], labels [0, 0, 1, 1], t = 0.5
    e = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    np.testing.assert_allclose(lk.ntxent([0, 0, 1, 1], e, temperature=0.5, reduction="none"),
                               [0.233257, 0.627123, 0.627123, 0.233257], atol=5e-7)  # fmt: skip
    assert abs(float(lk.ntxent([0, 0, 1, 1], e, temperature=0.5)) - 0.430190) < 5e-7


def test_batch_coupled_weights_drop_losses_not_negatives():
    """A weight of 0 removes a query's loss, but its key stays a negative of the others (and gets their gradient)."""
    rng = rng_for("coupled weights")
    q, k = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    w = np.array([1.0, 1.0, 1.0, 0.0])
    per_example = lk.info_nce(q, k, reduction="none")
    np.testing.assert_allclose(lk.info_nce(q, k, sample_weight=w), per_example[:3].mean(), rtol=1e-13)
    assert lk.info_nce(q[:3], k[:3]) < per_example[:3].mean()  # one negative fewer
    g_q, g_k = lk.InfoNCE().grad(q, k, sample_weight=w)
    assert np.all(g_q[3] == 0) and np.any(g_k[3] != 0)
    with pytest.raises(lk.InputError, match="depends on every key"):
        lk.InfoNCE().grad_and_hessian(q, k)


def _lists(name, lists=N, items=5):
    """Graded relevance in {0, 1, 2, 3}, scores, and a mask of padded lists (one list wholly padded)."""
    rng = rng_for(name)
    relevance = rng.integers(0, 4, size=(lists, items)).astype(np.float64)
    where = rng.random((lists, items)) < 0.8
    where[:, 0] = True
    where[-1] = False
    return relevance, rng.normal(size=(lists, items)), where


def _rax_peer(rax_loss, per_item_pairs=False, **options):
    """Rax's per-list losses (``reduce_fn=None``; for a pairwise loss every pair's, summed over the pairs Rax
    counts), reduced by DESIGN.md section 2 with the counted weights of Rax's mean: lists with an item, or pairs."""
    import jax.numpy as jnp
    from test_peers_classes import jax_peer

    def pairs(relevance, where):
        return where[:, :, None] & where[:, None, :] & (relevance[:, :, None] > relevance[:, None, :])

    def per_example(relevance, scores, where):
        losses = rax_loss(scores, relevance, where=where, reduce_fn=None, **options)
        if not per_item_pairs:
            return losses
        return jnp.sum(jnp.where(pairs(relevance, where), losses.reshape(pairs(relevance, where).shape), 0.0), axis=(1, 2))

    def counted(relevance, scores, where):
        return jnp.sum(pairs(relevance, where), axis=(1, 2)) if per_item_pairs else jnp.any(where, axis=-1)

    return jax_peer(per_example, (1,), counted=counted, hessian=False)


@covers("listnet", "listmle", "pairwise_logistic")
def test_ranking_losses_against_rax_and_optax():
    import jax.numpy as jnp
    import optax
    import rax

    relevance, scores, where = _lists("ranking")
    shares = lambda y, where: y / jnp.maximum(jnp.sum(y, axis=-1, keepdims=True), 1e-300)  # noqa: E731
    cases = [(lk.ListNet(), _rax_peer(rax.softmax_loss, label_fn=shares)),
             (lk.ListNet(normalize=False), _rax_peer(rax.softmax_loss)),
             (lk.ListMLE(), _rax_peer(rax.listmle_loss)),
             (lk.PairwiseLogistic(), _rax_peer(rax.pairwise_logistic_loss, per_item_pairs=True))]  # fmt: skip
    for loss, reference in cases:
        check_peer(loss, (relevance, scores, where), reference, what=loss.info.name, hessian=False, dtypes=("float64",),
                   reductions=("mean", "none"))  # "sum" is the contract's law of the two
    # Optax's listwise softmax, its mean over the lists that have an item
    np.testing.assert_allclose(lk.listnet(relevance, scores, where, normalize=False),
                               optax.losses.ranking_softmax_loss(scores, relevance, where=where), rtol=1e-12)  # fmt: skip
    # no mask: every item counts
    for loss, _ in cases:
        np.testing.assert_array_equal(loss(relevance, scores, reduction="none"),
                                      loss(relevance, scores, np.ones_like(where), reduction="none"))  # fmt: skip


def test_listmle_breaks_ties_in_list_order_and_listnet_has_its_hessian():
    # tied grades: the order is the list's; by hand, items ordered (0, 1, 2): log(e^1 + e^0 + e^.5) - 1 + log(e^0 + e^.5) - 0
    want = np.log(np.exp(1) + 1 + np.exp(0.5)) - 1 + np.log(1 + np.exp(0.5))
    np.testing.assert_allclose(lk.listmle([[1.0, 1.0, 0.0]], [[1.0, 0.0, 0.5]]), want, rtol=1e-14)
    # CATALOGUE.md 7.6: s = [1, 2, 0.5], y = [1, 0, 2]; the Hessian's diagonal from jax.hessian of Optax's loss
    import jax
    import optax

    y, s = np.array([[1.0, 0.0, 2.0]]), np.array([[1.0, 2.0, 0.5]])
    grad, hessian = lk.ListNet(normalize=False).grad_and_hessian(y, s)
    np.testing.assert_allclose(grad, [[-0.306328, 1.885595, -1.579267]], atol=5e-7)
    full = jax.hessian(lambda x: optax.losses.ranking_softmax_loss(x, y))(s).reshape(3, 3)
    np.testing.assert_allclose(hessian[0], np.diag(full), rtol=1e-12)


@covers("weighted_sum")
def test_compound_is_the_sum_of_its_terms_as_users_write_it_in_torch():
    """Dice (per image) + binary cross-entropy (per pixel, averaged over each image) against the same written
    in PyTorch: ``0.5 * dice + 0.5 * F.binary_cross_entropy``, the mean over images of each (autograd); the
    Hessian diagonal by double backward through the cross-entropy's formula (PyTorch's own double backward of
    ``binary_cross_entropy`` is off by up to 4e-11, see test_peers.py)."""
    rng = rng_for("compound")
    masks = (rng.random((N, 2, 3)) < 0.4).astype(np.float64)
    probabilities = rng.uniform(0.05, 0.95, size=(N, 2, 3))

    def per_image(t, p):
        flat_t, flat_p = t.reshape(len(t), -1), p.reshape(len(p), -1)
        dice = 1 - (2 * (flat_t * flat_p).sum(1) + 1) / (flat_t.sum(1) + flat_p.sum(1) + 1)
        bce = -(flat_t * torch.log(flat_p) + (1 - flat_t) * torch.log1p(-flat_p))
        return 0.5 * dice + 0.5 * bce.mean(1)

    loss = lk.compound((0.5, "dice"), (0.5, "binary_cross_entropy"))
    check_peer(loss, (masks, probabilities), torch_peer(per_image, (1,)), what="dice + bce", dtypes=("float64",))
    bce = F.binary_cross_entropy(torch.from_numpy(probabilities), torch.from_numpy(masks))
    np.testing.assert_allclose(loss(masks, probabilities), 0.5 * lk.dice(masks, probabilities) + 0.5 * bce.item(), rtol=1e-14)
    # the same as the terms' own calls, with weights and a reduction
    w = rng.uniform(0.5, 2.0, size=N)
    terms = lk.compound((0.3, "tversky"), lk.Jaccard(smooth=1.0))
    for reduction in ("none", "sum", "mean"):
        call = dict(sample_weight=w, reduction=reduction)
        want = [0.3 * a + b for a, b in zip(lk.Tversky().grad_and_hessian(masks, probabilities, **call),
                                            lk.Jaccard(smooth=1.0).grad_and_hessian(masks, probabilities, **call))]  # fmt: skip
        for got, expected in zip(terms.grad_and_hessian(masks, probabilities, **call), want):
            np.testing.assert_allclose(got, expected, rtol=1e-13)
        np.testing.assert_allclose(terms(masks, probabilities, **call),
                                   0.3 * lk.tversky(masks, probabilities, **call)
                                   + lk.jaccard(masks, probabilities, smooth=1.0, **call), rtol=1e-13)  # fmt: skip


def test_a_compound_of_per_class_dice_and_per_pixel_cross_entropy_is_their_sum():
    rng = rng_for("compound per class")
    masks, probabilities = (rng.random((4, 3, 5)) < 0.4).astype(np.float64), rng.uniform(0.05, 0.95, size=(4, 3, 5))
    loss = lk.compound((0.5, lk.Dice(class_axis=1)), (2.0, "binary_cross_entropy"))
    for got, dice, bce in zip(loss.grad_and_hessian(masks, probabilities),
                              lk.Dice(class_axis=1).grad_and_hessian(masks, probabilities),
                              lk.BinaryCrossEntropy().grad_and_hessian(masks, probabilities)):  # fmt: skip
        np.testing.assert_allclose(got, 0.5 * dice + 2.0 * bce, rtol=1e-13)
    with pytest.raises(lk.InputError, match="class_axis differs"):
        lk.compound(lk.Dice(class_axis=1), "tversky")


def test_compound_configs_round_trip_and_mismatched_terms_are_refused():
    loss = lk.compound((0.5, {"name": "softmax_focal", "gamma": 1.0}), "softmax_cross_entropy", reduction="sum")
    assert lk.get(loss.config()) == loss and hash(lk.get(loss.config())) == hash(loss)
    assert loss.config()["terms"][1] == [1.0, lk.SoftmaxCrossEntropy().config()]
    # the best constant row: its softmax is SciPy's minimiser of the mean cost over constant rows
    from scipy.optimize import minimize

    labels = np.eye(3)[[0, 0, 1, 2, 2, 2]]
    found = minimize(lambda c: float(loss(labels, np.broadcast_to(c, labels.shape).copy())), np.zeros(3), tol=1e-12).x
    softmax = lambda c: np.exp(c - c.max()) / np.exp(c - c.max()).sum()  # noqa: E731
    np.testing.assert_allclose(softmax(loss.optimal_constant(labels)), softmax(found), atol=1e-6)
    for terms, why in [(("sigmoid_cross_entropy", "dice"), "sigmoid_cross_entropy cannot be a term beside dice: its y_pred"),
                       (("listnet", "pairwise_logistic"), "count different things"),
                       ((lk.SoftmaxCrossEntropy(class_weight=[1.0, 2.0]),), "its own weights"),
                       (((-1.0, "mse"),), "finite number >= 0"), (("info_nce",), "independent per-example")]:  # fmt: skip
        with pytest.raises(lk.InputError, match=why):
            lk.compound(*terms)


@covers("generalized_dice")
@pytest.mark.parametrize("pooled", [False, True])
def test_overlap_losses_per_class_and_over_the_batch_against_monai(pooled):
    """MONAI's DiceLoss, TverskyLoss (jaccard=True for the IoU) and GeneralizedDiceLoss on (N, C, H, W) masks,
    per sample and class (``batch=False``) or pooled over the batch (``batch=True``): the mean and autograd's
    gradient of it; a class absent from one sample's target included. MONAI computes the generalised Dice
    weights in float32 (``w_func(ground_o.float())``), so that loss is also checked in float64 against Sudre et
    al.'s formula in PyTorch; focal Tversky per class against its formula (MONAI has none)."""
    from monai.losses import DiceLoss, GeneralizedDiceLoss, TverskyLoss

    rng = rng_for(f"monai {pooled}")
    masks = (rng.random((N, 3, 4, 5)) < 0.3).astype(np.float64)
    masks[0, 2] = 0.0
    probabilities = rng.uniform(0.05, 0.95, size=masks.shape)
    pool = "batch" if pooled else "sample"

    def focal(t, p, alpha=0.3, beta=0.7, gamma=2.0):
        dims = (0, 2, 3) if pooled else (2, 3)
        tp, fp, fn = (p * t).sum(dims), (p * (1 - t)).sum(dims), ((1 - p) * t).sum(dims)
        return ((1 - (tp + 0.5) / (tp + alpha * fp + beta * fn + 0.5)) ** (1 / gamma)).mean()

    def sudre(t, p):  # 1 - (2 sum w I + 1) / (sum w (P + T) + 1), w = 1 / T^2, absent classes the largest weight
        dims = (0, 2, 3) if pooled else (2, 3)
        volume = t.sum(dims)
        w = torch.where(volume > 0, 1 / volume.clamp(min=1e-300) ** 2, 0.0)
        w = torch.where(volume > 0, w, w.max(-1, keepdim=True).values)
        ratio = (2 * (w * (p * t).sum(dims)).sum(-1) + 1) / ((w * (p + t).sum(dims)).sum(-1) + 1)
        return (1 - ratio).mean()

    cases = [
        (lk.Dice(smooth=1.0), DiceLoss(smooth_nr=1.0, smooth_dr=1.0, batch=pooled)),
        (lk.Tversky(alpha=0.3, beta=0.7, smooth=0.5), TverskyLoss(alpha=0.3, beta=0.7, smooth_nr=0.5, smooth_dr=0.5, batch=pooled)),
        (lk.Jaccard(smooth=0.5), DiceLoss(jaccard=True, smooth_nr=1.0, smooth_dr=1.0, batch=pooled)),  # its s is twice
        (lk.GeneralizedDice(smooth=1.0), GeneralizedDiceLoss(smooth_nr=1.0, smooth_dr=1.0, batch=pooled)),
        (lk.GeneralizedDice(smooth=1.0), sudre),
        (lk.FocalTversky(alpha=0.3, beta=0.7, gamma=2.0, smooth=0.5), focal),
    ]  # fmt: skip
    for loss, peer in cases:
        loss = lk.get(loss, class_axis=1, pool=pool)
        t, p = torch.from_numpy(masks), torch.from_numpy(probabilities).requires_grad_()
        value = peer(p, t) if isinstance(peer, torch.nn.Module) else peer(t, p)
        (grad,) = torch.autograd.grad(value, p)
        got, got_grad = loss.value_and_grad(masks, probabilities)
        rtol = 1e-6 if isinstance(peer, GeneralizedDiceLoss) else 1e-13  # its weights in float32
        np.testing.assert_allclose(got, value.item(), rtol=rtol, err_msg=repr(loss))
        np.testing.assert_allclose(got_grad, grad.numpy(), rtol=max(rtol, 1e-11), atol=1e-16, err_msg=repr(loss))
        # channels last: the same numbers
        last = lk.get(loss, class_axis=-1)
        moved = last.value_and_grad(np.moveaxis(masks, 1, -1), np.moveaxis(probabilities, 1, -1))
        np.testing.assert_allclose(moved[0], got, rtol=1e-14)
        np.testing.assert_allclose(np.moveaxis(moved[1], -1, 1), got_grad, rtol=1e-13, atol=1e-18)
    # pooled, "sum" and "mean" are both the batch's value, made of the samples' shares
    if pooled:
        dice = lk.Dice(class_axis=1, pool="batch")
        assert dice(masks, probabilities, reduction="none").sum() == pytest.approx(float(dice(masks, probabilities)), rel=1e-13)
        assert float(dice(masks, probabilities, reduction="sum")) == pytest.approx(float(dice(masks, probabilities)), rel=1e-13)
        with pytest.raises(lk.InputError, match="pooled over the batch"):
            dice.grad_and_hessian(masks, probabilities)


def test_overlap_losses_meet_segmentation_models_pytorchs_own_test_values():
    """The expected values of segmentation_models_pytorch's tests/test_losses.py, as losses (1 - score). Its
    binary losses pool the batch and the pixels (``pool="batch"``); its multi-class and multi-label ones do
    that per class, then average (``class_axis=1``). One convention differs and is checked as ours: where the
    target is empty and the prediction is not, smp zeroes the loss; here it is 1 (nothing of the prediction
    overlaps; MONAI's and Keras's value too)."""
    cases = [  # (y_true, y_pred, loss): test_soft_dice_score, test_soft_tversky_score (alpha = beta = 1/2)
        ([1, 1, 1, 1], [1, 1, 1, 1], 0.0), ([0, 1, 1, 0], [0, 1, 1, 0], 0.0), ([1, 1, 1, 1], [1, 1, 0, 0], 1 / 3),
    ]
    for y, p, want in cases:
        y, p = np.array([y], dtype=float), np.array([p], dtype=float)
        for loss in (lk.Dice(smooth=0.0), lk.Tversky(), lk.Dice(smooth=0.0, pool="batch")):
            assert float(loss(y, p)) == pytest.approx(want, abs=1e-12)
    for y, p, want in [([1, 1, 1, 1], [1, 1, 1, 1], 0.0), ([1, 1, 1, 1], [1, 1, 0, 0], 0.5)]:  # test_soft_jaccard_score
        assert float(lk.jaccard([y], [np.array(p, dtype=float)])) == pytest.approx(want, abs=1e-12)
    # test_soft_jaccard_score_2: one score per row, their mean
    for y, p, want in [([[1, 1, 0, 0], [0, 0, 1, 1]], [[1, 1, 0, 0], [0, 0, 1, 1]], 0.0),
                       ([[1, 1, 0, 0], [0, 0, 1, 1]], [[0, 0, 1, 0], [0, 1, 0, 0]], 1.0),
                       ([[1, 1, 0, 0], [0, 0, 0, 1]], [[1, 1, 0, 0], [0, 0, 0, 0]], 0.5)]:  # fmt: skip
        assert float(lk.jaccard(y, np.array(p, dtype=float))) == pytest.approx(want, abs=1e-12)
    # test_dice_loss_binary, test_tversky_loss_binary, test_binary_jaccard_loss: (1, 1, 1, 3) masks, the batch pooled
    for y, p, want in [([1, 1, 1], [1, 1, 1], 0.0), ([1, 0, 1], [1, 0, 1], 0.0), ([0, 0, 0], [0, 0, 0], 0.0),
                       ([0, 1, 0], [1, 0, 1], 1.0), ([1, 1, 1], [0, 0, 0], 1.0),
                       ([0, 0, 0], [1, 1, 1], 1.0)]:  # smp: 0.0 (an empty target's loss is zeroed)  # fmt: skip
        y, p = np.reshape(y, (1, 1, 1, 3)).astype(float), np.reshape(p, (1, 1, 1, 3)).astype(float)
        for loss in (lk.Dice(smooth=0.0, pool="batch"), lk.Tversky(pool="batch"), lk.Jaccard(pool="batch")):
            assert float(loss(y, p)) == pytest.approx(want, abs=1e-12)
    # test_multiclass_jaccard_loss (class ids one-hot over axis 1) and test_multilabel_jaccard_loss
    pred = np.array([[[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]])
    per_class = lk.Jaccard(class_axis=1, pool="batch")
    for ids, p, want in [([0, 0, 1, 1], pred, 0.0), ([1, 1, 0, 0], pred, 1.0),
                         ([1, 1, 0, 0], np.array([[[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]]), 2 / 3)]:  # fmt: skip
        assert float(per_class(np.eye(2)[ids].T[None], p)) == pytest.approx(want, abs=1e-12)
    for y, p, want in [(pred, pred, 0.0), (1 - pred, pred, 1.0),
                       (np.array([[[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]]),
                        np.array([[[0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]]]), 2 / 3)]:  # fmt: skip
        assert float(per_class(y, p)) == pytest.approx(want, abs=1e-12)


def test_batch_and_list_losses_meet_optaxs_own_test_values():
    """The expected values of Optax's tests: ``_self_supervised_test.py`` (ntxent, to its 1e-4) and
    ``_ranking_test.py`` (the listwise softmax, un-normalised: ``listnet(normalize=False)``, summed over lists)."""
    e = [[-1.9540, 1.0780], [0.2380, -0.5703], [1.8745, -0.0195], [-0.6719, -1.9210]]
    assert float(lk.ntxent([0, 0, 1, 1], e)) == pytest.approx(14.01032, abs=1e-4)
    assert float(lk.ntxent([0, 0, 0, 1], e)) == pytest.approx(8.968544, abs=1e-4)
    softmax = lk.ListNet(normalize=False, reduction="sum")
    exp, log = np.exp, np.log
    total = exp(0.0) + exp(3.0) + exp(1.0) + exp(2.0)
    assert float(softmax([[0.0, 0.0, 1.0, 1.0]], [[0.0, 3.0, 1.0, 2.0]])) == pytest.approx(
        -(log(exp(2.0) / total) + log(exp(1.0) / total)), rel=1e-14)  # fmt: skip
    extreme = -((-2.1e26 - (0.0 + -2.1e26 + 3.4e37 + 42.0)) + (3.4e37 - (0.0 + -2.1e26 + 3.4e37 + 42.0)))
    assert float(softmax([[0.0, 1.0, 1.0, 0.0]], [[0.0, -2.1e26, 3.4e37, 42.0]])) == pytest.approx(extreme, rel=1e-3)
    second = exp(3.0) + exp(1.0) + exp(4.0) + exp(2.0)
    both = [-(log(exp(2.0) / total) + log(exp(1.0) / total)), -(2.0 * log(exp(3.0) / second) + log(exp(4.0) / second))]
    scores, labels = [[0.0, 3.0, 1.0, 2.0], [3.0, 1.0, 4.0, 2.0]], [[0.0, 0.0, 1.0, 1.0], [2.0, 0.0, 1.0, 0.0]]
    np.testing.assert_allclose(softmax(labels, scores, reduction="none"), both, rtol=1e-14)
    # the mean over lists with an item; a wholly masked list neither costs nor counts, and has no NaN gradient
    where = np.array([[True] * 4, [False] * 4])
    assert float(lk.listnet(labels, scores, where, normalize=False)) == pytest.approx(both[0], rel=1e-14)
    masked = lk.ListNet(normalize=False).grad(labels, scores, where)
    assert np.all(masked[1] == 0) and np.all(np.isfinite(masked))
    zero = lk.ListNet(normalize=False).grad([[0.0] * 4], [[0.0, 3.0, 1.0, 2.0]])
    np.testing.assert_array_equal(zero, 0.0)
    # where drops an item as if it were not in the list
    assert float(lk.listnet([[0.0, 0.0, 2.0, 1.0]], [[0.0, 3.0, 1.0, 2.0]], [[True, True, True, False]], normalize=False)) \
        == pytest.approx(float(lk.listnet([[0.0, 0.0, 2.0]], [[0.0, 3.0, 1.0]], normalize=False)), rel=1e-14)
