"""A Sphinx extension: a page per registered loss, and the index pages, written from the registry as the site builds.

Nothing here names a loss: a loss added to the registry (``lk.register``) gets its page at the next build. Each
page takes what ``lk.explain`` says of the loss (its formulas typeset by :mod:`plainmath`, its inputs, likelihood,
pairing, properties, hyperparameters, advice and references), its curves drawn by ``lk.plot`` and an example
computed on a sample of its own inputs, which the docs tests run as a doctest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

import losskit as lk
from losskit import plot, registry
from losskit._info import TAGS, TASKS
from losskit._samples import sample_inputs
from losskit.errors import InputError
from plainmath import to_latex

#: The folder of the generated pages, inside the documentation's source folder (not kept in git).
FOLDER = "losses"
#: Examples: this many examples of each input, with this many classes on an event axis.
EXAMPLE_ROWS, EXAMPLE_CLASSES = 3, 3
HESSIAN_WORDS = {
    "exact": "the exact diagonal of the Hessian",
    "fisher": "the Fisher information, the Hessian's expectation under the model",
    "approximate": "a positive stand-in where the true second derivative is 0 almost everywhere (as boosting needs)",
}


def setup(app):
    app.connect("builder-inited", generate)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


def generate(app) -> None:
    """Write every loss's page, its figure and the index pages into ``<source>/losses``."""
    write_pages(Path(app.srcdir) / FOLDER)


def write_pages(folder: Path) -> list[str]:
    """The pages of every registered loss and the index pages; the names of the losses."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "plots").mkdir(parents=True)
    names = lk.list_losses()
    for name in names:
        (folder / f"{name}.md").write_text(page(name, folder / "plots"), encoding="utf-8")
    (folder / "index.md").write_text(index(names), encoding="utf-8")
    (folder / "tags.md").write_text(by_tag(names), encoding="utf-8")
    return names


def page(name: str, plots: Path) -> str:
    """One loss's page, in MyST Markdown."""
    e = lk.explain(name)
    loss = registry.get(name)
    predictions = [spec for spec in e.inputs if spec["role"] == "prediction"]
    lines = [
        f"(loss-{name})=",
        f"# {name}",
        "",
        f"*{e.task}*" + "".join(f" · {{ref}}`{tag} <tag-{tag}>`" for tag in e.properties)
        + (f" · also called {', '.join(f'`{a}`' for a in e.aliases)}" if e.aliases else ""),
        "",
        e.summary,
        "",
        "## Definition",
        "",
        "The loss of one example:",
        "",
        _math(e.formula),
        "Its gradient" + (f" with respect to `{predictions[0]['name']}`:" if len(predictions) == 1 else ":"),
        "",
        _math(e.gradient),
    ]
    if e.hessian_kind is None:
        lines += [f"It has no diagonal Hessian: {e.hessian or 'the cost is not a sum of per-example losses'}.", ""]
    else:
        lines += [f"Its second derivative ({HESSIAN_WORDS[e.hessian_kind]}):", "", _math(e.hessian or "0")]
    lines += ["## Inputs", "", "| input | role | domain | space | output activation |", "|---|---|---|---|---|"]
    for spec in e.inputs:
        lines.append(f"| `{spec['name']}` | {spec['role']} | {spec['domain']} | {spec['space'] or ''} | "
                     f"{spec['activation'] or ''} |")  # fmt: skip
    lines += [
        "",
        "## Likelihood and pairing",
        "",
        f"- Likelihood: {e.likelihood or 'none: it is not the negative log-likelihood of a distribution'}.",
        f"- Predictions: {e.input_space}; pair them with the output activation **{e.activation}**.",
        f"- Targets: {e.target}.",
    ]
    if loss.info.twin:
        twin = loss.info.twin
        lines.append(f"- The same loss on the other side of its link: {{ref}}`{twin} <loss-{twin}>`.")
    lines += ["", "## Hyperparameters", ""]
    if e.hyperparameters:
        lines += ["| name | default |", "|---|---|"]
        lines += [f"| `{key}` | `{value!r}` |" for key, value in e.hyperparameters.items()]
    else:
        lines.append("None.")
    lines += ["", "## When to use it", "", e.use_when[:1].upper() + e.use_when[1:] + ".", "",
              "## When not to", "", e.avoid_when[:1].upper() + e.avoid_when[1:] + ".", ""]  # fmt: skip
    figure = _figure(name, plots)
    if figure:
        lines += ["## Curves", "", figure, ""]
    lines += ["## Example", "", "```python", *_example(name), "", "```", ""]  # the blank line ends the doctest
    lines += ["## The same loss elsewhere", "", *_elsewhere(e.peers), ""]
    lines += ["## References", ""]
    lines += [f"- {reference}" for reference in e.references] or ["None listed."]
    return "\n".join(lines) + "\n"


