"""The models a lab trains: PyTorch modules with the losskit loss as the criterion, a NumPy fallback, or
gradient-boosted trees.

Every model offers the same small interface (:class:`TorchModel`, :class:`NumpyLinear`, :class:`BoostedTrees`;
``objective`` is the loss on the model's outputs, ``training.Objective``: called on ``(y, outputs)`` and,
for NumPy, with ``value_and_grad``):

- ``fingerprint()``: a hash of the current weights (equal weights, equal hash);
- ``step(objective, X, y)``: one optimiser step on a batch (a network returns the batch's cost);
- ``evaluate(objective, X, y)``: the cost on a whole set and the norm of its gradient with respect to the
  weights (a tree model's: to its outputs), without changing them;
- ``predict(X)``: the outputs as a NumPy array, ``(n,)`` for one output, ``(n, C)`` for C;
- ``full_batch``: whether ``step`` takes the whole training set once per epoch (after ``start(objective,
  X, y)``), rather than mini-batches.

The ``"cnn"`` model segments images: two 3x3 convolutions of ``hidden`` channels with ReLU and a 1x1
convolution to one logit per pixel, ``(n, H, W)`` (zero padding keeps the size). An ``mlp`` or
``linear`` model with ``n_out`` outputs also serves as an embedding network (retrieval).

Models end with a linear layer: values for regression, a score (logit or margin) for binary tasks,
C logits for C classes, and one more output per extra prediction of the loss (a log-variance beside
the mean). Weights start the same for every loss of a seed: PyTorch's default initialisation (uniform
in +-1/sqrt(fan_in)) drawn from a generator seeded with the seed alone; the outputs of extra
predictions are drawn after, from a generator of their own, so every loss shares the rest (and
``fingerprint`` hashes that shared part).

Optimisers: ``"adam"`` (Kingma and Ba, betas 0.9 and 0.999) and ``"sgd"`` (with momentum 0.9).

The tree models (``"xgboost"``, ``"lightgbm"``: :class:`BoostedTrees`) are gradient-boosted trees whose
objective is the loss (``losskit.boosting``): each epoch is one boosting round on the whole training set,
from the loss's best constant (``Loss.optimal_constant``), with the learning rate as the shrinkage.
"""

from __future__ import annotations

import hashlib
import importlib.util

import numpy as np

from .errors import LabError

