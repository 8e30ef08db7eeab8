"""One run: train one model with one loss on one seed's data, recording every epoch.

A :class:`RunSpec` holds everything a run needs (the data included) and nothing else, so it pickles:
:func:`train` can run it here, in a joblib worker, or on another machine. Everything that is not the
loss is the same for every loss of a seed: the data split, the initial weights (seeded by the seed
alone), the optimiser and its settings, and the order of the mini-batches.

Each epoch records, after its updates (epoch 0 is the untrained model):

- ``train_cost``: the loss on the whole training set (corrupted targets included), as trained on;
- ``val_cost``: the same loss on the clean validation set;
- the task metrics on the clean validation set (:mod:`losskit.lab.metrics`); with flipped labels, the
  share of them the model reproduces (``memorised``, where the experiment reports it);
- ``grad_norm``: the norm of the gradient of the training cost with respect to all the weights;
- ``wall_time``: seconds spent in optimisation steps so far (evaluation excluded).

A segmentation model emits a logit per pixel; a loss of probabilities (``dice``, ``tversky``,
``binary_cross_entropy``) gets its sigmoid, the output activation its prediction's domain declares,
and a loss of logits gets the logits. A retrieval model emits embeddings, L2-normalised before the
loss (:class:`EmbeddingObjective`): the pairs or triplets each embedding loss takes are drawn from the
class labels of the batch, with a generator of the seed, so every loss of a seed sees the same draws.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from contextlib import contextmanager, nullcontext

from .. import _xp, links, registry
from .._checks import validation
from . import metrics as lab_metrics
from . import models, predictive
from .datasets import Split, shown_rows
from ..errors import InputError
from .errors import LabError, need

#: Columns of a run's history besides the metrics, in order.
HISTORY_COLUMNS = ("epoch", "train_cost", "val_cost", "grad_norm", "wall_time")


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs: picklable, so a grid of them can go to joblib or to a cluster.

    Attributes
    ----------
    index : int
        Position in the grid (for progress reports).
    loss : dict
        The loss's config (``Loss.config()``), rebuilt with ``lk.get`` where the run executes.
    label : str
        The loss's display name.
    seed : int
    data : Split
    model, optimizer, backend : str
    hidden, batch_size, epochs : int
    lr : float
    threads : int or None
        Threads PyTorch may use inside the run (None leaves its setting alone).
    metrics : str or None
        The set of ``metrics.METRIC_SETS`` to record; the task's by default.
    """

    index: int
    loss: dict
    label: str
    seed: int
    data: Split
    model: str = "mlp"
    optimizer: str = "adam"
    backend: str = "torch"
    hidden: int = 64
    batch_size: int = 32
    epochs: int = 20
    lr: float = 0.01
    threads: int | None = 1
    metrics: str | None = None


