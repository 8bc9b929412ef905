"""The canned estimators: wide & deep, linear, DNN; with a custom head, or as
classifiers and regressors (TF 2.15's `tf.estimator.*` v2 classes).

    DNNLinearCombinedEstimator(head, ...)        logits = dnn + linear
    DNNLinearCombinedClassifier(n_classes, ...)  BinaryClassHead (2) / MultiClassHead
    DNNLinearCombinedRegressor(label_dimension)  RegressionHead
    LinearEstimator / LinearClassifier / LinearRegressor   the wide part alone
    DNNEstimator / DNNClassifier / DNNRegressor             the deep part alone

Unlike TF 2.15's, they accept keras-v2 optimizers and v1 optimizers
(`compat.v1.train.ProximalAdagradOptimizer`, ...) as well as the legacy ones,
so the seed page's own example runs. Constructors only validate and store.
"""

from widedeep.canned.model_fn import (
    DNN_ONLY_LEARNING_RATE,
    LINEAR_ONLY_LEARNING_RATE,
    CannedModel,
)
from widedeep.estimator.estimator import Estimator
from widedeep.heads import (
    BinaryClassHead,
    MultiClassHead,
    Reduction,
    RegressionHead,
)

SUM_OVER_BATCH_SIZE = Reduction.SUM_OVER_BATCH_SIZE


def _classifier_head(n_classes, weight_column, label_vocabulary, loss_reduction):
    if n_classes is None or int(n_classes) < 2:
        raise ValueError(f"n_classes must be > 1 for classification: {n_classes}")
    if n_classes == 2:
        return BinaryClassHead(weight_column=weight_column, label_vocabulary=label_vocabulary,
                               loss_reduction=loss_reduction)
    return MultiClassHead(n_classes, weight_column=weight_column,
                          label_vocabulary=label_vocabulary, loss_reduction=loss_reduction)


class _Canned(Estimator):
    """An Estimator whose model_fn is a `CannedModel`'s."""

    def __init__(self, model, model_dir, config, warm_start_from):
        self._canned = model
        super().__init__(model.model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)

    @property
    def head(self):
        return self._canned.head


class DNNLinearCombinedEstimator(_Canned):
    """Wide & deep with a custom head (`tf.estimator.DNNLinearCombinedEstimator`).

    Args:
      head: a widedeep.heads Head (e.g. `MultiLabelHead(n_classes=3)`).
      model_dir: checkpoints and summaries; a temporary directory when None.
      linear_feature_columns: the wide part's columns.
      linear_optimizer: an optimizer instance, a name ('Ftrl', 'Adagrad', 'Adam',
        'RMSProp', 'SGD'; learning rate min(0.005, 1/sqrt(#linear columns))), or
        a zero-argument callable returning one. Default 'Ftrl'.
      dnn_feature_columns: the deep part's (dense) columns.
      dnn_optimizer: likewise; a name gets learning rate 0.001. Default 'Adagrad'.
      dnn_hidden_units: e.g. [100, 75, 50, 25]; required with dnn_feature_columns.
      dnn_activation_fn: default relu.
      dnn_dropout: drop probability while training, or None.
      config: a RunConfig.
      batch_norm: batch normalization after each hidden layer.
      linear_sparse_combiner: 'sum' (default), 'mean' or 'sqrtn'.
      warm_start_from: (not in TF's signature of this class; as Estimator's.)

    Raises:
      ValueError: both column lists empty; dnn columns without hidden units; an
        unknown optimizer name or sparse combiner.
    """

    def __init__(self, head, model_dir=None, linear_feature_columns=None,
                 linear_optimizer="Ftrl", dnn_feature_columns=None, dnn_optimizer="Adagrad",
                 dnn_hidden_units=None, dnn_activation_fn=None, dnn_dropout=None, config=None,
                 batch_norm=False, linear_sparse_combiner="sum", warm_start_from=None):
        model = CannedModel(head, linear_feature_columns, linear_optimizer,
                            dnn_feature_columns, dnn_optimizer, dnn_hidden_units,
                            dnn_activation_fn, dnn_dropout, batch_norm, linear_sparse_combiner)
        super().__init__(model, model_dir, config, warm_start_from)


class DNNLinearCombinedClassifier(DNNLinearCombinedEstimator):
    """Wide & deep classifier: `BinaryClassHead` for n_classes=2, else
    `MultiClassHead`. Other args as DNNLinearCombinedEstimator's."""

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl",
                 dnn_feature_columns=None, dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=None, dnn_dropout=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, batch_norm=False,
                 linear_sparse_combiner="sum"):
        head = _classifier_head(n_classes, weight_column, label_vocabulary, loss_reduction)
        super().__init__(head, model_dir, linear_feature_columns, linear_optimizer,
                         dnn_feature_columns, dnn_optimizer, dnn_hidden_units,
                         dnn_activation_fn, dnn_dropout, config, batch_norm,
                         linear_sparse_combiner, warm_start_from)


