"""Heads (tf.estimator's): loss, predictions, metrics and export outputs from logits."""

from widedeep.heads.base_head import Head, MetricKeys, PredictionKeys, Reduction  # noqa: F401
from widedeep.heads.binary_class_head import BinaryClassHead  # noqa: F401
from widedeep.heads.multi_class_head import MultiClassHead  # noqa: F401
from widedeep.heads.multi_label_head import MultiLabelHead  # noqa: F401
from widedeep.heads.regression_head import (  # noqa: F401
    LogisticRegressionHead,
    PoissonRegressionHead,
    RegressionHead,
)
