"""losskit against independent implementations: values and gradients, float64 and float32 (DESIGN.md §8).

Every check draws random inputs from a fixed seed, runs losskit on NumPy and on PyTorch (its call,
``value_and_grad`` and ``grad``; the contract, test_contract.py, holds JAX and array-api-strict to
NumPy's numbers, so the references reach them too), and compares in NumPy with a reference computed
in float64 from the very same inputs (float32 inputs are widened exactly to float64 first). Reductions
are "mean", "sum" and "none", with and without ``sample_weight``, wherever the reference has them.
With weights, a reference that has none of its own gets DESIGN.md §2's rule applied to its per-example
losses: "none" is ``w * l``, "sum" is ``sum(w * l)``, "mean" is ``sum(w * l) / sum(w)``.
The gradient of "none" is that of ``sum(w * l)``, as ``Loss.value_and_grad`` documents.

What is compared against what:

- ``torch.nn.functional`` (values; gradients by torch autograd through the reference):
  mse/mse_loss, mae/l1_loss, huber/huber_loss (delta 0.5, 1, 2.5), msle/mse_loss of log1p,
  rmse/sqrt of mse_loss, hinge and squared_hinge/``2 * multi_margin_loss(p=1 or 2)`` on the two scores
  ``[0, s]`` (its per-sample value is ``sum_{i != y} max(0, 1 - x_y + x_i)^p / 2``),
  binary_cross_entropy/binary_cross_entropy, sigmoid_cross_entropy/binary_cross_entropy_with_logits
  (``pos_weight``; label smoothing as the target ``y (1 - e) + e / 2``),
  softmax_cross_entropy/cross_entropy with probability targets (and ``label_smoothing``),
  sparse_softmax_cross_entropy/cross_entropy with class ids (``label_smoothing``, ``ignore_index``),
  sparse_categorical_cross_entropy/nll_loss of log p, kl_divergence/kl_div(log q, p,
  reduction="batchmean", log_target=False), and categorical_cross_entropy/``-(y * log p).sum(-1)``
  written in torch (the definition: Good 1952; Goodfellow et al., Deep Learning, eq. 6.25).
  PyTorch's own weights too: ``weight=`` of binary_cross_entropy(_with_logits) (its "mean" is
  ``sum(w * l) / numel``, losskit's ``normalizer=numel``) and the class ``weight=`` of cross_entropy and
  nll_loss (its "mean" is ``sum(w_y l) / sum(w_y)``, losskit's ``sample_weight=class_weight[y]``).
- scikit-learn metrics (values, "mean" with ``sample_weight``; "sum" too for log_loss via
  ``normalize=False``): mean_squared_error, mean_absolute_error, root_mean_squared_error,
  mean_squared_log_error, log_loss (binary probabilities; multiclass probability rows against both
  sparse_categorical_cross_entropy and categorical_cross_entropy), hinge_loss (labels {-1, 1},
  decision values). sklearn has no autodiff: the reference gradient is the derivative of the sklearn
  metric itself, by Richardson-extrapolated central differences (powers-of-two steps), which limits
  that comparison to ``FD_RTOL``.
- SciPy: kl_divergence/``rel_entr`` (and ``xlogy(p, p) - xlogy(p, q)``), gradient its derivative
  ``-p / q``; softmax_cross_entropy and sparse_softmax_cross_entropy/``logsumexp``, gradients
  ``softmax(z) sum(y') - y'`` with ``scipy.special.softmax``; sigmoid_cross_entropy/``log_expit``,
  gradient ``(1 - y) expit(z) - w_+ y expit(-z)`` (``expit(z) - y`` without ``pos_weight``).
- mpmath at 50 digits (no framework has these): pseudo_huber ``delta^2 (sqrt(1 + (r/delta)^2) - 1)``
  with derivative ``r / sqrt(1 + (r/delta)^2)`` (Charbonnier et al. 1997; Hartley and Zisserman 2004,
  A6.8), and log_cosh ``log(cosh(r))`` with derivative ``tanh(r)``, the derivatives confirmed by
  ``mpmath.diff``; residuals in [-4, 4] and a few tiny ones, compared entry by entry (nothing cancels).

Tolerances: relative ``RTOL`` per dtype; an entry of an array may also differ by ``RTOL`` times the
array's largest entry, since an entry that nearly cancels (softmax(z) - y, say) carries its terms'
rounding. That ``FD_RTOL`` is looser says how good finite differences are, not the library.
"""

from __future__ import annotations

import functools
import warnings
import zlib
from dataclasses import dataclass
from typing import Callable, NamedTuple

import mpmath
import numpy as np
import pytest
import scipy.special as sp
import torch
import torch.nn.functional as F
from sklearn import metrics

import losskit as lk
from conftest import Backend

#: The backends the references run on (JAX and array-api-strict equal NumPy by the contract).
REFERENCE_BACKENDS = [Backend("numpy"), Backend("torch")]


@pytest.fixture(params=REFERENCE_BACKENDS, ids=lambda b: b.name)
def backend(request) -> Backend:
    return request.param

