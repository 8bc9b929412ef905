"""Dense-op cases shared by generate_ops.py (TF 2.15) and tests/test_ops_tf.py (minitf).

A case is ``Case(name, fn, inputs, exact)``:

* ``fn(m, *inputs)`` calls the op through module ``m``, which is either
  ``tensorflow`` or ``minitf``: minitf uses TF's names, so one function serves both.
* ``inputs`` is a list of ``(shape, kind)``; `make_inputs` draws them. Float
  kinds are differentiable (the tape watches them); ``bool`` and ``idx:N``
  (int32 in [0, N)) are not.
* ``exact``: in float32, forward values and gradients are bit-equal to TF's
  (shape and selection ops, and ops whose TF formula we repeat step by step).

minitf exports no ``reduce_min`` and no ``l2_normalize``, so neither is here.
"""

from collections import namedtuple

import numpy as np

Case = namedtuple("Case", "name fn inputs exact")
DTYPES = ("float32", "float64")
VARIANTS = 2  # seeded input draws per (case, dtype)
SEED = 20240517

FLOAT_KINDS = ("n", "pos", "nz", "u01", "probs", "ties", "big", "clip", "relu6", "zeros_in",
               "targets")


def make_inputs(case, dtype, variant):
    """The inputs of `case` in `dtype`, from a seed fixed by (case, dtype, variant)."""
    key = sum(ord(c) * (i + 1) for i, c in enumerate(case.name))
    rng = np.random.default_rng([SEED, key, DTYPES.index(dtype), variant])
    return [_draw(rng, shape, kind, dtype) for shape, kind in case.inputs]


def is_float(kind):
    return kind.split(":")[0] in FLOAT_KINDS


def _draw(rng, shape, kind, dtype):
    k, _, arg = kind.partition(":")
    if k == "bool":
        return rng.random(shape) < 0.5
    if k == "idx":
        return rng.integers(0, int(arg), shape).astype(np.int32)
    if k == "n":  # standard normal
        x = rng.standard_normal(shape)
    elif k == "pos":  # away from 0 and from the poles of log, sqrt, 1/x
        x = rng.uniform(0.3, 3.0, shape)
    elif k == "nz":  # either sign, |x| >= 0.3
        x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)
    elif k == "u01":
        x = rng.uniform(0.0, 1.0, shape)
    elif k == "probs":  # rows that sum to 1
        e = np.exp(rng.standard_normal(shape))
        x = e / e.sum(-1, keepdims=True)
    elif k == "ties":  # small integers: ties for max/min and reduce_max
        x = rng.integers(-2, 3, shape).astype(np.float64)
    elif k == "big":  # large |x|: the overflow-prone tails of exp-based ops
        x = rng.standard_normal(shape) * 25.0
    elif k == "clip":  # includes the clip bounds -1 and 1.5 themselves
        x = rng.choice([-3.0, -1.0, -0.5, 0.0, 0.7, 1.5, 2.5], shape)
    elif k == "relu6":  # includes the kinks 0 and 6
        x = rng.choice([-2.0, 0.0, 0.5, 3.0, 6.0, 7.5], shape) + 0.0
    elif k == "zeros_in":  # normal with some exact zeros (kinks of relu, abs, ...)
        x = np.where(rng.random(shape) < 0.3, 0.0, rng.standard_normal(shape))
    elif k == "targets":  # Poisson targets, some <= 1 and some > 1
        x = rng.choice([0.5, 1.0, 2.0, 3.5, 7.0], shape)
    else:
        raise ValueError(kind)
    return np.asarray(x, dtype=dtype)


def _c(name, fn, inputs, exact=False):
    return Case(name, fn, inputs, exact)


