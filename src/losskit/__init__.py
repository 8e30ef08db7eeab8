"""losskit: the loss functions of deep learning, on NumPy, PyTorch, JAX and TensorFlow arrays.

>>> import losskit as lk
>>> float(lk.mse([1.0, 2.0], [1.5, 2.0]))
0.125
"""

from ._base import Loss
from ._checks import set_validation, validation
from ._info import LossInfo, Peer
from .engines import fast_path, get_fast_path, set_fast_path
from .errors import InputError, InputTypeError
from .losses import *  # noqa: F403  (the catalogue: classes and function forms)
from .losses import __all__ as _catalogue
from .guide import check_pairing, explain, infer_task, recommend
from .links import sparsemax
from .registry import get, list_losses, register

__version__ = "0.1.0"

__all__ = [
    "Loss", "LossInfo", "Peer", "InputError", "InputTypeError", "get", "list_losses", "register", "set_validation",
    "validation", "fast_path", "get_fast_path", "set_fast_path", "recommend", "explain", "check_pairing",
    "infer_task", "sparsemax", *_catalogue,
]  # fmt: skip

#: Submodules with heavier dependencies, imported on first use: ``lk.plot`` (matplotlib),
#: ``lk.lab`` (PyTorch, scikit-learn), ``lk.boosting``, ``lk.torch``, ``lk.jax`` and ``lk.keras`` (integrations),
#: ``lk.testing`` (the contract).
_LAZY = {
    "plot": ".plot", "lab": ".lab", "torch": ".integrations.torch", "jax": ".integrations.jax",
    "keras": ".integrations.keras", "data": ".data", "boosting": ".boosting", "distributed": ".distributed",
    "testing": ".testing", "fast": ".fast",
}  # fmt: skip


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name], __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'losskit' has no attribute {name!r}")
