"""Sparse ops: equal to TF 2.15 (fixtures and live) and to numerical gradients."""

import os

import numpy as np
import pytest
from gradcheck import check_grads
from hypothesis import given
from hypothesis import strategies as st

import minitf as tf
from minitf.ops import sparse as sp_ops

FIXTURE = os.path.join(os.path.dirname(__file__), "reference", "fixtures", "sparse_ops.npz")


@st.composite
def sparse_batches(draw, max_batch=6, max_ids=4, vocab=7, negative=False):
    """(indices [N, 2], ids [N], dense_shape): duplicates and empty rows included."""
    batch = draw(st.integers(1, max_batch))
    indices, ids = [], []
    for r in range(batch):
        for j in range(draw(st.integers(0, max_ids))):
            indices.append((r, j))
            ids.append(draw(st.integers(-1 if negative else 0, vocab - 1)))
    return (np.array(indices, np.int64).reshape(-1, 2), np.array(ids, np.int64),
            np.array([batch, max_ids], np.int64))


# --- TF fixtures ----------------------------------------------------------------------------
def _fixture():
    return np.load(FIXTURE, allow_pickle=False)


def _lookup_cases():
    f = _fixture()
    return [str(n) for n in f["names"] if str(n).startswith(("els_", "safe_"))]


