r"""PyTorch modules: ``lk.torch.<Name>Loss(...)`` for every registered loss, made from the registry.

``lk.torch.HuberLoss(delta=2.0)`` is an ``nn.Module`` whose ``forward(*arrays, sample_weight=None,
normalizer=None)`` is ``lk.huber(*arrays, delta=2.0, ...)``: the arrays in losskit's order (targets first,
``(y_true, y_pred)``: not ``torch.nn``'s ``(input, target)``), the closed-form backward, the checks of the
loss. Like ``torch.nn`` losses the modules print their settings, pickle, and hold no parameters; they
compile with ``torch.compile(fullgraph=True)`` (the value checks do not run while tracing).
"""

from __future__ import annotations

import torch

from .. import registry


class LossModule(torch.nn.Module):
    """The base of the generated modules: ``forward`` calls the losskit loss it was built with."""

    #: The losskit loss class (set on each generated subclass).
    loss_class: type

    def __init__(self, **hyperparameters):
        super().__init__()
        self.loss = self.loss_class(**hyperparameters)

    def forward(self, *arrays, sample_weight=None, normalizer=None):
        return self.loss(*arrays, sample_weight=sample_weight, normalizer=normalizer)

    def extra_repr(self) -> str:
        config = self.loss.config()
        return ", ".join(f"{name}={config[name]!r}" for name in self.loss.hyperparameters())


def _module(cls) -> type:
    name = f"{cls.__name__}Loss"
    doc = f"``{cls.info.name}`` as a PyTorch module: {cls.info.summary}\n\nSee ``losskit.{cls.__name__}``."
    return type(name, (LossModule,), {"loss_class": cls, "__doc__": doc, "__module__": __name__, "__qualname__": name})


#: Every registered loss's module, by class name (``HuberLoss``), in registry order.
MODULES = {module.__name__: module for module in (_module(registry.loss_class(n)) for n in registry.list_losses())}
globals().update(MODULES)

__all__ = ["LossModule", *MODULES]
