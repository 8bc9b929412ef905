"""Numba kernels: plain arrays in, plain arrays out; no tensors, no tape.

Every kernel is ``@njit(cache=True)`` and has a plain-NumPy twin in the tests.
Set ``NUMBA_DISABLE_JIT=1`` to run them as ordinary Python (for a debugger).

With a cold Numba cache, compiling is most of a short run (launch to the end of
the first census step: ~4 s cold, ~0.8 s warm), so the kernels are shaped for it:

- ``no_cfunc_wrapper=True``: no C-callable wrapper (no kernel is passed as a
  function pointer), ~8 ms less each.
- A kernel calls no other kernel where that can be helped: a callee compiles on
  its own (20-60 ms however small) and is linked and optimised again into each
  caller. FarmHash's helpers stay, without a Python wrapper either.
- Builtins that Numba implements as overloads (``max``, ``int`` of a float)
  compile as functions of their own (25-70 ms); comparisons and casts do not.
- Few signatures: hyperparameters in one array, ints rather than literals.
- An array name is assigned once: one assigned twice (``rows = ids``, later
  ``rows = np.empty(...)``) gets its reference count raised and dropped on
  every pass of a loop that uses it (5-8x slower loops, measured).
- ``np.empty`` in a kernel compiles NumPy's allocator for its dtype and rank,
  once (~0.05 s); in Python it costs ~0.25 us a call. So the kernels get their
  outputs allocated, except small scratch of kernels called at every step.
"""
