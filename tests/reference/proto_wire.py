"""Hand-written protobuf wire encoding of tf.train.Example pieces, shared by the
TF fixture generator and our tests (independent of widedeep's encoder, so it
can build what an encoder would not: unknown fields, repeated keys, padded
varints).

    example(entry("age", ld(2, ld(1, float32 bytes))), ...)

`pad` adds that many redundant continuation bytes to a length (a valid but
non-minimal varint).
"""


def varint(v, pad=0):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80 or pad:
        if v < 0x80:
            pad -= 1
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def ld(field, payload, pad=0):
    """A length-delimited field."""
    return varint(field << 3 | 2) + varint(len(payload), pad) + payload


def entry(key, feature, pad=0):
    """One Features.feature map entry: key (str or bytes) -> a Feature message."""
    k = key.encode() if isinstance(key, str) else key
    return ld(1, ld(1, k, pad) + ld(2, feature, pad), pad)


def example(*entries, extra=b"", pad=0):
    """An Example of one Features message holding `entries`, after `extra` bytes."""
    return extra + ld(1, b"".join(entries), pad)
