"""Reverse-mode automatic differentiation: `GradientTape` and `primitive`.

Every differentiable op is a `primitive`: a function of plain ndarrays that
returns its result *and* a closure mapping the result's gradient to its inputs'
gradients. The `primitive` wrapper converts arguments to tensors, runs the
function, and, when a tape is recording and one of the inputs is watched,
appends ``(output, inputs, backward)`` to that tape. `GradientTape.gradient`
walks those records backwards.

The tapes that are recording live on a per-thread stack, the only context the
engine keeps (TF keeps the same); a tape never sees another tape's records.
"""

import contextlib
import functools
import inspect
import threading

import numpy as np

from minitf.sparse import IndexedSlices
from minitf.tensor import Tensor, Variable, convert_to_tensor

_local = threading.local()


def _recording():
    """The tapes recording in this thread (innermost last)."""
    tapes = getattr(_local, "tapes", None)
    if tapes is None:
        tapes = _local.tapes = []
    return tapes


def _convert_inputs(args):
    """Converts op arguments to tensors; a Python number takes the dtype of the
    first non-bool tensor argument, as TF's ops do (``x * 2.`` stays float64 for
    a float64 ``x``)."""
    ref = None
    for a in args:
        if isinstance(a, (Tensor, np.ndarray)) and a.dtype != np.bool_:
            ref = a.dtype
            break
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a)
        elif ref is not None and isinstance(a, (int, float)) and not isinstance(a, bool):
            out.append(Tensor(np.asarray(a, dtype=ref)))
        else:
            out.append(convert_to_tensor(a))
    return out


def primitive(fn):
    """Makes a differentiable op from ``fn(*arrays, *attrs) -> (out, backward)``.

    The parameters of `fn` without defaults are its tensor inputs; the rest are
    attributes passed through untouched. ``backward(g)`` returns one gradient
    (ndarray, IndexedSlices or None) per tensor input.
    """
    params = inspect.signature(fn).parameters.values()
    names = [p.name for p in params if p.default is inspect.Parameter.empty
             and p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD]
    n_in = len(names)
    narrow = "dtype" not in [p.name for p in params]  # ops with a dtype attr may widen

    @functools.wraps(fn)
    def op(*args, name=None, **kwargs):
        if len(args) < n_in:  # tensor inputs given by keyword, as in f(labels=.., logits=..)
            try:
                args = args + tuple(kwargs.pop(k) for k in names[len(args):])
            except KeyError as e:
                raise TypeError(f"{fn.__name__}() missing required argument {e}") from None
        inputs = _convert_inputs(args[:n_in])
        out, backward = fn(*[t._value for t in inputs], *args[n_in:], **kwargs)
        if narrow:
            out, backward = _keep_float_dtype(out, backward, inputs)
        result = Tensor(out)
        for tape in _recording():
            tape._record(result, inputs, backward)
        return result

    op.primitive = fn
    return op


def _keep_float_dtype(out, backward, inputs):
    """NumPy 1 promotes a 0-d float32 array combined with a Python float to
    float64 (NumPy 2 does not); TF never widens. Cast such results (and their
    gradients) back to the inputs' widest float dtype."""
    dt = getattr(out, "dtype", None)
    if dt is None or dt.itemsize <= 4 or dt.kind != "f":  # float32 out: the usual case
        return out, backward
    floats = [t._value.dtype for t in inputs if t._value.dtype.kind == "f"]
    if not floats:
        return out, backward
    want = max(floats, key=lambda d: d.itemsize)
    if dt.itemsize <= want.itemsize:
        return out, backward

    def narrowed(g):
        return tuple(x.astype(want) if isinstance(x, np.ndarray) and x.dtype.kind == "f"
                     and x.dtype.itemsize > want.itemsize else x for x in backward(g))
    return np.asarray(out).astype(want), narrowed


