"""FarmHash Fingerprint64 (farmhashna's Hash64) and TF's FingerprintCat64, in Numba.

Fingerprint64 is the hash behind ``tf.fingerprint`` and
``tf.strings.to_hash_bucket_fast``; FingerprintCat64 is how TF's sparse_cross
chains the hashes of a crossed feature's values (`cross_ids` runs a whole
chain and takes its bucket). Strings arrive as one uint8 buffer plus offsets
(string i is ``buf[offsets[i]:offsets[i + 1]]``), so a whole array hashes in
one compiled loop.

All arithmetic is on uint64 and wraps modulo 2^64, as in C. Every constant and
shift amount is a np.uint64: Numba would otherwise mix in int64 and fall back
to float64.

Compile time (a cold Numba cache) is most of what these kernels cost a short
run, so the helpers are shaped for it:
- Every helper compiles once per argument types and is linked (and optimised
  again) into each kernel that calls it, so there are few of them. Those with
  many call sites (`_f64`, `_f32`, `_rot`, `_len16`) are compiled once and left
  to LLVM to inline: Numba's ``inline="always"`` copies and retypes a callee's
  IR at every call site (the ucs4 kernel took 3.7 s to compile with every
  helper so). `_hash_short` and the other helpers with one call site a kernel
  are inlined by Numba (as calls, long strings hashed 1.5x slower).
- Helpers get no wrappers for Python to call them by (``no_cpython_wrapper``,
  ``no_cfunc_wrapper``: ~25 ms of compiling each); kernels none for C callers.
- Numba compiles a callee once per argument type, and a Python int constant
  is typed as its own Literal[int]. So rotations take np.uint64 amounts, and a
  start `s` that may be the constant 0 (the ucs4 kernels pass it, so their
  hash compiles for s = 0, which LLVM folds: 1.5-2x faster) reaches `_f64`
  and `_f32` as ``s + 0``, an int64.
- Strings of up to 64 bytes, farmhash's branches without a loop, hash in a
  kernel of their own (`_ucs4_short`): a run of short strings (census data)
  never compiles the long-string loop, about 0.45 s of a cold compile.
- The kernels take their outputs allocated: an allocation inside a kernel
  compiles NumPy's allocator for its dtype (0.05-0.1 s each), but costs less
  per call than np.empty in Python (the ucs4 kernels' small scratch buffer).
"""

import numpy as np
from numba import njit

K0 = np.uint64(0xC3A5C85C97CB3127)
K1 = np.uint64(0xB492B66FBE98F273)
K2 = np.uint64(0x9AE16A3B2F90404F)
K_MUL = np.uint64(0xC6A4A7935BD1E995)  # FingerprintCat64's multiplier
U = np.uint64


# Helpers, called from kernels only (see the module docstring).
_HELPER = dict(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)


@njit(**_HELPER)
def _rot(v, s):
    """v rotated right by s (a np.uint64 in 1..63)."""
    return (v >> s) | (v << (U(64) - s))


@njit(cache=True, inline="always")
def _mix(v):  # ShiftMix
    return v ^ (v >> U(47))


@njit(**_HELPER)
def _f64(b, p):
    """The 8 bytes at b[p:] as a little-endian uint64."""
    r = U(0)
    for i in range(8):
        r |= U(b[p + i]) << U(8 * i)
    return r


@njit(**_HELPER)
def _f32(b, p):
    r = U(0)
    for i in range(4):
        r |= U(b[p + i]) << U(8 * i)
    return r


@njit(**_HELPER)
def _len16(u, v, mul):
    a = (u ^ v) * mul
    a ^= a >> U(47)
    b = (v ^ a) * mul
    b ^= b >> U(47)
    return b * mul


