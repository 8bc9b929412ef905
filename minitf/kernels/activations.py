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
