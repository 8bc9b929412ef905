"""Element-wise math, reductions and matmul, each with its gradient beside it.

A primitive receives ndarrays and returns ``(result, backward)``;
``backward(g)`` returns one gradient per tensor input. Broadcasting inputs get
their gradient summed back to their own shape with `unbroadcast`.
"""

import builtins

import numpy as np

from minitf.autodiff import primitive, unbroadcast
from minitf.blas import for_gemm


def _same_dtype(op, x, y):
    # TF refuses to mix dtypes in one op (no implicit promotion).
    if x.dtype != y.dtype:
        raise TypeError(f"{op}: both inputs must have the same dtype, got "
                        f"{x.dtype.name} and {y.dtype.name}")


# --- binary element-wise -----------------------------------------------------------
@primitive
def add(x, y):
    _same_dtype("add", x, y)
    return x + y, lambda g: (unbroadcast(g, x.shape), unbroadcast(g, y.shape))


@primitive
def subtract(x, y):
    _same_dtype("subtract", x, y)
    return x - y, lambda g: (unbroadcast(g, x.shape), unbroadcast(-g, y.shape))


@primitive
def multiply(x, y):
    _same_dtype("multiply", x, y)
    return x * y, lambda g: (unbroadcast(g * y, x.shape), unbroadcast(g * x, y.shape))


@primitive
def divide(x, y):
    _same_dtype("divide", x, y)
    out = x / y
    return out, lambda g: (unbroadcast(g / y, x.shape), unbroadcast(-g * out / y, y.shape))


@primitive
def pow(x, y):  # noqa: A001 - TF's name
    _same_dtype("pow", x, y)
    out = np.power(x, y)

    def backward(g):
        gx = g * y * np.power(x, y - 1)
        # d/dy x^y = x^y log x; TF defines it as 0 where x <= 0.
        safe = np.where(x > 0, x, 1)
        gy = g * out * np.where(x > 0, np.log(safe), 0)
        return unbroadcast(gx, x.shape), unbroadcast(gy, y.shape)
    return out, backward


@primitive
def maximum(x, y):
    _same_dtype("maximum", x, y)
    xw = x >= y  # ties send the gradient to x, as TF's MaximumGrad does
    return np.maximum(x, y), lambda g: (unbroadcast(np.where(xw, g, 0), x.shape),
                                        unbroadcast(np.where(xw, 0, g), y.shape))


@primitive
def minimum(x, y):
    _same_dtype("minimum", x, y)
    xw = x <= y  # ties to x, as TF's MinimumGrad
    return np.minimum(x, y), lambda g: (unbroadcast(np.where(xw, g, 0), x.shape),
                                        unbroadcast(np.where(xw, 0, g), y.shape))


@primitive
def squared_difference(x, y):
    _same_dtype("squared_difference", x, y)
    d = x - y
    return d * d, lambda g: (unbroadcast(2 * g * d, x.shape), unbroadcast(-2 * g * d, y.shape))


def add_n(inputs):
    """The element-wise sum of a list of same-shape tensors."""
    out = inputs[0]
    for t in inputs[1:]:
        out = add(out, t)
    return out


# --- unary element-wise ------------------------------------------------------------
@primitive
def negative(x):
    return -x, lambda g: (-g,)


@primitive
def square(x):
    return x * x, lambda g: (2 * g * x,)


@primitive
def sqrt(x):
    out = np.sqrt(x)
    return out, lambda g: (g * 0.5 / out,)


@primitive
def rsqrt(x):
    out = 1 / np.sqrt(x)
    return out, lambda g: (g * -0.5 * out * out * out,)


@primitive
def exp(x):
    out = np.exp(x)
    return out, lambda g: (g * out,)


@primitive
def log(x):
    return np.log(x), lambda g: (g / x,)


@primitive
def log1p(x):
    return np.log1p(x), lambda g: (g / (1 + x),)


@primitive
def abs(x):  # noqa: A001 - TF's name
    return np.abs(x), lambda g: (g * np.sign(x),)  # sign(0) = 0, as TF


@primitive
def sigmoid(x):
    out = _sigmoid(x)
    return out, lambda g: (g * out * (1 - out),)


@primitive
def tanh(x):
    out = np.tanh(x)
    return out, lambda g: (g * (1 - out * out),)


