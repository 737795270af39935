"""What the book says about itself: version, edition date, repository, public URL.

Shared by the book's local Sphinx extensions (``rnnbook_cite``, ``rnnbook_notebooks``,
``rnnbook_exercises``), with the chapters' numbers and a way to keep pages that list every
chapter up to date. Every value has exactly one source, so nothing is typed twice:

- title and authors: ``CITATION.cff`` (the file GitHub and reference managers read);
- version: ``pyproject.toml`` (``[project] version``);
- edition date: ``SOURCE_DATE_EPOCH`` if set (reproducible-builds convention), else the date of
  the last git commit when the book root is a git checkout, else the newest modification time of
  the book's sources. Never the wall clock, so two builds of the same sources are byte-identical;
- repository: ``[project.urls] Repository`` in ``pyproject.toml``, else, inside GitHub Actions,
  ``$GITHUB_SERVER_URL/$GITHUB_REPOSITORY``. With neither, launch links and URLs are left out;
- public URL of the HTML: ``html.baseurl`` in ``_config.yml``, else the GitHub Pages address of
  the repository;
- edition: ``full`` (the default) or ``student`` (without solutions), from the environment
  variable ``RNNBOOK_EDITION`` or the config value ``rnnbook_edition_name`` (``rnnbook_editions``).
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

#: The environment variable that chooses the edition, and the editions it may name.
EDITION_VARIABLE = "RNNBOOK_EDITION"
EDITIONS = ("full", "student")

#: Sources whose newest modification time dates the edition when there is no git history.
SOURCE_GLOBS = ("*.yml", "*.toml", "*.bib", "*.cff", "book/**/*.md", "rnnbook/*.py")


@dataclass(frozen=True)
class BookMeta:
    title: str
    authors: list[dict] = field(default_factory=list)
    version: str = ""
    date: str = ""  # ISO date, UTC
    repository: str = ""  # e.g. https://github.com/org/repo, or ""
    branch: str = "main"
    baseurl: str = ""  # public URL of the HTML root, ending in "/", or ""
    edition: str = "full"  # one of EDITIONS

    @property
    def year(self) -> str:
        return self.date[:4]

    @property
    def github(self) -> tuple[str, str] | None:
        """(org, repo) when the repository is on GitHub."""
        prefix = "https://github.com/"
        if not self.repository.startswith(prefix):
            return None
        parts = self.repository[len(prefix) :].strip("/").split("/")
        return (parts[0], parts[1].removesuffix(".git")) if len(parts) >= 2 else None

    def page_url(self, docname: str) -> str:
        return f"{self.baseurl}{docname}.html" if self.baseurl else ""


def edition_epoch(root: Path) -> int:
    """The edition's time in seconds since 1970 (UTC), from a deterministic source (module doc).

    The LaTeX step gets it as ``SOURCE_DATE_EPOCH``, so the PDF carries the edition's date.
    """
    stamp = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not stamp:
        stamp = _git_commit_time(root)
    if not stamp:
        mtimes = [p.stat().st_mtime for g in SOURCE_GLOBS for p in root.glob(g) if p.is_file()]
        stamp = str(int(max(mtimes))) if mtimes else "0"
    return int(float(stamp))


def edition_date(root: Path) -> str:
    """The edition date as YYYY-MM-DD (UTC), from a deterministic source (see module doc)."""
    return datetime.fromtimestamp(edition_epoch(root), tz=UTC).date().isoformat()


def edition_from_environment() -> str:
    """``full`` or ``student``, from ``RNNBOOK_EDITION`` (``full`` when unset)."""
    value = os.environ.get(EDITION_VARIABLE, "").strip().lower() or "full"
    if value not in EDITIONS:
        raise ValueError(f"{EDITION_VARIABLE} must be one of {', '.join(EDITIONS)}; got {value!r}")
    return value


def _git_commit_time(root: Path) -> str:
    """Commit time of HEAD if `root` is the top of a git checkout, else ""."""
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if top.returncode or Path(top.stdout.strip()).resolve() != root.resolve():
            return ""
        log = subprocess.run(
            ["git", "log", "-1", "--format=%ct"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return log.stdout.strip() if log.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def repository_url(project: dict) -> str:
    urls = {k.lower(): v for k, v in project.get("urls", {}).items()}
    url = urls.get("repository") or urls.get("source") or ""
    if not url and os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        url = f"{server}/{os.environ['GITHUB_REPOSITORY']}"
    return url.rstrip("/")


def pages_url(repository: str) -> str:
    """The GitHub Pages address of a GitHub repository's project site, or ""."""
    meta = BookMeta(title="", repository=repository)
    if meta.github is None:
        return ""
    org, repo = meta.github
    if repo.lower() == f"{org.lower()}.github.io":
        return f"https://{repo.lower()}/"
    return f"https://{org.lower()}.github.io/{repo}/"