def unbroadcast(g, shape):
    """Sums `g` down to `shape`: the adjoint of NumPy broadcasting."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, d in enumerate(shape) if d == 1 and g.shape[i + lead] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def _add(a, b):
    """Accumulates two gradients (ndarray or IndexedSlices); never in place,
    because a backward closure may hand the same array to several inputs."""
    if a is None:
        return b
    return a + b


def _flatten(x):
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in _flatten(x[k])]
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flatten(item)]
    return [x]


def _pack_like(structure, flat):
    """Rebuilds `structure` (nested list/tuple/dict) from the flat values."""
    it = iter(flat)

    def build(x):
        if isinstance(x, dict):
            return {k: build(x[k]) for k in sorted(x)}
        if isinstance(x, (list, tuple)):
            return type(x)(build(item) for item in x)
        return next(it)

    return build(structure)


class GradientTape:
    """`tf.GradientTape`: records ops on watched tensors to differentiate them.

    Args:
      persistent: allow more than one call of `gradient`.
      watch_accessed_variables: watch every trainable Variable an op reads.

    Example::

        with GradientTape() as tape:
            y = x * x
        tape.gradient(y, x)   # 2 x
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._watch_vars = watch_accessed_variables
        self._watched = {}  # id -> tensor; holding the tensor keeps its id unique
        self._entries = []  # (output, inputs, backward) in execution order
        self._recording = False
        self._used = False

    # --- recording -------------------------------------------------------------------
    def __enter__(self):
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to "
                             "re-enter an already-active tape.")
        _recording().append(self)
        self._recording = True
        return self

    def __exit__(self, *exc):
        _recording().remove(self)
        self._recording = False
        return False

    @contextlib.contextmanager
    def stop_recording(self):
        """Ops run inside this block are not recorded by this tape."""
        if not self._recording:
            raise ValueError("Tape must be recording in order to stop recording.")
        self.__exit__()
        try:
            yield
        finally:
            self.__enter__()

    def watch(self, tensor):
        """Watches a tensor, a Variable, or a nested list/dict of them."""
        for t in _flatten(tensor):
            if not isinstance(t, Tensor):
                raise ValueError(f"GradientTape.watch: expected a Tensor or Variable, "
                                 f"got {type(t).__name__}")
            self._watched[id(t)] = t

    def watched_variables(self):
        """The Variables this tape watches, in the order it first saw them."""
        return tuple(t for t in self._watched.values() if isinstance(t, Variable))

    def reset(self):
        """Forgets everything recorded so far."""
        self._watched, self._entries, self._used = {}, [], False

    def _record(self, out, inputs, backward):
        watched = self._watched
        hit = False
        for t in inputs:
            if id(t) in watched:
                hit = True
            elif self._watch_vars and isinstance(t, Variable) and t.trainable:
                watched[id(t)] = t
                hit = True
        if hit:
            self._entries.append((out, inputs, backward))
            watched[id(out)] = out

    # --- differentiating ---------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients="none"):
        """d(sum of target) / d(source) for each source.

        Args:
          target: a Tensor, or a list of them (their gradients add up).
          sources: a Tensor/Variable, or a nested list/tuple/dict of them.
          output_gradients: optional upstream gradient(s), one per target;
            ones by default.
          unconnected_gradients: 'none' (None for a source the target does not
            depend on) or 'zero' (zeros of the source's shape).

        Returns:
          The gradients in the structure of `sources`: a Tensor, an
          IndexedSlices (for a table reached through a gather or lookup), or
          None.

        Raises:
          RuntimeError: a second call on a non-persistent tape.
          ValueError: an unknown `unconnected_gradients`.
        """
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"unconnected_gradients must be 'none' or 'zero', "
                             f"got {unconnected_gradients!r}")
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute "
                               "one set of gradients (or jacobians)")
        self._used = True
        flat_sources = _flatten(sources)
        targets = _flatten(target)
        if output_gradients is None:
            upstream = [None] * len(targets)
        elif isinstance(target, (list, tuple, dict)):
            upstream = _flatten(output_gradients)
        else:  # one target: output_gradients is one value (maybe a list of numbers)
            upstream = [output_gradients]

        # Tensors that depend on a watched source: only their gradients are needed.
        source_ids = {id(s) for s in flat_sources if id(s) in self._watched}
        relevant = set(source_ids)
        for out, inputs, _ in self._entries:
            if any(id(t) in relevant for t in inputs):
                relevant.add(id(out))

        grads = {}
        for t, g in zip(targets, upstream):
            if id(t) in relevant:
                g = (np.ones_like(t._value) if g is None
                     else np.asarray(g, dtype=t.dtype).reshape(t.shape))
                grads[id(t)] = _add(grads.get(id(t)), g)

        for out, inputs, backward in reversed(self._entries):
            key = id(out)
            if key not in relevant:
                continue
            g = grads.get(key) if key in source_ids else grads.pop(key, None)
            if g is None:
                continue
            if isinstance(g, IndexedSlices):  # sparse gradients densify when they reach an op
                g = g.to_dense()
            for t, gi in zip(inputs, backward(g)):
                if gi is not None and id(t) in relevant:
                    grads[id(t)] = _add(grads.get(id(t)), gi)

        result = []
        for s in flat_sources:
            g = grads.get(id(s)) if id(s) in source_ids else None
            if g is None and unconnected_gradients == "zero":
                g = np.zeros(s.shape, dtype=s.dtype)
            if g is not None and not isinstance(g, IndexedSlices):
                g = Tensor(np.asarray(g, dtype=s.dtype))  # 0-d results come back as scalars
            result.append(g)
        if not self._persistent:
            self._entries, self._watched = [], {}
        if isinstance(sources, (list, tuple, dict)):
            return _pack_like(sources, result)
        return result[0]


@contextlib.contextmanager
def stop_recording():
    """No tape records the ops run inside this block."""
    saved = _recording()[:]
    _local.tapes = []
    try:
        yield
    finally:
        _local.tapes = saved
