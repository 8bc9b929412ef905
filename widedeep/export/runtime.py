"""A canned model's configuration as JSON, and the model rebuilt from it.

`model_config(canned)` writes what `CannedModel` needs (model.json)::

    {"format": "widedeep-model", "version": 1,
     "head": {"class_name": "BinaryClassHead", "config": {...}},
     "linear_feature_columns": [serialized column, ...], "dnn_feature_columns": [...],
     "dnn_hidden_units": [8, 4], "dnn_activation_fn": "relu", "dnn_dropout": null,
     "batch_norm": false, "linear_sparse_combiner": "sum"}

`Runtime(config, values)` rebuilds the CannedModel and a VariableStore holding
`values`, and runs the canned model_fn in PREDICT mode, the very code
`Estimator.predict` runs. Anything that is Python code (a custom activation, an
inverse link function, a normalizer_fn, a custom head or model_fn) cannot be
written and makes `model_config` raise. A head's `loss_fn` is left out: serving
computes no loss (the rebuilt head has loss_fn=None).
"""

import numpy as np

import minitf as tf
from minitf.blas import adaptive_threads
from minitf.sparse import SparseTensor
from widedeep.estimator.model_fn import ModeKeys
from widedeep.feature_column import (
    FeatureColumn,
    FixedLenFeature,
    deserialize,
    make_parse_example_spec,
    serialize,
)
from widedeep.heads import (
    BinaryClassHead,
    LogisticRegressionHead,
    MultiClassHead,
    MultiLabelHead,
    PoissonRegressionHead,
    RegressionHead,
)
from widedeep.variables import VariableStore, store_scope

MODEL_FORMAT, MODEL_VERSION = "widedeep-model", 1
ACTIVATIONS = ("relu", "relu6", "elu", "selu", "gelu", "leaky_relu", "sigmoid", "tanh",
               "softplus", "softsign", "silu", "swish")
# head class -> (its constructor arguments, the attribute holding each)
_HEADS = {
    BinaryClassHead: {"weight_column": "_weight_column", "thresholds": "_thresholds",
                      "label_vocabulary": "_label_vocabulary",
                      "loss_reduction": "_loss_reduction", "name": "_name"},
    MultiClassHead: {"n_classes": "_n_classes", "weight_column": "_weight_column",
                     "label_vocabulary": "_label_vocabulary",
                     "loss_reduction": "_loss_reduction", "name": "_name"},
    MultiLabelHead: {"n_classes": "_n_classes", "weight_column": "_weight_column",
                     "thresholds": "_thresholds", "label_vocabulary": "_label_vocabulary",
                     "loss_reduction": "_loss_reduction",
                     "classes_for_class_based_metrics": "_class_names", "name": "_name"},
    RegressionHead: {"label_dimension": "_logits_dimension", "weight_column": "_weight_column",
                     "loss_reduction": "_loss_reduction", "name": "_name"},
    PoissonRegressionHead: {"label_dimension": "_logits_dimension",
                            "weight_column": "_weight_column",
                            "loss_reduction": "_loss_reduction", "compute_full_loss": "_full",
                            "name": "_name"},
    LogisticRegressionHead: {"weight_column": "_weight_column",
                             "loss_reduction": "_loss_reduction", "name": "_name"},
}
_HEAD_BY_NAME = {c.__name__: c for c in _HEADS}


class NotExportableError(ValueError):
    """The model holds Python code (or an unknown part) that JSON cannot hold."""


def _json_value(v, what):
    if isinstance(v, FeatureColumn):
        return {"feature_column": _column(v, what)}
    if isinstance(v, (tuple, list)):
        return [_json_value(x, what) for x in v]
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.generic):
        return v.item()
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    raise NotExportableError(f"{what}: {v!r:.100} cannot be written to JSON")


def _column(c, what):
    try:
        return serialize(c)
    except ValueError as e:
        raise NotExportableError(f"{what}: {e}") from None


