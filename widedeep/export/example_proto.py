"""`tf.train.Example` in protobuf wire format, without the protobuf package.

The messages (tensorflow/core/example/{example,feature}.proto)::

    Example   { Features features = 1; }
    Features  { map<string, Feature> feature = 1; }
    Feature   { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2;
                             Int64List int64_list = 3; } }
    BytesList { repeated bytes value = 1; }
    FloatList { repeated float value = 1 [packed = true]; }
    Int64List { repeated int64 value = 1 [packed = true]; }

`encode_example` writes the canonical encoding (packed numbers, map entries in
sorted key order), so equal features give equal bytes. `decode_example` reads any
valid encoding: packed or unpacked repeated numbers, unknown fields (skipped by
their wire type), and repeated occurrences merged as protobuf merges them (a later
map entry replaces an earlier one with the same key; a list message seen twice
appends). Malformed input raises `ValueError` naming what was wrong and the byte
offset in the input. `parse_examples` is `tf.io.parse_example` for the
`FixedLenFeature` / `VarLenFeature` specs that `make_parse_example_spec` returns.

A feature's *kind* is one of ``"bytes"``, ``"float"``, ``"int64"``, or ``None``
for a `Feature` with no list set (which `parse_examples` treats as absent).
"""

import struct

import numpy as np

from minitf.kernels.protobuf import one_value_scan
from minitf.sparse import SparseTensor
from widedeep.feature_column.inputs import FixedLenFeature, VarLenFeature

__all__ = ["BYTES", "FLOAT", "INT64", "FixedLenFeature", "VarLenFeature", "decode_example",
           "encode_example", "parse_examples"]

BYTES, FLOAT, INT64 = "bytes", "float", "int64"
KINDS = (BYTES, FLOAT, INT64)
_FIELD_OF_KIND = {BYTES: 1, FLOAT: 2, INT64: 3}
_KIND_OF_FIELD = {1: BYTES, 2: FLOAT, 3: INT64}
_EMPTY = {BYTES: lambda: np.empty(0, object), FLOAT: lambda: np.zeros(0, np.float32),
          INT64: lambda: np.zeros(0, np.int64), None: lambda: np.zeros(0, np.float32)}

# wire types
_VARINT, _I64, _LEN, _SGROUP, _EGROUP, _I32 = 0, 1, 2, 3, 4, 5
_WIRE_NAMES = {0: "varint", 1: "64-bit", 2: "length-delimited", 3: "start-group",
               4: "end-group", 5: "32-bit"}
_U64 = (1 << 64) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


# --- encoding ---------------------------------------------------------------------------
def _put_varint(out, v):
    v &= _U64  # negative int64 -> its 64-bit two's complement (10 bytes)
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def _put_len(out, field, payload):
    _put_varint(out, field << 3 | _LEN)
    _put_varint(out, len(payload))
    out += payload


def _as_bytes(v, key):
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v)
    if isinstance(v, (str, np.str_)):
        return str(v).encode("utf-8")
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    raise TypeError(f"feature '{key}': a bytes_list value must be bytes or str, got "
                    f"{type(v).__name__} {v!r}")


def _is_int(v):
    return isinstance(v, (int, np.integer, np.bool_)) and not isinstance(v, float)


def _is_real(v):
    return _is_int(v) or isinstance(v, (float, np.floating))


def _kind_and_values(key, value):
    """(kind, flat list or ndarray) for one feature value given to `encode_example`."""
    if (isinstance(value, tuple) and len(value) == 2 and (value[0] in KINDS or value[0] is None)
            and isinstance(value[1], (list, tuple, np.ndarray))):
        kind, vals = value
        if kind is None:
            if len(vals):
                raise ValueError(f"feature '{key}': kind None (no list) cannot hold values")
            return None, []
        return kind, vals
    if isinstance(value, (bytes, str, np.bytes_, np.str_, int, float, np.number, np.bool_)):
        value = [value]
    if isinstance(value, np.ndarray):
        k = value.dtype.kind
        if k == "f":
            return FLOAT, value
        if k in "iub":
            return INT64, value
        if k in "SU":
            return BYTES, value
        if k != "O":
            raise TypeError(f"feature '{key}': cannot store an array of dtype {value.dtype} "
                            f"in a tf.train.Feature")
        value = value.reshape(-1).tolist()
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"feature '{key}': expected a list or array of bytes/str, floats or "
                        f"ints, got {type(value).__name__}")
    if not value:
        return None, []
    if all(isinstance(v, (bytes, str, np.bytes_, np.str_, bytearray)) for v in value):
        return BYTES, value
    if all(_is_int(v) for v in value):
        return INT64, value
    if all(_is_real(v) for v in value):
        return FLOAT, value
    raise TypeError(f"feature '{key}': values must be all bytes/str, all ints or all numbers, "
                    f"got {sorted({type(v).__name__ for v in value})}")