@dataclass
class RunRecord:
    """What a run produced: its history per epoch, its final numbers and its validation outputs.

    Attributes
    ----------
    label, seed, loss : the run's loss (display name, config) and seed
    initial_weights : str
        A hash of the weights before training: equal across the losses of a seed.
    history : dict of lists
        ``HISTORY_COLUMNS`` and the metric keys, one entry per epoch (0 to ``epochs``).
    final : dict
        The last epoch's numbers; regression adds ``bias`` (mean prediction minus truth on the clean
        validation set, in the target's units).
    outputs : dict
        ``"val"``: the final validation outputs (regression: predictions in the target's units;
        binary: scores; multi-class: predicted class ids; segmentation: the predicted masks of the first
        ``SHOWN_IMAGES`` validation images); regression adds ``"train"``; a binary task on two features adds
        ``"grid"``, the scores over a grid of them; retrieval has ``"projection"`` instead, the validation
        embeddings on their first two principal components.
    diverged_at : int or None
        The epoch whose training cost was not finite, where training stopped (later epochs NaN).
    """

    index: int
    label: str
    seed: int
    loss: dict
    backend: str
    initial_weights: str
    history: dict
    final: dict
    outputs: dict = field(default_factory=dict)
    diverged_at: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Objective:
    """A loss on a model's outputs, read off its declared predictions.

    A loss with one prediction takes the model's output as it is. A regression loss with several
    predictions (a mean and a log-variance) takes one output column each: the model has that many
    outputs. The point prediction scored by the metrics is the first prediction through the inverse
    of its link (the rate of a log-rate, the mean of a Gaussian).
    """

    def __init__(self, loss, activation: str = "identity"):
        self.loss = loss
        self.count = len(loss.info.predictions)
        self.first = loss.info.predictions[0]
        quantile = getattr(loss, "quantile", None)
        #: A multi-quantile head's quantiles, one output each (empty otherwise).
        self.quantiles = quantile if isinstance(quantile, tuple) else ()
        #: What the outputs go through before the loss: "sigmoid" for a segmentation loss of probabilities.
        self.activation = links.activation(activation)

    def fixed_draws(self):
        """Nothing is drawn: a context that changes nothing (see :meth:`EmbeddingObjective.fixed_draws`)."""
        return nullcontext()

    @property
    def extra(self) -> int:
        """The model's outputs beyond the task's: one per extra prediction, one per extra quantile."""
        return self.count - 1 + max(len(self.quantiles) - 1, 0)

    def _split(self, out):
        if self.activation.name != "identity":
            xp, out = _xp.namespace_of(out)
            out = self.activation.apply(xp, out)
        return (out,) if self.count == 1 else tuple(out[:, k] for k in range(self.count))

    def __call__(self, y, out):
        return self.loss(y, *self._split(out))

    def value_and_grad(self, y, out):
        value, grads = self.loss.value_and_grad(y, *self._split(out))
        return value, (grads if self.count == 1 else np.stack(grads, axis=1))

    def point(self, out: np.ndarray) -> np.ndarray:
        """The point prediction of NumPy outputs (regression): the first prediction through its link, or
        a multi-quantile head's quantile nearest 0.5."""
        if self.quantiles:
            return np.asarray(out[:, int(np.argmin(np.abs(np.asarray(self.quantiles) - 0.5)))], dtype=np.float64)
        first = out if self.count == 1 else out[:, 0]
        return np.asarray(self.first.link.backward(np, np.asarray(first, dtype=np.float64)))


#: What an embedding loss takes, by the names of its predictions: the draws :class:`EmbeddingObjective` makes.
EMBEDDING_INPUTS = {
    ("anchor", "positive", "negative"): "triplets",  # triplet_margin
    ("x1", "x2"): "pairs",  # contrastive, cosine_embedding: y +1 for a pair of one class, -1 otherwise
    ("query", "key"): "views",  # info_nce: row i of each, two images of one class
    ("embeddings",): "labelled",  # ntxent: the batch and its labels
}


def embedding_inputs(loss) -> str | None:
    """What ``loss`` takes from a batch of embeddings (``EMBEDDING_INPUTS``); None if the lab cannot feed it."""
    return EMBEDDING_INPUTS.get(tuple(spec.name for spec in loss.info.predictions))


def partners(labels: np.ndarray, rng: np.random.Generator, *, same: bool) -> np.ndarray:
    """For each row, another row drawn at random with the same label (``same``) or another; -1 where none is.

    >>> partners(np.array([0, 0, 1]), np.random.default_rng(0), same=True).tolist()
    [1, 0, -1]
    """
    labels = np.asarray(labels)
    found = np.full(labels.size, -1, dtype=np.int64)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        pool = rows if same else np.flatnonzero(labels != label)
        if pool.size < (2 if same else 1):
            continue
        if same:  # any row of the class but itself
            pick = rng.integers(rows.size - 1, size=rows.size)
            found[rows] = rows[pick + (pick >= np.arange(rows.size))]
        else:
            found[rows] = pool[rng.integers(pool.size, size=rows.size)]
    return found