@njit(cache=True, inline="always")
def _hash_short(b, s, n):
    """farmhashna::Hash64 of b[s:s + n] for n <= 64."""
    mul = K2 + U(n) * U(2)
    if n > 16:  # HashLen17to32 and HashLen33to64, which begins as it does
        a = _f64(b, s + 0) * (K1 if n <= 32 else K2)
        c0 = _f64(b, s + 8)
        c = _f64(b, s + n - 8) * mul
        y = _rot(a + c0, U(43)) + _rot(c, U(30)) + _f64(b, s + n - 16) * K2
        z = _len16(y, a + _rot(c0 + K2, U(18)) + c, mul)
        if n <= 32:
            return z
        e = _f64(b, s + 16) * mul
        f = _f64(b, s + 24)
        g = (y + _f64(b, s + n - 32)) * mul
        h = (z + _f64(b, s + n - 24)) * mul
        return _len16(_rot(e + f, U(43)) + _rot(g, U(30)) + h,
                      e + _rot(f + a, U(18)) + g, mul)
    if n >= 8:
        a = _f64(b, s + 0) + K2
        c = _f64(b, s + n - 8)
        return _len16(_rot(c, U(37)) * mul + a, (_rot(a, U(25)) + c) * mul, mul)
    if n >= 4:
        return _len16(U(n) + (_f32(b, s + 0) << U(3)), _f32(b, s + n - 4), mul)
    if n > 0:
        y = (U(b[s]) + (U(b[s + (n >> 1)]) << U(8))) & U(0xFFFFFFFF)
        z = (U(n) + (U(b[s + n - 1]) << U(2))) & U(0xFFFFFFFF)
        return _mix(y * K2 ^ z * K0) * K2
    return K2


@njit(cache=True, inline="always")
def _weak32(b, p, a, c):
    """WeakHashLen32WithSeeds over the 32 bytes at b[p:] and seeds a, c.
    (Inlined by Numba: as a call, the long-string loop ran 30% slower.)"""
    w, x, y, z = _f64(b, p), _f64(b, p + 8), _f64(b, p + 16), _f64(b, p + 24)
    a += w
    c = _rot(c + a + z, U(21))
    t = a
    a += x
    a += y
    c += _rot(a, U(44))
    return a + z, c + t


@njit(**_HELPER)
def _hash64(b, s, n):
    """farmhashna::Hash64 of b[s:s + n]."""
    if n <= 64:
        return _hash_short(b, s, n)
    seed = U(81)
    x = seed
    y = seed * K1 + U(113)
    z = _mix(y * K2 + U(113)) * K2
    v0, v1, w0, w1 = U(0), U(0), U(0), U(0)
    x = x * K2 + _f64(b, s + 0)
    end = s + ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    # 64 bytes per round. The last round reads the last 64 bytes (overlapping
    # the one before) with other multipliers: farmhash writes it out after the
    # loop; one loop body for both halves the code to compile (x ^= w1 * 1 is
    # x ^= w1).
    p = s + 0
    mul, nine, last = K1, U(1), False
    while True:
        x = _rot(x + y + v0 + _f64(b, p + 8), U(37)) * mul
        y = _rot(y + v1 + _f64(b, p + 48), U(42)) * mul
        x ^= w1 * nine
        y += v0 * nine + _f64(b, p + 40)
        z = _rot(z + w0, U(33)) * mul
        v0, v1 = _weak32(b, p, v1 * mul, x + w0)
        w0, w1 = _weak32(b, p + 32, z + w1, y + _f64(b, p + 16))
        x, z = z, x
        if last:
            break
        p += 64
        if p == end:
            mul, nine, last = K1 + ((z & U(0xFF)) << U(1)), U(9), True
            p = last64
            w0 += U((n - 1) & 63)
            v0 += w0
            w0 += v0
    return _len16(_len16(v0, w0, mul) + _mix(y) * K0 + z, _len16(v1, w1, mul) + x, mul)


@njit(cache=True, no_cfunc_wrapper=True)
def _fingerprint64(buf, offsets, out):
    for i in range(len(out)):
        out[i] = _hash64(buf, offsets[i], offsets[i + 1] - offsets[i])


def fingerprint64(buf, offsets):
    """Fingerprint64 of each string ``buf[offsets[i]:offsets[i + 1]]`` (buf
    uint8, offsets int64)."""
    out = np.empty(len(offsets) - 1, np.uint64)
    _fingerprint64(buf, offsets, out)
    return out


@njit(cache=True, inline="always")
def _utf8_row(codes, i, buf):
    """Writes the UTF-8 bytes of row i of `codes` (NUL-padded code points) to
    buf; returns their count, or -1 for a code point beyond U+10FFFF."""
    end = codes.shape[1]
    while end > 0 and codes[i, end - 1] == 0:
        end -= 1
    m = 0
    for j in range(end):
        c = codes[i, j]
        if c < 0x80:
            buf[m] = c
            m += 1
        elif c < 0x800:
            buf[m] = 0xC0 | (c >> 6)
            buf[m + 1] = 0x80 | (c & 0x3F)
            m += 2
        elif c < 0x10000:
            buf[m] = 0xE0 | (c >> 12)
            buf[m + 1] = 0x80 | ((c >> 6) & 0x3F)
            buf[m + 2] = 0x80 | (c & 0x3F)
            m += 3
        elif c <= 0x10FFFF:
            buf[m] = 0xF0 | (c >> 18)
            buf[m + 1] = 0x80 | ((c >> 12) & 0x3F)
            buf[m + 2] = 0x80 | ((c >> 6) & 0x3F)
            buf[m + 3] = 0x80 | (c & 0x3F)
            m += 4
        else:
            return -1
    return m


