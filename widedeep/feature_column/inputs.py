"""Raw features as the columns see them: dense ndarrays or 2-D SparseTensors.

A feature may come as a NumPy array (1-D: one value per example; 2-D: a fixed
number per example), a list (of scalars, or of lists for a varying number of
values per example), or a `minitf.SparseTensor`. As TF does, a 1-D feature is
taken as ``[batch, 1]``. Strings (str, bytes or object arrays) become NumPy
unicode arrays, so that lookups and hashing run vectorised.
"""

import collections

import numpy as np

from minitf.sparse import SparseTensor

# `tf.io.FixedLenFeature` / `tf.io.VarLenFeature`: what parsing a tf.Example yields.
FixedLenFeature = collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])
FixedLenFeature.__new__.__defaults__ = (None,)
VarLenFeature = collections.namedtuple("VarLenFeature", ["dtype"])


def as_strings(values, what):
    """A NumPy unicode array of `values` (str, bytes or object of either), any shape.
    (NumPy's string arrays drop trailing NULs: 'a\\0' becomes 'a', where TF keeps
    the NUL; README, "Where it knowingly differs".)"""
    a = np.asarray(values)
    if a.dtype.kind == "U":
        return a
    if a.dtype.kind == "S":
        return np.char.decode(a, "utf-8")
    if a.dtype.kind == "O":
        flat = a.reshape(-1)
        if all(isinstance(v, str) for v in flat[:1]) and not any(
                isinstance(v, bytes) for v in flat):
            return a.astype(str)
        try:
            return np.char.decode(a.astype(bytes), "utf-8")
        except (UnicodeEncodeError, TypeError, ValueError):  # mixed str and bytes
            return np.array([v.decode("utf-8") if isinstance(v, bytes) else str(v)
                             for v in flat], dtype=str).reshape(a.shape)
    raise ValueError(f"{what}: expected strings, got dtype {a.dtype}")


_KINDS = {"U": "string", "S": "string", "O": "string", "i": "int", "u": "int",
          "f": "float", "b": "bool"}


def kind(a):
    """'string', 'int', 'float' or 'bool' for an array's dtype."""
    k = (a if isinstance(a, np.ndarray) else np.asarray(a)).dtype.kind
    return _KINDS.get(k, k)


def _ragged_to_sparse(rows, key):
    """A list of lists (a varying number of values per example) as a SparseTensor."""
    lengths = np.array([len(r) for r in rows], np.int64)
    flat = [v for r in rows for v in r]
    values = np.asarray(flat) if flat else np.zeros(0, np.int64)
    if values.ndim != 1:
        raise ValueError(f"feature '{key}': expected a list of lists of scalars, got nested "
                         f"values of shape {values.shape}")
    row_ids = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    cols = np.arange(len(row_ids), dtype=np.int64) - starts
    width = int(lengths.max()) if len(rows) else 0
    return SparseTensor(np.stack([row_ids, cols], 1), values, [len(rows), width])


def taken_as_is(x):
    """Whether `raw_feature` takes feature value `x` as it is (as [batch, 1] when
    1-D): an ndarray, not a subclass, of rank >= 1, holding no bytes or objects."""
    return type(x) is np.ndarray and x.ndim > 0 and x.dtype.kind not in "SO"


def raw_feature(features, key, column_name):
    """`features[key]` as a dense ndarray of rank >= 2 or a 2-D SparseTensor.

    Raises:
      KeyError: the feature is missing (naming the column and the features given).
      ValueError: a scalar, or a SparseTensor of rank other than 1 or 2.
    """
    if key not in features:
        raise KeyError(f"feature '{key}' (needed by column '{column_name}') is not in the "
                       f"features; given: {sorted(features)}")
    x = features[key]
    if taken_as_is(x):  # the common case, as below
        return x[:, None] if x.ndim == 1 else x
    if isinstance(x, SparseTensor):
        if x.values.dtype.kind in "SO":
            x = SparseTensor(x.indices, as_strings(x.values, f"feature '{key}'"),
                             x.dense_shape)
        if len(x.dense_shape) == 1:  # [batch] -> [batch, 1]
            return SparseTensor(np.stack([x.indices[:, 0], np.zeros(len(x.indices), np.int64)],
                                         1), x.values, [x.dense_shape[0], 1])
        if len(x.dense_shape) != 2:
            raise ValueError(f"feature '{key}': a SparseTensor of rank "
                             f"{len(x.dense_shape)}; expected rank 1 or 2")
        return x
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    if isinstance(x, (list, tuple)) and any(isinstance(v, (list, tuple, np.ndarray))
                                            for v in x):
        lens = {len(v) for v in x}
        if len(lens) > 1:
            return _ragged_to_sparse(x, key)
    a = np.asarray(x)
    if a.dtype.kind in "SO":  # bytes / objects -> one unicode array, so '' compares
        a = as_strings(a, f"feature '{key}'")
    if a.ndim == 0:
        raise ValueError(f"feature '{key}' cannot have rank 0 (a scalar); give one value per "
                         f"example, shape [batch] or [batch, n]; got {a!r}")
    return a[:, None] if a.ndim == 1 else a


def to_sparse(x, ignore_value=None):
    """A dense [batch, n] array as a SparseTensor without its missing cells ('' for
    strings, -1 for ints, as TF's ``_to_sparse_input_and_drop_ignore_values``);
    a SparseTensor is returned as it is."""
    if isinstance(x, SparseTensor):
        return x
    if ignore_value is None:
        ignore_value = {"string": "", "int": -1}.get(kind(x), 0)
    keep = x != ignore_value
    if x.ndim == 2 and keep.all():  # nothing missing: every cell, row-major
        batch, n = x.shape
        idx = np.empty((batch * n, 2), np.int64)
        idx[:, 0] = np.repeat(np.arange(batch), n)
        idx[:, 1] = np.tile(np.arange(n), batch)
        return SparseTensor._trusted(idx, x.reshape(-1), x.shape)
    idx = np.argwhere(keep).astype(np.int64)
    return SparseTensor(idx, x[keep], x.shape)


def batch_size(x):
    return int(x.dense_shape[0]) if isinstance(x, SparseTensor) else len(x)