class EmbeddingObjective:
    """An embedding loss on a batch of embeddings and their class labels (PyTorch tensors).

    The embeddings are L2-normalised, then each row gets a positive (another row of its class) and a
    negative (a row of another class), drawn from a generator of the seed: ``triplet_margin`` takes
    (row, positive, negative); ``contrastive`` the pairs (row, positive) labelled +1 and (row, negative)
    labelled -1; ``info_nce`` the rows as queries and their positives as keys (the other keys of the
    batch are its negatives); ``ntxent`` the batch and its labels. Rows without a positive in the batch
    are left out. Costs on a whole set (:meth:`fixed_draws`) use draws that do not change between epochs.
    """

    count, quantiles, extra = 1, (), 0

    def __init__(self, loss, seed: int):
        self.loss = loss
        self.inputs = embedding_inputs(loss)
        if self.inputs is None:
            raise LabError(f"{loss.info.name}: the lab does not know how to draw its inputs from a batch of "
                           f"embeddings; it trains {', '.join(_trainable_embedding_losses())}.")  # fmt: skip
        self.seed = seed
        self.rng = np.random.default_rng([seed, 4])  # the draws of the training steps

    @contextmanager
    def fixed_draws(self):
        """Draw, within the block, from a generator that starts afresh: the same pairs at every epoch."""
        training = self.rng
        self.rng = np.random.default_rng([self.seed, 5])
        try:
            yield
        finally:
            self.rng = training

    def __call__(self, y, out):
        import torch

        out = torch.nn.functional.normalize(out, dim=1)
        labels = np.asarray(y.detach().cpu()) if hasattr(y, "detach") else np.asarray(y)
        if self.inputs == "labelled":
            return self.loss(torch.as_tensor(labels), out)
        positive = partners(labels, self.rng, same=True)
        negative = partners(labels, self.rng, same=False)
        rows = np.flatnonzero((positive >= 0) & (negative >= 0))
        if rows.size == 0:  # no two rows of one class in the batch: nothing to learn from it
            return out.sum() * 0.0
        anchor = out[torch.from_numpy(rows)]
        same, other = out[torch.from_numpy(positive[rows])], out[torch.from_numpy(negative[rows])]
        if self.inputs == "triplets":
            return self.loss(anchor, same, other)
        if self.inputs == "views":
            return self.loss(anchor, same)
        pair_labels = torch.cat([torch.ones(rows.size, dtype=out.dtype), -torch.ones(rows.size, dtype=out.dtype)])
        return self.loss(pair_labels, torch.cat([anchor, anchor]), torch.cat([same, other]))


def _trainable_embedding_losses() -> list[str]:
    """The embedding losses of the registry the lab can train (for messages)."""
    return [name for name in registry.list_losses(task="embedding") if embedding_inputs(registry.get(name))]


def objective_for(loss, task: str, seed: int):
    """The objective a model of ``task`` trains on: an :class:`EmbeddingObjective` for retrieval, else an
    :class:`Objective` (for segmentation, with its prediction's output activation)."""
    if task == "retrieval":
        return EmbeddingObjective(loss, seed)
    if task == "segmentation":
        return Objective(loss, activation=loss.info.predictions[0].domain.activation)
    return Objective(loss)


#: Validation images whose predicted masks a segmentation run keeps for the report (the first ones).
SHOWN_IMAGES = 6


def projection(embeddings: np.ndarray) -> np.ndarray:
    """The L2-normalised embeddings on their first two principal components (scikit-learn's PCA); NaN if not finite."""
    x = np.asarray(embeddings, dtype=np.float64)
    if not np.isfinite(x).all():
        return np.full((x.shape[0], 2), np.nan)
    decomposition = need("sklearn.decomposition", "the projection of the embeddings")
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return decomposition.PCA(n_components=2, random_state=0).fit_transform(x)


def _targets(spec: RunSpec, loss, y: np.ndarray) -> np.ndarray:
    """The targets as the loss takes them: one-hot rows for dense multi-class losses."""
    if spec.data.task == "multiclass" and loss.info.targets[0].kind != "class_index":
        return np.eye(spec.data.n_outputs, dtype=np.float32)[y]
    return y


