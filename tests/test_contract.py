"""The contract (``losskit.testing``) on every registered loss, one test per loss and check.

The checks compare each loss with mathematical identities: finite differences, autodiff (PyTorch and
JAX), the reduction and weight laws of DESIGN.md section 2, the standard alone (array-api-strict),
and the promises of its metadata (tags, Hessian kind, twin, optimal constant). Independent reference
values are in test_references.py. The contract is also run on non-default hyperparameters, on a
loss written here (a user's own, with a mask input), and on broken losses, which it must refuse.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import losskit as lk
from losskit.inputs import mask, prediction, target
from losskit.testing import CHECKS, check_loss, run_check, with_examples

NAMES = lk.list_losses()

#: The losses with hyperparameters that change the formula, each set to its declared example.
CONFIGURED = [name for name in NAMES if with_examples(lk.get(name)) != lk.get(name)]
#: The checks that a hyperparameter can change.
CONFIGURED_CHECKS = ("gradient", "hessian", "reductions", "optimal_constant", "torch")


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("name", NAMES)
def test_contract(name, check):
    run_check(lk.get(name), check)


@pytest.mark.parametrize("check", CONFIGURED_CHECKS)
@pytest.mark.parametrize("name", CONFIGURED)
def test_contract_non_default(name, check):
    run_check(with_examples(lk.get(name)), check)


def test_every_hyperparameter_that_changes_the_formula_has_an_example():
    for name in NAMES:
        params = type(lk.get(name))._params
        missing = [p for p, param in params.items() if param.example is None and p not in ("reduction", "axis")]
        assert not missing, f"{name}: declare example= on {missing}"
    loss = with_examples(lk.SparseSoftmaxCrossEntropy())
    assert loss.config() == {"name": "sparse_softmax_cross_entropy", "axis": -1, "class_weight": (0.5, 2.0, 1.0),
                             "label_smoothing": 0.2, "ignore_index": 1, "reduction": "mean"}  # fmt: skip


def test_pos_weight_per_label_passes_the_contract():
    check_loss(lk.SigmoidCrossEntropy(pos_weight=[3.0]), backends=("numpy", "torch"))


@pytest.mark.parametrize("alpha", [2.0, 1.5, 0.5, 0.0, -2.0, -np.inf])
def test_the_tags_of_general_robust_follow_alpha(alpha):
    run_check(lk.GeneralRobust(alpha=alpha), "tags")


def test_a_multi_quantile_pinball_passes_the_contract():
    check_loss(lk.Pinball(quantile=(0.05, 0.5, 0.95)), backends=("numpy", "torch", "jax"))


# --- a user's own loss ----------------------------------------------------------------------------


class MaskedListSquaredError(lk.Loss):
    """Squared error averaged over the kept entries of each list: a loss with a mask input.

    Examples
    --------
    >>> MaskedListSquaredError()([[1.0, 2.0]], [[1.5, 0.0]], [[True, False]]).item()
    0.25
    """

    info = lk.LossInfo(
        name="masked_list_squared_error",
        task="regression",
        formula="sum_i m_i (y_pred_i - y_true_i)^2 / sum_i m_i over a list",
        gradient="2 m_i (y_pred_i - y_true_i) / sum_i m_i",
        hessian="2 m_i / sum_i m_i",
        variable="none",
        tags=("convex", "differentiable"),
        summary="A test loss: squared error over the kept entries of each list.",
        use_when="testing",
        avoid_when="anything else",
        references=("this test file",),
    )
    inputs = (target("y_true", event=1), prediction("y_pred", event=1), mask("keep", event=1))

    def _math(self, xp, order, y_true, y_pred, keep):
        m = xp.astype(keep, y_pred.dtype)
        count = xp.sum(m, axis=-1, keepdims=True)
        r = y_pred - y_true
        return xp.sum(m * r * r, axis=-1) / count[..., 0], 2.0 * m * r / count, 2.0 * m / count

    def _optimal_constant(self, targets, weight):
        y, keep = targets
        w = np.ones(y.shape[:-1]) if weight is None else weight
        shares = keep / keep.sum(axis=-1, keepdims=True)
        return np.asarray(np.sum(w[:, None] * shares * y) / w.sum())


def test_a_users_own_loss_with_a_mask_passes_the_contract():
    check_loss(MaskedListSquaredError())
    with pytest.raises(lk.InputError, match=r"keep must be a boolean mask; got dtype float64"):
        MaskedListSquaredError()([[1.0]], [[1.0]], [[1.0]])


# --- the contract refuses what is wrong -------------------------------------------------------------


def _broken(base, math=None, **info):
    namespace = {"info": replace(base.info, **info)}
    if math is not None:
        namespace["_math"] = math
    return type(f"Broken{base.__name__}", (base,), namespace)()


BROKEN = [
    ("a wrong gradient", _broken(lk.MSE, math=lambda s, xp, o, t, p: ((p - t) ** 2, 2.1 * (p - t), 2.0)), "gradient"),
    ("a wrong Hessian", _broken(lk.MSE, math=lambda s, xp, o, t, p: ((p - t) ** 2, 2 * (p - t), 3.0)), "hessian"),
    ("an exact Hessian that is a stand-in", _broken(lk.MAE, hessian_kind="exact"), "hessian"),
    ("MSE tagged robust", _broken(lk.MSE, tags=("convex", "differentiable", "robust")), "tags"),
    ("MSE not tagged convex", _broken(lk.MSE, tags=("differentiable",)), "tags"),
    ("MSE tagged bounded", _broken(lk.MSE, tags=("convex", "differentiable", "bounded")), "tags"),
    ("Huber not tagged robust", _broken(lk.Huber, tags=("convex", "differentiable")), "tags"),
    ("MAE tagged differentiable", _broken(lk.MAE, tags=("convex", "robust", "differentiable")), "tags"),
    ("MSLE tagged convex", _broken(lk.MSLE, tags=("differentiable", "convex")), "tags"),
    ("Gaussian NLL tagged convex", _broken(lk.GaussianNLL, tags=("convex", "proper_scoring_rule")), "tags"),
    ("triplet tagged convex", _broken(lk.TripletMargin, tags=("convex",)), "tags"),
    ("Dice not tagged bounded", _broken(lk.Dice, tags=("differentiable",)), "tags"),
    ("hinge tagged proper", _broken(lk.Hinge, tags=("convex", "proper_scoring_rule")), "tags"),
    ("BCE with the wrong twin", _broken(lk.BinaryCrossEntropy, twin="softmax_cross_entropy"), "twin"),
    ("no references", _broken(lk.MSE, references=()), "declaration"),
]


@pytest.mark.parametrize("what, loss, check", BROKEN, ids=[b[0] for b in BROKEN])
def test_the_contract_refuses_a_broken_loss(what, loss, check):
    with pytest.raises(AssertionError, match=check):
        run_check(loss, check)


def test_a_wrong_optimal_constant_is_refused():
    class OffCentre(lk.MSE):
        info = replace(lk.MSE.info, name="off_centre_mse")

        def _optimal_constant(self, targets, weight):
            return np.asarray(np.mean(targets[0]) + 0.5)

    with pytest.raises(AssertionError, match="lowers the cost"):
        run_check(OffCentre(), "optimal_constant")
