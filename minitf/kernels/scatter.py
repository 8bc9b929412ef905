"""Scatter kernels: add rows into a table, and sum duplicate ids.

``scatter_add(table, ids, values)``: ``table[ids[k]] += values[k]`` for every k,
duplicates accumulating (NumPy's ``np.add.at``, without its overhead).

``dedup_sum(ids, values)``: the distinct ids in order of first appearance and,
for each, the sum of its rows: what TF's ``unique`` + ``unsorted_segment_sum``
make of an IndexedSlices before a sparse optimizer update.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def _scatter_add(table, ids, values):
    d = table.shape[1]
    for k in range(len(ids)):
        i = ids[k]
        for j in range(d):
            table[i, j] += values[k, j]


@njit(cache=True)
def _first_slots_direct(ids, n_table):
    """slot[k] = index of ids[k] among the distinct ids (first-appearance order),
    using a lookup array over the table's rows (cheap when the table is small)."""
    where = np.full(n_table, -1, np.int64)
    slot = np.empty(len(ids), np.int64)
    n_uniq = 0
    for k in range(len(ids)):
        i = ids[k]
        if where[i] < 0:
            where[i] = n_uniq
            n_uniq += 1
        slot[k] = where[i]
    return slot, n_uniq


@njit(cache=True)
def _first_slots_sorted(ids):
    """The same as `_first_slots_direct` via a stable sort (for huge tables)."""
    n = len(ids)
    order = np.argsort(ids, kind="mergesort")
    group = np.empty(n, np.int64)      # group number of each entry, in id order
    first = np.empty(n, np.int64)      # first position of each group
    n_groups = 0
    for t in range(n):
        k = order[t]
        if t == 0 or ids[k] != ids[order[t - 1]]:
            first[n_groups] = k        # stable sort: the group's earliest entry
            n_groups += 1
        group[k] = n_groups - 1
    rank = np.empty(n_groups, np.int64)  # group -> slot, by first appearance
    rank[np.argsort(first[:n_groups], kind="mergesort")] = np.arange(n_groups)
    slot = np.empty(n, np.int64)
    for k in range(n):
        slot[k] = rank[group[k]]
    return slot, n_groups


@njit(cache=True)
def _dedup_sum(ids, values, slot, n_uniq):
    d = values.shape[1]
    uniq = np.empty(n_uniq, ids.dtype)
    out = np.zeros((n_uniq, d), values.dtype)
    for k in range(len(ids)):
        s = slot[k]
        uniq[s] = ids[k]
        for j in range(d):
            out[s, j] += values[k, j]
    return uniq, out


def _rows2d(a, n):
    return a.reshape(n, -1) if n else a.reshape(0, int(np.prod(a.shape[1:], dtype=np.int64)))


def scatter_add(table, ids, values):
    """In place: ``table[ids[k]] += values[k]`` (duplicates accumulate).

    Args:
      table: C-contiguous ndarray [vocab, ...], updated in place.
      ids: int [n] in [0, vocab).
      values: [n, ...] matching the table's trailing shape.
    """
    if not table.flags.c_contiguous:
        raise ValueError("scatter_add: table must be C-contiguous (it is updated in place)")
    ids = np.ascontiguousarray(ids, np.int64).reshape(-1)
    values = np.ascontiguousarray(values, table.dtype)
    if values.shape != (len(ids),) + table.shape[1:]:
        raise ValueError(f"scatter_add: values have shape {values.shape}, expected "
                         f"{(len(ids),) + table.shape[1:]}")
    if len(ids) and (ids.min() < 0 or ids.max() >= len(table)):
        raise ValueError(f"scatter_add: ids must be in [0, {len(table)}), got range "
                         f"[{ids.min()}, {ids.max()}]")
    if len(ids):
        _scatter_add(table.reshape(len(table), -1), ids, values.reshape(len(ids), -1))
    return table


def unique_slots(ids, n_table=None):
    """``tf.unique``: ``(slot, n_unique)`` with ``slot[k]`` the position of ``ids[k]``
    among the distinct ids in order of first appearance."""
    ids = np.ascontiguousarray(ids, np.int64).reshape(-1)
    if len(ids) == 0:
        return np.zeros(0, np.int64), 0
    lo, hi = int(ids.min()), int(ids.max())
    # A lookup array over [0, hi] costs O(hi); a sort costs O(n log n): pick the cheaper.
    if lo >= 0 and hi < 8 * len(ids) + 4096 and (n_table is None or hi < n_table):
        return _first_slots_direct(ids, hi + 1)
    return _first_slots_sorted(ids)


def dedup_sum(ids, values, n_table=None):
    """``(unique_ids, summed)``: distinct ids in order of first appearance, and the
    sum of `values` rows per distinct id. `values` is [n, ...]."""
    ids = np.ascontiguousarray(ids).reshape(-1)
    values = np.ascontiguousarray(values)
    if values.shape[:1] != ids.shape:
        raise ValueError(f"dedup_sum: values have {values.shape[:1]} rows, ids {ids.shape}")
    slot, n_uniq = unique_slots(ids, n_table)
    uniq, out = _dedup_sum(ids, _rows2d(values, len(ids)), slot, n_uniq)
    return uniq, out.reshape((n_uniq,) + values.shape[1:])
