r"""The registry's plain-text formulas as LaTeX, for the loss pages.

Every loss writes its value, gradient and Hessian once, in plain text (``LossInfo.formula`` and the others); the
pages show the same text typeset. Identifiers become math (``y_pred`` is ``y_{\text{pred}}``, ``delta`` is
``\delta``), known functions upright operators, ``a^(b)`` a superscript, ``sqrt(x)`` a root, and the words between
them (``if``, ``else``, ``at a zero residual``) upright text.

>>> print(to_latex("r^2 / 2 if |r| <= delta else delta (|r| - delta / 2), r = y_pred - y_true"))
r^{2} / 2\text{ if } |r| \le \delta\text{ else } \delta (|r| - \delta / 2), r = y_{\text{pred}} - y_{\text{true}}
>>> print(to_latex("(1 + (r / delta)^2)^(-3/2)"))
(1 + (r / \delta)^{2})^{-3/2}
>>> print(to_latex("sqrt(mean((y_pred - y_true)^2)), 0 at a zero residual"))
\sqrt{\operatorname{mean}((y_{\text{pred}} - y_{\text{true}})^{2})}, 0\text{ at a zero residual}
>>> print(to_latex("-sum_{c != j} w_c log_softmax(z)_c, t in {-1, +1}"))
-\sum_{c \ne j} w_{c} \operatorname{log\_softmax}(z)_{c}, t\text{ in } \{-1, +1\}
"""

from __future__ import annotations

import re

GREEK = {name: f"\\{name}" for name in (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "kappa", "lambda", "mu", "nu", "xi", "pi",
    "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
)} | {"eps": "\\epsilon"}  # fmt: skip
#: Functions LaTeX has an operator for.
OPERATORS = {"log", "exp", "max", "min", "tanh", "cosh", "cos", "sin", "sum", "arg"}
#: Other functions of the formulas, typeset upright.
FUNCTIONS = {
    "sign", "clip", "sigmoid", "softplus", "softmax", "log_softmax", "logsumexp", "log1p", "mean", "sparsemax",
    "onehot", "sim", "BCE", "KL", "cosh", "abs",
}  # fmt: skip
SYMBOLS = {"<=": "\\le", ">=": "\\ge", "!=": "\\ne", "||": "\\,\\|\\,", "*": "\\ast", "{": "\\{", "}": "\\}",
           "%": "\\%", "#": "\\#", "&": "\\&", "$": "\\$", "~": "\\sim", "_": "\\_"}  # fmt: skip

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>\d+(?:\.\d+)?(?:e-?\d+)?)"
    r"|(?P<word>[A-Za-z][A-Za-z0-9]*(?:_(?:\{[^{}]*\}|[A-Za-z0-9*]+))*(?:'s\b|')?)"
    r"|(?P<op><=|>=|!=|\|\||.)"
)


def to_latex(text: str) -> str:
    """A plain-text formula of the registry as LaTeX (math mode)."""
    tokens = [(match.lastgroup, match.group()) for match in _TOKEN.finditer(text)]
    out, _ = _sequence(tokens, 0, closing=None)
    return re.sub(r"\\text\{ *\}", " ", out).strip()


