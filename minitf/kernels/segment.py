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
def _norms(rows, weights, n_rows, combiner, dtype):
    """norm[r] per row, accumulated in the params' dtype (TF sums weights in theirs)."""
    norm = np.zeros(n_rows, dtype)
    if combiner == 0:
        for r in range(n_rows):  # (element loops, not slice assignment: its
            norm[r] = 1          # broadcasting error path triples the compile time)
        return norm
    n, k = len(rows), 0
    while k < n:  # by runs of one row, summing in a register (see _combine)
        r, nsum = rows[k], dtype.type(0)
        while k < n and rows[k] == r:
            w = weights[k]
            nsum += w if combiner == 1 else w * w
            k += 1
        norm[r] += nsum
    if combiner == 2:
        for r in range(n_rows):
            norm[r] = np.sqrt(norm[r])
    return norm


@njit(cache=True)
def _combine(params, rows, ids, weights, n_rows, combiner):
    d = params.shape[1]
    out = np.zeros((n_rows, d), params.dtype)
    norm = np.zeros(n_rows, params.dtype)
    # One pass over runs of entries with the same row (all of a row's entries when
    # rows are sorted), summing in entry order as TF does. Per run, the norm (and
    # for d = 1 the value) is summed in a register: a chain of += through memory
    # would wait on each store.
    n, k = len(rows), 0
    while k < n:
        r = rows[k]
        nsum = params.dtype.type(0)
        acc = params.dtype.type(0)
        while k < n and rows[k] == r:
            i, w = ids[k], weights[k]
            nsum += w if combiner == 1 else w * w
            if d == 1:
                acc += w * params[i, 0]
            else:
                for j in range(d):
                    out[r, j] += w * params[i, j]
            k += 1
        norm[r] += nsum
        if d == 1:
            out[r, 0] += acc
    if combiner != 0:
        for r in range(n_rows):
            nr = norm[r] if combiner == 1 else np.sqrt(norm[r])
            for j in range(d):
                out[r, j] = 0 if nr == 0 else out[r, j] / nr
    return out


@njit(cache=True)
def _combine_grad(g, params, rows, ids, weights, combiner, weights_grad):
    """Per entry: the table row's gradient ``g[r] * w / norm[r]`` and, if
    `weights_grad`, the weight's gradient ``d out[r] / d w . g[r]``:

      sum:   g[r] . p
      mean:  g[r] . (p - out[r]) / norm[r]               (norm = sum w)
      sqrtn: g[r] . (p - out[r] * w / norm[r]) / norm[r]   (norm = sqrt(sum w^2))
    """
    n, d = len(rows), params.shape[1]
    n_rows = g.shape[0]
    norm = _norms(rows, weights, n_rows, combiner, params.dtype)
    values = np.empty((n, d), params.dtype)
    for k in range(n):
        r, w = rows[k], weights[k]
        scale = 0 if norm[r] == 0 else w / norm[r]
        for j in range(d):
            values[k, j] = g[r, j] * scale
    grad_w = np.zeros(n if weights_grad else 0, params.dtype)
    if not weights_grad:
        return values, grad_w
    # g[r] . out[r] per row (not needed for 'sum')
    g_out = np.zeros(n_rows, params.dtype)
    if combiner != 0:
        out = _combine(params, rows, ids, weights, n_rows, combiner)
        for r in range(n_rows):
            for j in range(d):
                g_out[r] += g[r, j] * out[r, j]
    for k in range(n):
        r, i, w = rows[k], ids[k], weights[k]
        if norm[r] == 0:
            continue
        gp = params.dtype.type(0)
        for j in range(d):
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


def sparse_combine_grad(g, params, rows, ids, weights, combiner, weights_grad=True):
    """Backward: ``(values [n, d], grad_weights)``: the table's gradient as one row
    per entry (not yet summed per id) and each weight's gradient ([n], or [0]
    when not `weights_grad`: constant weights need none)."""
    params, rows, ids, weights = _prep(params, rows, ids, weights)
    g = np.ascontiguousarray(g, params.dtype)
    _check(params, rows, ids, weights, len(g))
    return _combine_grad(g, params, rows, ids, weights, COMBINERS[combiner],
                         bool(weights_grad))
