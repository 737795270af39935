# IPython configuration of the kernels that execute the chapters while the book builds
# (book/_ext/rnnbook_figures.py copies it into the profile the build's kernels use).
# ruff: noqa: F821  (IPython defines `c`, the configuration, before running this file)

# Every figure is drawn twice: PNG for the HTML pages and the notebooks, PDF (vector) for the
# LaTeX build. A PDF carries no creation date, so two builds draw the same bytes; the PNG is
# drawn exactly as with IPython's default settings.
c.InlineBackend.figure_formats = {"png", "pdf"}
c.InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "metadata": {"CreationDate": None}}