def _sequence(tokens, i: int, closing: str | None) -> tuple[str, int]:
    """Tokens from ``i`` up to the matching ``closing`` bracket (or the end), as LaTeX; and where it stopped."""
    parts: list[str] = []
    prose: list[str] = []  # a run of words and the spaces between them, typeset as one \text{...}

    def flush():
        if prose:
            words = "".join(prose)
            parts.append(f"\\text{{{words}}}" if words.strip() else " ")
            prose.clear()

    while i < len(tokens):
        kind, value = tokens[i]
        if closing is not None and value == closing:
            break
        if kind == "word" and (_is_prose(value) or (value == "a" and "".join(prose).strip())):  # "at a zero"
            if not prose and parts and parts[-1] == " ":
                parts.pop()
                prose.append(" ")
            prose.append(value.replace("'", "’"))
            i += 1
            continue
        if kind == "space":
            (prose if prose else parts).append(" ")
            i += 1
            continue
        if prose:
            trailing = prose[-1] == " "
            flush()
            if trailing:
                parts.append(" ")
        if value in ("^", "_"):  # a superscript, or a subscript after a bracket: log_softmax(z)_c
            argument, i = _argument(tokens, i + 1)
            parts.append(f"{value}{{{argument}}}")
        elif kind == "word" and value == "sqrt" and i + 1 < len(tokens) and tokens[i + 1][1] == "(":
            inner, i = _sequence(tokens, i + 2, ")")
            parts.append(f"\\sqrt{{{inner}}}")
            i += 1
        elif value == "(":
            inner, i = _sequence(tokens, i + 1, ")")
            parts.append(f"({inner})")
            i += 1
        elif value == "[":
            inner, i = _sequence(tokens, i + 1, "]")
            parts.append(f"[{inner}]")
            i += 1
        elif kind == "word":
            parts.append(_word(value))
            i += 1
        else:
            parts.append(SYMBOLS.get(value, value))
            i += 1
    if prose and prose[-1] == " ":
        prose.pop()
        flush()
        parts.append(" ")
    flush()
    return "".join(part for part in parts), i


def _argument(tokens, i: int) -> tuple[str, int]:
    """The argument of ``^`` or ``_``: a bracketed group (without its brackets), or one number or word."""
    if i < len(tokens) and tokens[i][1] in ("(", "{"):
        inner, i = _sequence(tokens, i + 1, ")" if tokens[i][1] == "(" else "}")
        return inner, i + 1
    if i < len(tokens):
        kind, value = tokens[i]
        return (_word(value) if kind == "word" else SYMBOLS.get(value, value)), i + 1
    return "", i


def _is_prose(word: str) -> bool:
    """A word of the surrounding text (``if``, ``clamped``, ``scale``), not a symbol or a function."""
    base = word.rstrip("'")
    head = base.split("_", 1)[0]
    return (
        "_" not in base and len(base) > 1 and base not in GREEK and base not in OPERATORS and base not in FUNCTIONS
        and not re.fullmatch(r"[A-Z]{2,3}|[A-Za-z]\d+", base) and head != "sqrt"
    )  # fmt: skip


def _word(word: str) -> str:
    """One identifier or function name as LaTeX."""
    if word.endswith("'s"):  # sigmoid_focal's
        return _word(word[:-2]) + "\\text{’s}"
    prime = "'" if word.endswith("'") else ""
    word = word.rstrip("'")
    if word in OPERATORS:
        return f"\\{word}" + prime
    if word in FUNCTIONS:
        return f"\\operatorname{{{_escape(word)}}}" + prime
    if word in GREEK:
        return GREEK[word] + prime
    if re.fullmatch(r"[A-Z]{2,3}", word):
        return f"\\mathrm{{{word}}}" + prime
    letters = re.fullmatch(r"([A-Za-z])(\d+)", word)
    if letters:  # x1: x with the subscript 1
        return f"{letters[1]}_{{{letters[2]}}}" + prime
    base, sep, sub = word.partition("_")
    if not sep:
        return word + prime
    if base in OPERATORS | FUNCTIONS and (sub.startswith("{") or len(sub) <= 2):  # sum_c, max_{j != y}
        operator = f"\\{base}" if base in OPERATORS else f"\\operatorname{{{_escape(base)}}}"
        return f"{operator}_{{{_subscript(sub)}}}" + prime
    if len(base) > 1 and base not in GREEK:  # a long name: pos_weight, class_weight_c
        name, _, index = word.rpartition("_")
        if len(index) == 1 and not name.endswith("_"):
            return f"\\mathrm{{{_escape(name)}}}_{{{index}}}" + prime
        return f"\\mathrm{{{_escape(word)}}}" + prime
    return f"{_word(base)}_{{{_subscript(sub)}}}" + prime


def _subscript(sub: str) -> str:
    if sub.startswith("{"):
        return to_latex(sub[1:-1])
    if len(sub) > 2 and sub.isalpha():  # y_pred, gamma_pos
        return f"\\text{{{sub}}}"
    return sub.replace("*", "\\ast")


def _escape(name: str) -> str:
    return name.replace("_", "\\_")