def head_config(head):
    cls = type(head)
    if cls not in _HEADS:
        raise NotExportableError(
            f"the head {cls.__name__} is not one of widedeep's heads "
            f"({', '.join(sorted(_HEAD_BY_NAME))}); a custom head is Python code and cannot "
            f"be exported")
    if cls is RegressionHead and head._inverse_link_fn is not None:
        raise NotExportableError(
            f"RegressionHead: its inverse_link_fn {head._inverse_link_fn!r} is Python code "
            f"and cannot be written to JSON (PoissonRegressionHead and "
            f"LogisticRegressionHead can be exported)")
    cfg = {arg: _json_value(getattr(head, attr), f"{cls.__name__}.{arg}")
           for arg, attr in _HEADS[cls].items()}
    return {"class_name": cls.__name__, "config": cfg}


def _from_json_value(v):
    if isinstance(v, dict) and set(v) == {"feature_column"}:
        return deserialize(v["feature_column"])
    return v


def head_from_config(d):
    cls = _HEAD_BY_NAME.get(d.get("class_name"))
    if cls is None:
        raise ValueError(f"unknown head class {d.get('class_name')!r}; expected one of "
                         f"{sorted(_HEAD_BY_NAME)}")
    cfg = {k: _from_json_value(v) for k, v in d["config"].items()}
    return cls(**cfg)


def activation_name(fn):
    if isinstance(fn, str):
        if fn not in ACTIVATIONS:
            raise NotExportableError(f"dnn_activation_fn {fn!r} is not one of {ACTIVATIONS}")
        return fn
    for name in ACTIVATIONS:
        if getattr(tf.nn, name, None) is fn:
            return name
    raise NotExportableError(
        f"dnn_activation_fn {fn!r} is Python code and cannot be written to JSON; use one of "
        f"minitf.nn's activations ({', '.join(ACTIVATIONS)})")


def model_config(estimator):
    """model.json's content for a canned estimator (or a CannedModel)."""
    canned = getattr(estimator, "_canned", estimator)
    from widedeep.canned.model_fn import CannedModel
    if not isinstance(canned, CannedModel):
        raise NotExportableError(
            f"only canned estimators (DNNLinearCombined*, Linear*, DNN*) can be exported: "
            f"their model is a configuration that JSON holds. This estimator's model_fn "
            f"{getattr(estimator, '_model_fn', estimator)!r:.100} is Python code.")
    dnn = bool(canned.dnn_feature_columns)
    return {
        "format": MODEL_FORMAT, "version": MODEL_VERSION,
        "head": head_config(canned.head),
        "linear_feature_columns": [_column(c, "linear_feature_columns")
                                   for c in canned.linear_feature_columns],
        "dnn_feature_columns": [_column(c, "dnn_feature_columns")
                                for c in canned.dnn_feature_columns],
        "dnn_hidden_units": list(canned.dnn_hidden_units),
        "dnn_activation_fn": activation_name(canned.dnn_activation_fn) if dnn else None,
        "dnn_dropout": canned.dnn_dropout,
        "batch_norm": canned.batch_norm,
        "linear_sparse_combiner": canned.linear_sparse_combiner,
    }


def map_vocabulary_files(obj, fn):
    """A copy of serialized JSON with every vocabulary file column's
    `vocabulary_file` replaced by fn(path)."""
    if isinstance(obj, dict):
        if obj.get("class_name") == "VocabularyFileCategoricalColumn" and isinstance(
                obj.get("config"), dict):
            cfg = dict(obj["config"])
            cfg["vocabulary_file"] = fn(cfg.get("vocabulary_file"))
            return {**obj, "config": cfg}
        return {k: map_vocabulary_files(v, fn) for k, v in obj.items()}
    if isinstance(obj, list):
        return [map_vocabulary_files(v, fn) for v in obj]
    return obj


