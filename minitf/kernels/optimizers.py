"""Fused sparse optimizer updates: each touched row updated in one pass, in
place, with TF's kernel arithmetic (float32 in, float32 out).

`rows` are distinct (duplicates were summed first, as TF's optimizers do) and
`grad` holds one row of gradient per entry of `rows`.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def sparse_adagrad(var, acc, rows, grad, lr, eps):
    """acc[r] += g^2; var[r] -= g * lr / (sqrt(acc[r]) + eps)   (ApplyAdagradV2)."""
    for k in range(len(rows)):
        r = rows[k]
        for j in range(var.shape[1]):
            g = grad[k, j]
            a = acc[r, j] + g * g
            acc[r, j] = a
            var[r, j] -= g * lr / (np.sqrt(a) + eps)


@njit(cache=True)
def sparse_adagrad_v1(var, acc, rows, grad, lr):
    """acc[r] += g^2; var[r] -= lr * g / sqrt(acc[r])   (ApplyAdagrad, no epsilon)."""
    for k in range(len(rows)):
        r = rows[k]
        for j in range(var.shape[1]):
            g = grad[k, j]
            a = acc[r, j] + g * g
            acc[r, j] = a
            var[r, j] -= lr * g / np.sqrt(a)


@njit(cache=True)
def sparse_ftrl(var, accum, linear, rows, grad, lr, l1, l2, l2_shrinkage, lr_power):
    """FTRL-proximal per row (SparseApplyFtrl / V2):

        new_accum = accum + g^2
        linear += g' - (new_accum^-p - accum^-p) / lr * var    (g' = g + 2 l2_shrinkage var)
        var = (sign(linear) l1 - linear) / (new_accum^-p / lr + 2 l2)  if |linear| > l1 else 0
    """
    one, two = var.dtype.type(1), var.dtype.type(2)
    for k in range(len(rows)):
        r = rows[k]
        for j in range(var.shape[1]):
            g = grad[k, j]
            w = var[r, j]
            a = accum[r, j]
            na = a + g * g
            gs = g + two * l2_shrinkage * w if l2_shrinkage > 0 else g
            if lr_power == -0.5:
                sig = (np.sqrt(na) - np.sqrt(a)) / lr
                quad = np.sqrt(na) / lr + two * l2
            else:
                sig = (na ** -lr_power - a ** -lr_power) / lr
                quad = na ** -lr_power / lr + two * l2
            lin = linear[r, j] + gs - sig * w
            linear[r, j] = lin
            if abs(lin) > l1:
                s = one if lin > 0 else -one
                var[r, j] = (s * l1 - lin) / quad
            else:
                var[r, j] = 0
            accum[r, j] = na


@njit(cache=True)
def sparse_proximal_adagrad(var, acc, rows, grad, lr, l1, l2):
    """ProximalAdagrad per row: acc += g^2; lr' = lr / sqrt(acc);
    v = var - lr' g; var = sign(v) max(|v| - lr' l1, 0) / (1 + lr' l2)."""
    for k in range(len(rows)):
        r = rows[k]
        for j in range(var.shape[1]):
            g = grad[k, j]
            a = acc[r, j] + g * g
            acc[r, j] = a
            lr_t = lr / np.sqrt(a)
            prox = var[r, j] - g * lr_t
            if l1 > 0:
                s = 1.0 if prox > 0 else (-1.0 if prox < 0 else 0.0)
                var[r, j] = s * max(abs(prox) - lr_t * l1, 0.0) / (1 + l2 * lr_t)
            else:
                var[r, j] = prox / (1 + l2 * lr_t)
