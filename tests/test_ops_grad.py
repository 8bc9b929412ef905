"""Every differentiable dense op: analytic gradient == central difference (float64)."""

import numpy as np
import pytest
from gradcheck import check_grads
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minitf as tf


def away_from(x, kinks, gap=1e-2):
    """Moves values off the points where an op is not differentiable."""
    for k in kinks:
        x = np.where(np.abs(x - k) < gap, k + 2 * gap * np.sign(x - k + 1e-12), x)
    return x


def values(shape, lo=-3.0, hi=3.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False))


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)

UNARY = {
    "negative": (tf.negative, None, []),
    "square": (tf.square, None, []),
    "sqrt": (tf.sqrt, (0.1, 4.0), []),
    "rsqrt": (tf.math.rsqrt, (0.1, 4.0), []),
    "exp": (tf.exp, None, []),
    "log": (tf.math.log, (0.1, 4.0), []),
    "log1p": (tf.math.log1p, (-0.9, 4.0), []),
    "abs": (tf.abs, None, [0.0]),
    "sigmoid": (tf.sigmoid, None, []),
    "tanh": (tf.tanh, None, []),
    "relu": (tf.nn.relu, None, [0.0]),
    "relu6": (tf.nn.relu6, (-2.0, 8.0), [0.0, 6.0]),
    "elu": (tf.nn.elu, None, [0.0]),
    "selu": (tf.nn.selu, None, [0.0]),
    "leaky_relu": (tf.nn.leaky_relu, None, [0.0]),
    "gelu": (tf.nn.gelu, None, []),
    "gelu_tanh": (lambda x: tf.nn.gelu(x, approximate=True), None, []),
    "softplus": (tf.nn.softplus, (-30.0, 30.0), []),
    "softsign": (tf.nn.softsign, None, [0.0]),
    "silu": (tf.nn.silu, None, []),
    "l2_loss": (tf.nn.l2_loss, None, []),
    "clip_by_value": (lambda x: tf.clip_by_value(x, -1.0, 1.5), None, [-1.0, 1.5]),
    "identity": (tf.identity, None, []),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_gradients(name, data):
    fn, bounds, kinks = UNARY[name]
    x = data.draw(values(data.draw(shapes), *(bounds or (-3.0, 3.0))))
    check_grads(fn, [away_from(x, kinks)])


BINARY = {
    "add": (tf.add, None), "subtract": (tf.subtract, None), "multiply": (tf.multiply, None),
    "divide": (tf.divide, "y_nonzero"), "maximum": (tf.maximum, "no_ties"),
    "minimum": (tf.minimum, "no_ties"), "squared_difference": (tf.math.squared_difference, None),
    "pow": (tf.pow, "x_positive"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_gradients_with_broadcasting(name, data):
    fn, rule = BINARY[name]
    (sx, sy), _ = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                              max_side=3))
    x, y = data.draw(values(sx)), data.draw(values(sy))
    if rule == "y_nonzero":
        y = away_from(y, [0.0], 0.3)
    if rule == "x_positive":
        x = np.abs(x) + 0.2
    if rule == "no_ties":  # the gradient jumps where x == y
        xb, yb = np.broadcast_arrays(x, y)
        assume(np.all(np.abs(xb - yb) > 1e-3))
    check_grads(fn, [x, y], rtol=1e-4, atol=1e-6)


@given(data=st.data())
def test_matmul_gradients_with_transpose_flags(data):
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    ta, tb = data.draw(st.booleans()), data.draw(st.booleans())
    a = data.draw(values((k, m) if ta else (m, k)))
    b = data.draw(values((n, k) if tb else (k, n)))
    check_grads(lambda a, b: tf.matmul(a, b, transpose_a=ta, transpose_b=tb), [a, b])


@pytest.mark.parametrize("reduce", [tf.reduce_sum, tf.reduce_mean, tf.reduce_max])
@given(data=st.data())
def test_reduction_gradients(reduce, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(values(shape))
    if reduce is tf.reduce_max:  # distinct values: no ties
        x = x + np.arange(x.size).reshape(shape) * 1e-1
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1)
                     | st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    keepdims = data.draw(st.booleans())
    check_grads(lambda x: reduce(x, axis=axis, keepdims=keepdims), [x])


def test_reduce_max_splits_gradient_between_ties_like_tf():
    x = tf.Variable(np.array([1.0, 3.0, 3.0]))
    with tf.GradientTape() as t:
        y = tf.reduce_max(x)
    np.testing.assert_array_equal(t.gradient(y, x).numpy(), [0.0, 0.5, 0.5])


@given(data=st.data())
def test_shape_op_gradients(data):
    x = data.draw(values((2, 3, 2)))
    check_grads(lambda x: tf.reshape(x, [3, 4]), [x])
    check_grads(lambda x: tf.expand_dims(x, 1), [x])
    check_grads(lambda x: tf.squeeze(tf.expand_dims(x, 0), [0]), [x])
    perm = data.draw(st.permutations([0, 1, 2]))
    check_grads(lambda x: tf.transpose(x, perm), [x])
    check_grads(lambda x: tf.tile(x, [2, 1, 3]), [x])
    check_grads(lambda x: tf.broadcast_to(x[:, :1, :], [2, 3, 2]), [x])
    check_grads(lambda x: x[1:, ::2, -1], [x])
    check_grads(lambda x: x[[0, 0, 1]], [x])  # a repeated fancy index adds up


@given(data=st.data())
def test_concat_stack_where_gradients(data):
    a, b = data.draw(values((2, 3))), data.draw(values((2, 1)))
    check_grads(lambda a, b: tf.concat([a, b], axis=1), [a, b])
    c = data.draw(values((2, 3)))
    axis = data.draw(st.integers(-3, 2))
    check_grads(lambda a, c: tf.stack([a, c], axis=axis), [a, c])
    cond = data.draw(hnp.arrays(np.bool_, (2, 3)))
    check_grads(lambda a, c: tf.where(cond, a, c), [a, c])


@given(data=st.data())
def test_gather_gradient_is_indexed_slices_with_duplicates(data):
    rows = data.draw(st.integers(1, 6))
    params = data.draw(values((rows, 3)))
    idx = np.array(data.draw(st.lists(st.integers(0, rows - 1), min_size=0, max_size=8)),
                   dtype=np.int64)
    check_grads(lambda p: tf.gather(p, idx), [params])
    check_grads(lambda p: tf.gather(p, idx.reshape(-1, 1) if idx.size else idx, axis=0),
                [params])
    col_idx = np.array([2, 0, 2])
    check_grads(lambda p: tf.gather(p, col_idx, axis=1), [params])
    v = tf.Variable(params.astype(np.float32))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(v, idx))
    g = tape.gradient(y, v)
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(g.indices, idx)
    assert g.dense_shape == (rows, 3) and g.values.dtype == np.float32


