"""The registry, the metadata, the function and object forms, and configuration round trips."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import losskit as lk
from losskit._info import TAGS, TASKS
from losskit._samples import sample_inputs
from losskit._tour import tour
from losskit.losses import FAMILIES
from losskit.testing import C, with_examples

NAMES = lk.list_losses()

def configured(name):
    """A loss's class and every hyperparameter but the reduction, at its example where it declares one,
    to see them travel through config()."""
    loss = with_examples(lk.get(name))
    return type(loss), {p: v for p, v in loss.config().items() if p not in ("name", "reduction")}


def test_the_catalogue_is_registered_family_by_family():
    """Registered in the order of the family modules, each in the order of its classes: nothing else
    lists the losses."""
    classes = [value for module in FAMILIES for value in vars(module).values()
               if isinstance(value, type) and issubclass(value, lk.Loss) and "info" in vars(value)]  # fmt: skip
    assert NAMES == [cls.info.name for cls in classes]
    assert {cls.__module__ for cls in classes} == {module.__name__ for module in FAMILIES}
    assert {"mse", "pinball", "log_poisson_nll", "gaussian_nll", "triplet_margin", "dice", "nll"} <= set(NAMES)


@pytest.mark.parametrize("task", TASKS)
def test_list_losses_by_task(task):
    chosen = lk.list_losses(task=task)
    assert chosen and all(lk.get(n).info.task == task for n in chosen)
    assert sorted(sum((lk.list_losses(task=t) for t in TASKS), [])) == sorted(NAMES)


def test_list_losses_rejects_an_unknown_task():
    with pytest.raises(ValueError, match=r"task must be one of .*'regression'.*got 'regresion'"):
        lk.list_losses(task="regresion")


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_complete(name):
    info = lk.get(name).info
    assert info.name == name
    assert info.task in TASKS and set(info.tags) <= set(TAGS)
    for text in (info.target, info.activation, info.input_space, info.formula, info.gradient, info.summary):
        assert isinstance(text, str) and text.strip()
    assert info.references, "every loss cites where its definition comes from"
    if info.input_space == "probabilities" and info.task in ("binary", "multiclass") and info.likelihood:
        assert lk.get(info.twin).info.input_space == "logits"  # a likelihood of probabilities has its logit form


#: Where each library's names live.
PEER_MODULES = {"Keras": "keras.", "PyTorch": "torch.", "Optax": "optax.", "scikit-learn": "sklearn.",
                "XGBoost": "xgboost.", "kornia": "kornia.", "MONAI": "monai.", "statsmodels": "statsmodels."}


def test_every_peer_names_something_that_exists():
    """The same loss elsewhere (``info.peers``, on each loss's page): every name is imported from its library."""
    import importlib

    from losskit._info import LIBRARIES

    assert set(PEER_MODULES) == set(LIBRARIES)
    peers = [(name, peer) for name in NAMES for peer in lk.get(name).info.peers]
    assert len(peers) > 80 and {peer.library for _, peer in peers} == set(LIBRARIES)
    for name, peer in peers:
        assert peer.name.startswith(PEER_MODULES[peer.library]), (name, peer)
        module, _, attribute = peer.name.rpartition(".")
        assert hasattr(importlib.import_module(module), attribute), (name, peer)
        assert not peer.note.endswith(".") and peer.note == peer.note.strip(), (name, peer)


@pytest.mark.parametrize("tag", list(TAGS))
def test_list_losses_by_tag(tag):
    chosen = lk.list_losses(tag=tag)
    assert all(tag in lk.get(n).info.tags for n in chosen)
    assert tag == "redescending" or chosen  # no loss of the catalogue redescends yet
    assert set(lk.list_losses(task="regression", tag=tag)) == set(chosen) & set(lk.list_losses(task="regression"))


def test_list_losses_rejects_an_unknown_tag():
    with pytest.raises(lk.InputError, match=r"tag must be one of .*'convex'.*got 'smooth'"):
        lk.list_losses(tag="smooth")


@pytest.mark.parametrize("name", NAMES)
def test_every_spelling_finds_the_loss(name):
    cls = type(lk.get(name))
    for spelling in (name, name.upper(), name.replace("_", "-"), cls.__name__, *cls.info.aliases):
        assert type(lk.get(spelling)) is cls


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name):
    cls, hyper = configured(name)
    loss = cls(**hyper, reduction="sum")
    assert lk.get(loss.config()) == loss
    assert loss.config() == {"name": name, **hyper, "reduction": "sum"}
    assert lk.get(name, **hyper, reduction="sum") == loss
    assert lk.get(loss) is loss
    assert lk.get(loss, reduction="none") == cls(**hyper, reduction="none")
    assert eval(repr(loss), vars(lk)) == loss
    assert hash(lk.get(loss.config())) == hash(loss)
    assert loss != cls(**hyper)