DTYPES = ("float64", "float32")
REDUCTIONS = ("mean", "sum", "none")
#: float64: a few ulps of every step and sum; float32: the float32 computation against exact float64.
RTOL = {"float64": 1e-12, "float32": 1e-5}
#: Richardson-extrapolated central differences of a float64 metric are good to about this.
FD_RTOL = 1e-9
IGNORE = -100
# Few shapes, shared by all tests: JAX compiles each operation once per shape and dtype.
ELEMENTS = (8, 3)  # elementwise losses: 8 examples of 3 outputs; weights (8,)
VECTOR = (16,)  # 1-D inputs: the sklearn metrics, the hinge losses
ROWS = (8, 3)  # 8 rows over 3 classes; weights (8,)
BLOCKS = (3, 4, 5)  # 3 x 4 rows over 5 classes; weights (3,)


# --- helpers ------------------------------------------------------------------------------------


class Data(NamedTuple):
    y_true: np.ndarray  # float64 targets, or int64 class ids
    y_pred: np.ndarray  # float64
    weight: np.ndarray  # float64, one per example (the leading axis)


def rng_for(name: str) -> np.random.Generator:
    """A generator seeded by the name of the case, stable across runs and test orders."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def cast(data: Data, dtype: str) -> Data:
    """The inputs in ``dtype`` (class ids stay integers)."""
    y_true = data.y_true if data.y_true.dtype.kind == "i" else data.y_true.astype(dtype)
    return Data(y_true, data.y_pred.astype(dtype), data.weight.astype(dtype))


def widen(data: Data) -> Data:
    """The same numbers in float64, exactly: what every reference is computed from."""
    y_true = data.y_true if data.y_true.dtype.kind == "i" else data.y_true.astype(np.float64)
    return Data(y_true, data.y_pred.astype(np.float64), data.weight.astype(np.float64))


def leading(weight, ndim):
    """A per-example weight of the leading axes, shaped to broadcast against ``ndim`` axes."""
    return weight.reshape(tuple(weight.shape) + (1,) * (ndim - weight.ndim))


def design_reduction(losses, weight, reduction, valid=None):
    """DESIGN.md §2 applied to per-example ``losses`` (NumPy or torch): the weighted reductions."""
    w = leading(weight, losses.ndim)
    weighted = w * losses
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    counted = w if valid is None else w * valid
    broadcast = torch.broadcast_to if isinstance(losses, torch.Tensor) else np.broadcast_to
    return weighted.sum() / broadcast(counted, losses.shape).sum()


def assert_close(actual, expected, dtype, what, rtol=None, relative=False):
    """``actual`` (losskit, in ``dtype``) against the float64 ``expected``; ``relative``: entry by entry only."""
    rtol = RTOL[dtype] if rtol is None else max(rtol, RTOL[dtype])
    actual, expected = np.asarray(actual), np.asarray(expected, dtype=np.float64)
    assert actual.dtype == np.dtype(dtype), f"{what}: dtype {actual.dtype}, expected {dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    # An entry that nearly cancels carries the rounding of its terms, up to the array's largest entry.
    scale = np.max(np.abs(expected)) if expected.ndim and not relative else 0.0
    error = np.abs(actual.astype(np.float64) - expected)
    allowed = rtol * (np.abs(expected) + scale)
    ok = (error <= allowed) | (actual == expected)  # NaN never passes; equal infinities do
    if not np.all(ok):
        worst = np.unravel_index(np.argmax(np.where(ok, 0.0, error / np.maximum(allowed, 1e-300))), ok.shape)
        raise AssertionError(
            f"{what}: {np.count_nonzero(~ok)} of {ok.size} entries differ beyond rtol={rtol:g}; at {worst}: "
            f"losskit {actual[worst]!r}, reference {expected[worst]!r}\nlosskit:   {actual!r}\nreference: {expected!r}"
        )


def check(
    backend, loss, data, reference, *, dtype, reduction, weighted, axis=-1, what="", grad_rtol=None, relative=False,
    **call,
):
    """Run ``loss`` on ``backend`` (object and function forms) and compare value and gradient with ``reference``.

    ``reference(y_true, y_pred, weight_or_None, reduction) -> (value, grad)`` works in float64 with
    the class axis last; ``axis`` moves losskit's class axis elsewhere (the gradient is moved back).
    ``call`` holds further call keywords (``normalizer``); ``relative`` compares entry by entry only.
    """
    data = cast(data, dtype)
    ref = widen(data)
    ref_value, ref_grad = reference(ref.y_true, ref.y_pred, ref.weight if weighted else None, reduction)

    y_true, y_pred = data.y_true, data.y_pred
    if axis != -1:
        y_pred = np.moveaxis(y_pred, -1, axis)
        if loss.info.inputs[0].kind != "class_index":
            y_true = np.moveaxis(y_true, -1, axis)
    kwargs = dict(call, reduction=reduction)
    if weighted:
        kwargs["sample_weight"] = backend.asarray(data.weight)
    yt, yp = backend.asarray(y_true), backend.asarray(y_pred)
    hyperparameters = {k: v for k, v in loss.config().items() if k not in ("name", "reduction")}
    values = {
        "value": loss(yt, yp, **kwargs),
        "function form value": getattr(lk, loss.info.name)(yt, yp, **hyperparameters, **kwargs),
    }
    values["value_and_grad value"], joint_grad = loss.value_and_grad(yt, yp, **kwargs)
    grads = {"value_and_grad grad": joint_grad, "grad": loss.grad(yt, yp, **kwargs)}
    assert all(backend.is_native(x) for x in (*values.values(), *grads.values()))

    what = f"{what} [{backend.name}, {dtype}, reduction={reduction}, weighted={weighted}]"
    for name, v in values.items():
        assert_close(backend.to_numpy(v), ref_value, dtype, f"{what}: {name}", relative=relative)
    for name, g in grads.items():
        g = np.moveaxis(backend.to_numpy(g), axis, -1) if axis != -1 else backend.to_numpy(g)
        assert_close(g, ref_grad, dtype, f"{what}: {name}", rtol=grad_rtol, relative=relative)


def all_settings():
    """(dtype, reduction, weighted) for every reduction, with and without weights."""
    return [(d, r, w) for d in DTYPES for r in REDUCTIONS for w in (False, True)]


# --- data ---------------------------------------------------------------------------------------


def example_weights(rng, n):
    """Positive weights, one of them 0 (that example must drop out)."""
    w = rng.uniform(0.25, 2.0, size=n)
    w[1] = 0.0
    return w


def regression_data(name, shape=ELEMENTS):
    rng = rng_for(name)
    y_true = rng.normal(size=shape)
    return Data(y_true, y_true + rng.normal(scale=1.5, size=shape), example_weights(rng, shape[0]))


def positive_data(name, shape=ELEMENTS):
    """Targets and predictions > -1 for MSLE, spanning a few orders of magnitude."""
    rng = rng_for(name)
    return Data(
        np.exp(rng.normal(size=shape)) - 0.5, np.exp(rng.normal(size=shape)) - 0.5, example_weights(rng, shape[0])
    )


def margin_data(name, n=VECTOR[0], zero_one=False, gap=0.05):
    """Labels and scores whose margins stay at least ``gap`` from the hinge at 1."""
    rng = rng_for(name)
    t = rng.choice([-1.0, 1.0], size=n)
    t[:2] = (-1.0, 1.0)
    margin = 1.0 + rng.choice([-1.0, 1.0], size=n) * rng.uniform(gap, 2.0, size=n)
    labels = (t + 1.0) / 2.0 if zero_one else t
    return Data(labels, t * margin, example_weights(rng, n))


def soft_binary_data(name, shape=ELEMENTS, logits=False):
    """Soft targets in [0, 1] with some hard 0/1 labels; probabilities in (0.02, 0.98) or logits."""
    rng = rng_for(name)
    y = rng.uniform(size=shape)
    y.flat[:4] = (0.0, 1.0, 1.0, 0.0)
    if logits:
        y_pred = rng.normal(scale=3.0, size=shape)
        y_pred.flat[4:6] = (30.0, -25.0)  # far tails: still exact
    else:
        y_pred = rng.uniform(0.02, 0.98, size=shape)
    return Data(y, y_pred, example_weights(rng, shape[0]))


def hard_binary_data(name, n=VECTOR[0]):
    rng = rng_for(name)
    y = rng.integers(0, 2, size=n).astype(np.float64)
    y[:2] = (0.0, 1.0)
    return Data(y, rng.uniform(0.02, 0.98, size=n), example_weights(rng, n))


def softmax_rows(rng, shape, scale=1.0):
    z = rng.normal(scale=scale, size=shape)
    return sp.softmax(z, axis=-1)


def soft_target_rows(rng, shape):
    """Soft target rows: Dirichlet rows, one one-hot row, one row with a zero entry.

    PyTorch also takes rows that do not sum to 1; losskit refuses them (a multi-hot row is a
    multi-label target), so they are not compared here.
    """
    y = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    flat = y.reshape(-1, shape[-1])
    flat[0] = np.eye(shape[-1])[2]
    flat[1, 0] = 0.0
    flat[1] /= flat[1].sum()
    return y


def probability_rows_data(name, shape=BLOCKS):
    """Probability rows as predictions, soft target rows."""
    rng = rng_for(name)
    return Data(soft_target_rows(rng, shape), softmax_rows(rng, shape), example_weights(rng, shape[0]))


def logit_rows(rng, shape):
    """Logits of scale 2, and one row of scale 80 whose exp overflows float32 unless shifted."""
    z = rng.normal(scale=2.0, size=shape)
    z.reshape(-1, shape[-1])[2] *= 40.0
    return z


def logits_soft_data(name, shape=BLOCKS):
    rng = rng_for(name)
    return Data(soft_target_rows(rng, shape), logit_rows(rng, shape), example_weights(rng, shape[0]))


def class_id_data(name, shape=BLOCKS, probabilities=False, ignored=0):
    """Class ids of ``y_pred``'s shape without the last axis; ``ignored`` of them set to IGNORE."""
    rng = rng_for(name)
    ids = rng.integers(0, shape[-1], size=shape[:-1])
    if ignored:
        ids.flat[rng.choice(ids.size, size=ignored, replace=False)] = IGNORE
    y_pred = softmax_rows(rng, shape) if probabilities else logit_rows(rng, shape)
    return Data(ids.astype(np.int64), y_pred, example_weights(rng, shape[0]))


