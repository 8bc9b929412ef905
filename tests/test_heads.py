"""Heads: loss, predictions and streamed metrics equal TF 2.15's heads; errors."""

import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitf as tf
import widedeep.heads as H
from widedeep import metrics as M

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "reference"))
import head_cases  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "reference", "fixtures", "heads.npz")
AUC_KEYS = ("auc", "auc_precision_recall")


@pytest.fixture(scope="module")
def fixture():
    return np.load(FIXTURE, allow_pickle=False)


def _run(name):
    build, _, _ = head_cases.cases()[name]
    head = build(H)
    metrics = head.metrics()
    losses, preds = [], []
    for features, labels, logits in head_cases.batches(name):
        z = tf.constant(logits)
        losses.append(head.loss(labels, z, features).numpy())
        preds.append(head.predictions(z))
        head.update_metrics(metrics, features, z, labels)
    return head, losses, preds, {k: m.result() for k, m in metrics.items()}


@pytest.mark.parametrize("name", list(head_cases.cases()))
def test_head_equals_tf(fixture, name):
    _, losses, preds, results = _run(name)
    for i, loss in enumerate(losses):
        np.testing.assert_allclose(loss, fixture[f"{name}/loss{i}"], rtol=1e-5, atol=1e-6)
        want_keys = {k.split("/", 2)[2] for k in fixture.files
                     if k.startswith(f"{name}/pred{i}/")}
        assert set(preds[i]) == want_keys
        for k, v in preds[i].items():
            want = fixture[f"{name}/pred{i}/{k}"]
            if want.dtype.kind == "U":
                assert np.array_equal(np.char.decode(v.astype(bytes), "utf-8"), want), k
            else:
                assert v.dtype == want.dtype, (k, v.dtype, want.dtype)
                np.testing.assert_allclose(v, want, rtol=1e-5, atol=1e-6, err_msg=k)
    want = {k.split("/metric/", 1)[1]: fixture[k] for k in fixture.files
            if k.startswith(f"{name}/metric/")}
    assert set(results) == set(want)
    for k, v in results.items():
        tol = 1e-4 if k.split("/")[0] in AUC_KEYS else 1e-5
        np.testing.assert_allclose(v, want[k], rtol=tol, atol=tol, err_msg=k)


def test_metric_keys_match_tf_facts():
    # TF-FACTS: the keys tf.estimator reports for these heads (plus loss, global_step).
    binary = H.BinaryClassHead(weight_column="w", thresholds=[0.3, 0.7]).metrics()
    assert sorted(binary) == sorted([
        "accuracy", "accuracy/positive_threshold_0.3", "accuracy/positive_threshold_0.7",
        "accuracy_baseline", "auc", "auc_precision_recall", "average_loss", "label/mean",
        "precision", "precision/positive_threshold_0.3", "precision/positive_threshold_0.7",
        "prediction/mean", "recall", "recall/positive_threshold_0.3",
        "recall/positive_threshold_0.7"])
    ml = H.MultiLabelHead(3, weight_column="w", classes_for_class_based_metrics=[0, 2])
    assert sorted(ml.metrics()) == sorted([
        "auc", "auc/class0", "auc/class2", "auc_precision_recall",
        "auc_precision_recall/class0", "auc_precision_recall/class2", "average_loss",
        "probability_mean/class0", "probability_mean/class2"])
    assert sorted(H.PoissonRegressionHead().predictions(np.zeros((1, 1), np.float32))) == [
        "logits", "predictions"]


@pytest.mark.parametrize("make, labels, logits, match", [
    (lambda: H.BinaryClassHead(), [[2]], [[0.0]], r"Labels must be <= n_classes - 1"),
    (lambda: H.BinaryClassHead(), [[-1]], [[0.0]], r"Labels must be >= 0"),
    (lambda: H.BinaryClassHead(label_vocabulary=["a", "b"]), [["c"]], [[0.0]],
     r"label 'c' is not in label_vocabulary"),
    (lambda: H.BinaryClassHead(), [["a"]], [[0.0]], r"Labels dtype should be integer"),
    (lambda: H.MultiClassHead(3), [[3]], [[0.0, 0, 0]], r"Labels must be <= n_classes - 1"),
    (lambda: H.MultiClassHead(3), [[0], [1]], [[0.0, 0, 0]], r"labels have 2 rows"),
    (lambda: H.MultiLabelHead(3), [[0, 1]], [[0.0, 0, 0]], r"Expected labels dimension=3"),
    (lambda: H.MultiLabelHead(3), [[0, 2, 1]], [[0.0, 0, 0]], r"integer indicator"),
    (lambda: H.RegressionHead(label_dimension=2), [[1.0]], [[0.0, 0.0]],
     r"Expected labels dimension=2"),
    (lambda: H.LogisticRegressionHead(), [[1.5]], [[0.0]], r"range \[0, 1\]"),
])
def test_bad_labels_raise_naming_the_head(make, labels, logits, match):
    head = make()
    with pytest.raises(ValueError, match=match) as e:
        head.loss(np.array(labels), tf.constant(np.array(logits, np.float32)))
    assert type(head).__name__ in str(e.value)


