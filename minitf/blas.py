"""How many threads BLAS may use, per GEMM.

Small GEMMs (the census model: a batch of 256 rows times layers of a few
hundred units) run faster on one thread: OpenBLAS's hand-off costs more than it
saves, and on a busy machine a second thread waiting for a core slows every
step (measured: census training 21k -> 46k examples/s). Large ones (hidden
[1024, 512, 256] at batch 1024) want every core. So inside `adaptive_threads()`
(the estimator's train / evaluate / predict loops) `matmul` calls
`for_gemm(multiply_adds)` first, which switches BLAS to one thread below
`SMALL_GEMM` multiply-adds and back to all threads above it; switching costs
about a microsecond and happens only when the size class changes.

Uses threadpoolctl when it is installed (it finds whichever BLAS NumPy is
linked to); without it nothing changes.
"""

import contextlib
import functools

import numpy as np

SMALL_GEMM = 1 << 24  # multiply-adds; 256 x 100 x 75 is 1.9M, 1024 x 1024 x 512 is 537M

# BLAS threads are a process-wide setting, so this is process-wide state.
_state = {"depth": 0, "full": 1, "current": None}


@functools.lru_cache(maxsize=1)
def _blas():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return ()
    import numpy  # noqa: F401  (the BLAS must be loaded to be found)
    return tuple(c for c in ThreadpoolController().lib_controllers if c.user_api == "blas")


def _set(n):
    for lib in _blas():
        lib.set_num_threads(n)
    _state["current"] = n


@contextlib.contextmanager
def adaptive_threads():
    """Within the block, small GEMMs run on one BLAS thread, large ones on all."""
    libs = _blas()
    if not libs or _state["depth"]:
        yield
        return
    saved = [lib.get_num_threads() for lib in libs]
    _state.update(depth=1, full=max(saved), current=None)
    try:
        yield
    finally:
        _state["depth"] = 0
        for lib, n in zip(libs, saved):
            lib.set_num_threads(n)
        _state["current"] = None


def gemm(a, b):
    """``a @ b`` (2-D) with the thread choice of `for_gemm`: for code that calls
    NumPy directly (the fast paths) and must match `minitf.matmul` bit for bit."""
    for_gemm(a.size * b.shape[-1])
    return np.matmul(a, b)


def for_gemm(multiply_adds):
    """Called before a GEMM: one thread if it is small (inside adaptive_threads)."""
    if _state["depth"]:
        want = 1 if multiply_adds < SMALL_GEMM else _state["full"]
        if want != _state["current"]:
            _set(want)
