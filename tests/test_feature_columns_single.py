"""The one-id-per-row lane of `TransformCache.single_ids` against the reference:
for every categorical column kind and many drawn batches, the lane's ids equal
the `id_weight_pair` SparseTensor's values when that has exactly one valid id
per row in row order, and it answers None otherwise. (The reference itself is
compared with TF in test_feature_columns.py.)"""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import widedeep.feature_column as fc
from minitf.kernels.lookup import lookup_ucs4, make_table
from minitf.ops.sparse import one_valid_id_per_row
from widedeep.feature_column.columns import TransformCache, _ucs4

WORDS = ["a", "b", "bb", "ab", "", "é", "long-word", "zz", "b\u2603", "a b"]
VOCAB = ["a", "bb", "é", "long-word", "zz", "ab"]


def reference(column, features):
    ids, weights = column.id_weight_pair(TransformCache(features))
    return ids.values if weights is None and one_valid_id_per_row(
        ids, column.num_buckets) else None


def check(column, features):
    try:
        want = reference(column, features)
    except ValueError as e:  # e.g. an identity id out of range: the same error
        with pytest.raises(ValueError, match=re.escape(str(e))):
            TransformCache(features).single_ids(column)
        return None
    lane = column._single_ids(TransformCache(features))
    got = TransformCache(features).single_ids(column)
    if want is None:
        assert lane is None and got is None, column.name
    else:
        assert lane is None or np.array_equal(lane, want), column.name
        np.testing.assert_array_equal(got, want, err_msg=column.name)
        assert got.dtype == np.int64
    return lane


def columns():
    word = fc.categorical_column_with_vocabulary_list("w", VOCAB)
    age = fc.bucketized_column(fc.numeric_column("x"), [0.0, 1.5, 10.0])
    return [
        word,
        fc.categorical_column_with_vocabulary_list("w", VOCAB, num_oov_buckets=3),
        fc.categorical_column_with_vocabulary_list("w", VOCAB, default_value=2),
        fc.categorical_column_with_vocabulary_list("i", [3, 1, 7, -5]),
        fc.categorical_column_with_vocabulary_list("i", [3, 1, 7], num_oov_buckets=2),
        fc.categorical_column_with_hash_bucket("w", 7),
        fc.categorical_column_with_hash_bucket("i", 7, dtype="int64"),
        fc.categorical_column_with_identity("i", 6),
        fc.categorical_column_with_identity("i", 6, default_value=0),
        age,
        fc.crossed_column(["w", "v"], 11),
        fc.crossed_column([word, "v"], 13, hash_key=5),
        fc.crossed_column([age, "w", "i"], 17),
        fc.crossed_column([fc.crossed_column(["w", "i"], 19), age], 23),
    ]


@st.composite
def batches(draw):
    n = draw(st.integers(1, 12))
    words = st.sampled_from(WORDS)
    as_ = draw(st.sampled_from(["str", "bytes", "object", "column"]))
    w = np.array(draw(st.lists(words, min_size=n, max_size=n)))
    v = np.array(draw(st.lists(st.sampled_from(VOCAB + ["q"]), min_size=n, max_size=n)))
    if as_ == "bytes":
        w = np.char.encode(w, "utf-8")
    elif as_ == "object":
        w = w.astype(object)
    i = np.array(draw(st.lists(st.integers(-1, 8), min_size=n, max_size=n)), np.int64)
    x = np.array(draw(st.lists(st.floats(-5, 20), min_size=n, max_size=n)), np.float32)
    feats = {"w": w, "v": v, "i": i, "x": x}
    if as_ == "column":  # [batch, 1] inputs take the lane as [batch] ones do
        feats = {k: a[:, None] for k, a in feats.items()}
    return feats


@settings(max_examples=150, deadline=None)
@given(batches())
def test_single_lane_equals_the_reference(features):
    for column in columns():
        check(column, features)


def test_lane_answers_for_clean_single_values():
    """Without missing or unknown values every kind's lane answers itself (it
    does not fall back), so the test above exercises it; integers hashed as
    strings have no lane."""
    features = {"w": np.array(["a", "zz", "é"]), "v": np.array(["bb", "q", "a"]),
                "i": np.array([1, 3, 1]), "x": np.array([0.5, -1.0, 12.0], np.float32)}
    for column in columns():
        lane = check(column, features)
        hashed_ints = isinstance(column, fc.HashedCategoricalColumn) and column.dtype != "string"
        assert (lane is None) == hashed_ints, column


def test_lane_declines_missing_and_multivalued():
    word = fc.categorical_column_with_vocabulary_list("w", VOCAB)
    assert check(word, {"w": np.array(["a", ""])}) is None  # '' is missing
    assert check(word, {"w": np.array(["a", "nope"])}) is None  # -1: not a valid id
    assert check(word, {"w": np.array([["a", "zz"], ["bb", "a"]])}) is None  # two per row
    ident = fc.categorical_column_with_identity("i", 4)
    assert check(ident, {"i": np.array([1, -1])}) is None
    sp = fc.categorical_column_with_hash_bucket("w", 5)
    import minitf as tf
    sparse = tf.SparseTensor([[0, 0], [1, 0]], np.array(["a", "b"]), [2, 1])
    assert sp._single_ids(TransformCache({"w": sparse})) is None  # sparse: the reference
    np.testing.assert_array_equal(TransformCache({"w": sparse}).single_ids(sp),
                                  reference(sp, {"w": sparse}))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=6), max_size=12), st.lists(st.text(max_size=6), max_size=8))