def distribution_data(name, shape=ROWS):
    """Target rows (with some exact zeros: 0 log 0 = 0) and predicted rows, all positive."""
    rng = rng_for(name)
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[0])
    p[0] = np.eye(shape[-1])[1]
    p[1, 0] = 0.0
    p[1] /= p[1].sum()
    return Data(p, softmax_rows(rng, shape), example_weights(rng, shape[0]))


# --- PyTorch references -------------------------------------------------------------------------


def by_design(ref, valid=None):
    """A reference without weights of its own: its per-example losses, weighted by DESIGN.md §2.

    ``ref(y_true, y_pred, reduction)`` is the unweighted reference with its own reductions;
    ``valid(y_true)`` marks the examples that count in the weighted mean's denominator.
    """

    def weighted_ref(yt, yp, reduction, weight):
        if weight is None:
            return ref(yt, yp, reduction)
        return design_reduction(ref(yt, yp, "none"), weight, reduction, None if valid is None else valid(yt))

    return weighted_ref


def torch_reference(ref):
    """``(value, grad)`` of a torch reference ``ref(yt, yp, reduction, weight)`` by autograd."""

    def reference(y_true, y_pred, weight, reduction):
        yt = torch.from_numpy(y_true)
        yp = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
        w = None if weight is None else torch.from_numpy(weight)
        value = ref(yt, yp, reduction, w)
        (grad,) = torch.autograd.grad(value.sum(), yp)
        return value.detach().numpy(), grad.numpy()

    return reference


