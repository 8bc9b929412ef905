"""`MultiClassHead`: n_classes logits, softmax cross entropy.

    loss = sparse_softmax_cross_entropy(labels, logits) * weights, reduced
           (on the tape, or directly: base_head.Head.loss_and_logits_gradient)
    probabilities = softmax(logits)     class_ids = argmax(logits)
"""

import numpy as np

import minitf as tf
from widedeep import metrics as M
from widedeep.export_output import ClassificationOutput, PredictOutput
from widedeep.heads.base_head import (
    CLASSIFY_KEY,
    DEFAULT_SERVING_KEY,
    PREDICT_KEY,
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
from widedeep.heads.binary_class_head import check_vocabulary, class_ids_in_range

K, P = MetricKeys, PredictionKeys


class MultiClassHead(Head):
    """Args (TF's): n_classes (> 2), weight_column, label_vocabulary (n_classes
    strings), loss_reduction, loss_fn, name."""

    def __init__(self, n_classes, weight_column=None, label_vocabulary=None,
                 loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, loss_fn=None, name=None):
        self._name = name
        head = self._head_name()
        if n_classes is None or n_classes <= 2:
            raise ValueError(f"{head}: n_classes must be > 2: {n_classes}.")
        self._n_classes = int(n_classes)
        self._weight_column = weight_column
        self._label_vocabulary = check_vocabulary(label_vocabulary, self._n_classes, head)
        self._loss_reduction = check_loss_reduction(loss_reduction, head)
        self._loss_fn = loss_fn
        self._logits_dimension = self._n_classes

    def _labels(self, logits, labels):
        head = self._head_name()
        y = labels_2d(labels, 1, head, logits)
        if self._label_vocabulary is not None:
            y = vocabulary_ids(y, self._label_vocabulary, head)
        return class_ids_in_range(y, self._n_classes, head).astype(np.int64)

    def _unweighted_loss_and_weights(self, logits, labels, features):
        y = self._labels(logits, labels)
        if self._loss_fn is not None:
            loss = self._loss_fn(labels=y, logits=logits)
        else:
            loss = tf.expand_dims(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=y[:, 0], logits=logits), 1)
        return loss, example_weights(features, self._weight_column, logits, self._head_name())

    def _direct_element_loss(self, y, x):
        # expand_dims(sparse_softmax_cross_entropy_with_logits(y, x), 1) by the
        # ops' own forward and backward functions (expand_dims': a reshape)
        op = tf.nn.sparse_softmax_cross_entropy_with_logits.primitive
        out, backward = op(y[:, 0], x)
        return np.expand_dims(out, 1), lambda g: backward(g.reshape(out.shape))[1]

    def predictions(self, logits, keys=None):
        z = _np(logits).astype(np.float32)
        ids = np.argmax(z, axis=1)[:, None].astype(np.int64)
        all_ids = np.tile(np.arange(self._n_classes, dtype=np.int32), (len(z), 1))
        out = {P.LOGITS: z, P.PROBABILITIES: _np(tf.nn.softmax(tf.constant(z))),
               P.CLASS_IDS: ids, P.CLASSES: class_strings(ids, self._label_vocabulary),
               P.ALL_CLASS_IDS: all_ids,
               P.ALL_CLASSES: class_strings(all_ids, self._label_vocabulary)}
        return out if keys is None else {k: out[k] for k in keys}

    def export_outputs(self, predictions):
        cls = ClassificationOutput(scores=predictions[P.PROBABILITIES],
                                   classes=predictions[P.ALL_CLASSES])
        return {DEFAULT_SERVING_KEY: cls, CLASSIFY_KEY: cls,
                PREDICT_KEY: PredictOutput(predictions)}

    def metrics(self, regularization_losses=None):
        k = self._key
        out = {k(K.LOSS_MEAN): M.Mean(K.LOSS_MEAN), k(K.ACCURACY): M.Accuracy(K.ACCURACY)}
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
        eval_metrics[k(K.ACCURACY)].update_state(y, self.predictions(logits)[P.CLASS_IDS], w)
        if regularization_losses is not None:
            eval_metrics[k(K.LOSS_REGULARIZATION)].update_state(
                _np(tf.add_n(list(regularization_losses))))
        return eval_metrics
