"""Sparse ops: segment reductions, embedding lookups, sparse x dense matmul.

They all reduce to one primitive, `_sparse_combine`: for a batch given as
entries (row r_k, table id i_k, weight w_k),

    out[r] = sum_{k: r_k = r} w_k * params[i_k] / norm(r)

with norm 1 ('sum'), sum_k w_k ('mean') or sqrt(sum_k w_k^2) ('sqrtn'), and 0
for rows with no entries (TF's div_no_nan). Its gradient w.r.t. the table
is an IndexedSlices holding one summed row per distinct id, in order of first
appearance, which is what TF 2.15 returns for these lookups (they run
``unique`` then ``gather``). The numeric work runs in Numba kernels
(`minitf.kernels`).
"""

import numpy as np

from minitf.autodiff import primitive
from minitf.kernels import scatter as S
from minitf.kernels import segment as K
from minitf.ops import math as M
from minitf.ops.array import gather, reshape, where
from minitf.sparse import IndexedSlices, SparseTensor
from minitf.tensor import convert_to_tensor

_COMBINERS = ("sum", "mean", "sqrtn")


def _check_combiner(combiner):
    if combiner not in _COMBINERS:
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum', got {combiner!r}")


def _check_ids(ids, vocab, what):
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        k = int(np.nonzero((ids < 0) | (ids >= vocab))[0][0])
        raise ValueError(f"{what}: id {int(ids[k])} (entry {k}) is not in [0, {vocab}), "
                         f"the rows of the table")


@primitive
def _sparse_combine(params, weights, rows=None, ids=None, n_rows=0, combiner="sum",
                    dense_grad=False, weights_grad=True):
    """The combiner over entries (rows, ids, weights); see the module docstring.

    Backward: the table gets ``g[r_k] * w_k / norm(r_k)`` per entry, summed per
    distinct id (an IndexedSlices, or dense when `dense_grad`); the weights get
    the derivative of the quotient, denominator included (None when not
    `weights_grad`: callers pass False for constant weights, saving a pass).
    """
    flat = params.reshape(len(params), -1)
    out = K.sparse_combine(flat, rows, ids, weights, n_rows, combiner)

    def backward(g):
        g2 = g.reshape(n_rows, -1)
        values, gw = K.sparse_combine_grad(g2, flat, rows, ids, weights, combiner,
                                           weights_grad)
        gw = gw if weights_grad else None
        values = values.reshape((len(ids),) + params.shape[1:])
        if dense_grad:
            table = np.zeros(params.shape, params.dtype)
            S.scatter_add(table, ids, values)
            return table, gw
        uniq, summed = S.dedup_sum(ids, values)
        return IndexedSlices(summed, uniq, params.shape), gw
    return out.reshape((n_rows,) + params.shape[1:]), backward


def _entries(sp_ids, sp_weights, what):
    """(rows, ids, weights) of a 2-D SparseTensor of ids and optional weights."""
    if not isinstance(sp_ids, SparseTensor):
        raise TypeError(f"{what}: sp_ids must be a SparseTensor, got {type(sp_ids).__name__}")
    if len(sp_ids.dense_shape) != 2:
        raise ValueError(f"{what}: sp_ids must be 2-D [batch, ids], got dense_shape "
                         f"{sp_ids.dense_shape.tolist()}")
    rows = sp_ids.indices[:, 0]
    if rows.size > 1 and (np.diff(rows) < 0).any():
        raise ValueError(f"{what}: sp_ids must be in row-major order (see SparseTensor.reorder)")
    ids = sp_ids.values.astype(np.int64)
    if sp_weights is None:
        return rows, ids, None
    if not isinstance(sp_weights, SparseTensor) or sp_weights.values.shape != ids.shape:
        raise ValueError(f"{what}: sp_weights must be a SparseTensor with one weight per id "
                         f"({len(ids)}), got {getattr(sp_weights, 'values', sp_weights)!r}")
    return rows, ids, sp_weights.values