def canned_from_config(cfg):
    from widedeep.canned.model_fn import CannedModel
    head = head_from_config(cfg["head"])
    linear = [deserialize(c) for c in cfg["linear_feature_columns"]]
    dnn = [deserialize(c) for c in cfg["dnn_feature_columns"]]
    return CannedModel(head, linear_feature_columns=linear, dnn_feature_columns=dnn,
                       dnn_hidden_units=cfg["dnn_hidden_units"] or None,
                       dnn_activation_fn=cfg["dnn_activation_fn"],
                       dnn_dropout=cfg["dnn_dropout"], batch_norm=cfg["batch_norm"],
                       linear_sparse_combiner=cfg["linear_sparse_combiner"])


def dummy_features(columns):
    """One example for every raw feature the columns read (zeros, empty strings or
    the defaults), to build the model's variables and find its output shapes."""
    out = {}
    for key, spec in make_parse_example_spec(columns).items():
        string = str(spec.dtype) in ("string", "str", "object")
        if isinstance(spec, FixedLenFeature):
            shape = (1,) + tuple(spec.shape)
            if spec.default_value is not None:
                out[key] = np.broadcast_to(np.asarray(
                    spec.default_value, object if string else np.float32), shape).copy()
            else:
                out[key] = np.full(shape, "", object) if string else np.zeros(shape, np.float32)
        else:
            values = np.array([""], object) if string else np.zeros(1, np.int64)
            out[key] = SparseTensor(np.zeros((1, 2), np.int64), values, [1, 1])
    return out


class Runtime:
    """A canned model rebuilt from its config with fixed variable values.

    Args:
      config: model.json's content.
      values: {variable name: array}: every model variable must be there.
      source: where `values` came from, for error messages.

    Raises:
      ValueError: a variable of the model is missing from `values`, or has
        another shape.
    """

    def __init__(self, config, values, source):
        self.config = config
        self.canned = canned_from_config(config)
        self.store = VariableStore(values, None, source)
        self.columns = self.canned.linear_feature_columns + self.canned.dnn_feature_columns
        dummy = dummy_features(self.columns)
        spec = self.slow_run(dummy)
        missing = sorted(n for n in self.store.variables if n not in values)
        if missing:
            raise ValueError(f"{source} lacks variable(s) {missing} of the model")
        self.example_outputs = spec.export_outputs
        self._rows = _checked_rows(self, dummy, spec)

    def slow_run(self, features):
        """The canned model_fn's PREDICT EstimatorSpec for a batch of features."""
        with store_scope(self.store):
            return self.canned.model_fn(features, None, ModeKeys.PREDICT)

    def export_outputs(self, features):
        """{export output key: ExportOutput} for a batch of features."""
        with adaptive_threads():  # as Estimator.predict (see widedeep.export.rows)
            return self.slow_run(features).export_outputs

    def export_outputs_of_rows(self, rows, n, form=frozenset()):
        """{export output key: ExportOutput} for n single-valued rows ({feature key:
        n values}; `form`: the string features the model_fn would get sparse), or
        None when the rows are not all single-valued (see widedeep.export.rows)."""
        if self._rows is None or n == 0:
            return None
        logits = self._rows.logits(rows, n, form)
        if logits is None:
            return None
        return self.canned.head.export_outputs(self._rows.predictions(logits))

    def export_outputs_of_row(self, row, form=frozenset()):
        """export_outputs_of_rows for one row {feature key: its value}."""
        if self._rows is None:
            return None
        logits = self._rows.row_logits(row, form)
        if logits is None:
            return None
        return self.canned.head.export_outputs(self._rows.predictions(logits))

    def variable_values(self):
        return {n: v.numpy() for n, v in self.store.variables.items()}


def numpy_dtype_name(a):
    a = np.asarray(a)
    return "string" if a.dtype.kind in "OSU" else a.dtype.name