#: The migration pages, which say each library's own conventions (argument order, reduction, clipping).
MIGRATION = {"Keras": "keras", "PyTorch": "pytorch", "Optax": "optax", "scikit-learn": "scikit-learn"}


def _elsewhere(peers) -> list[str]:
    """A table of the loss's peers: the library (linked to its migration page), the name, how it differs."""
    if not peers:
        return [f"None of {', '.join(MIGRATION)} has this loss."]
    rows = ["| library | name | how it differs |", "|---|---|---|"]
    for peer in peers:
        page = MIGRATION.get(peer["library"])
        library = f"{{doc}}`{peer['library']} <../migration/{page}>`" if page else peer["library"]
        note = peer["note"].replace("|", "\\|") or "the same numbers"
        rows.append(f"| {library} | `{peer['name']}` | {note[:1].upper() + note[1:]}. |")
    return [*rows, "", "Beyond these, each library's own conventions apply (argument order, reduction, weights): "
            "see its migration page."]


def _math(text: str) -> str:
    return "\n".join(["```{math}", to_latex(text), "```", ""])


def _figure(name: str, plots: Path) -> str | None:
    """The loss of one example, its gradient and (where it has one) its Hessian, drawn by ``lk.plot``."""
    for panels in ({"hessian": True}, {"hessian": False}):
        try:
            fig = plot.plot_losses(name, **panels)
        except InputError:
            continue
        path = plots / f"{name}.svg"
        plot.save(fig, path)
        drawn = "value, gradient and Hessian" if panels["hessian"] else "value and gradient"
        return f"```{{image}} plots/{name}.svg\n:alt: {name}: {drawn} of one example\n```"
    return None


def _example(name: str) -> list[str]:
    """Doctest lines: the loss on a small sample of its own inputs, and its value."""
    loss = registry.get(name)
    arrays = sample_inputs(loss, np.random.default_rng(0), n=EXAMPLE_ROWS, classes=EXAMPLE_CLASSES)
    rounded = [np.round(a, 2) if a.dtype.kind == "f" else a for a in arrays]
    try:
        loss(*rounded)
    except InputError:  # rounding left a domain (a simplex row): show every digit
        rounded = list(arrays)
    names = [spec.name for spec in loss.info.inputs]
    lines = [">>> import numpy as np", ">>> import losskit as lk", ">>> np.set_printoptions(precision=4)"]
    shown = []
    for spec_name, array in zip(names, rounded):
        literal = np.array2string(array, separator=", ", precision=17, floatmode="unique", threshold=10**6)
        literal = " ".join(literal.split())
        dtype = "" if array.dtype.kind in "fb" else f", dtype=np.{array.dtype.name}"
        lines.append(f">>> {spec_name} = np.array({literal}{dtype})")
        shown.append(eval(f"np.array({literal}{dtype})", {"np": np}))  # what the reader's lines make
    call = f"lk.{name}" if callable(getattr(lk, name, None)) else f'lk.get("{name}")'
    lines.append(f">>> {call}({', '.join(names)})")
    with np.printoptions(precision=4):
        lines.append(repr(loss(*shown)))
    return lines


def index(names: list[str]) -> str:
    """The losses by task, each with its summary."""
    lines = ["(losses)=", "# The losses", "", f"Every loss of the registry, {len(names)} of them, by task; "
             "{ref}`by property <tags>`; the {doc}`explorer <../explorer>` draws them.", ""]  # fmt: skip
    for task in TASKS:
        here = [name for name in names if lk.get(name).info.task == task]
        if not here:
            continue
        lines += [f"## {task[:1].upper() + task[1:]}", "", "| loss | what it is |", "|---|---|"]
        lines += [f"| {{ref}}`{name} <loss-{name}>` | {lk.get(name).info.summary} |" for name in here]
        lines.append("")
    lines += ["```{toctree}", ":hidden:", "", "tags", *names, "```", ""]
    return "\n".join(lines)


def by_tag(names: list[str]) -> str:
    """The losses by property."""
    lines = ["(tags)=", "# The losses by property", ""]
    for tag, meaning in TAGS.items():
        here = [name for name in names if tag in lk.get(name).info.tags]
        lines += [f"(tag-{tag})=", f"## {tag}", "", meaning[:1].upper() + meaning[1:] + ".", ""]
        lines += [", ".join(f"{{ref}}`{name} <loss-{name}>`" for name in here) or "None yet.", ""]
    return "\n".join(lines)
