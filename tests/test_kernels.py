"""Every Numba kernel equals its plain-NumPy twin, on drawn inputs and empty ones."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minitf.kernels import matmul as MM
from minitf.kernels import scatter as S
from minitf.kernels import segment as K

FLOATS = st.floats(-10, 10, width=32)


# --- the twins --------------------------------------------------------------------------
def twin_norms(rows, weights, n_rows, combiner):
    if combiner == "sum":
        return np.ones(n_rows)
    w = weights.astype(np.float64)
    s = np.bincount(rows, w if combiner == "mean" else w * w, minlength=n_rows)
    return s if combiner == "mean" else np.sqrt(s)


def twin_combine(params, rows, ids, weights, n_rows, combiner):
    out = np.zeros((n_rows, params.shape[1]), np.float64)
    np.add.at(out, rows, weights[:, None].astype(np.float64) * params[ids])
    norm = twin_norms(rows, weights, n_rows, combiner)
    return np.divide(out, norm[:, None], out=np.zeros_like(out), where=norm[:, None] != 0)


def twin_combine_grad(g, params, rows, ids, weights, combiner):
    """Differentiates out[r] = sum_k w_k p_k / norm(w) by the quotient rule."""
    n_rows = len(g)
    norm = twin_norms(rows, weights, n_rows, combiner)
    out = twin_combine(params, rows, ids, weights, n_rows, combiner)
    safe = np.where(norm == 0, 1.0, norm)[rows]
    live = (norm != 0)[rows]
    values = np.where(live[:, None], g[rows] * weights[:, None] / safe[:, None], 0.0)
    gp = np.einsum("kd,kd->k", g[rows], params[ids])
    g_out = np.einsum("rd,rd->r", g, out)[rows]
    if combiner == "sum":
        gw = gp
    elif combiner == "mean":
        gw = (gp - g_out) / safe
    else:
        gw = (gp - g_out * weights / safe) / safe
    return values, np.where(live, gw, 0.0)


def twin_dedup(ids, values):
    order, sums = [], {}
    for k, i in enumerate(ids.tolist()):
        if i not in sums:
            order.append(i)
            sums[i] = np.zeros(values.shape[1:], np.float64)
        sums[i] = sums[i] + values[k]
    summed = np.array([sums[i] for i in order]).reshape((len(order),) + values.shape[1:])
    return np.array(order, np.int64), summed


# --- strategies -------------------------------------------------------------------------
@st.composite
def entries(draw, allow_empty=True):
    """A batch of entries (rows, ids, weights) over a table `params`: duplicates,
    empty rows, zero and negative weights, unsorted rows, all drawn."""
    vocab = draw(st.integers(1, 12))
    d = draw(st.integers(1, 5))
    n_rows = draw(st.integers(1 if not allow_empty else 0, 8))
    n = draw(st.integers(0, 30)) if n_rows else 0
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    params = draw(hnp.arrays(dtype, (vocab, d), elements=FLOATS))
    rows = np.array(draw(st.lists(st.integers(0, max(n_rows - 1, 0)), min_size=n, max_size=n)),
                    np.int64)
    if draw(st.booleans()):
        rows = np.sort(rows)
    ids = np.array(draw(st.lists(st.integers(0, vocab - 1), min_size=n, max_size=n)), np.int64)
    weights = draw(hnp.arrays(dtype, n, elements=st.sampled_from([0.0, 1.0, -0.5]) | FLOATS))
    return params, rows, ids, weights, n_rows


COMBINERS = st.sampled_from(["sum", "mean", "sqrtn"])


def _tol(dtype):
    return dict(rtol=2e-4, atol=2e-3) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)


# --- segment ----------------------------------------------------------------------------
@given(entries(), COMBINERS)
def test_sparse_combine_equals_twin(e, combiner):
    params, rows, ids, weights, n_rows = e
    out = K.sparse_combine(params, rows, ids, weights, n_rows, combiner)
    assert out.dtype == params.dtype and out.shape == (n_rows, params.shape[1])
    # Weights may cancel to a tiny norm; compare where the norm is well away from 0.
    norm = twin_norms(rows, weights, n_rows, combiner)
    ok = np.abs(norm) > 1e-2
    np.testing.assert_allclose(
        out[ok], twin_combine(params, rows, ids, weights, n_rows, combiner)[ok],
        **_tol(params.dtype))
    assert not out[norm == 0].any()


@given(entries(allow_empty=False), COMBINERS, st.data())
def test_sparse_combine_grad_equals_twin(e, combiner, data):
    params, rows, ids, weights, n_rows = e
    g = data.draw(hnp.arrays(params.dtype, (n_rows, params.shape[1]), elements=FLOATS))
    values, gw = K.sparse_combine_grad(g, params, rows, ids, weights, combiner)
    tv, tgw = twin_combine_grad(g, params, rows, ids, weights, combiner)
    assert values.shape == (len(ids), params.shape[1]) and gw.shape == (len(ids),)
    ok = np.abs(twin_norms(rows, weights, n_rows, combiner))[rows] > 1e-1
    np.testing.assert_allclose(values[ok], tv[ok], **_tol(params.dtype))
    np.testing.assert_allclose(gw[ok], tgw[ok], rtol=1e-3 if params.dtype == np.float32
                               else 1e-8, atol=0.05 if params.dtype == np.float32 else 1e-8)


def test_sparse_combine_empty_and_zero_rows():
    params = np.arange(6, dtype=np.float32).reshape(3, 2)
    none = np.zeros(0, np.int64)
    out = K.sparse_combine(params, none, none, np.zeros(0, np.float32), 4, "mean")
    assert out.shape == (4, 2) and not out.any()
    assert K.sparse_combine(params, none, none, np.zeros(0, np.float32), 0, "sum").shape == (0, 2)
    v, gw = K.sparse_combine_grad(np.zeros((2, 2), np.float32), params, none, none,
                                  np.zeros(0, np.float32), "sqrtn")
    assert v.shape == (0, 2) and gw.shape == (0,)
    # Row 0: ids 2, 0 with weights 1, 3 -> mean = (1*[4,5] + 3*[0,1]) / 4 = [1, 2]
    out = K.sparse_combine(params, np.array([0, 0]), np.array([2, 0]),
                           np.array([1.0, 3.0], np.float32), 2, "mean")
    np.testing.assert_array_equal(out, [[1.0, 2.0], [0.0, 0.0]])


@given(entries(allow_empty=False), COMBINERS, st.data())
def test_sparse_combine_grad_without_weights_grad(e, combiner, data):
    """Constant weights: the same table gradient, and no weights' gradient."""
    params, rows, ids, weights, n_rows = e
    g = data.draw(hnp.arrays(params.dtype, (n_rows, params.shape[1]), elements=FLOATS))
    values, gw = K.sparse_combine_grad(g, params, rows, ids, weights, combiner, False)
    want, _ = K.sparse_combine_grad(g, params, rows, ids, weights, combiner)
    np.testing.assert_array_equal(values, want)
    assert gw.shape == (0,) and gw.dtype == params.dtype


