"""Feature columns: ids, linear logits and DNN inputs equal to TF 2.15's; JSON
round trips; the errors a user meets."""

import json
import os
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitf as tf
import widedeep.feature_column as fc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "reference"))
import fc_cases  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "reference", "fixtures",
                       "feature_columns.npz")
DT = {"int64": "int64", "string": "string", "float32": "float32"}


def our_features(seed):
    return fc_cases.features(lambda i, v, s: tf.SparseTensor(i, v, s), seed=seed)


def short(name):
    name = name.split(":")[0]
    return name.split("/", 1)[1] if "/" in name else name


@pytest.fixture(scope="module")
def fixture():
    return np.load(FIXTURE, allow_pickle=False)


@pytest.fixture(scope="module")
def columns(tmp_path_factory):
    return fc_cases.build(fc, DT, str(tmp_path_factory.mktemp("vocab")))


# --- parity with TF (fixtures) --------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_categorical_ids_equal_tf(fixture, columns, seed):
    cache = fc.TransformCache(our_features(seed))
    for k, c in enumerate(columns["categorical"]):
        key = f"seed{seed}/cat{k}/"
        ids, w = c.id_weight_pair(cache)
        np.testing.assert_array_equal(ids.indices, fixture[key + "indices"], err_msg=c.name)
        np.testing.assert_array_equal(ids.values, fixture[key + "values"], err_msg=c.name)
        np.testing.assert_array_equal(ids.dense_shape, fixture[key + "dense_shape"],
                                      err_msg=c.name)
        assert ids.values.dtype == np.int64
        if key + "weights" in fixture:
            np.testing.assert_array_equal(w.values, fixture[key + "weights"], err_msg=c.name)
        else:
            assert w is None, c.name


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
def test_linear_model_logits_equal_tf(fixture, columns, seed, combiner):
    lm = fc.LinearModel(columns["linear"], units=2, sparse_combiner=combiner,
                        name="linear_model", scope=None)
    for v in lm.variables:
        v.assign(fc_cases.table_values(short(v.name), v.shape))
    out = lm(our_features(seed))
    np.testing.assert_allclose(out.numpy(), fixture[f"seed{seed}/linear_{combiner}/logits"],
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_features_equal_tf(fixture, columns, seed):
    df = fc.DenseFeatures(columns["dense"], name="dense_features", scope=None)
    for v in df.variables:
        v.assign(fc_cases.table_values(short(v.name), v.shape))
    out = df(our_features(seed))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), fixture[f"seed{seed}/dense/out"], rtol=1e-5,
                               atol=1e-6)


# --- variables, names and gradients ----------------------------------------------------------
def test_variable_names_and_shapes_are_tfs(columns):
    lm = fc.LinearModel(columns["linear"])
    names = {v.name: v.shape for v in lm.variables}
    assert names["linear/linear_model/age/weights:0"] == (1, 1)
    assert names["linear/linear_model/vec/weights:0"] == (2, 1)
    assert names["linear/linear_model/age_bucketized/weights:0"] == (6, 1)  # 5 boundaries
    assert names["linear/linear_model/s_X_t/weights:0"] == (50, 1)
    assert names["linear/linear_model/age_bucketized_X_s_X_t/weights:0"] == (1000, 1)
    assert names["linear/linear_model/i2_weighted_by_w/weights:0"] == (6, 1)
    assert names["linear/linear_model/s2/weights:0"] == (8, 1)  # 5 words + 3 OOV buckets
    assert names["linear/linear_model/bias_weights:0"] == (1,)
    df = fc.DenseFeatures(columns["dense"])
    tables = {v.name: v.shape for v in df.variables}
    assert tables["dnn/input_from_feature_columns/input_layer/s_embedding/"
                  "embedding_weights:0"] == (5, 3)


def test_shared_embeddings_share_one_table():
    a = fc.categorical_column_with_vocabulary_list("a", ["x", "y", "z"])
    b = fc.categorical_column_with_identity("b", 3)
    sa, sb = fc.shared_embeddings([a, b], 2)
    assert sa.name == "a_shared_embedding"
    df = fc.DenseFeatures([sa, sb])
    (table,) = df.variables
    assert table.name == "a_b_shared_embedding:0" and table.shape == (3, 2)
    table.assign(np.arange(6, dtype=np.float32).reshape(3, 2))
    out = df({"a": np.array(["y", "q"]), "b": np.array([2, 0])})
    # row 0: a='y' -> table[1] = [2, 3]; b=2 -> table[2] = [4, 5]
    # row 1: a='q' is out of vocabulary -> zeros; b=0 -> table[0] = [0, 1]
    np.testing.assert_array_equal(out.numpy(), [[2, 3, 4, 5], [0, 0, 0, 1]])