def describe_outputs(export_output):
    """{output name: {"dtype", "shape"}} of an ExportOutput computed on one example."""
    return {k: {"dtype": numpy_dtype_name(v), "shape": [None] + list(np.shape(v)[1:])}
            for k, v in sorted(export_output.as_signature_outputs().items())}


def _checked_rows(runtime, dummy, spec):
    """A RowPlan for the runtime's model if it gives exactly what the model_fn
    gives on the dummy example (and its head predictions exactly the head's on
    logits of every size), else None."""
    from widedeep.export.rows import RowPlan
    arrays = model_arrays(runtime.canned, runtime.store)
    plan = None if arrays is None else RowPlan.build(*arrays)
    if plan is None:
        return None
    rows = {k: list(np.asarray(v).reshape(-1)) for k, v in dummy.items()
            if not isinstance(v, SparseTensor)}
    rows.update({k: list(v.values) for k, v in dummy.items() if isinstance(v, SparseTensor)})
    form = frozenset(k for k, v in dummy.items() if isinstance(v, SparseTensor))
    try:
        logits = plan.logits(rows, 1, form)
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if logits is None or not _same(runtime.canned.head.export_outputs(plan.predictions(logits)),
                                   spec.export_outputs):
        return None
    one = {k: v[0] for k, v in rows.items()}  # the one-row path, on the ids just cached
    one.update({k: float(one[k]) for k in plan.numeric_keys})
    try:
        same = np.array_equal(plan.row_logits(one, form), logits)
    except (ValueError, TypeError, KeyError, IndexError):
        same = False
    if not same:
        return None
    head = runtime.canned.head
    z = np.random.default_rng(0).normal(0, 30, (257, head.logits_dimension)).astype(np.float32)
    z[0], z[1], z[2] = 0.0, 1e30, -1e30  # ties and overflow
    for batch in [z[i:i + 1] for i in range(8)] + [z]:  # one row has shortcuts
        if not _same(head.export_outputs(plan.predictions(batch)),
                     head.export_outputs(head.predictions(batch))):
            return None
    return plan


def _same(a, b):
    """Whether two {key: ExportOutput} hold the same outputs, bit for bit."""
    if sorted(a) != sorted(b):
        return False
    for k in a:
        x, y = a[k].as_signature_outputs(), b[k].as_signature_outputs()
        for n in y:
            u, v = np.asarray(x[n]), np.asarray(y[n])
            if u.shape != v.shape or u.dtype != v.dtype or (
                    u.dtype.kind in "OSU" and u.tolist() != v.tolist()):
                return False
            if u.dtype.kind not in "OSU" and not np.array_equal(
                    u, v, equal_nan=u.dtype.kind == "f"):
                return False
    return True


def model_arrays(canned, store):
    """(linear, dnn, head) arrays of a canned model, for `RowPlan`, or None when
    the model has what the row plan does not cover (batch norm, max_norm):

        linear = ([(column, weights)], bias, sparse_combiner) or None
        dnn    = (input columns, {column: table}, [(kernel, bias)] hidden,
                  (kernel, bias) logits, activation) or None
    """
    from widedeep.feature_column import EmbeddingColumn, SharedEmbeddingColumn
    with store_scope(store):
        dnn, linear = canned._parts(store)
    if dnn is not None and (dnn.batch_norm or any(
            isinstance(c, (EmbeddingColumn, SharedEmbeddingColumn)) and c.max_norm is not None
            for c in dnn.input_layer.columns)):
        return None
    lin = None if linear is None else (
        [(c, linear.weights[c].numpy()) for c in linear.columns], linear.bias.numpy(),
        linear.sparse_combiner)
    deep = None
    if dnn is not None:
        with store_scope(store):  # the model_fn made them: found, not made
            *hidden, logits = [(k.numpy(), b.numpy()) for k, b in dnn.build()]
        deep = (dnn.input_layer.columns,
                {c: t.numpy() for c, t in dnn.input_layer.tables.items()}, hidden, logits,
                dnn.activation)
    return lin, deep, canned.head