@pytest.mark.parametrize("name", _lookup_cases())
def test_embedding_lookups_equal_tf_fixture(name):
    f = _fixture()
    g = {k.split("/", 1)[1]: f[k] for k in f.files if k.startswith(name + "/")}
    kind = "safe_embedding_lookup_sparse" if name.startswith("safe_") else "embedding_lookup_sparse"
    combiner = name.split("_")[1]
    attrs = {"combiner": combiner}
    if name.startswith("safe_"):
        default = name.rsplit("_", 1)[1]
        attrs["default_id"] = None if default == "None" else int(default)
    if name == "els_maxnorm":
        attrs = {"combiner": "mean", "max_norm": 0.8}
    table = tf.Variable(g["table"])
    sp_ids = tf.SparseTensor(g["indices"], g["ids"], g["dense_shape"])
    sp_w = tf.SparseTensor(g["indices"], g["weights"], g["dense_shape"]) if "weights" in g else None
    with tf.GradientTape() as tape:
        out = getattr(tf.nn, kind)(table, sp_ids, sp_w, **attrs)
        loss = tf.reduce_sum(out * g["upstream"])
    np.testing.assert_allclose(out.numpy(), g["out"], rtol=1e-6, atol=1e-6)
    assert out.dtype == np.float32
    grad = tape.gradient(loss, table)
    assert isinstance(grad, tf.IndexedSlices)
    # Same distinct ids, in the same (first-appearance) order, as TF's IndexedSlices.
    np.testing.assert_array_equal(grad.indices, g["grad_table_indices"])
    np.testing.assert_allclose(grad.values, g["grad_table_values"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("adj", ["00", "01", "10", "11"])
def test_sparse_dense_matmul_equals_tf_fixture(adj):
    f = _fixture()
    name = f"spmm_{adj}"
    b = tf.Variable(f[f"{name}/b"])
    values = tf.Variable(f[f"{name}/values"])
    with tf.GradientTape() as tape:
        a = tf.SparseTensor(f[f"{name}/indices"], f[f"{name}/values"], [4, 5])
        # values as a watched tensor: go through the primitive with the Variable.
        out = _spmm_with_values(a, values, b, adj[0] == "1", adj[1] == "1")
        loss = tf.reduce_sum(out * out)
    gb, gv = tape.gradient(loss, [b, values])
    np.testing.assert_allclose(out.numpy(), f[f"{name}/out"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb.numpy(), f[f"{name}/grad_b"], rtol=1e-5, atol=1e-5)
    gv = gv.to_dense() if isinstance(gv, tf.IndexedSlices) else gv.numpy()
    np.testing.assert_allclose(gv, f[f"{name}/grad_values"], rtol=1e-5, atol=1e-5)
    plain = tf.sparse.sparse_dense_matmul(a, f[f"{name}/b"], adjoint_a=adj[0] == "1",
                                          adjoint_b=adj[1] == "1")
    np.testing.assert_allclose(plain.numpy(), f[f"{name}/out"], rtol=1e-5, atol=1e-6)


def _spmm_with_values(a, values, b, adjoint_a, adjoint_b):
    """sparse_tensor_dense_matmul with A's values given as a (watched) tensor."""
    b = tf.transpose(b) if adjoint_b else b
    rows, cols = a.indices[:, 0], a.indices[:, 1]
    m = int(a.dense_shape[0])
    if adjoint_a:
        rows, cols, m = cols, rows, int(a.dense_shape[1])
    order = np.argsort(rows, kind="stable")
    return sp_ops._sparse_combine(b, tf.gather(values, order), rows=rows[order],
                                  ids=cols[order], n_rows=m, combiner="sum", dense_grad=True)


@pytest.mark.parametrize("op", ["segment_sum", "segment_mean"])
def test_segment_ops_equal_tf_fixture(op):
    f = _fixture()
    data = tf.Variable(f[f"{op}/data"])
    with tf.GradientTape() as tape:
        out = getattr(tf.math, op)(data, f[f"{op}/ids"])
        loss = tf.reduce_sum(out * out)
    np.testing.assert_allclose(out.numpy(), f[f"{op}/out"], rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, data).numpy(), f[f"{op}/grad"], rtol=1e-6)


# --- numerical gradients -----------------------------------------------------------------------
@given(batch=sparse_batches(), combiner=st.sampled_from(["sum", "mean", "sqrtn"]),
       data=st.data())
def test_sparse_combine_gradients(batch, combiner, data):
    indices, ids, shape = batch
    rows = indices[:, 0]
    table = np.random.default_rng(len(ids)).normal(size=(7, 3))
    w = np.array(data.draw(st.lists(st.floats(0.2, 2.0), min_size=len(ids), max_size=len(ids))))
    n_rows = int(shape[0])

    def f(t, w):
        return sp_ops._sparse_combine(t, w, rows=rows, ids=ids, n_rows=n_rows, combiner=combiner)
    check_grads(f, [table, w], rtol=1e-5, atol=1e-7)


@given(batch=sparse_batches(negative=True), combiner=st.sampled_from(["sum", "mean", "sqrtn"]),
       default_id=st.sampled_from([None, 3]), weighted=st.booleans())
def test_lookup_gradients_wrt_table(batch, combiner, default_id, weighted):
    indices, ids, shape = batch
    rng = np.random.default_rng(len(ids))
    table = rng.normal(size=(7, 3))
    sp_ids = tf.SparseTensor(indices, ids, shape)
    sp_w = (tf.SparseTensor(indices, rng.uniform(-0.5, 2.0, len(ids)), shape)
            if weighted else None)
    check_grads(lambda t: tf.nn.safe_embedding_lookup_sparse(
        t, sp_ids, sp_w, combiner=combiner, default_id=default_id), [table])
    valid = ids >= 0
    if valid.all() and ids.size:
        w = rng.uniform(0.2, 2.0, len(ids))
        sp_w = tf.SparseTensor(indices, w, shape) if weighted else None
        check_grads(lambda t: tf.nn.embedding_lookup_sparse(t, sp_ids, sp_w, combiner=combiner),
                    [table])
        check_grads(lambda t: tf.nn.embedding_lookup_sparse(t, sp_ids, sp_w, combiner=combiner,
                                                            max_norm=0.7), [table])


@given(data=st.data())
def test_segment_and_spmm_gradients(data):
    n = data.draw(st.integers(1, 6))
    seg = np.sort(np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))))
    x = np.random.default_rng(n).normal(size=(n, 2))
    for op in (tf.math.segment_sum, tf.math.segment_mean):
        check_grads(lambda d, op=op: op(d, seg), [x])
    idx = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n)))
    for op in (tf.sparse.segment_sum, tf.sparse.segment_mean, tf.sparse.segment_sqrt_n):
        check_grads(lambda d, op=op: op(d, idx, seg), [x])
    useg = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    check_grads(lambda d: tf.math.unsorted_segment_sum(d, useg, num_segments=4), [x])
    b = np.random.default_rng(0).normal(size=(5, 2))
    a = tf.SparseTensor([[0, 1], [0, 4], [2, 1]], [1.5, -2.0, 0.5], [3, 5])
    check_grads(lambda b: tf.sparse.sparse_dense_matmul(a, b), [b])


