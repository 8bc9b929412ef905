"""Kernels reshaped for a short cold compile (fewer kernels, no nested kernel
calls, short strings apart from long ones) give the bits they gave before:
the places where the new shapes could differ."""

import numpy as np
import pytest

from minitf import hashing
from minitf.kernels import farmhash as F
from minitf.kernels import optimizers as K
from minitf.kernels import scatter as S


def _bits_equal(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


# --- the *_dup kernels: one shared kernel summing from zero, as dedup_sum ------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("power", [-0.5, -0.7])
def test_dup_kernels_sum_from_zero_signed_zeros_and_specials(dtype, power):
    """A lone -0.0 gradient is summed from +0.0 (so it is +0.0), which shows in
    the sign of linear / var when they are -0.0; inf and NaN pass through."""
    f = dtype
    ids = np.array([0, 1, 1, 2, 3, 3, 4, 5, 0])
    grad = np.array([[-0.0, 1.0], [-0.0, -0.0], [-0.0, 2.0], [np.inf, -0.0],
                     [np.nan, 1.0], [1.0, -1.0], [-0.0, -0.0], [3.0, np.nan],
                     [-0.0, 0.5]], f)
    w = np.array([[-0.0, 1.0], [2.0, -0.0], [1.0, 1.0], [-0.0, 0.5], [0.3, -0.0],
                  [-0.0, -0.0], [1.0, 1.0]], f)
    acc = np.full((7, 2), 0.1, f)
    lin = np.full((7, 2), -0.0, f)
    rows, summed = S.dedup_sum(ids, grad)
    assert np.signbit(summed[rows.tolist().index(4)]).tolist() == [False, False]
    h = [f(x) for x in (0.05, 0.0, 0.01, 0.0, power)]
    with np.errstate(all="ignore"):
        w2, acc2, lin2 = w.copy(), acc.copy(), lin.copy()
        assert K.sparse_ftrl_dup(w2, acc2, lin2, ids, grad, np.array(h, f))
        K.sparse_ftrl(w, acc, lin, rows, summed, *h)
        for a, b in ((w2, w), (acc2, acc), (lin2, lin)):
            _bits_equal(a, b)
        assert np.signbit(lin[4]).any() is np.False_  # -0.0 + +0.0, not -0.0
        eps = f(1e-7)
        assert K.sparse_adagrad_dup(w2, acc2, ids, grad, np.array([h[0], eps], f))
        K.sparse_adagrad(w, acc, rows, summed, h[0], eps)
    _bits_equal(w2, w)
    _bits_equal(acc2, acc)


def test_dup_kernels_leave_rows_not_named_alone_and_refuse_late_bad_ids():
    f = np.float32
    w, acc = np.ones((6, 1), f), np.full((6, 1), 0.1, f)
    assert K.sparse_adagrad_dup(w, acc, np.array([5, 0, 5]), np.ones((3, 1), f),
                                np.array([0.1, 1e-7], f))
    assert (w[1:5] == 1).all() and (w[[0, 5]] < 1).all()
    before = w.copy()
    # the bad id comes after good ones (some already summed): still nothing done
    assert not K.sparse_adagrad_dup(w, acc, np.array([1, 2, 1, 6]), np.ones((4, 1), f),
                                    np.array([0.1, 1e-7], f))
    _bits_equal(w, before)


# --- dedup_sum: one kernel for a small table, views of room for every id ------------------
@pytest.mark.parametrize("ids", [[3, 1, 3, 0, 1, 3], [7], [2, 2, 2], [0, 1, 2, 3]])
def test_dedup_sum_direct_path_equals_the_hashed_one(ids):
    ids = np.array(ids, np.int32)
    values = np.arange(len(ids) * 2, dtype=np.float32).reshape(-1, 2, 1) - 3
    uniq, summed = S.dedup_sum(ids, values)
    slot, n = S._first_slots_hashed(ids.astype(np.int64))
    want_ids = np.empty(n, np.int32)
    want = np.zeros((n, 2), np.float32)
    S._dedup_sum(ids, values.reshape(len(ids), -1), slot, want_ids, want)
    assert uniq.dtype == np.int32 and uniq.shape == (n,)
    np.testing.assert_array_equal(uniq, want_ids)
    assert summed.shape == (n, 2, 1) and summed.flags.c_contiguous
    _bits_equal(summed.reshape(n, 2), want)


# --- Fingerprint64 of unicode rows: short ones in a kernel of their own --------------------
def _bytes_path(words):
    return hashing.fingerprint64(np.array([w.encode("utf-8") for w in words], dtype=object))


@pytest.mark.parametrize("order", ["long first", "long last", "alternating"])
def test_ucs4_short_and_long_rows_in_any_order(order):
    """Rows of 63-66 UTF-8 bytes (farmhash's loop starts at 65), some of them
    under 64 code points, and rows after the first long one in either kernel."""
    short = ["", "a", "é" * 8, "x" * 17, "€" * 11, "y" * 63, "z" * 64, "😀" * 16]
    long = ["w" * 65, "é" * 33, "€" * 22, "😀" * 17, "v" * 66, "q" * 200]
    words = {"long first": long + short, "long last": short + long,
             "alternating": [w for pair in zip(short, long) for w in pair]}[order]
    ok, got = F.fingerprint64_ucs4(np.ascontiguousarray(np.array(words)).view(np.uint32)
                                   .reshape(len(words), -1))
    assert ok
    np.testing.assert_array_equal(got, _bytes_path(words))


@pytest.mark.parametrize("bad_row", [0, 2, 5])
def test_ucs4_rejects_a_code_point_beyond_unicode_in_either_kernel(bad_row):
    rows = [[0x61] * 3, [0x61] * 70, [0x62] * 5, [0x63] * 80, [0x64] * 2, [0x65] * 90]
    codes = np.zeros((len(rows), 90), np.uint32)
    for i, r in enumerate(rows):
        codes[i, :len(r)] = r
    codes[bad_row, 1] = 0x110000
    assert not F.fingerprint64_ucs4(codes)[0]
    codes[bad_row, 1] = 0x10FFFF
    ok, got = F.fingerprint64_ucs4(codes)
    assert ok
    words = ["".join(map(chr, r[r > 0])) for r in codes]
    np.testing.assert_array_equal(got, _bytes_path(words))