def mse_ref(yt, yp, reduction):
    return F.mse_loss(yp, yt, reduction=reduction)


def l1_ref(yt, yp, reduction):
    return F.l1_loss(yp, yt, reduction=reduction)


def huber_ref(delta):
    def ref(yt, yp, reduction):
        return F.huber_loss(yp, yt, reduction=reduction, delta=delta)

    return ref


def msle_ref(yt, yp, reduction):
    return F.mse_loss(torch.log1p(yp), torch.log1p(yt), reduction=reduction)


def rmse_ref(yt, yp, reduction, weight):
    """sqrt of torch's mean (or sum) of squares, weighted by DESIGN.md §2 under the root; per example |r|."""
    if reduction == "none":
        r = F.l1_loss(yp, yt, reduction="none")
        return r if weight is None else leading(weight, r.ndim) * r
    if weight is None:
        return torch.sqrt(F.mse_loss(yp, yt, reduction=reduction))
    return torch.sqrt(design_reduction(F.mse_loss(yp, yt, reduction="none"), weight, reduction))


def margin_ref(power):
    """Binary hinge (power 1) or squared hinge (power 2) as twice PyTorch's two-class multi_margin_loss."""

    def ref(yt, yp, reduction):
        scores = torch.stack([torch.zeros_like(yp), yp], dim=-1)
        return 2.0 * F.multi_margin_loss(scores, (yt > 0).long(), p=power, margin=1.0, reduction=reduction)

    return ref


def bce_ref(yt, yp, reduction):
    return F.binary_cross_entropy(yp, yt, reduction=reduction)


def sigmoid_ref(pos_weight=1.0, smoothing=0.0):
    def ref(yt, yp, reduction):
        target = yt * (1.0 - smoothing) + smoothing / 2.0
        pw = torch.full(yp.shape[-1:], pos_weight, dtype=torch.float64)
        return F.binary_cross_entropy_with_logits(yp, target, pos_weight=pw, reduction=reduction)

    return ref


def categorical_definition(yt, yp, reduction):
    """-(y * log p).sum(-1): the definition of categorical cross-entropy, written in torch."""
    losses = -(yt * torch.log(yp)).sum(-1)
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def cross_entropy_ref(smoothing=0.0, ignore_index=IGNORE):
    """torch's cross_entropy with the class axis last (it wants it at dim 1)."""

    def ref(yt, yp, reduction):
        return F.cross_entropy(
            yp.movedim(-1, 1), yt.movedim(-1, 1) if yt.is_floating_point() else yt,
            label_smoothing=smoothing, ignore_index=ignore_index, reduction=reduction,
        )

    return ref


def nll_ref(yt, yp, reduction):
    return F.nll_loss(torch.log(yp).movedim(-1, 1), yt, reduction=reduction)


def kl_ref(yt, yp, reduction):
    """kl_div takes log q as its input and p as its target; "batchmean" is the mean over rows."""
    torch_reduction = {"mean": "batchmean", "sum": "sum", "none": "none"}[reduction]
    value = F.kl_div(torch.log(yp), yt, reduction=torch_reduction, log_target=False)
    return value.sum(-1) if reduction == "none" else value


def not_ignored(yt):
    return (yt != IGNORE).to(torch.float64)


@dataclass(frozen=True)
class Variant:
    label: str
    loss: lk.Loss
    ref: Callable  # (yt, yp, reduction, weight) on float64 torch tensors, class axis last
    axis: int = -1  # where losskit gets the class axis


@dataclass(frozen=True)
class TorchCase:
    name: str
    data: Callable[[str], Data]
    variants: tuple

    def __str__(self):
        return self.name


