"""String hashing as TensorFlow does it: `fingerprint64` (``tf.fingerprint``),
`to_hash_bucket_fast` (``tf.strings.to_hash_bucket_fast``) and
`fingerprint_cat64` (how crosses chain hashes), vectorised over arrays.

Strings are hashed as their UTF-8 bytes. The kernels are in
`minitf.kernels.farmhash`.
"""

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
