"""Writes tests/reference/fixtures/feature_columns.npz with TensorFlow 2.15.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_feature_columns.py

For the columns and features of `fc_cases.py`: each categorical column's ids
(and weights) as TF's get_sparse_tensors gives them; the canned estimators'
LinearModel logits for sparse_combiner sum / mean / sqrtn with known weights;
DenseFeatures' output with known embedding tables. Keys are
"seed<k>/cat<i>/indices" etc. (i: position in the case list),
"linear_<combiner>/logits", "dense/out".
"""

import os
import sys
import tempfile

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402
from tensorflow.python.feature_column import feature_column_v2 as fc2  # noqa: E402
from tensorflow_estimator.python.estimator.canned import linear  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import fc_cases  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "fixtures", "feature_columns.npz")
DT = {"int64": tf.int64, "string": tf.string, "float32": tf.float32}


def tf_features(seed):
    return fc_cases.features(lambda i, v, s: tf.SparseTensor(i, v, s), seed=seed)


def short(var_name):
    """'linear_model/age/weights:0' -> 'age/weights' (the part both sides share)."""
    name = var_name.split(":")[0]
    return name.split("/", 1)[1] if "/" in name else name


def run(seed, out):
    tmp = tempfile.mkdtemp()
    cols = fc_cases.build(tf.feature_column, DT, tmp)
    feats = tf_features(seed)
    p = f"seed{seed}/"
    cache = fc2.FeatureTransformationCache(feats)
    for k, c in enumerate(cols["categorical"]):
        ids, w = c.get_sparse_tensors(cache, None)
        out[p + f"cat{k}/indices"] = ids.indices.numpy()
        out[p + f"cat{k}/values"] = ids.values.numpy()
        out[p + f"cat{k}/dense_shape"] = ids.dense_shape.numpy()
        if w is not None:
            out[p + f"cat{k}/weights"] = w.values.numpy()
    for combiner in ("sum", "mean", "sqrtn"):
        lm = linear.LinearModel(cols["linear"], units=2, sparse_combiner=combiner,
                                name="linear_model")
        lm(feats)  # builds the variables
        for v in lm.variables:
            v.assign(fc_cases.table_values(short(v.name), v.shape))
        out[p + f"linear_{combiner}/logits"] = lm(feats).numpy()
    df = tf.keras.layers.DenseFeatures(cols["dense"])
    df(feats)
    for v in df.variables:
        v.assign(fc_cases.table_values(short(v.name), v.shape))
    out[p + "dense/out"] = df(feats).numpy()


def main():
    out = {}
    for seed in range(3):
        run(seed, out)
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(out)} arrays to {OUT}")


if __name__ == "__main__":
    main()
