"""What every head shares: loss reduction, example weights, label checks, the
EstimatorSpec it builds, and TF's metric and prediction key names.

A head turns logits into (TF 2.15's tf.estimator heads):

* the training loss: per-example losses times the example weights, reduced by
  `loss_reduction` ('sum_over_batch_size': sum / number of loss elements,
  the default; 'sum'), plus any regularization losses;
* predictions under TF's keys; export outputs per signature;
* evaluation metrics, updated batch by batch.

The common heads also give their training loss and its gradient with respect
to the logits without the tape (`Head.loss_and_logits_gradient`): the canned
model's tape-free step (widedeep/canned/fast_step.py) uses it. It evaluates
the very expressions the loss's ops evaluate on the tape, forward and
backward, so the values are the same bits.
"""

import numpy as np

import minitf as tf
from widedeep.estimator.model_fn import EstimatorSpec, LazyPredictions, ModeKeys


class Reduction:
    """tf.losses.Reduction (the values a v2 head accepts, NONE excepted)."""

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)


class PredictionKeys:
    CLASSES = "classes"
    CLASS_IDS = "class_ids"
    ALL_CLASSES = "all_classes"
    ALL_CLASS_IDS = "all_class_ids"
    LOGISTIC = "logistic"
    LOGITS = "logits"
    PREDICTIONS = "predictions"
    PROBABILITIES = "probabilities"


class MetricKeys:
    LOSS = "loss"
    LOSS_MEAN = "average_loss"
    LOSS_REGULARIZATION = "regularization_loss"
    ACCURACY = "accuracy"
    PRECISION = "precision"
    RECALL = "recall"
    ACCURACY_BASELINE = "accuracy_baseline"
    AUC = "auc"
    AUC_PR = "auc_precision_recall"
    LABEL_MEAN = "label/mean"
    PREDICTION_MEAN = "prediction/mean"
    ACCURACY_AT_THRESHOLD = "accuracy/positive_threshold_%g"
    PRECISION_AT_THRESHOLD = "precision/positive_threshold_%g"
    RECALL_AT_THRESHOLD = "recall/positive_threshold_%g"
    PROBABILITY_MEAN_AT_CLASS = "probability_mean/class%d"
    AUC_AT_CLASS = "auc/class%d"
    AUC_PR_AT_CLASS = "auc_precision_recall/class%d"


DEFAULT_SERVING_KEY = "serving_default"
CLASSIFY_KEY, REGRESS_KEY, PREDICT_KEY = "classification", "regression", "predict"


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def check_loss_reduction(reduction, head):
    if reduction not in Reduction.all() or reduction == Reduction.NONE:
        raise ValueError(f"{head}: Invalid loss_reduction: {reduction!r}. See "
                         f"`tf.losses.Reduction` for valid options ('sum', "
                         f"'sum_over_batch_size').")
    return Reduction.SUM_OVER_BATCH_SIZE if reduction == Reduction.AUTO else reduction


def weight_column_key(weight_column):
    """The feature key of a weight column (a name or a numeric column)."""
    if weight_column is None or isinstance(weight_column, str):
        return weight_column
    key = getattr(weight_column, "key", None)
    if key is None:
        raise TypeError(f"Weight column must be either a string or a numeric column, got "
                        f"{weight_column!r}")
    return key


def example_weights(features, weight_column, logits, head):
    """[batch, 1] float32 weights (ones without a weight column)."""
    batch = logits.shape[0]
    key = weight_column_key(weight_column)
    if key is None:
        return None
    if features is None or key not in features:
        raise KeyError(f"{head}: weight_column '{key}' is not in the features; given: "
                       f"{sorted(features or {})}")
    w = _np(features[key]).astype(np.float32)
    if w.ndim == 1:
        w = w[:, None]
    if w.shape != (batch, 1):
        raise ValueError(f"{head}: weights '{key}' must have shape [batch_size, 1] = "
                         f"[{batch}, 1], got {list(w.shape)}")
    return w


