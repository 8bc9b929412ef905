"""`tf.data.Dataset` for NumPy: a lazy pipeline that iterates nested structures
(dicts, tuples, lists) of arrays.

    ds = (Dataset.from_tensor_slices((features, labels))
          .shuffle(1000, seed=1).batch(256).repeat(3))
    for features, labels in ds: ...

Datasets made by `from_tensor_slices` and then only shuffled, repeated,
taken, skipped and batched never touch single examples: those steps work on
arrays of row indices and `batch` gathers each batch with one fancy index per
array. `map` (and any step after it) works element by element, as TF does.

Shuffling is TF's: a buffer of `buffer_size` elements, each output drawn at
random from it and replaced by the next input (a full shuffle when the buffer
holds the whole dataset). The random streams are NumPy's, not TF's.
"""

import itertools

import numpy as np

from minitf import random as _random
from minitf.kernels.shuffle import buffered_shuffle
from minitf.sparse import SparseTensor


def _map_structure(fn, s):
    if isinstance(s, dict):
        return {k: _map_structure(fn, v) for k, v in s.items()}
    if isinstance(s, tuple):
        return tuple(_map_structure(fn, v) for v in s)
    if isinstance(s, list):
        return [_map_structure(fn, v) for v in s]
    return fn(s)


def _indexer(s):
    """``idx -> _map_structure(lambda a: a[idx], s)``, with the structure walked
    once here rather than at every batch: a dict of arrays is one comprehension."""
    if isinstance(s, dict):
        items = list(s.items())
        if not any(isinstance(a, (dict, tuple, list)) for _, a in items):
            return lambda idx: {k: a[idx] for k, a in items}
        items = [(k, _indexer(a)) for k, a in items]
        return lambda idx: {k: f(idx) for k, f in items}
    if isinstance(s, (tuple, list)):
        fns, kind = [_indexer(a) for a in s], tuple if isinstance(s, tuple) else list
        return lambda idx: kind([f(idx) for f in fns])
    return lambda idx: s[idx]


def _leaves(s):
    if isinstance(s, dict):
        return [x for v in s.values() for x in _leaves(v)]
    if isinstance(s, (tuple, list)):
        return [x for v in s for x in _leaves(v)]
    return [s]