def _encode_feature(key, value):
    kind, vals = _kind_and_values(key, value)
    feature = bytearray()
    if kind is None:
        return feature
    body = bytearray()
    if kind == BYTES:
        flat = np.asarray(vals, dtype=object).reshape(-1) if isinstance(vals, np.ndarray) \
            else vals
        for v in flat:
            _put_len(body, 1, _as_bytes(v, key))
    elif kind == FLOAT:
        try:
            with np.errstate(over="ignore"):  # beyond float32's range -> inf
                a = np.asarray(vals, dtype="<f4").reshape(-1)
        except (TypeError, ValueError) as e:
            raise TypeError(f"feature '{key}': float_list values must be numbers ({e})") from None
        if a.size:
            _put_len(body, 1, a.tobytes())
    else:
        ints = [int(v) for v in np.asarray(vals, dtype=object).reshape(-1)] \
            if isinstance(vals, np.ndarray) else [int(v) for v in vals]
        if ints:
            bad = [v for v in ints if not _INT64_MIN <= v <= _INT64_MAX]
            if bad:
                raise ValueError(f"feature '{key}': int64_list value {bad[0]} is outside the "
                                 f"int64 range")
            packed = bytearray()
            for v in ints:
                _put_varint(packed, v)
            _put_len(body, 1, packed)
    _put_len(feature, _FIELD_OF_KIND[kind], body)
    return feature


def encode_example(features):
    """The serialized `tf.train.Example` holding `features`.

    Args:
      features: {name (str): value}. A value is a list/tuple/ndarray (any shape; it is
        flattened) of bytes or str (-> BytesList; str as UTF-8), of floats (-> FloatList,
        as float32) or of ints/bools (-> Int64List); a single scalar is a list of one;
        ``(kind, values)`` with kind "bytes" | "float" | "int64" names the list
        explicitly (needed to write an empty list of a kind, as decode_example returns
        it). An empty list/tuple without a kind writes a Feature with no list set.

    Returns:
      bytes, with the map entries in sorted key order (deterministic).

    Raises:
      TypeError: a value of a type a Feature cannot hold; ValueError: an int outside int64.
    """
    if not isinstance(features, dict):
        raise TypeError(f"encode_example: expected a dict of name -> values, got "
                        f"{type(features).__name__}")
    feats = bytearray()
    for key in sorted(features):
        if not isinstance(key, str):
            raise TypeError(f"encode_example: feature names must be str, got {key!r}")
        entry = bytearray()
        _put_len(entry, 1, key.encode("utf-8"))
        _put_len(entry, 2, _encode_feature(key, features[key]))
        _put_len(feats, 1, entry)
    out = bytearray()
    _put_len(out, 1, feats)  # set even when empty, as tf.train.Example(features=...) does
    return bytes(out)