def embedding_lookup_sparse(params, sp_ids, sp_weights=None, combiner=None, max_norm=None,
                            name=None, allow_fast_lookup=False):
    """`tf.nn.embedding_lookup_sparse`: one combined embedding per row of `sp_ids`.

    Args:
      params: the table [vocab, d...] (a Variable or tensor).
      sp_ids: SparseTensor [batch, n] of int ids, row-major.
      sp_weights: optional SparseTensor of weights with the same indices.
      combiner: 'sum', 'mean' (the default) or 'sqrtn'.
      max_norm: if set, each looked-up embedding is clipped to this l2 norm first.

    Returns:
      [last row with an id + 1, d...]: like TF, the result stops at the last
      row that has an id (`safe_embedding_lookup_sparse` keeps every row).
    """
    del name, allow_fast_lookup
    combiner = combiner or "mean"
    _check_combiner(combiner)
    params = convert_to_tensor(params)
    rows, ids, weights = _entries(sp_ids, sp_weights, "embedding_lookup_sparse")
    _check_ids(ids, params.shape[0], "embedding_lookup_sparse")
    n_rows = int(rows[-1]) + 1 if rows.size else 0
    w = (np.ones(len(ids), params.dtype) if weights is None
         else np.asarray(weights).astype(params.dtype, copy=False))
    if max_norm is None:
        return _sparse_combine(params, w, rows=rows, ids=ids, n_rows=n_rows, combiner=combiner,
                               weights_grad=False)
    # With max_norm TF clips each distinct looked-up row, then combines: composed
    # from differentiable ops (rare, so no fused kernel).
    uniq, pos = _unique_first(ids)
    emb = _clip_by_norm(gather(params, uniq), max_norm)
    flat = reshape(emb, [len(uniq), -1])
    out = _sparse_combine(flat, w, rows=rows, ids=pos, n_rows=n_rows, combiner=combiner,
                          weights_grad=False)
    return reshape(out, [n_rows] + list(params.shape[1:]))


def _unique_first(ids):
    """`tf.unique`: the distinct ids in order of first appearance, and each
    entry's position in that list."""
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return uniq[order], rank[inverse.reshape(-1)]


def _clip_by_norm(t, clip_norm):
    """`tf.clip_by_norm` along all axes but the first: t * c / max(||t||, c)."""
    axes = list(range(1, len(t.shape)))
    l2sum = M.reduce_sum(M.square(t), axes, keepdims=True)
    positive = M.greater(l2sum, 0.0)
    l2norm = where(positive, M.sqrt(where(positive, l2sum, M.multiply(l2sum, 0.0) + 1.0)), l2sum)
    return M.divide(M.multiply(t, clip_norm), M.maximum(l2norm, clip_norm))


def one_valid_id_per_row(sp_ids, vocab):
    """Whether 2-D SparseTensor `sp_ids` holds exactly one id in [0, vocab) in
    each row, in row order: then a lookup (any combiner, unit weights) is just
    ``table[ids]``, with nothing to drop, fill or combine."""
    v, idx = sp_ids.values, sp_ids.indices
    return (idx.shape[1] == 2 and len(v) == int(sp_ids.dense_shape[0])
            and (len(v) == 0 or 0 <= v.min() and v.max() < vocab)
            and np.array_equal(idx[:, 0], np.arange(len(v))))


