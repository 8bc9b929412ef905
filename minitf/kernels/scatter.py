"""Scatter kernels: add rows into a table, and sum duplicate ids.

``scatter_add(table, ids, values)``: ``table[ids[k]] += values[k]`` for every k,
duplicates accumulating (NumPy's ``np.add.at``, without its overhead).

``dedup_sum(ids, values)``: the distinct ids in order of first appearance and,
for each, the sum of its rows: what TF's ``unique`` + ``unsorted_segment_sum``
make of an IndexedSlices before a sparse optimizer update.
"""

import numpy as np
from numba import njit


@njit(cache=True, no_cfunc_wrapper=True)
def _scatter_add(table, ids, values):
    d = table.shape[1]
    for k in range(len(ids)):
        i = ids[k]
        for j in range(d):
            table[i, j] += values[k, j]


# The kernels get their arrays allocated: an allocation inside a kernel compiles
# NumPy's allocator for its dtype and rank (up to 0.1 s each with a cold Numba
# cache), and costs no less per call there.
@njit(cache=True, no_cfunc_wrapper=True)
def _slots_direct(ids, where, slot):
    """slot[k] = index of ids[k] among the distinct ids (first-appearance order),
    using a lookup array `where` [n_table] over the table's rows (cheap when the
    table is small); returns the number of distinct ids."""
    for i in range(len(where)):  # (np.full takes 1 us a call in Python)
        where[i] = -1
    n_uniq = 0
    for k in range(len(ids)):
        i = ids[k]
        if where[i] < 0:
            where[i] = n_uniq
            n_uniq += 1
        slot[k] = where[i]
    return n_uniq


@njit(cache=True, no_cfunc_wrapper=True)
def _slots_hashed(ids, bits, keys, where, slot):
    """The same as `_slots_direct` with an open-addressing hash table of 2^bits
    entries (`keys`, `where`), at least twice the ids' count (for ids from a
    huge table): Fibonacci hashing, linear probing."""
    for i in range(len(where)):
        where[i] = -1
    n = len(ids)
    mask = (1 << bits) - 1
    n_uniq = 0
    for k in range(n):
        key = ids[k]
        h = np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))
        while where[h] >= 0 and keys[h] != key:
            h = (h + 1) & mask
        if where[h] < 0:
            keys[h] = key
            where[h] = n_uniq
            n_uniq += 1
        slot[k] = where[h]
    return n_uniq


@njit(cache=True, no_cfunc_wrapper=True)
def _dedup_direct(ids, values, where, uniq, out):
    """`_slots_direct` and `_dedup_sum` in one pass (one kernel to compile, one
    call): uniq[:n] and out[:n] (out zeros [len(ids), d]) get the distinct ids
    and their summed rows; returns n."""
    for i in range(len(where)):
        where[i] = -1
    d, n = values.shape[1], 0
    for k in range(len(ids)):
        i = ids[k]
        s = where[i]
        if s < 0:
            s = where[i] = n
            uniq[n] = i
            n += 1
        for j in range(d):
            out[s, j] += values[k, j]
    return n


@njit(cache=True, no_cfunc_wrapper=True)
def _dedup_sum(ids, values, slot, uniq, out):
    """uniq[s] and out[s] (zeros [n_uniq, d]): the id and the summed rows of slot s."""
    d = values.shape[1]
    for k in range(len(ids)):
        s = slot[k]
        uniq[s] = ids[k]
        for j in range(d):
            out[s, j] += values[k, j]


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


def _first_slots_direct(ids, n_table):
    """(slot, n_uniq) of `_slots_direct` (ids int64 in [0, n_table))."""
    slot = np.empty(len(ids), np.int64)
    return slot, _slots_direct(ids, np.empty(n_table, np.int64), slot)


def _first_slots_hashed(ids):
    """(slot, n_uniq) of `_slots_hashed` (ids int64)."""
    bits = 1
    while (1 << bits) < 2 * len(ids):
        bits += 1
    slot = np.empty(len(ids), np.int64)
    return slot, _slots_hashed(ids, bits, np.empty(1 << bits, np.int64),
                               np.empty(1 << bits, np.int64), slot)


def _direct_size(ids):
    """hi + 1 when the ids (int64, not empty) suit a lookup array over [0, hi],
    else 0 (a hash table then)."""
    lo, hi = int(ids.min()), int(ids.max())
    # A lookup array over [0, hi] costs O(hi), a hash table O(n) with worse locality.
    return hi + 1 if lo >= 0 and hi < 4 * len(ids) + 4096 else 0


def unique_slots(ids):
    """``tf.unique``: ``(slot, n_unique)`` with ``slot[k]`` the position of ``ids[k]``
    among the distinct ids in order of first appearance."""
    ids = np.ascontiguousarray(ids, np.int64).reshape(-1)
    if len(ids) == 0:
        return np.zeros(0, np.int64), 0
    size = _direct_size(ids)
    return _first_slots_direct(ids, size) if size else _first_slots_hashed(ids)


def dedup_sum(ids, values):
    """``(unique_ids, summed)``: distinct ids in order of first appearance, and the
    sum of `values` rows per distinct id. `values` is [n, ...]. (For ids from a
    small table, both are the leading rows of arrays with a row per id.)"""
    ids = np.ascontiguousarray(ids).reshape(-1)
    values = np.ascontiguousarray(values)
    if values.shape[:1] != ids.shape:
        raise ValueError(f"dedup_sum: values have {values.shape[:1]} rows, ids {ids.shape}")
    rows = _rows2d(values, len(ids))
    ids64 = np.ascontiguousarray(ids, np.int64)
    size = _direct_size(ids64) if len(ids) else 0
    if size:  # one kernel, into arrays with room for every id distinct
        uniq = np.empty(len(ids), ids.dtype)
        out = np.zeros((len(ids), rows.shape[1]), values.dtype)
        n_uniq = _dedup_direct(ids64, rows, np.empty(size, np.int64), uniq, out)
        uniq, out = uniq[:n_uniq], out[:n_uniq]
    else:
        slot, n_uniq = _first_slots_hashed(ids64) if len(ids) else (None, 0)
        uniq = np.empty(n_uniq, ids.dtype)
        out = np.zeros((n_uniq, rows.shape[1]), values.dtype)
        if n_uniq:
            _dedup_sum(ids, rows, slot, uniq, out)
    return uniq, out.reshape((n_uniq,) + values.shape[1:])
