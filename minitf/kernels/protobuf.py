"""A batch of serialized `tf.train.Example`s scanned in one call, for serving.

`one_value_scan` reads the canonical encoding (one Features message, each key
once, one list per Feature, packed numbers, one value per wanted list) of every
example in a concatenated buffer, with exactly the checks of the pure-Python
`widedeep.export.example_proto._scan` / `_one_value`, and says where each wanted
feature's value lies; it gives up (False) wherever they give None. Varints may
be padded (non-minimal) as there, up to 10 bytes; a size beyond the example's
end gives up. A feature the model does not read is checked as `_scan` checks it:
its key valid UTF-8 (Python's strict decoder: no overlongs, no surrogates, no
code point past U+10FFFF) and not repeated.
"""

import numpy as np
from numba import njit

_BAD = -1


@njit(cache=True, no_cfunc_wrapper=True)
def _varint(buf, p, n):
    """(value as uint64, next position, status) of the varint at buf[p], reading
    no further than buf[n - 1]: status 0 ok, 1 runs past n or longer than 10
    bytes, 2 a value above 2**64 - 1 (a 10th byte above 1)."""
    result = np.uint64(0)
    shift = 0
    while True:
        if p >= n:
            return result, p, 1
        x = buf[p]
        p += 1
        if shift == 63:
            if x >= 0x80:
                return result, p, 1
            if x > 1:
                return result, p, 2
        result |= np.uint64(x & 0x7F) << np.uint64(shift)
        if x < 0x80:
            return result, p, 0
        shift += 7


@njit(cache=True, no_cfunc_wrapper=True)
def _size(buf, p, n):
    """(size, next position) of the length varint at buf[p]; size _BAD when the
    varint is malformed or the size is more than n (then no message fits)."""
    if p < n:
        x = buf[p]
        if x < 0x80:  # the common one-byte size
            return np.int64(x), p + 1
    v, q, status = _varint(buf, p, n)
    if status != 0 or v > np.uint64(n):
        return _BAD, q
    return np.int64(v), q


@njit(cache=True, no_cfunc_wrapper=True)
def _utf8_ok(buf, s, e):
    """Whether buf[s:e] is valid UTF-8 as Python's strict decoder takes it."""
    p = s
    while p < e:
        c = buf[p]
        if c < 0x80:
            p += 1
            continue
        if 0xC2 <= c <= 0xDF:
            need, lo, hi = 1, 0x80, 0xBF
        elif c == 0xE0:
            need, lo, hi = 2, 0xA0, 0xBF
        elif 0xE1 <= c <= 0xEC or c == 0xEE or c == 0xEF:
            need, lo, hi = 2, 0x80, 0xBF
        elif c == 0xED:
            need, lo, hi = 2, 0x80, 0x9F
        elif c == 0xF0:
            need, lo, hi = 3, 0x90, 0xBF
        elif 0xF1 <= c <= 0xF3:
            need, lo, hi = 3, 0x80, 0xBF
        elif c == 0xF4:
            need, lo, hi = 3, 0x80, 0x8F
        else:
            return False
        if e - p - 1 < need:
            return False
        c1 = buf[p + 1]
        if c1 < lo or c1 > hi:
            return False
        for j in range(2, need + 1):
            cj = buf[p + j]
            if cj < 0x80 or cj > 0xBF:
                return False
        p += need + 1
    return True


@njit(cache=True, no_cfunc_wrapper=True)
def _same(buf, s, keys, ks, n):
    for j in range(n):
        if buf[s + j] != keys[ks + j]:
            return False
    return True