# --- semantics and errors -----------------------------------------------------------------------
def test_safe_lookup_worked_example_from_tf_docs():
    # ids / weights as in TF's docstring; combiner mean, default_id 0.
    params = np.arange(40, dtype=np.float32).reshape(10, 4)
    ids = tf.SparseTensor([[0, 0], [0, 1], [1, 0], [2, 3]], [1, 3, -1, 1], [3, 4])
    w = tf.SparseTensor([[0, 0], [0, 1], [1, 0], [2, 3]], [2.0, 0.5, 1.0, 3.0], [3, 4])
    out = tf.nn.safe_embedding_lookup_sparse(params, ids, w, default_id=0).numpy()
    np.testing.assert_allclose(out[0], (params[1] * 2.0 + params[3] * 0.5) / 2.5)
    np.testing.assert_allclose(out[1], params[0])  # -1 pruned, row filled with default_id 0
    np.testing.assert_allclose(out[2], params[1])
    no_default = tf.nn.safe_embedding_lookup_sparse(params, ids, w).numpy()
    np.testing.assert_array_equal(no_default[1], np.zeros(4))


def test_lookup_stops_at_last_non_empty_row_and_rank3_ids():
    params = np.eye(4, dtype=np.float32)
    ids = tf.SparseTensor([[0, 0], [1, 0]], [2, 3], [4, 2])
    assert tf.nn.embedding_lookup_sparse(params, ids, None).shape == (2, 4)
    assert tf.nn.safe_embedding_lookup_sparse(params, ids, None).shape == (4, 4)
    ids3 = tf.SparseTensor([[0, 1, 0], [1, 0, 1]], [1, 2], [2, 2, 2])
    out = tf.nn.safe_embedding_lookup_sparse(params, ids3, None).numpy()
    assert out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out[0, 1], params[1])
    np.testing.assert_array_equal(out[1, 0], params[2])
    np.testing.assert_array_equal(out[0, 0], 0)


def test_sparse_op_errors_name_the_problem():
    params = np.zeros((5, 2), np.float32)
    ids = tf.SparseTensor([[0, 0]], [7], [1, 1])
    with pytest.raises(ValueError, match=r"embedding_lookup_sparse: id 7 \(entry 0\) is not in "
                                         r"\[0, 5\)"):
        tf.nn.embedding_lookup_sparse(params, ids, None)
    with pytest.raises(ValueError, match="combiner must be one of 'mean', 'sqrtn' or 'sum', "
                                         "got 'max'"):
        tf.nn.embedding_lookup_sparse(params, tf.SparseTensor([[0, 0]], [1], [1, 1]), None,
                                      combiner="max")
    with pytest.raises(ValueError, match="segment_ids must be non-negative and sorted"):
        tf.math.segment_sum(params, [1, 0, 0, 0, 0])
    with pytest.raises(TypeError, match="sp_ids must be a SparseTensor, got ndarray"):
        tf.nn.embedding_lookup_sparse(params, np.zeros((1, 1), np.int64), None)
    with pytest.raises(ValueError, match="inner dimensions differ"):
        tf.sparse.sparse_dense_matmul(tf.SparseTensor([[0, 0]], [1.0], [1, 3]), params)


# --- live TensorFlow ------------------------------------------------------------------------------
@pytest.mark.tf
@given(batch=sparse_batches(negative=True), combiner=st.sampled_from(["sum", "mean", "sqrtn"]),
       default_id=st.sampled_from([None, 0, 5]), weighted=st.booleans(), seed=st.integers(0, 99))