def labels_2d(labels, dim, head, logits):
    """Labels as [batch, dim], checked against the logits' batch size."""
    if labels is None:
        raise ValueError(f"{head}: you must provide a labels Tensor. Given: None. Suggested "
                         f"troubleshooting steps: check that your data contain your label "
                         f"feature; check that your input_fn properly parses and returns "
                         f"labels.")
    y = _np(labels)
    if y.ndim == 1:
        y = y[:, None]
    batch = logits.shape[0]
    if y.ndim != 2 or y.shape[1] != dim:
        raise ValueError(f"{head}: Mismatched label shape. Expected labels dimension={dim}. "
                         f"Received {y.shape[-1] if y.ndim else 'a scalar'} (labels shape "
                         f"{list(y.shape)}).")
    if y.shape[0] != batch:
        raise ValueError(f"{head}: labels have {y.shape[0]} rows but logits {batch}: "
                         f"labels shape must be [batch_size, {dim}]")
    return y


def reduce_loss(unweighted, weights, reduction):
    """The training loss from per-example losses (a Tensor [batch, k])."""
    loss = unweighted if weights is None else tf.multiply(unweighted, weights)
    total = tf.reduce_sum(loss)
    if reduction == Reduction.SUM:
        return total
    n = int(np.prod(unweighted.shape)) or 1
    return tf.divide(total, np.float32(n))


def reduce_loss_and_gradient(unweighted, weights, reduction):
    """`reduce_loss` without the tape: (the loss, a float32 0-d array; d loss /
    d unweighted, an array of unweighted's shape).

    The expressions of reduce_loss's ops and, backwards, of their gradients:
    the tape seeds a scalar target with 1, divide passes g / n, reduce_sum
    broadcasts g to its input's shape and multiply passes g * weights.
    """
    loss = unweighted if weights is None else unweighted * weights
    total = np.sum(loss, axis=tuple(range(loss.ndim)))  # reduce_sum's call: same order
    g = total.dtype.type(1)
    if reduction != Reduction.SUM:
        n = np.float32(unweighted.size or 1)
        total, g = total / n, g / n
    g = np.full(loss.shape, g, total.dtype)  # reduce_sum's backward: g everywhere
    return np.asarray(total), (g if weights is None else g * weights)


# What makes a head's training loss. A subclass that overrides one of these (of
# the class that gives the direct form) has another loss: it takes the tape.
_LOSS_METHODS = ("loss", "create_estimator_spec", "_unweighted_loss_and_weights",
                 "_element_loss", "_direct_element_loss")


def _direct_form_holds(cls):
    """Whether `cls`'s loss is the one its _direct_element_loss replays."""
    owner = next(c for c in cls.__mro__ if "_direct_element_loss" in vars(c))
    return all(getattr(cls, m, None) is getattr(owner, m, None) for m in _LOSS_METHODS)


def class_strings(ids, vocabulary):
    """bytes labels of class ids: the vocabulary entry, or the id as a string."""
    ids = np.asarray(ids)
    if vocabulary is None:  # b'0', b'1', ... through a table as long as the largest id
        table = np.array([b"%d" % i for i in range(int(ids.max(initial=0)) + 1)], object)
        return table[ids]
    vocab = np.array([v.encode("utf-8") if isinstance(v, str) else v for v in vocabulary],
                     dtype=object)
    return vocab[ids]


def vocabulary_ids(labels, vocabulary, head):
    """Label strings -> their ids in `vocabulary` (a label not in it is an error)."""
    y = np.asarray(labels)
    if y.dtype.kind in "SO":
        y = np.array([v.decode("utf-8") if isinstance(v, bytes) else str(v)
                      for v in y.reshape(-1)]).reshape(y.shape)
    if y.dtype.kind != "U":
        raise ValueError(f"{head}: with label_vocabulary, labels must be strings, got dtype "
                         f"{y.dtype}")
    index = {v.decode() if isinstance(v, bytes) else v: i for i, v in enumerate(vocabulary)}
    flat = y.reshape(-1)
    uniq, inverse = np.unique(flat, return_inverse=True)
    ids_u = np.array([index.get(u, -1) for u in uniq], np.int64)
    bad = uniq[ids_u < 0]
    if bad.size:
        raise ValueError(f"{head}: label {str(bad[0])!r} is not in label_vocabulary "
                         f"{list(vocabulary)}")
    return ids_u[inverse.reshape(-1)].reshape(y.shape)


