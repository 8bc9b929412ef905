"""FarmHash Fingerprint64 / FingerprintCat64: the Numba kernels equal a plain
Python twin on drawn bytes, and TF 2.15 on a fixture and live."""

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitf import hashing
from minitf.sparse import SparseTensor
from widedeep.feature_column.columns import cross_hashed

FIXTURE = os.path.join(os.path.dirname(__file__), "reference", "fixtures", "hash.npz")
M = (1 << 64) - 1
K0, K1, K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


# --- the twin: farmhashna::Hash64 with Python ints ---------------------------------------
def rot(v, s):
    return ((v >> s) | (v << (64 - s))) & M


def mix(v):
    return v ^ (v >> 47)


def f64(b, p):
    return int.from_bytes(b[p:p + 8], "little")


def f32(b, p):
    return int.from_bytes(b[p:p + 4], "little")


def len16(u, v, mul):
    a = ((u ^ v) * mul) & M
    a ^= a >> 47
    b = ((v ^ a) * mul) & M
    b ^= b >> 47
    return (b * mul) & M


def weak32(b, p, a, c):
    w, x, y, z = f64(b, p), f64(b, p + 8), f64(b, p + 16), f64(b, p + 24)
    a = (a + w) & M
    c = rot((c + a + z) & M, 21)
    t = a
    a = (a + x + y) & M
    c = (c + rot(a, 44)) & M
    return (a + z) & M, (c + t) & M


