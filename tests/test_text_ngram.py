"""The text corpus, its streams and windows, the n-gram baselines and the cross-entropy loss."""

import numpy as np
import pytest

import rnnbook as rb
from rnnbook import ngram, text


@pytest.fixture(scope="module")
def corpus():
    return text.load_corpus()


def test_corpus_is_the_pinned_text_and_round_trips(corpus):
    assert 900_000 < corpus.ids.size < 1_000_000 and corpus.vocab_size < 100
    assert corpus.decode(corpus.ids) == corpus.text
    sample = corpus.text[5000:6000]
    np.testing.assert_array_equal(corpus.encode(sample), corpus.ids[5000:6000])
    assert "def " in corpus.text and "class Node" in corpus.text


def test_corpus_checks_its_bytes():
    with pytest.raises(ValueError, match="SHA-256"):
        text.load_corpus(sha256="0" * 64)
    with pytest.raises(ValueError, match="not installed"):
        text.load_corpus(package="no_such_package_rnnbook")


def test_split_is_three_contiguous_blocks(corpus):
    train, val, test = corpus.split((0.8, 0.1, 0.1))
    np.testing.assert_array_equal(np.concatenate([train, val, test]), corpus.ids)
    assert abs(train.size / corpus.ids.size - 0.8) < 1e-5
    with pytest.raises(ValueError, match="fractions"):
        corpus.split((0.5, 0.5, 0.5))


def test_windows_continue_each_stream():
    ids = np.arange(103, dtype=np.int32)
    s = text.streams(ids, 4)  # 4 streams of 25
    assert s.shape == (4, 25) and s[1, 0] == 25
    pieces = list(text.windows(s, 6))
    assert len(pieces) == 4  # windows start at 0, 6, 12, 18; 24 has no next character
    x = np.concatenate([p[0] for p in pieces], axis=1)
    y = np.concatenate([p[1] for p in pieces], axis=1)
    np.testing.assert_array_equal(x, s[:, :24])
    np.testing.assert_array_equal(y, s[:, 1:25])
    with pytest.raises(ValueError, match="ids"):
        text.streams(np.zeros(10), 2)


def brute_force_kneser_ney(train, V, n, D, context, w):
    """(eq-kneser-ney) by direct counting over strings, for a tiny text."""
    s = [int(c) for c in train]

    def count(gram, continuation):
        k = len(gram)
        hits = [i for i in range(len(s) - k + 1) if s[i : i + k] == list(gram)]
        return len({s[i - 1] for i in hits if i > 0}) if continuation else len(hits)

    def p(h, k, top, v):
        if k == 0:
            return 1.0 / V
        hh = tuple(h[len(h) - (k - 1) :]) if k > 1 else ()
        c_hw = [count((*hh, u), not top) for u in range(V)]
        total = sum(c_hw)
        lower = p(h, k - 1, False, v)
        if total == 0:
            return lower
        types = sum(c > 0 for c in c_hw)
        return (max(c_hw[v] - D, 0) + D * types * lower) / total

    return p(tuple(context), n, True, w)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_kneser_ney_matches_direct_counting_and_is_normalised(n):
    rng = np.random.default_rng(n)
    V = 4
    train = rng.integers(0, V, 60)
    train[10:20] = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3]  # some repeated structure
    model = ngram.fit_ngram(train, n, V, discount=0.7)
    for context in ([0, 1], [3, 3], [2, 0]):
        p = model.distribution(np.array(context))
        assert p.sum() == pytest.approx(1.0, abs=1e-12) and (p > 0).all()
        for w in range(V):
            expected = brute_force_kneser_ney(train, V, n, 0.7, context, w)
            assert p[w] == pytest.approx(expected, rel=1e-12)


def test_ngrams_beat_the_unigram_on_real_text(corpus):
    train, val, _ = corpus.split()
    best, scores = ngram.select_ngram(
        train[:200_000], val[:20_000], corpus.vocab_size, orders=(1, 3, 5), discounts=(0.7, 0.9)
    )
    unigram = min(v for (n, _), v in scores.items() if n == 1)
    assert best.order > 1 and scores[best.order, best.discount] < unigram - 1.5
    assert np.isfinite(best.log2_probs(val[:5000])).all()
    assert unigram < np.log2(corpus.vocab_size)  # better than uniform


def test_ngram_validation():
    with pytest.raises(ValueError, match="discount"):
        ngram.fit_ngram(np.arange(5), 2, 5, discount=0.0)
    with pytest.raises(ValueError, match="ids"):
        ngram.fit_ngram(np.arange(5), 2, 3)


def test_cross_entropy_gradient_and_stability():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 5)) * 3
    targets = rng.integers(0, 5, (2, 3))
    loss, d = rb.cross_entropy_loss(logits, targets)
    p = np.exp(logits) / np.exp(logits).sum(2, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(np.take_along_axis(p, targets[..., None], 2))))
    expected = (p - np.eye(5)[targets]) / 6
    np.testing.assert_allclose(d, expected, atol=1e-15)

    def f():
        return rb.cross_entropy_loss(logits, targets)[0]

    np.testing.assert_allclose(d, rb.numerical_gradient(f, logits, 1e-3, order=4), atol=1e-10)
    huge, _ = rb.cross_entropy_loss(np.array([[[1000.0, 0.0]]]), np.array([[1]]))
    assert huge == pytest.approx(1000.0)


@pytest.mark.parametrize(
    "targets, match",
    [
        (np.zeros((2, 3)), "integer"),
        (np.zeros((2, 4), int), "shape"),
        (np.full((2, 3), 5), r"\[0, 5\)"),
    ],
)
def test_cross_entropy_validation(targets, match):
    with pytest.raises(ValueError, match=match):
        rb.cross_entropy_loss(np.zeros((2, 3, 5)), targets)


def test_next_ids_greedy_temperature_and_top_k():
    from rnnbook.sampling import next_ids

    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]] * 20_000))
    assert (next_ids(logits, greedy=True) == 0).all()
    draws = next_ids(logits, np.random.default_rng(0))
    np.testing.assert_allclose(
        np.bincount(draws, minlength=4) / 20_000, [0.5, 0.3, 0.15, 0.05], atol=0.01
    )
    hot = next_ids(logits, np.random.default_rng(0), temperature=1e6)
    np.testing.assert_allclose(np.bincount(hot, minlength=4) / 20_000, 0.25, atol=0.01)
    top2 = next_ids(logits, np.random.default_rng(0), top_k=2)
    assert set(np.unique(top2)) == {0, 1}
    assert abs(np.mean(top2 == 0) - 0.5 / 0.8) < 0.01
    again = next_ids(logits, np.random.default_rng(0))
    np.testing.assert_array_equal(draws, again)
    with pytest.raises(ValueError, match="temperature"):
        next_ids(logits, np.random.default_rng(0), temperature=0.0)


def test_order_must_fit_64_bit_codes_and_short_contexts_back_off():
    ids = np.arange(20, dtype=np.int64) % 97
    assert ngram.max_order(97) == 9
    with pytest.raises(ValueError, match="order: expected at most 9"):
        ngram.fit_ngram(ids, 10, 97)
    with pytest.raises(ValueError, match="order: expected at most 9"):
        ngram.select_ngram(ids, ids, 97, orders=(1, 10))
    model = ngram.fit_ngram(ids, 4, 97)
    p = model.distribution(np.array([3]))  # a context shorter than n - 1
    assert abs(p.sum() - 1) < 1e-12 and (p > 0).all()
