"""The lab's data: built-in experiments, the user's CSV file, and one seed's split, ready to train on.

A :class:`Source` is a whole table (features and raw targets). :func:`make_split` turns it into a
:class:`Split` for one seed: a train/validation split (stratified for classes), corruption of the
*training* targets only (gross outliers for regression, flipped labels for classification), features
standardised with the training statistics, and targets encoded for training. The validation set is
always clean, so the metrics measure how well each loss recovered the true relation.

Regression targets are centred on the training median and divided by the training robust standard
deviation (MAD / 0.6745), which the outliers barely move. Loss hyperparameters such as Huber's
``delta`` are therefore in robust standard deviations of the target; metrics are reported in the
target's own units. Targets stay as they are (``scale_targets=False``) when a compared loss takes
targets of a bounded domain: counts for a Poisson likelihood must stay counts.

Besides scikit-learn's bundled data sets, an experiment may use data another package ships
(statsmodels' RAND health insurance data) or generated data made from a fixed seed (``LOADERS``):
nothing is downloaded.

Two experiments go beyond tables (``IMAGE_TASKS``). ``segmentation`` learns masks of small shapes on
generated grey images (:func:`small_shapes`): a split holds images ``(n, 1, H, W)``, standardised with
the training pixels' mean and standard deviation, and float masks ``(n, H, W)``. ``retrieval`` learns
embeddings of the digits: its split is a multi-class one whose model emits ``EMBEDDING_SIZE`` numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..guide import MAD_TO_SIGMA
from .errors import LabError, need

#: The tasks the lab trains models for on tables (the user's data among them).
TASKS = ("regression", "binary", "multiclass")
#: Tasks of built-in experiments only: masks of generated images, embeddings of digits.
IMAGE_TASKS = ("segmentation", "retrieval")
#: Size of the embeddings the retrieval experiment learns.
EMBEDDING_SIZE = 16
#: Injected outliers are shifted up by this many standard deviations of the training targets.
OUTLIER_SHIFT = (5.0, 10.0)
#: Fewest rows a data set may have.
MIN_ROWS = 10
#: Rows of each seed's validation (and training) set whose predictions the figures draw, at most.
SHOWN_ROWS = 2000


def shown_rows(n: int, seed: int) -> np.ndarray:
    """The rows (sorted) the figures draw: all of ``n`` up to SHOWN_ROWS, else that many drawn at random.

    The same for every loss of a seed, so their figures show the same examples.
    """
    if n <= SHOWN_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 3]).choice(n, SHOWN_ROWS, replace=False))


@dataclass(frozen=True)
class Source:
    """A table to learn from: numeric features and raw targets.

    Attributes
    ----------
    name : str
        A short name for the report ("diabetes", or the file's name).
    task : str
        One of ``TASKS``.
    X : numpy.ndarray of float64, shape (n, d)
    y : numpy.ndarray, shape (n,)
        Real targets (regression) or class labels (numbers or strings).
        Segmentation: ``X`` holds images ``(n, H, W)`` and ``y`` their masks ``(n, H, W)``.
    feature_names : tuple of str
    description : str
        Where the data come from, in one sentence.
    target_name : str
    noise_sd : numpy.ndarray or None
        Generated data: the true standard deviation of each target's noise.
    """

    name: str
    task: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    description: str
    target_name: str = "target"
    noise_sd: np.ndarray | None = None


@dataclass(frozen=True)
class Split:
    """One seed's data, encoded for training (see the module docstring).

    Attributes
    ----------
    task : str
    X_train, X_val : numpy.ndarray of float32
        Standardised with the training mean and standard deviation.
    y_train, y_val : numpy.ndarray
        Regression: float64 in training units (centred, scaled); classification: int64 class ids.
        ``y_train`` holds the corrupted targets, ``y_val`` the clean ones.
    corrupted : numpy.ndarray of bool
        The training rows whose target was corrupted (outlier or flipped label).
    n_outputs : int
        Outputs of the model: 1 for regression and binary (a value, a score), C for C classes.
    center, scale : float
        Regression: ``raw = center + scale * training units``.
    classes : tuple
        Classification: the raw label of each class id.
    noise_sd_val : numpy.ndarray or None
        Generated data: the true noise standard deviation of each validation target, in its units.
    """

    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    corrupted: np.ndarray
    n_outputs: int
    center: float = 0.0
    scale: float = 1.0
    classes: tuple = field(default=())
    noise_sd_val: np.ndarray | None = None

    def to_raw(self, values):
        """Regression values in training units -> the target's own units."""
        return self.center + self.scale * np.asarray(values, dtype=np.float64)

    def describe(self) -> dict:
        """Sizes and encodings, for results.json."""
        out = {
            "train_rows": int(self.X_train.shape[0]),
            "validation_rows": int(self.X_val.shape[0]),
            "features": int(np.prod(self.X_train.shape[1:])),
            "corrupted_train_rows": int(self.corrupted.sum()),
        }
        if self.task == "segmentation":
            out.update(image_size=list(self.y_train.shape[1:]), foreground_share=float(self.y_train.mean()),
                       validation_foreground_share=float(self.y_val.mean()))  # fmt: skip
        elif self.task == "retrieval":
            out["embedding_size"] = int(self.n_outputs)
        if self.task == "regression":
            out.update(target_center=self.center, target_scale=self.scale)
        elif self.task != "segmentation":
            out["classes"] = [c.item() if isinstance(c, np.generic) else c for c in self.classes]
        return out


# --- built-in experiments --------------------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    """A built-in experiment: a data set that ships with scikit-learn, the losses to compare, defaults.

    Attributes
    ----------
    name, task, title : str
    losses : tuple
        The candidate losses (names or config dicts), in table order; the first is the baseline.
    epochs : int
        Default training epochs.
    outliers : float
        Default share of training targets turned into gross outliers (regression).
    label_noise : float
        Default share of training labels flipped to another class (classification).
    loader : str
        The ``sklearn.datasets`` function that loads the data (bundled, no download), or a name of
        ``LOADERS`` (data another package ships, or generated).
    metrics : str, optional
        The set of ``metrics.METRIC_SETS`` it reports; the task's by default.
    model : str, optional
        The model it trains by default ("linear" where the picture needs one, "cnn" for images); the lab's
        default otherwise.
    hidden : int, optional
        Hidden units (channels of the cnn) by default; the lab's default otherwise.
    """

    name: str
    task: str
    title: str
    losses: tuple
    epochs: int
    loader: str
    outliers: float = 0.0
    label_noise: float = 0.0
    metrics: str | None = None
    model: str | None = None
    hidden: int | None = None


#: Dice plus per-pixel binary cross-entropy, half each: a compound loss (``lk.compound``).
DICE_AND_CROSS_ENTROPY = {"name": "weighted_sum", "terms": ((0.5, "dice"), (0.5, "binary_cross_entropy"))}


def _imbalance_losses(pos_weight: float) -> tuple:
    """Cross-entropy, weighted by n_negative / n_positive, focal and asymmetric: the imbalance experiments' losses."""
    return ("sigmoid_cross_entropy", {"name": "sigmoid_cross_entropy", "pos_weight": pos_weight},
            {"name": "sigmoid_focal", "gamma": 2.0}, {"name": "asymmetric", "gamma_pos": 0.0, "gamma_neg": 4.0, "clip": 0.05})  # fmt: skip


EXPERIMENTS = {
    "outliers": Experiment(
        name="outliers",
        task="regression",
        title="Regression with gross outliers in the training targets",
        losses=("mse", "mae", "huber", "pseudo_huber", "log_cosh", "cauchy", "tukey_biweight",
                {"name": "general_robust", "alpha": 0.5}),
        epochs=40,
        loader="load_diabetes",
        outliers=0.1,
    ),
    "binary": Experiment(
        name="binary",
        task="binary",
        title="Binary classification: cross-entropy against margin losses",
        losses=("sigmoid_cross_entropy", "hinge", "squared_hinge"),
        epochs=20,
        loader="load_breast_cancer",
    ),
    "multiclass": Experiment(
        name="multiclass",
        task="multiclass",
        title="Multi-class classification: softmax cross-entropy with and without label smoothing",
        losses=(
            "sparse_softmax_cross_entropy",
            {"name": "sparse_softmax_cross_entropy", "label_smoothing": 0.1},
        ),
        epochs=15,
        loader="load_digits",
    ),
    "counts": Experiment(
        name="counts",
        task="regression",
        title="Counts of doctor visits: the Poisson and Tweedie likelihoods of a log-mean against squared error",
        losses=("mse", "log_poisson_nll", {"name": "log_tweedie_deviance", "power": 1.5}),
        epochs=10,
        loader="rand_health_insurance",
        metrics="counts",
    ),
    "quantiles": Experiment(
        name="quantiles",
        task="regression",
        title="Prediction intervals: three quantiles in one model against mse with a Gaussian interval",
        losses=({"name": "pinball", "quantile": (0.05, 0.5, 0.95)}, "mse"),
        epochs=40,
        loader="load_diabetes",
        metrics="intervals",
    ),
    "heteroscedastic": Experiment(
        name="heteroscedastic",
        task="regression",
        title="Noise that grows with a feature: a Gaussian with a predicted variance against mse",
        losses=("gaussian_nll_log_var", "mse", "laplace_nll"),
        epochs=40,
        loader="growing_noise",
        metrics="uncertainty",
    ),
    "imbalanced": Experiment(
        name="imbalanced",
        task="binary",
        title="Imbalanced classes (5% malignant): cross-entropy, weighted, focal and asymmetric",
        losses=_imbalance_losses(pos_weight=19.0),
        epochs=30,
        loader="rare_malignant",
        metrics="imbalanced",
    ),
    "imbalanced-digits": Experiment(
        name="imbalanced-digits",
        task="binary",
        title="Imbalanced classes (digit 0 against the rest, 10%): cross-entropy, weighted, focal and asymmetric",
        losses=_imbalance_losses(pos_weight=9.0),
        epochs=20,
        loader="zero_against_the_rest",
        metrics="imbalanced",
    ),
    "noisy-labels": Experiment(
        name="noisy-labels",
        task="multiclass",
        title="Noisy labels (20% of the training labels flipped): cross-entropy against noise-robust losses",
        losses=("sparse_softmax_cross_entropy", {"name": "sparse_softmax_cross_entropy", "label_smoothing": 0.1},
                {"name": "generalized_cross_entropy", "q": 0.7}, "poly1_softmax_cross_entropy"),
        epochs=40,
        loader="load_digits",
        label_noise=0.2,
        metrics="noisy",
    ),
    "margins": Experiment(
        name="margins",
        task="binary",
        title="Margin losses on a linear model: how each loss places the decision boundary",
        losses=("hinge", "squared_hinge", "soft_margin", "exponential", "modified_huber", "perceptron"),
        epochs=30,
        loader="two_clouds",
        model="linear",
    ),
    "segmentation": Experiment(
        name="segmentation",
        task="segmentation",
        title="Segmentation of small shapes (3% of the pixels): per-pixel cross-entropy against overlap losses",
        losses=("binary_cross_entropy", "dice", DICE_AND_CROSS_ENTROPY, {"name": "tversky", "alpha": 0.3, "beta": 0.7},
                "focal_tversky"),
        epochs=15,
        loader="small_shapes",
        model="cnn",
        hidden=16,
    ),
    "retrieval": Experiment(
        name="retrieval",
        task="retrieval",
        title="Retrieval of digits by their embeddings: triplet, contrastive and InfoNCE losses",
        losses=("triplet_margin", "contrastive", {"name": "info_nce", "temperature": 0.1}),
        epochs=20,
        loader="digits_by_class",
    ),
}
#: Other names accepted for the built-in experiments.
ALIASES = {"regression": "outliers", "default": "outliers", "multi-class": "multiclass", "classification": "binary",
           "imbalance": "imbalanced", "noisy": "noisy-labels", "label-noise": "noisy-labels", "margin": "margins",
           "shapes": "segmentation", "embedding": "retrieval", "embeddings": "retrieval"}  # fmt: skip
#: The experiment ``losskit lab`` runs when given nothing.
DEFAULT_EXPERIMENT = "outliers"


def experiment(name: str) -> Experiment:
    """The built-in experiment called ``name`` (or an alias); LabError naming them otherwise."""
    key = str(name).strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    if key not in EXPERIMENTS:
        raise LabError(
            f"unknown experiment {name!r}; the built-in experiments are: {', '.join(EXPERIMENTS)} "
            "(or give your own data with --data FILE.csv --target COLUMN)."
        )
    return EXPERIMENTS[key]


def rand_health_insurance() -> Source:
    """Doctor visits in the RAND Health Insurance Experiment: statsmodels' bundled ``randhie`` data.

    20,190 person-years; the target ``mdvis`` counts outpatient visits to a doctor (31% zeros, mean 2.9,
    variance 20: overdispersed), from the insurance plan (log coinsurance, deductible, participation
    incentive) and health (chronic diseases, physical limitation, self-rated health). Public domain.
    """
    randhie = need("statsmodels.datasets.randhie", "the RAND health insurance data (pip install statsmodels)")
    table = randhie.load().data
    features = [name for name in table.columns if name != "mdvis"]
    return Source(
        name="randhie", task="regression", X=table[features].to_numpy(dtype=np.float64),
        y=table["mdvis"].to_numpy(dtype=np.float64), feature_names=tuple(features),
        description=(f"the RAND Health Insurance Experiment ({len(table):,} rows, {len(features)} features: plan and "
                     "health), bundled with statsmodels; the target counts visits to a doctor in a year"),
        target_name="doctor visits",
    )  # fmt: skip


def growing_noise(n: int = 1000, seed: int = 20261129) -> Source:
    """Generated data whose noise grows with a feature: ``y = sin(2 x0) + x1 / 2 + sd(x0) e``.

    ``x0, x1, x2 ~ U(-1, 1)`` (x2 is noise), ``e ~ N(0, 1)`` and ``sd(x0) = 0.05 + 0.45 (x0 + 1)``: from
    0.05 to 0.95 across x0. A fixed seed: the same data every time; the true sd goes with it.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 3))
    sd = 0.05 + 0.45 * (X[:, 0] + 1.0)
    y = np.sin(2.0 * X[:, 0]) + 0.5 * X[:, 1] + sd * rng.normal(size=n)
    return Source(
        name="growing_noise", task="regression", X=X, y=y, feature_names=("x0", "x1", "x2"),
        description=(f"generated ({n} rows, 3 features): y = sin(2 x0) + x1 / 2 + Gaussian noise whose standard "
                     "deviation grows from 0.05 to 0.95 with x0; a fixed seed"),
        noise_sd=sd,
    )  # fmt: skip


def rare_malignant(share: float = 0.05, seed: int = 20261129) -> Source:
    """scikit-learn's breast cancer data with the malignant class cut to ``share`` of the rows.

    All 357 benign tumours and 19 of the 212 malignant ones (a fixed draw): 5% positive. Labels
    "benign" and "malignant", so malignant is class 1, the positive class.
    """
    datasets = need("sklearn.datasets", "its built-in data sets")
    bunch = datasets.load_breast_cancer()
    malignant = np.flatnonzero(bunch.target == 0)
    benign = np.flatnonzero(bunch.target == 1)
    kept = int(round(share * benign.size / (1.0 - share)))
    rows = np.sort(np.concatenate([benign, np.random.default_rng(seed).choice(malignant, kept, replace=False)]))
    return Source(
        name="rare_malignant", task="binary", X=np.asarray(bunch.data[rows], dtype=np.float64),
        y=np.asarray(bunch.target_names)[bunch.target[rows]], feature_names=tuple(bunch.feature_names),
        description=(f"scikit-learn's breast cancer data set with the malignant tumours cut to {kept} of {rows.size} "
                     f"rows ({kept / rows.size:.0%}, a fixed draw; {bunch.data.shape[1]} features), bundled with the "
                     "package"),
        target_name="diagnosis",
    )  # fmt: skip


def zero_against_the_rest() -> Source:
    """scikit-learn's digits, one against the rest: is the digit a 0? (178 of 1,797 rows, 10%)."""
    datasets = need("sklearn.datasets", "its built-in data sets")
    bunch = datasets.load_digits()
    y = np.where(bunch.target == 0, "zero", "other")  # "other" < "zero": the digit 0 is class 1
    return Source(
        name="digits_zero", task="binary", X=np.asarray(bunch.data, dtype=np.float64), y=y,
        feature_names=tuple(bunch.feature_names),
        description=(f"scikit-learn's digits data set ({y.size} rows, 64 pixel features), bundled with the package, "
                     f"as the digit 0 against the other nine ({np.mean(y == 'zero'):.0%} positive)"),
        target_name="digit 0",
    )  # fmt: skip


def two_clouds(n: int = 400, seed: int = 20261129) -> Source:
    """Generated 2-D data for drawing decision boundaries: two Gaussian clouds that overlap a little,
    with 3% of labels flipped (scikit-learn's ``make_classification``, a fixed seed)."""
    datasets = need("sklearn.datasets", "its data generators")
    X, y = datasets.make_classification(
        n_samples=n, n_features=2, n_informative=2, n_redundant=0, n_clusters_per_class=1, class_sep=1.2,
        flip_y=0.03, random_state=seed % (2**32),
    )  # fmt: skip
    return Source(
        name="two_clouds", task="binary", X=X, y=y, feature_names=("x0", "x1"),
        description=(f"generated ({n} rows, 2 features): two Gaussian clouds that overlap a little, 3% of the labels "
                     "flipped (scikit-learn's make_classification); a fixed seed"),
        target_name="class",
    )  # fmt: skip


#: Side of the generated square images, in pixels.
IMAGE_SIZE = 24


def small_shapes(n: int = 400, size: int = IMAGE_SIZE, noise: float = 0.6, seed: int = 20261129) -> Source:
    """Generated grey images with one or two small shapes each, and their masks (a fixed seed).

    Each shape is a disc (radius 1.5 to 2.6 pixels) or a square (side 3 or 4), placed at random at least
    3 pixels from the border; an image is its mask times a brightness drawn in [0.7, 1.3], plus Gaussian
    noise of standard deviation ``noise``. About 3% of the pixels are foreground: a single pixel is not
    enough to tell a shape from the noise, its neighbours are.

    Parameters
    ----------
    n : int
        Images.
    size : int
        Side of the images, in pixels (at least 8).
    noise : float
        Standard deviation of the pixel noise.
    seed : int
        Fixes every image: the same arguments give the same arrays.

    Returns
    -------
    Source
        ``X``: images ``(n, size, size)`` float64; ``y``: masks ``(n, size, size)`` of 0.0 and 1.0.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < MIN_ROWS:
        raise LabError(f"n must be a whole number >= {MIN_ROWS}; got {n!r}.")
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise LabError(f"size must be a whole number >= 8 (pixels); got {size!r}.")
    if not 0.0 <= float(noise) < float("inf"):
        raise LabError(f"noise must be a standard deviation >= 0; got {noise!r}.")
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    masks = np.zeros((n, size, size), dtype=bool)
    for mask in masks:
        for _ in range(rng.integers(1, 3)):
            cy, cx = rng.uniform(3.0, size - 3.0, size=2)
            if rng.random() < 0.5:
                radius = rng.uniform(1.5, 2.6)
                mask |= (rows - cy) ** 2 + (cols - cx) ** 2 <= radius * radius
            else:
                side = int(rng.integers(3, 5))
                top, left = int(cy) - side // 2, int(cx) - side // 2
                mask[top : top + side, left : left + side] = True
    brightness = rng.uniform(0.7, 1.3, size=(n, 1, 1))
    images = masks * brightness + rng.normal(0.0, float(noise), size=masks.shape)
    return Source(
        name="small_shapes", task="segmentation", X=images, y=masks.astype(np.float64),
        feature_names=("pixel",),
        description=(f"generated ({n} grey images of {size}x{size} pixels with one or two small discs or squares and "
                     f"Gaussian noise of sd {float(noise):g}; {masks.mean():.1%} of the pixels are foreground); a "
                     "fixed seed"),
        target_name="mask",
    )  # fmt: skip


def digits_by_class() -> Source:
    """scikit-learn's digits for retrieval: an image should find images of its own digit among its neighbours."""
    datasets = need("sklearn.datasets", "its built-in data sets")
    bunch = datasets.load_digits()
    return Source(
        name="digits", task="retrieval", X=np.asarray(bunch.data, dtype=np.float64), y=np.asarray(bunch.target),
        feature_names=tuple(bunch.feature_names),
        description=(f"scikit-learn's digits data set ({bunch.data.shape[0]} images of 8x8 pixels, 10 classes), "
                     f"bundled with the package, embedded in {EMBEDDING_SIZE} dimensions"),
        target_name="digit",
    )  # fmt: skip


#: Data sets that scikit-learn does not bundle as they are, by name: shipped by another package, or generated.
LOADERS = {"rand_health_insurance": rand_health_insurance, "growing_noise": growing_noise,
           "rare_malignant": rare_malignant, "zero_against_the_rest": zero_against_the_rest, "two_clouds": two_clouds,
           "small_shapes": small_shapes, "digits_by_class": digits_by_class}  # fmt: skip


def load_builtin(exp: Experiment) -> Source:
    """Load a built-in experiment's data set: scikit-learn's bundled files or a generator (no download)."""
    if exp.loader in LOADERS:
        return LOADERS[exp.loader]()
    datasets = need("sklearn.datasets", "its built-in data sets")
    bunch = getattr(datasets, exp.loader)()
    name = exp.loader.removeprefix("load_")
    rows, cols = bunch.data.shape
    classes = len(np.unique(bunch.target))
    what = {"regression": "real targets", "binary": "2 classes", "multiclass": f"{classes} classes"}
    target = bunch.target
    if exp.task != "regression" and getattr(bunch, "target_names", None) is not None:
        target = np.asarray(bunch.target_names)[bunch.target]
    return Source(
        name=name,
        task=exp.task,
        X=np.asarray(bunch.data, dtype=np.float64),
        y=np.asarray(target),
        feature_names=tuple(str(f) for f in getattr(bunch, "feature_names", [f"x{i}" for i in range(cols)])),
        description=(
            f"scikit-learn's {name} data set ({rows} rows, {cols} features, {what[exp.task]}), bundled with the package"
        ),
        target_name="target" if exp.task == "regression" else "class",
    )


# --- the user's data -------------------------------------------------------------------------------


def _lines(mask: np.ndarray, shown: int = 3, offset: int = 2) -> str:
    """The file's lines (the header is line 1; ``offset=0``: row numbers) of the rows a mask marks, a few of them."""
    lines = np.flatnonzero(mask) + offset
    text = ", ".join(str(line) for line in lines[:shown])
    return text + (", ..." if lines.size > shown else "")


def _first_text(column: np.ndarray) -> tuple[int, str]:
    """The position and content of the first cell of a text column that is not a number."""
    for row, cell in enumerate(column):
        try:
            float(cell or "nan")
        except ValueError:
            return row, str(cell)
    return 0, str(column[0])


def load_csv(path, target: str, task: str | None = None) -> Source:
    """Read the user's CSV file: every column but ``target`` is a numeric feature.

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file with a header row.
    target : str
        The column to predict.
    task : {"regression", "binary", "multiclass"}, optional
        Inferred from the target column by the guide (``losskit.infer_task``) when omitted.

    Returns
    -------
    Source

    Raises
    ------
    LabError or losskit.data.DataError
        The file or the column is missing, a feature is not numeric, a cell is empty or infinite, the
        target has a single value, or it does not fit ``task``.
    """
    from .. import data

    path = Path(path)
    table = data.read_csv(path)
    if target not in table:
        raise data.DataError(f"{path} has no column {target!r}; its columns are: {', '.join(table)}.")
    features = [name for name in table if name != target]
    if not features:
        raise LabError(f"{path} has no feature columns besides the target {target!r}.")
    for name in features:
        column = table[name]
        if column.dtype.kind not in "biuf":
            row, example = _first_text(column)
            raise LabError(
                f"feature column {name!r} of {path} is not numeric ({example!r} on line {row + 2}): the lab's "
                "models take numbers; encode it as numbers or drop the column."
            )
    X = np.stack([table[name] for name in features], axis=1).astype(np.float64)
    return from_arrays(X, table[target], task, name=path.name, target=target, features=tuple(features),
                       where=f" of {path}", lines=True)  # fmt: skip


def _bad_cells(values: np.ndarray) -> np.ndarray:
    """Empty, NaN or infinite cells (text: empty ones)."""
    if values.dtype.kind in "biuf":
        return ~np.isfinite(values.astype(np.float64))
    return np.asarray([not str(cell).strip() for cell in values.reshape(-1)]).reshape(values.shape)


def _positions(mask: np.ndarray, lines: bool) -> str:
    return f"lines {_lines(mask)}" if lines else f"rows {_lines(mask, offset=0)}"


def from_arrays(X, y, task: str | None = None, *, name: str = "arrays", target: str = "target", features=None,
                where: str = "", lines: bool = False) -> Source:  # fmt: skip
    """A :class:`Source` from a feature matrix and a target column (NumPy arrays, or pandas objects).

    Every cell must be a finite number (the target may hold labels); the task is inferred from ``y``
    by the guide when omitted, and counts are trained as regression.
    """
    X = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X)
    y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise LabError(f"X must be a table (rows, features) and y one column of the same rows; got X of shape "
                       f"{X.shape} and y of shape {y.shape}.")  # fmt: skip
    if X.dtype.kind not in "biuf":
        raise LabError(f"the features{where} must be numbers; got dtype {X.dtype}.")
    X = X.astype(np.float64)
    features = tuple(features) if features is not None else tuple(f"x{j}" for j in range(X.shape[1]))
    for j, feature in enumerate(features):
        bad = _bad_cells(X[:, j])
        if bad.any():
            raise LabError(
                f"feature column {feature!r}{where} has {int(bad.sum())} empty, NaN or infinite cell"
                f"{'s' if bad.sum() != 1 else ''} ({_positions(bad, lines)}): fill or drop them first."
            )
    bad = _bad_cells(y)
    if bad.any():
        raise LabError(
            f"target column {target!r}{where} has {int(bad.sum())} empty, NaN or infinite cell"
            f"{'s' if bad.sum() != 1 else ''} ({_positions(bad, lines)}): fill or drop those rows first."
        )
    if y.shape[0] < MIN_ROWS:
        raise LabError(f"{name} has {y.shape[0]} data rows; the lab needs at least {MIN_ROWS} to split and train.")
    distinct = np.unique(y)
    if distinct.size < 2:
        raise LabError(
            f"target column {target!r}{where} has a single value ({distinct[0].item()!r}): there is nothing to learn."
        )
    if task is None:
        from .. import guide

        task = guide.infer_task(y)
        task = "regression" if task == "count" else task  # counts: regression, where a Poisson loss may compete
        if task not in TASKS:
            raise LabError(f"target column {target!r} looks like a {task} target; the lab trains {', '.join(TASKS)}.")
    elif task not in TASKS:
        raise LabError(f"unknown task {task!r}; the lab trains: {', '.join(TASKS)}.")
    if task == "regression" and y.dtype.kind not in "biuf":
        raise LabError(
            f"target column {target!r} holds text; a regression target must be numbers (or use --task multiclass)."
        )
    if task == "binary" and distinct.size != 2:
        raise LabError(
            f"target column {target!r} has {distinct.size} distinct values; a binary target has exactly 2 "
            "(use --task multiclass or --task regression)."
        )
    if task != "regression":
        _, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            rare = distinct[counts < 2][0]
            raise LabError(
                f"class {rare.item()!r} of target column {target!r} has a single row; every class needs at least 2 "
                "(one for training, one for validation)."
            )
    return Source(
        name=name,
        task=task,
        X=X,
        y=y,
        feature_names=features,
        description=f"{name}: {X.shape[0]} rows, {X.shape[1]} numeric features, target column {target!r} ({task})",
        target_name=target,
    )


