"""The documentation site: Sphinx with the PyData theme, MyST Markdown and a page per loss from the registry.

Build it with ``./dev.sh docs`` (into docs/_build/html). It needs no network: MathJax is served from the build
(sphinx-mathjax-offline) and the theme's assets are its own.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

import losskit  # noqa: E402

project = "losskit"
author = "the losskit developers"
copyright = "2026, the losskit developers"
release = version = losskit.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "losspages",
    "explorer",
    "sphinx_gallery.gen_gallery",
]
# The tutorials: scripts run at build time (sphinx-gallery), their output and figures in the pages.
sphinx_gallery_conf = {
    "examples_dirs": "tutorials",
    "gallery_dirs": "auto_tutorials",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
    "show_signature": False,
    "remove_config_comments": True,
    "capture_repr": (),
    "write_computation_times": False,  # its page loads jQuery from a CDN  # a cell's last value is not printed: its figures and prints are the output
}
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "tests", "README.md", "_static", "tutorials", "sg_execution_times.rst"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
numpydoc_show_class_members = False
autodoc_typehints = "none"  # the numpydoc sections give the types, in words
nitpicky = True
suppress_warnings = []

html_theme = "pydata_sphinx_theme"
html_title = "losskit"
html_static_path = ["_static"]
# Counts the errors a page meets, for the tests in a browser; loaded first, before the theme's scripts.
html_js_files = [("page-check.js", {"priority": 100})]
html_css_files = ["explorer.css"]
html_theme_options = {
    "navbar_end": ["theme-switcher"],
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_context = {"default_mode": "auto"}  # light or dark as the reader's system says
html_show_sourcelink = False