@pytest.mark.parametrize("name", NAMES)
def test_function_form_is_the_object_form(name):
    cls, hyper = configured(name)
    function = getattr(lk, name)
    assert function.__doc__ == cls.__doc__
    parameters = inspect.signature(function).parameters
    names = [spec.name for spec in cls.info.inputs]
    assert list(parameters)[: len(names)] == names
    assert set(hyper) | {"sample_weight", "reduction", "normalizer"} <= set(parameters)
    arrays = sample_inputs(cls(**hyper), np.random.default_rng(0), classes=C)  # its inputs at those hyperparameters
    w = np.linspace(0.5, 1.5, len(arrays[0]))
    for reduction in ("mean", "none"):
        np.testing.assert_array_equal(
            function(*arrays, **hyper, sample_weight=w, reduction=reduction),
            cls(**hyper)(*arrays, sample_weight=w, reduction=reduction),
        )
    np.testing.assert_array_equal(cls(**hyper, reduction="sum")(*arrays), function(*arrays, **hyper, reduction="sum"))
    # the arrays may be named, as in the signature
    np.testing.assert_array_equal(function(**dict(zip(names, arrays)), **hyper), cls(**hyper)(*arrays))


@pytest.mark.parametrize("name", NAMES)
def test_docstrings_give_the_math_and_an_example(name):
    info = lk.get(name).info
    doc = type(lk.get(name)).__doc__
    assert f"Value of one example: ``{info.formula}``" in doc and f"Gradient: ``{info.gradient}``" in doc
    assert "Inputs\n------" in doc and "Parameters\n----------" in doc
    assert "Examples" in doc and "losskit as lk" in doc


def test_unknown_names_get_suggestions():
    with pytest.raises(ValueError, match=r"unknown loss 'hubber'\. Did you mean 'huber'"):
        lk.get("hubber")
    with pytest.raises(ValueError, match=r"unknown loss 'zzz'\. lk\.list_losses\(\) \(or: losskit list\) names them all"):
        lk.get("zzz")
    with pytest.raises(ValueError, match=r"config dict needs a 'name' key"):
        lk.get({"delta": 1.0})
    with pytest.raises(TypeError, match=r"expected a loss name, a config dict or a Loss; got int"):
        lk.get(3)


@pytest.mark.parametrize("name", [n for n in NAMES if lk.get(n).info.input_space == "probabilities" and lk.get(n).info.twin])
def test_from_logits_names_the_logits_loss(name):
    twin = lk.get(name).info.twin
    with pytest.raises(TypeError, match=rf"no from_logits argument.*use {twin} instead"):
        lk.get(name, from_logits=True)
    with pytest.raises(TypeError, match=rf"use {twin} instead"):
        getattr(lk, name)([1.0], [0.5], from_logits=False)


def test_from_logits_on_a_logits_loss_says_what_it_takes():
    with pytest.raises(TypeError, match=r"sigmoid_cross_entropy takes logits"):
        lk.SigmoidCrossEntropy(from_logits=True)


def test_unknown_keywords_are_refused():
    with pytest.raises(TypeError, match="delta"):
        lk.mse([1.0], [1.0], delta=2.0)


def test_validation_switch_restores_the_previous_setting():
    # Label 2 is outside hinge's domain; unchecked, the formula gives max(0, 1 - 2 * 1) = 0.
    with pytest.raises(ValueError, match="y_true"):
        lk.hinge([2.0], [1.0])
    assert lk.set_validation(False) is True
    try:
        assert float(lk.hinge([2.0], [1.0])) == 0.0
    finally:
        assert lk.set_validation(True) is False
    with lk.validation(False):
        assert float(lk.hinge([2.0], [1.0])) == 0.0
    with pytest.raises(ValueError, match="y_true"):
        lk.hinge([2.0], [1.0])


def test_the_tour_shows_every_loss():
    assert [row[0] for row in tour()] == list(NAMES)
