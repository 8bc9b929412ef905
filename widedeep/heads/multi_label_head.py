"""`MultiLabelHead`: n_classes independent sigmoids.

    loss = mean over classes of sigmoid_cross_entropy(labels, logits), times
           the example weight, reduced over the batch (on the tape, or
           directly: base_head.Head.loss_and_logits_gradient)
    probabilities = sigmoid(logits)
"""

import numpy as np

import minitf as tf
from minitf.sparse import SparseTensor
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
from widedeep.heads.binary_class_head import (
    check_thresholds,
    check_vocabulary,
    sigmoid_cross_entropy_direct,
)

K, P = MetricKeys, PredictionKeys


class MultiLabelHead(Head):
    """Args (TF's): n_classes (> 1), weight_column, thresholds, label_vocabulary,
    loss_reduction, loss_fn, classes_for_class_based_metrics (ids or
    vocabulary strings: per-class probability mean, AUC and PR AUC), name.

    Labels: a [batch, n_classes] 0/1 indicator array, or a SparseTensor of the
    class ids (or vocabulary strings) present in each example."""

    def __init__(self, n_classes, weight_column=None, thresholds=None, label_vocabulary=None,
                 loss_reduction=Reduction.SUM_OVER_BATCH_SIZE, loss_fn=None,
                 classes_for_class_based_metrics=None, name=None):
        self._name = name
        head = self._head_name()
        if n_classes is None or n_classes < 2:
            raise ValueError(f"{head}: n_classes must be > 1 for multi-label "
                             f"classification. Given: {n_classes}")
        self._n_classes = int(n_classes)
        self._weight_column = weight_column
        self._thresholds = check_thresholds(thresholds, head)
        self._label_vocabulary = check_vocabulary(label_vocabulary, self._n_classes, head)
        self._loss_reduction = check_loss_reduction(loss_reduction, head)
        self._loss_fn = loss_fn
        self._logits_dimension = self._n_classes
        classes = list(classes_for_class_based_metrics or [])
        ids = []
        for c in classes:
            if isinstance(c, str):
                if self._label_vocabulary is None or c not in self._label_vocabulary:
                    raise ValueError(f"{head}: class {c!r} in classes_for_class_based_metrics "
                                     f"is not in label_vocabulary {self._label_vocabulary}")
                ids.append(self._label_vocabulary.index(c))
            elif not 0 <= int(c) < self._n_classes:
                raise ValueError(f"{head}: classes_for_class_based_metrics must be in [0, "
                                 f"{self._n_classes}); got {c}")
            else:
                ids.append(int(c))
        self._class_ids, self._class_names = ids, classes

    def _labels(self, logits, labels):
        head = self._head_name()
        if isinstance(labels, SparseTensor):
            ids = labels.values
            if ids.dtype.kind in "USO":
                if self._label_vocabulary is None:
                    raise ValueError(f"{head}: string labels need label_vocabulary")
                ids = vocabulary_ids(ids, self._label_vocabulary, head)
            elif ids.dtype.kind not in "iu":
                raise ValueError(f"{head}: Labels dtype should be integer. Instead got "
                                 f"{ids.dtype}.")
            ids = ids.astype(np.int64)
            if ids.size and (ids.min() < 0 or ids.max() >= self._n_classes):
                raise ValueError(f"{head}: labels must be an integer SparseTensor with values "
                                 f"in [0, {self._n_classes})")
            y = np.zeros((int(labels.dense_shape[0]), self._n_classes), np.int64)
            y[labels.indices[:, 0], ids] = 1
            labels = y
        y = labels_2d(labels, self._n_classes, head, logits)
        if y.dtype.kind not in "iub" or (y.size and (y.min() < 0 or y.max() > 1)):
            raise ValueError(f"{head}: labels must be an integer indicator Tensor with values "
                             f"in [0, 1]; got dtype {y.dtype}, range "
                             f"[{y.min() if y.size else ''}, {y.max() if y.size else ''}]")
        return y.astype(np.int64)

    def _unweighted_loss_and_weights(self, logits, labels, features):
        y = self._labels(logits, labels)
        if self._loss_fn is not None:
            loss = self._loss_fn(labels=y, logits=logits)
        else:
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=y.astype(np.float32), logits=logits), axis=-1, keepdims=True)
        return loss, example_weights(features, self._weight_column, logits, self._head_name())

    def _direct_element_loss(self, y, x):
        # reduce_mean(sigmoid_cross_entropy(y, x), -1, keepdims) by the ops' own
        # forward and backward functions
        out, ce_backward = sigmoid_cross_entropy_direct(y.astype(np.float32), x)
        mean, mean_backward = tf.reduce_mean.primitive(out, axis=-1, keepdims=True)
        return mean, lambda g: ce_backward(mean_backward(g)[0])

    def predictions(self, logits, keys=None):
        z = _np(logits).astype(np.float32)
        all_ids = np.tile(np.arange(self._n_classes), (len(z), 1))
        out = {P.LOGITS: z, P.PROBABILITIES: _np(tf.sigmoid(tf.constant(z))),
               P.CLASSES: class_strings(all_ids, self._label_vocabulary)}
        return out if keys is None else {k: out[k] for k in keys}

    def export_outputs(self, predictions):
        cls = ClassificationOutput(scores=predictions[P.PROBABILITIES],
                                   classes=predictions[P.CLASSES])
        return {DEFAULT_SERVING_KEY: cls, CLASSIFY_KEY: cls,
                PREDICT_KEY: PredictOutput(predictions)}

    def _class_key(self, pattern, i):
        name = self._class_names[i]
        return (pattern.replace("class%d", "%s") % name if isinstance(name, str)
                else pattern % name)

    def metrics(self, regularization_losses=None):
        k = self._key
        out = {k(K.LOSS_MEAN): M.Mean(K.LOSS_MEAN), k(K.AUC): M.AUC(name=K.AUC),
               k(K.AUC_PR): M.AUC(curve="PR", name=K.AUC_PR)}
        if regularization_losses is not None:
            out[k(K.LOSS_REGULARIZATION)] = M.Mean(K.LOSS_REGULARIZATION)
        for t in self._thresholds:
            out[k(K.ACCURACY_AT_THRESHOLD % t)] = M.BinaryAccuracy(threshold=t)
            out[k(K.PRECISION_AT_THRESHOLD % t)] = M.Precision(thresholds=t)
            out[k(K.RECALL_AT_THRESHOLD % t)] = M.Recall(thresholds=t)
        for i in range(len(self._class_ids)):
            out[k(self._class_key(K.PROBABILITY_MEAN_AT_CLASS, i))] = M.Mean()
            out[k(self._class_key(K.AUC_AT_CLASS, i))] = M.AUC()
            out[k(self._class_key(K.AUC_PR_AT_CLASS, i))] = M.AUC(curve="PR")
        return out

    def update_metrics(self, eval_metrics, features, logits, labels,
                       regularization_losses=None):
        logits = self._check_logits(logits)
        y = self._labels(logits, labels)
        loss, w = self._unweighted_loss_and_weights(logits, labels, features)
        prob = self.predictions(logits)[P.PROBABILITIES]
        k = self._key
        eval_metrics[k(K.LOSS_MEAN)].update_state(_np(loss), w)
        eval_metrics[k(K.AUC)].update_state(y, prob, w)
        eval_metrics[k(K.AUC_PR)].update_state(y, prob, w)
        if regularization_losses is not None:
            eval_metrics[k(K.LOSS_REGULARIZATION)].update_state(
                _np(tf.add_n(list(regularization_losses))))
        for t in self._thresholds:
            for key in (K.ACCURACY_AT_THRESHOLD, K.PRECISION_AT_THRESHOLD,
                        K.RECALL_AT_THRESHOLD):
                eval_metrics[k(key % t)].update_state(y, prob, w)
        for i, c in enumerate(self._class_ids):
            p, t = prob[:, c:c + 1], y[:, c:c + 1]
            eval_metrics[k(self._class_key(K.PROBABILITY_MEAN_AT_CLASS, i))].update_state(p, w)
            eval_metrics[k(self._class_key(K.AUC_AT_CLASS, i))].update_state(t, p, w)
            eval_metrics[k(self._class_key(K.AUC_PR_AT_CLASS, i))].update_state(t, p, w)
        return eval_metrics