def twin_fingerprint64(b):
    n = len(b)
    if n <= 16:
        if n >= 8:
            mul = (K2 + n * 2) & M
            a = (f64(b, 0) + K2) & M
            c = f64(b, n - 8)
            return len16((rot(c, 37) * mul + a) & M, ((rot(a, 25) + c) * mul) & M, mul)
        if n >= 4:
            return len16(n + (f32(b, 0) << 3), f32(b, n - 4), K2 + n * 2)
        if n:
            y = b[0] + (b[n >> 1] << 8)
            z = n + (b[n - 1] << 2)
            return (mix(((y * K2) ^ (z * K0)) & M) * K2) & M
        return K2
    mul = K2 + n * 2
    if n <= 32:
        a, c0 = (f64(b, 0) * K1) & M, f64(b, 8)
        c, d = (f64(b, n - 8) * mul) & M, (f64(b, n - 16) * K2) & M
        return len16((rot((a + c0) & M, 43) + rot(c, 30) + d) & M,
                     (a + rot((c0 + K2) & M, 18) + c) & M, mul)
    if n <= 64:
        a, c0 = (f64(b, 0) * K2) & M, f64(b, 8)
        c, d = (f64(b, n - 8) * mul) & M, (f64(b, n - 16) * K2) & M
        y = (rot((a + c0) & M, 43) + rot(c, 30) + d) & M
        z = len16(y, (a + rot((c0 + K2) & M, 18) + c) & M, mul)
        e, f = (f64(b, 16) * mul) & M, f64(b, 24)
        g, h = ((y + f64(b, n - 32)) * mul) & M, ((z + f64(b, n - 24)) * mul) & M
        return len16((rot((e + f) & M, 43) + rot(g, 30) + h) & M,
                     (e + rot((f + a) & M, 18) + g) & M, mul)
    x, y = 81, (81 * K1 + 113) & M
    z = (mix((y * K2 + 113) & M) * K2) & M
    v0 = v1 = w0 = w1 = 0
    x = (x * K2 + f64(b, 0)) & M
    end = ((n - 1) // 64) * 64
    p = 0
    while True:
        x = (rot((x + y + v0 + f64(b, p + 8)) & M, 37) * K1) & M
        y = (rot((y + v1 + f64(b, p + 48)) & M, 42) * K1) & M
        x ^= w1
        y = (y + v0 + f64(b, p + 40)) & M
        z = (rot((z + w0) & M, 33) * K1) & M
        v0, v1 = weak32(b, p, (v1 * K1) & M, (x + w0) & M)
        w0, w1 = weak32(b, p + 32, (z + w1) & M, (y + f64(b, p + 16)) & M)
        x, z = z, x
        p += 64
        if p == end:
            break
    mul = (K1 + ((z & 0xFF) << 1)) & M
    p = n - 64
    w0 = (w0 + ((n - 1) & 63)) & M
    v0 = (v0 + w0) & M
    w0 = (w0 + v0) & M
    x = (rot((x + y + v0 + f64(b, p + 8)) & M, 37) * mul) & M
    y = (rot((y + v1 + f64(b, p + 48)) & M, 42) * mul) & M
    x ^= (w1 * 9) & M
    y = (y + v0 * 9 + f64(b, p + 40)) & M
    z = (rot((z + w0) & M, 33) * mul) & M
    v0, v1 = weak32(b, p, (v1 * mul) & M, (x + w0) & M)
    w0, w1 = weak32(b, p + 32, (z + w1) & M, (y + f64(b, p + 16)) & M)
    x, z = z, x
    return len16((len16(v0, w0, mul) + mix(y) * K0 + z) & M,
                 (len16(v1, w1, mul) + x) & M, mul)


def twin_cat64(a, b):
    k = 0xC6A4A7935BD1E995
    r = a ^ k
    r ^= (mix((b * k) & M) * k) & M
    r = (r * k) & M
    r = (mix(r) * k) & M
    return mix(r)


# --- kernels == twin ---------------------------------------------------------------------
@given(st.lists(st.binary(max_size=300), max_size=8))
def test_fingerprint64_equals_twin_on_bytes(values):
    got = hashing.fingerprint64(np.array(values, dtype=object))
    assert got.dtype == np.uint64 and got.shape == (len(values),)
    assert [int(g) for g in got] == [twin_fingerprint64(v) for v in values]


def test_fingerprint64_equals_twin_at_every_length():
    """Every length 0..300 (each branch, one to four 64-byte rounds and every
    size of the last partial round), as bytes and as a unicode array with
    2-, 3- and 4-byte UTF-8 characters."""
    raw = bytes((i * 151 + 7) % 256 for i in range(300))
    values = [raw[:n] for n in range(301)]
    got = hashing.fingerprint64(np.array(values, dtype=object))
    assert [int(g) for g in got] == [twin_fingerprint64(v) for v in values]
    text = "".join("aé€😀"[i % 4] for i in range(100))
    words = np.array([text[:n] for n in range(101)])
    want = [twin_fingerprint64(str(w).encode("utf-8")) for w in words]
    assert [int(g) for g in hashing.fingerprint64(words)] == want


@given(st.lists(st.text(max_size=80), min_size=1, max_size=8))
def test_fingerprint64_of_text_is_of_its_utf8(values):
    # NumPy unicode arrays cannot hold trailing NULs; compare what the array holds.
    arr = np.array(values, dtype=str)
    want = [twin_fingerprint64(str(s).encode("utf-8")) for s in arr]
    assert [int(g) for g in hashing.fingerprint64(arr)] == want
    assert [int(g) for g in hashing.fingerprint64(arr.astype(object))] == want


@given(st.lists(st.tuples(st.integers(0, M), st.integers(0, M)), max_size=10))
def test_fingerprint_cat64_equals_twin(pairs):
    a = np.array([p[0] for p in pairs], np.uint64)
    b = np.array([p[1] for p in pairs], np.uint64)
    assert [int(x) for x in hashing.fingerprint_cat64(a, b)] == [twin_cat64(*p) for p in pairs]


def test_shapes_empty_and_known_values():
    assert hashing.fingerprint64(np.zeros(0, str)).shape == (0,)
    assert hashing.fingerprint64(np.array([["a", "b"], ["", "c"]])).shape == (2, 2)
    # TF: tf.strings.to_hash_bucket_fast(["hello", "world", ""], 1000) -> [296, 598, 263]
    np.testing.assert_array_equal(
        hashing.to_hash_bucket_fast(["hello", "world", ""], 1000), [296, 598, 263])
    np.testing.assert_array_equal(
        hashing.to_hash_bucket_fast(np.array([b"hello", b"world", b""]), 1000), [296, 598, 263])
    with pytest.raises(TypeError, match="expected strings"):
        hashing.fingerprint64(np.array([1, 2]))
    with pytest.raises(ValueError, match="num_buckets must be >= 1"):
        hashing.to_hash_bucket_fast(["a"], 0)


# --- TF fixture ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fixture():
    return np.load(FIXTURE, allow_pickle=False)


def _strings(f):
    buf, off = f["buf"].tobytes(), f["offsets"]
    return np.array([buf[off[i]:off[i + 1]] for i in range(len(off) - 1)], dtype=object)


def test_fingerprint64_equals_tf_on_2000_strings(fixture):
    strs = _strings(fixture)
    assert len(strs) >= 1000 and max(len(s) for s in strs) >= 290
    np.testing.assert_array_equal(hashing.fingerprint64(strs), fixture["fingerprint64"])
    for b in fixture["buckets"]:
        np.testing.assert_array_equal(hashing.to_hash_bucket_fast(strs, int(b)),
                                      fixture[f"bucket_{b}"])


def test_cross_hashed_equals_tf(fixture):
    strs = _strings(fixture)
    batch = len(fixture["cross_ints"])
    sp = SparseTensor(fixture["cross_indices"], strs[fixture["cross_value_ids"]], [batch, 2])
    dense = strs[fixture["cross_dense_ids"]]
    for k, (nb, key) in enumerate(zip(fixture["cross_buckets"], fixture["cross_keys"])):
        # TF's num_buckets=0 means "no buckets": the hash modulo int64 max.
        out = cross_hashed([sp, fixture["cross_ints"], dense], int(nb) or 2**63 - 1, int(key))
        np.testing.assert_array_equal(out.indices, fixture[f"cross{k}_indices"])
        np.testing.assert_array_equal(out.values, fixture[f"cross{k}_values"])


# --- live ------------------------------------------------------------------------------------
@pytest.mark.tf
@given(st.lists(st.text(max_size=120) | st.binary(max_size=200), min_size=1, max_size=30),
       st.integers(1, 2**40))
def test_live_fingerprint_and_buckets_equal_tf(values, buckets):
    import tensorflow as tf
    enc = [v.encode("utf-8") if isinstance(v, str) else v for v in values]
    fp = np.frombuffer(tf.fingerprint(tf.constant(enc)).numpy().tobytes(), "<u8")
    np.testing.assert_array_equal(hashing.fingerprint64(np.array(enc, dtype=object)), fp)
    np.testing.assert_array_equal(hashing.to_hash_bucket_fast(np.array(enc, dtype=object),
                                                              buckets),
                                  tf.strings.to_hash_bucket_fast(enc, buckets).numpy())


def test_repeated_strings_hash_as_each_one_alone():
    """The distinct-values path (a batch repeating few strings) equals hashing
    each string alone, for unicode and object arrays and 2-D shapes."""
    from minitf.hashing import fingerprint64
    words = ["", "a", "héllo", "Exec-managerial", "x" * 300]
    batch = np.array([words[i % 5] for i in range(64)]).reshape(8, 8)
    want = np.array([fingerprint64(np.array([w]))[0] for w in batch.ravel()]).reshape(8, 8)
    np.testing.assert_array_equal(fingerprint64(batch), want)
    np.testing.assert_array_equal(fingerprint64(batch.astype(object)), want)
    mixed = np.array([w.encode() if i % 2 else w for i, w in enumerate(batch.ravel())],
                     dtype=object)
    np.testing.assert_array_equal(fingerprint64(mixed), want.ravel())