@primitive
def clip_by_value(t, clip_value_min, clip_value_max):
    lo = np.asarray(clip_value_min, t.dtype)
    hi = np.asarray(clip_value_max, t.dtype)
    inside = (t >= lo) & (t <= hi)  # the gradient passes only where t was not clipped
    return np.clip(t, lo, hi), lambda g: (np.where(inside, g, 0), None, None)


@primitive
def cast(x, dtype=None):
    dtype = np.dtype(dtype)
    differentiable = x.dtype.kind in "fc" and dtype.kind in "fc"
    return x.astype(dtype), lambda g: (g.astype(x.dtype) if differentiable else None,)


def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


# --- reductions ----------------------------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = np.atleast_1d(np.asarray(axis)).tolist()
    return tuple(builtins.sorted(a % ndim for a in axes)) if ndim else ()


@primitive
def reduce_sum(input_tensor, axis=None, keepdims=False):
    x = input_tensor
    axes = _axes(axis, x.ndim)
    out = np.sum(x, axis=axes, keepdims=keepdims)

    def backward(g):
        if not keepdims:
            g = np.expand_dims(g, axes)
        return (np.broadcast_to(g, x.shape),)
    return out, backward


@primitive
def reduce_mean(input_tensor, axis=None, keepdims=False):
    x = input_tensor
    axes = _axes(axis, x.ndim)
    n = int(np.prod([x.shape[a] for a in axes]))
    out = np.mean(x, axis=axes, keepdims=keepdims) if n else np.sum(x, axes, keepdims=keepdims)

    def backward(g):
        if not keepdims:
            g = np.expand_dims(g, axes)
        return (np.broadcast_to(g / builtins.max(n, 1), x.shape),)
    return out, backward


@primitive
def reduce_max(input_tensor, axis=None, keepdims=False):
    x = input_tensor
    axes = _axes(axis, x.ndim)
    out = np.max(x, axis=axes, keepdims=True)

    def backward(g):
        # TF splits the gradient evenly between tied maxima.
        if not keepdims:
            g = np.expand_dims(g, axes)
        hit = (x == out)
        return (g * hit / np.sum(hit, axis=axes, keepdims=True),)
    return (out if keepdims else np.squeeze(out, axes)), backward


# --- matmul --------------------------------------------------------------------------
@primitive
def matmul(a, b, transpose_a=False, transpose_b=False):
    """``op(a) @ op(b)`` for 2-D (or batched) inputs, through BLAS.

    Backward, for ``c = a @ b``: ``da = g @ b.T``, ``db = a.T @ g``; with the
    transpose flags the same products arranged so no copy is needed.
    """
    _same_dtype("matmul", a, b)
    at = np.swapaxes(a, -1, -2) if transpose_a else a
    bt = np.swapaxes(b, -1, -2) if transpose_b else b
    if at.shape[-1] != bt.shape[-2]:
        raise ValueError(f"matmul: inner dimensions differ: {a.shape} "
                         f"(transpose_a={transpose_a}) and {b.shape} (transpose_b={transpose_b})")

    def T(m):
        return np.swapaxes(m, -1, -2)

    macs = at.size * bt.shape[-1]  # multiply-adds of each of the three products
    for_gemm(macs)

    def backward(g):
        for_gemm(macs)
        ga = T(g @ T(bt)) if transpose_a else g @ T(bt)
        gb = T(T(at) @ g) if transpose_b else T(at) @ g
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)
    return at @ bt, backward


# --- comparisons (not differentiable) ---------------------------------------------------
def _compare(fn):
    @primitive
    def op(x, y):
        return fn(x, y), lambda g: (None, None)
    op.__name__ = fn.__name__
    return op


less, less_equal = _compare(np.less), _compare(np.less_equal)
greater, greater_equal = _compare(np.greater), _compare(np.greater_equal)
equal, not_equal = _compare(np.equal), _compare(np.not_equal)


@primitive
def sign(x):
    return np.sign(x), lambda g: (np.zeros_like(g),)


@primitive
def argmax(input, axis=None, output_type=np.int64):  # noqa: A002 - TF's name
    axis = 0 if axis is None else axis
    return np.argmax(input, axis=axis).astype(output_type), lambda g: (None,)