TORCH_CASES = [
    TorchCase("mse", regression_data, (Variant("mse_loss", lk.MSE(), by_design(mse_ref)),)),
    TorchCase("mae", regression_data, (Variant("l1_loss", lk.MAE(), by_design(l1_ref)),)),
    TorchCase(
        "huber",
        regression_data,
        tuple(
            Variant(f"huber_loss delta={d}", lk.get("huber", delta=d), by_design(huber_ref(d))) for d in (0.5, 1.0, 2.5)
        ),
    ),
    TorchCase("msle", positive_data, (Variant("mse_loss of log1p", lk.MSLE(), by_design(msle_ref)),)),
    TorchCase("rmse", regression_data, (Variant("sqrt(mse_loss)", lk.RMSE(), rmse_ref),)),
    TorchCase("hinge", margin_data, (Variant("2 multi_margin_loss p=1", lk.Hinge(), by_design(margin_ref(1))),)),
    TorchCase(
        "squared_hinge",
        functools.partial(margin_data, zero_one=True),
        (Variant("2 multi_margin_loss p=2, labels {0,1}", lk.SquaredHinge(), by_design(margin_ref(2))),),
    ),
    TorchCase(
        "binary_cross_entropy",
        soft_binary_data,
        (Variant("binary_cross_entropy", lk.BinaryCrossEntropy(), by_design(bce_ref)),),
    ),
    TorchCase(
        "sigmoid_cross_entropy",
        functools.partial(soft_binary_data, logits=True),
        (
            Variant("with_logits", lk.SigmoidCrossEntropy(), by_design(sigmoid_ref())),
            Variant("pos_weight=3", lk.SigmoidCrossEntropy(pos_weight=3.0), by_design(sigmoid_ref(3.0))),
            Variant("smoothing=0.2", lk.SigmoidCrossEntropy(label_smoothing=0.2), by_design(sigmoid_ref(1.0, 0.2))),
            Variant(
                "pos_weight=0.5 smoothing=0.1",
                lk.SigmoidCrossEntropy(pos_weight=0.5, label_smoothing=0.1),
                by_design(sigmoid_ref(0.5, 0.1)),
            ),
        ),
    ),
    TorchCase(
        "categorical_cross_entropy",
        probability_rows_data,
        (
            Variant("-(y log p).sum(-1)", lk.CategoricalCrossEntropy(), by_design(categorical_definition)),
            Variant("axis=1", lk.CategoricalCrossEntropy(axis=1), by_design(categorical_definition), axis=1),
        ),
    ),
    TorchCase(
        "softmax_cross_entropy",
        logits_soft_data,
        (
            Variant("cross_entropy soft targets", lk.SoftmaxCrossEntropy(), by_design(cross_entropy_ref())),
            Variant(
                "label_smoothing=0.2", lk.SoftmaxCrossEntropy(label_smoothing=0.2), by_design(cross_entropy_ref(0.2))
            ),
            Variant("axis=1", lk.SoftmaxCrossEntropy(axis=1), by_design(cross_entropy_ref()), axis=1),
        ),
    ),
    TorchCase(
        "sparse_softmax_cross_entropy",
        class_id_data,
        (
            Variant("cross_entropy class ids", lk.SparseSoftmaxCrossEntropy(), by_design(cross_entropy_ref())),
            Variant(
                "label_smoothing=0.1",
                lk.SparseSoftmaxCrossEntropy(label_smoothing=0.1),
                by_design(cross_entropy_ref(0.1)),
            ),
            Variant("axis=1", lk.SparseSoftmaxCrossEntropy(axis=1), by_design(cross_entropy_ref()), axis=1),
        ),
    ),
    TorchCase(
        "sparse_softmax_cross_entropy_ignore_index",
        functools.partial(class_id_data, ignored=3),
        (
            Variant(
                "ignore_index=-100",
                lk.SparseSoftmaxCrossEntropy(ignore_index=IGNORE),
                by_design(cross_entropy_ref(), valid=not_ignored),
            ),
            Variant(
                "ignore_index=-100 label_smoothing=0.3",
                lk.SparseSoftmaxCrossEntropy(ignore_index=IGNORE, label_smoothing=0.3),
                by_design(cross_entropy_ref(0.3), valid=not_ignored),
            ),
        ),
    ),
    TorchCase(
        "sparse_categorical_cross_entropy",
        functools.partial(class_id_data, probabilities=True),
        (
            Variant("nll_loss of log p", lk.SparseCategoricalCrossEntropy(), by_design(nll_ref)),
            Variant("axis=1", lk.SparseCategoricalCrossEntropy(axis=1), by_design(nll_ref), axis=1),
        ),
    ),
    TorchCase(
        "kl_divergence",
        distribution_data,
        (
            Variant("kl_div batchmean", lk.KLDivergence(), by_design(kl_ref)),
            Variant("axis=0", lk.KLDivergence(axis=0), by_design(kl_ref), axis=0),
        ),
    ),
]


@pytest.mark.parametrize("case", TORCH_CASES, ids=str)
def test_against_torch(backend, case):
    data = case.data(case.name)
    for variant in case.variants:
        reference = torch_reference(variant.ref)
        for dtype, reduction, weighted in all_settings():
            check(
                backend, variant.loss, data, reference, dtype=dtype, reduction=reduction, weighted=weighted,
                axis=variant.axis, what=f"{case.name} vs torch {variant.label}",
            )


# PyTorch's own weight arguments: each pair is (losskit call keywords, torch reduction).
# torch's "mean" with an elementwise weight= divides by the number of elements: losskit's normalizer.
ELEMENT_WEIGHT_PAIRS = [
    ({"reduction": "none"}, "none"),
    ({"reduction": "sum"}, "sum"),
    ({"reduction": "sum", "normalizer": ELEMENTS[0] * ELEMENTS[1]}, "mean"),
    ({"reduction": "mean", "normalizer": ELEMENTS[0] * ELEMENTS[1]}, "mean"),
]
CLASS_WEIGHT_PAIRS = [({"reduction": r}, r) for r in REDUCTIONS]


