"""The canned model_fn: wide (linear) + deep (DNN) logits into a head.

One training step, as TF 2.15's `_dnn_linear_combined_model_fn_v2` builds it:

    dnn_logits    = DNN(dnn_feature_columns)(features)            # 'dnn/...'
    linear_logits = LinearModel(linear_feature_columns)(features)  # 'linear/linear_model/...'
    logits        = dnn_logits + linear_logits                     # either may be absent
    loss          = head.loss(labels, logits)
    grads         = d loss / d (dnn variables + linear variables)   # one backward pass
    linear_optimizer.apply_gradients(linear grads)   # only the linear part's variables
    dnn_optimizer.apply_gradients(dnn grads)         # only the dnn part's; its iterations
                                                     # are the global step, so it counts
                                                     # the step (the linear optimizer keeps
                                                     # its own 'iter')

With only one part, that part's optimizer counts the global step. The
optimizers are resolved once per train() call (a callable is called once, as TF
calls it once per graph) and restored from the checkpoint with their slots.

Once the variables exist, supported configurations skip the tape: fast_step.py
runs the model's forward and backward, and the common heads give their loss
and dloss/dlogits directly (Head.loss_and_logits_gradient); other heads take
their loss on the tape, which then differentiates it with respect to the logits.
"""

import math

import minitf as tf
from minitf import optimizers
from minitf.optimizers.v1 import _V1
from widedeep.canned import fast_step
from widedeep.estimator.model_fn import ModeKeys
from widedeep.feature_column import LinearModel
from widedeep.feature_column.columns import TransformCache
from widedeep.models import DNNModel
from widedeep.variables import current_store

# TF's defaults (tensorflow_estimator canned/dnn_linear_combined.py, dnn.py, linear.py).
DNN_LEARNING_RATE = 0.001  # the combined model's deep part
LINEAR_LEARNING_RATE = 0.005  # the combined model's wide part, at most
DNN_ONLY_LEARNING_RATE = 0.05  # DNNEstimator
LINEAR_ONLY_LEARNING_RATE = 0.2  # LinearEstimator, at most


def linear_learning_rate(num_linear_feature_columns, cap=LINEAR_LEARNING_RATE):
    """TF's default for the wide part: ``min(cap, 1 / sqrt(number of columns))``."""
    return min(cap, 1.0 / math.sqrt(num_linear_feature_columns))


