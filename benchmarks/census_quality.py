"""Census wide & deep, 10 epochs at batch 256: test accuracy and AUC of
widedeep and (with --tf, in the reference venv) of TF 2.15, same columns,
same settings, shuffled with a 10,000-row buffer, several seeds.

    .refenv/bin/python benchmarks/census_quality.py --tf --seeds 0 1
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from widedeep.datasets import load_adult  # noqa: E402

EPOCHS, BATCH = 10, 256


def ours(seed):
    from minitf.data import Dataset
    from widedeep.canned import DNNLinearCombinedClassifier
    from widedeep.datasets import census_columns
    from widedeep.estimator import RunConfig
    wide, deep = census_columns()
    d = tempfile.mkdtemp()
    try:
        est = DNNLinearCombinedClassifier(model_dir=d, linear_feature_columns=wide,
                                          dnn_feature_columns=deep,
                                          dnn_hidden_units=[100, 75, 50, 25],
                                          config=RunConfig(tf_random_seed=seed))
        x, y = load_adult("train")
        t = time.perf_counter()
        est.train(lambda: Dataset.from_tensor_slices((x, y)).shuffle(10000, seed=seed)
                  .repeat(EPOCHS).batch(BATCH))
        took = time.perf_counter() - t
        m = est.evaluate(lambda: Dataset.from_tensor_slices(load_adult("test")).batch(1024))
    finally:
        shutil.rmtree(d)
    return {"accuracy": float(m["accuracy"]), "auc": float(m["auc"]), "train_s": took}


def tf_run(seed):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
    from generate_canned import census_columns
    wide, deep = census_columns()
    d = tempfile.mkdtemp()
    try:
        est = tf.estimator.DNNLinearCombinedClassifier(
            model_dir=d, linear_feature_columns=wide, dnn_feature_columns=deep,
            dnn_hidden_units=[100, 75, 50, 25],
            config=tf.estimator.RunConfig(tf_random_seed=seed))
        x, y = load_adult("train")
        t = time.perf_counter()
        est.train(lambda: tf.data.Dataset.from_tensor_slices((x, y)).shuffle(10000, seed=seed)
                  .repeat(EPOCHS).batch(BATCH))
        took = time.perf_counter() - t
        m = est.evaluate(lambda: tf.data.Dataset.from_tensor_slices(load_adult("test"))
                         .batch(1024))
    finally:
        shutil.rmtree(d)
    return {"accuracy": float(m["accuracy"]), "auc": float(m["auc"]), "train_s": took}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tf", action="store_true")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--json")
    a = p.parse_args()
    rows = {"widedeep": [ours(s) for s in a.seeds]}
    if a.tf:
        rows["tf"] = [tf_run(s) for s in a.seeds]
    print(f"census wide & deep, {EPOCHS} epochs of batch {BATCH}, seeds {a.seeds}")
    for k, rs in rows.items():
        acc = np.mean([r["accuracy"] for r in rs])
        auc = np.mean([r["auc"] for r in rs])
        took = np.mean([r["train_s"] for r in rs])
        print(f"  {k:<9} accuracy {acc:.4f}  auc {auc:.4f}  train {took:.1f} s   per seed: "
              f"{[(round(r['accuracy'], 4), round(r['auc'], 4)) for r in rs]}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