class Head:
    """Common surface: name, logits_dimension, loss_reduction; the EstimatorSpec."""

    _direct_form = False  # whether _direct_element_loss gives the loss: per class

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._direct_form = _direct_form_holds(cls)

    def _key(self, k):
        return f"{k}/{self._name}" if self._name else k

    @property
    def name(self):
        return self._name

    @property
    def logits_dimension(self):
        return self._logits_dimension

    @property
    def loss_reduction(self):
        return self._loss_reduction

    def _head_name(self):
        return f"{type(self).__name__}" + (f" '{self._name}'" if self._name else "")

    def _check_logits(self, logits):
        logits = logits if isinstance(logits, tf.Tensor) else tf.constant(
            np.asarray(logits, np.float32))
        if logits.ndim != 2 or logits.shape[1] != self._logits_dimension:
            raise ValueError(f"{self._head_name()}: logits shape must be [batch_size, "
                             f"{self._logits_dimension}], got {list(logits.shape)}")
        return logits

    def loss(self, labels, logits, features=None, mode=None, regularization_losses=None):
        """The training loss (a scalar Tensor), regularization included."""
        logits = self._check_logits(logits)
        unweighted, weights = self._unweighted_loss_and_weights(logits, labels, features)
        loss = reduce_loss(unweighted, weights, self._loss_reduction)
        if regularization_losses:
            loss = tf.add(loss, tf.add_n(list(regularization_losses)))
        return loss

    def _direct_element_loss(self, y, x):
        """(per-example losses, backward) of the default loss on labels `y`
        (as `_labels` gives them) and float32 logits `x`, without the tape;
        backward(d loss / d per-example losses) returns d loss / d logits.
        None: this head has no direct form."""
        return None

    def loss_and_logits_gradient(self, labels, logits, features=None):
        """(the training loss as `loss` gives it, d loss / d logits as an
        ndarray), computed without the tape, or None where there is no direct
        form (a custom loss_fn, a head without one, a subclass that changes the
        loss, non-float32 logits): then take `loss` on the tape. The same bits
        as the tape's; the same errors for bad labels or weights."""
        logits = self._check_logits(logits)
        x = logits.numpy()
        if (not self._direct_form or getattr(self, "_loss_fn", None) is not None
                or x.dtype != np.float32):
            return None
        direct = self._direct_element_loss(self._labels(logits, labels), x)
        if direct is None:
            return None
        unweighted, backward = direct
        weights = example_weights(features, self._weight_column, logits, self._head_name())
        loss, g = reduce_loss_and_gradient(unweighted, weights, self._loss_reduction)
        return tf.constant(loss), backward(g)

    def train_estimator_spec(self, logits, loss, train_op):
        """The TRAIN EstimatorSpec of a computed loss and update; its
        predictions are computed only if a hook fetches one."""
        return EstimatorSpec(ModeKeys.TRAIN, loss=loss, train_op=train_op,
                             predictions=LazyPredictions(lambda: self.predictions(logits)))

    def create_estimator_spec(self, features, mode, logits, labels=None, optimizer=None,
                              trainable_variables=None, train_op_fn=None, update_ops=None,
                              regularization_losses=None):
        """The EstimatorSpec for `mode`. In TRAIN, `train_op_fn(loss)` returns the
        update (a callable the runtime runs), or `optimizer` minimizes the loss
        over `trainable_variables` with the step's tape."""
        logits = self._check_logits(logits)
        preds = None if mode == ModeKeys.TRAIN else self.predictions(logits)
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=preds,
                                 export_outputs=self.export_outputs(preds))
        loss = self.loss(labels, logits, features, mode, regularization_losses)
        if mode == ModeKeys.EVAL:
            from widedeep.variables import current_store
            store = current_store()
            # By kind and name, not by object: a model_fn may build its head anew
            # for every batch (TF builds the graph once); the metrics must persist.
            key = ("head_metrics", type(self).__name__, self._name)
            metrics = store.cache.get(key) if store is not None else None
            if metrics is None:
                metrics = self.metrics(regularization_losses)
                if store is not None:
                    store.cache[key] = metrics
            self.update_metrics(metrics, features, logits, labels, regularization_losses)
            return EstimatorSpec(mode, predictions=preds, loss=loss, eval_metric_ops=metrics)
        if train_op_fn is None and optimizer is None:
            raise ValueError("train_op_fn and optimizer cannot both be None in TRAIN mode.")
        if train_op_fn is not None:
            train_op = train_op_fn(loss)
        else:
            from widedeep.estimator.estimator import current_tape
            tape, variables = current_tape(), list(trainable_variables)

            def train_op():
                grads = tape.gradient(loss, variables)
                optimizer.apply_gradients(zip(grads, variables))
        return self.train_estimator_spec(logits, loss, train_op)
