"""How many threads BLAS may use.

The canned models' GEMMs are small (a batch of 256 rows times layers of a few
hundred units): OpenBLAS's thread hand-off costs more than it saves, and on a
busy machine a second BLAS thread waiting for a core makes every step slower
(measured: census training 21k -> 46k examples/s with one BLAS thread while
another process ran). The estimator runs its loops under `limit_threads(1)`.

Uses threadpoolctl when it is installed (it knows every BLAS NumPy may be
linked to); without it, `limit_threads` does nothing.
"""

import contextlib
import functools


@functools.lru_cache(maxsize=1)
def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def limit_threads(n=1):
    """Within the block, BLAS uses at most `n` threads (process-wide)."""
    ctl = _controller()
    if ctl is None:
        yield
        return
    with ctl.limit(limits=n, user_api="blas"):
        yield
