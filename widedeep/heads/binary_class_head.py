"""`BinaryClassHead`: one logit per example, sigmoid cross entropy.

    loss        = sigmoid_cross_entropy(labels, logits) * weights, reduced
                  (on the tape, or directly: base_head.Head.loss_and_logits_gradient)
    logistic    = sigmoid(logits)
    probabilities = softmax([0, logit])        class_ids = argmax([0, logit])
"""

import numpy as np

import minitf as tf
from widedeep import metrics as M
from widedeep.export_output import ClassificationOutput, PredictOutput, RegressionOutput
from widedeep.heads.base_head import (
    CLASSIFY_KEY,
    DEFAULT_SERVING_KEY,
    PREDICT_KEY,
    REGRESS_KEY,
    Head,
    MetricKeys,
    PredictionKeys,
    Reduction,
    _np,
    check_loss_reduction,
    class_strings,
    example_weights,
    labels_2d,
    vocabulary_ids,
)

K, P = MetricKeys, PredictionKeys


def sigmoid_cross_entropy_direct(y, x):
    """sigmoid_cross_entropy_with_logits without the tape: the op's own forward
    and backward functions (so its bits), the logits' gradient only."""
    out, backward = tf.nn.sigmoid_cross_entropy_with_logits.primitive(y, x)
    return out, lambda g: backward(g)[1]


def check_vocabulary(label_vocabulary, n, head):
    if label_vocabulary is None:
        return None
    if not isinstance(label_vocabulary, (list, tuple)):
        raise ValueError(f"{head}: label_vocabulary should be a list or tuple. Given type: "
                         f"{type(label_vocabulary)}")
    if len(label_vocabulary) != n:
        raise ValueError(f"{head}: label_vocabulary must have {n} entries, got "
                         f"{len(label_vocabulary)}")
    if len(set(label_vocabulary)) != n:
        raise ValueError(f"{head}: label_vocabulary has duplicates: {list(label_vocabulary)}")
    return tuple(label_vocabulary)


def check_thresholds(thresholds, head):
    thresholds = tuple(thresholds) if thresholds else ()
    for t in thresholds:
        if not 0 < t < 1:
            raise ValueError(f"{head}: thresholds not in (0, 1): {thresholds}.")
    return thresholds


def class_ids_in_range(y, n, head):
    """Integer class labels, checked to be in [0, n)."""
    if y.dtype.kind not in "iuf":
        raise ValueError(f"{head}: Labels dtype should be integer. Instead got {y.dtype}. "
                         f"(String labels need label_vocabulary.)")
    if y.size and y.min() < 0:
        raise ValueError(f"{head}: Labels must be >= 0; got {y.min()}")
    if y.size and y.max() > n - 1:
        raise ValueError(f"{head}: Labels must be <= n_classes - 1 = {n - 1}; got {y.max()}")
    return y