def test_sparse_combine_rejects_bad_ids():
    params = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"ids must be in \[0, 3\)"):
        K.sparse_combine(params, np.array([0]), np.array([3]), np.ones(1, np.float32), 1, "sum")
    with pytest.raises(ValueError, match=r"rows must be in \[0, 1\)"):
        K.sparse_combine(params, np.array([1]), np.array([0]), np.ones(1, np.float32), 1, "sum")
    with pytest.raises(ValueError, match="one entry each"):
        K.sparse_combine(params, np.array([0]), np.array([0, 1]), np.ones(1), 1, "sum")
    g = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match=r"ids must be in \[0, 3\), got range \[-1, 2\]"):
        K.sparse_combine_grad(g, params, np.array([0, 1]), np.array([2, -1]),
                              np.ones(2, np.float32), "mean", False)
    with pytest.raises(ValueError, match=r"rows must be in \[0, 2\), got range \[0, 2\]"):
        K.sparse_combine_grad(g, params, np.array([0, 2]), np.array([0, 1]),
                              np.ones(2, np.float32), "sqrtn")


# --- scatter ----------------------------------------------------------------------------
@given(st.integers(1, 20), st.integers(0, 40), st.sampled_from([(), (3,), (2, 2)]), st.data())
def test_scatter_add_equals_np_add_at(vocab, n, trailing, data):
    table = data.draw(hnp.arrays(np.float64, (vocab,) + trailing, elements=FLOATS))
    ids = np.array(data.draw(st.lists(st.integers(0, vocab - 1), min_size=n, max_size=n)),
                   np.int64)
    values = data.draw(hnp.arrays(np.float64, (n,) + trailing, elements=FLOATS))
    want = table.copy()
    np.add.at(want, ids, values)
    got = S.scatter_add(table, ids, values)
    assert got is table
    np.testing.assert_allclose(table, want, rtol=1e-12, atol=1e-12)


def test_scatter_add_errors():
    table = np.zeros((3, 2))
    with pytest.raises(ValueError, match="values have shape"):
        S.scatter_add(table, np.array([0]), np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"ids must be in \[0, 3\)"):
        S.scatter_add(table, np.array([-1]), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="C-contiguous"):
        S.scatter_add(np.zeros((2, 3)).T, np.array([0]), np.zeros((1, 2)))


