"""Streaming evaluation metrics with tf.keras.metrics' definitions (TF 2.15).

Each metric keeps float32 state, `update_state(...)` per batch, `result()`,
`reset_state()`, and `merge_state(others)`. All updates are vectorised.

    Mean:               total += sum(w * v); count += sum(w)         -> total / count
    Accuracy:           Mean of (y_true == y_pred)
    BinaryAccuracy(t):  Mean of (y_true == (y_pred > t))
    Precision / Recall: tp, fp, fn at threshold t (y_pred > t) -> tp/(tp+fp), tp/(tp+fn)
    AUC:                tp/fp/tn/fn at 200 thresholds [-eps, 1/199, ..., 198/199, 1 + eps];
                        ROC: trapezoids of (fpr, tpr); PR: Davis & Goadrich interpolation

Results are 0 where a denominator is 0 (TF's divide_no_nan).
"""

import numpy as np

F32 = np.float32
EPSILON = 1e-7  # Keras's backend epsilon


def _f32(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=F32)


def _weights(sample_weight, values):
    """Sample weights broadcast to `values` (TF's broadcast_weights), or ones."""
    if sample_weight is None:
        return np.ones(values.shape, F32)
    w = _f32(sample_weight)
    return np.broadcast_to(w, values.shape) if w.shape != values.shape else w


def _div(a, b):
    return F32(0) if b == 0 else F32(a / b)


class Metric:
    def __init__(self, name=None):
        self.name = name
        self.reset_state()

    def merge_state(self, others):
        for o in others:
            for k, v in o._state().items():
                setattr(self, k, getattr(self, k) + v)

    def _state(self):
        return {}

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}: {self.result()}>"


class Mean(Metric):
    """The weighted mean of all values seen."""

    def reset_state(self):
        self.total, self.count = F32(0), F32(0)

    def _state(self):
        return {"total": self.total, "count": self.count}

    def update_state(self, values, sample_weight=None):
        v = _f32(values)
        w = _weights(sample_weight, v)
        self.total = F32(self.total + np.sum(v * w, dtype=F32))
        self.count = F32(self.count + np.sum(w, dtype=F32))

    def result(self):
        return _div(self.total, self.count)


class Accuracy(Mean):
    """How often y_pred equals y_true (y_pred cast to y_true's dtype first)."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = np.asarray(y_true.numpy() if hasattr(y_true, "numpy") else y_true)
        p = np.asarray(y_pred.numpy() if hasattr(y_pred, "numpy") else y_pred).astype(t.dtype)
        super().update_state((t == p).astype(F32), sample_weight)


class BinaryAccuracy(Mean):
    """How often (y_pred > threshold) equals y_true."""

    def __init__(self, name=None, threshold=0.5):
        self.threshold = threshold
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _f32(y_true), _f32(y_pred)
        hit = (t == (p > F32(self.threshold)).astype(F32)).astype(F32)
        super().update_state(hit, sample_weight)


class _Confusion(Metric):
    """tp / fp / fn at one threshold (y_pred > threshold is a positive)."""

    def __init__(self, name=None, thresholds=None):
        self.threshold = 0.5 if thresholds is None else float(np.ravel(thresholds)[0])
        super().__init__(name)

    def reset_state(self):
        self.tp, self.fp, self.fn = F32(0), F32(0), F32(0)

    def _state(self):
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn}

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = _f32(y_pred)
        t = _f32(y_true).astype(bool)
        w = _weights(sample_weight, p)
        pos = p > F32(self.threshold)
        self.tp = F32(self.tp + np.sum(w * (t & pos), dtype=F32))
        self.fp = F32(self.fp + np.sum(w * (~t & pos), dtype=F32))
        self.fn = F32(self.fn + np.sum(w * (t & ~pos), dtype=F32))


class Precision(_Confusion):
    def result(self):
        return _div(self.tp, self.tp + self.fp)


class Recall(_Confusion):
    def result(self):
        return _div(self.tp, self.tp + self.fn)


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at `num_thresholds`
    evenly spaced thresholds (Keras's bucketed update: a prediction p falls in
    bucket max(ceil(p * (n - 1)) - 1, 0), and counts accumulate from the top)."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None):
        if num_thresholds <= 1:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: "
                             f"num_thresholds={num_thresholds}")
        if curve not in ("ROC", "PR"):
            raise ValueError(f"Invalid AUC curve value: {curve!r}; expected 'ROC' or 'PR'")
        self.num_thresholds, self.curve, self.summation_method = (num_thresholds, curve,
                                                                  summation_method)
        super().__init__(name)

    def reset_state(self):
        n = self.num_thresholds
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n, F32) for _ in range(4))

    def _state(self):
        return {"tp": self.tp, "fp": self.fp, "tn": self.tn, "fn": self.fn}

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = np.clip(_f32(y_pred), F32(0), F32(1)).reshape(-1)
        t = _f32(y_true).astype(bool).astype(F32).reshape(-1)
        w = _weights(sample_weight, _f32(y_pred)).reshape(-1)
        n = self.num_thresholds
        bucket = np.maximum(np.ceil(p * F32(n - 1)) - F32(1), 0).astype(np.int64)
        true_w, false_w = t * w, (F32(1) - t) * w
        tp = np.cumsum(np.bincount(bucket, true_w, n)[::-1])[::-1].astype(F32)
        fp = np.cumsum(np.bincount(bucket, false_w, n)[::-1])[::-1].astype(F32)
        self.tp += tp
        self.fp += fp
        self.tn += np.sum(false_w, dtype=F32) - fp
        self.fn += np.sum(true_w, dtype=F32) - tp

    def result(self):
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.curve == "PR" and self.summation_method == "interpolation":
                return self._interpolate_pr_auc()
            recall = _div_arr(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _div_arr(fp, fp + tn), recall
            else:
                x, y = recall, _div_arr(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / F32(2)
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            return F32(np.sum((x[:-1] - x[1:]) * heights, dtype=F32))

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.tp, self.fp, self.fn
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _div_arr(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _div_arr(p[:-1], np.maximum(p[1:], 0)),
                         F32(1))
        inc = _div_arr(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return F32(np.sum(inc, dtype=F32))


def _div_arr(a, b):
    a, b = np.asarray(a, F32), np.asarray(b, F32)
    out = np.zeros(np.broadcast(a, b).shape, F32)
    np.divide(a, b, out=out, where=b != 0)
    return out