class BinaryClassHead(Head):
    """Args (TF's): weight_column, thresholds (extra accuracy/precision/recall
    thresholds in (0, 1)), label_vocabulary (two strings), loss_reduction
    ('sum_over_batch_size' or 'sum'), loss_fn(labels, logits) -> [batch, 1], name."""

    def __init__(self, weight_column=None, thresholds=None, label_vocabulary=None,
                 loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, loss_fn=None, name=None):
        self._name = name
        head = self._head_name()
        self._weight_column = weight_column
        self._thresholds = check_thresholds(thresholds, head)
        self._label_vocabulary = check_vocabulary(label_vocabulary, 2, head)
        self._loss_reduction = check_loss_reduction(loss_reduction, head)
        if loss_fn is not None and not callable(loss_fn):
            raise ValueError(f"{head}: loss_fn must be callable, got {loss_fn!r}")
        self._loss_fn = loss_fn
        self._logits_dimension = 1

    def _labels(self, logits, labels):
        head = self._head_name()
        y = labels_2d(labels, 1, head, logits)
        if self._label_vocabulary is not None:
            y = vocabulary_ids(y, self._label_vocabulary, head)
        return class_ids_in_range(y, 2, head).astype(np.float32)

    def _unweighted_loss_and_weights(self, logits, labels, features):
        y = self._labels(logits, labels)
        if self._loss_fn is not None:
            loss = self._loss_fn(labels=y, logits=logits)
        else:
            loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)
        return loss, example_weights(features, self._weight_column, logits, self._head_name())

    def _direct_element_loss(self, y, x):
        return sigmoid_cross_entropy_direct(y, x)

    def predictions(self, logits, keys=None):
        z = _np(logits).astype(np.float32)
        two = np.concatenate([np.zeros_like(z), z], axis=1)
        # softmax([0, z]): the max and the sum over the two columns are
        # maximum(0, z) and e0 + e1, what the axis-1 reductions compute, in
        # one call each
        e = np.exp(two - np.maximum(two[:, :1], z))
        ids = np.argmax(two, axis=1)[:, None].astype(np.int64)
        all_ids = np.empty((len(z), 2), np.int32)
        all_ids[:] = (0, 1)  # np.tile's rows, without its reshapes
        names = class_strings(np.arange(2), self._label_vocabulary)  # one table, both keys
        out = {P.LOGITS: z, P.LOGISTIC: tf.sigmoid.primitive(z)[0],  # the op, off the tape
               P.PROBABILITIES: (e / (e[:, :1] + e[:, 1:])).astype(np.float32),
               P.CLASS_IDS: ids, P.CLASSES: names[ids],
               P.ALL_CLASS_IDS: all_ids, P.ALL_CLASSES: names[all_ids]}
        return out if keys is None else {k: out[k] for k in keys}

    def export_outputs(self, predictions):
        cls = ClassificationOutput(scores=predictions[P.PROBABILITIES],
                                   classes=predictions[P.ALL_CLASSES])
        return {DEFAULT_SERVING_KEY: cls, CLASSIFY_KEY: cls,
                REGRESS_KEY: RegressionOutput(value=predictions[P.LOGISTIC]),
                PREDICT_KEY: PredictOutput(predictions)}

    def metrics(self, regularization_losses=None):
        k = self._key
        out = {k(K.LOSS_MEAN): M.Mean(K.LOSS_MEAN), k(K.ACCURACY): M.Accuracy(K.ACCURACY),
               k(K.PRECISION): M.Precision(K.PRECISION), k(K.RECALL): M.Recall(K.RECALL),
               k(K.PREDICTION_MEAN): M.Mean(K.PREDICTION_MEAN),
               k(K.LABEL_MEAN): M.Mean(K.LABEL_MEAN),
               k(K.ACCURACY_BASELINE): M.Mean(K.ACCURACY_BASELINE),
               k(K.AUC): M.AUC(name=K.AUC), k(K.AUC_PR): M.AUC(curve="PR", name=K.AUC_PR)}
        if regularization_losses is not None:
            out[k(K.LOSS_REGULARIZATION)] = M.Mean(K.LOSS_REGULARIZATION)
        for t in self._thresholds:
            out[k(K.ACCURACY_AT_THRESHOLD % t)] = M.BinaryAccuracy(threshold=t)
            out[k(K.PRECISION_AT_THRESHOLD % t)] = M.Precision(thresholds=t)
            out[k(K.RECALL_AT_THRESHOLD % t)] = M.Recall(thresholds=t)
        return out

    def update_metrics(self, eval_metrics, features, logits, labels,
                       regularization_losses=None):
        logits = self._check_logits(logits)
        preds = self.predictions(logits)
        y = self._labels(logits, labels)
        loss, w = self._unweighted_loss_and_weights(logits, labels, features)
        k = self._key
        eval_metrics[k(K.LOSS_MEAN)].update_state(_np(loss), w)
        for name in (K.ACCURACY, K.PRECISION, K.RECALL):
            eval_metrics[k(name)].update_state(y, preds[P.CLASS_IDS], w)
        logistic = preds[P.LOGISTIC]
        eval_metrics[k(K.PREDICTION_MEAN)].update_state(logistic, w)
        lm = eval_metrics[k(K.LABEL_MEAN)]
        lm.update_state(y, w)
        # accuracy_baseline = max(label mean, 1 - label mean), kept as TF keeps it:
        # total = max(label total, count - label total), count = label count.
        base = eval_metrics[k(K.ACCURACY_BASELINE)]
        base.total, base.count = np.float32(max(lm.total, lm.count - lm.total)), lm.count
        eval_metrics[k(K.AUC)].update_state(y, logistic, w)
        eval_metrics[k(K.AUC_PR)].update_state(y, logistic, w)
        if regularization_losses is not None:
            eval_metrics[k(K.LOSS_REGULARIZATION)].update_state(
                _np(tf.add_n(list(regularization_losses))))
        for t in self._thresholds:
            for key in (K.ACCURACY_AT_THRESHOLD, K.PRECISION_AT_THRESHOLD,
                        K.RECALL_AT_THRESHOLD):
                eval_metrics[k(key % t)].update_state(y, logistic, w)
        return eval_metrics