TREE_MODELS = ("xgboost", "lightgbm")
#: The default learning rate (shrinkage) of the tree models, the networks' being the lab's DEFAULTS["lr"], and
#: their default epochs (boosting rounds), the networks' being the experiment's.
TREE_LR, TREE_EPOCHS = 0.1, 100
MODELS = ("linear", "mlp", "cnn", *TREE_MODELS)
OPTIMIZERS = ("adam", "sgd")
BACKENDS = ("auto", "torch", "numpy")
#: Momentum of the "sgd" optimiser.
SGD_MOMENTUM = 0.9
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def torch_available() -> bool:
    """Whether PyTorch can be imported."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str, model: str) -> str:
    """``"torch"`` or ``"numpy"``: what will train ``model``; LabError when that is impossible."""
    if model not in MODELS:
        raise LabError(f"unknown model {model!r}; the lab has: {', '.join(MODELS)}.")
    if backend not in BACKENDS:
        raise LabError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}.")
    if model in TREE_MODELS:
        if backend == "torch":
            raise LabError(f"the {model} model trains on NumPy arrays, its objective the losses' closed-form "
                           "gradients and Hessians: use --backend auto or numpy.")  # fmt: skip
        if importlib.util.find_spec(model) is None:
            raise LabError(f"the {model} model needs {model}: pip install 'losskit[boosting]'.")
        return "numpy"
    if backend == "auto":
        backend = "torch" if torch_available() else "numpy"
    if backend == "torch" and not torch_available():
        raise LabError("the torch backend needs PyTorch: pip install torch, or use the numpy backend (linear model).")
    if backend == "numpy" and model == "cnn":
        raise LabError("the cnn model trains on the torch backend (--backend torch or auto): pip install torch.")
    if backend == "numpy" and model != "linear":
        if torch_available():
            raise LabError(f"the numpy backend trains only the linear model; the {model} model trains on the torch "
                           "backend (--backend torch or auto), or use --model linear.")  # fmt: skip
        raise LabError(
            f"the {model} model needs PyTorch; without it only the linear model trains (on NumPy, through the "
            "losses' closed-form gradients): pip install torch, or use --model linear."
        )
    return backend


def check_optimizer(optimizer: str, lr: float) -> None:
    """LabError for an unknown optimiser or a learning rate that is not a positive number."""
    if optimizer not in OPTIMIZERS:
        raise LabError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}.")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float("inf"):
        raise LabError(f"the learning rate must be a number > 0; got {lr!r}.")


def build(backend: str, model: str, n_in: int, n_out: int, *, extra: int = 0, hidden: int, seed: int, optimizer: str,
          lr: float):  # fmt: skip
    """A fresh model with its optimiser; the weights depend only on ``seed`` (and the sizes).

    ``extra`` outputs follow the ``n_out`` shared ones (the extra predictions of a loss).
    """
    check_optimizer(optimizer, lr)
    if model in TREE_MODELS:
        return BoostedTrees(model, n_out + extra, seed=seed, lr=lr)
    if backend == "torch":
        return TorchModel(model, n_in, n_out, extra=extra, hidden=hidden, seed=seed, optimizer=optimizer, lr=lr)
    return NumpyLinear(n_in, n_out, extra=extra, seed=seed, optimizer=optimizer, lr=lr)


def _hash(arrays) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


# --- PyTorch -----------------------------------------------------------------------------------------


class TorchModel:
    """A ``torch.nn`` model (linear, one hidden ReLU layer, or a small CNN) and its ``torch.optim`` optimiser."""

    full_batch = False

    def __init__(self, kind: str, n_in: int, n_out: int, *, extra: int = 0, hidden: int, seed: int, optimizer: str,
                 lr: float):  # fmt: skip
        import torch
        from torch import nn

        self.torch = torch
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        if kind == "linear":
            self.module = nn.Linear(n_in, n_out)
        elif kind == "cnn":  # n_in channels in, n_out maps out, the image size kept
            self.module = nn.Sequential(
                nn.Conv2d(n_in, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(),
                nn.Conv2d(hidden, n_out, 1),
            )  # fmt: skip
        else:
            self.module = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))
        torch.random.set_rng_state(generator_state)
        self.shared = n_out
        if extra:
            self._add_outputs(extra, seed)
        params = list(self.module.parameters())
        if optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS)
        else:
            self.optimizer = torch.optim.SGD(params, lr=lr, momentum=SGD_MOMENTUM)

    def asarray(self, x):
        """Data as a tensor: float32 features and real targets, int64 class ids."""
        x = np.asarray(x)
        dtype = self.torch.int64 if x.dtype.kind in "iu" else self.torch.float32
        return self.torch.as_tensor(x, dtype=dtype)

    def take(self, x, rows: np.ndarray):
        return x[self.torch.from_numpy(rows)]

    def _add_outputs(self, extra: int, seed: int) -> None:
        """Widen the last layer by ``extra`` outputs drawn from their own generator; the others stay."""
        torch = self.torch
        last = self.module if isinstance(self.module, torch.nn.Linear) else self.module[-1]
        wider = torch.nn.Linear(last.in_features, last.out_features + extra)
        bound = 1.0 / last.in_features**0.5
        generator = torch.Generator().manual_seed(seed * 1000 + 3)
        with torch.no_grad():
            torch.nn.init.uniform_(wider.weight, -bound, bound, generator=generator)
            torch.nn.init.uniform_(wider.bias, -bound, bound, generator=generator)
            wider.weight[: last.out_features] = last.weight
            wider.bias[: last.out_features] = last.bias
        if isinstance(self.module, torch.nn.Linear):
            self.module = wider
        else:
            self.module[-1] = wider

    def fingerprint(self) -> str:
        params = [p.detach().numpy() for p in self.module.parameters()]
        params[-2:] = [params[-2][: self.shared], params[-1][: self.shared]]  # the extra outputs are not shared
        return _hash(params)

    def _forward(self, X):
        out = self.module(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def step(self, objective, X, y) -> float:
        self.module.train()
        self.optimizer.zero_grad(set_to_none=True)
        cost = objective(y, self._forward(X))
        cost.backward()
        self.optimizer.step()
        return float(cost.detach())

    def evaluate(self, objective, X, y) -> tuple[float, float]:
        self.module.eval()
        params = list(self.module.parameters())
        cost = objective(y, self._forward(X))
        grads = self.torch.autograd.grad(cost, params)
        norm = self.torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
        return float(cost.detach()), float(norm)

    def predict(self, X) -> np.ndarray:
        self.module.eval()
        with self.torch.no_grad():
            return self._forward(X).double().numpy()


# --- NumPy -------------------------------------------------------------------------------------------


class NumpyLinear:
    """A linear model ``X @ W + b`` trained with the loss's closed-form gradient and the chain rule.

    The gradient of the cost with respect to the outputs, ``g = loss.grad(y, X @ W + b)``, gives
    ``dW = X.T @ g`` and ``db = sum(g)``: logistic regression with ``sigmoid_cross_entropy``, a linear
    SVM with ``hinge``, softmax regression with ``sparse_softmax_cross_entropy``.
    """

    full_batch = False

    def __init__(self, n_in: int, n_out: int, *, extra: int = 0, seed: int, optimizer: str, lr: float):
        rng, extra_rng = np.random.default_rng(seed), np.random.default_rng([seed, 3])
        bound = 1.0 / np.sqrt(n_in)
        self.params = [rng.uniform(-bound, bound, size=(n_in, n_out)), rng.uniform(-bound, bound, size=n_out)]
        if extra:
            self.params = [
                np.concatenate([self.params[0], extra_rng.uniform(-bound, bound, size=(n_in, extra))], axis=1),
                np.concatenate([self.params[1], extra_rng.uniform(-bound, bound, size=extra)]),
            ]
        self.shared = n_out
        self.optimizer, self.lr, self.t = optimizer, lr, 0
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def asarray(self, x):
        x = np.asarray(x)
        return x.astype(np.int64) if x.dtype.kind in "iu" else x.astype(np.float64)

    def take(self, x, rows: np.ndarray):
        return x[rows]

    def fingerprint(self) -> str:
        return _hash([self.params[0][:, : self.shared], self.params[1][: self.shared]])

    def _forward(self, X):
        out = X @ self.params[0] + self.params[1]
        return out[:, 0] if out.shape[1] == 1 else out

    def _value_and_grads(self, objective, X, y):
        value, g = objective.value_and_grad(y, self._forward(X))
        g = np.asarray(g)
        g = g[:, None] if g.ndim == 1 else g
        return float(value), [X.T @ g, g.sum(axis=0)]

    def step(self, objective, X, y) -> float:
        value, grads = self._value_and_grads(objective, X, y)
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            if self.optimizer == "adam":
                b1, b2 = ADAM_BETAS
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * g * g
                m_hat, v_hat = m / (1 - b1**self.t), v / (1 - b2**self.t)
                p -= self.lr * m_hat / (np.sqrt(v_hat) + ADAM_EPS)
            else:
                m *= SGD_MOMENTUM
                m += g
                p -= self.lr * m
        return value

    def evaluate(self, objective, X, y) -> tuple[float, float]:
        value, grads = self._value_and_grads(objective, X, y)
        return value, float(np.sqrt(sum((g**2).sum() for g in grads)))

    def predict(self, X) -> np.ndarray:
        return np.asarray(self._forward(X), dtype=np.float64)


# --- gradient-boosted trees ----------------------------------------------------------------------------


class BoostedTrees:
    """Gradient-boosted trees (XGBoost or LightGBM) with the loss as their objective, one round per ``step``.

    ``start`` fixes the training set and the start score (the loss's best constant on the training
    targets); each ``step`` adds one tree per output, fitted to the loss's gradient and Hessian with respect
    to the margins of the training set (``boosting.Objective``, each library's multi-class Hessian factor
    included). Trees of depth ``DEPTH`` with an L2 penalty ``L2`` on the leaves (XGBoost's default, which
    damps the Newton steps of losses whose Hessian is clipped), shrunk by the learning rate; one thread.
    """

    #: The training loop calls ``step`` once per epoch on the whole training set.
    full_batch = True
    DEPTH, L2 = 4, 1.0

    def __init__(self, library: str, outputs: int, *, seed: int, lr: float):
        self.library, self.outputs, self.seed, self.lr = library, outputs, seed, lr
        self.booster, self.start_margin, self.rounds = None, np.zeros(outputs if outputs > 1 else ()), 0

    asarray = NumpyLinear.asarray

    def take(self, x, rows: np.ndarray):
        return x[rows]

    def fingerprint(self) -> str:
        """Nothing is drawn before training: the library, the seed and the settings, equal for every loss."""
        return _hash([np.array([TREE_MODELS.index(self.library), self.seed, self.DEPTH, self.L2, self.lr])])

    def start(self, objective, X, y) -> None:
        """Fix the training set and start from the loss's best constant on its targets."""
        from .. import boosting

        loss = objective.loss
        self.derivatives = boosting.Objective(loss, self.library)
        classes = self.outputs if loss.info.targets[0].kind == "class_index" else None
        self.start_margin = np.asarray(boosting.start_score(loss, y, num_class=classes), dtype=np.float64)
        self.X, self.y = np.asarray(X), y
        width = {} if self.outputs == 1 else ({"num_target": self.outputs} if self.library == "xgboost"
                                               else {"num_class": self.outputs})  # fmt: skip
        labels = np.zeros(len(self.X))  # the objective reads the targets it was given, not the data set's labels
        if self.library == "xgboost":
            import xgboost

            self.data = xgboost.DMatrix(self.X, label=labels, nthread=1)
            params = {"max_depth": self.DEPTH, "eta": self.lr, "lambda": self.L2, "nthread": 1, "seed": self.seed,
                      "base_score": self.start_margin.tolist(), "disable_default_eval_metric": 1, **width}  # fmt: skip
            self.booster = xgboost.Booster(params, [self.data])
        else:
            import lightgbm

            data = lightgbm.Dataset(self.X, labels, init_score=self._start(len(self.X)), params={"verbose": -1})
            params = {"objective": "none", "max_depth": self.DEPTH, "num_leaves": 2**self.DEPTH,
                      "learning_rate": self.lr, "lambda_l2": self.L2, "num_threads": 1, "seed": self.seed,
                      "deterministic": True, "verbose": -1, **width}  # fmt: skip
            self.booster = lightgbm.Booster(params, data)

    def _start(self, rows: int) -> np.ndarray:
        """The start score of ``rows`` rows."""
        return np.tile(self.start_margin, (rows,) + (1,) * self.start_margin.ndim)

    def _fit_round(self, raw, data):
        return self.derivatives.derivatives(self.y, raw)

    def step(self, objective, X, y) -> None:
        """One boosting round on the training set fixed by ``start`` (``X`` and ``y`` are that set)."""
        if self.library == "xgboost":
            self.booster.update(self.data, self.rounds, fobj=self._fit_round)
        else:
            self.booster.update(fobj=self._fit_round)
        self.rounds += 1

    def evaluate(self, objective, X, y) -> tuple[float, float]:
        """The cost and the norm of its gradient with respect to the outputs (a tree model has no weights)."""
        value, grad = objective.value_and_grad(y, self.predict(X))
        return float(value), float(np.sqrt(np.sum(np.asarray(grad, dtype=np.float64) ** 2)))

    def predict(self, X) -> np.ndarray:
        """The margins: the start score plus the trees, ``(n,)`` or ``(n, outputs)``."""
        X = np.asarray(X)
        if self.rounds == 0:
            return self._start(len(X))
        if self.library == "xgboost":
            import xgboost

            raw = self.booster.predict(xgboost.DMatrix(X, nthread=1), output_margin=True)
            return np.asarray(raw, dtype=np.float64).reshape((len(X), -1) if self.outputs > 1 else (len(X),))
        return np.asarray(self.booster.predict(X, raw_score=True), dtype=np.float64) + self.start_margin