@given(data=st.data())
def test_nn_op_gradients(data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    logits = data.draw(values((n, c), -5, 5))
    axis = data.draw(st.sampled_from([-1, 0]))
    check_grads(lambda x: tf.nn.softmax(x, axis=axis), [logits])
    check_grads(lambda x: tf.nn.log_softmax(x, axis=axis), [logits])
    bias = data.draw(values((c,)))
    check_grads(tf.nn.bias_add, [logits, bias])
    z = data.draw(values((n, c), 0, 1))
    check_grads(lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
                [z, logits])
    # TF's softmax CE logits gradient (softmax - labels) is the derivative when
    # each row of labels sums to one, which is how the heads call it.
    p = np.exp(data.draw(values((n, c))))
    p = p / p.sum(axis=1, keepdims=True)
    check_grads(lambda p, x: tf.nn.softmax_cross_entropy_with_logits(labels=p, logits=x),
                [p, logits])
    ids = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    check_grads(lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=x),
                [logits])
    targets = away_from(data.draw(values((n,), 0, 4)), [1.0], 0.05)
    log_in = data.draw(values((n,), -2, 2))
    for full in (False, True):
        check_grads(lambda t, c_, full=full: tf.nn.log_poisson_loss(t, c_, compute_full_loss=full),
                    [targets, log_in])