#: Points per axis of the grid a two-feature model is evaluated on (the decision-boundary figure).
GRID = 60


def _grid_scores(model, X: np.ndarray) -> dict:
    """The model's scores on a GRID x GRID grid spanning the (standardised) training features, half a unit wider."""
    low, high = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    xs, ys = np.linspace(low[0], high[0], GRID), np.linspace(low[1], high[1], GRID)
    points = np.stack([a.reshape(-1) for a in np.meshgrid(xs, ys)], axis=1).astype(np.float32)
    scores = np.asarray(model.predict(model.asarray(points)), dtype=np.float64).reshape(GRID, GRID)
    return {"x": xs.tolist(), "y": ys.tolist(), "scores": scores.tolist()}


def train(spec: RunSpec, on_epoch=None) -> RunRecord:
    """Train one model with one loss; see the module docstring for what is recorded.

    Parameters
    ----------
    spec : RunSpec
    on_epoch : callable, optional
        Called as ``on_epoch(spec.index, epoch)`` after each epoch (progress bars).

    Returns
    -------
    RunRecord

    Raises
    ------
    LabError
        The loss refuses the data (a domain check), naming the loss.
    """
    previous_threads = None
    if spec.backend == "torch" and spec.threads:
        import torch

        previous_threads = torch.get_num_threads()
        torch.set_num_threads(spec.threads)
    try:
        return _train(spec, on_epoch)
    finally:
        if previous_threads is not None:
            import torch

            torch.set_num_threads(previous_threads)