# --- decoding ---------------------------------------------------------------------------
def _read_varint(buf, pos, end, what):
    start, result, shift = pos, 0, 0
    while True:
        if pos >= end:
            raise ValueError(f"truncated input: the varint ({what}) starting at byte {start} "
                             f"runs past the end of its message at byte {end}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result & _U64, pos
        shift += 7
        if shift >= 70:
            raise ValueError(f"malformed varint ({what}) at byte {start}: longer than 10 bytes")


def _read_tag(buf, pos, end, msg):
    at = pos
    tag, pos = _read_varint(buf, pos, end, f"field tag of {msg}")
    field, wire = tag >> 3, tag & 7
    if field == 0 or field >= 1 << 29:
        raise ValueError(f"malformed field tag in {msg} at byte {at}: field number {field} is "
                         f"not valid")
    if wire not in _WIRE_NAMES:
        raise ValueError(f"malformed field tag in {msg} at byte {at}: field {field} has "
                         f"invalid wire type {wire}")
    return field, wire, at, pos


def _read_len(buf, pos, end, what):
    at = pos
    n, pos = _read_varint(buf, pos, end, f"length of {what}")
    if n > end - pos:
        raise ValueError(f"truncated input: {what} at byte {at} declares {n} bytes but only "
                         f"{end - pos} remain in its message (which ends at byte {end})")
    return pos, pos + n


def _skip(buf, field, wire, pos, end, msg, depth=0):
    """Position after the value of an unknown field."""
    what = f"unknown field {field} of {msg}"
    if wire == _VARINT:
        return _read_varint(buf, pos, end, what)[1]
    if wire in (_I64, _I32):
        n = 8 if wire == _I64 else 4
        if end - pos < n:
            raise ValueError(f"truncated input: {what} at byte {pos} needs {n} bytes, "
                             f"{end - pos} remain")
        return pos + n
    if wire == _LEN:
        return _read_len(buf, pos, end, what)[1]
    if wire == _SGROUP:
        if depth > 64:
            raise ValueError(f"malformed input: groups nested too deeply at byte {pos}")
        while True:
            f, w, at, pos = _read_tag(buf, pos, end, f"group {field} of {msg}")
            if w == _EGROUP:
                if f != field:
                    raise ValueError(f"malformed input: end of group {f} at byte {at} does not "
                                     f"close group {field}")
                return pos
            pos = _skip(buf, f, w, pos, end, msg, depth + 1)
    raise ValueError(f"malformed input: end-group tag for field {field} of {msg} at byte "
                     f"{pos} without a matching start-group")


def _expect_wire(field, wire, want, at, msg, name):
    if wire not in want:
        exp = " or ".join(_WIRE_NAMES[w] for w in want)
        raise ValueError(f"malformed input: field {field} ({name}) of {msg} at byte {at} has "
                         f"wire type {wire} ({_WIRE_NAMES[wire]}), expected {exp}")


def _packed_varints(buf, start, end, what):
    """The int64s of a packed varint run buf[start:end], vectorised."""
    b = np.frombuffer(buf, np.uint8, end - start, start)
    if b[-1] & 0x80:
        last = start + len(b) - 1
        while last > start and buf[last - 1] & 0x80:
            last -= 1
        raise ValueError(f"truncated input: the last varint of the packed {what} (from byte "
                         f"{last}) runs past its end at byte {end}")
    ends = np.flatnonzero(b < 0x80)
    starts = np.concatenate([[0], ends[:-1] + 1])
    lens = ends - starts + 1
    if lens.max() > 10:
        at = start + int(starts[np.argmax(lens > 10)])
        raise ValueError(f"malformed varint in packed {what} at byte {at}: longer than 10 bytes")
    shift = (np.arange(len(b)) - np.repeat(starts, lens)) * 7
    parts = (b & 0x7F).astype(np.uint64) << shift.astype(np.uint64)
    return np.bitwise_or.reduceat(parts, starts).view(np.int64)


def _read_list(buf, pos, end, kind, chunks):
    """Appends the values of a BytesList/FloatList/Int64List in buf[pos:end] to chunks."""
    msg = {BYTES: "BytesList", FLOAT: "FloatList", INT64: "Int64List"}[kind]
    while pos < end:
        field, wire, at, pos = _read_tag(buf, pos, end, msg)
        if field != 1:
            pos = _skip(buf, field, wire, pos, end, msg)
            continue
        if kind == BYTES:
            _expect_wire(field, wire, (_LEN,), at, msg, "value")
            s, pos = _read_len(buf, pos, end, f"a {msg} value")
            chunks.append([bytes(buf[s:pos])])
        elif kind == FLOAT:
            _expect_wire(field, wire, (_LEN, _I32), at, msg, "value")
            if wire == _I32:
                if end - pos < 4:
                    raise ValueError(f"truncated input: float value at byte {pos} needs 4 "
                                     f"bytes, {end - pos} remain")
                chunks.append(np.frombuffer(buf, "<f4", 1, pos))
                pos += 4
            else:
                s, pos = _read_len(buf, pos, end, f"packed {msg} values")
                if (pos - s) % 4:
                    raise ValueError(f"malformed input: packed {msg} values at byte {s} are "
                                     f"{pos - s} bytes long, not a multiple of 4")
                chunks.append(np.frombuffer(buf, "<f4", (pos - s) // 4, s))
        else:
            _expect_wire(field, wire, (_LEN, _VARINT), at, msg, "value")
            if wire == _VARINT:
                v, pos = _read_varint(buf, pos, end, f"{msg} value")
                chunks.append([v - (1 << 64) if v > _INT64_MAX else v])
            else:
                s, pos = _read_len(buf, pos, end, f"packed {msg} values")
                if pos > s:
                    chunks.append(_packed_varints(buf, s, pos, f"{msg} values"))


def _read_feature(buf, pos, end, state):
    """Merges the Feature in buf[pos:end] into state = [kind, chunks]."""
    while pos < end:
        field, wire, at, pos = _read_tag(buf, pos, end, "Feature")
        kind = _KIND_OF_FIELD.get(field)
        if kind is None:
            pos = _skip(buf, field, wire, pos, end, "Feature")
            continue
        _expect_wire(field, wire, (_LEN,), at, "Feature", f"{kind}_list")
        s, pos = _read_len(buf, pos, end, f"Feature.{kind}_list")
        if state[0] != kind:  # another member of the oneof: it replaces the first
            state[0], state[1] = kind, []
        _read_list(buf, s, pos, kind, state[1])


def _read_entry(buf, pos, end, feats):
    start, key, state = pos, b"", [None, []]
    while pos < end:
        field, wire, at, pos = _read_tag(buf, pos, end, "a Features.feature map entry")
        if field == 1:
            _expect_wire(field, wire, (_LEN,), at, "a Features.feature map entry", "key")
            s, pos = _read_len(buf, pos, end, "a feature name")
            key = bytes(buf[s:pos])
        elif field == 2:
            _expect_wire(field, wire, (_LEN,), at, "a Features.feature map entry", "value")
            s, pos = _read_len(buf, pos, end, "a Feature")
            _read_feature(buf, s, pos, state)
        else:
            pos = _skip(buf, field, wire, pos, end, "a Features.feature map entry")
    try:
        name = key.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"malformed input: the feature name in the map entry at byte {start} "
                         f"is not valid UTF-8 ({e.reason})") from None
    feats[name] = state  # a later entry with the same key replaces this one


def _read_features(buf, pos, end, feats):
    while pos < end:
        field, wire, at, pos = _read_tag(buf, pos, end, "Features")
        if field == 1:
            _expect_wire(field, wire, (_LEN,), at, "Features", "feature")
            s, pos = _read_len(buf, pos, end, "a Features.feature map entry")
            _read_entry(buf, s, pos, feats)
        else:
            pos = _skip(buf, field, wire, pos, end, "Features")


def _finish(state):
    kind, chunks = state
    if not chunks:
        return kind, _EMPTY[kind]()
    if kind == BYTES:
        out = np.empty(len(chunks), object)
        for i, c in enumerate(chunks):
            out[i] = c[0]
        return kind, out
    dtype = np.float32 if kind == FLOAT else np.int64
    return kind, np.concatenate([np.asarray(c, dtype) for c in chunks]).astype(dtype)


# --- the fast scan: canonical encodings only ------------------------------------------
# Serving decodes one small Example per request, and the careful decoder above costs
# ~100 us for a census row (a Python call per byte of every varint). `_scan` reads
# the encoding that encoders write (one Features, each key once, one list per
# Feature, packed numbers) in one pass over the bytes with the common one-byte
# varints inline, and gives up (None) on anything else; the careful decoder then
# reads it, merges repeated fields and words the errors.
_F32 = struct.Struct("<f")


def _varint_at(b, p):
    """(value, next position) of the varint at b[p]; IndexError past the end."""
    x = b[p]
    if x < 0x80:
        return x, p + 1
    result, shift = x & 0x7F, 7
    while True:
        p += 1
        x = b[p]
        result |= (x & 0x7F) << shift
        if x < 0x80:
            return result, p + 1
        shift += 7
        if shift >= 70:
            raise ValueError("varint longer than 10 bytes")


def _features_start(b):
    """Where the map entries start in a canonically encoded Example `b`: it is
    one Features message (field 1) filling all of `b`; else None."""
    if len(b) < 2 or b[0] != 0x0A:
        return None
    size, p = _varint_at(b, 1)
    return p if p + size == len(b) else None


def _scan(b):
    """{name: (kind, start, end)}: where each feature's list message lies in the
    serialized Example `b` (bytes), or None when `b` is not canonically encoded."""
    try:
        n, p = len(b), _features_start(b)
        if p is None:
            return None
        out = {}
        while p < n:
            if b[p] != 0x0A:  # Features.feature (field 1, length-delimited)
                return None
            size, p = _varint_at(b, p + 1)
            end = p + size
            if end > n or b[p] != 0x0A:  # the map entry's key
                return None
            klen, q = _varint_at(b, p + 1)
            key, q = b[q:q + klen], q + klen
            if q >= end or b[q] != 0x12:  # the map entry's value: a Feature
                return None
            flen, q = _varint_at(b, q + 1)
            if q + flen != end:
                return None
            kind, s = None, end
            if flen:
                kind = _KIND_OF_FIELD.get(b[q] >> 3) if b[q] & 7 == _LEN else None
                if kind is None:
                    return None
                llen, s = _varint_at(b, q + 1)
                if s + llen != end:
                    return None
            name = key.decode("utf-8")
            if name in out:
                return None
            out[name] = (kind, s, end)
            p = end
        return out
    except (IndexError, ValueError):  # UnicodeDecodeError is a ValueError
        return None


def _list_values(b, kind, s, e):
    """The values of a canonical list message b[s:e]: a list of bytes, a float32
    ndarray or a list of int; None when not canonical."""
    if kind == BYTES:
        out = []
        while s < e:
            if b[s] != 0x0A:
                return None
            size, s = _varint_at(b, s + 1)
            out.append(b[s:s + size])
            s += size
        return out if s == e else None
    if s == e:
        return [] if kind == INT64 else np.zeros(0, np.float32)
    if b[s] != 0x0A:
        return None
    size, q = _varint_at(b, s + 1)
    if q + size != e:
        return None
    if kind == FLOAT:
        return None if size % 4 else np.frombuffer(b, "<f4", size // 4, q).astype(np.float32)
    out = []
    while q < e:
        v, q = _varint_at(b, q)
        out.append(v - (1 << 64) if v > _INT64_MAX else v)
    return out if q == e and all(v <= _U64 for v in out) else None


def _decode_fast(data):
    feats = _scan(data)
    if feats is None:
        return None
    out = {}
    try:
        for name, (kind, s, e) in feats.items():
            if kind is None:
                out[name] = (None, _EMPTY[None]())
                continue
            v = _list_values(data, kind, s, e)
            if v is None:
                return None
            if kind == BYTES:
                a = np.empty(len(v), object)
                a[:] = v
                v = a
            elif kind == INT64:
                v = np.array(v, np.int64)
            out[name] = (kind, v)
    except (IndexError, ValueError):
        return None
    return out


_TAG_OF_KIND = {BYTES: 0x0A, FLOAT: 0x12, INT64: 0x1A}  # a Feature's tag byte for its list


def _rows_plan(specs):
    """(wanted keys, in the kernel's order, as [(key, kind, default)]; keys buffer;
    their offsets; tag bytes; required flags; keys never found, as [(key, default)])
    for `specs`. A key that is not a str of valid UTF-8 names no feature (names
    decode to such strs), so it is always missing."""
    wanted, never = [], []
    for k, (kind, default) in specs.items():
        try:
            wanted.append((k.encode("utf-8"), k, kind, default is None))
        except (AttributeError, UnicodeError):
            never.append(k)
    wanted.sort(key=lambda w: w[0])  # as canonical encodings order their entries
    key_offs = np.zeros(len(wanted) + 1, np.int64)
    np.cumsum([len(w[0]) for w in wanted], out=key_offs[1:])
    return ([w[1] for w in wanted],
            np.frombuffer(b"".join(w[0] for w in wanted) or b"\0", np.uint8), key_offs,
            np.array([_TAG_OF_KIND[w[2]] for w in wanted], np.uint8),
            np.array([w[3] for w in wanted], np.bool_), never)


def one_value_rows(items, specs):
    """The serving fast path's parse: {key: [one value per example]} when every
    example is canonically encoded and holds one value of the right kind for every
    key (or, for a fixed-length feature, is missing it and the default is one
    value); else None (then `parse_examples` parses them, or says what is wrong).

    One compiled pass over the batch (`minitf.kernels.protobuf.one_value_scan`,
    which makes `_scan`'s and `_one_value`'s checks), then the columns from the
    positions it finds: values as `_one_value` gives them (bytes, a float32 as a
    Python float, an int).

    Args:
      items: a list of bytes.
      specs: {key: (kind, default value or None)}.
    """
    m = len(items)
    if m and set(map(type, items)) != {bytes}:
        return None
    names, keys, key_offs, tags, required, never = _rows_plan(specs)
    if any(specs[k][1] is None for k in never) and m:
        return None  # a feature no example can hold, and no default
    data = b"".join(items)
    buf = np.frombuffer(data or b"\0", np.uint8)
    offs = np.zeros(m + 1, np.int64)
    lens = np.fromiter(map(len, items), np.int64, m)
    np.cumsum(lens, out=offs[1:])
    nk = len(names)
    pos = np.empty((nk, m), np.int64)
    val = np.empty((nk, m), np.uint64)
    most = int(lens.max()) // 4 + 1 if m else 1
    if not one_value_scan(buf, offs, keys, key_offs, tags, required, pos, val,
                          np.empty(nk, np.uint8), np.empty(most, np.int64),
                          np.empty(most, np.int64)):
        return None
    cols = {}
    for k, key in enumerate(names):
        kind, default = specs[key]
        at = pos[k]
        if kind == FLOAT:
            col = val[k].astype(np.uint32).view(np.float32).tolist()
        elif kind == INT64:
            col = val[k].view(np.int64).tolist()
        else:
            col = [data[s:e] for s, e in zip(at.tolist(), (at + val[k].view(np.int64)).tolist())]
        missing = np.flatnonzero(at < 0)
        for i in missing.tolist():
            col[i] = default
        cols[key] = col
    for key in never:
        cols[key] = [specs[key][1]] * m
    return {k: cols[k] for k in specs}


def one_value_fields(specs):
    """`one_value_row`'s table for `specs` ({key: (kind, default or None)}): {key as
    UTF-8 bytes: (key, the Feature's tag byte for kind, default)}."""
    return {k.encode("utf-8"): (k, _FIELD_OF_KIND[kind] << 3 | _LEN, default)
            for k, (kind, default) in specs.items()}


def one_value_row(b, fields):
    """`one_value_rows([b], specs)` as {key: value}, for one serialized Example:
    one pass over its bytes, one-byte varints read inline, the features that
    `fields` (from `one_value_fields`) does not name skipped after the same checks
    as `_scan`'s. None where `one_value_rows` gives None (or on a repeated key)."""
    if type(b) is not bytes:
        return None
    try:
        n, p = len(b), _features_start(b)
        if p is None:
            return None
        out = {}  # {key: its value, or None for a Feature with no list}
        while p < n:
            if b[p] != 0x0A:  # Features.feature: a map entry
                return None
            size, p = b[p + 1], p + 2
            if size >= 0x80:
                size, p = _varint_at(b, p - 1)
            end = p + size
            if end > n or b[p] != 0x0A:  # its key
                return None
            klen, q = b[p + 1], p + 2
            if klen >= 0x80:
                klen, q = _varint_at(b, q - 1)
            key, q = b[q:q + klen], q + klen
            if q >= end or b[q] != 0x12:  # its value: a Feature
                return None
            flen, q = b[q + 1], q + 2
            if flen >= 0x80:
                flen, q = _varint_at(b, q - 1)
            if q + flen != end:
                return None
            v = None
            if flen:  # one list message, up to the end of the entry
                tag = b[q]
                llen, s = _varint_at(b, q + 1)
                if s + llen != end or tag & 7 != _LEN or tag >> 3 not in _KIND_OF_FIELD:
                    return None
            field = fields.get(key)
            if field is None:  # a feature the model does not read
                key.decode("utf-8")  # must still be a valid name
            else:
                name, want, _ = field
                if name in out:  # repeated: the careful decoder merges
                    return None
                if flen:
                    v = _one_value(b, _KIND_OF_FIELD[want >> 3], s, end) if tag == want \
                        else None
                    if v is None:
                        return None
                out[name] = v
            p = end
        for name, _, default in fields.values():
            if out.get(name) is None:  # missing, or a Feature with no list
                if default is None:
                    return None
                out[name] = default
        return out
    except (IndexError, ValueError):  # UnicodeDecodeError is a ValueError
        return None


def _one_value(b, kind, s, e):
    """The single value of the list message b[s:e], or None if it holds another number."""
    if e - s < 2 or b[s] != 0x0A:
        return None
    size, q = _varint_at(b, s + 1)
    if q + size != e:
        return None
    if kind == BYTES:
        return b[q:e]
    if kind == FLOAT:
        return _F32.unpack_from(b, q)[0] if size == 4 else None
    v, q = _varint_at(b, q)
    if q != e or v > _U64:
        return None
    return v - (1 << 64) if v > _INT64_MAX else v


def decode_example(data):
    """The features of a serialized `tf.train.Example`.

    Returns:
      {name: (kind, values)}: kind "bytes" (values an object ndarray of bytes), "float"
      (float32 ndarray), "int64" (int64 ndarray), or None for a Feature with no list
      set (values an empty float32 ndarray).

    Raises:
      ValueError: truncated or malformed input; the message says what and the byte offset.
      TypeError: `data` is not bytes-like.
    """
    if isinstance(data, (bytearray, memoryview, np.bytes_)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"decode_example: expected bytes, got {type(data).__name__}")
    fast = _decode_fast(data)
    if fast is not None:
        return fast
    feats, pos, end = {}, 0, len(data)
    while pos < end:
        field, wire, at, pos = _read_tag(data, pos, end, "Example")
        if field == 1:
            _expect_wire(field, wire, (_LEN,), at, "Example", "features")
            s, pos = _read_len(data, pos, end, "Example.features")
            _read_features(data, s, pos, feats)  # seen twice: the maps merge
        else:
            pos = _skip(data, field, wire, pos, end, "Example")
    return {k: _finish(v) for k, v in feats.items()}


# --- tf.io.parse_example ----------------------------------------------------------------
_SPEC_DTYPES = {"string": BYTES, "str": BYTES, "bytes": BYTES, "object": BYTES,
                "float32": FLOAT, "float": FLOAT, "int64": INT64}
_NP_DTYPE = {BYTES: object, FLOAT: np.float32, INT64: np.int64}
_TYPE_NAME = {BYTES: "string", FLOAT: "float", INT64: "int64"}  # as TF's messages name them


def _spec_kind(dtype, key):
    if dtype is str or dtype is bytes or dtype is object:
        name = "string"
    elif isinstance(dtype, str):
        name = dtype
    elif hasattr(dtype, "as_numpy_dtype"):  # a tf.DType
        name = dtype.name
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = repr(dtype)
        name = "string" if name.startswith(("str", "bytes")) else name
    if name not in _SPEC_DTYPES:
        raise ValueError(f"parse_example: feature '{key}' has dtype {dtype!r}; tf.Example "
                         f"features parse only as float32, int64 or string")
    return _SPEC_DTYPES[name]


def _spec_entry(key, spec):
    """('fixed', kind, shape, default) or ('var', kind) for a spec value (ours or TF's)."""
    name = type(spec).__name__
    if isinstance(spec, FixedLenFeature) or name == "FixedLenFeature":
        kind = _spec_kind(spec.dtype, key)
        shape = (spec.shape,) if isinstance(spec.shape, (int, np.integer)) else spec.shape
        try:
            shape = tuple(int(d) for d in shape)  # None (an unknown dimension) fails
        except TypeError:
            raise ValueError(f"parse_example: FixedLenFeature '{key}' needs a fully defined "
                             f"shape, got {spec.shape!r}") from None
        if any(d < 0 for d in shape):
            raise ValueError(f"parse_example: FixedLenFeature '{key}' has a negative "
                             f"dimension in shape {list(shape)}")
        default = spec.default_value
        if default is not None:
            if kind == BYTES:
                flat = np.asarray(default, dtype=object).reshape(-1)
                d = np.empty(len(flat), object)
                for i, v in enumerate(flat):
                    d[i] = _as_bytes(v, key)
            else:
                d = np.asarray(default, _NP_DTYPE[kind]).reshape(-1)
            n = int(np.prod(shape, dtype=np.int64))
            if d.size != n:
                raise ValueError(f"parse_example: FixedLenFeature '{key}': default_value has "
                                 f"{d.size} values but shape {list(shape)} needs {n}")
            default = d
        return "fixed", kind, shape, default
    if isinstance(spec, VarLenFeature) or name == "VarLenFeature":
        return "var", _spec_kind(spec.dtype, key)
    raise TypeError(f"parse_example: feature '{key}': only FixedLenFeature and VarLenFeature "
                    f"are supported, got {spec!r}")


def _check_kind(got, want, key, i, dense):
    if got is not None and got != want:
        if dense:
            detail = f"Data type: {_TYPE_NAME[got]} but expected type: {_TYPE_NAME[want]}"
        else:
            detail = f"Expected type: {_TYPE_NAME[want]}, Actual type: {_TYPE_NAME[got]}"
        raise ValueError(f"Key: {key}, Index: {i}.  Data types don't match. {detail}")


def parse_examples(serialized, feature_spec):
    """`tf.io.parse_example(serialized, feature_spec)`.

    Args:
      serialized: a sequence (or 1-D object array) of serialized Examples, or one
        serialized Example (bytes): then the outputs have no batch dimension, as TF's.
        (Not a NumPy "S" array: NumPy drops the trailing NUL bytes of its items.)
      feature_spec: {name: FixedLenFeature | VarLenFeature} (widedeep's or TF's), dtype
        float32, int64 or string.

    Returns:
      {name: value}: FixedLenFeature(shape, dtype, default) -> ndarray [batch, *shape]
      (float32, int64, or object of bytes), the default where the feature is absent;
      VarLenFeature(dtype) -> SparseTensor with indices [[row, j]], the values, and
      dense_shape [batch, longest list].

    Raises:
      ValueError: an Example that does not parse; a required feature missing; a list of
      the wrong kind, or of the wrong length for a FixedLenFeature.
    """
    single = isinstance(serialized, (bytes, bytearray, np.bytes_)) or (
        isinstance(serialized, np.ndarray) and serialized.ndim == 0)
    items = [serialized.item() if isinstance(serialized, np.ndarray) else serialized] \
        if single else list(np.asarray(serialized, dtype=object).reshape(-1)) \
        if isinstance(serialized, np.ndarray) else list(serialized)
    if not isinstance(feature_spec, dict):
        raise TypeError(f"parse_example: feature_spec must be a dict, got "
                        f"{type(feature_spec).__name__}")
    specs = {key: _spec_entry(key, s) for key, s in feature_spec.items()}
    rows = []
    for i, s in enumerate(items):
        try:
            rows.append(decode_example(s))
        except ValueError as e:
            raise ValueError(f"Index: {i}.  Could not parse example input: {e}") from None
    batch = len(rows)
    out = {}
    for key in sorted(specs):
        sp = specs[key]
        kind = sp[1]
        if sp[0] == "fixed":
            _, kind, shape, default = sp
            n = int(np.prod(shape, dtype=np.int64))
            dense = np.empty((batch, n), _NP_DTYPE[kind])
            for i, row in enumerate(rows):
                got, vals = row.get(key, (None, None))
                _check_kind(got, kind, key, i, dense=True)
                if got is None:
                    if default is None:
                        raise ValueError(f"Index: {i}, Feature: {key} (data type: "
                                         f"{_TYPE_NAME[kind]}) is required but could not "
                                         f"be found.")
                    vals = default
                elif len(vals) != n:
                    raise ValueError(
                        f"Key: {key}, Index: {i}.  Number of {kind} values != expected.  "
                        f"Values size: {len(vals)} but output shape: {list(shape)} "
                        f"(expected {n} values)")
                dense[i, :] = vals
            out[key] = dense.reshape(shape) if single else dense.reshape((batch,) + shape)
        else:
            lists = []
            for i, row in enumerate(rows):
                got, vals = row.get(key, (None, None))
                _check_kind(got, kind, key, i, dense=False)
                lists.append(vals if got is not None else _EMPTY[kind]())
            lens = np.array([len(v) for v in lists], np.int64)
            width = int(lens.max()) if batch else 0
            values = (np.concatenate(lists) if lists else _EMPTY[kind]()).astype(
                _NP_DTYPE[kind])
            cols = np.arange(len(values), dtype=np.int64) - np.repeat(
                np.cumsum(lens) - lens, lens)
            if single:
                out[key] = SparseTensor(cols.reshape(-1, 1), values, [width])
            else:
                rows_ix = np.repeat(np.arange(batch, dtype=np.int64), lens)
                out[key] = SparseTensor(np.stack([rows_ix, cols], 1), values, [batch, width])
    return out
