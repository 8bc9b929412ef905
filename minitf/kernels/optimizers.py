"""Fused optimizer updates, with TF's kernel arithmetic (float32 in, float32 out).

Sparse (`sparse_*`): each touched row updated in one pass, in place. `rows` are
distinct (duplicates were summed first, as TF's optimizers do) and `grad` holds
one row of gradient per entry of `rows`. The `*_dup` forms take the gradient's
ids as they come and sum duplicates themselves, as `scatter.dedup_sum` does (one
call instead of three: at a batch of 256 the calls cost more than the work).

Dense (`adagrad`, `ftrl`): flat arrays, the slots updated in place and the new
variable written to `out`. Each evaluates its optimizer's NumPy expression
element by element in the same order (no fastmath: no reassociation, no FMA),
so the results are the same bits, in one pass instead of 5-15 temporaries.
They use NumPy's error model: x / 0 is inf or nan, as in NumPy, rather than
Python's ZeroDivisionError (whose check also keeps LLVM from vectorising).

The kernels an optimizer calls at every step (`adagrad`, `ftrl` and the `*_dup`
forms) take their hyperparameters as one array `h` of the variable's dtype,
`[lr, eps]` for Adagrad, `[lr, l1, l2, l2_shrinkage, lr_power]` for FTRL: Numba's
dispatcher takes ~0.3 us to type a NumPy scalar argument and ~0.06 us for an
array, and the kernels see the same float32 (or float64) values either way.
"""

import numpy as np
from numba import njit

# The dtypes the kernels take: NumPy rounds float16 arithmetic after every
# step, which Numba does not reproduce.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@njit(cache=True, no_cfunc_wrapper=True)
def sparse_adagrad_v1(var, acc, rows, grad, lr):
    """acc[r] += g^2; var[r] -= lr * g / sqrt(acc[r])   (ApplyAdagrad, no epsilon)."""
    for k in range(len(rows)):
        r = rows[k]
        for j in range(var.shape[1]):
            g = grad[k, j]
            a = acc[r, j] + g * g
            acc[r, j] = a
            var[r, j] -= lr * g / np.sqrt(a)


@njit(cache=True, no_cfunc_wrapper=True)
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


@njit(cache=True, error_model="numpy", no_cfunc_wrapper=True)
def adagrad(var, acc, grad, h, out):
    """acc += g^2; out = var - g * lr / (sqrt(acc) + eps)   (Adagrad._apply_dense);
    h = [lr, eps]."""
    lr, eps = h[0], h[1]
    for i in range(len(var)):
        g = grad[i]
        a = acc[i] + g * g
        acc[i] = a
        out[i] = var[i] - g * lr / (np.sqrt(a) + eps)


@njit(cache=True, error_model="numpy", no_cfunc_wrapper=True)
def ftrl(var, accum, linear, grad, h, out):
    """Ftrl._apply_dense for learning_rate_power -0.5, in its NumPy order:
    linear += g' - (sqrt(na) - sqrt(a)) / lr * var (the right side first), then
    out = (l1 * sign(linear) - linear) / (sqrt(na) / lr + 2 l2) where |linear| > l1;
    h = [lr, l1, l2, l2_shrinkage, (lr_power, not read)]."""
    lr, l1, l2, l2_shrinkage = h[0], h[1], h[2], h[3]
    zero, one, two = var.dtype.type(0), var.dtype.type(1), var.dtype.type(2)
    for i in range(len(var)):
        g, w, a = grad[i], var[i], accum[i]
        na = a + g * g
        if l2_shrinkage > 0:
            g = g + two * l2_shrinkage * w
        lin = linear[i] + (g - (np.sqrt(na) - np.sqrt(a)) / lr * w)
        linear[i] = lin
        if abs(lin) > l1:  # never NaN here; np.sign(0) is +0 (lin is 0 only if l1 < 0)
            s = one if lin > 0 else (-one if lin < 0 else zero)
            out[i] = (l1 * s - lin) / (np.sqrt(na) / lr + two * l2)
        else:
            out[i] = 0
        accum[i] = na