def _torch_weighted_reference(fn):
    def reference(y_true, y_pred, weight, _losskit_reduction, reduction):
        yp = torch.tensor(y_pred, requires_grad=True)
        value = fn(torch.from_numpy(y_true), yp, torch.from_numpy(weight), reduction)
        (grad,) = torch.autograd.grad(value.sum(), yp)
        return value.detach().numpy(), grad.numpy()

    return reference


def _class_weights(name, num_classes=ROWS[-1]):
    """Class weights in multiples of 1/64: exact in float32, so both sides see the same numbers."""
    return np.round(64 * rng_for(name + " classes").uniform(0.2, 3.0, size=num_classes)) / 64


TORCH_WEIGHT_CASES = {
    # name: (loss, data, per-example sample weight from the data, torch fn(yt, yp, torch_weight, reduction), pairs)
    "binary_cross_entropy weight=": (
        lk.BinaryCrossEntropy(),
        soft_binary_data("bce weights"),
        lambda d: d.weight,
        lambda t, p, w, r: F.binary_cross_entropy(p, t, weight=w[:, None], reduction=r),
        ELEMENT_WEIGHT_PAIRS,
    ),
    "binary_cross_entropy_with_logits weight= pos_weight=": (
        lk.SigmoidCrossEntropy(pos_weight=2.0),
        soft_binary_data("bce logits weights", logits=True),
        lambda d: d.weight,
        lambda t, p, w, r: F.binary_cross_entropy_with_logits(
            p, t, weight=w[:, None], pos_weight=torch.full(ELEMENTS[-1:], 2.0, dtype=torch.float64), reduction=r
        ),
        ELEMENT_WEIGHT_PAIRS,
    ),
    "cross_entropy class weight= ignore_index": (
        lk.SparseSoftmaxCrossEntropy(ignore_index=IGNORE),
        class_id_data("ce class weights", shape=ROWS, ignored=2),
        lambda d: _class_weights("ce")[np.where(d.y_true == IGNORE, 0, d.y_true)],
        lambda t, p, w, r: F.cross_entropy(p, t, weight=torch.from_numpy(_class_weights("ce")), reduction=r),
        CLASS_WEIGHT_PAIRS,
    ),
    "nll_loss class weight=": (
        lk.SparseCategoricalCrossEntropy(),
        class_id_data("nll class weights", shape=ROWS, probabilities=True),
        lambda d: _class_weights("nll")[d.y_true],
        lambda t, p, w, r: F.nll_loss(torch.log(p), t, weight=torch.from_numpy(_class_weights("nll")), reduction=r),
        CLASS_WEIGHT_PAIRS,
    ),
}


@pytest.mark.parametrize("name", list(TORCH_WEIGHT_CASES))
def test_against_torch_weight_arguments(backend, name):
    """PyTorch's ``weight=`` semantics, reproduced with ``sample_weight`` (and ``normalizer``)."""
    loss, data, sample_weight, fn, pairs = TORCH_WEIGHT_CASES[name]
    data = data._replace(weight=sample_weight(data))
    reference = _torch_weighted_reference(fn)
    for dtype in DTYPES:
        for call, torch_reduction in pairs:
            check(
                backend, loss, data, functools.partial(reference, reduction=torch_reduction),
                dtype=dtype, weighted=True, what=f"{loss.info.name} vs torch {name} {call}", **call,
            )


# --- scikit-learn references --------------------------------------------------------------------


def fd_gradient(f, x):
    """d f / d x by Richardson-extrapolated central differences, steps a power of two below each |x_i|."""
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        h = 2.0 ** (np.frexp(max(abs(x[index]), 2.0**-7))[1] - 10)  # x +- h is exact

        def central(step):
            up, down = x.copy(), x.copy()
            up[index] += step
            down[index] -= step
            return (f(up) - f(down)) / (2.0 * step)

        grad[index] = (4.0 * central(h / 2.0) - central(h)) / 3.0
    return grad


def log_loss(y_true, y_proba, sample_weight, reduction, labels):
    with warnings.catch_warnings():  # the differences step rows off the simplex; log_loss only warns
        warnings.simplefilter("ignore", UserWarning)
        return metrics.log_loss(
            y_true, y_proba, sample_weight=sample_weight, normalize=reduction == "mean", labels=labels
        )


@dataclass(frozen=True)
class SklearnCase:
    name: str
    loss: lk.Loss
    data: Data
    metric: Callable  # (y_true, y_pred, sample_weight, reduction) -> float
    reductions: tuple = ("mean",)

    def __str__(self):
        return self.name


def _rows_data(name, one_hot):
    d = class_id_data(name, shape=ROWS, probabilities=True)
    return d._replace(y_true=np.eye(ROWS[-1])[d.y_true]) if one_hot else d


def _regression_sklearn_data(name, n=VECTOR[0]):
    """1-D data with every |residual| >= 0.05, away from MAE's kink."""
    rng = rng_for(name)
    y_true = rng.normal(size=n)
    r = rng.choice([-1.0, 1.0], size=n) * rng.uniform(0.05, 2.0, size=n)
    return Data(y_true, y_true + r, example_weights(rng, n))


