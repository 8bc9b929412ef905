"""The heads' training loss and d loss / d logits without the tape
(`Head.loss_and_logits_gradient`, which the canned model's tape-free step
uses) against the tape: the same bits for every head that has the direct form,
with and without a weight column, under both reductions; None for the heads
and configurations that do not; the same errors; and canned training through
either path ends with the same variables and the same losses."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minitf as tf
import widedeep.estimator as E
import widedeep.heads as H
from minitf.data import Dataset
from widedeep import checkpoint as ckpt
from widedeep.canned import (
    DNNLinearCombinedClassifier,
    DNNLinearCombinedEstimator,
    DNNLinearCombinedRegressor,
    LinearClassifier,
)
from widedeep.datasets import census_columns, load_adult
from widedeep.estimator import RunConfig
from widedeep.heads.base_head import Head

REDUCTIONS = ["sum", "sum_over_batch_size"]


def on_tape(head, labels, logits, features):
    """The loss and its logits gradient as create_estimator_spec's path gives them."""
    with tf.GradientTape() as tape:
        x = tf.constant(logits)
        tape.watch(x)
        loss = head.loss(labels, x, features)
    return loss.numpy(), tape.gradient(loss, x).numpy()


def assert_same_bits(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.isnan(got), np.isnan(want))


def floats32(lo, hi):
    return st.floats(lo, hi, width=32, allow_subnormal=False)


@st.composite
def head_case(draw):
    """(head, labels, float32 logits, features) of a drawn head and batch."""
    kind = draw(st.sampled_from(["binary", "multiclass", "multilabel", "regression",
                                 "logistic"]))
    weighted = draw(st.booleans())
    reduction = draw(st.sampled_from(REDUCTIONS))
    batch = draw(st.integers(1, 40))
    wc = "w" if weighted else None
    k = {"binary": 1, "logistic": 1}.get(kind) or draw(st.integers(2 if kind == "regression"
                                                                   else 3, 5))
    if kind == "regression" and draw(st.booleans()):
        k = 1
    # Logits up to +-90: past the point where exp(-|x|) underflows in float32.
    logits = draw(hnp.arrays(np.float32, (batch, k), elements=floats32(-90, 90)))
    int_labels = hnp.arrays(np.int64, (batch, 1), elements=st.integers(0, k - 1))
    if kind == "binary":
        head = H.BinaryClassHead(wc, loss_reduction=reduction)
        labels = draw(hnp.arrays(np.int64, (batch, 1), elements=st.integers(0, 1)))
    elif kind == "multiclass":
        head = H.MultiClassHead(k, wc, loss_reduction=reduction)
        labels = draw(int_labels)[:, 0]
    elif kind == "multilabel":
        head = H.MultiLabelHead(k, wc, loss_reduction=reduction)
        labels = draw(hnp.arrays(np.int64, (batch, k), elements=st.integers(0, 1)))
    elif kind == "regression":
        head = H.RegressionHead(k, wc, loss_reduction=reduction)
        labels = draw(hnp.arrays(np.float32, (batch, k), elements=floats32(-1e3, 1e3)))
    else:
        head = H.LogisticRegressionHead(wc, loss_reduction=reduction)
        labels = draw(hnp.arrays(np.float32, (batch,), elements=floats32(0, 1)))
    features = {}
    if weighted:
        features["w"] = draw(hnp.arrays(np.float32, (batch, 1), elements=floats32(0, 50)))
    return head, labels, logits, features