def safe_embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights=None,
                                 combiner="mean", default_id=None, name=None,
                                 partition_strategy="div", max_norm=None,
                                 allow_fast_lookup=False):
    """`tf.nn.safe_embedding_lookup_sparse`: like `embedding_lookup_sparse`, but

    * ids < 0 are dropped, and (unless combiner is 'sum') ids whose weight is <= 0;
    * every row is returned: a row left with no ids gives zeros, or the
      embedding of `default_id` when that is set;
    * ids of rank > 2 (e.g. [batch, k, n]) give results of shape [batch, k, d].

    As in TF, an empty row is filled with `default_id` (or id 0) before the
    lookup and zeroed after, so id 0 may appear with a zero gradient row.
    """
    del name, partition_strategy, allow_fast_lookup
    _check_combiner(combiner)
    params = convert_to_tensor(embedding_weights)
    shape = sparse_ids.dense_shape
    batch = int(np.prod(shape[:-1]))
    # Higher-rank ids: flatten the leading dimensions into one batch dimension.
    lead = sparse_ids.indices[:, :-1]
    rows = (np.ravel_multi_index(lead.T, shape[:-1]) if lead.shape[1] > 1
            else lead[:, 0]).astype(np.int64)
    ids = sparse_ids.values.astype(np.int64)
    if sparse_weights is None and max_norm is None and one_valid_id_per_row(
            sparse_ids, params.shape[0]):
        # A single-valued feature: nothing to drop, sort or fill, so straight to
        # the lookup (what the steps below give).
        out = _sparse_combine(params, np.ones(batch, params.dtype), rows=rows, ids=ids,
                              n_rows=batch, combiner=combiner, weights_grad=False)
        return reshape(out, [int(d) for d in shape[:-1]] + list(params.shape[1:]))
    weights = None if sparse_weights is None else np.asarray(sparse_weights.values)
    keep = ids >= 0
    if weights is not None and combiner != "sum":
        keep &= weights > 0
    rows, ids = rows[keep], ids[keep]
    weights = None if weights is None else weights[keep]
    order = np.argsort(rows, kind="stable")  # row-major, as sparse_reshape leaves it
    rows, ids = rows[order], ids[order]
    weights = None if weights is None else weights[order]
    # Fill empty rows with default_id (or 0), weight 1, as sparse_fill_empty_rows does.
    empty = np.ones(batch, bool)
    empty[rows] = False
    fill_rows = np.nonzero(empty)[0]
    all_rows = np.concatenate([rows, fill_rows])
    order = np.argsort(all_rows, kind="stable")
    rows = all_rows[order]
    ids = np.concatenate([ids, np.full(len(fill_rows), default_id or 0, np.int64)])[order]
    if weights is not None:
        weights = np.concatenate([weights, np.ones(len(fill_rows), weights.dtype)])[order]
    out = embedding_lookup_sparse(
        params, SparseTensor(np.stack([rows, np.zeros_like(rows)], 1), ids, [batch, 1]),
        None if weights is None else SparseTensor(np.stack([rows, np.zeros_like(rows)], 1),
                                                  weights, [batch, 1]),
        combiner=combiner, max_norm=max_norm)
    if default_id is None and fill_rows.size:
        out = where(empty.reshape((-1,) + (1,) * (len(out.shape) - 1)), M.multiply(out, 0.0), out)
    return reshape(out, [int(d) for d in shape[:-1]] + list(params.shape[1:]))


def embedding_lookup(params, ids, max_norm=None, name=None):
    """`tf.nn.embedding_lookup`: rows of `params` (a gather), optionally clipped."""
    del name
    out = gather(params, ids)
    return out if max_norm is None else _clip_by_norm(out, max_norm)


# --- segment reductions -------------------------------------------------------------------
def _segments(segment_ids, what):
    ids = np.asarray(convert_to_tensor(segment_ids)._value).astype(np.int64)
    if ids.size and ((np.diff(ids) < 0).any() or ids[0] < 0):
        raise ValueError(f"{what}: segment_ids must be non-negative and sorted, got "
                         f"{ids.tolist()[:10]}")
    return ids


def _segment(data, segment_ids, combiner, what, num_segments=None, indices=None):
    data = convert_to_tensor(data)
    seg = _segments(segment_ids, what)
    n = int(num_segments) if num_segments is not None else (int(seg[-1]) + 1 if seg.size else 0)
    idx = (np.arange(len(seg), dtype=np.int64) if indices is None
           else np.asarray(convert_to_tensor(indices)._value).astype(np.int64))
    _check_ids(idx, data.shape[0], what)
    ones = np.ones(len(seg), data.dtype)
    # Sparse segment ops give a dense gradient unless asked (TF's sparse_gradient=False).
    return _sparse_combine(data, ones, rows=seg, ids=idx, n_rows=n, combiner=combiner,
                           dense_grad=True, weights_grad=False)


def segment_sum(data, segment_ids, name=None):
    """`tf.math.segment_sum`: out[s] = sum of data rows with segment id s (ids sorted)."""
    return _segment(data, segment_ids, "sum", "segment_sum")


def segment_mean(data, segment_ids, name=None):
    """`tf.math.segment_mean`: the mean of each segment's rows (0 for an empty one)."""
    return _segment(data, segment_ids, "mean", "segment_mean")