def load(root: Path, baseurl: str = "", edition: str = "full") -> BookMeta:
    """Read the book's metadata from the files in `root` (the repository root)."""
    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    repository = repository_url(project)
    baseurl = baseurl or pages_url(repository)
    if baseurl and not baseurl.endswith("/"):
        baseurl += "/"
    return BookMeta(
        title=cff["title"],
        authors=list(cff.get("authors", [])),
        version=project["version"],
        date=edition_date(root),
        repository=repository,
        baseurl=baseurl,
        edition=edition,
    )


def for_app(app) -> BookMeta:
    """The book's metadata for a Sphinx application, read once and cached on `app`."""
    if not hasattr(app, "_rnnbook_meta"):
        edition = getattr(app.config, "rnnbook_edition_name", "full")
        app._rnnbook_meta = load(Path(app.srcdir), app.config.html_baseurl or "", edition)
    return app._rnnbook_meta


def is_student(app) -> bool:
    """Whether `app` builds the student edition (no solutions)."""
    return getattr(app.config, "rnnbook_edition_name", "full") == "student"


def pdf_name(config) -> str:
    """The file name of the book's PDF (``latex.latex_documents.targetname``, as .pdf)."""
    documents = getattr(config, "latex_documents", None) or [("", "book.tex")]
    return Path(documents[0][1]).with_suffix(".pdf").name


def author_names(meta: BookMeta) -> list[str]:
    """Authors as people read them: 'Given Family' or an entity's name."""
    names = []
    for a in meta.authors:
        if "name" in a:
            names.append(a["name"])
        else:
            names.append(" ".join(p for p in (a.get("given-names"), a.get("family-names")) if p))
    return names


def bibtex_authors(meta: BookMeta) -> str:
    """Authors in BibTeX form: 'Family, Given and {Entity Name}'."""
    parts = []
    for a in meta.authors:
        if "name" in a:
            parts.append("{" + a["name"] + "}")
        else:
            parts.append(", ".join(p for p in (a.get("family-names"), a.get("given-names")) if p))
    return " and ".join(parts)


def chapters(env) -> list[tuple[str, str]]:
    """(number, docname) of every numbered chapter of a Sphinx environment, in book order."""
    found = []
    for docname, numbers in env.toc_secnumbers.items():
        number = numbers.get("")
        if number and len(number) == 1:
            found.append((number[0], docname))
    return [(str(n), d) for n, d in sorted(found)]


def chapter_number(env, docname: str) -> str | None:
    """The number of `docname` if it is a numbered chapter, else None."""
    return {d: n for n, d in chapters(env)}.get(docname)


def by_document(tree, condition) -> list[tuple[str | None, object]]:
    """(docname, node) for the nodes of the LaTeX builder's single tree matching `condition`.

    The tree holds each page under a ``start_of_file`` node naming it. Found from the top down:
    sphinx-jupyterbook-latex moves nodes without updating their parents, so a node's parent
    chain may not lead to its page.
    """
    from sphinx import addnodes

    found = []

    def visit(node, docname):
        if isinstance(node, addnodes.start_of_file):
            docname = node["docname"]
        if condition(node):
            found.append((docname, node))
        for child in node.children:
            visit(child, docname)

    visit(tree, None)
    return found


def reread_with_any_change(app, placeholder: type, key: str) -> None:
    """Re-read every page that holds a `placeholder` node whenever any page changed.

    For pages whose content is built from every chapter (the citations, the exercises):
    Sphinx would otherwise re-read only the pages whose own source changed. `key` marks
    such pages in the environment's metadata.
    """

    def note_page(app, doctree) -> None:
        if any(True for _ in doctree.findall(placeholder)):
            app.env.metadata[app.env.docname][key] = True

    def always_rewrite(app, env, added, changed, removed) -> list[str]:
        pages = [d for d in env.found_docs if key in env.metadata.get(d, {})]
        return pages if (added or changed or removed) else []

    app.connect("doctree-read", note_page)
    app.connect("env-get-outdated", always_rewrite)