def _stack(elements):
    """Batches a list of same-structure elements."""
    first = elements[0]
    if isinstance(first, dict):
        return {k: _stack([e[k] for e in elements]) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(_stack([e[i] for e in elements]) for i in range(len(first)))
    return np.stack([np.asarray(e) for e in elements])


def _shuffle_order(n_or_stream, buffer_size, rng):
    """TF's buffered shuffle of a stream of indices: fill the buffer, then emit a
    random buffer slot and refill it with the next input."""
    stream = np.asarray(n_or_stream)
    if buffer_size >= len(stream):
        return stream[rng.permutation(len(stream))]
    out = np.empty_like(stream)
    buffered_shuffle(stream, stream[:buffer_size].copy(), rng.random(len(stream)), out)
    return out


class Dataset:
    """Base: subclasses give `_elements()` (an iterator of elements), and those
    that can, `_indices()` (an iterator of index arrays, one per pass)."""

    def __iter__(self):
        return iter(self._elements())

    def _indices(self):
        return None

    # --- constructors ------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors):
        """Element i is every array of `tensors` (nested) indexed at i."""
        return _Slices(tensors)

    @staticmethod
    def from_tensors(tensors):
        """A single element: `tensors` as they are."""
        return _Generator(lambda: iter([tensors]))

    @staticmethod
    def from_generator(generator):
        return _Generator(generator)

    @staticmethod
    def range(*args):
        return _Slices(np.arange(*args, dtype=np.int64))

    # --- transformations ---------------------------------------------------------------
    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        if buffer_size is None or int(buffer_size) < 1:
            raise ValueError(f"shuffle: buffer_size must be >= 1, got {buffer_size}")
        return _Shuffle(self, int(buffer_size), seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False):
        if int(batch_size) < 1:
            raise ValueError(f"batch: batch_size must be >= 1, got {batch_size}")
        return _Batch(self, int(batch_size), drop_remainder)

    def repeat(self, count=None):
        return _Repeat(self, None if count is None or count < 0 else int(count))

    def map(self, map_func, num_parallel_calls=None, deterministic=None):
        return _Map(self, map_func)

    def take(self, count):
        return _Take(self, int(count))

    def skip(self, count):
        return _Skip(self, int(count))

    def prefetch(self, buffer_size=None):
        return self  # iteration is synchronous; nothing to overlap

    def cache(self, filename=""):
        return self

    def as_numpy_iterator(self):
        return iter(self)


class _Slices(Dataset):
    def __init__(self, tensors):
        self.tensors = _map_structure(
            lambda a: a if isinstance(a, SparseTensor) else np.asarray(a), tensors)
        lens = {len(a) for a in _leaves(self.tensors)}
        if len(lens) != 1:
            raise ValueError(f"from_tensor_slices: all arrays need the same first dimension, "
                             f"got lengths {sorted(lens)}")
        self.n = lens.pop()
        self._gather = _indexer(self.tensors)

    def _indices(self):
        yield np.arange(self.n, dtype=np.int64)

    def gather(self, idx):
        return self._gather(idx)

    def _elements(self):
        for i in range(self.n):
            yield self.gather(i)


class _Generator(Dataset):
    def __init__(self, factory):
        self.factory = factory

    def _elements(self):
        return self.factory()


class _Wrapped(Dataset):
    """A step over `inner`: index-capable when `inner` is."""

    def _source(self):
        s = self.inner
        while isinstance(s, _Wrapped):
            s = s.inner
        return s if isinstance(s, _Slices) else None

    def _elements(self):
        src, passes = self._source(), self._indices()
        if passes is None or src is None:
            return self._element_steps()
        return (src.gather(i) for idx in passes for i in idx)


class _Shuffle(_Wrapped):
    def __init__(self, inner, buffer_size, seed, reshuffle):
        self.inner, self.buffer_size, self.reshuffle = inner, buffer_size, reshuffle
        # Drawn once: every iteration restarts from it (same order) unless reshuffling,
        # where one generator runs on across iterations (a new order each time).
        self._seed = int(_random.make_rng(seed).integers(2**62))
        self._rng0 = np.random.default_rng(self._seed)

    def _rng(self):
        return self._rng0 if self.reshuffle else np.random.default_rng(self._seed)

    def _indices(self):
        passes = self.inner._indices()
        if passes is None:
            return None
        rng = self._rng()
        return (_shuffle_order(idx, self.buffer_size, rng) for idx in passes)

    def _element_steps(self):
        rng = self._rng()
        buf = []
        for e in self.inner:
            if len(buf) < self.buffer_size:
                buf.append(e)
                continue
            j = int(rng.random() * len(buf))
            yield buf[j]
            buf[j] = e
        while buf:
            j = int(rng.random() * len(buf))
            buf[j], buf[-1] = buf[-1], buf[j]
            yield buf.pop()


class _Repeat(_Wrapped):
    def __init__(self, inner, count):
        self.inner, self.count = inner, count

    def _indices(self):
        if self.inner._indices() is None:
            return None
        rounds = itertools.count() if self.count is None else range(self.count)
        return (idx for _ in rounds for idx in self.inner._indices())

    def _element_steps(self):
        rounds = itertools.count() if self.count is None else range(self.count)
        for _ in rounds:
            yield from self.inner


class _Take(_Wrapped):
    def __init__(self, inner, count):
        self.inner, self.count = inner, count

    def _indices(self):
        passes = self.inner._indices()
        if passes is None:
            return None
        return _cut(passes, 0, self.count)

    def _element_steps(self):
        return itertools.islice(iter(self.inner), self.count if self.count >= 0 else None)


class _Skip(_Wrapped):
    def __init__(self, inner, count):
        self.inner, self.count = inner, count

    def _indices(self):
        passes = self.inner._indices()
        if passes is None:
            return None
        return _cut(passes, self.count, -1)

    def _element_steps(self):
        return itertools.islice(iter(self.inner), self.count, None)


def _cut(passes, start, count):
    """Index passes with the first `start` indices dropped and at most `count`
    kept (count < 0: all)."""
    seen = kept = 0
    for idx in passes:
        lo = max(0, start - seen)
        seen += len(idx)
        idx = idx[lo:]
        if count >= 0:
            idx = idx[:count - kept]
        kept += len(idx)
        if len(idx):
            yield idx
        if 0 <= count <= kept:
            return


class _Batch(_Wrapped):
    def __init__(self, inner, batch_size, drop_remainder):
        self.inner, self.batch_size, self.drop = inner, batch_size, drop_remainder

    def _elements(self):
        src, passes = self._source(), self.inner._indices()
        if src is None or passes is None:
            return self._element_steps()
        return self._index_batches(src, passes)

    def _index_batches(self, src, passes):
        pending = np.zeros(0, np.int64)
        for idx in passes:  # batches run across epochs, as TF's batch after repeat
            pending = np.concatenate([pending, idx])
            while len(pending) >= self.batch_size:
                yield src.gather(pending[:self.batch_size])
                pending = pending[self.batch_size:]
        if len(pending) and not self.drop:
            yield src.gather(pending)

    def _element_steps(self):
        it = iter(self.inner)
        while True:
            chunk = list(itertools.islice(it, self.batch_size))
            if not chunk or (self.drop and len(chunk) < self.batch_size):
                return
            yield _stack(chunk)


class _Map(_Wrapped):
    def __init__(self, inner, fn):
        self.inner, self.fn = inner, fn

    def _indices(self):
        return None

    def _elements(self):
        return self._element_steps()

    def _element_steps(self):
        for e in self.inner:
            yield self.fn(*e) if isinstance(e, tuple) else self.fn(e)