@given(st.lists(st.integers(-5, 50), max_size=40), st.booleans(), st.data())
def test_dedup_sum_equals_twin(ids, huge, data):
    # huge: ids spread over a 10^9-row table, which takes the hash-table path
    ids = np.array(ids, np.int64) * (10**7 + 1 if huge else 1)
    values = data.draw(hnp.arrays(np.float32, (len(ids), 2), elements=FLOATS))
    uniq, summed = S.dedup_sum(ids, values)
    want_ids, want = twin_dedup(ids, values)
    np.testing.assert_array_equal(uniq, want_ids)
    assert summed.dtype == np.float32
    np.testing.assert_allclose(summed, want.reshape(summed.shape), rtol=1e-5, atol=1e-4)


@given(st.lists(st.integers(0, 10**6), max_size=60))
def test_unique_slots_direct_and_hashed_paths_agree(ids):
    ids = np.array(ids, np.int64)
    a, na = S._first_slots_hashed(ids)
    b, nb = S.unique_slots(ids)
    assert na == nb == len(set(ids.tolist()))
    np.testing.assert_array_equal(a, b)
    if len(ids):
        c, nc = S._first_slots_direct(ids, int(ids.max()) + 1)
        np.testing.assert_array_equal(a, c)
        assert nc == na


def test_dedup_sum_empty_and_trailing_shape():
    uniq, summed = S.dedup_sum(np.zeros(0, np.int64), np.zeros((0, 2, 3), np.float32))
    assert uniq.shape == (0,) and summed.shape == (0, 2, 3)
    uniq, summed = S.dedup_sum(np.array([5, 1, 5]), np.ones((3, 2, 1)))
    np.testing.assert_array_equal(uniq, [5, 1])
    np.testing.assert_array_equal(summed[:, :, 0], [[2, 2], [1, 1]])


# --- matmul -----------------------------------------------------------------------------
@given(st.integers(0, 70), st.integers(0, 70), st.integers(0, 70), st.integers(1, 33),
       st.sampled_from([np.float32, np.float64]), st.data())
def test_tiled_matmul_equals_blas(m, k, n, tile, dtype, data):
    a = data.draw(hnp.arrays(dtype, (m, k), elements=FLOATS))
    b = data.draw(hnp.arrays(dtype, (k, n), elements=FLOATS))
    c = MM.matmul(a, b, tile)
    assert c.dtype == dtype and c.shape == (m, n)
    np.testing.assert_allclose(c, a @ b, **_tol(dtype))


def test_tiled_matmul_shape_error():
    with pytest.raises(ValueError, match=r"cannot multiply shapes \(2, 3\) and \(2, 3\)"):
        MM.matmul(np.zeros((2, 3)), np.zeros((2, 3)))


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
                .map(lambda s: s.rstrip("\x00")), max_size=20))
def test_fingerprint64_ucs4_hashes_python_encode(strings):
    """Hashing a NumPy unicode array's code points equals hashing str.encode's
    UTF-8 bytes (the kernel encodes as it hashes)."""
    from minitf.kernels import farmhash as F
    a = np.array(strings, dtype="U") if strings else np.zeros(0, "U1")
    width = max(a.dtype.itemsize // 4, 1)
    codes = np.ascontiguousarray(a).reshape(-1).view(np.uint32).reshape(-1, width)
    ok, got = F.fingerprint64_ucs4(codes)
    raw = [s.encode("utf-8") for s in a.tolist()]
    offsets = np.cumsum([0] + [len(r) for r in raw]).astype(np.int64)
    want = F.fingerprint64(np.frombuffer(b"".join(raw) + b"\0", np.uint8)[:offsets[-1]].copy(),
                           offsets)
    assert ok
    np.testing.assert_array_equal(got, want)


def test_fingerprint64_ucs4_rejects_code_points_beyond_unicode():
    from minitf.kernels import farmhash as F
    codes = np.array([[0x41, 0x110000]], np.uint32)
    assert not F.fingerprint64_ucs4(codes)[0]


@given(st.integers(0, 3).flatmap(lambda nd: st.tuples(
    st.lists(st.integers(0, 5), min_size=nd, max_size=nd),
    st.sampled_from([np.float32, np.float64]), st.integers(0, 2**31))))
def test_relu_grad_equals_numpy_where(case):
    """The branch-free ReLU gradient picks the same values as np.where, at
    x == 0, NaN and -0.0 included, for any shape (0-d too) and float dtype."""
    from minitf.kernels.activations import relu_grad
    shape, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([-1.5, -0.0, 0.0, 2.0, np.nan, 3e-40], dtype),
                   size=tuple(shape))
    g = np.asarray(rng.standard_normal(tuple(shape)) * rng.choice([1, -0.0], tuple(shape)),
                   dtype)
    got = relu_grad(x, g)
    want = np.where(x > 0, g, 0).astype(dtype)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got.reshape(-1).view(np.uint8),  # bits: -0.0 too
                                  want.reshape(-1).view(np.uint8))
