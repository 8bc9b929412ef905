"""`one_value_rows` (one compiled scan over a batch) against the pure-Python
implementation it replaced, kept here as the reference: the same columns, value
types and None outcomes, on canonical, non-canonical and malformed Examples."""

import math
import os
import struct
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from widedeep.export.example_proto import _one_value, _scan, encode_example, one_value_rows

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "reference"))
from proto_wire import entry, example, ld, varint  # noqa: E402


def reference_rows(items, specs):
    """one_value_rows as it was: a Python `_scan` of each example."""
    cols = {k: [] for k in specs}
    for data in items:
        if type(data) is not bytes:
            return None
        feats = _scan(data)
        if feats is None:
            return None
        for key, (want, default) in specs.items():
            kind, s, e = feats.get(key, (None, 0, 0))
            if kind is None:
                if default is None:
                    return None
                cols[key].append(default)
                continue
            if kind != want:
                return None
            try:
                v = _one_value(data, kind, s, e)
            except (IndexError, ValueError):
                return None
            if v is None:
                return None
            cols[key].append(v)
    return cols


def _bits(v):
    return struct.pack("<d", v) if type(v) is float else v


def same(got, want):
    """Equal columns, value types and float bits (NaN payloads, -0.0)."""
    if got is None or want is None:
        return got is None and want is None
    if list(got) != list(want):
        return False
    for k in want:
        a, b = got[k], want[k]
        if type(a) is not list or len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if type(x) is not type(y) or _bits(x) != _bits(y):
                return False
    return True










def f32(*vals):
    return ld(2, ld(1, np.asarray(vals, "<f4").tobytes()))


def i64(*vals):
    return ld(3, ld(1, b"".join(varint(v) for v in vals)))


def byt(*vals):
    return ld(1, b"".join(ld(1, v) for v in vals))


SPECS = {"a": ("float", None), "s": ("bytes", None), "i": ("int64", None),
         "d": ("float", 2.5), "t": ("bytes", b"dflt"), "j": ("int64", 7)}
GOOD = {"a": [1.5], "s": [b"x"], "i": [-3]}

NAMES = st.sampled_from(["a", "s", "i", "d", "t", "j", "zz", "", "é", "k" * 130])
FLOATS = st.floats(width=32, allow_nan=True) | st.sampled_from(
    [-0.0, math.inf, -math.inf, 3.4e38])
INTS = st.integers(-(1 << 63), (1 << 63) - 1) | st.sampled_from(
    [0, -1, 127, 128, 1 << 62, -(1 << 63), (1 << 63) - 1])
BYTES = st.binary(max_size=140)
VALUES = (st.lists(FLOATS, min_size=0, max_size=2).map(lambda v: ("float", v))
          | st.lists(INTS, min_size=0, max_size=2).map(lambda v: ("int64", v))
          | st.lists(BYTES, min_size=0, max_size=2).map(lambda v: ("bytes", v))
          | st.just([]))
ONE = (FLOATS.map(lambda v: [v]) | INTS.map(lambda v: [v]) | BYTES.map(lambda v: [v]))


def _good_example(draw):
    feats = {"a": ("float", [draw(FLOATS)]), "s": ("bytes", [draw(BYTES)]),
             "i": ("int64", [draw(INTS)])}
    for k in draw(st.lists(st.sampled_from(["d", "t", "j"]), unique=True)):
        feats[k] = {"d": ("float", [draw(FLOATS)]), "t": ("bytes", [draw(BYTES)]),
                    "j": ("int64", [draw(INTS)])}[k]
    return feats


@st.composite
def batches(draw):
    """Mostly examples the fast path reads, some of anything encode_example writes."""
    out = []
    for _ in range(draw(st.integers(0, 6))):
        feats = _good_example(draw)
        if draw(st.integers(0, 3)) == 0:
            feats.update(draw(st.dictionaries(NAMES, VALUES | ONE, max_size=4)))
        out.append(encode_example(feats))
    return out


def test_reference_matches_on_known_cases():
    good = encode_example(GOOD)
    want = {"a": [1.5, 1.5], "s": [b"x", b"x"], "i": [-3, -3], "d": [2.5, 2.5],
            "t": [b"dflt", b"dflt"], "j": [7, 7]}
    got = one_value_rows([good, good], SPECS)
    assert same(got, want) and same(reference_rows([good, good], SPECS), want)
    assert one_value_rows([], SPECS) == {k: [] for k in SPECS}
    assert one_value_rows([good, bytearray(good)], SPECS) is None
    assert one_value_rows([good, good[:-1]], SPECS) is None


@settings(max_examples=300, deadline=None)
@given(batches())
def test_agrees_with_reference_on_encoded_batches(items):
    got, want = one_value_rows(items, SPECS), reference_rows(items, SPECS)
    assert same(got, want), (items, got, want)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.composite(_good_example)(), min_size=1, max_size=4), st.data())
def test_agrees_with_reference_on_mangled_bytes(feats, data):
    """Truncated, extended and byte-flipped versions of good examples."""
    items = [encode_example(f) for f in feats]
    i = data.draw(st.integers(0, len(items) - 1))
    b = bytearray(items[i])
    how = data.draw(st.sampled_from(["cut", "add", "flip", "none"]))
    if how == "cut":
        b = b[:data.draw(st.integers(0, len(b)))]
    elif how == "add":
        b += data.draw(st.binary(min_size=1, max_size=4))
    elif how == "flip":
        j = data.draw(st.integers(0, len(b) - 1))
        b[j] = data.draw(st.integers(0, 255))
    items[i] = bytes(b)
    got, want = one_value_rows(items, SPECS), reference_rows(items, SPECS)
    assert same(got, want), (items, got, want)
    if how == "none":
        assert got is not None


