"""A tiled dense matmul in Numba, kept for teaching.

The engine's matmul goes to BLAS through NumPy (`np.matmul`); this kernel shows
what BLAS does in its simplest form: split C = A @ B into tiles so that a tile
of A, a tile of B and a tile of C fit in cache together, and run the innermost
loop over contiguous memory. `benchmarks/bench_kernels.py` compares it with
BLAS; it stays out of the default path unless it wins there.
"""

import numpy as np
from numba import njit

TILE = 64


@njit(cache=True, no_cfunc_wrapper=True)
def _matmul_tiled(a, b, tile):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), a.dtype)
    for i0 in range(0, m, tile):
        for p0 in range(0, k, tile):
            for j0 in range(0, n, tile):
                for i in range(i0, min(i0 + tile, m)):
                    for p in range(p0, min(p0 + tile, k)):
                        aip = a[i, p]
                        for j in range(j0, min(j0 + tile, n)):  # contiguous in b and c
                            c[i, j] += aip * b[p, j]
    return c


def matmul(a, b, tile=TILE):
    """C = A @ B for 2-D arrays of one float dtype, by tiles of `tile`."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: cannot multiply shapes {a.shape} and {b.shape}")
    dtype = np.result_type(a, b)
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    return _matmul_tiled(np.ascontiguousarray(a, dtype), np.ascontiguousarray(b, dtype),
                         int(tile))