# Adagrad's and FTRL's sparse updates, with or without summing duplicate ids
# first, are one kernel: one compile serves all four, and the update rules are
# written once. It calls no other kernel (a callee is compiled again into each
# caller) and allocates its scratch itself: passed in from Python, two np.empty
# calls cost 0.5 us a call (a third of a small update), compiled here NumPy's
# allocator ~0.1 s once.
@njit(cache=True, no_cfunc_wrapper=True)
def _sparse_update(var, s1, s2, ids, grad, h, ftrl, dedup):
    """FTRL (slots s1 = accum, s2 = linear; h = [lr, l1, l2, l2_shrinkage,
    lr_power]) if `ftrl`, else Adagrad (s1 = acc, s2 not read; h = [lr, eps]),
    on rows `ids` of var with gradient rows `grad`. With `dedup`, duplicate ids
    are summed first as scatter.dedup_sum does (the distinct ids in order of
    first appearance, each one's rows summed in order, from zero); without, the
    ids are distinct. False, with nothing done, if an id is outside var.

        Adagrad (ApplyAdagradV2): acc += g^2; var -= g * lr / (sqrt(acc) + eps)
        FTRL-proximal (SparseApplyFtrl / V2):
          new_accum = accum + g^2
          linear += g' - (new_accum^-p - accum^-p) / lr * var   (g' = g + 2 l2_shrinkage var)
          var = (sign(linear) l1 - linear) / (new_accum^-p / lr + 2 l2)  if |linear| > l1 else 0
    """
    n_rows, d = var.shape
    for k in range(len(ids)):
        if ids[k] < 0 or ids[k] >= n_rows:
            return False  # (before any update)
    rows, summed, n = ids, grad, len(ids)
    if dedup:
        # The loop writes names of its own, given to rows and summed after it:
        # an array name assigned twice (rows = ids above, then a new array) makes
        # Numba count references on every pass of a loop using it, ~5x slower
        # here (8.5 against 1.7 us for 256 ids into 7 rows).
        scratch = np.empty(n_rows + len(ids), np.int64)
        where, uniq = scratch[:n_rows], scratch[n_rows:]  # id -> its sum's row; the ids
        for i in range(n_rows):
            where[i] = -1
        sums = np.empty(grad.shape, grad.dtype)
        zero, n = var.dtype.type(0), 0
        for k in range(len(ids)):
            i = ids[k]
            s = where[i]
            if s < 0:
                s = where[i] = n
                uniq[n] = i
                n += 1
                for j in range(d):
                    sums[s, j] = zero + grad[k, j]  # (as from zeros: -0.0 becomes 0.0)
            else:
                for j in range(d):
                    sums[s, j] += grad[k, j]
        rows, summed = uniq, sums
    one, two, lr = var.dtype.type(1), var.dtype.type(2), h[0]
    if ftrl:
        l1, l2, l2_shrinkage, lr_power = h[1], h[2], h[3], h[4]
        for s in range(n):
            r = rows[s]
            for j in range(d):
                g = summed[s, j]
                w = var[r, j]
                a = s1[r, j]
                na = a + g * g
                gs = g + two * l2_shrinkage * w if l2_shrinkage > 0 else g
                if lr_power == -0.5:
                    sig = (np.sqrt(na) - np.sqrt(a)) / lr
                    quad = np.sqrt(na) / lr + two * l2
                else:
                    sig = (na ** -lr_power - a ** -lr_power) / lr
                    quad = na ** -lr_power / lr + two * l2
                lin = s2[r, j] + gs - sig * w
                s2[r, j] = lin
                if abs(lin) > l1:
                    sign = one if lin > 0 else -one
                    var[r, j] = (sign * l1 - lin) / quad
                else:
                    var[r, j] = 0
                s1[r, j] = na
    else:
        eps = h[1]
        for s in range(n):
            r = rows[s]
            for j in range(d):
                g = summed[s, j]
                a = s1[r, j] + g * g
                s1[r, j] = a
                var[r, j] -= g * lr / (np.sqrt(a) + eps)
    return True


def _checked(done):
    if not done:
        raise ValueError("sparse update: a row id is outside the variable")


def sparse_adagrad(var, acc, rows, grad, lr, eps):
    """Adagrad on the distinct `rows` of var (see `_sparse_update`)."""
    _checked(_sparse_update(var, acc, acc, rows, grad, np.array([lr, eps], var.dtype),
                            False, False))


def sparse_ftrl(var, accum, linear, rows, grad, lr, l1, l2, l2_shrinkage, lr_power):
    """FTRL-proximal on the distinct `rows` of var (see `_sparse_update`)."""
    h = np.array([lr, l1, l2, l2_shrinkage, lr_power], var.dtype)
    _checked(_sparse_update(var, accum, linear, rows, grad, h, True, False))


def sparse_adagrad_dup(var, acc, ids, grad, h):
    """sparse_adagrad after summing duplicate ids, h = [lr, eps]; False (nothing
    done) if an id is outside var."""
    return _sparse_update(var, acc, acc, ids, grad, h, False, True)


def sparse_ftrl_dup(var, accum, linear, ids, grad, h):
    """sparse_ftrl after summing duplicate ids, h = [lr, l1, l2, l2_shrinkage,
    lr_power]; False (nothing done) if an id is outside var."""
    return _sparse_update(var, accum, linear, ids, grad, h, True, True)


def dup_grad(var_rows, ids, values):
    """`values` as the `*_dup` kernels take them ([len(ids), cols], C-contiguous),
    or None when they do not apply: a dtype they do not take, no ids, values that
    do not match the ids and `var_rows` [rows, cols] (the generic path reports
    those), or a table much larger than the batch (their lookup array has a slot
    per row; dedup_sum then hashes)."""
    n = len(ids)
    if (values.dtype not in DTYPES or not n or len(values) != n
            or values.size != n * var_rows.shape[1] or len(var_rows) > 4 * n + 4096):
        return None
    if values.ndim == 2 and values.flags.c_contiguous:  # (the common case, without a call)
        return values
    return np.ascontiguousarray(values).reshape(n, -1)
