"""Loss specs written as text or as another library's config, read into losskit config dicts.

- ``"huber(delta=2)"``: the form the lab's ``--losses`` takes and its "To repeat it" line prints;
- Keras's ``{"class_name": "Huber", "config": {"delta": 2.0, ...}}`` (``keras.losses.serialize``).

Nothing is evaluated: values are read as booleans, None, integers, floats or plain strings.
"""

from __future__ import annotations

from .errors import InputError

#: Keras's reductions, in losskit's words.
KERAS_REDUCTIONS = {"sum_over_batch_size": "mean", "mean": "mean", "sum": "sum", "none": "none", None: "none"}
#: Keras config keys that say nothing about the loss itself.
KERAS_IGNORED = ("name", "dtype")
#: Keras hyperparameters at values that change nothing: dropped where the losskit loss lacks them.
KERAS_NEUTRAL = {"label_smoothing": 0.0, "axis": -1, "ignore_class": None}
#: Keras losses whose losskit namesake computes another number, and what to do instead.
KERAS_DIFFERENT = {
    "MeanAbsolutePercentageError": "Keras's MAPE is 100 times losskit's mape (scikit-learn's fraction) and floors "
    "|y_true| at 1e-7: use mape and multiply by 100",
    "CategoricalGeneralizedCrossEntropy": "Keras's CategoricalGeneralizedCrossEntropy takes probabilities; losskit's "
    "generalized_cross_entropy takes the logits (the softmax is inside it): drop the softmax and use "
    "generalized_cross_entropy(q=...)",
    "Tversky": "Keras's Tversky pools the whole batch (axis=None) and, in Keras 3.15, swaps alpha and beta against its "
    "documentation: use tversky(alpha=..., beta=...), one value per sample, alpha weighing false positives",
}


def split(text: str, at: str = ",") -> list[str]:
    """Split at commas (or ``at``) outside parentheses: ``"mse,huber(delta=1, reduction=sum)"`` -> two items.

    >>> split("mse, huber(delta=1, reduction=sum)")
    ['mse', 'huber(delta=1, reduction=sum)']
    """
    items, depth, current = [], 0, []
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == at and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def value(key: str, text: str):
    """A value as its text means it: a bool, None, an int, a float, a tuple of them, or the text itself.

    A ``reduction`` stays text: "none" is a reduction there, not Python's None.

    >>> value("delta", "2"), value("ignore_index", "none"), value("reduction", "none"), value("w", "(1, 0.5)")
    (2, None, 'none', (1, 0.5))
    """
    text = text.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if key == "reduction":
        return text
    if lowered in ("none", "null"):
        return None
    if text[:1] + text[-1:] in ("()", "[]"):  # a sequence of numbers, such as class_weight=(0.5, 2, 1)
        return tuple(value(key, item) for item in text[1:-1].split(",") if item.strip())
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse(text: str) -> dict:
    """``"huber(delta=2)"`` -> ``{"name": "huber", "delta": 2}``; a bare name -> ``{"name": name}``.

    >>> parse("sparse_softmax_cross_entropy(label_smoothing=0.1)")
    {'name': 'sparse_softmax_cross_entropy', 'label_smoothing': 0.1}

    Weighted terms joined by ``+`` are a weighted sum (``lk.compound``):

    >>> parse("0.5 dice + 0.5 binary_cross_entropy")
    {'name': 'weighted_sum', 'terms': [[0.5, {'name': 'dice'}], [0.5, {'name': 'binary_cross_entropy'}]]}
    """
    text = text.strip()
    terms = split(text, "+")
    if len(terms) > 1:
        return {"name": "weighted_sum", "terms": [_term(term, text) for term in terms]}
    name, paren, rest = text.partition("(")
    config = {"name": name.strip()}
    if paren:
        if not rest.endswith(")"):
            raise InputError(f"cannot read the loss {text!r}: expected NAME or NAME(key=value, ...).")
        for item in split(rest[:-1].replace(";", ",")):
            key, eq, given = item.partition("=")
            key = key.strip()
            if not eq or not key:
                raise InputError(f"cannot read {item!r} in {text!r}: expected key=value, for example huber(delta=2).")
            if key in config:
                raise InputError(f"cannot read {text!r}: {key} is given twice.")
            config[key] = value(key, given)
    if not config["name"]:
        raise InputError(f"cannot read the loss {text!r}: expected NAME or NAME(key=value, ...).")
    return config


def _term(term: str, text: str) -> list:
    """``"0.5 dice(smooth=0)"`` -> ``[0.5, {"name": "dice", "smooth": 0}]``; no number is a weight of 1."""
    weight, space, rest = term.partition(" ")
    try:
        return [float(weight), parse(rest)] if space and "(" not in weight else [1.0, parse(term)]
    except ValueError:
        return [1.0, parse(term)]


def from_keras(config: dict, twin_of, hyperparameters_of) -> dict:
    """A losskit config dict from Keras's ``{"class_name": ..., "config": {...}}``.

    ``from_logits=True`` picks the loss's twin on logits (``twin_of(name)``); Keras's reductions map
    to losskit's ("sum_over_batch_size" is "mean"); ``name`` and ``dtype`` are dropped, and so are
    neutral values of what the loss does not take (``hyperparameters_of(name)``), such as ``axis=-1``.
    """
    inner = config.get("config") or {}
    if not isinstance(config["class_name"], str) or not isinstance(inner, dict):
        raise InputError(f"get: a Keras config needs a class_name string and a config dict; got {config!r}.")
    if config["class_name"] in KERAS_DIFFERENT:
        raise InputError(f"get: {KERAS_DIFFERENT[config['class_name']]}.")
    out = {"name": config["class_name"]}
    if not inner.get("apply_class_balancing", True):  # Keras's focal losses ignore alpha without class balancing
        inner = {k: v for k, v in inner.items() if k != "alpha"}
    inner = {k: v for k, v in inner.items() if k != "apply_class_balancing"}
    for key, value in inner.items():
        if key in KERAS_IGNORED:
            continue
        if key == "reduction":
            if value not in KERAS_REDUCTIONS:
                raise InputError(f"get: Keras reduction must be one of {list(KERAS_REDUCTIONS)}; got {value!r}.")
            value = KERAS_REDUCTIONS[value]
        if key == "from_logits":
            if value:
                out["name"] = twin_of(out["name"])
            continue
        out[key] = value
    known = hyperparameters_of(out["name"])
    return {k: v for k, v in out.items() if k == "name" or k in known or KERAS_NEUTRAL.get(k, ...) != v}
