"""Seeded random numbers: `tf.random` in NumPy.

`set_seed(seed)` fixes the global seed, the one piece of mutable module state
the engine keeps (as TF's global seed). With it set, every draw without an op
seed is reproducible: the k-th unseeded draw after `set_seed` gets the k-th
op seed, much as TF derives op seeds from a counter. With an op seed, a draw
depends only on (global seed, op seed).

Values are equal to TF's in distribution and parameters, not bit for bit:
TF's Philox streams are not reproduced.
"""

import threading

import numpy as np

from minitf.tensor import Tensor

_state = threading.local()
_global = {"seed": None, "counter": 0}


def set_seed(seed):
    """`tf.random.set_seed`: fixes the global seed (None clears it)."""
    _global["seed"] = None if seed is None else int(seed)
    _global["counter"] = 0


def get_seed(op_seed=None):
    """(global seed, op seed) for a draw, as TF pairs them: an op seed alone uses a
    fixed default global seed; a global seed alone numbers the draws."""
    g = _global["seed"]
    if g is None and op_seed is None:
        return None, None
    if g is None:
        return 87654321, int(op_seed)  # TF's DEFAULT_GRAPH_SEED stands in
    if op_seed is None:
        _global["counter"] += 1
        return g, _global["counter"]
    return g, int(op_seed)


def make_rng(seed=None):
    """A `numpy.random.Generator` for one draw with op seed `seed`."""
    g, op = get_seed(seed)
    if g is None:
        return np.random.default_rng()
    return np.random.default_rng([g & 0xFFFFFFFF, op & 0xFFFFFFFF, 0x5EED])


def _shape(shape):
    return tuple(int(d) for d in np.atleast_1d(np.asarray(shape, np.int64))) if np.ndim(
        shape) else ((int(shape),) if shape != () else ())


def _float(dtype):
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise ValueError(f"dtype must be a float type, got {dt}")
    return dt


def uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None):
    """`tf.random.uniform`: [minval, maxval); ints need maxval, as in TF."""
    rng, shape, dt = make_rng(seed), _shape(shape), np.dtype(dtype)
    if dt.kind in "iu":
        if maxval is None:
            raise ValueError("uniform: maxval must be given for integer dtype "
                             f"{dt}")
        return Tensor(rng.integers(minval, maxval, shape, dtype=dt))
    maxval = 1 if maxval is None else maxval
    u = rng.random(shape, dtype=np.float64)
    return Tensor((minval + (maxval - minval) * u).astype(_float(dt)))


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None):
    """`tf.random.normal`."""
    rng = make_rng(seed)
    return Tensor((mean + stddev * rng.standard_normal(_shape(shape))).astype(_float(dtype)))


def truncated_normal_array(rng, shape, mean=0.0, stddev=1.0, dtype="float32"):
    """Normal values more than 2 standard deviations from the mean redrawn, as
    TF's TruncatedNormal (rejection, vectorised)."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2
    return (mean + stddev * z).astype(_float(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None):
    """`tf.random.truncated_normal`: values within mean +- 2 stddev."""
    return Tensor(truncated_normal_array(make_rng(seed), _shape(shape), mean, stddev, dtype))
