"""Numba kernels: plain arrays in, plain arrays out; no tensors, no tape.

Every kernel is ``@njit(cache=True)`` and has a plain-NumPy twin in the tests.
Set ``NUMBA_DISABLE_JIT=1`` to run them as ordinary Python (for a debugger).
"""
