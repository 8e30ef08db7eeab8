"""The catalogue, one module per family. Importing it registers every loss, in this order."""

# isort: skip_file
from .regression import MAE, MSE, MSLE, RMSE, mae, mse, msle, rmse
from .robust import Huber, LogCosh, PseudoHuber, huber, log_cosh, pseudo_huber
from .binary import (
    BinaryCrossEntropy,
    Hinge,
    SigmoidCrossEntropy,
    SquaredHinge,
    binary_cross_entropy,
    hinge,
    sigmoid_cross_entropy,
    squared_hinge,
)
from .multiclass import (
    CategoricalCrossEntropy,
    SoftmaxCrossEntropy,
    SparseCategoricalCrossEntropy,
    SparseSoftmaxCrossEntropy,
    categorical_cross_entropy,
    softmax_cross_entropy,
    sparse_categorical_cross_entropy,
    sparse_softmax_cross_entropy,
)
from .divergence import KLDivergence, kl_divergence

__all__ = [
    "MSE",
    "mse",
    "MAE",
    "mae",
    "RMSE",
    "rmse",
    "MSLE",
    "msle",
    "Huber",
    "huber",
    "PseudoHuber",
    "pseudo_huber",
    "LogCosh",
    "log_cosh",
    "Hinge",
    "hinge",
    "SquaredHinge",
    "squared_hinge",
    "BinaryCrossEntropy",
    "binary_cross_entropy",
    "SigmoidCrossEntropy",
    "sigmoid_cross_entropy",
    "CategoricalCrossEntropy",
    "categorical_cross_entropy",
    "SoftmaxCrossEntropy",
    "softmax_cross_entropy",
    "SparseCategoricalCrossEntropy",
    "sparse_categorical_cross_entropy",
    "SparseSoftmaxCrossEntropy",
    "sparse_softmax_cross_entropy",
    "KLDivergence",
    "kl_divergence",
]