def test_softmax_ce_logits_gradient_is_tf_kernel_formula_for_unnormalised_labels():
    # labels summing to 2: TF's kernel gives softmax - labels, not 2 softmax - labels.
    x = tf.Variable(np.array([[0.0, 1.0]]))
    with tf.GradientTape() as t:
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=np.array([[1.0, 1.0]]), logits=x)
    s = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    np.testing.assert_allclose(t.gradient(loss, x).numpy(), [s - 1.0])


def test_sparse_softmax_ce_rejects_out_of_range_label():
    with pytest.raises(ValueError, match=r"label value of 3 which is outside the valid range "
                                         r"of \[0, 3\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=np.array([0, 3]),
                                                       logits=np.zeros((2, 3), np.float32))


@given(data=st.data())
def test_moments_and_batch_normalization_gradients(data):
    x = data.draw(values((data.draw(st.integers(2, 5)), 3)))
    x = x + np.arange(x.size).reshape(x.shape) * 0.1  # non-zero variance
    check_grads(lambda x: tf.nn.moments(x, [0])[0], [x])
    check_grads(lambda x: tf.nn.moments(x, [0])[1], [x])
    gamma, beta = data.draw(values((3,), 0.5, 2)), data.draw(values((3,)))

    def bn(x, g, b):
        mean, var = tf.nn.moments(x, [0])
        return tf.nn.batch_normalization(x, mean, var, b, g, 1e-3)
    check_grads(bn, [x, gamma, beta], rtol=1e-4, atol=1e-6)


def test_batch_norm_moves_statistics_with_momentum():
    x = np.array([[1.0, 2.0], [3.0, 6.0]], np.float32)
    mm, mv = tf.Variable(np.zeros(2, np.float32)), tf.Variable(np.ones(2, np.float32))
    gamma, beta = tf.Variable(np.ones(2, np.float32)), tf.Variable(np.zeros(2, np.float32))
    out = tf.nn.batch_norm(x, gamma, beta, mm, mv, training=True)
    # batch mean [2, 4], biased variance [1, 4]; moving -= (moving - batch) * 0.001
    np.testing.assert_allclose(mm.numpy(), [0.002, 0.004], rtol=1e-6)
    np.testing.assert_allclose(mv.numpy(), [1.0, 1.003], rtol=1e-6)
    # (x - mean) / sqrt(var + eps) = [[-1, -2], [1, 2]] / sqrt([1, 4] + 0.001)
    np.testing.assert_allclose(out.numpy(), [[-1, -2], [1, 2]] / np.sqrt([1.001, 4.001]),
                               rtol=1e-5)
    infer = tf.nn.batch_norm(x, gamma, beta, mm, mv, training=False)
    np.testing.assert_allclose(infer.numpy(), (x - mm.numpy()) / np.sqrt(mv.numpy() + 1e-3),
                               rtol=1e-5)


def test_dropout_is_inverted_and_its_gradient_uses_the_same_mask():
    x = np.ones((200, 50))
    check_grads(lambda x: tf.nn.dropout(x, 0.3, rng=np.random.default_rng(7)), [x[:3, :4]])
    y = tf.nn.dropout(x, 0.25, rng=np.random.default_rng(1)).numpy()
    assert set(np.unique(y)) <= {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.02
    assert tf.nn.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match=r"rate must be a float in the range \[0, 1\), got 1"):
        tf.nn.dropout(x, 1)