@given(head_case())
def test_direct_loss_and_gradient_are_the_tapes(case):
    head, labels, logits, features = case
    want_loss, want_grad = on_tape(head, labels, logits, features)
    loss, grad = head.loss_and_logits_gradient(labels, tf.constant(logits), features)
    assert isinstance(loss, tf.Tensor) and isinstance(grad, np.ndarray)
    assert_same_bits(loss.numpy(), want_loss)
    assert_same_bits(grad, want_grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("make, k, draw_labels", [
    (H.BinaryClassHead, 1, lambda r, b, k: r.integers(0, 2, b)),
    (lambda w, loss_reduction: H.MultiClassHead(4, w, loss_reduction=loss_reduction), 4,
     lambda r, b, k: r.integers(0, k, b)),
    (lambda w, loss_reduction: H.MultiLabelHead(3, w, loss_reduction=loss_reduction), 3,
     lambda r, b, k: r.integers(0, 2, (b, k))),
    (lambda w, loss_reduction: H.RegressionHead(2, w, loss_reduction=loss_reduction), 2,
     lambda r, b, k: r.normal(0, 3, (b, k)).astype(np.float32)),
    (H.LogisticRegressionHead, 1, lambda r, b, k: r.uniform(0, 1, b).astype(np.float32)),
])
def test_direct_equals_tape_over_batch_sizes(make, k, draw_labels, weighted, reduction):
    """Every batch size from 1 to 80 with random values: a division by the
    batch size or a sum in another order would show in some of them."""
    r = np.random.default_rng(7)
    head = make("w" if weighted else None, loss_reduction=reduction)
    for b in range(1, 81):
        logits = r.normal(0, 4, (b, k)).astype(np.float32)
        labels = draw_labels(r, b, k)
        features = {"w": r.uniform(0, 5, (b, 1)).astype(np.float32)}
        want_loss, want_grad = on_tape(head, labels, logits, features)
        loss, grad = head.loss_and_logits_gradient(labels, tf.constant(logits), features)
        assert_same_bits(loss.numpy(), want_loss)
        assert_same_bits(grad, want_grad)


def test_heads_and_configurations_without_the_direct_form():
    x = tf.constant(np.zeros((4, 1), np.float32))
    y = np.array([0, 1, 1, 0])

    class OwnLoss(H.BinaryClassHead):  # another loss: must not be bypassed
        def _unweighted_loss_and_weights(self, logits, labels, features):
            return super()._unweighted_loss_and_weights(logits, labels, features)

    class OwnSpec(H.RegressionHead):
        def create_estimator_spec(self, *args, **kwargs):
            return super().create_estimator_spec(*args, **kwargs)

    class Renamed(H.BinaryClassHead):  # the loss untouched: the direct form holds
        pass

    for head in (H.BinaryClassHead(loss_fn=tf.nn.sigmoid_cross_entropy_with_logits),
                 H.PoissonRegressionHead(), OwnLoss(), OwnSpec()):
        assert head.loss_and_logits_gradient(y, x) is None, head
    assert H.BinaryClassHead().loss_and_logits_gradient(
        y, tf.constant(np.zeros((4, 1)))) is None  # float64 logits
    assert Renamed().loss_and_logits_gradient(y, x) is not None


@pytest.mark.parametrize("head, labels, features, match", [
    (H.BinaryClassHead(), [0, 2, 1], {}, "Labels must be <= n_classes - 1"),
    (H.MultiClassHead(3), [0, 3, 1], {}, "Labels must be <= n_classes - 1"),
    (H.LogisticRegressionHead(), [0.5, 1.5, 0.0], {}, r"range \[0, 1\]"),
    (H.BinaryClassHead("w"), [0, 1, 1], {}, "weight_column 'w' is not in the features"),
    (H.RegressionHead(weight_column="w"), [0.0, 1.0, 2.0], {"w": np.ones((3, 2))},
     r"must have shape \[batch_size, 1\]"),
    (H.BinaryClassHead(), None, {}, "you must provide a labels Tensor"),
])
def test_direct_raises_what_the_tape_raises(head, labels, features, match):
    x = tf.constant(np.zeros((3, head.logits_dimension), np.float32))
    with pytest.raises((ValueError, KeyError), match=match):
        head.loss(labels, x, features)
    with pytest.raises((ValueError, KeyError), match=match):
        head.loss_and_logits_gradient(labels, x, features)


# --- canned training: the direct head against the head on the tape ---------------------
def _census(n=384):
    f, y = load_adult("train")
    f = {k: v[:n] for k, v in f.items()}
    f["w"] = np.random.default_rng(0).uniform(0.25, 4, n).astype(np.float32)
    return f, y[:n].astype(np.int64)


def _estimators():
    wide, deep = census_columns()
    common = dict(linear_feature_columns=wide, dnn_feature_columns=deep,
                  dnn_hidden_units=[16, 8], config=RunConfig(tf_random_seed=5))

    def binary(d, w, r):
        return DNNLinearCombinedClassifier(model_dir=d, weight_column=w, loss_reduction=r,
                                           **common), lambda f, y: y

    def multiclass(d, w, r):
        return (DNNLinearCombinedClassifier(model_dir=d, n_classes=3, weight_column=w,
                                            loss_reduction=r, **common),
                lambda f, y: y + (f["education_num"] > 10))

    def regression(d, w, r):
        return (DNNLinearCombinedRegressor(model_dir=d, label_dimension=2, weight_column=w,
                                           loss_reduction=r, **common),
                lambda f, y: np.stack([f["age"] / 10, y * 3.0], 1).astype(np.float32))

    def multilabel(d, w, r):
        head = H.MultiLabelHead(3, weight_column=w, loss_reduction=r)
        return (DNNLinearCombinedEstimator(head, model_dir=d, **common),
                lambda f, y: np.stack([y, 1 - y, f["age"] > 40], 1).astype(np.int64))

    def linear_only(d, w, r):
        return (LinearClassifier(wide, model_dir=d, weight_column=w, loss_reduction=r,
                                 config=RunConfig(tf_random_seed=5)), lambda f, y: y)

    return {"binary": binary, "multiclass": multiclass, "regression": regression,
            "multilabel": multilabel, "linear_only": linear_only}


class _Fetch(E.SessionRunHook):
    """Fetches the loss and a prediction (lazy in TRAIN) every step."""

    def __init__(self, prediction):
        self.values, self.prediction = [], prediction

    def before_run(self, ctx):
        return E.SessionRunArgs({"loss": "loss", "p": self.prediction})

    def after_run(self, ctx, values):
        self.values.append(values.results)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_column", [None, "w"])
@pytest.mark.parametrize("kind", sorted(_estimators()))
def test_canned_training_direct_equals_tape(tmp_path, monkeypatch, kind, weight_column,
                                            reduction):
    """Six steps with the head's loss and gradient direct (the fast step's
    heads, from the first step) and six on the tape: the same variables and optimizer
    slots, and the same loss and predictions every step, to the bit."""
    f, y = _census()
    real = Head.loss_and_logits_gradient
    calls = []

    def run(name, direct):
        def spy(self, *args, **kwargs):
            calls.append(real(self, *args, **kwargs) if direct else None)
            return calls[-1]
        monkeypatch.setattr(Head, "loss_and_logits_gradient", spy)
        est, label = _estimators()[kind](str(tmp_path / name), weight_column, reduction)
        fetch = _Fetch("predictions" if kind == "regression" else "logits")
        est.train(lambda: Dataset.from_tensor_slices((f, label(f, y))).batch(50),
                  hooks=[fetch], steps=6)
        return ckpt.read(est.latest_checkpoint()), fetch.values

    direct_vars, direct_fetched = run("direct", True)
    assert len(calls) == 6 and all(c is not None for c in calls)  # every step
    tape_vars, tape_fetched = run("tape", False)
    assert sorted(direct_vars) == sorted(tape_vars)
    for k in tape_vars:
        np.testing.assert_array_equal(direct_vars[k], tape_vars[k], err_msg=k)
    assert len(direct_fetched) == len(tape_fetched) == 6
    for a, b in zip(direct_fetched, tape_fetched):
        assert_same_bits(np.asarray(a["loss"]), np.asarray(b["loss"]))
        assert_same_bits(a["p"], b["p"])


def test_a_head_without_the_method_trains_on_the_tape(tmp_path):
    """A head need not be a widedeep Head (create_estimator_spec and
    logits_dimension suffice): it takes the tape, with the same result."""
    class Duck:
        def __init__(self):
            self._head = H.BinaryClassHead()
            self.logits_dimension = 1

        def create_estimator_spec(self, *args, **kwargs):
            return self._head.create_estimator_spec(*args, **kwargs)

    f, y = _census()
    wide, deep = census_columns()
    out = []
    for name, head in (("duck", Duck()), ("head", H.BinaryClassHead())):
        est = DNNLinearCombinedEstimator(head, model_dir=str(tmp_path / name),
                                         linear_feature_columns=wide,
                                         dnn_feature_columns=deep, dnn_hidden_units=[8],
                                         config=RunConfig(tf_random_seed=2))
        est.train(lambda: Dataset.from_tensor_slices((f, y)).batch(50), steps=4)
        out.append(ckpt.read(est.latest_checkpoint()))
    assert sorted(out[0]) == sorted(out[1])
    for k in out[1]:
        np.testing.assert_array_equal(out[0][k], out[1][k], err_msg=k)
