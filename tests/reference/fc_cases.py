"""Feature-column cases shared by the TF fixture generator and our tests.

Each case builds its columns from a feature-column module given as `fc`
(TensorFlow's `tf.feature_column` or `widedeep.feature_column`: they take the
same calls) and its features from a seeded generator, so both sides run the
very same columns on the very same inputs.

    build(fc, dt, tmpdir) -> {"categorical": [...], "linear": [...], "dense": [...]}
    features(sparse) -> {name: ndarray | sparse(indices, values, dense_shape)}

`dt` maps 'int64' / 'string' / 'float32' to the module's dtype objects.
"""

import os

import numpy as np

WORDS = ["a", "b", "c", "", "Bachelors", "naïve", "日本語", "emoji🙂", "x" * 40, "HS-grad"]
VOCAB = ["a", "b", "c", "HS-grad", "naïve"]


def _strings(rng, shape, words=WORDS):
    return np.array(words, dtype=str)[rng.integers(0, len(words), shape)]


def _ragged(rng, batch, max_n, draw, sparse):
    """A multivalent feature: 0..max_n values per example, as a sparse tensor."""
    idx, vals = [], []
    for r in range(batch):
        for j in range(int(rng.integers(0, max_n + 1))):
            idx.append((r, j))
            vals.append(draw())
    values = np.array(vals) if vals else np.zeros(0, str)
    return sparse(np.array(idx, np.int64).reshape(-1, 2), values, [batch, max_n])


def features(sparse, batch=12, seed=0):
    rng = np.random.default_rng(seed)
    i2 = rng.integers(-1, 6, (batch, 2)).astype(np.int64)
    return {
        "age": rng.uniform(10, 80, batch).astype(np.float32),
        "vec": rng.normal(size=(batch, 2)).astype(np.float32),
        "s": _strings(rng, batch),
        "s2": _strings(rng, (batch, 2)),
        "t": _strings(rng, batch, ["p", "q", "r", ""]),
        "i": rng.integers(-1, 40, batch).astype(np.int64),
        "i2": i2,
        # weights sit where the ids are: 0 (dropped, as TF drops it) where i2 is -1
        "w": np.where(i2 < 0, 0.0, rng.uniform(0.1, 3, (batch, 2))).astype(np.float32),
        "multi": _ragged(rng, batch, 3, lambda: str(rng.choice(WORDS[:5])), sparse),
    }


def build(fc, dt, tmpdir):
    """Every column kind, with the argument combinations worth checking."""
    path = os.path.join(tmpdir, "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(VOCAB + ["extra"]) + "\n")
    age = fc.numeric_column("age")
    vec = fc.numeric_column("vec", shape=(2,))
    age_b = fc.bucketized_column(age, [18.0, 25.0, 30.0, 40.0, 65.0])
    vec_b = fc.bucketized_column(vec, [-1.0, 0.0, 1.0])
    hs = fc.categorical_column_with_hash_bucket("s", 100)
    hs2 = fc.categorical_column_with_hash_bucket("s2", 7)
    hi = fc.categorical_column_with_hash_bucket("i", 13, dtype=dt["int64"])
    hm = fc.categorical_column_with_hash_bucket("multi", 11)
    vl = fc.categorical_column_with_vocabulary_list("s", VOCAB)
    vl_oov = fc.categorical_column_with_vocabulary_list("s2", VOCAB, num_oov_buckets=3)
    vl_def = fc.categorical_column_with_vocabulary_list("t", ["p", "q"], default_value=1)
    vl_int = fc.categorical_column_with_vocabulary_list("i", [3, 5, 7, 11], num_oov_buckets=2)
    vf = fc.categorical_column_with_vocabulary_file("multi", path, vocabulary_size=5,
                                                    num_oov_buckets=2)
    ident = fc.categorical_column_with_identity("i2", 6)
    ident_d = fc.categorical_column_with_identity("i", 20, default_value=0)
    weighted = fc.weighted_categorical_column(ident, "w")
    x2 = fc.crossed_column(["s", "t"], 50)
    x3 = fc.crossed_column([age_b, vl, "t"], 1000)
    x_int = fc.crossed_column(["i", vl_def], 30, hash_key=12345)
    x_multi = fc.crossed_column(["multi", "s2"], 40)
    x_nested = fc.crossed_column([x2, ident], 60)
    categorical = [age_b, vec_b, hs, hs2, hi, hm, vl, vl_oov, vl_def, vl_int, vf, ident_d,
                   weighted, x2, x3, x_int, x_multi, x_nested]
    dense = [age, vec, age_b, fc.indicator_column(vl_oov), fc.indicator_column(weighted),
             fc.indicator_column(hm), fc.indicator_column(x3),
             fc.embedding_column(vl, 3), fc.embedding_column(x2, 2, combiner="sqrtn"),
             fc.embedding_column(weighted, 4, combiner="sum"),
             fc.embedding_column(vf, 2, combiner="mean")]
    linear = [age, vec, age_b, hs, vl_oov, vl_def, vl_int, vf, weighted, x2, x3,
              x_multi]
    return {"categorical": categorical, "dense": dense, "linear": linear}


def table_values(name, shape):
    """Deterministic, distinct values for a variable (set on both sides)."""
    rng = np.random.default_rng(abs(hash_name(name)) % (2**32))
    return rng.normal(size=shape).astype(np.float32)


def hash_name(name):
    h = 0
    for ch in name.encode():
        h = (h * 131 + ch) % (2**61 - 1)
    return h