def test_constructor_errors():
    with pytest.raises(ValueError, match="n_classes must be > 2"):
        H.MultiClassHead(2)
    with pytest.raises(ValueError, match="thresholds not in"):
        H.BinaryClassHead(thresholds=[1.0])
    with pytest.raises(ValueError, match="Invalid loss_reduction"):
        H.BinaryClassHead(loss_reduction="none")
    with pytest.raises(ValueError, match="label_vocabulary should be a list"):
        H.BinaryClassHead(label_vocabulary="ab")
    with pytest.raises(KeyError, match="weight_column 'w'"):
        H.BinaryClassHead(weight_column="w").loss(np.array([[1]]),
                                                  tf.constant(np.zeros((1, 1), np.float32)))


def test_loss_is_differentiable():
    head = H.MultiClassHead(3, weight_column="w")
    logits = tf.Variable(np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]], np.float32))
    with tf.GradientTape() as tape:
        loss = head.loss(np.array([1, 2]), logits, {"w": np.array([1.0, 3.0])})
    g = tape.gradient(loss, logits).numpy()
    p = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(1, keepdims=True)
    onehot = np.eye(3)[[1, 2]]
    # d/dz of sum_i w_i CE_i / 2 = w_i (p_i - y_i) / 2
    np.testing.assert_allclose(g, (p - onehot) * np.array([[1.0], [3.0]]) / 2, rtol=1e-5)


def test_streaming_auc_equals_one_shot():
    rng = np.random.default_rng(1)
    y, p, w = rng.integers(0, 2, 500), rng.random(500).astype(np.float32), rng.random(500)
    whole, parts = M.AUC(), M.AUC()
    whole.update_state(y, p, w)
    for k in range(0, 500, 64):
        parts.update_state(y[k:k + 64], p[k:k + 64], w[k:k + 64])
    np.testing.assert_allclose(parts.result(), whole.result(), rtol=1e-5)
    assert 0.4 < whole.result() < 0.6  # random scores


@pytest.mark.tf
@settings(max_examples=15)
@given(st.sampled_from(list(head_cases.cases())), st.integers(0, 2**31),
       st.lists(st.integers(1, 512), min_size=1, max_size=3))
def test_live_heads_equal_tf(name, seed, sizes):
    import tensorflow as ttf
    build, make_labels, dim = head_cases.cases()[name]

    class Module:
        def __getattr__(self, attr):
            cls = getattr(ttf.estimator, attr)

            def make(**kw):
                if kw.get("loss_reduction") == "sum":
                    kw["loss_reduction"] = ttf.losses.Reduction.SUM
                return cls(**kw)
            return make
    ours, theirs = build(H), build(Module())
    om, tm = ours.metrics(), theirs.metrics()
    rng = np.random.default_rng(seed)
    for n in sizes:
        logits = (rng.normal(size=(n, dim)) * 3).astype(np.float32)
        labels = make_labels(rng, n)
        feats = {"w": rng.uniform(0.1, 2, (n, 1)).astype(np.float32)}
        np.testing.assert_allclose(ours.loss(labels, tf.constant(logits), feats).numpy(),
                                   theirs.loss(labels, ttf.constant(logits), feats).numpy(),
                                   rtol=1e-5, atol=1e-6)
        ours.update_metrics(om, feats, tf.constant(logits), labels)
        theirs.update_metrics(tm, feats, ttf.constant(logits), labels)
    for k in tm:
        tol = 1e-4 if k.split("/")[0] in AUC_KEYS else 1e-5
        np.testing.assert_allclose(om[k].result(), tm[k].result().numpy(), rtol=tol,
                                   atol=tol, err_msg=k)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-200, 200, width=32) | st.sampled_from([0.0, -0.0, float("nan")]),
                min_size=1, max_size=40))
def test_binary_probabilities_are_softmax_of_zero_and_the_logit(values):
    """predictions() takes softmax([0, z])'s max and sum as maximum(0, z) and
    e0 + e1: the same bits as the axis-1 reductions."""
    z = np.array(values, np.float32)[:, None]
    two = np.concatenate([np.zeros_like(z), z], axis=1)
    e = np.exp(two - two.max(axis=1, keepdims=True))
    want = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    got = H.BinaryClassHead().predictions(z)["probabilities"]
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
