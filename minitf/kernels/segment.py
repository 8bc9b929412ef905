"""Segment kernels: the weighted sparse combine behind every segment op and
embedding lookup, and its backward.

Entries k = 0..n-1 each say "row ``rows[k]`` takes ``weights[k] * params[ids[k]]``":

    out[r]  = sum_{k: rows[k] = r} weights[k] * params[ids[k]] / norm[r]
    norm[r] = 1 (sum),  sum_k weights[k] (mean),  sqrt(sum_k weights[k]^2) (sqrtn)

and a row whose norm is 0 (no entries, or weights summing to 0) is all zeros,
TF's ``div_no_nan``. `params` is 2-D ``[vocab, d]`` (callers flatten trailing
dimensions). Rows need not be sorted.
"""

import numpy as np
from numba import njit

COMBINERS = {"sum": 0, "mean": 1, "sqrtn": 2}


@njit(cache=True)
def _norms(rows, weights, n_rows, combiner):
    norm = np.zeros(n_rows, np.float64)
    if combiner == 0:
        norm[:] = 1.0
        return norm
    for k in range(len(rows)):
        w = weights[k]
        norm[rows[k]] += w if combiner == 1 else w * w
    if combiner == 2:
        norm[:] = np.sqrt(norm)
    return norm


@njit(cache=True)
def _combine(params, rows, ids, weights, n_rows, combiner):
    d = params.shape[1]
    out = np.zeros((n_rows, d), params.dtype)
    for k in range(len(rows)):  # accumulate in the params' dtype, in entry order (as TF)
        r, i, w = rows[k], ids[k], weights[k]
        for j in range(d):
            out[r, j] += w * params[i, j]
    if combiner != 0:
        norm = _norms(rows, weights, n_rows, combiner).astype(params.dtype)
        for r in range(n_rows):
            for j in range(d):
                out[r, j] = 0 if norm[r] == 0 else out[r, j] / norm[r]
    return out


@njit(cache=True)
def _combine_grad(g, params, rows, ids, weights, combiner):
    """Per entry: the table row's gradient ``g[r] * w / norm[r]`` and the weight's
    gradient ``d out[r] / d w . g[r]``:

      sum:   g[r] . p
      mean:  g[r] . (p - out[r]) / norm[r]               (norm = sum w)
      sqrtn: g[r] . (p - out[r] * w / norm[r]) / norm[r]   (norm = sqrt(sum w^2))
    """
    n, d = len(rows), params.shape[1]
    n_rows = g.shape[0]
    norm = _norms(rows, weights, n_rows, combiner).astype(params.dtype)
    values = np.zeros((n, d), params.dtype)
    grad_w = np.zeros(n, params.dtype)
    # g[r] . out[r] per row (zero for 'sum', where it is not needed)
    g_out = np.zeros(n_rows, params.dtype)
    if combiner != 0:
        out = _combine(params, rows, ids, weights, n_rows, combiner)
        for r in range(n_rows):
            s = params.dtype.type(0)
            for j in range(d):
                s += g[r, j] * out[r, j]
            g_out[r] = s
    for k in range(n):
        r, i, w = rows[k], ids[k], weights[k]
        if norm[r] == 0:
            continue
        gp = params.dtype.type(0)
        for j in range(d):
            values[k, j] = g[r, j] * w / norm[r]
            gp += g[r, j] * params[i, j]
        if combiner == 0:
            grad_w[k] = gp
        elif combiner == 1:
            grad_w[k] = (gp - g_out[r]) / norm[r]
        else:
            grad_w[k] = (gp - g_out[r] * w / norm[r]) / norm[r]
    return values, grad_w


def _check(params, rows, ids, weights, n_rows=None):
    if params.ndim != 2:
        raise ValueError(f"params must be 2-D [vocab, d], got shape {params.shape}")
    if not (len(rows) == len(ids) == len(weights)):
        raise ValueError(f"rows, ids and weights must have one entry each, got lengths "
                         f"{len(rows)}, {len(ids)}, {len(weights)}")
    if len(ids) and (ids.min() < 0 or ids.max() >= len(params)):
        raise ValueError(f"ids must be in [0, {len(params)}), got range "
                         f"[{ids.min()}, {ids.max()}]")
    if n_rows is not None and len(rows) and (rows.min() < 0 or rows.max() >= n_rows):
        raise ValueError(f"rows must be in [0, {n_rows}), got range "
                         f"[{rows.min()}, {rows.max()}]")


def _prep(params, rows, ids, weights):
    params = np.ascontiguousarray(params)
    return (params, np.ascontiguousarray(rows, np.int64), np.ascontiguousarray(ids, np.int64),
            np.ascontiguousarray(weights, params.dtype))


def sparse_combine(params, rows, ids, weights, n_rows, combiner):
    """Forward: ``out [n_rows, d]`` (see the module docstring)."""
    params, rows, ids, weights = _prep(params, rows, ids, weights)
    _check(params, rows, ids, weights, n_rows)
    return _combine(params, rows, ids, weights, int(n_rows), COMBINERS[combiner])


def sparse_combine_grad(g, params, rows, ids, weights, combiner):
    """Backward: ``(values [n, d], grad_weights [n])``: the table's gradient as one
    row per entry (not yet summed per id) and each weight's gradient."""
    params, rows, ids, weights = _prep(params, rows, ids, weights)
    g = np.ascontiguousarray(g, params.dtype)
    _check(params, rows, ids, weights, len(g))
    return _combine_grad(g, params, rows, ids, weights, COMBINERS[combiner])
