"""Writes tests/reference/fixtures/canned.npz with TensorFlow 2.15's estimators.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_canned.py

1. Variable names (tf.train.list_variables of the model_dir) of canned models in
   several configurations: keys "names/<config>".
2. Trajectories: the census DNNLinearCombinedClassifier (hidden [100, 75, 50, 25])
   trained 30 steps on the first 30 unshuffled batches of 256 rows, with the
   default optimizers and with a non-default pair; every variable at step 0
   and at step 30: keys "<run>/step0/<name>" and "<run>/step30/<name>".
"""

import os
import shutil
import sys
import tempfile

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from widedeep.datasets import load_adult  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "fixtures", "canned.npz")
fc = tf.feature_column
STEPS, BATCH = 30, 256


def census_columns():
    vocab = fc.categorical_column_with_vocabulary_list
    education = vocab("education", [
        "Bachelors", "HS-grad", "11th", "Masters", "9th", "Some-college", "Assoc-acdm",
        "Assoc-voc", "7th-8th", "Doctorate", "Prof-school", "5th-6th", "10th", "1st-4th",
        "Preschool", "12th"])
    marital = vocab("marital_status", [
        "Married-civ-spouse", "Divorced", "Married-spouse-absent", "Never-married",
        "Separated", "Married-AF-spouse", "Widowed"])
    relationship = vocab("relationship", [
        "Husband", "Not-in-family", "Wife", "Own-child", "Unmarried", "Other-relative"])
    workclass = vocab("workclass", [
        "Self-emp-not-inc", "Private", "State-gov", "Federal-gov", "Local-gov", "?",
        "Self-emp-inc", "Without-pay", "Never-worked"])
    occupation = fc.categorical_column_with_hash_bucket("occupation", 1000)
    age = fc.numeric_column("age")
    age_b = fc.bucketized_column(age, [18, 25, 30, 35, 40, 45, 50, 55, 60, 65])
    wide = [education, marital, relationship, workclass, occupation, age_b,
            fc.crossed_column(["education", "occupation"], 1000),
            fc.crossed_column([age_b, "education", "occupation"], 1000)]
    deep = [age, fc.numeric_column("education_num"), fc.numeric_column("capital_gain"),
            fc.numeric_column("capital_loss"), fc.numeric_column("hours_per_week"),
            fc.indicator_column(workclass), fc.indicator_column(education),
            fc.indicator_column(marital), fc.indicator_column(relationship),
            fc.embedding_column(occupation, 8)]
    return wide, deep


def census_input(n_batches):
    feats, labels = load_adult("train")
    n = n_batches * BATCH
    feats = {k: v[:n] for k, v in feats.items()}
    return lambda: tf.data.Dataset.from_tensor_slices((feats, labels[:n])).batch(BATCH)


def names_of(model_dir):
    return np.array(sorted(n for n, _ in tf.train.list_variables(model_dir)))


def configs():
    wide, deep = census_columns()
    est = tf.estimator
    a = fc.categorical_column_with_hash_bucket("occupation", 50)
    b = fc.categorical_column_with_vocabulary_list("education", ["Bachelors", "HS-grad"])
    seedlike = dict(  # the seed page's example: multi-label head, crossed + embeddings
        head=est.MultiLabelHead(n_classes=3),
        linear_feature_columns=[fc.crossed_column(["occupation", "education"], 100)],
        dnn_feature_columns=[fc.embedding_column(a, 4), fc.embedding_column(b, 3),
                             fc.numeric_column("age")],
        dnn_hidden_units=[8, 4])
    return {
        "classifier": lambda d: est.DNNLinearCombinedClassifier(
            model_dir=d, linear_feature_columns=wide, dnn_feature_columns=deep,
            dnn_hidden_units=[100, 75, 50, 25]),
        "regressor": lambda d: est.DNNLinearCombinedRegressor(
            model_dir=d, linear_feature_columns=wide, dnn_feature_columns=deep,
            dnn_hidden_units=[16, 8]),
        "multilabel": lambda d: est.DNNLinearCombinedEstimator(model_dir=d, **seedlike),
        "batch_norm": lambda d: est.DNNLinearCombinedClassifier(
            model_dir=d, linear_feature_columns=wide, dnn_feature_columns=deep,
            dnn_hidden_units=[16, 8], batch_norm=True),
        "linear_only": lambda d: est.DNNLinearCombinedClassifier(
            model_dir=d, linear_feature_columns=wide),
        "dnn_only": lambda d: est.DNNLinearCombinedClassifier(
            model_dir=d, dnn_feature_columns=deep, dnn_hidden_units=[16, 8]),
    }


def multilabel_input():
    feats, labels = load_adult("train")
    feats = {k: v[:64] for k, v in feats.items()}
    y = np.stack([labels[:64], 1 - labels[:64], labels[:64]], 1)
    return tf.data.Dataset.from_tensor_slices((feats, y)).batch(32)


def trajectory(out, run, make):
    d = tempfile.mkdtemp()
    try:
        est = make(d)
        est.train(census_input(STEPS), steps=STEPS)
        for step in (0, STEPS):
            reader = tf.train.load_checkpoint(os.path.join(d, f"model.ckpt-{step}"))
            for name in reader.get_variable_to_shape_map():
                out[f"{run}/step{step}/{name}"] = reader.get_tensor(name)
    finally:
        shutil.rmtree(d)


def main():
    out = {}
    for name, make in configs().items():
        d = tempfile.mkdtemp()
        try:
            make(d).train(multilabel_input if name == "multilabel" else census_input(1),
                          steps=1)
            out[f"names/{name}"] = names_of(d)
        finally:
            shutil.rmtree(d)
    wide, deep = census_columns()
    keep_all = tf.estimator.RunConfig(keep_checkpoint_max=None, save_checkpoints_steps=STEPS)
    trajectory(out, "default", lambda d: tf.estimator.DNNLinearCombinedClassifier(
        model_dir=d, config=keep_all, linear_feature_columns=wide, dnn_feature_columns=deep,
        dnn_hidden_units=[100, 75, 50, 25]))

    def adam():
        return tf.keras.optimizers.legacy.Adam(learning_rate=tf.compat.v1.train.exponential_decay(
            learning_rate=0.01, global_step=tf.compat.v1.train.get_global_step(),
            decay_steps=10, decay_rate=0.5))
    trajectory(out, "adam_decay", lambda d: tf.estimator.DNNLinearCombinedClassifier(
        model_dir=d, config=keep_all, linear_feature_columns=wide, dnn_feature_columns=deep,
        dnn_hidden_units=[100, 75, 50, 25], dnn_optimizer=adam,
        linear_optimizer=tf.keras.optimizers.legacy.Adagrad(learning_rate=0.05)))
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(out)} arrays to {OUT}")


if __name__ == "__main__":
    main()