def test_gradients_reach_linear_weights_sparsely(columns):
    lm = fc.LinearModel(columns["linear"])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(lm(our_features(0)))
    grads = dict(zip([v.name for v in lm.variables], tape.gradient(loss, lm.variables)))
    g = grads["linear/linear_model/s_X_t/weights:0"]
    assert isinstance(g, tf.IndexedSlices)  # only the touched rows
    assert len(g.indices) <= 12
    # d sum(logits) / d bias = batch size
    np.testing.assert_array_equal(np.asarray(grads["linear/linear_model/bias_weights:0"]), [12])


# --- JSON round trip ---------------------------------------------------------------------------
def test_every_kind_round_trips_through_json(columns):
    cache = fc.TransformCache(our_features(1))
    every = columns["categorical"] + columns["dense"] + fc.shared_embeddings(
        [columns["categorical"][6], fc.categorical_column_with_identity("i", 5)], 3)
    for c in every:
        text = json.dumps(fc.serialize(c))
        back = fc.deserialize(json.loads(text))
        assert back == c and type(back) is type(c), c.name
        if isinstance(c, fc.CategoricalColumn):
            a, b = c.id_weight_pair(cache), back.id_weight_pair(fc.TransformCache(cache.features))
            np.testing.assert_array_equal(a.id_tensor.values, b.id_tensor.values)


def test_normalizer_fn_trains_but_refuses_export():
    c = fc.numeric_column("x", normalizer_fn=lambda x: (x - 3.0) / 2.0)
    out = fc.TransformCache({"x": np.array([3.0, 5.0])}).get(c)
    np.testing.assert_array_equal(out, [[0.0], [1.0]])
    with pytest.raises(ValueError, match="normalizer_fn .* cannot be written to JSON"):
        fc.serialize(c)


# --- errors -----------------------------------------------------------------------------------
def test_missing_feature_names_column_and_features_present():
    c = fc.categorical_column_with_hash_bucket("occupation", 10)
    with pytest.raises(KeyError, match=r"'occupation'.*given: \['age'\]"):
        fc.LinearModel([c])({"age": np.array([1.0])})


def test_wrong_dtype_names_column():
    c = fc.categorical_column_with_vocabulary_list("edu", ["a", "b"])
    with pytest.raises(ValueError, match="'edu'.*string.*int"):
        fc.TransformCache({"edu": np.array([1, 2])}).get(c)
    n = fc.numeric_column("age", shape=(2,))
    with pytest.raises(ValueError, match=r"'age'.*2 value\(s\) per example.*\(3,\)"):
        fc.TransformCache({"age": np.ones((4, 3))}).get(n)
    with pytest.raises(ValueError, match="'age'.*expected numbers"):
        fc.TransformCache({"age": np.array(["x"])}).get(n)


def test_duplicate_columns_rejected():
    a = fc.numeric_column("a")
    with pytest.raises(ValueError, match=r"duplicate feature column names \['a'\]"):
        fc.LinearModel([a, fc.numeric_column("a")])


def test_categorical_in_dnn_rejected():
    with pytest.raises(ValueError, match="'e' is categorical; wrap it"):
        fc.DenseFeatures([fc.categorical_column_with_identity("e", 3)])


def test_vocabulary_file_errors(tmp_path):
    with pytest.raises(ValueError, match="cannot be read: .*nope.txt"):
        fc.categorical_column_with_vocabulary_file("v", str(tmp_path / "nope.txt"))
    p = tmp_path / "v.txt"
    p.write_text("a\nb\n")
    with pytest.raises(ValueError, match="vocabulary_size is 3 but .* has only 2 lines"):
        fc.categorical_column_with_vocabulary_file("v", str(p), vocabulary_size=3)


@pytest.mark.parametrize("call, match", [
    (lambda: fc.numeric_column("a", shape=(0,)), "greater than 0"),
    (lambda: fc.bucketized_column(fc.numeric_column("a"), [3, 1]), "sorted"),
    (lambda: fc.categorical_column_with_hash_bucket("a", 0), "at least 1"),
    (lambda: fc.categorical_column_with_vocabulary_list("a", []), "non-empty"),
    (lambda: fc.categorical_column_with_vocabulary_list("a", ["x", "x"]), "duplicate"),
    (lambda: fc.categorical_column_with_vocabulary_list("a", ["x"], default_value=0,
                                                        num_oov_buckets=1), "both"),
    (lambda: fc.categorical_column_with_identity("a", 0), "num_buckets"),
    (lambda: fc.crossed_column(["a"], 10), "length > 1"),
    (lambda: fc.crossed_column([fc.categorical_column_with_hash_bucket("h", 5), "b"], 10),
     "hash_bucket"),
    (lambda: fc.embedding_column(fc.categorical_column_with_identity("a", 3), 0), "dimension"),
    (lambda: fc.embedding_column(fc.categorical_column_with_identity("a", 3), 2,
                                 combiner="max"), "combiner"),
    (lambda: fc.shared_embeddings([fc.categorical_column_with_identity("a", 3),
                                   fc.categorical_column_with_identity("b", 4)], 2),
     "same number of buckets"),
])
def test_constructor_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_identity_out_of_range_without_default():
    c = fc.categorical_column_with_identity("k", 3)
    with pytest.raises(ValueError, match=r"'k': value 5 is not in \[0, 3\)"):
        fc.TransformCache({"k": np.array([1, 5])}).get(c)