# (The encoding buffer is allocated in the kernels: passed in, its np.empty
# cost 0.25 us a call, 5% of a census batch's; here its allocator compiles
# once, ~0.05 s.)
@njit(cache=True, no_cfunc_wrapper=True)
def _ucs4_short(codes, out):
    """Hashes rows while their UTF-8 is at most 64 bytes: returns the number of
    rows done (len(out) when all), or -1 for a code point beyond U+10FFFF."""
    buf = np.empty(4 * codes.shape[1] + 8, np.uint8)
    for i in range(len(out)):
        m = _utf8_row(codes, i, buf)
        if m < 0:
            return -1
        if m > 64:
            return i
        out[i] = _hash_short(buf, 0, m)
    return len(out)


@njit(cache=True, no_cfunc_wrapper=True)
def _ucs4_any(codes, out, start):
    """Hashes rows from `start` on; False for a code point beyond U+10FFFF."""
    buf = np.empty(4 * codes.shape[1] + 8, np.uint8)
    for i in range(start, len(out)):
        m = _utf8_row(codes, i, buf)
        if m < 0:
            return False
        out[i] = _hash64(buf, 0, m)
    return True


def fingerprint64_ucs4(codes):
    """(ok, Fingerprint64 of each row's UTF-8 bytes) of `codes` (uint32 [n,
    width]: a NumPy unicode array's code points, NUL-padded; a string ends at
    its last non-NUL). Each row is encoded into a small buffer and hashed, so a
    batch of strings hashes in one call with no byte array built (encoding in
    Python was the slow part). ok is False for a code point beyond U+10FFFF.

    Strings of up to 64 bytes (farmhash's branches without a loop) go to a
    kernel of their own, and the rest from the first longer one on to the
    general one: a short-string run never compiles the long-string loop."""
    out = np.empty(len(codes), np.uint64)
    done = _ucs4_short(codes, out)
    if done == len(out):
        return True, out
    return done >= 0 and _ucs4_any(codes, out, done), out


@njit(cache=True, inline="always")
def _cat(fp1, fp2):
    r = fp1 ^ K_MUL
    r ^= _mix(fp2 * K_MUL) * K_MUL
    r *= K_MUL
    r = _mix(r) * K_MUL
    return _mix(r)


@njit(cache=True, no_cfunc_wrapper=True)
def _fingerprint_cat64(a, b, out):
    for i in range(len(out)):
        out[i] = _cat(a[i], b[i])


def fingerprint_cat64(a, b):
    """TF's FingerprintCat64(a[i], b[i]) for each i (uint64 arrays)."""
    out = np.empty(len(a), np.uint64)
    _fingerprint_cat64(a, b, out)
    return out


# (NumPy's error model: no zero-division check on `%`, whose raise costs compile
# time; callers pass num_buckets >= 1.)
@njit(cache=True, error_model="numpy", no_cfunc_wrapper=True)
def _cross_ids(parts, key, num_buckets, out):
    m = U(num_buckets)
    for i in range(out.shape[0]):
        h = U(key)
        for j in range(parts.shape[0]):
            h = _cat(h, parts[j, i])
        out[i] = h % m


def cross_ids(parts, key, num_buckets):
    """int64 ``h % num_buckets`` for each column i of `parts` (uint64 [k, n]),
    where ``h = key`` then ``h = FingerprintCat64(h, parts[j, i])`` for j = 0..k-1:
    a crossed feature's hash chain, one row per column, in one call.

    One [k, n] array rather than k arrays, so one compiled signature serves
    every k. key and num_buckets are Python ints in the int64 range (key's bits
    are taken as uint64; num_buckets >= 1): an int is typed as int64 and
    dispatches faster than a np.uint64.
    """
    out = np.empty(parts.shape[1], np.int64)
    _cross_ids(parts, key, num_buckets, out)
    return out