class DNNLinearCombinedRegressor(DNNLinearCombinedEstimator):
    """Wide & deep regressor (`RegressionHead(label_dimension)`)."""

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl",
                 dnn_feature_columns=None, dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=None, dnn_dropout=None, label_dimension=1,
                 weight_column=None, config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, batch_norm=False,
                 linear_sparse_combiner="sum"):
        head = RegressionHead(label_dimension=label_dimension, weight_column=weight_column,
                              loss_reduction=loss_reduction)
        super().__init__(head, model_dir, linear_feature_columns, linear_optimizer,
                         dnn_feature_columns, dnn_optimizer, dnn_hidden_units,
                         dnn_activation_fn, dnn_dropout, config, batch_norm,
                         linear_sparse_combiner, warm_start_from)


# --- the wide part alone ----------------------------------------------------------------
class LinearEstimator(_Canned):
    """`tf.estimator.LinearEstimator`: the linear model with a custom head. A
    named optimizer gets learning rate min(0.2, 1/sqrt(#columns))."""

    def __init__(self, head, feature_columns, model_dir=None, optimizer="Ftrl", config=None,
                 sparse_combiner="sum", warm_start_from=None):
        if not feature_columns:
            raise ValueError("feature_columns must be defined for LinearEstimator.")
        model = CannedModel(head, linear_feature_columns=feature_columns,
                            linear_optimizer=optimizer, linear_sparse_combiner=sparse_combiner,
                            linear_learning_rate_cap=LINEAR_ONLY_LEARNING_RATE)
        super().__init__(model, model_dir, config, warm_start_from)


class LinearClassifier(LinearEstimator):
    def __init__(self, feature_columns, model_dir=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, optimizer="Ftrl", config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, sparse_combiner="sum"):
        head = _classifier_head(n_classes, weight_column, label_vocabulary, loss_reduction)
        super().__init__(head, feature_columns, model_dir, optimizer, config, sparse_combiner,
                         warm_start_from)


class LinearRegressor(LinearEstimator):
    def __init__(self, feature_columns, model_dir=None, label_dimension=1, weight_column=None,
                 optimizer="Ftrl", config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, sparse_combiner="sum"):
        head = RegressionHead(label_dimension=label_dimension, weight_column=weight_column,
                              loss_reduction=loss_reduction)
        super().__init__(head, feature_columns, model_dir, optimizer, config, sparse_combiner,
                         warm_start_from)


# --- the deep part alone ----------------------------------------------------------------
class DNNEstimator(_Canned):
    """`tf.estimator.DNNEstimator`: the DNN with a custom head. A named
    optimizer gets learning rate 0.05."""

    def __init__(self, head, hidden_units, feature_columns, model_dir=None,
                 optimizer="Adagrad", activation_fn=None, dropout=None, config=None,
                 warm_start_from=None, batch_norm=False):
        if not feature_columns:
            raise ValueError("feature_columns must be defined for DNNEstimator.")
        model = CannedModel(head, dnn_feature_columns=feature_columns, dnn_optimizer=optimizer,
                            dnn_hidden_units=hidden_units, dnn_activation_fn=activation_fn,
                            dnn_dropout=dropout, batch_norm=batch_norm,
                            dnn_learning_rate=DNN_ONLY_LEARNING_RATE)
        super().__init__(model, model_dir, config, warm_start_from)


class DNNClassifier(DNNEstimator):
    def __init__(self, hidden_units, feature_columns, model_dir=None, n_classes=2,
                 weight_column=None, label_vocabulary=None, optimizer="Adagrad",
                 activation_fn=None, dropout=None, config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, batch_norm=False):
        head = _classifier_head(n_classes, weight_column, label_vocabulary, loss_reduction)
        super().__init__(head, hidden_units, feature_columns, model_dir, optimizer,
                         activation_fn, dropout, config, warm_start_from, batch_norm)


class DNNRegressor(DNNEstimator):
    def __init__(self, hidden_units, feature_columns, model_dir=None, label_dimension=1,
                 weight_column=None, optimizer="Adagrad", activation_fn=None, dropout=None,
                 config=None, warm_start_from=None, loss_reduction=SUM_OVER_BATCH_SIZE,
                 batch_norm=False):
        head = RegressionHead(label_dimension=label_dimension, weight_column=weight_column,
                              loss_reduction=loss_reduction)
        super().__init__(head, hidden_units, feature_columns, model_dir, optimizer,
                         activation_fn, dropout, config, warm_start_from, batch_norm)