@njit(cache=True, no_cfunc_wrapper=True)
def one_value_scan(buf, offs, keys, key_offs, tags, required, pos, val, seen, unk_s, unk_n):
    """Scans the examples buf[offs[i]:offs[i + 1]] (i < len(offs) - 1) for the
    wanted keys keys[key_offs[k]:key_offs[k + 1]] (UTF-8, distinct), each wanted
    as the Feature list whose tag byte is tags[k] (0x0A bytes, 0x12 float, 0x1A
    int64) holding exactly one value.

    Fills, for example i and key k: pos[k, i] = where the value starts in buf (-1
    when the key is missing or its Feature has no list); for bytes, val[k, i] = its
    length; for a float, its 4 bytes as a little-endian uint32; for an int64, its
    64 bits. `seen` (len(tags)), `unk_s` and `unk_n` (as many as the most map
    entries an example can hold) are scratch.

    Returns True, or False where the pure-Python scan gives None: an example not
    canonically encoded, a repeated key, a key that is not UTF-8, a wanted list
    of the wrong kind or not of one value, or a missing key with required[k].
    """
    m, nk = len(offs) - 1, len(tags)
    for i in range(m):
        b0, n = offs[i], offs[i + 1]
        for k in range(nk):
            pos[k, i] = -1
            seen[k] = 0
        if n - b0 < 2 or buf[b0] != 0x0A:  # one Features message fills the example
            return False
        size, p = _size(buf, b0 + 1, n)
        if size < 0 or p + size != n:
            return False
        nunk = 0
        guess = 0
        # (the one-byte varints inline: a call returning a tuple per varint costs
        # ten times the rest of the scan)
        while p < n:
            if buf[p] != 0x0A or p + 1 >= n:  # Features.feature: a map entry
                return False
            size = np.int64(buf[p + 1])
            p += 2
            if size >= 0x80:
                size, p = _size(buf, p - 1, n)
            if size <= 0:  # (an empty entry has no key: the scan gives up)
                return False
            end = p + size
            if end > n or buf[p] != 0x0A or p + 1 >= n:  # its key
                return False
            klen = np.int64(buf[p + 1])
            q = p + 2
            if klen >= 0x80:
                klen, q = _size(buf, q - 1, n)
                if klen < 0:
                    return False
            ks = q
            q += klen
            if q >= end or buf[q] != 0x12 or q + 1 >= n:  # its value: a Feature
                return False
            flen = np.int64(buf[q + 1])
            q += 2
            if flen >= 0x80:
                flen, q = _size(buf, q - 1, n)
            if flen < 0 or q + flen != end:
                return False
            tag = 0
            s = end
            if flen > 0:  # one list message, up to the end of the entry
                tag = np.int64(buf[q])
                if (tag != 0x0A and tag != 0x12 and tag != 0x1A) or q + 1 >= n:
                    return False
                llen = np.int64(buf[q + 1])
                s = q + 2
                if llen >= 0x80:
                    llen, s = _size(buf, s - 1, n)
                if llen < 0 or s + llen != end:
                    return False
            # which wanted key: the next one in order first (canonical encodings
            # sort their keys, and the caller sorts the wanted ones)
            found = -1
            for t in range(nk):
                k = guess + t
                if k >= nk:
                    k -= nk
                k0 = key_offs[k]
                if key_offs[k + 1] - k0 == klen:
                    j = 0
                    while j < klen and buf[ks + j] == keys[k0 + j]:
                        j += 1
                    if j == klen:
                        found = k
                        break
            if found < 0:  # a feature the model does not read
                if not _utf8_ok(buf, ks, ks + klen):
                    return False
                for u in range(nunk):
                    if unk_n[u] == klen and _same(buf, ks, buf, unk_s[u], klen):
                        return False  # repeated
                unk_s[nunk] = ks
                unk_n[nunk] = klen
                nunk += 1
            else:
                k = found
                guess = k + 1
                if seen[k]:
                    return False  # repeated: the careful decoder merges
                seen[k] = 1
                if flen > 0:
                    if tag != tags[k]:
                        return False  # another kind
                    # the list message buf[s:end]: one value, field 1, packed
                    if end - s < 2 or buf[s] != 0x0A:
                        return False
                    size = np.int64(buf[s + 1])  # (s + 1 < end)
                    v0 = s + 2
                    if size >= 0x80:
                        size, v0 = _size(buf, v0 - 1, n)
                    if size < 0 or v0 + size != end:
                        return False
                    if tag == 0x0A:
                        val[k, i] = np.uint64(size)
                    elif tag == 0x12:
                        if size != 4:
                            return False
                        val[k, i] = (np.uint64(buf[v0]) | np.uint64(buf[v0 + 1]) << np.uint64(8)
                                     | np.uint64(buf[v0 + 2]) << np.uint64(16)
                                     | np.uint64(buf[v0 + 3]) << np.uint64(24))
                    else:
                        x, q, status = _varint(buf, v0, n)
                        if status != 0 or q != end:
                            return False
                        val[k, i] = x
                    pos[k, i] = v0
            p = end
        for k in range(nk):
            if pos[k, i] < 0 and required[k]:
                return False  # missing (or no list), and no default
    return True