def test_safe_lookup_equals_live_tf(batch, combiner, default_id, weighted, seed):
    import tensorflow as real_tf
    indices, ids, shape = batch
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(7, 3)).astype(np.float32)
    w = rng.uniform(-0.5, 2.0, len(ids)).astype(np.float32) if weighted else None
    up = rng.uniform(0.5, 1.5, (int(shape[0]), 3)).astype(np.float32)

    tv = real_tf.Variable(table)
    with real_tf.GradientTape() as tape:
        want = real_tf.nn.safe_embedding_lookup_sparse(
            tv, real_tf.SparseTensor(indices, ids, shape),
            None if w is None else real_tf.SparseTensor(indices, w, shape),
            combiner=combiner, default_id=default_id)
        loss = real_tf.reduce_sum(want * up)
    want_g = tape.gradient(loss, tv)

    mv = tf.Variable(table)
    with tf.GradientTape() as tape:
        got = tf.nn.safe_embedding_lookup_sparse(
            mv, tf.SparseTensor(indices, ids, shape),
            None if w is None else tf.SparseTensor(indices, w, shape),
            combiner=combiner, default_id=default_id)
        loss = tf.reduce_sum(got * up)
    got_g = tape.gradient(loss, mv)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got_g.indices, want_g.indices.numpy())
    np.testing.assert_allclose(got_g.values, want_g.values.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.tf
@given(batch=sparse_batches(), combiner=st.sampled_from(["sum", "mean", "sqrtn"]),
       weighted=st.booleans(), seed=st.integers(0, 99))
def test_embedding_lookup_sparse_equals_live_tf(batch, combiner, weighted, seed):
    import tensorflow as real_tf
    indices, ids, shape = batch
    if not ids.size:
        return
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(7, 3)).astype(np.float32)
    w = rng.uniform(0.1, 2.0, len(ids)).astype(np.float32) if weighted else None
    want = real_tf.nn.embedding_lookup_sparse(
        table, real_tf.SparseTensor(indices, ids, shape),
        None if w is None else real_tf.SparseTensor(indices, w, shape), combiner=combiner)
    got = tf.nn.embedding_lookup_sparse(
        table, tf.SparseTensor(indices, ids, shape),
        None if w is None else tf.SparseTensor(indices, w, shape), combiner=combiner)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.tf
@given(seed=st.integers(0, 999), adjoint_a=st.booleans(), adjoint_b=st.booleans(),
       m=st.integers(1, 5), k=st.integers(1, 5), n=st.integers(1, 4))
def test_sparse_dense_matmul_equals_live_tf(seed, adjoint_a, adjoint_b, m, k, n):
    import tensorflow as real_tf
    rng = np.random.default_rng(seed)
    dense_a = rng.normal(size=(m, k)) * (rng.random((m, k)) < 0.4)
    a = tf.SparseTensor.from_dense(dense_a.astype(np.float32))
    b_shape = (k if not adjoint_a else m, n)
    b = rng.normal(size=b_shape[::-1] if adjoint_b else b_shape).astype(np.float32)
    want = real_tf.sparse.sparse_dense_matmul(
        real_tf.sparse.from_dense(dense_a.astype(np.float32)), b,
        adjoint_a=adjoint_a, adjoint_b=adjoint_b)
    got = tf.sparse.sparse_dense_matmul(a, b, adjoint_a=adjoint_a, adjoint_b=adjoint_b)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


@given(st.data())
def test_rows_add_n_equals_gathers_and_adds(data):
    """rows_add_n(parts, bias) is add_n(gather(table, ids) or dense part) + bias:
    the same values (same order of additions) and the same gradients."""
    from minitf.ops.sparse import rows_add_n
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    batch, units = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 3))
    kinds = data.draw(st.lists(st.booleans(), min_size=1, max_size=5))
    parts, composed, sources = [], [], []
    for is_table in kinds:
        if is_table:
            table = tf.Variable(rng.normal(size=(7, units)).astype(np.float32))
            ids = rng.integers(0, 7, batch)
            parts.append((table, ids))
            composed.append(lambda t=table, i=ids: tf.gather(t, i))
            sources.append(table)
        else:
            x = tf.Variable(rng.normal(size=(batch, units)).astype(np.float32))
            parts.append(x)
            composed.append(lambda x=x: tf.identity(x))
            sources.append(x)
    bias = tf.Variable(rng.normal(size=(units,)).astype(np.float32))
    upstream = rng.normal(size=(batch, units)).astype(np.float32)
    with tf.GradientTape(persistent=True) as tape:
        fused = rows_add_n(parts, bias)
        plain = tf.add_n([f() for f in composed]) + bias
        lf = tf.reduce_sum(fused * upstream)
        lp = tf.reduce_sum(plain * upstream)
    np.testing.assert_array_equal(fused.numpy(), plain.numpy())
    for a, b in zip(tape.gradient(lf, sources + [bias]), tape.gradient(lp, sources + [bias])):
        a = a.to_dense() if hasattr(a, "to_dense") else np.asarray(a)
        b = b.to_dense() if hasattr(b, "to_dense") else np.asarray(b)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)
