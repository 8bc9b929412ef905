"""`ModeKeys` and `EstimatorSpec`: what a model_fn returns, checked as TF checks it.

One difference from TF, since nothing here is a graph: `model_fn` runs once
per batch, and in TRAIN mode `train_op` is a zero-argument callable that
applies the update (the runtime calls it after the step's hooks have seen the
batch), or any other non-None value when model_fn has already updated.
"""

import collections
import collections.abc

import numpy as np


class ModeKeys:
    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


class LazyPredictions(collections.abc.Mapping):
    """Predictions computed on first use, from `compute()`. A head's TRAIN spec
    carries these: in TF's graph a training step evaluates its predictions only
    when something (a hook) fetches them, and computing them every step costs
    more here than the update of a small model."""

    def __init__(self, compute):
        self._compute, self._values = compute, None

    def _all(self):
        if self._values is None:
            self._values = self._compute()
        return self._values

    def __getitem__(self, key):
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())


_FIELDS = ["mode", "predictions", "loss", "train_op", "eval_metric_ops", "export_outputs",
           "training_chief_hooks", "training_hooks", "scaffold", "evaluation_hooks",
           "prediction_hooks"]


class EstimatorSpec(collections.namedtuple("EstimatorSpec", _FIELDS)):
    """What `model_fn` returns for one mode.

    Args:
      mode: a ModeKeys value.
      predictions: an array/Tensor or a dict of them (required for PREDICT).
      loss: a scalar Tensor (required for TRAIN and EVAL).
      train_op: see the module docstring (required for TRAIN).
      eval_metric_ops: {name: metric object with update_state/result} or
        {name: (value, None)}; the runtime adds 'loss' (mean per batch).
      export_outputs: {signature key: ExportOutput}.
    """

    def __new__(cls, mode, predictions=None, loss=None, train_op=None, eval_metric_ops=None,
                export_outputs=None, training_chief_hooks=None, training_hooks=None,
                scaffold=None, evaluation_hooks=None, prediction_hooks=None):
        if mode not in (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT):
            raise ValueError(f"mode={mode!r} unrecognized; expected one of 'train', 'eval', "
                             f"'infer' (ModeKeys)")
        if mode == ModeKeys.TRAIN and train_op is None:
            raise ValueError("Missing train_op: an EstimatorSpec in TRAIN mode needs one")
        if mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
            if loss is None:
                raise ValueError("Missing loss: an EstimatorSpec in TRAIN or EVAL mode needs one")
            if np.ndim(np.asarray(loss)) != 0 and np.size(np.asarray(loss)) != 1:
                raise ValueError(f"Loss must be scalar, given: shape "
                                 f"{np.shape(np.asarray(loss))}")
        if mode == ModeKeys.PREDICT and predictions is None:
            raise ValueError("Missing predictions: an EstimatorSpec in PREDICT mode needs "
                             "them")
        if eval_metric_ops is not None and not isinstance(eval_metric_ops, dict):
            raise TypeError(f"eval_metric_ops must be a dict, given: {eval_metric_ops!r}")
        if export_outputs is not None and not isinstance(export_outputs, dict):
            raise TypeError(f"export_outputs must be dict, given: {export_outputs!r}")
        hooks = [list(h or []) for h in (training_chief_hooks, training_hooks,
                                          evaluation_hooks, prediction_hooks)]
        return super().__new__(cls, mode, predictions, loss, train_op, eval_metric_ops or {},
                               export_outputs, hooks[0], hooks[1], scaffold, hooks[2], hooks[3])
