"""Variables by name, as TF's ``get_variable`` gives them.

The estimator calls `model_fn` once per batch; a model asks for its variables
by name each time and gets the same objects back from the `VariableStore` the
runtime has open (one per train / evaluate / predict call, as TF builds one
graph per call). A variable not yet in the store is created from, in order:
the checkpoint being restored, the warm-start source, or its initializer.

Outside a store (plain eager use) `get_variable` simply makes a new Variable.
"""

import contextlib
import re
import threading

import numpy as np

import minitf as tf

_local = threading.local()


class VariableStore:
    """Variables by name for one run, restored from `restore` ({name: array}),
    else warm-started from `warm_start` (a `WarmStart` plan), else initialized.

    `cache` keeps objects a model_fn wants to build once per run (optimizers
    resolved from callables, metric objects); `optimizers` lists the optimizers
    whose state the checkpoint includes.
    """

    def __init__(self, restore=None, warm_start=None, source=None):
        self.variables = {}
        # a dict, or checkpoint.Deferred (read in part when asked): not copied
        self.restore = {} if restore is None else restore
        self.warm_start = warm_start
        self.source = source  # where `restore` came from, for error messages
        self.cache = {}
        self.optimizers = []

    def get_variable(self, name, shape=None, dtype="float32", initializer=None,
                     trainable=True):
        v = self.variables.get(name)
        if v is not None:
            if shape is not None and tuple(v.shape) != tuple(shape):
                raise ValueError(f"variable {name!r} exists with shape {tuple(v.shape)}, asked "
                                 f"for {tuple(shape)}")
            return v
        value = self._initial(name, shape, dtype, initializer, trainable)
        v = tf.Variable(value, name=name, trainable=trainable, dtype=dtype)
        self.variables[name] = v
        return v

    def _initial(self, name, shape, dtype, initializer, trainable):
        if name in self.restore:
            value = np.asarray(self.restore[name])
            if shape is not None and value.shape != tuple(shape):
                raise ValueError(f"checkpoint {self.source}: variable {name!r} has shape "
                                 f"{value.shape}, the model expects {tuple(shape)}")
            return value
        if self.warm_start is not None:
            value = self.warm_start.value(name, trainable)
            if value is not None:
                if shape is not None and value.shape != tuple(shape):
                    raise ValueError(f"warm start: variable {name!r} has shape {value.shape} "
                                     f"in {self.warm_start.path}, the model expects "
                                     f"{tuple(shape)}")
                return value
        if initializer is None:
            return np.zeros(shape, dtype)
        if callable(initializer):
            try:
                return initializer(shape, dtype=dtype)
            except TypeError:
                return initializer(shape)
        return np.broadcast_to(np.asarray(initializer, dtype), shape).copy()

    def optimizer_seen(self, optimizer, replaces=None):
        """`minitf.optimizers.shared_state`'s callback: the first optimizer of a
        name is restored from the checkpoint and saved with the model; a new
        object of the same name (a model_fn builds one per batch) replaces it."""
        if replaces is not None:
            self.optimizers = [optimizer if o is replaces else o for o in self.optimizers]
        elif all(o is not optimizer for o in self.optimizers):
            optimizer.load_state(self.restore)
            self.optimizers.append(optimizer)

    def values(self, copy=True):
        """{name: ndarray} of every variable and tracked optimizer state; with
        `copy` False the live arrays (for writing a checkpoint at once: a large
        model's tables are not duplicated)."""
        out = {n: v.numpy() if copy else v._value for n, v in self.variables.items()}
        for opt in self.optimizers:
            state = getattr(opt, "state_dict", None)
            if state is not None:
                out.update({n: np.asarray(a) for n, a in state(copy).items()})
        return out


class WarmStart:
    """Which variables to take from another checkpoint (TF's WarmStartSettings):
    `vars_to_warm_start` a regex over trainable variables (default '.*'), or a
    list of regexes over all variables; `var_name_to_prev_var_name` renames."""

    def __init__(self, path, values, vars_to_warm_start=".*", var_name_to_prev_var_name=None):
        self.path, self.values = path, values
        self.patterns = vars_to_warm_start
        self.renames = dict(var_name_to_prev_var_name or {})

    def value(self, name, trainable):
        pats = self.patterns
        if pats is None:
            return None
        if isinstance(pats, str):
            if not trainable or not re.match(pats, name):
                return None
        elif not any(re.match(p, name) for p in pats):
            return None
        prev = self.renames.get(name, name)
        v = self.values.get(prev)
        return None if v is None else np.asarray(v)


def current_store():
    return getattr(_local, "store", None)


@contextlib.contextmanager
def store_scope(store):
    """Makes `store` the one `get_variable` uses in this thread."""
    prev = current_store()
    _local.store = store
    try:
        yield store
    finally:
        _local.store = prev


def get_variable(name, shape=None, dtype="float32", initializer=None, trainable=True):
    """The variable `name` of the open store (created on first use); a new
    Variable when no store is open."""
    store = current_store()
    if store is None:
        return tf.Variable(VariableStore()._initial(name, shape, dtype, initializer, trainable),
                           name=name, trainable=trainable, dtype=dtype)
    return store.get_variable(name, shape, dtype, initializer, trainable)
