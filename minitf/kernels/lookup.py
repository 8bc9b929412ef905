"""Looking strings up in a sorted vocabulary, in Numba.

Strings arrive as a NumPy unicode array's code points: uint32 ``[n, width]``,
NUL-padded (a string ends at its last non-NUL, so a shorter string sorts
first, as NumPy orders strings). Comparing code points directly avoids the
per-call cost of NumPy's string `searchsorted` and `==` (about 4x).
"""

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _compare(a, i, b, j):
    """-1, 0 or 1 as row i of `a` is before, equal to or after row j of `b`."""
    wa, wb = a.shape[1], b.shape[1]
    for t in range(min(wa, wb)):
        x, y = a[i, t], b[j, t]
        if x != y:
            return -1 if x < y else 1
        if x == 0:  # both ended
            return 0
    # One is wider: it is after the other unless its next code point is NUL.
    if wa > wb:
        return 1 if a[i, wb] != 0 else 0
    if wb > wa:
        return -1 if b[j, wa] != 0 else 0
    return 0


@njit(cache=True)
def sorted_lookup_ucs4(codes, keys, positions, default):
    """(ids, found, empties) for each row of `codes`: ``positions[j]`` where it
    equals ``keys[j]`` (keys sorted), else `default`; found marks the hits;
    empties counts the empty strings."""
    n, k = codes.shape[0], keys.shape[0]
    ids = np.empty(n, np.int64)
    found = np.zeros(n, np.bool_)
    empties = 0
    for i in range(n):
        if codes.shape[1] == 0 or codes[i, 0] == 0:
            empties += 1
        lo, hi = 0, k
        while lo < hi:  # first key >= the string
            mid = (lo + hi) // 2
            if _compare(keys, mid, codes, i) < 0:
                lo = mid + 1
            else:
                hi = mid
        if lo < k and _compare(keys, lo, codes, i) == 0:
            ids[i] = positions[lo]
            found[i] = True
        else:
            ids[i] = default
    return ids, found, empties