def sparse_segment_sum(data, indices, segment_ids, num_segments=None, name=None):
    """`tf.sparse.segment_sum`: out[s] = sum of data[indices[k]] with segment_ids[k] = s."""
    return _segment(data, segment_ids, "sum", "sparse_segment_sum", num_segments, indices)


def sparse_segment_mean(data, indices, segment_ids, num_segments=None, name=None):
    return _segment(data, segment_ids, "mean", "sparse_segment_mean", num_segments, indices)


def sparse_segment_sqrt_n(data, indices, segment_ids, num_segments=None, name=None):
    """Sum divided by sqrt(count) per segment."""
    return _segment(data, segment_ids, "sqrtn", "sparse_segment_sqrt_n", num_segments, indices)


@primitive
def unsorted_segment_sum(data, segment_ids, num_segments=None):
    """`tf.math.unsorted_segment_sum`: out[s] = sum of data[k] with segment_ids[k] = s."""
    ids = segment_ids.astype(np.int64)
    if num_segments is None:
        raise TypeError("unsorted_segment_sum() missing required argument 'num_segments'")
    out = np.zeros((int(num_segments),) + data.shape[ids.ndim:], data.dtype)
    flat = data.reshape((ids.size,) + data.shape[ids.ndim:])
    S.scatter_add(out, ids.reshape(-1), flat)
    return out, lambda g: (g[ids], None)


# --- sparse x dense matmul -------------------------------------------------------------------
def sparse_tensor_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    """`tf.sparse.sparse_dense_matmul`: A @ B with A a 2-D SparseTensor.

    Each entry (i, j, v) of A adds v * B[j] to row i of the result, so this is
    `_sparse_combine` with A's values as weights; it differentiates w.r.t. B
    (dense, as TF) and, through a Tensor of values, w.r.t. A's values.
    """
    del name
    b = convert_to_tensor(b)
    if adjoint_b:
        from minitf.ops.array import transpose
        b = transpose(b)
    m, k = (int(d) for d in sp_a.dense_shape)
    rows, cols = sp_a.indices[:, 0], sp_a.indices[:, 1]
    if adjoint_a:
        rows, cols, m, k = cols, rows, k, m
    if k != b.shape[0]:
        raise ValueError(f"sparse_tensor_dense_matmul: inner dimensions differ: A is "
                         f"{[m, k]} (adjoint_a={adjoint_a}), B has {b.shape[0]} rows")
    order = np.argsort(rows, kind="stable")  # the kernel wants entries grouped by row
    values = convert_to_tensor(sp_a.values, b.dtype)
    vals = gather(values, order) if len(order) else values
    return _sparse_combine(b, vals, rows=rows[order], ids=cols[order].astype(np.int64),
                           n_rows=m, combiner="sum", dense_grad=True)


def rows_add_n(parts, bias=None):
    """``p_0 + p_1 + ... (+ bias)`` in that order, where each part is a dense
    [batch, units] tensor or a ``(table, ids)`` pair standing for ``table[ids]``
    (one id per row: what `embedding_lookup_sparse` gives for a single-valued
    column). One op for a linear model's columns instead of a lookup, a reshape
    and an add per column.

    Backward: a dense part gets g; a (table, ids) part gets IndexedSlices(g,
    ids) (duplicates are summed by whoever applies it); the bias gets g summed
    over rows.
    """
    from minitf.autodiff import _convert_inputs, _recording
    from minitf.tensor import Tensor
    tensors = [p[0] if isinstance(p, tuple) else p for p in parts]
    if bias is not None:
        tensors.append(bias)
    inputs = _convert_inputs(tensors)
    ids = [np.asarray(p[1], np.int64) if isinstance(p, tuple) else None for p in parts]
    terms = [t._value[i] if i is not None else t._value for t, i in zip(inputs, ids)]
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    if bias is not None:
        out = out + inputs[-1]._value

    def backward(g):
        grads = [g if i is None else IndexedSlices(g, i, t._value.shape)
                 for t, i in zip(inputs, ids)]
        if bias is not None:
            grads.append(g.sum(axis=0))
        return tuple(grads)

    result = Tensor(out)
    for tape in _recording():
        tape._record(result, inputs, backward)
    return result