SKLEARN_CASES = [
    SklearnCase("mean_squared_error", lk.MSE(), _regression_sklearn_data("sk mse"),
                lambda t, p, w, r: metrics.mean_squared_error(t, p, sample_weight=w)),
    SklearnCase("mean_absolute_error", lk.MAE(), _regression_sklearn_data("sk mae"),
                lambda t, p, w, r: metrics.mean_absolute_error(t, p, sample_weight=w)),
    SklearnCase("root_mean_squared_error", lk.RMSE(), _regression_sklearn_data("sk rmse"),
                lambda t, p, w, r: metrics.root_mean_squared_error(t, p, sample_weight=w)),
    SklearnCase("mean_squared_log_error", lk.MSLE(), positive_data("sk msle", shape=VECTOR),
                lambda t, p, w, r: metrics.mean_squared_log_error(t, p, sample_weight=w)),
    SklearnCase("log_loss binary", lk.BinaryCrossEntropy(), hard_binary_data("sk log_loss"),
                lambda t, p, w, r: log_loss(t, p, w, r, labels=[0.0, 1.0]), ("mean", "sum")),
    SklearnCase("log_loss multiclass class ids", lk.SparseCategoricalCrossEntropy(), _rows_data("sk sparse", False),
                lambda t, p, w, r: log_loss(t, p, w, r, labels=list(range(ROWS[-1]))), ("mean", "sum")),
    SklearnCase("log_loss multiclass one-hot", lk.CategoricalCrossEntropy(), _rows_data("sk onehot", True),
                lambda t, p, w, r: log_loss(t.argmax(-1), p, w, r, labels=list(range(ROWS[-1]))), ("mean", "sum")),
    SklearnCase("hinge_loss", lk.Hinge(), margin_data("sk hinge"),
                lambda t, p, w, r: metrics.hinge_loss(t, p, sample_weight=w)),
]


@functools.lru_cache(maxsize=None)
def _sklearn_reference(case_name, dtype, weighted, reduction):
    """(value, FD gradient) of the sklearn metric at the float32/float64 inputs, cached across backends."""
    case = next(c for c in SKLEARN_CASES if c.name == case_name)
    ref = widen(cast(case.data, dtype))
    w = ref.weight if weighted else None

    def metric(y_pred):
        return case.metric(ref.y_true, y_pred, w, reduction)

    return np.float64(metric(ref.y_pred)), fd_gradient(metric, ref.y_pred)


@pytest.mark.parametrize("case", SKLEARN_CASES, ids=str)
def test_against_sklearn(backend, case):
    for dtype in DTYPES:
        for reduction in case.reductions:
            for weighted in (False, True):
                value, grad = _sklearn_reference(case.name, dtype, weighted, reduction)
                check(
                    backend, case.loss, case.data, lambda *_: (value, grad),
                    dtype=dtype, reduction=reduction, weighted=weighted, grad_rtol=FD_RTOL,
                    what=f"{case.loss.info.name} vs sklearn {case.name}",
                )


# --- SciPy references ---------------------------------------------------------------------------


def scipy_reference(losses_and_derivative, valid=None):
    """Reduce per-example SciPy losses by DESIGN.md §2 and chain their derivatives through it.

    Without weights every example weighs 1 (and "mean" is the mean over the counted examples).
    """

    def reference(y_true, y_pred, weight, reduction):
        losses, derivative = losses_and_derivative(y_true, y_pred)
        mask = np.ones(losses.shape) if valid is None else valid(y_true)
        w = np.broadcast_to(leading(np.ones(losses.shape[:1]) if weight is None else weight, losses.ndim), losses.shape)
        w = w * mask
        value = design_reduction(losses, w, reduction)
        scale = w if reduction != "mean" else w / w.sum()
        extra = derivative.ndim - losses.ndim
        return value, leading(scale, scale.ndim + extra) * derivative

    return reference


def kl_scipy(p, q):
    losses = sp.rel_entr(p, q).sum(-1)
    np.testing.assert_allclose(losses, (sp.xlogy(p, p) - sp.xlogy(p, q)).sum(-1), rtol=1e-14, atol=1e-15)
    return losses, np.where(p > 0, -p / q, 0.0)  # d/dq of p log(p/q)


def softmax_ce_scipy(smoothing=0.0):
    def f(y, z):
        y = y * (1.0 - smoothing) + smoothing / z.shape[-1]
        log_p = z - sp.logsumexp(z, axis=-1, keepdims=True)
        return -(y * log_p).sum(-1), sp.softmax(z, axis=-1) * y.sum(-1, keepdims=True) - y

    return f


def sparse_softmax_ce_scipy(smoothing=0.0):
    def f(ids, z):
        y = np.eye(z.shape[-1])[np.where(ids == IGNORE, 0, ids)]
        y = y * (1.0 - smoothing) + smoothing / z.shape[-1]
        lse = sp.logsumexp(z, axis=-1, keepdims=True)
        losses = (y * (lse - z)).sum(-1)
        return np.where(ids == IGNORE, 0.0, losses), sp.softmax(z, axis=-1) - y

    return f


def sigmoid_ce_scipy(pos_weight=1.0):
    def f(y, z):
        losses = -(pos_weight * y * sp.log_expit(z) + (1.0 - y) * sp.log_expit(-z))
        grad = (1.0 - y) * sp.expit(z) - pos_weight * y * sp.expit(-z)
        if pos_weight == 1.0:
            np.testing.assert_allclose(grad, sp.expit(z) - y, rtol=1e-14, atol=1e-15)
        return losses, grad

    return f