class CannedModel:
    """The settings of a canned model; `model_fn(features, labels, mode)` builds it.

    Args mirror DNNLinearCombinedEstimator's; `dnn_learning_rate` and
    `linear_learning_rate` are the defaults used when an optimizer is given by
    name (they differ between the combined, DNN-only and linear-only estimators).
    """

    def __init__(self, head, linear_feature_columns=None, linear_optimizer="Ftrl",
                 dnn_feature_columns=None, dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=None, dnn_dropout=None, batch_norm=False,
                 linear_sparse_combiner="sum", dnn_learning_rate=DNN_LEARNING_RATE,
                 linear_learning_rate_cap=LINEAR_LEARNING_RATE):
        self.head = head
        self.linear_feature_columns = list(linear_feature_columns or [])
        self.dnn_feature_columns = list(dnn_feature_columns or [])
        if not self.linear_feature_columns and not self.dnn_feature_columns:
            raise ValueError("Either linear_feature_columns or dnn_feature_columns must be "
                             "defined.")
        if self.dnn_feature_columns and not dnn_hidden_units:
            # TF raises this when the graph is built; we raise it at once.
            raise ValueError("dnn_hidden_units must be defined when dnn_feature_columns is "
                             "specified.")
        if linear_sparse_combiner not in ("mean", "sqrtn", "sum"):
            raise ValueError(f"linear_sparse_combiner must be one of 'mean', 'sqrtn' or "
                             f"'sum', got {linear_sparse_combiner!r}")
        _check_optimizer_arg(linear_optimizer, "linear_optimizer")
        _check_optimizer_arg(dnn_optimizer, "dnn_optimizer")
        self.linear_optimizer, self.dnn_optimizer = linear_optimizer, dnn_optimizer
        self.dnn_hidden_units = list(dnn_hidden_units or [])
        self.dnn_activation_fn = dnn_activation_fn or tf.nn.relu
        self.dnn_dropout, self.batch_norm = dnn_dropout, bool(batch_norm)
        self.linear_sparse_combiner = linear_sparse_combiner
        self.dnn_learning_rate = dnn_learning_rate
        self.linear_learning_rate = (linear_learning_rate(len(self.linear_feature_columns),
                                                          linear_learning_rate_cap)
                                     if self.linear_feature_columns else None)
        if self.dnn_feature_columns:  # validates hidden units, dropout, activation now
            DNNModel(head.logits_dimension, self.dnn_hidden_units, self.dnn_feature_columns,
                     self.dnn_activation_fn, self.dnn_dropout, self.batch_norm)

    def _parts(self, store):
        """(dnn model or None, linear model or None), built once per store."""
        key = ("canned_parts", id(self))
        parts = store.cache.get(key) if store is not None else None
        if parts is None:
            dnn = linear = None
            if self.dnn_feature_columns:
                dnn = DNNModel(self.head.logits_dimension, self.dnn_hidden_units,
                               self.dnn_feature_columns, self.dnn_activation_fn,
                               self.dnn_dropout, self.batch_norm)
            if self.linear_feature_columns:
                linear = LinearModel(self.linear_feature_columns, units=self.head.logits_dimension,
                                     sparse_combiner=self.linear_sparse_combiner,
                                     name="linear_model", scope="linear")
            parts = (dnn, linear)
            if store is not None:
                store.cache[key] = parts
        return parts

    def _optimizers(self, store):
        """{'dnn': opt, 'linear': opt} for this train() call: resolved from an
        instance, a name or a callable, restored from the checkpoint, tracked so
        their slots are saved."""
        key = ("canned_optimizers", id(self))
        opts = store.cache.get(key)
        if opts is None:
            opts = {}
            # TF builds the dnn part first; a linear optimizer of the same kind
            # then gets the graph's next free name: 'training/Ftrl_1/...'.
            for which, spec, lr, cols in (
                    ("dnn", self.dnn_optimizer, self.dnn_learning_rate,
                     self.dnn_feature_columns),
                    ("linear", self.linear_optimizer, self.linear_learning_rate,
                     self.linear_feature_columns)):
                if not cols:
                    continue
                try:
                    opt = optimizers.get(spec, learning_rate=lr)
                except ValueError as e:
                    raise ValueError(f"{which}_optimizer: {e}") from None
                base = opt.__dict__.setdefault("_base_name", opt._name)
                taken = {o._name for o in opts.values() if not isinstance(o, _V1)}
                # (v1 optimizers name slots '<variable>/<Name>': no clash)
                opt._name = f"{base}_1" if base in taken and not isinstance(opt, _V1) else base
                store.optimizer_seen(opt)  # restored from the checkpoint, saved with it
                opts[which] = opt
            store.cache[key] = opts
        return opts

    def _fast_forward(self, store, columns_input, dnn, linear):
        """fast_step.forward for this batch, or None when the configuration
        is not supported. The DNN's layers are made first (DNNModel.build: the
        first call's variables, order and initial values; the linear part and
        the embeddings exist with the model), so that the first batch, too,
        takes the fast path: in training, that spares a cold Numba cache the
        compiles of the tape path's kernels."""
        if store is None:
            return None
        key = ("canned_fast", id(self))
        if key not in store.cache:
            store.cache[key] = fast_step.supported(self)
        if not store.cache[key]:
            return None
        layers = ("canned_layers", id(self))  # the DNN's [(kernel, bias)], made or found
        if layers not in store.cache:
            store.cache[layers] = dnn.build() if dnn is not None else None
        return fast_step.forward(columns_input, dnn, linear, store.cache[layers])

    def _train_parts(self, store, dnn, linear):
        """[(optimizer, its variables)]: the linear part's, then the dnn's trainable
        ones; listed again only when the store's variables change."""
        key = ("canned_train_parts", id(self))
        cached = store.cache.get(key)
        if cached is None or cached[0] != len(store.variables):
            opts, parts = self._optimizers(store), []
            if linear is not None:
                parts.append((opts["linear"], linear.variables))
            if dnn is not None:
                parts.append((opts["dnn"], [v for v in dnn.variables if v.trainable]))
            cached = store.cache[key] = len(store.variables), parts
        return cached[1]

    def model_fn(self, features, labels, mode, config=None):
        if not isinstance(features, dict):
            raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: "
                             f"{type(features)}")
        store = current_store()
        dnn, linear = self._parts(store)
        training = mode == ModeKeys.TRAIN
        logits = None
        # One transform cache for both parts: a column both use (occupation in the
        # census model) is transformed once per batch.
        columns_input = TransformCache(features)
        fast = self._fast_forward(store, columns_input, dnn, linear)
        if fast is not None:  # the model without the tape (fast_step.py); the head on it
            logits = tf.constant(fast[0])
        else:
            if dnn is not None:
                logits = dnn(columns_input, training=training)
            if linear is not None:
                wide = linear(columns_input)
                logits = wide if logits is None else logits + wide
        if not training:
            return self.head.create_estimator_spec(features, mode, logits, labels=labels)
        from widedeep.estimator.estimator import current_tape
        tape = current_tape()
        if tape is None:
            raise ValueError("TRAIN mode needs the GradientTape the Estimator opens; call "
                             "model_fn through Estimator.train")
        gs = tf.train.get_or_create_global_step()
        parts = self._train_parts(store, dnn, linear)
        # The last part's optimizer counts the global step (the dnn's when present).
        parts[-1][0].iterations = gs
        if not store.cache.get(("canned_built", id(self))):  # slots in model.ckpt-0, as TF
            store.cache[("canned_built", id(self))] = True
            for opt, vs in parts:
                opt.build(vs)

        if fast is not None:
            # The head's loss and dloss/dlogits without the tape too, when it has
            # that form (the common heads with their default loss); else on the tape.
            # (A head need not be a widedeep Head: create_estimator_spec suffices.)
            direct_fn = getattr(self.head, "loss_and_logits_gradient", None)
            direct = direct_fn(labels, logits, features) if direct_fn is not None else None
            if direct is not None:
                loss, g = direct
                return self.head.train_estimator_spec(
                    logits, loss, lambda: _apply(parts, fast[1](g)))
            tape.watch(logits)

        def train_op_fn(loss):
            def train_op():
                if fast is not None:  # dloss/dlogits from the tape, the rest by hand
                    _apply(parts, fast[1](tape.gradient(loss, logits).numpy()))
                    return
                variables = [v for _, vs in parts for v in vs]
                grads = iter(tape.gradient(loss, variables))
                for opt, vs in parts:
                    opt.apply_gradients([(next(grads), v) for v in vs])
            return train_op

        return self.head.create_estimator_spec(features, mode, logits, labels=labels,
                                               train_op_fn=train_op_fn)


def _apply(parts, grads):
    """Each part's optimizer applies its variables' gradients from `grads`
    ({id(variable): gradient}, as fast_step's backward returns them)."""
    for opt, vs in parts:
        opt.apply_gradients([(grads.get(id(v)), v) for v in vs])


def _check_optimizer_arg(opt, name):
    if isinstance(opt, str):
        try:
            optimizers.get(opt, learning_rate=0.1)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
    elif not callable(opt) and not isinstance(opt, optimizers.Optimizer):
        raise ValueError(f"{name} must be an optimizer instance, a name or a callable "
                         f"returning an optimizer, got {opt!r}")
