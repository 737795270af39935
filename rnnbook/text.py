"""A text corpus for character-level language models, read from an installed package.

The book's text is real, not synthetic, and not copied into the repository: it is the
Python source of docutils 0.21.2 (the reStructuredText library that the book's own
build pins), read at run time from the installed package. A fixed list of files and a
SHA-256 of their bytes make every build read exactly the same text; another version of
docutils is a clear error, not a silently different chapter. Source code suits a first
character-level model: a small alphabet, strong local statistics (keywords, names), and
long-range structure that an n-gram model cannot see (indentation, brackets, quotes,
docstrings in English).

The text becomes integer ids, one per character (:class:`Corpus`); a long stream of ids
is cut into B parallel streams (:func:`streams`) and walked in windows of K characters
(:func:`windows`), the layout of stateful truncated BPTT.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import validate

#: The package the corpus is read from, and the version whose bytes :data:`SHA256` fixes.
PACKAGE, VERSION = "docutils", "0.21.2"

#: The files, relative to the package folder, in reading order (about 960 KB).
FILES = (
    "__init__.py", "core.py", "frontend.py", "io.py", "nodes.py", "statemachine.py",
    "utils/__init__.py", "parsers/__init__.py", "parsers/rst/__init__.py",
    "parsers/rst/states.py", "parsers/rst/roles.py", "parsers/rst/tableparser.py",
    "parsers/rst/directives/__init__.py", "parsers/rst/directives/admonitions.py",
    "parsers/rst/directives/body.py", "parsers/rst/directives/html.py",
    "parsers/rst/directives/images.py", "parsers/rst/directives/misc.py",
    "parsers/rst/directives/parts.py", "parsers/rst/directives/references.py",
    "parsers/rst/directives/tables.py", "transforms/__init__.py",
    "transforms/components.py", "transforms/frontmatter.py", "transforms/misc.py",
    "transforms/parts.py", "transforms/references.py", "transforms/universal.py",
    "transforms/writer_aux.py", "writers/__init__.py", "writers/_html_base.py",
    "writers/html4css1/__init__.py", "writers/html5_polyglot/__init__.py",
    "writers/latex2e/__init__.py", "writers/manpage.py",
)  # fmt: skip

#: SHA-256 of the bytes of :data:`FILES`, concatenated in order.
SHA256 = "0dbabc93efe87782f924f85ef8ff1d61eba3664e0b64444a014ef0670d5cfb05"

#: Characters outside printable ASCII (and the newline) are all read as this one symbol.
OTHER = "\N{REPLACEMENT CHARACTER}"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"corpus: the package {name!r} is not installed; "
            f"pip install {name}=={VERSION} (or the book's extras: pip install rnnbook[book])"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def corpus_bytes(package: str = PACKAGE, files: tuple[str, ...] = FILES) -> bytes:
    """The raw bytes of `files` of the installed `package`, concatenated in order."""
    folder = _package_dir(package)
    return b"".join((folder / name).read_bytes() for name in files)


@dataclass(frozen=True)
class Corpus:
    """A text as integer ids, with its alphabet.

    Attributes
    ----------
    text : str
        The text, with every character outside printable ASCII replaced by :data:`OTHER`.
    alphabet : str
        The V distinct characters, sorted; character ``alphabet[i]`` has id i.
    ids : ndarray, shape (N,), int32
        The text as ids.
    """

    text: str
    alphabet: str
    ids: np.ndarray

    @property
    def vocab_size(self) -> int:
        """V, the number of distinct characters."""
        return len(self.alphabet)

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of `text`, shape (len(text),); unknown ones are an error."""
        index = {c: i for i, c in enumerate(self.alphabet)}
        unknown = sorted(set(_clean(text)) - set(index))
        if unknown:
            raise ValueError(f"text: expected characters of the alphabet, got {unknown!r}")
        return np.array([index[c] for c in _clean(text)], dtype=np.int32)

    def decode(self, ids: np.ndarray) -> str:
        """The text of the ids `ids` (any shape; flattened in order)."""
        ids = np.asarray(ids).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(
                f"ids: expected ids in [0, {self.vocab_size}), got {ids.min()}..{ids.max()}"
            )
        return "".join(self.alphabet[i] for i in ids)

    def split(
        self, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Train, validation and test ids: three contiguous blocks, in this order.

        Contiguous blocks, not shuffled characters or lines: a model must predict text
        it has not read, as it will be used, and no test line is a near copy of a
        training line next to it.
        """
        if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
            raise ValueError(
                f"fractions: expected three numbers >= 0 summing to 1, got {fractions!r}"
            )
        N = self.ids.size
        a = int(round(fractions[0] * N))
        b = a + int(round(fractions[1] * N))
        return self.ids[:a], self.ids[a:b], self.ids[b:]


def _clean(text: str) -> str:
    return "".join(c if c == "\n" or " " <= c <= "~" else OTHER for c in text)


def load_corpus(
    package: str = PACKAGE, files: tuple[str, ...] = FILES, sha256: str | None = SHA256
) -> Corpus:
    """Read the book's corpus (or `files` of another `package`) and check its bytes.

    Parameters
    ----------
    package : str
        An installed package to read the text from.
    files : tuple of str
        Paths relative to the package folder.
    sha256 : str or None
        The expected SHA-256 of the concatenated bytes; ``None`` skips the check.

    Returns
    -------
    Corpus

    Raises
    ------
    ValueError
        If the package is missing, or its files are not the bytes the book was
        written for (another version installed).
    """
    raw = corpus_bytes(package, files)
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and digest != sha256:
        try:
            installed = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            installed = "unknown"
        raise ValueError(
            f"corpus: expected the files of {package} {VERSION} (SHA-256 {sha256[:12]}...), "
            f"got other bytes (SHA-256 {digest[:12]}..., {package} {installed} installed); "
            f"pip install {package}=={VERSION}"
        )
    points = np.frombuffer(raw.decode("utf-8").encode("utf-32-le"), dtype=np.uint32).copy()
    printable = (points == ord("\n")) | ((points >= ord(" ")) & (points <= ord("~")))
    points[~printable] = ord(OTHER)
    present = np.unique(points)
    alphabet = "".join(map(chr, present))
    ids = np.searchsorted(present, points).astype(np.int32)  # id = rank in the alphabet
    text = points.astype("<u4").tobytes().decode("utf-32-le")
    return Corpus(text=text, alphabet=alphabet, ids=ids)


def streams(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut one long stream of ids into `batch_size` parallel streams, shape (B, N // B).

    Stream b is the contiguous block ``ids[b * L : (b + 1) * L]`` with L = N // B
    (the last N mod B ids are dropped), so a network that reads row b from left to
    right reads real, uninterrupted text.
    """
    ids = _ids("ids", ids)
    B = validate.size("batch_size", batch_size)
    L = ids.size // B
    if L < 2:
        raise ValueError(f"batch_size: expected at most {ids.size // 2} streams, got {B}")
    return ids[: B * L].reshape(B, L)


def windows(
    streams: np.ndarray, length: int, *, keep_last: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Walk parallel streams in consecutive windows of K characters.

    Yields ``(x, y)``, both (B, K) int32: the window's characters and the next
    character of each (``y[:, t] = x[:, t + 1]``, the last one read from the next
    window). Window w + 1 continues where window w stopped, so a model can carry its
    hidden state from one to the next (stateful truncated BPTT). The last, shorter
    window is dropped, unless `keep_last` (for evaluation: every character of
    ``streams[:, 1:]`` is then a target exactly once).
    """
    streams = _ids("streams", streams, ndim=2)
    K = validate.size("length", length)
    L = streams.shape[1]
    stop = L - 1 if keep_last else L - K  # y needs one more character
    for start in range(0, stop, K):
        end = min(start + K, L - 1)
        yield streams[:, start:end], streams[:, start + 1 : end + 1]


def _ids(name: str, ids: object, ndim: int = 1) -> np.ndarray:
    if not isinstance(ids, np.ndarray) or ids.ndim != ndim or ids.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: expected a {ndim}-d integer array of character ids, got "
            + (f"shape {ids.shape} and dtype {ids.dtype}" if isinstance(ids, np.ndarray)
               else type(ids).__name__)
        )  # fmt: skip
    return ids