SCIPY_CASES = {
    "kl_divergence rel_entr": ((lk.KLDivergence(), scipy_reference(kl_scipy)),),
    "softmax_cross_entropy logsumexp": (
        (lk.SoftmaxCrossEntropy(), scipy_reference(softmax_ce_scipy())),
        (lk.SoftmaxCrossEntropy(label_smoothing=0.15), scipy_reference(softmax_ce_scipy(0.15))),
    ),
    "sparse_softmax_cross_entropy logsumexp": (
        (
            lk.SparseSoftmaxCrossEntropy(ignore_index=IGNORE),
            scipy_reference(sparse_softmax_ce_scipy(), valid=lambda ids: ids != IGNORE),
        ),
        (
            lk.SparseSoftmaxCrossEntropy(ignore_index=IGNORE, label_smoothing=0.25),
            scipy_reference(sparse_softmax_ce_scipy(0.25), valid=lambda ids: ids != IGNORE),
        ),
    ),
    "sigmoid_cross_entropy expit": (
        (lk.SigmoidCrossEntropy(), scipy_reference(sigmoid_ce_scipy())),
        (lk.SigmoidCrossEntropy(pos_weight=4.0), scipy_reference(sigmoid_ce_scipy(4.0))),
    ),
}
SCIPY_DATA = {
    "kl_divergence rel_entr": lambda: distribution_data("scipy kl"),
    "softmax_cross_entropy logsumexp": lambda: logits_soft_data("scipy softmax", shape=ROWS),
    "sparse_softmax_cross_entropy logsumexp": lambda: class_id_data("scipy sparse", ignored=4),
    "sigmoid_cross_entropy expit": lambda: soft_binary_data("scipy sigmoid", logits=True),
}


@pytest.mark.parametrize("name", list(SCIPY_CASES))
def test_against_scipy(backend, name):
    data = SCIPY_DATA[name]()
    for loss, reference in SCIPY_CASES[name]:
        for dtype, reduction, weighted in all_settings():
            check(
                backend, loss, data, reference, dtype=dtype, reduction=reduction, weighted=weighted,
                what=f"{loss!r} vs scipy {name}",
            )


# --- mpmath references --------------------------------------------------------------------------


def pseudo_huber_mp(delta):
    d = mpmath.mpf(delta)
    value = lambda r: d**2 * (mpmath.sqrt(1 + (r / d) ** 2) - 1)  # noqa: E731
    return value, lambda r: r / mpmath.sqrt(1 + (r / d) ** 2)


def log_cosh_mp():
    return lambda r: mpmath.log(mpmath.cosh(r)), mpmath.tanh


def mpmath_reference(value_fn, derivative_fn):
    """The loss, its reductions and its gradient at 50 significant digits, rounded once at the end."""

    def reference(y_true, y_pred, weight, reduction):
        with mpmath.workdps(50):
            r = [mpmath.mpf(float(p)) - mpmath.mpf(float(t)) for t, p in zip(y_true.ravel(), y_pred.ravel())]
            for x in r[:3]:  # the cited derivative is the derivative of the cited formula
                assert abs(mpmath.diff(value_fn, x) - derivative_fn(x)) <= mpmath.mpf(10) ** -30 * (1 + abs(x))
            ones = np.ones(y_pred.shape[:1]) if weight is None else weight
            w = [mpmath.mpf(float(x)) for x in np.broadcast_to(leading(ones, y_pred.ndim), y_pred.shape).ravel()]
            losses = [wi * value_fn(ri) for wi, ri in zip(w, r)]
            total, norm = mpmath.fsum(losses), mpmath.fsum(w)
            scale = [wi / norm for wi in w] if reduction == "mean" else w
            grad = [si * derivative_fn(ri) for si, ri in zip(scale, r)]
            as_array = lambda xs: np.array([float(x) for x in xs]).reshape(y_pred.shape)  # noqa: E731
            if reduction == "none":
                return as_array(losses), as_array(grad)
            return np.float64(float(total / norm if reduction == "mean" else total)), as_array(grad)

    return reference


def residual_data(name, shape=ELEMENTS):
    """Moderate residuals in [-4, 4] and a few tiny ones, where a naive formula would cancel."""
    rng = rng_for(name)
    y_true = rng.normal(size=shape)
    r = rng.uniform(-4.0, 4.0, size=shape)
    r.flat[:4] = (1e-9, -3e-7, 2e-4, -0.02)
    return Data(y_true, y_true + r, example_weights(rng, shape[0]))


MPMATH_CASES = {
    "pseudo_huber": [
        (lk.PseudoHuber(delta=d), mpmath_reference(*pseudo_huber_mp(d))) for d in (0.3, 1.0, 2.5)
    ],
    "log_cosh": [(lk.LogCosh(), mpmath_reference(*log_cosh_mp()))],
}


@pytest.mark.parametrize("name", list(MPMATH_CASES))
def test_against_mpmath(backend, name):
    data = residual_data("mpmath " + name)
    for loss, reference in MPMATH_CASES[name]:
        for dtype, reduction, weighted in all_settings():
            check(
                backend, loss, data, reference, dtype=dtype, reduction=reduction, weighted=weighted,
                relative=True, what=f"{loss!r} vs mpmath",
            )
