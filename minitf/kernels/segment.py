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


# The kernels get their arrays allocated (zeroed where they accumulate): an
# allocation inside a kernel compiles NumPy's allocator for its dtype and rank
# (up to 0.1 s each with a cold Numba cache), and costs no less per call there.
# Each checks its rows and ids itself, in a loop of its own (not NumPy's min and
# max in Python: those took 4 us of a 7 us call; not a shared helper kernel:
# that compiles apart, and again into each caller).
@njit(cache=True, no_cfunc_wrapper=True)
def _combine(params, rows, ids, weights, combiner, out, norm):
    """Fills `out` (zeros [n_rows, d]); `norm` (zeros [n_rows]) is scratch.
    False, with nothing done, when a row or an id is out of range."""
    d, n_rows, vocab = params.shape[1], out.shape[0], len(params)
    for k in range(len(rows)):
        if ids[k] < 0 or ids[k] >= vocab or rows[k] < 0 or rows[k] >= n_rows:
            return False
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
    return True


@njit(cache=True, no_cfunc_wrapper=True)
def _grad_values(g, rows, ids, weights, vocab, combiner, norm, values):
    """Fills `norm` (zeros [n_rows]) with each row's norm, summed in the params'
    dtype (TF sums weights in theirs), and `values` ([n, d]) with each entry's
    table-row gradient ``g[r] * w / norm[r]``. False, with nothing done, when a
    row or an id is out of range."""
    n, d, n_rows = len(rows), values.shape[1], len(norm)
    for k in range(n):
        if ids[k] < 0 or ids[k] >= vocab or rows[k] < 0 or rows[k] >= n_rows:
            return False
    if combiner == 0:
        for r in range(len(norm)):  # (element loops, not slice assignment: its
            norm[r] = 1             # broadcasting error path triples the compile time)
    else:
        k = 0
        while k < n:  # by runs of one row, summing in a register (see _combine)
            r, nsum = rows[k], norm.dtype.type(0)
            while k < n and rows[k] == r:
                w = weights[k]
                nsum += w if combiner == 1 else w * w
                k += 1
            norm[r] += nsum
        if combiner == 2:
            for r in range(len(norm)):
                norm[r] = np.sqrt(norm[r])
    # A zero of the params' dtype: the int 0 made `scale` a float64 (each
    # multiply then float32 -> float64 and back, the same bits): 1.97 -> 1.82 us
    # for 256 entries, d = 1, 'mean'; 1.61 -> 1.47 'sum'.
    zero = norm.dtype.type(0)
    for k in range(n):
        r, w = rows[k], weights[k]
        scale = zero if norm[r] == 0 else w / norm[r]
        for j in range(d):
            values[k, j] = g[r, j] * scale
    return True


@njit(cache=True, no_cfunc_wrapper=True)
def _grad_weights(g, params, rows, ids, weights, combiner, norm, out, g_out, grad_w):
    """Fills `grad_w` (zeros [n]) with each weight's gradient ``d out[r] / d w .
    g[r]``, from the norms of `_grad_values` and (not needed for 'sum') the
    forward `out`; `g_out` (zeros [n_rows]) is scratch:

      sum:   g[r] . p
      mean:  g[r] . (p - out[r]) / norm[r]               (norm = sum w)
      sqrtn: g[r] . (p - out[r] * w / norm[r]) / norm[r]   (norm = sqrt(sum w^2))
    """
    n, d = len(rows), params.shape[1]
    if combiner != 0:  # g[r] . out[r] per row
        for r in range(g.shape[0]):
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


def _check(params, rows, ids, weights):
    if params.ndim != 2:
        raise ValueError(f"params must be 2-D [vocab, d], got shape {params.shape}")
    if not (len(rows) == len(ids) == len(weights)):
        raise ValueError(f"rows, ids and weights must have one entry each, got lengths "
                         f"{len(rows)}, {len(ids)}, {len(weights)}")


def _range_error(params, rows, ids, n_rows):
    """The error for the ids or rows out of range that a kernel found."""
    if len(ids) and (ids.min() < 0 or ids.max() >= len(params)):
        return ValueError(f"ids must be in [0, {len(params)}), got range "
                          f"[{ids.min()}, {ids.max()}]")
    return ValueError(f"rows must be in [0, {n_rows}), got range "
                      f"[{rows.min()}, {rows.max()}]")


def _prep(params, rows, ids, weights):
    params = np.ascontiguousarray(params)
    return (params, np.ascontiguousarray(rows, np.int64), np.ascontiguousarray(ids, np.int64),
            np.ascontiguousarray(weights, params.dtype))


def _forward(params, rows, ids, weights, n_rows, combiner):
    out = np.zeros((n_rows, params.shape[1]), params.dtype)
    if not _combine(params, rows, ids, weights, combiner, out, np.zeros(n_rows, params.dtype)):
        raise _range_error(params, rows, ids, n_rows)
    return out


def sparse_combine(params, rows, ids, weights, n_rows, combiner):
    """Forward: ``out [n_rows, d]`` (see the module docstring)."""
    params, rows, ids, weights = _prep(params, rows, ids, weights)
    _check(params, rows, ids, weights)
    return _forward(params, rows, ids, weights, int(n_rows), COMBINERS[combiner])


def sparse_combine_grad(g, params, rows, ids, weights, combiner, weights_grad=True):
    """Backward: ``(values [n, d], grad_weights)``: the table's gradient as one row
    per entry (not yet summed per id) and each weight's gradient ([n], or [0]
    when not `weights_grad`: constant weights need none)."""
    params, rows, ids, weights = _prep(params, rows, ids, weights)
    g = np.ascontiguousarray(g, params.dtype)
    _check(params, rows, ids, weights)
    combiner, n_rows, dtype = COMBINERS[combiner], len(g), params.dtype
    norm = np.zeros(n_rows, dtype)
    values = np.empty((len(ids), params.shape[1]), dtype)
    if not _grad_values(g, rows, ids, weights, len(params), combiner, norm, values):
        raise _range_error(params, rows, ids, n_rows)
    if not weights_grad:
        return values, np.zeros(0, dtype)
    # The weights' gradients are a kernel of their own, compiled only once some
    # weights are trained. ('sum' reads no forward `out`: `values` stands in.)
    out = values if combiner == 0 else _forward(params, rows, ids, weights, n_rows, combiner)
    grad_w = np.zeros(len(ids), dtype)
    _grad_weights(g, params, rows, ids, weights, combiner, norm, out,
                  np.zeros(n_rows, dtype), grad_w)
    return values, grad_w
