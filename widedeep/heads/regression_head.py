"""Regression heads: `RegressionHead` (squared error), `PoissonRegressionHead`
(log Poisson loss, predictions exp(logits)), `LogisticRegressionHead` (sigmoid
cross entropy on labels in [0, 1], predictions sigmoid(logits)).

    loss = per-element loss [batch, label_dimension] * weights, reduced
           (on the tape, or directly: base_head.Head.loss_and_logits_gradient;
           not for the Poisson head)
"""

import numpy as np

import minitf as tf
from widedeep import metrics as M
from widedeep.export_output import PredictOutput, RegressionOutput
from widedeep.heads.base_head import (
    DEFAULT_SERVING_KEY,
    PREDICT_KEY,
    REGRESS_KEY,
    Head,
    MetricKeys,
    PredictionKeys,
    Reduction,
    _np,
    check_loss_reduction,
    example_weights,
    labels_2d,
)
from widedeep.heads.binary_class_head import sigmoid_cross_entropy_direct

K, P = MetricKeys, PredictionKeys


class RegressionHead(Head):
    """Args (TF's): label_dimension, weight_column, loss_reduction, loss_fn,
    inverse_link_fn (predictions = inverse_link_fn(logits); then 'logits' is a
    prediction too), name."""

    def __init__(self, label_dimension=1, weight_column=None,
                 loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, loss_fn=None,
                 inverse_link_fn=None, name=None):
        self._name = name
        head = self._head_name()
        if label_dimension < 1:
            raise ValueError(f"{head}: Invalid label_dimension {label_dimension}.")
        self._logits_dimension = int(label_dimension)
        self._weight_column = weight_column
        self._loss_reduction = check_loss_reduction(loss_reduction, head)
        self._loss_fn, self._inverse_link_fn = loss_fn, inverse_link_fn

    def _labels(self, logits, labels):
        head = self._head_name()
        y = labels_2d(labels, self._logits_dimension, head, logits)
        if y.dtype.kind not in "iufb":
            raise ValueError(f"{head}: Labels dtype should be numeric, got {y.dtype}")
        return y.astype(np.float32)

    def _element_loss(self, y, logits):
        return tf.square(tf.subtract(logits, y))

    def _unweighted_loss_and_weights(self, logits, labels, features):
        y = self._labels(logits, labels)
        loss = (self._loss_fn(labels=y, logits=logits) if self._loss_fn is not None
                else self._element_loss(y, logits))
        return loss, example_weights(features, self._weight_column, logits, self._head_name())

    def _direct_element_loss(self, y, x):
        # square(subtract(x, y)) by the two ops' own forward and backward functions
        d, d_backward = tf.subtract.primitive(x, y)
        out, sq_backward = tf.square.primitive(d)
        return out, lambda g: d_backward(sq_backward(g)[0])[0]

    def _predicted(self, logits):
        return logits if self._inverse_link_fn is None else self._inverse_link_fn(logits)

    def predictions(self, logits, keys=None):
        z = tf.constant(_np(logits).astype(np.float32))
        out = {P.PREDICTIONS: _np(self._predicted(z)).astype(np.float32)}
        if self._inverse_link_fn is not None:
            out[P.LOGITS] = _np(z)
        return out if keys is None else {k: out[k] for k in keys}

    def export_outputs(self, predictions):
        reg = RegressionOutput(value=predictions[P.PREDICTIONS])
        return {DEFAULT_SERVING_KEY: reg, REGRESS_KEY: reg,
                PREDICT_KEY: PredictOutput(predictions)}

    def metrics(self, regularization_losses=None):
        k = self._key
        out = {k(K.LOSS_MEAN): M.Mean(K.LOSS_MEAN),
               k(K.PREDICTION_MEAN): M.Mean(K.PREDICTION_MEAN),
               k(K.LABEL_MEAN): M.Mean(K.LABEL_MEAN)}
        if regularization_losses is not None:
            out[k(K.LOSS_REGULARIZATION)] = M.Mean(K.LOSS_REGULARIZATION)
        return out

    def update_metrics(self, eval_metrics, features, logits, labels,
                       regularization_losses=None):
        logits = self._check_logits(logits)
        y = self._labels(logits, labels)
        loss, w = self._unweighted_loss_and_weights(logits, labels, features)
        k = self._key
        eval_metrics[k(K.LOSS_MEAN)].update_state(_np(loss), w)
        eval_metrics[k(K.PREDICTION_MEAN)].update_state(
            self.predictions(logits)[P.PREDICTIONS], w)
        eval_metrics[k(K.LABEL_MEAN)].update_state(y, w)
        if regularization_losses is not None:
            eval_metrics[k(K.LOSS_REGULARIZATION)].update_state(
                _np(tf.add_n(list(regularization_losses))))
        return eval_metrics


class PoissonRegressionHead(RegressionHead):
    """Log Poisson loss (full: with the Stirling term), predictions exp(logits)."""

    def __init__(self, label_dimension=1, weight_column=None,
                 loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, compute_full_loss=True,
                 name=None):
        super().__init__(label_dimension, weight_column, loss_reduction, None, tf.exp, name)
        self._full = compute_full_loss

    def _element_loss(self, y, logits):
        if y.size and y.min() < 0:
            raise ValueError(f"{self._head_name()}: Labels must be >= 0; got {y.min()}")
        return tf.nn.log_poisson_loss(y, logits, compute_full_loss=self._full)


class LogisticRegressionHead(RegressionHead):
    """Sigmoid cross entropy on labels in [0, 1]; predictions sigmoid(logits)."""

    def __init__(self, weight_column=None, loss_reduction=Reduction.SUM_OVER_BATCH_SIZE,
                 name=None):
        super().__init__(1, weight_column, loss_reduction, None, tf.sigmoid, name)

    def _check_labels(self, y):
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"{self._head_name()}: Labels must be in range [0, 1]; got "
                             f"[{y.min()}, {y.max()}]")

    def _element_loss(self, y, logits):
        self._check_labels(y)
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)

    def _direct_element_loss(self, y, x):
        self._check_labels(y)
        return sigmoid_cross_entropy_direct(y, x)
