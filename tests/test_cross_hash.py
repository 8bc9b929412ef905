"""`hashing.cross_ids`: a crossed column's hash chain in one call equals the
chain of `fingerprint_cat64` calls bit for bit (and TF 2.15's sparse_cross_hashed,
live), and bad input fails with an error naming the argument."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitf import hashing
from minitf.kernels import farmhash as F
from widedeep.feature_column.columns import cross_hashed

M = 2**64 - 1
DEFAULT_KEY = 0xDECAFCAFFE
U64 = st.sampled_from([0, M, 1, 2**63]) | st.integers(0, M)
KEYS = st.sampled_from([DEFAULT_KEY, 0, M, 2**63]) | st.integers(0, M)
BUCKETS = st.integers(1, 2**40) | st.sampled_from([1, 2, 2**63 - 1])


def chain(parts, hash_key, num_buckets):
    """The per-step computation cross_ids replaces."""
    h = np.full(len(parts[0]), np.uint64(hash_key), np.uint64)
    for v in parts:
        h = hashing.fingerprint_cat64(h, v)
    return (h % np.uint64(num_buckets)).astype(np.int64)


def assert_same_bits(got, want):
    assert got.dtype == np.int64 and got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))


@st.composite
def crosses(draw, max_n=40):
    k = draw(st.integers(1, 5))
    n = draw(st.integers(0, max_n))
    return [np.array(draw(st.lists(U64, min_size=n, max_size=n)), np.uint64)
            for _ in range(k)]


@given(crosses(), KEYS, BUCKETS)
def test_equals_chain(parts, key, buckets):
    before = [p.copy() for p in parts]
    got = hashing.cross_ids(parts, key, buckets)
    assert_same_bits(got, chain(parts, key, buckets))
    assert ((got >= 0) & (got < buckets)).all()
    for p, b in zip(parts, before):  # inputs untouched
        np.testing.assert_array_equal(p, b)


@given(crosses(max_n=3), KEYS, BUCKETS)
def test_tuple_and_numpy_integer_arguments(parts, key, buckets):
    want = chain(parts, key, buckets)
    assert_same_bits(hashing.cross_ids(tuple(parts), np.uint64(key), np.int64(buckets)), want)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_equals_chain_on_large_batches(k):
    rng = np.random.default_rng(k)
    parts = [rng.integers(0, M, 10_000, dtype=np.uint64, endpoint=True) for _ in range(k)]
    for p in parts:
        p[:4] = [0, M, 2**63, 1]
    for key in (DEFAULT_KEY, 0, M):
        for buckets in (1, 7, 1000, 2**40, 2**63 - 1):
            got = hashing.cross_ids(parts, key, buckets)
            assert_same_bits(got, chain(parts, key, buckets))
            if buckets > 1:
                assert len(np.unique(got)) > 1  # not a constant


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_empty_batch(k):
    got = hashing.cross_ids([np.zeros(0, np.uint64)] * k, DEFAULT_KEY, 10)
    assert got.dtype == np.int64 and got.shape == (0,)


def test_strided_parts_and_fresh_output():
    """Views (a column of a [n, 2] array, every other value) hash as their
    values; the result is a new C-contiguous array."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, M, (300, 2), dtype=np.uint64, endpoint=True)
    b = rng.integers(0, M, 600, dtype=np.uint64, endpoint=True)
    parts = [a[:, 1], b[::2]]
    got = hashing.cross_ids(parts, DEFAULT_KEY, 97)
    assert_same_bits(got, chain([np.ascontiguousarray(p) for p in parts], DEFAULT_KEY, 97))
    assert got.flags.c_contiguous and got.flags.owndata


def test_order_of_parts_matters():
    rng = np.random.default_rng(1)
    a, b = (rng.integers(0, M, 64, dtype=np.uint64, endpoint=True) for _ in range(2))
    assert (hashing.cross_ids([a, b], DEFAULT_KEY, 2**40)
            != hashing.cross_ids([b, a], DEFAULT_KEY, 2**40)).any()


def test_one_compiled_signature():
    """Every k, key and bucket count dispatches to one compiled kernel."""
    rng = np.random.default_rng(2)
    for k in range(1, 6):
        parts = [rng.integers(0, M, 5, dtype=np.uint64, endpoint=True) for _ in range(k)]
        for key in (0, DEFAULT_KEY, 2**63, M):
            hashing.cross_ids(parts, key, 2**63 - 1)
            hashing.cross_ids(parts, np.uint64(key), np.int64(3))
    assert len(F._cross_ids.signatures) == 1


@given(st.lists(st.tuples(st.integers(-2**63, 2**63 - 1), st.text(max_size=12)),
                min_size=1, max_size=20), KEYS, BUCKETS)
def test_equals_cross_hashed_of_one_value_features(rows, key, buckets):
    """cross_ids over Fingerprint64 of strings and integers viewed as uint64 is
    the general cross_hashed (checked against TF in test_hashing) of dense
    [n, 1] features."""
    ints = np.array([r[0] for r in rows], np.int64)
    strs = np.array([r[1] for r in rows], dtype=str)  # (the columns hash unicode arrays)
    sp = cross_hashed([ints[:, None], strs[:, None]], buckets, key)
    got = hashing.cross_ids([ints.view(np.uint64), hashing.fingerprint64(strs)], key, buckets)
    np.testing.assert_array_equal(sp.indices, np.stack([np.arange(len(rows)),
                                                        np.zeros(len(rows), np.int64)], 1))
    assert_same_bits(got, sp.values)


