"""The optimizer base: hyperparameters, slots, iterations, checkpoint state.

It follows TF 2.15's legacy Keras optimizers (`tf.keras.optimizers.legacy.*`,
what tf.estimator uses), whose updates are TF's C++ training kernels:

* each float hyperparameter is a variable (`learning_rate`, `decay`, ...);
  a schedule is called with `iterations`, a zero-argument callable is called,
  at every step; the learning rate is then divided by ``1 + decay * iterations``;
* `apply_gradients` updates every variable, then adds one to `iterations`
  (the canned estimator makes one optimizer's `iterations` the global step);
* an `IndexedSlices` gradient has its duplicate ids summed, then only its rows
  are updated (subclasses' `_apply_sparse`);
* slots and hyperparameters are named as in an estimator checkpoint:
  ``training/<name>/<variable>/<slot>``, ``training/<name>/<hyper>``,
  ``training/<name>/iter``.

Subclasses give `_create_slots(var)`, `_apply_dense(grad, var, coef)` and
`_apply_sparse(values, rows, var, coef)` (NumPy arrays; update in place or
assign), with `coef` the step's hyperparameter values in the variable's dtype;
optionally `_apply_sparse_dup` (duplicate ids summed in its kernel).

What does not change from step to step is kept between steps (at a batch of
256 the Python around the kernels costs more than they do): each variable's
slots (`_var_slots`), and, for a class that says its `_coefficients` read only
hyperparameters and public attributes (`_CACHE_COEFFICIENTS`), the
coefficients while every hyperparameter is a plain number and there is no
decay. Schedules, callables and decay are evaluated at every step, as before.
The cache is dropped when the slots or hyperparameters it was taken from are
replaced (`load_state`, a successor in `shared_state`) and when a public
attribute (`learning_rate`, `epsilon`, ...) is set.
"""

import contextlib
import threading

import numpy as np

from minitf.kernels.scatter import dedup_sum
from minitf.schedules import LearningRateSchedule
from minitf.sparse import IndexedSlices
from minitf.tensor import Tensor, Variable

SCOPE = "training"
_local = threading.local()
_CACHE_SOURCES = frozenset(("_slots", "_hyper", "_hyper_values"))  # see Optimizer.__setattr__


@contextlib.contextmanager
def shared_state(on_first=None):
    """Within the block, optimizers of the same class and name share one state
    (slots, iterations, restored hyperparameters), as TF's slot variables are
    graph variables found by name. An estimator calls a model_fn once per
    batch, and a model_fn that builds ``Adagrad()`` itself gets a new object
    every batch: the newest takes over the state of the one before.
    `on_first(optimizer)` is called for the first of each name (to restore it
    from a checkpoint and save it with the model)."""
    prev = getattr(_local, "scope", None)
    _local.scope = ({}, on_first)
    try:
        yield
    finally:
        _local.scope = prev


def _as_rows(a):
    """`a` as [rows, cols] (a view of a C-contiguous array)."""
    return a.reshape(len(a), -1) if a.ndim else a.reshape(1, 1)