def test_inputs_lists_of_lists_and_bytes():
    c = fc.categorical_column_with_vocabulary_list("k", ["a", "b", "c"])
    ids, _ = c.id_weight_pair(fc.TransformCache({"k": [["a", "c"], [], ["b"]]}))
    np.testing.assert_array_equal(ids.values, [0, 2, 1])
    np.testing.assert_array_equal(ids.indices, [[0, 0], [0, 1], [2, 0]])
    ids2, _ = c.id_weight_pair(fc.TransformCache({"k": np.array([b"c", b"", b"a"])}))
    np.testing.assert_array_equal(ids2.values, [2, 0])  # '' is missing: dropped
    np.testing.assert_array_equal(ids2.indices, [[0, 0], [2, 0]])


# --- live against TF ----------------------------------------------------------------------------
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@pytest.mark.tf
@given(st.lists(st.lists(TEXT, min_size=2, max_size=2), min_size=1, max_size=20),
       st.lists(st.integers(-3, 50), min_size=20, max_size=20),
       st.integers(1, 10**6), st.sampled_from([None, 7, 2**40]))
def test_live_ids_equal_tf(rows, ints, buckets, hash_key):
    import tensorflow as ttf
    from tensorflow.python.feature_column import feature_column_v2 as fc2
    s = np.array(rows, dtype=str)
    i = np.array(ints[:len(rows)], np.int64)
    feats = {"s": s, "i": i}
    dts = {"int64": ttf.int64}

    def make(m, dt):
        vocab = sorted({r[0] for r in rows if r[0]})[:3] or ["a"]
        return [m.categorical_column_with_hash_bucket("s", buckets),
                m.categorical_column_with_hash_bucket("i", buckets, dtype=dt["int64"]),
                m.categorical_column_with_vocabulary_list("s", vocab, num_oov_buckets=3),
                m.crossed_column(["s", "i"], buckets, hash_key=hash_key),
                m.crossed_column([m.categorical_column_with_identity("i", 51, default_value=0),
                                  "s"], buckets)]
    ours = make(fc, DT)
    theirs = make(ttf.feature_column, dts)
    cache = fc.TransformCache(feats)
    tcache = fc2.FeatureTransformationCache(feats)
    for a, b in zip(ours, theirs):
        got = a.id_weight_pair(cache).id_tensor
        want = b.get_sparse_tensors(tcache, None).id_tensor
        np.testing.assert_array_equal(got.indices, want.indices.numpy(), err_msg=a.name)
        np.testing.assert_array_equal(got.values, want.values.numpy(), err_msg=a.name)


@pytest.mark.tf
def test_live_vocabulary_entry_with_trailing_nul_and_hash_key_0_as_tf():
    """A vocabulary entry ending in NUL is a key of its own in TF, which no
    NumPy string (they drop trailing NULs) equals: '0' is out of vocabulary
    there, not the entry '0\\x00'. crossed_column reads hash_key=0 as the
    default key, as TF's ``hash_key or default`` does."""
    import tensorflow as ttf
    from tensorflow.python.feature_column import feature_column_v2 as fc2
    feats = {"s": np.array(["0", "a", "b", "0"]), "i": np.array([1, 2, 3, 4], np.int64)}

    def make(m):
        return [m.categorical_column_with_vocabulary_list("s", ["0\x00", "a", "b\x00c"],
                                                          num_oov_buckets=3),
                m.categorical_column_with_vocabulary_list("s", ["a", "0\x00"]),
                m.crossed_column(["s", "i"], 1000, hash_key=0)]
    cache, tcache = fc.TransformCache(feats), fc2.FeatureTransformationCache(feats)
    for a, b in zip(make(fc), make(ttf.feature_column)):
        got = a.id_weight_pair(cache).id_tensor
        want = b.get_sparse_tensors(tcache, None).id_tensor
        np.testing.assert_array_equal(got.values, want.values.numpy(), err_msg=a.name)
        np.testing.assert_array_equal(got.indices, want.indices.numpy(), err_msg=a.name)
    # and the one-value fast lanes agree with the general path
    fresh = fc.TransformCache(feats)
    for a in make(fc):
        single = fresh.single_ids(a)
        if single is not None:
            np.testing.assert_array_equal(single, a.id_weight_pair(cache).id_tensor.values)


def test_crossed_hash_key_0_is_the_default_key():
    feats = {"s": np.array(["x", "y"]), "i": np.array([1, 2], np.int64)}
    ids = [fc.crossed_column(["s", "i"], 10**6, hash_key=k).id_weight_pair(
        fc.TransformCache(feats)).id_tensor.values for k in (None, 0, 7)]
    np.testing.assert_array_equal(ids[0], ids[1])
    assert (ids[0] != ids[2]).any()