# --- one seed's split ------------------------------------------------------------------------------


def _share(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise LabError(f"{name} must be a share in [0, 1); got {value!r}.")
    return value


def make_split(
    source: Source, *, seed: int, val_fraction: float = 0.3, outliers: float = 0.0, label_noise: float = 0.0,
    scale_targets: bool = True,
) -> Split:
    """Split, corrupt the training targets, standardise and encode: one seed's data.

    Parameters
    ----------
    source : Source
    seed : int
        Fixes the split and the corruption.
    val_fraction : float in (0, 1)
        Share of the rows held out, clean, for validation.
    outliers : float in [0, 1)
        Regression: share of training targets shifted up by 5 to 10 standard deviations.
    label_noise : float in [0, 1)
        Classification: share of training labels replaced by another class, drawn uniformly.
    scale_targets : bool
        Regression: centre and scale the targets (see the module docstring); False keeps them as they are.

    Returns
    -------
    Split
    """
    model_selection = need("sklearn.model_selection", "splitting the data")
    if not 0.0 < float(val_fraction) < 1.0:
        raise LabError(f"the validation share must lie in (0, 1); got {val_fraction!r}.")
    outliers, label_noise = _share("--outliers", outliers), _share("--label-noise", label_noise)
    if source.task == "segmentation":
        if outliers or label_noise:
            raise LabError(f"{'--outliers' if outliers else '--label-noise'} corrupts the targets of a table; the "
                           "segmentation experiment's masks stay as generated.")  # fmt: skip
        return _image_split(source, seed=seed, val_fraction=float(val_fraction))
    if source.task == "retrieval":
        if outliers:
            raise LabError("--outliers shifts regression targets; the retrieval experiment has classes (use "
                           "--label-noise).")  # fmt: skip
        classes = replace(source, task="multiclass")
        split = make_split(classes, seed=seed, val_fraction=val_fraction, label_noise=label_noise)
        return replace(split, task="retrieval", n_outputs=EMBEDDING_SIZE)
    if outliers and source.task != "regression":
        raise LabError(
            f"outliers are injected into regression targets; this is a {source.task} task (use --label-noise)."
        )
    if label_noise and source.task == "regression":
        raise LabError("label noise flips class labels; this is a regression task (use --outliers).")
    classification = source.task != "regression"
    classes, ids = np.unique(source.y, return_inverse=True) if classification else ((), None)
    target = ids if classification else np.asarray(source.y, dtype=np.float64)
    rows = np.arange(source.X.shape[0])
    try:
        train, val = model_selection.train_test_split(
            rows, test_size=float(val_fraction), random_state=seed, stratify=target if classification else None
        )
    except ValueError as error:
        raise LabError(f"cannot split {source.name} for validation: {error}") from None
    rng = np.random.default_rng([seed, 1])
    y_train, y_val = target[train].copy(), target[val].copy()
    corrupted = np.zeros(train.size, dtype=bool)
    n_bad = int(round((outliers or label_noise) * train.size))
    if n_bad:
        corrupted[rng.choice(train.size, size=n_bad, replace=False)] = True
    if outliers and n_bad:
        spread = float(np.std(y_train)) or 1.0
        y_train[corrupted] += rng.uniform(*OUTLIER_SHIFT, size=n_bad) * spread
    if label_noise and n_bad:
        shift = rng.integers(1, len(classes), size=n_bad)  # another class, uniformly
        y_train[corrupted] = (y_train[corrupted] + shift) % len(classes)
    mean, std = source.X[train].mean(axis=0), source.X[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    X_train = ((source.X[train] - mean) / std).astype(np.float32)
    X_val = ((source.X[val] - mean) / std).astype(np.float32)
    if classification:
        return Split(
            task=source.task, X_train=X_train, y_train=y_train.astype(np.int64), X_val=X_val,
            y_val=y_val.astype(np.int64), corrupted=corrupted,
            n_outputs=1 if source.task == "binary" else len(classes), classes=tuple(classes),
        )  # fmt: skip
    center = float(np.median(y_train)) if scale_targets else 0.0
    scale = (float(np.median(np.abs(y_train - center))) * MAD_TO_SIGMA or float(np.std(y_train)) or 1.0
             if scale_targets else 1.0)  # fmt: skip
    return Split(
        task="regression", X_train=X_train, y_train=(y_train - center) / scale, X_val=X_val,
        y_val=(y_val - center) / scale, corrupted=corrupted, n_outputs=1, center=center, scale=scale,
        noise_sd_val=None if source.noise_sd is None else source.noise_sd[val],
    )  # fmt: skip


def _image_split(source: Source, *, seed: int, val_fraction: float) -> Split:
    """Segmentation: images held out at random (the seed), standardised with the training pixels, one channel."""
    order = np.random.default_rng([seed, 1]).permutation(source.X.shape[0])
    held_out = max(1, int(round(val_fraction * order.size)))
    val, train = np.sort(order[:held_out]), np.sort(order[held_out:])
    if train.size < 1:
        raise LabError(f"cannot split {source.name} for validation: no image is left for training.")
    mean, std = float(source.X[train].mean()), float(source.X[train].std()) or 1.0
    images = ((source.X - mean) / std).astype(np.float32)[:, None]
    masks = source.y.astype(np.float32)
    return Split(
        task="segmentation", X_train=images[train], y_train=masks[train], X_val=images[val], y_val=masks[val],
        corrupted=np.zeros(train.size, dtype=bool), n_outputs=1,
    )  # fmt: skip
