"""The global step and the v1 learning-rate decays (`tf.compat.v1.train`).

The global step is a context, not a global: the estimator runtime opens
`global_step_scope(var)` around each call of a model_fn, so model code can call
`get_global_step()` as TF code does. Outside a scope there is none (None), as
in a TF graph without one.
"""

import contextlib
import functools
import threading

import numpy as np

from minitf import schedules
from minitf.tensor import Variable

_local = threading.local()


def get_global_step(graph=None):
    """The global step Variable of the current scope, or None."""
    return getattr(_local, "step", None)


def get_or_create_global_step(graph=None):
    """The global step, created (int64 scalar 'global_step', 0) if there is none."""
    step = get_global_step()
    if step is None:
        step = Variable(np.int64(0), name="global_step", trainable=False)
        _local.step = step
    return step


@contextlib.contextmanager
def global_step_scope(step):
    """Makes `step` (an int64 scalar Variable) the global step in this thread."""
    prev = get_global_step()
    _local.step = step
    try:
        yield step
    finally:
        _local.step = prev


def _decay(schedule, global_step, what):
    """A zero-argument callable: the schedule at the global step's current value
    (what TF's v1 decays return when executing eagerly)."""
    if global_step is None:
        raise ValueError(f"global_step is required for {what}.")
    return functools.partial(lambda s, g: s(np.asarray(g).item() if not isinstance(g, int)
                                            else g), schedule, global_step)


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``learning_rate * decay_rate ** (global_step / decay_steps)`` (floored
    exponent when `staircase`), as a callable evaluated at each use."""
    return _decay(schedules.ExponentialDecay(learning_rate, decay_steps, decay_rate, staircase),
                  global_step, "exponential_decay")


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    return _decay(schedules.InverseTimeDecay(learning_rate, decay_steps, decay_rate, staircase),
                  global_step, "inverse_time_decay")


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    return _decay(schedules.PolynomialDecay(learning_rate, decay_steps, end_learning_rate, power,
                                            cycle), global_step, "polynomial_decay")


def piecewise_constant(x, boundaries, values, name=None):
    return _decay(schedules.PiecewiseConstantDecay(boundaries, values), x,
                  "piecewise_constant")


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    return _decay(schedules.CosineDecay(learning_rate, decay_steps, alpha), global_step,
                  "cosine_decay")
