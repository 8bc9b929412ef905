"""Shape and indexing ops, each with its gradient beside it."""

import builtins

import numpy as np

from minitf.autodiff import _convert_inputs, _recording, primitive, unbroadcast
from minitf.sparse import IndexedSlices
from minitf.tensor import Tensor, convert_to_tensor


@primitive
def identity(input):  # noqa: A002 - TF's name
    return input, lambda g: (g,)


@primitive
def stop_gradient(input):  # noqa: A002
    return input, lambda g: (None,)


@primitive
def reshape(tensor, shape=None):
    shape = [int(d) for d in np.asarray(shape).reshape(-1)]
    return tensor.reshape(shape), lambda g: (g.reshape(tensor.shape),)


@primitive
def expand_dims(input, axis=None):  # noqa: A002
    return np.expand_dims(input, axis), lambda g: (g.reshape(input.shape),)


@primitive
def squeeze(input, axis=None):  # noqa: A002
    if axis is not None:
        for a in np.atleast_1d(axis):
            if input.shape[a] != 1:
                raise ValueError(f"squeeze: cannot squeeze dimension {int(a)} of shape "
                                 f"{input.shape}: it is {input.shape[a]}, not 1")
        axis = tuple(int(a) for a in np.atleast_1d(axis))
    return np.squeeze(input, axis), lambda g: (g.reshape(input.shape),)


@primitive
def transpose(a, perm=None):
    perm = tuple(builtins.range(a.ndim))[::-1] if perm is None else tuple(perm)
    return np.transpose(a, perm), lambda g: (np.transpose(g, np.argsort(perm)),)


@primitive
def tile(input, multiples=None):  # noqa: A002
    reps = tuple(int(m) for m in multiples)

    def backward(g):
        # Fold each tiled axis into (reps, size) and sum over the reps.
        split = [d for pair in zip(reps, input.shape) for d in pair]
        return (g.reshape(split).sum(axis=tuple(builtins.range(0, 2 * input.ndim, 2))),)
    return np.tile(input, reps), backward


@primitive
def broadcast_to(input, shape=None):  # noqa: A002
    shape = tuple(int(d) for d in shape)
    return np.broadcast_to(input, shape), lambda g: (unbroadcast(g, input.shape),)


@primitive
def where(condition, x, y):
    """`tf.where(condition, x, y)`: x where condition, else y (broadcasting)."""
    cond = condition.astype(bool)
    return np.where(cond, x, y), lambda g: (None, unbroadcast(np.where(cond, g, 0), x.shape),
                                            unbroadcast(np.where(cond, 0, g), y.shape))


@primitive
def gather(params, indices, axis=0, batch_dims=0):
    """`tf.gather`: rows of `params` picked by `indices` (along `axis`).

    Along axis 0 the gradient w.r.t. `params` is an IndexedSlices (the picked
    rows only), as in TF; along another axis it is dense.
    """
    if batch_dims:
        raise NotImplementedError("gather: batch_dims other than 0 is not supported")
    axis = axis % params.ndim
    idx = np.asarray(indices)
    if idx.size and (idx.min() < 0 or idx.max() >= params.shape[axis]):
        bad = idx[(idx < 0) | (idx >= params.shape[axis])].reshape(-1)[0]
        raise ValueError(f"gather: index {int(bad)} is not in [0, {params.shape[axis]})")
    out = np.take(params, idx, axis=axis)

    def backward(g):
        if axis == 0:
            values = g.reshape((idx.size,) + params.shape[1:])
            return IndexedSlices(values, idx.reshape(-1), params.shape), None
        dense = np.zeros_like(params)
        moved = np.moveaxis(dense, axis, 0)  # a view: adding into it fills `dense`
        lead = list(builtins.range(axis, axis + idx.ndim))
        gm = np.moveaxis(g, lead, list(builtins.range(idx.ndim)))
        np.add.at(moved, idx.reshape(-1), gm.reshape((idx.size,) + moved.shape[1:]))
        return dense, None
    return out, backward


@primitive
def getitem(x, key=None):
    """``x[key]`` (the `Tensor.__getitem__`): basic and fancy indexing."""
    key = _plain_key(key)

    def backward(g):
        dense = np.zeros_like(x)
        np.add.at(dense, key, g)  # add.at: fancy keys may repeat an index
        return (dense,)
    return x[key], backward


def _plain_key(key):
    if isinstance(key, tuple):
        return tuple(_plain_key(k) for k in key)
    if isinstance(key, Tensor):
        return key._value
    if isinstance(key, slice):
        return slice(*(int(v) if isinstance(v, Tensor) else v
                       for v in (key.start, key.stop, key.step)))
    return key


# --- ops over a list of tensors ------------------------------------------------------
def _record_list(out, inputs, backward):
    result = Tensor(out)
    for tape in _recording():
        tape._record(result, inputs, backward)
    return result


def concat(values, axis):
    """`tf.concat`: joins tensors along an existing axis."""
    inputs = _convert_inputs(values)
    arrays = [t._value for t in inputs]
    ax = axis % arrays[0].ndim
    splits = np.cumsum([a.shape[ax] for a in arrays])[:-1]
    return _record_list(np.concatenate(arrays, axis=ax), inputs,
                        lambda g: tuple(np.split(g, splits, axis=ax)))


def stack(values, axis=0):
    """`tf.stack`: joins same-shape tensors along a new axis."""
    inputs = _convert_inputs(values)
    out = np.stack([t._value for t in inputs], axis=axis)
    ax = axis % out.ndim
    return _record_list(out, inputs, lambda g: tuple(
        np.take(g, i, axis=ax) for i in builtins.range(len(inputs))))


# --- constructors (no gradient) ---------------------------------------------------------
def zeros(shape, dtype=np.float32):
    return Tensor(np.zeros(shape, dtype=dtype))


def ones(shape, dtype=np.float32):
    return Tensor(np.ones(shape, dtype=dtype))


def fill(dims, value):
    return Tensor(np.full(dims, convert_to_tensor(value)._value))


def zeros_like(input, dtype=None):  # noqa: A002
    return Tensor(np.zeros_like(convert_to_tensor(input)._value, dtype=dtype))


def ones_like(input, dtype=None):  # noqa: A002
    return Tensor(np.ones_like(convert_to_tensor(input)._value, dtype=dtype))


def one_hot(indices, depth, on_value=1.0, off_value=0.0, axis=-1, dtype=np.float32):
    """`tf.one_hot`: an index outside [0, depth) gives an all-off row, as in TF."""
    idx = np.asarray(convert_to_tensor(indices)._value)
    out = np.where(idx[..., None] == np.arange(depth), on_value, off_value).astype(dtype)
    return Tensor(np.moveaxis(out, -1, axis) if axis != -1 else out)


def shape(input, out_type=np.int32):  # noqa: A002
    return Tensor(np.asarray(convert_to_tensor(input).shape, dtype=out_type))


def size(input, out_type=np.int32):  # noqa: A002
    return Tensor(np.asarray(convert_to_tensor(input)._value.size, dtype=out_type))


def range(start, limit=None, delta=1, dtype=None):  # noqa: A001 - TF's name
    if limit is None:
        start, limit = 0, start
    return convert_to_tensor(np.arange(start, limit, delta), dtype)
