"""Writes the migration fixtures with TensorFlow 2.15's estimator.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_migration.py

1. tests/reference/fixtures/tf_model_dir/: a TF model_dir of the census
   DNNLinearCombinedClassifier (the columns of generate_canned.py, hidden
   [16, 8]) trained 20 steps on the first 20 unshuffled batches of 256 rows.
   Only what a checkpoint restore needs is kept: the ``checkpoint`` state file,
   ``model.ckpt-20.index`` and ``model.ckpt-20.data-00000-of-00001`` (no events,
   graph.pbtxt or .meta).
2. tests/reference/fixtures/migration.npz:
   - ``pred/logistic``, ``pred/class_ids``, ``pred/logits``: TF's predictions on
     the first 2,000 rows of the census test split (batches of EVAL_BATCH);
   - ``eval/<metric>``: TF's evaluate on the same rows and batches;
   - ``step25/<name>``: every variable after 5 more TF training steps
     (steps 21..25 on batches 20..24 of the same unshuffled training data),
     continuing from a copy of the model_dir.
"""

import glob
import os
import shutil
import sys
import tempfile

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from generate_canned import census_columns  # noqa: E402

from widedeep.datasets import load_adult  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")
MODEL_DIR = os.path.join(FIXTURES, "tf_model_dir")
OUT = os.path.join(FIXTURES, "migration.npz")
BATCH, STEPS, MORE_STEPS = 256, 20, 5
HIDDEN = [16, 8]
N_TEST, EVAL_BATCH = 2000, 500
KEEP = ("checkpoint", f"model.ckpt-{STEPS}.index", f"model.ckpt-{STEPS}.data-00000-of-00001")


def train_input(first_batch, n_batches):
    feats, labels = load_adult("train")
    rows = slice(first_batch * BATCH, (first_batch + n_batches) * BATCH)
    feats = {k: v[rows] for k, v in feats.items()}
    return lambda: tf.data.Dataset.from_tensor_slices((feats, labels[rows])).batch(BATCH)


def test_rows():
    feats, labels = load_adult("test")
    return {k: v[:N_TEST] for k, v in feats.items()}, labels[:N_TEST]


def make(model_dir):
    wide, deep = census_columns()
    return tf.estimator.DNNLinearCombinedClassifier(
        model_dir=model_dir, config=tf.estimator.RunConfig(keep_checkpoint_max=1),
        linear_feature_columns=wide, dnn_feature_columns=deep, dnn_hidden_units=HIDDEN)


def main():
    out = {}
    work = tempfile.mkdtemp()
    try:
        trained = os.path.join(work, "trained")
        make(trained).train(train_input(0, STEPS), steps=STEPS)
        # the fixture: only the state file and the last checkpoint's bundle
        if os.path.exists(MODEL_DIR):
            shutil.rmtree(MODEL_DIR)
        os.makedirs(MODEL_DIR)
        for name in KEEP:
            shutil.copy(os.path.join(trained, name), MODEL_DIR)
        with open(os.path.join(MODEL_DIR, "checkpoint"), encoding="utf-8") as f:
            state = f.read()
        assert trained not in state, f"the state file holds absolute paths:\n{state}"

        # predictions and metrics from a copy of the fixture (evaluate writes eval/)
        served = os.path.join(work, "served")
        shutil.copytree(MODEL_DIR, served)
        est = make(served)
        feats, labels = test_rows()
        preds = list(est.predict(
            lambda: tf.data.Dataset.from_tensor_slices(feats).batch(EVAL_BATCH)))
        for key in ("logistic", "class_ids", "logits"):
            out[f"pred/{key}"] = np.stack([p[key] for p in preds])
        metrics = est.evaluate(
            lambda: tf.data.Dataset.from_tensor_slices((feats, labels)).batch(EVAL_BATCH))
        for key, value in metrics.items():
            out[f"eval/{key}"] = np.asarray(value)

        # 5 more steps from another copy of the fixture
        more = os.path.join(work, "more")
        shutil.copytree(MODEL_DIR, more)
        make(more).train(train_input(STEPS, MORE_STEPS), steps=MORE_STEPS)
        reader = tf.train.load_checkpoint(os.path.join(more, f"model.ckpt-{STEPS + MORE_STEPS}"))
        for name in reader.get_variable_to_shape_map():
            out[f"step{STEPS + MORE_STEPS}/{name}"] = reader.get_tensor(name)
    finally:
        shutil.rmtree(work)
    np.savez_compressed(OUT, **out)
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(MODEL_DIR, "*")))
    print(f"wrote {len(out)} arrays to {OUT}; {MODEL_DIR}: {sorted(os.listdir(MODEL_DIR))}, "
          f"{size} bytes")


if __name__ == "__main__":
    main()