GOODF = {"a": f32(1.5), "s": byt(b"x"), "i": i64(-3)}


def _hand(**over):
    feats = dict(GOODF, **over)
    return example(*[entry(k, v) for k, v in sorted(feats.items())])


HAND = {
    "canonical": (_hand(), True),
    "padded lengths": (example(*[entry(k, v, pad=1) for k, v in sorted(GOODF.items())],
                               pad=2), True),
    "padded int": (_hand(i=ld(3, ld(1, varint(5, pad=3)))), True),
    "ten-byte int": (_hand(i=ld(3, ld(1, varint(-1)))), True),
    "int past 2**64": (_hand(i=ld(3, ld(1, b"\xff" * 9 + b"\x02"))), False),
    "int of 2**63 in 10 bytes": (_hand(i=ld(3, ld(1, b"\x80" * 9 + b"\x01"))), True),
    "eleven-byte int": (_hand(i=ld(3, ld(1, b"\x80" * 10 + b"\x00"))), False),
    "two ints": (_hand(i=i64(1, 2)), False),
    "two floats": (_hand(a=f32(1.0, 2.0)), False),
    "two bytes": (_hand(s=byt(b"x", b"y")), False),
    "empty float list": (_hand(a=ld(2, b"")), False),
    "empty packed ints": (_hand(i=ld(3, ld(1, b""))), False),
    "no list, no default": (_hand(a=b""), False),
    "no list, default": (_hand(d=b""), True),
    "wrong kind": (_hand(i=f32(1.0)), False),
    "wrong kind of default key": (_hand(d=i64(1)), False),
    "unpacked int": (_hand(i=ld(3, b"\x08\x05")), False),
    "unpacked float": (_hand(a=ld(2, b"\x0d" + np.float32(1).tobytes())), False),
    "float of 3 bytes": (_hand(a=ld(2, ld(1, b"\0\0\0"))), False),
    "empty bytes": (_hand(s=byt(b"")), True),
    "repeated key": (example(entry("a", f32(1.0)), *[entry(k, v) for k, v in
                                                     sorted(GOODF.items())]), False),
    "repeated unknown": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                 entry("q", f32(1.0)), entry("q", i64(1))), False),
    "two unknowns": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                             entry("q", f32(1.0)), entry("r", i64(1))), True),
    "unknown non-UTF-8 key": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                      entry(b"\xff", f32(1.0))), False),
    "unknown overlong key": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                     entry(b"\xc0\x80", f32(1.0))), False),
    "unknown surrogate key": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                      entry(b"\xed\xa0\x80", f32(1.0))), False),
    "unknown 4-byte key": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                   entry("\U0001f600x", f32(1.0))), True),
    "unknown key past U+10FFFF": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                          entry(b"\xf4\x90\x80\x80", f32(1.0))), False),
    "unknown truncated key": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                      entry(b"\xe2\x82", f32(1.0))), False),
    "long key": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                         entry("k" * 200, f32(1.0))), True),
    "unknown bad list": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                 entry("q", ld(4, b""))), False),
    "unknown unpacked list": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                      entry("q", ld(3, b"\x08\x01"))), True),
    "unsorted keys": (example(*[entry(k, v) for k, v in sorted(GOODF.items())][::-1]), True),
    "empty entry": (example(*[entry(k, v) for k, v in sorted(GOODF.items())], b"\x0a\x00"),
                    False),
    "entry without a Feature": (example(*[entry(k, v) for k, v in sorted(GOODF.items())],
                                        ld(1, ld(1, b"q"))), False),
    "two Features": (_hand() + _hand()[2:], False),
    "empty": (b"", False),
    "empty Features": (b"\x0a\x00", False),
    "trailing byte": (_hand() + b"\x00", False),
}


def test_hand_built_cases():
    for name, (data, ok) in HAND.items():
        want = reference_rows([data], SPECS)
        assert (want is not None) == ok, name  # the reference reads these as intended
        for items in ([data], [encode_example(GOOD), data], [data, data]):
            got = one_value_rows(items, SPECS)
            assert same(got, reference_rows(items, SPECS)), (name, got)


def test_values_bit_for_bit():
    nan_payloads = np.array([0x7FC00000, 0x7FC00001, 0xFFC12345, 0x7F800001, 0x7FA00000,
                             0x80000000, 0x00000001, 0x7F7FFFFF, 0xFF800000],
                            np.uint32).view(np.float32)
    items = [encode_example({"a": ("float", [v]), "s": [b"\x00\xff"], "i": [n]})
             for v, n in zip(nan_payloads, [0, -1, 1 << 62, -(1 << 63), (1 << 63) - 1,
                                            300, -300, 1, 2])]
    got, want = one_value_rows(items, SPECS), reference_rows(items, SPECS)
    assert same(got, want)
    assert [struct.pack("<d", v) for v in got["a"]] == \
        [struct.pack("<d", struct.unpack("<f", x.tobytes())[0]) for x in nan_payloads]
    assert got["i"][3] == -(1 << 63) and got["s"][0] == b"\x00\xff"


def test_spec_keys_no_example_can_hold():
    good = encode_example(GOOD)
    specs = dict(SPECS, **{"\ud800": ("float", 0.5)})
    assert same(one_value_rows([good], specs), reference_rows([good], specs))
    assert one_value_rows([good], specs)["\ud800"] == [0.5]
    specs = dict(SPECS, **{"\ud800": ("float", None)})
    assert one_value_rows([good], specs) is None and reference_rows([good], specs) is None
    assert one_value_rows([], specs) == reference_rows([], specs) == {k: [] for k in specs}