@pytest.mark.tf
@given(st.lists(st.tuples(st.integers(-2**63, 2**63 - 1), st.binary(max_size=20),
                          st.integers(-2**63, 2**63 - 1)), min_size=1, max_size=20),
       st.sampled_from([DEFAULT_KEY, 1]) | st.integers(1, 2**63 - 1), st.integers(1, 2**40))
def test_live_equals_tf_sparse_cross_hashed(rows, key, buckets):
    """(TF's hash_key is an int64; its Python wrapper reads 0 as the default key:
    see the next test.)"""
    import tensorflow as tf
    a = np.array([r[0] for r in rows], np.int64)
    s = np.array([r[1] for r in rows], dtype=object)
    c = np.array([r[2] for r in rows], np.int64)
    want = tf.sparse.cross_hashed([tf.constant(a[:, None]), tf.constant(s[:, None]),
                                   tf.constant(c[:, None])], buckets, key).values.numpy()
    got = hashing.cross_ids([a.view(np.uint64), hashing.fingerprint64(s), c.view(np.uint64)],
                            key, buckets)
    assert_same_bits(got, want)


@pytest.mark.tf
def test_live_tf_reads_hash_key_0_as_the_default():
    """tf.sparse.cross_hashed (and so crossed_column) with hash_key=0 hashes with
    the default key 0xDECAFCAFFE; cross_ids takes its key as given."""
    import tensorflow as tf
    a = np.arange(-3, 5, dtype=np.int64)
    tf_ids = tf.sparse.cross_hashed([tf.constant(a[:, None])], 1000, 0).values.numpy()
    assert_same_bits(hashing.cross_ids([a.view(np.uint64)], DEFAULT_KEY, 1000), tf_ids)
    assert (hashing.cross_ids([a.view(np.uint64)], 0, 1000) != tf_ids).any()


# --- bad input ---------------------------------------------------------------------------
GOOD = np.arange(4, dtype=np.uint64)


@pytest.mark.parametrize("parts, error, match", [
    (np.zeros((2, 4), np.uint64), TypeError, "parts must be a list or tuple.*got ndarray"),
    (iter([GOOD]), TypeError, "parts must be a list or tuple.*got list_iterator"),
    ([], ValueError, "parts is empty"),
    ([GOOD, np.arange(4)], TypeError, r"parts\[1\] must be a uint64 array, got int64"),
    ([GOOD, GOOD.astype(np.uint32)], TypeError, r"parts\[1\] must be a uint64 array, got uint32"),
    ([GOOD.astype(">u8")], TypeError, r"parts\[0\] must be a uint64 array, got >u8"),
    ([[0, 1, 2, 3], GOOD], TypeError, r"parts\[0\] must be a uint64 array, got list"),
    ([GOOD, 5], TypeError, r"parts\[1\] must be a uint64 array, got int"),
    ([GOOD, GOOD.reshape(2, 2)], ValueError, r"parts\[1\] must be 1-D, got shape \(2, 2\)"),
    ([np.uint64(3)], TypeError, r"parts\[0\] must be a uint64 array, got uint64"),
    ([np.zeros((), np.uint64), GOOD], ValueError, r"parts\[0\] must be 1-D, got shape \(\)"),
    ([GOOD, GOOD, GOOD[:3]], ValueError, r"parts\[2\] has 3 values, parts\[0\] has 4"),
])
def test_bad_parts(parts, error, match):
    with pytest.raises(error, match="cross_ids: " + match):
        hashing.cross_ids(parts, DEFAULT_KEY, 10)


@pytest.mark.parametrize("key, error, match", [
    (-1, ValueError, r"hash_key must be in \[0, 18446744073709551615\], got -1"),
    (2**64, ValueError, "hash_key must be in .*got 18446744073709551616"),
    (1.0, TypeError, "hash_key must be an integer, got float"),
    ("1", TypeError, "hash_key must be an integer, got str"),
    (None, TypeError, "hash_key must be an integer, got NoneType"),
])
def test_bad_hash_key(key, error, match):
    with pytest.raises(error, match="cross_ids: " + match):
        hashing.cross_ids([GOOD], key, 10)


@pytest.mark.parametrize("buckets, error, match", [
    (0, ValueError, r"num_buckets must be in \[1, 9223372036854775807\], got 0"),
    (-5, ValueError, "num_buckets must be in .*got -5"),
    (2**63, ValueError, "num_buckets must be in .*got 9223372036854775808"),
    (10.0, TypeError, "num_buckets must be an integer, got float"),
    (np.float64(10), TypeError, "num_buckets must be an integer, got float64"),
])
def test_bad_num_buckets(buckets, error, match):
    with pytest.raises(error, match="cross_ids: " + match):
        hashing.cross_ids([GOOD], DEFAULT_KEY, buckets)
