"""The documentation site, built once from this checkout with warnings as errors (``./dev.sh docs-test``).

A temporary loss is registered before the build: its page must appear like every other loss's, without any
change to the generator. The pages' examples run as doctests, every internal link and anchor resolves, nothing is
loaded from the network, and headless Chromium typesets every formula without a MathJax error.
"""

from __future__ import annotations

import doctest
import html.parser
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from sphinx.cmd.build import build_main

import losskit as lk
from browser import console_messages, open_page
from losskit import registry
from losskit._base import Loss
from losskit._info import LossInfo

DOCS = Path(__file__).resolve().parents[1]


class QuarticTestLoss(Loss):
    """A loss that exists only while the docs tests build the site: ``(y_pred - y_true)^4``."""

    info = LossInfo(
        name="quartic_test_loss", task="regression", formula="(y_pred - y_true)^4", gradient="4 (y_pred - y_true)^3",
        hessian="12 (y_pred - y_true)^2", tags=("convex", "differentiable"),
        summary="A loss registered by the documentation tests, to show that a new loss gets its page.",
        use_when="testing the documentation", avoid_when="anything else",
    )  # fmt: skip

    def _math(self, xp, order, y_true, y_pred):
        r = y_pred - y_true
        return r**4, 4.0 * r**3, 12.0 * r**2


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The built site (html folder), with the temporary loss registered during the build and removed after."""
    registry.register(QuarticTestLoss)
    try:
        out = tmp_path_factory.mktemp("site")
        status = build_main(["-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)])
    finally:
        del registry._LOSSES["quartic_test_loss"]
        for key in [key for key, name in registry._NAMES.items() if name == "quartic_test_loss"]:
            del registry._NAMES[key]
    assert status == 0, "the site did not build with warnings as errors"
    return out


def test_every_registered_loss_has_a_page_and_a_new_one_appears(site):
    names = [*lk.list_losses(), "quartic_test_loss"]
    for name in names:
        page = site / "losses" / f"{name}.html"
        assert page.is_file(), name
        text = page.read_text(encoding="utf-8")
        assert f"<h1>{name}" in text and "Definition" in text and "Example" in text, name
        assert "The same loss elsewhere" in text, name
        for peer in (lk.get(name).info.peers if name != "quartic_test_loss" else ()):
            assert peer.name in text, (name, peer.name)
    new = (site / "losses" / "quartic_test_loss.html").read_text(encoding="utf-8")
    assert "A loss registered by the documentation tests" in new
    assert 'href="quartic_test_loss.html' in (site / "losses" / "index.html").read_text(encoding="utf-8")
    for tag in ("convex", "robust", "proper_scoring_rule"):
        assert f'id="tag-{tag.replace("_", "-")}"' in (site / "losses" / "tags.html").read_text(encoding="utf-8")


def test_every_example_runs(site):
    """The examples of the home page, of every loss's page and of the migration pages (against Keras, PyTorch, Optax
    and scikit-learn themselves), as doctests: each prints what the page shows."""
    pages = [DOCS / "index.md", *(DOCS / "losses" / f"{name}.md" for name in lk.list_losses()),
             *sorted((DOCS / "migration").glob("*.md"))]
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for page in pages:
        test = parser.get_doctest(page.read_text(encoding="utf-8"), {}, page.stem, str(page), 0)
        assert test.examples or page.stem == "index", page
        runner.run(test)
    summary = runner.summarize(verbose=False)
    assert summary.failed == 0 and summary.attempted > 3 * len(lk.list_losses())


def test_every_tutorial_ran_at_build_time(site):
    """Each script of docs/tutorials has its page, with the output of its run (a failing script fails the build)."""
    scripts = sorted((DOCS / "tutorials").glob("plot_*.py"))
    assert len(scripts) >= 6
    for script in scripts:
        page = (site / "auto_tutorials" / f"{script.stem}.html").read_text(encoding="utf-8")
        assert "sphx-glr-script-out" in page or "sphx-glr-single-img" in page, script.name
        assert "Traceback" not in page, script.name


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids, self.loaded = [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for key in ("src", "href"):
            if attrs.get(key) and (tag in ("script", "img") or (tag == "link" and key == "href")):
                self.loaded.append(attrs[key])


def _parsed(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_internal_links_and_anchors_resolve_and_nothing_comes_from_the_network(site):
    pages = {page: _parsed(page) for page in site.rglob("*.html")}
    broken = []
    for page, parsed in pages.items():
        for link in parsed.loaded:
            assert not urlsplit(link).scheme, f"{page.name} loads {link} from the network"
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("mailto:"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {link}")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parsed(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)} -> {link} (no such anchor)")
    assert broken == []


@pytest.mark.parametrize("page", ["index.html", "losses/huber.html", "losses/index.html", "explorer.html",
                                  "auto_tutorials/plot_2_outliers.html", "api.html", "migration/pytorch.html"])
def test_pages_open_in_headless_chromium_with_their_math_typeset(site, page, tmp_path):
    shown = open_page(site / page, tmp_path, "--dump-dom", budget_ms=20000)
    assert shown.returncode == 0, shown.stderr[-2000:]
    root = re.search(r"<html[^>]*>", shown.stdout).group(0)
    assert 'data-errors="0"' in root, root  # page-check.js: no script error, failed load, console error or warning
    assert not [line for line in console_messages(shown.stderr) if "Uncaught" in line]
    if page == "losses/huber.html":
        assert shown.stdout.count("<mjx-container") >= 3 and "<mjx-merror" not in shown.stdout


def test_every_formula_typesets_without_a_mathjax_error(site, tmp_path):
    """Every loss's formulas on one page, with the site's own MathJax: none is an error."""
    formulas = []
    for page in sorted((DOCS / "losses").glob("*.md")):
        formulas += re.findall(r"```\{math\}\n(.*?)\n```", page.read_text(encoding="utf-8"), re.S)
    assert len(formulas) >= 2 * len(lk.list_losses())
    formulas.append("\\frac{1}")  # a broken one, last: the check must catch it
    body = "".join(f'<p id="f{i}">\\[{formula}\\]</p>' for i, formula in enumerate(formulas))
    page = site / "_static" / "all-formulas.html"
    page.write_text(f'<!DOCTYPE html><html><head><script src="mathjax/tex-chtml.js"></script></head>'
                    f"<body>{body}</body></html>", encoding="utf-8")  # fmt: skip
    shown = open_page(page, tmp_path, "--dump-dom", budget_ms=20000)
    assert shown.stdout.count("<mjx-container") == len(formulas)
    errors = re.findall(r'<p id="f(\d+)">(?:(?!</p>).)*<mjx-merror', shown.stdout, re.S)
    assert [formulas[int(i)] for i in errors] == ["\\frac{1}"]


# --- the explorer ---------------------------------------------------------------------------------------------


def _explorer_data(site, name: str) -> dict:
    text = (site / "_static" / "explorer" / f"{name}.js").read_text(encoding="utf-8")
    return json.loads(text.split(" = ", 1)[1].rstrip().rstrip(";"))


def test_the_explorer_has_every_loss_with_a_curve_and_a_new_one(site):
    from losskit import plot

    text = (site / "_static" / "explorer" / "index.js").read_text(encoding="utf-8")
    listed = [entry["name"] for entry in json.loads(text.split(" = ", 1)[1].rstrip().rstrip(";"))]
    drawable = []
    for name in lk.list_losses():
        try:
            plot.axis_label(name)
        except lk.InputError:
            continue
        drawable.append(name)
    assert set(drawable) <= set(listed) and "quartic_test_loss" in listed and len(drawable) > 40


def test_the_explorers_curves_are_pytorchs_huber_loss_over_its_delta_grid(site):
    torch = pytest.importorskip("torch")
    data = _explorer_data(site, "huber")
    x = torch.tensor(data["x"], dtype=torch.float64, requires_grad=True)
    grid = data["params"]["delta"]
    assert grid["default"] == 1.0 and grid["values"][0] == pytest.approx(0.1) and grid["values"][-1] == 10.0
    for delta, curves in zip(grid["values"], grid["curves"]):
        value = torch.nn.functional.huber_loss(x, torch.zeros_like(x), reduction="none", delta=delta)
        (gradient,) = torch.autograd.grad(value.sum(), x)
        np.testing.assert_allclose(curves["value"], value.detach().numpy(), rtol=1e-4, atol=1e-12)
        np.testing.assert_allclose(curves["gradient"], gradient.numpy(), rtol=1e-4, atol=1e-12)


def test_the_fit_panel_is_the_mean_under_squared_error_and_the_median_under_absolute_error(site):
    mse, mae = _explorer_data(site, "mse")["fit"], _explorer_data(site, "mae")["fit"]
    points = np.asarray(mse["points"])
    assert sum(mse["outliers"]) == 3 and points[np.asarray(mse["outliers"])].min() > 5
    assert mse["base"]["theta"] == pytest.approx(points.mean(), rel=1e-4)
    np.testing.assert_allclose(mse["base"]["pull"], 2 * (points - points.mean()), rtol=1e-4, atol=1e-9)
    middle = np.sort(points)[9:11]  # any point between the two middle ones is a median of 20 points
    assert middle[0] - 1e-4 <= mae["base"]["theta"] <= middle[1] + 1e-4
    np.testing.assert_allclose(mae["base"]["pull"], -np.sign(mae["base"]["theta"] - points), atol=1e-9)


def test_moving_the_explorers_slider_redraws_the_curves(site, tmp_path):
    page = site / "explorer.html"
    moved = open_page(page, tmp_path, "--dump-dom", budget_ms=20000, hash="losses=huber,mse&autotest")
    root = dict(re.findall(r'data-([\w-]+)="([^"]*)"', re.search(r"<html[^>]*>", moved.stdout).group(0)))
    assert root["explorer"] == "ready" and root["errors"] == "0" and root["series"] == "2", root
    assert root["moved"] == "huber.delta=16" and root["digest-before"] != root["digest-after"]
    again = open_page(page, tmp_path, "--dump-dom", budget_ms=20000, hash="losses=huber,mse&huber.delta=16")
    shared = dict(re.findall(r'data-([\w-]+)="([^"]*)"', re.search(r"<html[^>]*>", again.stdout).group(0)))
    assert shared["digest"] == root["digest-after"]  # the address keeps the state: the same drawing
