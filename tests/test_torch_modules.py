"""lk.torch.<Name>Loss: a PyTorch module per registered loss, the same numbers as the loss itself."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import losskit as lk  # noqa: E402
from losskit._samples import sample_inputs  # noqa: E402


@pytest.mark.parametrize("name", lk.list_losses())
def test_every_loss_has_a_module_with_its_numbers_that_prints_and_pickles(name):
    cls = type(lk.get(name))
    module = getattr(lk.torch, f"{cls.__name__}Loss")
    assert isinstance(module(), torch.nn.Module) and module.loss_class is cls and not list(module().parameters())
    loss = lk.testing.with_examples(cls())
    hyperparameters = {k: v for k, v in loss.config().items() if k != "name"}
    built = module(**hyperparameters)
    assert repr(built) == f"{module.__name__}({', '.join(f'{k}={v!r}' for k, v in hyperparameters.items())})"
    arrays = [torch.from_numpy(a) for a in sample_inputs(loss, np.random.default_rng(0), classes=3)]  # the examples' 3 classes
    w = torch.linspace(0.5, 1.5, len(arrays[0]), dtype=torch.float64)
    for copy in (built, pickle.loads(pickle.dumps(built))):
        assert torch.equal(copy(*arrays, sample_weight=w), loss(*arrays, sample_weight=w))


def test_a_module_trains_a_layer_like_a_torch_nn_loss():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 3, generator=g), torch.randint(0, 4, (64,), generator=g)
    layer = torch.nn.Linear(3, 4)
    criterion = lk.torch.SparseSoftmaxCrossEntropyLoss(label_smoothing=0.1)
    reference = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    value = criterion(y, layer(x))  # losskit's order: the targets first
    torch.testing.assert_close(value, reference(layer(x), y), rtol=1e-6, atol=0)
    value.backward()
    ours = layer.weight.grad.clone()
    layer.zero_grad()
    reference(layer(x), y).backward()
    torch.testing.assert_close(ours, layer.weight.grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("module", [lk.torch.HuberLoss(delta=0.5), lk.torch.SparseSoftmaxCrossEntropyLoss()])
def test_modules_compile_whole_and_once_for_every_batch_size(module):
    from torch._dynamo.testing import CompileCounter

    torch._dynamo.reset()
    counter = CompileCounter()
    compiled = torch.compile(module, backend=counter, fullgraph=True)
    g = torch.Generator().manual_seed(1)
    for rows in (8, 16, 24, 40):
        if isinstance(module, lk.torch.HuberLoss):
            y, p = torch.randn(rows, generator=g), torch.randn(rows, generator=g)
        else:
            y, p = torch.randint(0, 5, (rows,), generator=g), torch.randn(rows, 5, generator=g)
        torch.testing.assert_close(compiled(y, p), module(y, p), rtol=1e-6, atol=1e-7)
    # one graph for the first size, one with a dynamic batch axis for every other: no compilation per batch size
    assert counter.frame_count <= 2


def test_a_module_under_bfloat16_autocast():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(32, 8, generator=g), torch.randint(0, 6, (32,), generator=g)
    layer = torch.nn.Linear(8, 6)
    criterion = lk.torch.SparseSoftmaxCrossEntropyLoss()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = layer(x)
        value = criterion(y, logits)
    assert logits.dtype == value.dtype == torch.bfloat16  # computed in float32, returned in the logits' dtype
    value.backward()
    assert torch.isfinite(layer.weight.grad).all()
    exact = torch.nn.functional.cross_entropy(logits.float(), y)
    torch.testing.assert_close(value.float(), exact, rtol=1e-2, atol=0)