N = "n"
CASES = [
    # --- matmul ---
    _c("matmul", lambda m, a, b: m.matmul(a, b), [((3, 4), N), ((4, 5), N)]),
    _c("matmul_ta", lambda m, a, b: m.matmul(a, b, transpose_a=True), [((4, 3), N), ((4, 5), N)]),
    _c("matmul_tb", lambda m, a, b: m.matmul(a, b, transpose_b=True), [((3, 4), N), ((5, 4), N)]),
    _c("matmul_tab", lambda m, a, b: m.matmul(a, b, transpose_a=True, transpose_b=True),
       [((4, 3), N), ((5, 4), N)]),
    _c("matmul_batched", lambda m, a, b: m.matmul(a, b), [((2, 3, 4), N), ((2, 4, 2), N)]),
    _c("matmul_operator", lambda m, a, b: a @ b, [((2, 3), N), ((3, 2), N)]),
    # --- binary element-wise, with broadcasting ---
    _c("add", lambda m, x, y: m.add(x, y), [((3, 4), N), ((3, 4), N)], exact=True),
    _c("add_bcast", lambda m, x, y: m.add(x, y), [((2, 3, 4), N), ((3, 1), N)]),
    _c("add_scalar", lambda m, x, y: m.add(x, y), [((3, 4), N), ((), N)]),
    _c("subtract_bcast", lambda m, x, y: m.subtract(x, y), [((4, 1), N), ((1, 5), N)]),
    _c("multiply", lambda m, x, y: m.multiply(x, y), [((3, 4), N), ((3, 4), N)], exact=True),
    _c("multiply_bcast", lambda m, x, y: m.multiply(x, y), [((2, 3, 4), N), ((4,), N)]),
    _c("divide", lambda m, x, y: m.divide(x, y), [((3, 4), N), ((3, 4), "nz")]),
    _c("divide_bcast", lambda m, x, y: m.divide(x, y), [((3, 1), N), ((2, 1, 4), "nz")]),
    _c("pow", lambda m, x, y: m.pow(x, y), [((3, 4), "pos"), ((3, 4), N)]),
    _c("pow_bcast", lambda m, x, y: m.pow(x, y), [((3, 4), "pos"), ((4,), N)]),
    _c("squared_difference", lambda m, x, y: m.math.squared_difference(x, y),
       [((3, 1), N), ((3, 4), N)]),
    _c("maximum", lambda m, x, y: m.maximum(x, y), [((3, 4), N), ((3, 4), N)], exact=True),
    _c("maximum_ties", lambda m, x, y: m.maximum(x, y), [((4, 5), "ties"), ((4, 5), "ties")],
       exact=True),
    _c("maximum_bcast", lambda m, x, y: m.maximum(x, y), [((3, 4), N), ((4,), N)]),
    _c("minimum", lambda m, x, y: m.minimum(x, y), [((3, 4), N), ((3, 4), N)], exact=True),
    _c("minimum_ties", lambda m, x, y: m.minimum(x, y), [((4, 5), "ties"), ((4, 5), "ties")],
       exact=True),
    _c("minimum_bcast", lambda m, x, y: m.minimum(x, y), [((2, 1, 4), N), ((3, 1), N)]),
    _c("operators", lambda m, x, y: (2.0 - x) * y / 3.0 + x ** 2.0 - (-y),
       [((3, 4), N), ((4,), N)]),
    _c("add_n", lambda m, x, y, z: m.add_n([x, y, z]), [((3, 4), N)] * 3, exact=True),
    # --- reductions ---
    _c("reduce_sum", lambda m, x: m.reduce_sum(x), [((3, 4), N)]),
    _c("reduce_sum_axis0", lambda m, x: m.reduce_sum(x, axis=0), [((3, 4), N)]),
    _c("reduce_sum_axes_keep", lambda m, x: m.reduce_sum(x, axis=[0, 2], keepdims=True),
       [((2, 3, 4), N)]),
    _c("reduce_sum_neg_axis", lambda m, x: m.reduce_sum(x, axis=-1), [((2, 3, 4), N)]),
    _c("reduce_mean", lambda m, x: m.reduce_mean(x), [((3, 4), N)]),
    _c("reduce_mean_axis1", lambda m, x: m.reduce_mean(x, axis=1), [((3, 4), N)]),
    _c("reduce_mean_keep", lambda m, x: m.reduce_mean(x, axis=[1, 2], keepdims=True),
       [((2, 3, 4), N)]),
    _c("reduce_max", lambda m, x: m.reduce_max(x), [((3, 4), N)], exact=True),
    _c("reduce_max_axis", lambda m, x: m.reduce_max(x, axis=1), [((3, 4), N)], exact=True),
    _c("reduce_max_keep", lambda m, x: m.reduce_max(x, axis=0, keepdims=True),
       [((3, 4), N)], exact=True),
    _c("reduce_max_ties", lambda m, x: m.reduce_max(x, axis=-1), [((4, 6), "ties")]),
    _c("reduce_max_ties_all", lambda m, x: m.reduce_max(x), [((3, 5), "ties")]),
    # --- unary element-wise ---
    _c("negative", lambda m, x: m.negative(x), [((3, 4), N)], exact=True),
    _c("exp", lambda m, x: m.exp(x), [((3, 4), N)]),
    _c("log", lambda m, x: m.math.log(x), [((3, 4), "pos")]),
    _c("log1p", lambda m, x: m.math.log1p(x), [((3, 4), "u01")]),
    _c("sqrt", lambda m, x: m.sqrt(x), [((3, 4), "pos")]),
    _c("rsqrt", lambda m, x: m.math.rsqrt(x), [((3, 4), "pos")]),
    _c("square", lambda m, x: m.square(x), [((3, 4), N)], exact=True),
    _c("abs", lambda m, x: m.abs(x), [((3, 4), "zeros_in")], exact=True),
    _c("sign", lambda m, x: m.sign(x), [((3, 4), "zeros_in")], exact=True),
    _c("sigmoid", lambda m, x: m.sigmoid(x), [((3, 4), N)]),
    _c("sigmoid_big", lambda m, x: m.sigmoid(x), [((3, 4), "big")]),
    _c("tanh", lambda m, x: m.tanh(x), [((3, 4), N)]),
    _c("clip_by_value", lambda m, x: m.clip_by_value(x, -1.0, 1.5), [((4, 5), "clip")],
       exact=True),
    _c("cast", lambda m, x: m.cast(x, "float64") * 1.0, [((3, 4), N)]),
    # --- activations ---
    _c("relu", lambda m, x: m.nn.relu(x), [((4, 5), "zeros_in")], exact=True),
    _c("relu6", lambda m, x: m.nn.relu6(x), [((4, 5), "relu6")], exact=True),
    _c("elu", lambda m, x: m.nn.elu(x), [((4, 5), "zeros_in")]),
    _c("selu", lambda m, x: m.nn.selu(x), [((4, 5), N)]),
    _c("selu_at_zero", lambda m, x: m.nn.selu(x), [((4, 5), "zeros_in")]),
    _c("leaky_relu", lambda m, x: m.nn.leaky_relu(x), [((4, 5), "zeros_in")], exact=True),
    _c("leaky_relu_alpha", lambda m, x: m.nn.leaky_relu(x, alpha=0.01), [((4, 5), N)],
       exact=True),
    _c("softplus", lambda m, x: m.nn.softplus(x), [((3, 4), N)]),
    _c("softplus_big", lambda m, x: m.nn.softplus(x), [((3, 4), "big")]),
    _c("softsign", lambda m, x: m.nn.softsign(x), [((3, 4), N)]),
    _c("silu", lambda m, x: m.nn.silu(x), [((3, 4), N)]),
    _c("gelu", lambda m, x: m.nn.gelu(x), [((3, 4), N)]),
    _c("gelu_tanh", lambda m, x: m.nn.gelu(x, approximate=True), [((3, 4), N)]),
    _c("softmax", lambda m, x: m.nn.softmax(x), [((3, 5), N)]),
    _c("softmax_axis0", lambda m, x: m.nn.softmax(x, axis=0), [((3, 5), N)]),
    _c("softmax_big", lambda m, x: m.nn.softmax(x), [((3, 5), "big")]),
    _c("log_softmax", lambda m, x: m.nn.log_softmax(x), [((3, 5), N)]),
    _c("log_softmax_axis0", lambda m, x: m.nn.log_softmax(x, axis=0), [((3, 5), N)]),
    _c("bias_add", lambda m, x, b: m.nn.bias_add(x, b), [((3, 4), N), ((4,), N)]),
    _c("bias_add_3d", lambda m, x, b: m.nn.bias_add(x, b), [((2, 3, 4), N), ((4,), N)]),
    # --- losses ---
    _c("sigmoid_ce", lambda m, z, x: m.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
       [((4, 3), "u01"), ((4, 3), N)]),
    _c("sigmoid_ce_big", lambda m, z, x: m.nn.sigmoid_cross_entropy_with_logits(
        labels=z, logits=x), [((4, 3), "u01"), ((4, 3), "big")]),
    _c("softmax_ce", lambda m, z, x: m.nn.softmax_cross_entropy_with_logits(labels=z, logits=x),
       [((4, 5), "probs"), ((4, 5), N)]),
    _c("softmax_ce_unnormalized", lambda m, z, x: m.nn.softmax_cross_entropy_with_logits(
        labels=z, logits=x), [((4, 5), "u01"), ((4, 5), N)]),
    _c("softmax_ce_big", lambda m, z, x: m.nn.softmax_cross_entropy_with_logits(
        labels=z, logits=x), [((4, 5), "probs"), ((4, 5), "big")]),
    _c("sparse_softmax_ce", lambda m, z, x: m.nn.sparse_softmax_cross_entropy_with_logits(
        labels=z, logits=x), [((6,), "idx:5"), ((6, 5), N)]),
    _c("sparse_softmax_ce_big", lambda m, z, x: m.nn.sparse_softmax_cross_entropy_with_logits(
        labels=z, logits=x), [((6,), "idx:5"), ((6, 5), "big")]),
    _c("log_poisson_loss", lambda m, z, c: m.nn.log_poisson_loss(z, c),
       [((3, 4), "targets"), ((3, 4), N)]),
    _c("log_poisson_loss_full", lambda m, z, c: m.nn.log_poisson_loss(
        z, c, compute_full_loss=True), [((3, 4), "targets"), ((3, 4), N)]),
    _c("l2_loss", lambda m, x: m.nn.l2_loss(x), [((3, 4), N)]),
    # --- normalization ---
    _c("moments_mean", lambda m, x: m.nn.moments(x, [0])[0], [((5, 3), N)]),
    _c("moments_variance", lambda m, x: m.nn.moments(x, [0])[1], [((5, 3), N)]),
    _c("moments_keepdims", lambda m, x: m.nn.moments(x, [0, 1], keepdims=True)[1],
       [((2, 3, 4), N)]),
    _c("batch_normalization", lambda m, x, mu, var, off, sc: m.nn.batch_normalization(
        x, mu, var, off, sc, 1e-3), [((5, 3), N), ((3,), N), ((3,), "pos"), ((3,), N),
                                     ((3,), N)]),
    # --- 0-d inputs (NumPy 1.x promotes a 0-d float32 array with a Python scalar to float64) ---
    _c("relu_0d", lambda m, x: m.nn.relu(x), [((), N)], exact=True),
    _c("relu6_0d", lambda m, x: m.nn.relu6(x), [((), N)], exact=True),
    _c("elu_0d", lambda m, x: m.nn.elu(x), [((), N)]),
    _c("leaky_relu_0d", lambda m, x: m.nn.leaky_relu(x), [((), N)]),
    _c("softsign_0d", lambda m, x: m.nn.softsign(x), [((), N)]),
    _c("silu_0d", lambda m, x: m.nn.silu(x), [((), N)]),
    _c("gelu_tanh_0d", lambda m, x: m.nn.gelu(x, approximate=True), [((), N)]),
    _c("rsqrt_0d", lambda m, x: m.math.rsqrt(x), [((), "pos")]),
    _c("sigmoid_0d", lambda m, x: m.sigmoid(x), [((), N)]),
    _c("softplus_0d", lambda m, x: m.nn.softplus(x), [((), N)]),
    _c("sigmoid_ce_0d", lambda m, z, x: m.nn.sigmoid_cross_entropy_with_logits(
        labels=z, logits=x), [((), "u01"), ((), N)]),
    _c("multiply_0d", lambda m, x, y: x * y * 2.0, [((), N), ((), N)]),
    _c("reduce_sum_0d", lambda m, x: m.reduce_sum(x), [((), N)], exact=True),
    # --- shape and indexing ---
    _c("concat_axis0", lambda m, x, y: m.concat([x, y], 0), [((2, 3), N), ((4, 3), N)],
       exact=True),
    _c("concat_axis1", lambda m, x, y, z: m.concat([x, y, z], axis=1),
       [((2, 3), N), ((2, 1), N), ((2, 2), N)], exact=True),
    _c("concat_neg_axis", lambda m, x, y: m.concat([x, y], -1), [((2, 2, 3), N), ((2, 2, 1), N)],
       exact=True),
    _c("stack", lambda m, x, y: m.stack([x, y], axis=1), [((3, 2), N), ((3, 2), N)],
       exact=True),
    _c("reshape", lambda m, x: m.reshape(x, [4, -1]), [((2, 3, 2), N)], exact=True),
    _c("transpose", lambda m, x: m.transpose(x), [((3, 4), N)], exact=True),
    _c("transpose_perm", lambda m, x: m.transpose(x, perm=[1, 2, 0]), [((2, 3, 4), N)],
       exact=True),
    _c("expand_dims", lambda m, x: m.expand_dims(x, 1), [((3, 4), N)], exact=True),
    _c("expand_dims_neg", lambda m, x: m.expand_dims(x, -1), [((3, 4), N)], exact=True),
    _c("squeeze", lambda m, x: m.squeeze(x), [((3, 1, 4, 1), N)], exact=True),
    _c("squeeze_axis", lambda m, x: m.squeeze(x, axis=[1]), [((3, 1, 4, 1), N)], exact=True),
    _c("tile", lambda m, x: m.tile(x, [2, 3]), [((2, 3), N)]),
    _c("tile_3d", lambda m, x: m.tile(x, [1, 2, 2]), [((2, 1, 3), N)]),
    _c("broadcast_to", lambda m, x: m.broadcast_to(x, [2, 3, 4]), [((3, 1), N)]),
    _c("gather", lambda m, p, i: m.gather(p, i), [((5, 3), N), ((7,), "idx:5")], exact=True),
    _c("gather_2d_indices", lambda m, p, i: m.gather(p, i), [((5, 3), N), ((2, 3), "idx:5")],
       exact=True),
    _c("gather_axis1", lambda m, p, i: m.gather(p, i, axis=1), [((3, 4, 2), N), ((5,), "idx:4")],
       exact=True),
    _c("where", lambda m, c, x, y: m.where(c, x, y), [((3, 4), "bool"), ((3, 4), N), ((3, 4), N)],
       exact=True),
    _c("where_bcast", lambda m, c, x, y: m.where(c, x, y),
       [((3, 4), "bool"), ((3, 1), N), ((4,), N)]),
    _c("getitem_slice", lambda m, x: x[1:, ::2], [((4, 5), N)], exact=True),
    _c("getitem_index", lambda m, x: x[..., 1], [((3, 4, 2), N)], exact=True),
    _c("identity", lambda m, x: m.identity(x), [((3, 4), N)], exact=True),
    _c("stop_gradient", lambda m, x, y: m.stop_gradient(x) * y, [((3, 4), N), ((3, 4), N)],
       exact=True),
]

assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"
BY_NAME = {c.name: c for c in CASES}


# --- fixture packing ---------------------------------------------------------------------------
# Thousands of small arrays cost ~250 bytes each of zip and .npy headers in an npz, so the
# fixture stores one flat buffer per dtype and an index: key -> (dtype, offset, shape).
_MAX_NDIM = 6


def pack(entries):
    """{key: ndarray} -> arrays for np.savez_compressed."""
    dtypes, bufs, sizes, keys, meta = [], {}, {}, [], []
    for key, a in entries.items():
        a = np.asarray(a)
        assert a.ndim <= _MAX_NDIM, (key, a.shape)
        dt = a.dtype.name
        if dt not in bufs:
            dtypes.append(dt)
            bufs[dt], sizes[dt] = [], 0
        keys.append(key)
        meta.append([dtypes.index(dt), sizes[dt], a.ndim] + list(a.shape)
                    + [0] * (_MAX_NDIM - a.ndim))
        bufs[dt].append(a.reshape(-1))
        sizes[dt] += a.size
    out = {"keys": np.array(keys), "meta": np.array(meta, np.int64), "dtypes": np.array(dtypes)}
    for dt in dtypes:
        out[f"buf_{dt}"] = np.concatenate(bufs[dt])
    return out


def unpack(npz):
    """The {key: ndarray} that `pack` stored (arrays are read-only views)."""
    dtypes = [str(d) for d in npz["dtypes"]]
    bufs = {dt: npz[f"buf_{dt}"] for dt in dtypes}
    out = {}
    for key, (d, off, ndim, *dims) in zip(npz["keys"], npz["meta"].tolist()):
        shape = tuple(dims[:ndim])
        size = int(np.prod(shape, dtype=np.int64))
        out[str(key)] = bufs[dtypes[d]][off:off + size].reshape(shape)
    return out