class Optimizer:
    _HYPERS = ()  # names of the float hyperparameters, in TF's order
    _SLOTS = ()  # names of the slots (unless get_slot_names says otherwise)
    _CACHE_COEFFICIENTS = False  # True: `_coefficients` reads hypers and public attributes only

    def __init__(self, name, **hypers):
        self._cache = None  # see _step_cache
        self._name = name
        self._hyper = {}
        for k, v in hypers.items():
            if k == "lr":
                k = "learning_rate"
            self._hyper[k] = v
        self._slots = {}  # (var name, slot) -> ndarray
        self._hyper_values = {}  # restored values of the hyper variables
        self._pending = {}  # checkpoint values not yet claimed by a slot
        self._iterations = None

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        # The cache follows the slots and hyperparameters, and a public attribute
        # (learning_rate, epsilon, ...) may feed `_coefficients`. Not `iterations`,
        # which the canned estimators set at every step: cached coefficients never
        # depend on it.
        if name in _CACHE_SOURCES or (name[0] != "_" and name != "iterations"):
            object.__setattr__(self, "_cache", None)

    def __getstate__(self):  # a copy makes its own cache (its views would not be its slots')
        return {**self.__dict__, "_cache": None}

    # --- hyperparameters ----------------------------------------------------------------
    def _check_hyper(self, name, value, low=0.0, low_ok=True, what=None):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value < low or (value == low and not low_ok):
                op = ">=" if low_ok else ">"
                raise ValueError(f"{type(self).__name__}: {what or name} must be {op} {low}, "
                                 f"got {value}")

    def _get_hyper(self, name, dtype=np.float32):
        if name in self._hyper_values:
            return dtype(self._hyper_values[name])
        v = self._hyper[name]
        if type(v) is float:  # the common case, quicker than np.asarray (same value)
            return dtype(v)
        if isinstance(v, LearningRateSchedule):
            v = v(self.iterations_value())
        elif callable(v):
            v = v()
        if isinstance(v, Tensor):
            v = v.numpy()
        return dtype(np.asarray(v))

    def _decayed_lr(self, dtype=np.float32):
        lr = self._get_hyper("learning_rate", dtype)
        decay = self._get_hyper("decay", dtype) if "decay" in self._hyper else dtype(0)
        if decay > 0:
            lr = lr / (dtype(1) + decay * dtype(self.iterations_value()))
        return lr

    @property
    def learning_rate(self):
        return self._hyper["learning_rate"]

    @learning_rate.setter
    def learning_rate(self, value):
        self._hyper["learning_rate"] = value
        self._hyper_values.pop("learning_rate", None)

    lr = learning_rate

    # --- iterations ---------------------------------------------------------------------
    @property
    def iterations(self):
        if self._iterations is None:
            self._iterations = Variable(np.int64(self._pending.pop(self._iter_name(), 0)),
                                        name=self._iter_name(), trainable=False)
            self._own_iterations = True
        return self._iterations

    @iterations.setter
    def iterations(self, variable):
        """The canned estimators make the global step one optimizer's iterations."""
        self._iterations = variable
        self._own_iterations = False

    def iterations_value(self):
        return int(np.asarray(self.iterations.numpy()))

    def _iter_name(self):
        return f"{SCOPE}/{self._name}/iter"

    # --- slots --------------------------------------------------------------------------
    def add_slot(self, var, slot, initializer=0.0):
        key = (var._name, slot)
        if key not in self._slots:
            name = self.slot_name(var, slot)
            if name in self._pending:
                value = np.asarray(self._pending.pop(name), var.dtype)
                if value.shape != var.shape:
                    raise ValueError(f"{type(self).__name__}: restored slot {name} has shape "
                                     f"{value.shape}, variable has {var.shape}")
                value = value.copy()
            else:
                value = np.full(var.shape, initializer, var.dtype)
            self._slots[key] = value
        return self._slots[key]

    def build(self, var_list):
        """Creates the slots of `var_list` and the iteration counter now (TF
        creates them with the graph, so they are in the first checkpoint)."""
        for var in var_list:
            self._create_slots(var)
        self.iterations  # noqa: B018  (created on first access)

    def slot_name(self, var, slot):
        return f"{SCOPE}/{self._name}/{var._name}/{slot}"

    def get_slot(self, var, slot):
        return self._slots[(var._name, slot)]

    def get_slot_names(self):
        return list(self._SLOTS)

    def _var_slots(self, var):
        """(arrays, rows): the variable's slots in `get_slot_names()` order, and
        the same as [rows, cols] views (as `_rows` gives the variable), made by
        `_create_slots` at its first update and cached."""
        slots = (self._cache or self._step_cache())[0]  # (called for every variable)
        out = slots.get(var._name)
        if out is None:
            self._create_slots(var)
            arrays = tuple(self._slots[(var._name, s)] for s in self.get_slot_names())
            out = slots[var._name] = arrays, tuple(_as_rows(a) for a in arrays)
        return out

    def _step_cache(self):
        """({var name: `_var_slots`}, {dtype: coefficients}) kept between steps
        (`__setattr__` drops it)."""
        if self._cache is None:
            self._cache = ({}, {})
        return self._cache

    # --- updates ------------------------------------------------------------------------
    def _coefficients(self, dtype):
        return {"lr_t": self._decayed_lr(dtype)}

    def _step_coefficients(self, dtype):
        """`_coefficients(dtype)`, computed once while they cannot change."""
        cache = self._step_cache()[1]
        c = cache.get(dtype)
        if c is None:
            c = self._coefficients(dtype)
            if self._constant_coefficients():
                cache[dtype] = c
        return c

    def _constant_coefficients(self):
        """Whether the next step's coefficients will be this step's: the class
        says they read only hyperparameters and public attributes, each
        hyperparameter is a plain number (not a schedule or callable) or was
        restored, and there is no decay (it follows `iterations`)."""
        if not self._CACHE_COEFFICIENTS:
            return False
        hv = self._hyper_values
        if any(type(v) not in (int, float) for k, v in self._hyper.items() if k not in hv):
            return False
        return not hv.get("decay", self._hyper.get("decay", 0.0))

    def apply_gradients(self, grads_and_vars, name=None, experimental_aggregate_gradients=True):
        """Applies each (gradient, variable) pair, skipping None gradients; then
        iterations += 1. Returns the iterations variable."""
        self._join_shared_state()
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[v.name for _, v in grads_and_vars]}.")
        coef = {}  # dtype -> the step's coefficients
        made = self._step_cache()[0]
        for g, var in pairs:
            if not isinstance(var, Variable):
                raise TypeError(f"{type(self).__name__}: can only update Variables, got "
                                f"{type(var).__name__}")
            dt = var._value.dtype.type
            c = coef.get(dt)
            if c is None:
                c = coef[dt] = self._step_coefficients(dt)
            if var._name not in made:
                self._var_slots(var)  # makes them
            if isinstance(g, IndexedSlices):
                ids = np.asarray(g.indices, np.int64)
                if ids.ndim != 1:
                    ids = ids.reshape(-1)
                values = np.asarray(g.values, dt)
                if not self._apply_sparse_dup(values, ids, var, c):
                    rows, values = dedup_sum(ids, values)
                    self._apply_sparse(values, rows, var, c)
            else:
                grad = np.asarray(g.numpy() if isinstance(g, Tensor) else g, dt)
                if grad.shape != var._value.shape:
                    raise ValueError(f"gradient for {var.name} has shape {grad.shape}, the "
                                     f"variable {var.shape}")
                self._apply_dense(grad, var, c)
        it = self.iterations
        it.assign(int(it._value) + 1)
        return it

    def _apply_sparse_dup(self, values, ids, var, coef):
        """Optional: the sparse update from ids that may repeat, summing them as
        dedup_sum does, in one kernel call; False when it does not apply (then
        dedup_sum and `_apply_sparse`)."""
        return False

    def minimize(self, loss, var_list, grad_loss=None, name=None, tape=None):
        """Computes gradients of `loss` (a zero-argument callable, or a Tensor with
        the `tape` that recorded it) and applies them."""
        from minitf.autodiff import GradientTape
        var_list = list(var_list() if callable(var_list) else var_list)
        if callable(loss):
            with GradientTape() as tape:
                value = loss()
        else:
            if tape is None:
                raise ValueError("`tape` is required when a `Tensor` loss is passed.")
            value = loss
        grads = tape.gradient(value, var_list, output_gradients=grad_loss)
        return self.apply_gradients(zip(grads, var_list))

    _STATE = ("_slots", "_pending", "_hyper_values")  # what a successor takes over

    def _join_shared_state(self):
        scope = getattr(_local, "scope", None)
        if scope is None:
            return
        known, on_first = scope
        key = (type(self).__name__, self._name)
        prev = known.get(key)
        if prev is self:
            return
        known[key] = self
        if prev is None:
            if on_first is not None:
                on_first(self)
            return
        for attr in self._STATE:
            setattr(self, attr, getattr(prev, attr))
        if self._iterations is None and getattr(prev, "_own_iterations", False):
            self._iterations, self._own_iterations = prev._iterations, True
        if on_first is not None:
            on_first(self, replaces=prev)

    @staticmethod
    def _rows(var):
        """The variable's buffer as [rows, cols] (a view: in-place updates stick;
        a 2-D buffer itself, which skips a reshape)."""
        v = var._value
        flags = v.flags  # (a new object at each read)
        if not flags.writeable or not flags.c_contiguous:
            v = var._value = np.ascontiguousarray(v).copy()
        return v if v.ndim == 2 else _as_rows(v)

    # --- state --------------------------------------------------------------------------
    def hyper_variable_names(self):
        """The hyperparameters TF keeps as variables: the plain numbers."""
        return [k for k in self._HYPERS if k in self._hyper and isinstance(
            self._hyper[k], (int, float)) and not isinstance(self._hyper[k], bool)]

    def state_dict(self, copy=True):
        """{checkpoint name: array} of the hyperparameter variables, `iter` (when
        the optimizer counts its own iterations) and every slot (the live slot
        arrays when `copy` is False: a checkpoint writer needs no copies)."""
        out = {}
        for k in self.hyper_variable_names():
            out[f"{SCOPE}/{self._name}/{k}"] = np.float32(self._hyper_values.get(
                k, self._hyper[k]))
        if self._iterations is not None and getattr(self, "_own_iterations", False):
            out[self._iter_name()] = np.int64(self._iterations.numpy())
        for (var_name, slot), value in self._slots.items():
            out[f"{SCOPE}/{self._name}/{var_name}/{slot}"] = value.copy() if copy else value
        return out

    def load_state(self, values):
        """Starts over from checkpoint `values` ({name: array}): slots are taken
        from it as variables are first updated, hyperparameter variables and
        `iter` at once (as a TF graph restores them)."""
        self._slots = {}
        prefix = f"{SCOPE}/{self._name}/"
        self._pending = {k: v for k, v in values.items() if k.startswith(prefix)}
        self._hyper_values = {}
        for k in self.hyper_variable_names():
            if prefix + k in self._pending:
                self._hyper_values[k] = float(self._pending.pop(prefix + k))
        if getattr(self, "_own_iterations", True):
            self._iterations = None
            self._own_iterations = True

    def get_config(self):
        cfg = {"name": self._name}
        for k, v in self._hyper.items():
            cfg[k] = v if isinstance(v, (int, float)) else repr(v)
        return cfg

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"
