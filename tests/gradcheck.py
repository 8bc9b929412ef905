"""Central-difference gradient checking for minitf ops (float64)."""

import numpy as np

import minitf as tf


def analytic_grads(f, arrays, upstream):
    """d sum(f(*arrays) * upstream) / d array, through the tape, densified."""
    vs = [tf.Variable(a) for a in arrays]
    with tf.GradientTape() as tape:
        out = f(*vs)
        loss = tf.reduce_sum(out * upstream)
    grads = tape.gradient(loss, vs)
    return [None if g is None else (g.to_dense() if isinstance(g, tf.IndexedSlices)
                                    else g.numpy()) for g in grads]


def numeric_grad(f, arrays, i, upstream, eps=1e-6):
    """Central difference of sum(f * upstream) w.r.t. arrays[i]."""
    base = [np.array(a, dtype=np.float64) for a in arrays]
    grad = np.zeros_like(base[i])
    flat = base[i].reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        hi = np.sum(np.asarray(f(*base)) * upstream)
        flat[k] = old - eps
        lo = np.sum(np.asarray(f(*base)) * upstream)
        flat[k] = old
        grad.reshape(-1)[k] = (hi - lo) / (2 * eps)
    return grad


def check_grads(f, arrays, wrt=None, rtol=1e-5, atol=1e-6, seed=0):
    """Asserts every analytic gradient (for inputs in `wrt`) equals the numeric one."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    out = np.asarray(f(*arrays))
    upstream = np.random.default_rng(seed).uniform(0.5, 1.5, out.shape)
    got = analytic_grads(f, arrays, upstream)
    for i in (range(len(arrays)) if wrt is None else wrt):
        want = numeric_grad(f, arrays, i, upstream)
        assert got[i] is not None, f"input {i}: no gradient"
        assert got[i].shape == arrays[i].shape, (i, got[i].shape, arrays[i].shape)
        np.testing.assert_allclose(got[i], want, rtol=rtol, atol=atol, err_msg=f"input {i}")
