"""How the package hangs together: imports run one way, curated sets of names are registered names.

The import graph is read from the source (every ``import`` and ``from ... import``, module-level or
inside a function), so a lazy import that closes a circle counts as much as an eager one. Engines
and heavy submodules are reached by name (``losskit.engines.TABLE``, ``losskit._LAZY``): no edge.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import losskit as lk

PACKAGE = Path(lk.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _resolve(name: str, modules) -> str | None:
    """The losskit module an imported name lives in (a submodule, or the package that defines it)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # a submodule imported from its package is an edge to it, a name defined there one to the package
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                if target.split(".")[0] == "losskit":
                    resolved = _resolve(target, modules)
                    if resolved and resolved != name:
                        edges.add(resolved)
        graph[name] = edges
    return graph


def _cycle(graph):
    """A cycle of the graph as a list of modules, or None (depth-first search with colours)."""
    colour, stack = {}, []

    def visit(node):
        colour[node] = "grey"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == "losskit":
                continue  # the package itself only re-exports; its own imports are its edges
            if colour.get(nxt) == "grey":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in colour:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = "black"
        return None

    for node in sorted(graph):
        if node not in colour:
            found = visit(node)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_base_imports_no_engine_and_no_framework():
    graph = import_graph()
    seen, todo = set(), ["losskit._base"]
    while todo:  # everything the base reaches
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += [m for m in graph[module] if m != "losskit"]
    assert not any(m.startswith(("losskit.fast", "losskit.integrations")) for m in seen), sorted(seen)
    for module in seen:
        source = _modules()[module].read_text()
        assert not any(f"import {name}" in source for name in ("torch", "jax", "tensorflow", "keras")), module


def test_import_losskit_imports_no_framework():
    frameworks = "('torch', 'jax', 'tensorflow', 'keras', 'numba', 'matplotlib', 'sklearn')"
    code = f"import sys, losskit; print(sorted(m for m in {frameworks} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


# --- curated sets of names are registered names ----------------------------------------------------------


def _curated():
    from losskit import fast, guide, plot
    from losskit.fast import _impl
    from losskit.lab import datasets

    sets = {
        "the NumPy engine": set(_impl.IMPLS),
        "plot.DEFAULT_INFLUENCE_LOSSES": set(plot.DEFAULT_INFLUENCE_LOSSES),
        "the lab's experiments": {lk.get(spec).info.name for e in datasets.EXPERIMENTS.values() for spec in e.losses},
    }
    torch = pytest.importorskip("torch")
    del torch
    from losskit.integrations import autograd

    sets["the PyTorch engine (native)"] = set(autograd.NATIVE)
    sets["the PyTorch engine (via NumPy)"] = set(autograd.VIA_NUMPY)
    recommended = set()
    for task in guide.TASKS:
        rec = lk.recommend(task)
        recommended |= {rec.loss, *(a.loss for a in rec.alternatives)}
    sets["the guide's recommendations"] = recommended
    del fast
    return sets


def test_curated_sets_name_registered_losses():
    names = set(lk.list_losses())
    for what, chosen in _curated().items():
        assert chosen <= names, f"{what} names unregistered losses: {sorted(chosen - names)}"
