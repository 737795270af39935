"""Character n-gram language models with interpolated Kneser-Ney smoothing.

An n-gram model predicts a character from the n - 1 before it, by counting. It is the
reference a character-level RNN must beat before anyone believes it learned more than
local statistics. Raw counts give probability 0 to anything unseen, so the counts are
*smoothed*; interpolated Kneser-Ney (Kneser & Ney 1995; Chen & Goodman 1998) is the
standard that works best. For a context h of n - 1 characters and its shorter
context h' (h without its first character),

    P_n(w | h) = [max(c(h w) - D, 0) + D N(h) P_{n-1}(w | h')] / c(h)      (eq-kneser-ney)

where c(h w) counts h followed by w, c(h) = sum_w c(h w), N(h) is the number of
distinct characters seen after h, and D in (0, 1] the discount. Taking D from every
seen count frees exactly D N(h) / c(h) of probability, which the shorter context
shares out, so each P_n sums to 1 over the alphabet. Below the highest order the
counts c are *continuation* counts: the number of distinct characters seen before
the n-gram, so that a character that is frequent only after one particular context
(the ``f`` of ``def``) gets little weight when that context is absent. An unseen
context falls back to the shorter one entirely; the end of the chain is the uniform
distribution 1/V. Counting is vectorised: an n-gram is one integer in base V.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate


@dataclass(frozen=True)
class _Table:
    """The counts of one order k: sorted k-gram codes, their counts, and per context
    (the code // V) the total count and the number of distinct next characters."""

    grams: np.ndarray
    counts: np.ndarray
    contexts: np.ndarray
    totals: np.ndarray
    types: np.ndarray


@dataclass(frozen=True)
class NGramModel:
    """An interpolated Kneser-Ney character model (see :func:`fit_ngram`).

    Attributes
    ----------
    order : int
        n: the model reads the n - 1 characters before the one it predicts.
    vocab_size : int
        V.
    discount : float
        D of (eq-kneser-ney), the same for every order.
    """

    order: int
    vocab_size: int
    discount: float
    tables: tuple[_Table, ...]

    def log2_probs(self, ids: np.ndarray) -> np.ndarray:
        """log2 P(ids[i] | the up to n - 1 ids before it), for every position i.

        Parameters
        ----------
        ids : ndarray, shape (N,), integer
            One stream of character ids; position i is predicted from ids[i-n+1:i]
            (a shorter context near the start of the stream).

        Returns
        -------
        ndarray, shape (N,)
        """
        ids = _stream("ids", ids, self.vocab_size)
        V, D = self.vocab_size, self.discount
        prob = np.full(ids.size, 1.0 / V)  # P_0: uniform
        for k, table in enumerate(self.tables, start=1):
            code = np.full(ids.size, -1, dtype=np.int64)  # -1: no full k-gram ends here
            if ids.size >= k:
                code[k - 1 :] = _codes(ids, k, V)  # the k-gram ending at each position
            c = _lookup(table.grams, table.counts, code)  # c(h w)
            ctx = _lookup_index(table.contexts, code // V)  # the context h
            total = np.where(ctx >= 0, table.totals[np.maximum(ctx, 0)], 0.0)  # c(h)
            types = np.where(ctx >= 0, table.types[np.maximum(ctx, 0)], 0)  # N(h)
            mixed = (np.maximum(c - D, 0.0) + D * types * prob) / np.maximum(total, 1.0)
            prob = np.where(total > 0, mixed, prob)  # (eq-kneser-ney); unseen h: back off
        return np.log2(prob)

    def bits_per_char(self, ids: np.ndarray) -> float:
        """The mean of -log2 P over the stream: the cross-entropy in bits per character."""
        return float(-np.mean(self.log2_probs(ids)))

    def distribution(self, context: np.ndarray) -> np.ndarray:
        """P(w | context) for every character w, shape (V,): what the model would predict
        after `context` (its last n - 1 ids are used). Sums to 1."""
        context = _stream("context", context, self.vocab_size, allow_empty=True)
        context = context[len(context) - (self.order - 1) :] if self.order > 1 else context[:0]
        V = self.vocab_size
        candidates = np.concatenate([np.tile(context, (V, 1)), np.arange(V)[:, None]], axis=1)
        return np.array([2.0 ** self.log2_probs(row)[-1] for row in candidates])


def max_order(V: int) -> int:
    """The longest order whose n-gram codes (base V) fit a 64-bit integer."""
    n = 1
    while V ** (n + 1) < 2**63:
        n += 1
    return n


def _check_order(order: int, V: int) -> None:
    if order > max_order(V):
        raise ValueError(
            f"order: expected at most {max_order(V)} (V^n must fit a 64-bit integer "
            f"for V = {V}), got {order}"
        )


def _codes(ids: np.ndarray, k: int, V: int) -> np.ndarray:
    """The base-V code of every k-gram of `ids`, shape (N - k + 1,)."""
    code = np.zeros(ids.size - k + 1, dtype=np.int64)
    for j in range(k):
        code = code * V + ids[j : ids.size - k + 1 + j]
    return code


def _lookup_index(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Index of each key in `sorted_keys`, or -1 where absent."""
    order = np.argsort(keys, kind="stable")  # sorted queries: searchsorted walks memory in order
    where = np.empty(keys.shape, dtype=np.intp)
    where[order] = np.searchsorted(sorted_keys, keys[order])
    where = np.minimum(where, max(sorted_keys.size - 1, 0))
    found = sorted_keys.size > 0
    hit = found & (sorted_keys[where] == keys) if found else np.zeros(keys.shape, bool)
    return np.where(hit, where, -1)


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    index = _lookup_index(sorted_keys, keys)
    return np.where(index >= 0, values[np.maximum(index, 0)], 0)


def _table(grams: np.ndarray, counts: np.ndarray, V: int) -> _Table:
    contexts, first, types = np.unique(grams // V, return_index=True, return_counts=True)
    totals = np.add.reduceat(counts, first)  # grams are sorted, so contexts are runs
    return _Table(grams, counts.astype(float), contexts, totals.astype(float), types)


def fit_ngram(ids: np.ndarray, order: int, vocab_size: int, discount: float = 0.75) -> NGramModel:
    """Count a training stream into an interpolated Kneser-Ney model (eq-kneser-ney).

    Parameters
    ----------
    ids : ndarray, shape (N,), integer
        The training text as character ids in [0, V).
    order : int
        n >= 1; n = 1 is the (smoothed) unigram model, which ignores the context.
    vocab_size : int
        V.
    discount : float
        D in (0, 1].

    Returns
    -------
    NGramModel
    """
    order = validate.size("order", order)
    V = validate.size("vocab_size", vocab_size, minimum=2)
    ids = _stream("ids", ids, V)
    _check_order(order, V)
    if not 0 < discount <= 1:
        raise ValueError(f"discount: expected a number in (0, 1], got {discount!r}")
    if ids.size < order:
        raise ValueError(f"ids: expected at least order = {order} ids, got {ids.size}")
    raw, continuation = _count(ids, order, V)
    return NGramModel(order, V, float(discount), (*continuation[: order - 1], raw[order - 1]))


def _count(ids: np.ndarray, order: int, V: int) -> tuple[list[_Table], list[_Table]]:
    """Occurrence tables for k = 1..order and continuation tables for k = 1..order-1."""
    raw, continuation = [], []
    for k in range(1, order + 1):
        grams, counts = np.unique(_codes(ids, k, V), return_counts=True)  # occurrences
        raw.append(_table(grams, counts, V))
        if k > 1:  # the distinct left extensions of each (k-1)-gram: continuation counts
            shorter, counts = np.unique(grams % V ** (k - 1), return_counts=True)
            continuation.append(_table(shorter, counts, V))
    return raw, continuation


def select_ngram(
    train: np.ndarray,
    val: np.ndarray,
    vocab_size: int,
    orders: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7),
    discounts: tuple[float, ...] = (0.5, 0.7, 0.8, 0.9, 0.95),
) -> tuple[NGramModel, dict[tuple[int, float], float]]:
    """Fit every (order, discount) on `train`, keep the lowest validation bits per character.

    Returns
    -------
    best : NGramModel
    scores : dict
        ``{(order, discount): validation bits per character}`` for every pair tried.
    """
    validate.size("vocab_size", vocab_size, minimum=2)
    _check_order(max(orders), vocab_size)
    raw, continuation = _count(_stream("train", train, vocab_size), max(orders), vocab_size)
    scores = {}
    best, best_bpc = None, np.inf
    for n in orders:
        for D in discounts:
            tables = (*continuation[: n - 1], raw[n - 1])
            model = NGramModel(n, vocab_size, float(D), tables)
            scores[n, D] = model.bits_per_char(val)
            if scores[n, D] < best_bpc:
                best, best_bpc = model, scores[n, D]
    return best, scores


def _stream(name: str, ids: object, V: int, allow_empty: bool = False) -> np.ndarray:
    if not isinstance(ids, np.ndarray) or ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected a 1-d integer array of character ids")
    if ids.size == 0 and not allow_empty:
        raise ValueError(f"{name}: expected at least one id, got an empty array")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{name}: expected ids in [0, {V}), got {ids.min()}..{ids.max()}")
    return ids.astype(np.int64)
