"""Activation kernels that NumPy computes slowly.

``np.where(x > 0, g, 0)`` (ReLU's gradient) runs a branch per element: with a
mask that is half true at random (a ReLU layer's) it mispredicts half the time
and takes ~115 us for 256 x 100 floats. The compiled select is branch-free
(~4 us) and picks the same values.

``bias_relu(net, bias)``: a hidden layer's ``net += bias`` then
``np.maximum(net, 0, out=net)``, in place and in one pass: the two NumPy calls
on a fresh 256 x 100 product take ~15 us, the kernel ~3 us. The same bits:
each element is the one IEEE float32 sum ``net + bias`` (NumPy's too: no
reassociation, no fused operation), then ``0.0 if v <= 0 else v``, which is
what ``np.maximum(v, 0)`` gives for every v: v when v > 0, +0.0 for negatives
and for both zeros (``np.maximum(-0.0, 0)`` is +0.0), and v itself, payload
and sign, when v is NaN (NaN <= 0 is false). One case has no single answer:
when both addends are NaN, IEEE leaves open whose payload the sum carries; the
kernel keeps net's (x86's rule for `a + b`), NumPy picks either by version and
loop (measured: 1.26 mostly the bias's, 2.x mostly net's).
tests/test_fast_forward_kernels.py checks all the rest bit for bit, special
values included.

``relu_grad_bias(x, g)``: a hidden layer's backward, ``relu_grad(x, g)`` and
then the bias gradient ``.sum(axis=0)``, in one pass (~9 us in three calls
at 256 x 100, ~4 in one). NumPy sums axis 0 of a C-contiguous [n, units]
array with units >= 2 row after row: from +0.0 (so a lone -0.0 row sums to
+0.0), each row added in float32 (with one unit it sums pairwise instead, so
that case stays with NumPy). The kernel adds in that order, so the same bits,
with bias_relu's one exception (NaN + NaN).
"""

import numpy as np
from numba import njit

_F32 = np.dtype(np.float32)


@njit(cache=True, no_cfunc_wrapper=True)
def _relu_grad(x, g, out):
    for i in range(len(out)):
        if x[i] > 0:
            out[i] = g[i]
        else:
            out[i] = 0


def relu_grad(x, g):
    """`g` where `x > 0`, else 0 (TF's ReluGrad: 0 at x == 0), in g's dtype."""
    shape = np.shape(x)  # (ascontiguousarray makes a 0-d array 1-d)
    g = np.ascontiguousarray(g if np.shape(g) == shape else np.broadcast_to(g, shape))
    x = np.ascontiguousarray(x)
    out = np.empty(shape, g.dtype)
    _relu_grad(x.reshape(-1), g.reshape(-1), out.reshape(-1))
    return out


@njit(cache=True, no_cfunc_wrapper=True)
def _relu_grad_bias(x, g, out, bias_grad):
    n, units = out.shape
    for i in range(n):
        for j in range(units):
            v = g[i, j]
            if not x[i, j] > 0:  # ReluGrad: 0 at x == 0 and for NaN x
                v = np.float32(0)
            out[i, j] = v
            bias_grad[j] += v  # (from +0.0, as NumPy: a -0.0 first row gives +0.0)


def relu_grad_bias(x, g):
    """(``relu_grad(x, g)``, its ``.sum(axis=0)``): the same bits, in one kernel
    pass for C-contiguous float32 [n, units >= 2] (else the NumPy calls)."""
    if (x.dtype is _F32 and g.dtype is _F32 and x.shape == g.shape and g.ndim == 2
            and g.shape[1] >= 2 and x.flags.c_contiguous and g.flags.c_contiguous):
        out = np.empty(g.shape, np.float32)
        bias_grad = np.zeros(g.shape[1], np.float32)  # (no rows: NumPy's sum is +0.0)
        _relu_grad_bias(x, g, out, bias_grad)
        return out, bias_grad
    out = relu_grad(x, g)
    return out, out.reshape(-1, out.shape[-1]).sum(axis=0)


# (No flag for "bias only": its loop, unswitched, adds 15% to the cold compile
# of ~0.13 s; a logits layer's `net += bias` is one NumPy call anyway.)
@njit(cache=True, no_cfunc_wrapper=True)
def _bias_relu(net, bias):
    n, units = net.shape
    for i in range(n):
        for j in range(units):
            v = net[i, j] + bias[j]
            if v <= 0:  # np.maximum(v, 0): +0.0 for both zeros, a NaN kept
                v = 0
            net[i, j] = v


def bias_relu(net, bias):
    """``net += bias; np.maximum(net, 0, out=net)``: in place, the same bits;
    returns `net`. The kernel takes C-contiguous float32 [n, units] and
    [units] (the only dtype the canned model runs in); anything else gets the
    NumPy expressions themselves."""
    if (net.dtype is _F32 and bias.dtype is _F32 and bias.shape == net.shape[1:]
            and net.ndim == 2 and net.flags.c_contiguous and bias.flags.c_contiguous):
        _bias_relu(net, bias)
        return net
    net += bias
    np.maximum(net, 0, out=net)
    return net
