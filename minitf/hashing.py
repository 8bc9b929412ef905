"""String hashing as TensorFlow does it: `fingerprint64` (``tf.fingerprint``),
`to_hash_bucket_fast` (``tf.strings.to_hash_bucket_fast``),
`fingerprint_cat64` (how crosses chain hashes) and `cross_ids` (a whole
chain and its bucket), vectorised over arrays.

Strings are hashed as their UTF-8 bytes. The kernels are in
`minitf.kernels.farmhash`.
"""

import operator

import numpy as np

from minitf.kernels import farmhash as F


def encode_strings(values):
    """(buf uint8, offsets int64 [n + 1]) holding the UTF-8 bytes of each string
    of `values` (str / bytes / object / unicode array, any shape, flattened).

    A NumPy unicode array is encoded with one vectorised call; object arrays
    of Python strings go through one join.
    """
    a = np.asarray(values)
    flat = a.reshape(-1)
    if a.dtype.kind == "U":
        flat = np.char.encode(flat, "utf-8")
    elif a.dtype.kind == "O":  # Python strings: exact bytes, trailing NULs included
        parts = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in flat]
        lengths = np.fromiter(map(len, parts), np.int64, len(parts))
        offsets = np.zeros(len(parts) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return np.frombuffer(b"".join(parts), np.uint8).copy(), offsets
    elif a.dtype.kind != "S":
        raise TypeError(f"expected strings (str or bytes), got an array of dtype {a.dtype}")
    if len(flat) == 0:
        return np.zeros(0, np.uint8), np.zeros(1, np.int64)
    # Fixed-width bytes: each string ends at its last non-NUL byte (NumPy's fixed-
    # width strings cannot hold trailing NULs; pass an object array for those).
    lengths = np.char.str_len(flat).astype(np.int64)
    width = flat.dtype.itemsize
    raw = np.frombuffer(flat.tobytes(), np.uint8).reshape(len(flat), width)
    keep = np.arange(width)[None, :] < lengths[:, None]
    offsets = np.zeros(len(flat) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return np.ascontiguousarray(raw[keep]), offsets


def fingerprint64(values):
    """uint64 Fingerprint64 of each string, in the shape of `values`.

    A NumPy unicode array goes to a kernel that UTF-8-encodes its code points
    as it hashes (encoding in Python was the slow part); other strings are
    encoded first.
    """
    a = np.asarray(values)
    if a.dtype.kind == "U" and a.size:
        width = a.dtype.itemsize // 4
        codes = np.ascontiguousarray(a).reshape(-1).view(np.uint32).reshape(-1, width)
        ok, out = F.fingerprint64_ucs4(codes)
        if not ok:
            raise ValueError("fingerprint64: invalid code point in a unicode string")
        return out.reshape(a.shape)
    buf, offsets = encode_strings(a)
    return F.fingerprint64(buf, offsets).reshape(a.shape)


def to_hash_bucket_fast(values, num_buckets):
    """int64 ``Fingerprint64(s) % num_buckets`` of each string, in its shape."""
    if int(num_buckets) < 1:
        raise ValueError(f"to_hash_bucket_fast: num_buckets must be >= 1, got {num_buckets}")
    return (fingerprint64(values) % np.uint64(num_buckets)).astype(np.int64)


def fingerprint_cat64(a, b):
    """TF's FingerprintCat64 of uint64 arrays `a` and `b` (broadcast)."""
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype == np.uint64
            and a.ndim == b.ndim == 1 and len(a) == len(b)):  # a crossed column's chain
        return F.fingerprint_cat64(a, b)
    a, b = np.broadcast_arrays(np.asarray(a, np.uint64), np.asarray(b, np.uint64))
    shape = a.shape
    return F.fingerprint_cat64(np.ascontiguousarray(a).reshape(-1),
                               np.ascontiguousarray(b).reshape(-1)).reshape(shape)


_U64 = np.dtype(np.uint64)


def _int_in(what, value, lo, hi):
    """`value` as an int in [lo, hi], else a TypeError / ValueError naming `what`."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}") from None
    if not lo <= v <= hi:
        raise ValueError(f"{what} must be in [{lo}, {hi}], got {v}")
    return v


def _part_error(j, p, n):
    """Why parts[j] (`p`) is not a uint64 [n] array, as the exception to raise."""
    if not isinstance(p, np.ndarray) or p.dtype != _U64:
        got = p.dtype if isinstance(p, np.ndarray) else type(p).__name__
        return TypeError(f"cross_ids: parts[{j}] must be a uint64 array, got {got}")
    if p.ndim != 1:
        return ValueError(f"cross_ids: parts[{j}] must be 1-D, got shape {p.shape}")
    return ValueError(f"cross_ids: parts[{j}] has {len(p)} values, parts[0] has {n}")


def cross_ids(parts, hash_key, num_buckets):
    """int64 ids of a cross with one value per row and part, in one kernel call:
    for each row i, ``h = hash_key``, then ``h = FingerprintCat64(h, p[i])`` for
    each array p of `parts` in order, and ``id = h % num_buckets`` (TF's
    sparse_cross_hashed of one-value features). The same bits as chaining
    `fingerprint_cat64` and taking ``(h % np.uint64(num_buckets)).astype(np.int64)``.

    parts: a non-empty list or tuple of uint64 [n] arrays, the values' hashes
    (Fingerprint64 of strings, integers viewed as uint64). hash_key: an integer
    in [0, 2**64). num_buckets: an integer in [1, 2**63).
    """
    if not isinstance(parts, (list, tuple)):
        raise TypeError(f"cross_ids: parts must be a list or tuple of uint64 [n] arrays, "
                        f"got {type(parts).__name__}")
    if not parts:
        raise ValueError("cross_ids: parts is empty (a cross needs at least one array)")
    first = parts[0]
    n = len(first) if isinstance(first, np.ndarray) and first.ndim == 1 else -1
    for j, p in enumerate(parts):
        if not (isinstance(p, np.ndarray) and p.dtype == _U64 and p.ndim == 1 and len(p) == n):
            raise _part_error(j, p, n)
    key = _int_in("cross_ids: hash_key", hash_key, 0, 2**64 - 1)
    m = _int_in("cross_ids: num_buckets", num_buckets, 1, 2**63 - 1)
    # key as the int64 of its bits: the kernel keeps one signature.
    return F.cross_ids(np.array(parts), key - 2**64 if key >= 2**63 else key, m)
