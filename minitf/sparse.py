"""Sparse values as TensorFlow defines them.

`SparseTensor` is a sparse input (COO: one row of `indices` per stored value).
`IndexedSlices` is a sparse *gradient*: a few rows of a dense tensor, the form
TF gives the gradient of a gather or an embedding lookup w.r.t. its table.
Both hold plain ndarrays, so kernels can use them directly.
"""

import numpy as np


class SparseTensor:
    """`tf.sparse.SparseTensor(indices, values, dense_shape)`.

    Args:
      indices: int64 [N, rank], the position of each value.
      values: [N] values (numbers or strings).
      dense_shape: int64 [rank], the shape of the dense tensor it stands for.

    Raises:
      ValueError: inconsistent shapes, or an index outside dense_shape.
    """

    __slots__ = ("indices", "values", "dense_shape")

    def __init__(self, indices, values, dense_shape):
        dense_shape = np.asarray(dense_shape, dtype=np.int64).reshape(-1)
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size == 0:
            indices = indices.reshape(0, len(dense_shape))
        values = np.asarray(values)
        if values.dtype == np.float64 and not isinstance(values, np.ndarray):
            values = values.astype(np.float32)
        if indices.ndim != 2 or indices.shape[1] != len(dense_shape):
            raise ValueError(
                f"SparseTensor: indices must have shape [N, {len(dense_shape)}] for "
                f"dense_shape {dense_shape.tolist()}, got {indices.shape}")
        if values.ndim != 1 or len(values) != len(indices):
            raise ValueError(
                f"SparseTensor: values must have shape [{len(indices)}] (one per index), "
                f"got {values.shape}")
        if len(indices) and ((indices < 0).any() or (indices >= dense_shape).any()):
            bad = np.nonzero(((indices < 0) | (indices >= dense_shape)).any(1))[0][0]
            raise ValueError(
                f"SparseTensor: index {indices[bad].tolist()} is outside dense_shape "
                f"{dense_shape.tolist()}")
        self.indices, self.values, self.dense_shape = indices, values, dense_shape

    @classmethod
    def _trusted(cls, indices, values, dense_shape):
        """A SparseTensor from parts an op has just built correctly (int64
        indices [N, rank], values [N]): skips the checks, which cost more than
        the op on small batches."""
        sp = cls.__new__(cls)
        sp.indices, sp.values = indices, values
        sp.dense_shape = np.asarray(dense_shape, dtype=np.int64).reshape(-1)
        return sp

    @property
    def shape(self):
        return tuple(int(d) for d in self.dense_shape)

    @property
    def dtype(self):
        return self.values.dtype

    @classmethod
    def from_dense(cls, dense, ignore_value=None):
        """Keeps the entries that differ from `ignore_value` (0 / '' by default)."""
        dense = np.asarray(dense)
        if ignore_value is None:
            ignore_value = "" if dense.dtype.kind in "OSU" else 0
        keep = dense != ignore_value
        return cls(np.argwhere(keep), dense[keep], dense.shape)

    def to_dense(self, default_value=None):
        """`tf.sparse.to_dense`: a dense ndarray, `default_value` where nothing is stored."""
        if default_value is None:
            default_value = "" if self.values.dtype.kind in "OSU" else 0
        out = np.full(self.shape, default_value, dtype=self.values.dtype)
        out[tuple(self.indices.T)] = self.values
        return out

    def reorder(self):
        """`tf.sparse.reorder`: the same values with indices in row-major order."""
        order = np.lexsort(self.indices.T[::-1]) if len(self.indices) else np.arange(0)
        return SparseTensor(self.indices[order], self.values[order], self.dense_shape)

    def __repr__(self):
        return (f"SparseTensor(indices={self.indices.tolist()}, values={self.values.tolist()}, "
                f"dense_shape={self.dense_shape.tolist()})")


class IndexedSlices:
    """`tf.IndexedSlices(values, indices, dense_shape)`: rows of a dense tensor.

    Stands for the dense tensor ``D`` with ``D[indices[i]] += values[i]``;
    an index may repeat, and its rows then add up.
    """

    __slots__ = ("values", "indices", "dense_shape")
    # Makes ``ndarray + IndexedSlices`` call our __radd__ instead of broadcasting.
    __array_ufunc__ = None

    def __init__(self, values, indices, dense_shape=None):
        self.values = np.asarray(values)
        self.indices = np.asarray(indices)
        self.dense_shape = None if dense_shape is None else tuple(int(d) for d in dense_shape)

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def shape(self):
        return self.dense_shape

    def to_dense(self):
        """Sums the slices into a dense ndarray of `dense_shape`."""
        from minitf.kernels.scatter import scatter_add
        out = np.zeros(self.dense_shape, dtype=self.values.dtype)
        return scatter_add(out, self.indices, self.values)

    def __add__(self, other):
        """Slices + slices concatenate (as TF aggregates them); + dense densifies."""
        if isinstance(other, IndexedSlices):
            return IndexedSlices(np.concatenate([self.values, other.values]),
                                 np.concatenate([self.indices, other.indices]),
                                 self.dense_shape)
        return self.to_dense() + other

    __radd__ = __add__

    def __repr__(self):
        return (f"IndexedSlices(values shape={self.values.shape}, indices={self.indices.tolist()}, "
                f"dense_shape={self.dense_shape})")


# --- tf.sparse functions (the ops live in minitf.ops.sparse, which imports this module) ---
def from_dense(tensor):
    """`tf.sparse.from_dense`: a SparseTensor of the non-zero (non-empty) entries."""
    return SparseTensor.from_dense(np.asarray(tensor))


def to_dense(sp_input, default_value=None):
    """`tf.sparse.to_dense`."""
    return sp_input.to_dense(default_value)


def reorder(sp_input):
    """`tf.sparse.reorder`: indices in row-major order."""
    return sp_input.reorder()


def sparse_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    """`tf.sparse.sparse_dense_matmul`: see `minitf.ops.sparse.sparse_tensor_dense_matmul`."""
    from minitf.ops.sparse import sparse_tensor_dense_matmul
    return sparse_tensor_dense_matmul(sp_a, b, adjoint_a, adjoint_b)


def segment_sum(data, indices, segment_ids, num_segments=None, name=None):
    """`tf.sparse.segment_sum`: out[s] = sum of data[indices[k]] where segment_ids[k] = s."""
    from minitf.ops.sparse import sparse_segment_sum
    return sparse_segment_sum(data, indices, segment_ids, num_segments)


def segment_mean(data, indices, segment_ids, num_segments=None, name=None):
    """`tf.sparse.segment_mean`."""
    from minitf.ops.sparse import sparse_segment_mean
    return sparse_segment_mean(data, indices, segment_ids, num_segments)


def segment_sqrt_n(data, indices, segment_ids, num_segments=None, name=None):
    """`tf.sparse.segment_sqrt_n`: segment sums divided by sqrt(count)."""
    from minitf.ops.sparse import sparse_segment_sqrt_n
    return sparse_segment_sqrt_n(data, indices, segment_ids, num_segments)