def _train(spec: RunSpec, on_epoch) -> RunRecord:
    data, task = spec.data, spec.data.task
    loss = registry.get(spec.loss)
    objective = objective_for(loss, task, spec.seed)
    model = models.build(
        spec.backend, spec.model, data.X_train.shape[1], data.n_outputs, extra=objective.extra,
        hidden=spec.hidden, seed=spec.seed, optimizer=spec.optimizer, lr=spec.lr,
    )  # fmt: skip
    X_train, X_val = model.asarray(data.X_train), model.asarray(data.X_val)
    y_train = model.asarray(_targets(spec, loss, data.y_train))
    y_val = model.asarray(_targets(spec, loss, data.y_val))
    y_val_raw = data.to_raw(data.y_val) if task == "regression" else data.y_val
    keys = [m.key for m in lab_metrics.METRIC_SETS[spec.metrics or task]]
    spread = task == "regression" and any(key in ("coverage", "width", "nll") for key in keys)
    history = {key: [] for key in (*HISTORY_COLUMNS, *keys)}
    initial = model.fingerprint()
    rng = np.random.default_rng([spec.seed, 2])  # the batch order: the same for every loss of a seed
    n, size = data.X_train.shape[0], max(1, int(spec.batch_size))
    elapsed, diverged_at = 0.0, None

    def distribution(output) -> predictive.Predictive:
        residual_sd = 1.0
        if spread and objective.count == 1 and not objective.quantiles:  # a Gaussian around a point prediction
            residuals = objective.point(np.asarray(model.predict(X_train))) - data.y_train
            residual_sd = float(np.sqrt(np.mean(residuals**2)))
        return predictive.of(objective, output, data, residual_sd)

    def record(epoch: int) -> bool:
        with objective.fixed_draws():
            train_cost, grad_norm = model.evaluate(objective, X_train, y_train)
            output = model.predict(X_val)
            with validation(False):
                val_cost = float(objective(y_val, model.asarray(output)))
        predicted = None
        if task == "regression":
            predicted = distribution(output)
            output = predicted.point
        scores = lab_metrics.evaluate(task, y_val_raw, output, metrics=spec.metrics, predictive=predicted)
        if "memorised" in scores and data.corrupted.any():  # the flipped training labels the model reproduces
            flipped = np.asarray(model.predict(model.take(X_train, np.flatnonzero(data.corrupted))))
            multiclass = flipped.ndim == 2 and flipped.shape[1] > 1
            predicted = np.argmax(flipped, axis=1) if multiclass else flipped.reshape(-1) > 0  # logits, or scores
            scores["memorised"] = float(np.mean(predicted == data.y_train[data.corrupted]))
        for key, value in (("epoch", epoch), ("train_cost", train_cost), ("val_cost", val_cost),
                           ("grad_norm", grad_norm), ("wall_time", elapsed), *scores.items()):  # fmt: skip
            history[key].append(float(value) if key != "epoch" else epoch)
        if on_epoch is not None:
            on_epoch(spec.index, epoch)
        return bool(np.isfinite(train_cost))

    try:
        if model.full_batch:  # boosted trees: the training set and the start score, fixed once
            model.start(objective, X_train, y_train)
        record(0)  # with the loss's value checks on: bad targets fail here, with the loss's message
    except InputError as error:
        raise LabError(f"{spec.label} refuses this data: {error}") from None
    with validation(False):
        for epoch in range(1, spec.epochs + 1):
            order = rng.permutation(n)
            start = time.perf_counter()
            if model.full_batch:  # one boosting round on the whole training set
                model.step(objective, X_train, y_train)
            else:
                for begin in range(0, n, size):
                    rows = order[begin : begin + size]
                    model.step(objective, model.take(X_train, rows), model.take(y_train, rows))
            elapsed += time.perf_counter() - start
            if not record(epoch):
                diverged_at = epoch
                break
    for key, values in history.items():  # a diverged run: later epochs are NaN
        if key == "epoch":
            history[key] = list(range(spec.epochs + 1))
        else:
            values.extend([float("nan")] * (spec.epochs + 1 - len(values)))
    final = {key: values[-1] for key, values in history.items() if key != "epoch"}
    final["wall_time"] = elapsed  # the time spent, also when training stopped early
    output = model.predict(X_val)
    val_rows = shown_rows(len(data.y_val), spec.seed)  # the figures draw at most SHOWN_ROWS points
    outputs = {}
    if task == "regression":
        predictions = data.to_raw(objective.point(output))
        final["bias"] = float(np.mean(predictions - y_val_raw)) if diverged_at is None else float("nan")
        train_rows = shown_rows(len(data.y_train), spec.seed)
        train_predictions = data.to_raw(objective.point(model.predict(model.take(X_train, train_rows))))
        outputs = {"val": predictions[val_rows].tolist(), "train": train_predictions.tolist()}
        if spread:  # the interval, and the spread where the model predicts one, of the rows drawn
            predicted = distribution(output)
            outputs.update(low=predicted.low[val_rows].tolist(), high=predicted.high[val_rows].tolist())
            if predicted.sd is not None:
                outputs["sd"] = np.broadcast_to(predicted.sd, predictions.shape)[val_rows].tolist()
    elif task == "segmentation":  # the predicted masks of the first validation images
        outputs = {"val": (np.asarray(output)[:SHOWN_IMAGES] > 0).astype(np.int8).tolist()}
    elif task == "retrieval":  # the validation embeddings on two axes
        outputs = {"projection": projection(output)[val_rows].tolist()}
    elif task == "binary":
        outputs = {"val": np.asarray(output)[val_rows].tolist()}
        if data.X_train.shape[1] == 2:  # two features: the scores over a grid, for the decision boundary
            outputs["grid"] = _grid_scores(model, data.X_train)
    else:
        classes = np.argmax(output, axis=1)
        confusion = np.zeros((data.n_outputs, data.n_outputs), dtype=np.int64)
        np.add.at(confusion, (np.asarray(data.y_val), classes), 1)  # every validation row, not only those shown
        outputs = {"val": classes[val_rows].tolist(), "confusion": confusion.tolist()}
    return RunRecord(
        index=spec.index, label=spec.label, seed=spec.seed, loss=dict(spec.loss), backend=spec.backend,
        initial_weights=initial, history=history, final=final, outputs=outputs, diverged_at=diverged_at,
    )  # fmt: skip