def test_lookup_kernel_equals_numpy(values, keys):
    """The code-point lookup matches strings as NumPy's search and == do."""
    values = np.array([v.rstrip("\0") for v in values] or [""], str)
    keys = np.unique(np.array([k.rstrip("\0") for k in keys] or ["x"], str))
    pos = np.arange(len(keys), dtype=np.int64) * 10
    ids, found, empties = lookup_ucs4(_ucs4(values), make_table(_ucs4(keys), pos), -7)
    at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    want_found = keys[at] == values
    np.testing.assert_array_equal(found, want_found)
    np.testing.assert_array_equal(ids, np.where(want_found, pos[at], -7))
    assert empties == int((values == "").sum())


# --- the per-batch shortcuts of the fast lanes, against the general paths -------------------
def test_fingerprint_of_the_empty_string():
    """The hashed lane's cheap '' test relies on this constant."""
    from minitf import hashing
    from widedeep.feature_column.columns import FINGERPRINT64_EMPTY
    for empty in (np.array([""]), np.array([b""]), np.array([""], object)):
        assert hashing.fingerprint64(empty)[0] == FINGERPRINT64_EMPTY


def test_hashed_lane_compares_strings_when_a_hash_is_the_empty_ones(monkeypatch):
    """A non-empty string whose hash were the empty string's (a collision) still
    takes the lane: the strings themselves decide."""
    from minitf import hashing
    from widedeep.feature_column import columns
    col = fc.categorical_column_with_hash_bucket("w", 7)
    monkeypatch.setattr(columns, "FINGERPRINT64_EMPTY",
                        hashing.fingerprint64(np.array(["a"]))[0])
    for w in (["a", "zz"], ["zz", "a", "a"]):
        assert check(col, {"w": np.array(w)}) is not None
    assert check(col, {"w": np.array(["a", ""])}) is None


def raw_feature_reference(features, key):
    """raw_feature's general path (what its ndarray shortcut must equal)."""
    from widedeep.feature_column.inputs import as_strings
    a = np.asarray(features[key])
    if a.dtype.kind in "SO":
        a = as_strings(a, key)
    if a.ndim == 0:
        raise ValueError
    return a[:, None] if a.ndim == 1 else a


FEATURES = [np.array([1.5, -0.0, np.nan], np.float32), np.array([3, -1, 7]),
            np.array([True, False]), np.array(["a", "", "é"]), np.array([b"a", b""]),
            np.array(["a", b"b"], object), np.arange(6).reshape(3, 2),
            np.arange(3.0).reshape(3, 1), np.arange(8).reshape(2, 2, 2),
            np.zeros(0, np.int64), np.zeros((0, 1), np.float32), [1, 2, 3], ["a", "b"],
            [[1], [2]], np.arange(10)[::2], np.arange(12).reshape(3, 4)[:, 1]]


@pytest.mark.parametrize("x", FEATURES, ids=range(len(FEATURES)))
def test_raw_feature_and_single_value_shortcuts(x):
    from widedeep.feature_column.inputs import kind, raw_feature
    features = {"f": x}
    want = raw_feature_reference(features, "f")
    got = raw_feature(features, "f", "c")
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    single = TransformCache(features).single_value("f", "c")
    if want.ndim == 2 and want.shape[1] == 1:
        assert single.dtype == want.dtype and single.shape == want.shape[:1]
        np.testing.assert_array_equal(single, want[:, 0])
    else:
        assert single is None
    assert kind(x) == kind(np.asarray(x))


def test_single_value_errors_as_raw_feature():
    for features in ({"g": np.array([1])}, {"f": np.array(3)}):
        with pytest.raises((KeyError, ValueError)) as want:
            TransformCache(features).raw("f", "c")
        with pytest.raises(want.type, match=re.escape(str(want.value.args[0]))):
            TransformCache(features).single_value("f", "c")
    import minitf as tf
    sparse = tf.SparseTensor([[0, 0]], np.array([1]), [2, 1])
    assert TransformCache({"f": sparse}).single_value("f", "c") is None


@pytest.mark.parametrize("shape,x", [
    ((1,), np.array([1, 2, 3], np.int64)), ((1,), np.array([[1.0], [2.0]])),
    ((2,), np.arange(6, dtype=np.float32).reshape(3, 2)), ((2, 1), np.arange(4.0).reshape(2, 2)),
    ((1,), np.zeros(0, np.float32))])
def test_numeric_and_bucketized_as_before(shape, x):
    """dense (reshaped only when needed) and the buckets (searchsorted's method)
    equal the general formulas, NaN, infinities and -0.0 included."""
    col = fc.numeric_column("x", shape=shape)
    got = col.dense(TransformCache({"x": x}))
    raw = x[:, None] if x.ndim == 1 else x
    want = raw.astype(np.float32).reshape((len(raw),) + shape)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if shape == (1,):
        special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5, 10.0], np.float32)
        for v in (x, special):
            b = fc.bucketized_column(fc.numeric_column("x"), [-1.0, 0.0, 1.5, 10.0])
            got = TransformCache({"x": v}).get(b)
            v2 = v[:, None] if v.ndim == 1 else v
            want = np.searchsorted(np.array(b.boundaries), v2.astype(np.float64), side="right")
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, want)
