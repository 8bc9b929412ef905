"""widedeep.export.example_proto: tf.train.Example wire format and tf.io.parse_example."""

import json
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitf.sparse import SparseTensor
from widedeep.export.example_proto import (
    FixedLenFeature,
    VarLenFeature,
    decode_example,
    encode_example,
    parse_examples,
)
from widedeep.feature_column import inputs

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "reference"))
from proto_wire import entry, example, ld, varint  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "reference", "fixtures", "example_proto.npz")
INT64 = st.integers(-(2**63), 2**63 - 1)
KEYS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
LISTS = st.one_of(
    st.tuples(st.just("bytes"), st.lists(st.binary(max_size=20), max_size=6)),
    st.tuples(st.just("float"), st.lists(st.floats(width=32), max_size=6)),
    st.tuples(st.just("int64"), st.lists(INT64, max_size=6)),
)
FEATURES = st.dictionaries(KEYS, LISTS, max_size=6)


# --- helpers ----------------------------------------------------------------------------
def f32(v):
    return np.float32(v).tobytes()


def assert_same_values(kind, got, want):
    if kind == "float":
        got = np.asarray(got, np.float32)
        np.testing.assert_array_equal(got.view(np.uint32),
                                      np.asarray(want, np.float32).view(np.uint32))
    elif kind == "bytes":
        assert got.dtype == object
        assert list(got) == [w.encode() if isinstance(w, str) else w for w in want]
    else:
        assert got.dtype == np.int64
        assert got.tolist() == list(want)


def assert_decoded(got, features):
    assert sorted(got) == sorted(features)
    for key, (kind, vals) in features.items():
        assert got[key][0] == kind, key
        assert_same_values(kind, got[key][1], vals)


def unpack(buf, offsets):
    return [bytes(buf[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]


def assert_sparse_equal(got, indices, values, dense_shape):
    assert isinstance(got, SparseTensor)
    np.testing.assert_array_equal(got.indices, np.asarray(indices).reshape(got.indices.shape))
    np.testing.assert_array_equal(got.dense_shape, dense_shape)
    assert got.values.dtype == np.asarray(values).dtype or got.values.dtype == object
    if got.values.dtype == np.float32:
        np.testing.assert_array_equal(got.values.view(np.uint32),
                                      np.asarray(values, np.float32).view(np.uint32))
    else:
        assert list(got.values) == list(values)


# --- encode / decode --------------------------------------------------------------------
def test_known_bytes():
    # what TF 2.15's SerializeToString writes for these
    assert encode_example({"a": [1.0, 2.0]}).hex() == "0a130a110a0161120c120a0a080000803f00000040"
    assert encode_example({"a": [1, -1]}).hex() == (
        "0a160a140a0161120f1a0d0a0b01ffffffffffffffffff01")
    assert encode_example({"a": [b"x"]}).hex() == "0a0c0a0a0a016112050a030a0178"
    assert encode_example({"a": ("int64", [])}).hex() == "0a090a070a016112021a00"
    assert encode_example({"a": []}).hex() == "0a070a050a01611200"
    assert encode_example({}) == b"\x0a\x00"
    assert decode_example(b"") == {} == decode_example(b"\x0a\x00")


def test_value_forms():
    got = decode_example(encode_example({
        "s": ["é", b"\x00b"], "arr_s": np.array(["x", "yz"]), "arr_f": np.ones((2, 2)),
        "arr_i": np.arange(3, dtype=np.uint8), "bools": [True, False], "mixed": [1, 2.5],
        "scalar": 7, "scalar_s": "q", "none": [], "empty_f": ("float", np.zeros(0))}))
    assert got["s"][0] == "bytes" and list(got["s"][1]) == ["é".encode(), b"\x00b"]
    assert list(got["arr_s"][1]) == [b"x", b"yz"]
    assert got["arr_f"][0] == "float" and got["arr_f"][1].tolist() == [1.0] * 4
    assert got["arr_i"][0] == "int64" and got["arr_i"][1].tolist() == [0, 1, 2]
    assert got["bools"][1].tolist() == [1, 0]
    assert got["mixed"][0] == "float" and got["mixed"][1].tolist() == [1.0, 2.5]
    assert got["scalar"] == ("int64", got["scalar"][1]) and got["scalar"][1].tolist() == [7]
    assert list(got["scalar_s"][1]) == [b"q"]
    assert got["none"][0] is None and len(got["none"][1]) == 0
    assert got["empty_f"][0] == "float" and got["empty_f"][1].dtype == np.float32


def test_encode_errors():
    with pytest.raises(ValueError, match="'a': int64_list value 9223372036854775808 is outside"):
        encode_example({"a": [2**63]})
    with pytest.raises(TypeError, match="'a': values must be all bytes/str, all ints or all"):
        encode_example({"a": [1, "x"]})
    with pytest.raises(TypeError, match="feature names must be str"):
        encode_example({1: [1]})


@settings(deadline=None)
@given(FEATURES)
def test_round_trip(features):
    data = encode_example(features)
    assert_decoded(decode_example(data), features)
    # deterministic: the order of the dict does not matter
    assert encode_example(dict(reversed(list(features.items())))) == data
    # decode's output encodes back to the same bytes
    assert encode_example(decode_example(data)) == data


@settings(deadline=None)
@given(st.lists(st.floats(allow_nan=False), max_size=5), st.lists(st.text(), max_size=5))
def test_round_trip_plain_lists(floats, texts):
    texts = [t.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for t in texts]
    got = decode_example(encode_example({"f": ("float", floats), "s": ("bytes", texts)}))
    with np.errstate(over="ignore"):  # doubles beyond float32 become inf, as in TF
        np.testing.assert_array_equal(got["f"][1], np.asarray(floats, np.float32))
    assert list(got["s"][1]) == [t.encode() for t in texts]


def test_decode_unpacked_and_mixed():
    ints = ld(3, varint(8) + varint(5) + ld(1, varint(6) + varint(-7)) + varint(8) + varint(2**62))
    floats = ld(2, b"\x0d" + f32(1.5) + ld(1, f32(2) + f32(-3)) + b"\x0d" + f32(4))
    got = decode_example(example(entry("i", ints), entry("f", floats)))
    assert got["i"][0] == "int64" and got["i"][1].tolist() == [5, 6, -7, 2**62]
    assert got["f"][0] == "float" and got["f"][1].tolist() == [1.5, 2, -3, 4]


def test_decode_skips_unknown_fields():
    # fields 4 (varint), 5 (fixed64), 6 (fixed32), 9 (bytes), group 7 { 1: 1, 2: "zz" }
    unknown = (b"\x20\x96\x01" + b"\x29" + bytes(8) + b"\x35" + bytes(4) + ld(9, b"abc")
               + b"\x3b" + b"\x08\x01" + ld(2, b"zz") + b"\x3c")
    feat = unknown + ld(3, unknown + ld(1, varint(3)) + unknown) + unknown
    data = unknown + ld(1, unknown + ld(1, unknown + ld(1, b"k") + unknown + ld(2, feat)))
    assert decode_example(data)["k"][1].tolist() == [3]


def test_decode_merges_as_protobuf():
    one, two = ld(3, ld(1, varint(1))), ld(3, ld(1, varint(2) + varint(3)))
    # a key given twice: the later map entry wins
    assert decode_example(example(entry("a", one), entry("a", two)))["a"][1].tolist() == [2, 3]
    # concatenated Examples merge their maps
    got = decode_example(example(entry("a", one), entry("b", one)) + example(entry("a", two)))
    assert got["a"][1].tolist() == [2, 3] and got["b"][1].tolist() == [1]
    # within one Feature: a list seen twice appends; another kind replaces it
    assert decode_example(example(entry("a", one + two)))["a"][1].tolist() == [1, 2, 3]
    got = decode_example(example(entry("a", one + ld(2, ld(1, f32(5))))))
    assert got["a"][0] == "float" and got["a"][1].tolist() == [5.0]


def test_decode_accepts_bytes_like():
    data = encode_example({"a": [1]})
    for d in (bytearray(data), memoryview(data), np.bytes_(data)):
        assert decode_example(d)["a"][1].tolist() == [1]
    with pytest.raises(TypeError, match="expected bytes"):
        decode_example("text")


# --- malformed input --------------------------------------------------------------------
def test_truncated_input():
    data = encode_example({"a": [1.0, 2.0], "b": [-1, 300], "c": [b"xyz"]})
    for n in range(1, len(data)):
        with pytest.raises(ValueError, match=r"truncated input: .* byte \d+"):
            decode_example(data[:n])
    with pytest.raises(ValueError, match=r"Example.features at byte 1 declares 19 bytes but "
                                         r"only 4 remain"):
        decode_example(encode_example({"a": [1.0, 2.0]})[:6])
    with pytest.raises(ValueError, match=r"the varint \(length of Example.features\) starting "
                                         r"at byte 1 runs past the end"):
        decode_example(b"\x0a\x85")
    packed = example(entry("i", ld(3, ld(1, b"\x05\x85"))))
    with pytest.raises(ValueError, match=r"last varint of the packed Int64List values \(from "
                                         r"byte 14\) runs past its end at byte 15"):
        decode_example(packed)


def test_bad_wire_type():
    with pytest.raises(ValueError, match=r"field tag in Example at byte 0: field 1 has invalid "
                                         r"wire type 7"):
        decode_example(b"\x0f")
    with pytest.raises(ValueError, match=r"field tag in Example at byte 2: field 2 has invalid "
                                         r"wire type 6"):
        decode_example(b"\x10\x01\x16")
    # a known field with the wrong wire type
    with pytest.raises(ValueError, match=r"field 1 \(features\) of Example at byte 0 has wire "
                                         r"type 0 \(varint\), expected length-delimited"):
        decode_example(b"\x08\x01")
    with pytest.raises(ValueError, match=r"field 1 \(value\) of Int64List at byte 11 has wire "
                                         r"type 5 \(32-bit\), expected length-delimited or "
                                         r"varint"):
        decode_example(example(entry("i", ld(3, b"\x0d" + f32(1)))))
    with pytest.raises(ValueError, match=r"end-group tag for field 2 of Example at byte 1"):
        decode_example(b"\x14")
    with pytest.raises(ValueError, match="field number 0 is not valid"):
        decode_example(b"\x00\x01")


def test_other_malformed_input():
    with pytest.raises(ValueError, match=r"packed FloatList values at byte 13 are 3 bytes long, "
                                         r"not a multiple of 4"):
        decode_example(example(entry("f", ld(2, ld(1, b"\x00\x00\x80")))))
    with pytest.raises(ValueError, match=r"malformed varint .* at byte 1: longer than 10 bytes"):
        decode_example(b"\x10" + b"\xff" * 10 + b"\x01")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        decode_example(ld(1, ld(1, ld(1, b"\xff"))))


# --- parse_examples ---------------------------------------------------------------------
SPEC = {"d": FixedLenFeature([2], "float32", [0.0, 1.0]), "req": FixedLenFeature([], "int64"),
        "s": FixedLenFeature((), "string", "none"), "v": VarLenFeature("string")}


def test_spec_classes_are_the_feature_column_ones():
    assert FixedLenFeature is inputs.FixedLenFeature and VarLenFeature is inputs.VarLenFeature


def test_parse_examples():
    ser = [encode_example({"d": [3.0, 4.0], "req": [7], "v": ["a", "b"]}),
           encode_example({"req": [8], "s": ["x"], "v": ("bytes", [])}),
           encode_example({"req": [9], "d": [], "v": [b"c"]})]  # a Feature with no list
    out = parse_examples(ser, SPEC)
    assert out["d"].dtype == np.float32 and out["d"].tolist() == [[3, 4], [0, 1], [0, 1]]
    assert out["req"].dtype == np.int64 and out["req"].tolist() == [7, 8, 9]
    assert out["s"].dtype == object and out["s"].tolist() == [b"none", b"x", b"none"]
    assert_sparse_equal(out["v"], [[0, 0], [0, 1], [2, 0]], [b"a", b"b", b"c"], [3, 2])
    single = parse_examples(ser[0], SPEC)
    assert single["d"].shape == (2,) and single["req"].shape == () and single["req"] == 7
    assert_sparse_equal(single["v"], [[0], [1]], [b"a", b"b"], [2])
    empty = parse_examples([], SPEC)
    assert empty["d"].shape == (0, 2) and empty["v"].dense_shape.tolist() == [0, 0]
    assert parse_examples(np.array(ser, dtype=object), SPEC)["req"].tolist() == [7, 8, 9]


def test_parse_missing_required():
    with pytest.raises(ValueError, match=r"Index: 1, Feature: req \(data type: int64\) is "
                                         r"required but could not be found\."):
        parse_examples([encode_example({"req": [1]}), encode_example({"d": [1.0, 2.0]})], SPEC)


def test_parse_wrong_length():
    with pytest.raises(ValueError, match=r"Key: d, Index: 0\.  Number of float values != "
                                         r"expected\.  Values size: 3 but output shape: \[2\] "
                                         r"\(expected 2 values\)"):
        parse_examples([encode_example({"req": [1], "d": [1.0, 2.0, 3.0]})], SPEC)
    # an empty list of the right kind is not "missing": TF rejects it too
    with pytest.raises(ValueError, match=r"Key: s, Index: 0\.  Number of bytes values != "
                                         r"expected\.  Values size: 0 but output shape: \[\]"):
        parse_examples([encode_example({"req": [1], "s": ("bytes", [])})], SPEC)


def test_parse_wrong_kind():
    with pytest.raises(ValueError, match=r"Key: req, Index: 0\.  Data types don't match\. Data "
                                         r"type: float but expected type: int64"):
        parse_examples([encode_example({"req": [1.0]})], SPEC)
    with pytest.raises(ValueError, match=r"Key: v, Index: 0\.  Data types don't match\. "
                                         r"Expected type: string, Actual type: int64"):
        parse_examples([encode_example({"req": [1], "v": [1]})], SPEC)


def test_parse_bad_input_and_spec():
    with pytest.raises(ValueError, match=r"Index: 1\.  Could not parse example input: truncated"):
        parse_examples([encode_example({"req": [1]}), b"\x0a\x05"], SPEC)
    with pytest.raises(ValueError, match="'x': default_value has 1 values but shape"):
        parse_examples([], {"x": FixedLenFeature([2], "float32", 0.0)})
    with pytest.raises(ValueError, match="parse only as float32, int64 or string"):
        parse_examples([], {"x": VarLenFeature("int32")})
    with pytest.raises(ValueError, match="needs a fully defined shape"):
        parse_examples([], {"x": FixedLenFeature([None], "float32")})
    with pytest.raises(TypeError, match="only FixedLenFeature and VarLenFeature"):
        parse_examples([], {"x": ("float32",)})


def test_parse_make_parse_example_spec():
    import widedeep.feature_column as fc
    cols = [fc.numeric_column("age"), fc.numeric_column("xy", shape=(2,), default_value=0.0),
            fc.categorical_column_with_hash_bucket("edu", 10),
            fc.categorical_column_with_identity("id", 5)]
    spec = fc.make_parse_example_spec(cols)
    out = parse_examples([encode_example({"age": [30.0], "edu": ["a", "b"], "id": [3]}),
                          encode_example({"age": [40.0], "xy": [1.0, 2.0]})], spec)
    assert out["age"].shape == (2, 1) and out["age"].tolist() == [[30.0], [40.0]]
    assert out["xy"].tolist() == [[0, 0], [1, 2]]
    assert_sparse_equal(out["edu"], [[0, 0], [0, 1]], [b"a", b"b"], [2, 2])
    assert_sparse_equal(out["id"], [[0, 0]], np.array([3], np.int64), [2, 1])


# --- parity with TF's fixtures ----------------------------------------------------------
def load_fixture():
    d = np.load(FIXTURE, allow_pickle=False)
    return {k: d[k] for k in d.files}


def fixture_spec(d):
    spec = {}
    for key, v in json.loads(str(d["spec_json"])).items():
        spec[key] = (FixedLenFeature(v[1], v[2], v[3]) if v[0] == "fixed"
                     else VarLenFeature(v[1]))
    return spec


def test_fixture_decode():
    d = load_fixture()
    ser = unpack(d["ser_buf"], d["ser_offsets"])
    keys = unpack(d["dec_key_buf"], d["dec_key_offsets"])
    strs = unpack(d["dec_bytes_buf"], d["dec_bytes_offsets"])
    pools = {"bytes": strs, "float": d["dec_floats"], "int64": d["dec_ints"]}
    used = {"bytes": 0, "float": 0, "int64": 0}
    want = [{} for _ in ser]
    for i, key, code, n in zip(d["dec_example"], keys, d["dec_kind"], d["dec_count"]):
        kind = [None, "bytes", "float", "int64"][code]
        vals = []
        if kind:
            vals = pools[kind][used[kind]:used[kind] + n]
            used[kind] += n
        want[i][key.decode()] = (kind, vals)
    assert len(ser) >= 10
    for data, features in zip(ser, want):
        got = decode_example(data)
        assert sorted(got) == sorted(features)
        for key, (kind, vals) in features.items():
            assert got[key][0] == kind, key
            if kind:
                assert_same_values(kind, got[key][1], vals)
            else:
                assert len(got[key][1]) == 0


def assert_parse_matches(out, d, prefix, spec):
    assert sorted(out) == sorted(spec)
    for key, s in spec.items():
        p = f"{prefix}{key}/"
        want = (unpack(d[p + "buf"], d[p + "offsets"]) if p + "buf" in d else d[p + "values"])
        if isinstance(s, VarLenFeature):
            assert_sparse_equal(out[key], d[p + "indices"], want, d[p + "dense_shape"])
        else:
            got = out[key]
            assert got.shape == tuple(d[p + "shape"]), key
            if got.dtype == object:
                assert list(got.reshape(-1)) == want, key
            else:
                assert got.dtype == want.dtype, key
                np.testing.assert_array_equal(got.reshape(-1).view(f"u{got.itemsize}"),
                                              want.view(f"u{want.itemsize}"), err_msg=key)


def test_fixture_parse():
    d = load_fixture()
    spec = fixture_spec(d)
    ser = unpack(d["ser_buf"], d["ser_offsets"])
    assert_parse_matches(parse_examples(ser, spec), d, "batch/", spec)
    assert_parse_matches(parse_examples(ser[0], spec), d, "single/", spec)


# --- live TensorFlow --------------------------------------------------------------------
def tf_example(tf, features):
    feats = {}
    for key, (kind, vals) in features.items():
        if kind == "bytes":
            feats[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=vals))
        elif kind == "float":
            feats[key] = tf.train.Feature(float_list=tf.train.FloatList(value=vals))
        else:
            feats[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=vals))
    return tf.train.Example(features=tf.train.Features(feature=feats))


@pytest.mark.tf
@settings(deadline=None)
@given(st.lists(FEATURES, min_size=1, max_size=4))
def test_live_tf(batch):
    tf = pytest.importorskip("tensorflow")
    for features in batch:
        msg = tf_example(tf, features)
        # TF serializes, ours decodes
        assert_decoded(decode_example(msg.SerializeToString()), features)
        # ours encodes: TF writes the same bytes for each feature (the order of several
        # map entries is TF's own: upb's "deterministic" order is not sorted by key), and
        # reads the whole Example back
        for key, value in features.items():
            assert encode_example({key: value}) == tf_example(tf, {key: value}).SerializeToString()
        ours = encode_example(features)
        back = tf.train.Example.FromString(ours)
        got = {k: (f.WhichOneof("kind").split("_")[0], list(getattr(f, f.WhichOneof("kind")).value))
               for k, f in back.features.feature.items()}
        assert_decoded({k: (kind, np.asarray(v, dtype={"bytes": object, "float": np.float32,
                                                        "int64": np.int64}[kind]))
                        for k, (kind, v) in got.items()}, features)
    # ours encodes, TF parses: VarLen for every key, with the kind of its first use
    kinds = {}
    for features in batch:
        for k, (kind, _) in features.items():
            kinds.setdefault(k, kind)
    batch = [{k: v for k, v in f.items() if v[0] == kinds[k]} for f in batch]
    dtypes = {"bytes": "string", "float": "float32", "int64": "int64"}
    spec = {k: VarLenFeature(dtypes[kind]) for k, kind in kinds.items()}
    tf_spec = {k: tf.io.VarLenFeature(tf.as_dtype(v.dtype)) for k, v in spec.items()}
    ser = [encode_example(f) for f in batch]
    want = tf.io.parse_example(tf.constant(ser), tf_spec) if spec else {}
    got = parse_examples(ser, spec)
    assert sorted(got) == sorted(want)
    for k, w in want.items():
        assert_sparse_equal(got[k], w.indices.numpy(), w.values.numpy(), w.dense_shape.numpy())


@pytest.mark.tf
@settings(deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.lists(st.floats(width=32), min_size=2,
                                                               max_size=2)),
                          st.one_of(st.none(), st.binary(max_size=5)),
                          st.lists(INT64, max_size=3)), max_size=5))
def test_live_tf_dense(rows):
    tf = pytest.importorskip("tensorflow")
    ser = []
    for d, s, v in rows:
        f = {"v": ("int64", v)}
        if d is not None:
            f["d"] = ("float", d)
        if s is not None:
            f["s"] = ("bytes", [s])
        ser.append(encode_example(f))
    spec = {"d": FixedLenFeature([2], "float32", [0.5, -1.0]),
            "s": FixedLenFeature([1], "string", [b"dflt"]), "v": VarLenFeature("int64")}
    want = tf.io.parse_example(tf.constant(ser, dtype=tf.string), {
        "d": tf.io.FixedLenFeature([2], tf.float32, [0.5, -1.0]),
        "s": tf.io.FixedLenFeature([1], tf.string, [b"dflt"]), "v": tf.io.VarLenFeature(tf.int64)})
    got = parse_examples(ser, spec)
    np.testing.assert_array_equal(got["d"].view(np.uint32), want["d"].numpy().view(np.uint32))
    assert got["s"].shape == tuple(want["s"].shape)
    assert got["s"].tolist() == want["s"].numpy().tolist()
    w = want["v"]
    assert_sparse_equal(got["v"], w.indices.numpy(), w.values.numpy(), w.dense_shape.numpy())


@settings(max_examples=200, deadline=None)
@given(FEATURES)
def test_the_fast_scan_decodes_what_the_careful_decoder_decodes(features):
    from widedeep.export import example_proto as ep
    data = encode_example(features)
    fast = ep._decode_fast(data)
    assert fast is not None  # the encoder's output is canonical
    feats, pos = {}, 0
    while pos < len(data):  # the careful decoder, by hand
        field, wire, at, pos = ep._read_tag(data, pos, len(data), "Example")
        s, pos = ep._read_len(data, pos, len(data), "Example.features")
        ep._read_features(data, s, pos, feats)
    slow = {k: ep._finish(v) for k, v in feats.items()}
    assert sorted(fast) == sorted(slow)
    for k in slow:
        assert fast[k][0] == slow[k][0]
        a, b = fast[k][1], slow[k][1]
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes() if a.dtype != object else a.tolist() == b.tolist()


def test_one_value_rows():
    from widedeep.export.example_proto import one_value_rows
    specs = {"a": ("float", None), "s": ("bytes", None), "i": ("int64", None),
             "d": ("float", 2.5)}
    ex = encode_example({"a": [1.5], "s": [b"x"], "i": [-3]})
    assert one_value_rows([ex, ex], specs) == {"a": [1.5, 1.5], "s": [b"x", b"x"],
                                               "i": [-3, -3], "d": [2.5, 2.5]}
    assert one_value_rows([encode_example({"a": [1.0, 2.0], "s": [b"x"], "i": [1]})],
                          specs) is None  # two values
    assert one_value_rows([encode_example({"a": [1.0], "i": [1]})], specs) is None  # missing
    assert one_value_rows([encode_example({"a": [1.0], "s": [b"x"], "i": [1.0]})],
                          specs) is None  # a float where an int64 is wanted


def _one_row_via_rows(data, specs):
    from widedeep.export.example_proto import one_value_rows
    rows = one_value_rows([data], specs)
    return None if rows is None else {k: v[0] for k, v in rows.items()}


def _entry(key, feature):
    """A Features.feature map entry, by hand (to repeat keys, which the encoder cannot)."""
    k = key.encode() if isinstance(key, str) else key
    body = b"\x0a" + varint(len(k)) + k + b"\x12" + varint(len(feature)) + feature
    return b"\x0a" + varint(len(body)) + body


def _example(*entries):
    feats = b"".join(entries)
    return b"\x0a" + varint(len(feats)) + feats


def test_one_value_row_is_one_value_rows_of_one_example():
    from widedeep.export.example_proto import one_value_fields, one_value_row
    specs = {"a": ("float", None), "s": ("bytes", None), "i": ("int64", None),
             "d": ("float", 2.5), "t": ("bytes", b"dflt")}
    fields = one_value_fields(specs)
    one = encode_example({"a": [1.5], "s": [b"x"], "i": [-3]})
    feature_of = {"f": b"\x12\x06\x0a\x04" + np.float32(1.0).tobytes(),  # [1.0]
                  "b": b"\x0a\x03\x0a\x01y"}  # [b"y"]
    cases = [
        one,
        encode_example({"a": [1.5], "s": [b"x" * 200], "i": [2**62], "d": [-0.0], "t": [b""]}),
        encode_example({"a": [1.5], "s": [b"x"], "i": [1], "zz": [1.0, 2.0], "": [b"q"]}),
        encode_example({"a": [1.0, 2.0], "s": [b"x"], "i": [1]}),  # two values
        encode_example({"a": [1.0], "i": [1]}),  # missing, no default
        encode_example({"a": [1.0], "s": [b"x"], "i": [1.0]}),  # the wrong kind
        encode_example({"a": [1.0], "s": [b"x"], "i": [1], "d": ("float", [])}),  # no values
        encode_example({"a": [1.0], "s": [b"x"], "i": [1], "d": []}),  # no list: the default
        _example(_entry("a", feature_of["f"]), _entry("a", feature_of["f"]),
                 _entry("s", feature_of["b"]), _entry("i", b"\x1a\x03\x0a\x01\x05")),  # repeated
        _example(_entry("a", feature_of["f"]), _entry("s", feature_of["b"]),
                 _entry("i", b"\x1a\x03\x0a\x01\x05"), _entry(b"\xff", feature_of["f"])),
        _example(_entry("a", feature_of["f"]), _entry("s", feature_of["b"]),
                 _entry("i", b"\x1a\x02\x08\x05")),  # an unpacked int64: not canonical
        one[:-1], one + b"\x00", b"", b"\x0a\x00",
    ]
    for data in cases:
        assert one_value_row(data, fields) == _one_row_via_rows(data, specs), data
    assert one_value_row(one, fields) == {"a": 1.5, "s": b"x", "i": -3, "d": 2.5, "t": b"dflt"}
    assert one_value_row(bytearray(one), fields) is None  # bytes only, as one_value_rows


@settings(max_examples=200, deadline=None)
@given(FEATURES)
def test_one_value_row_agrees_with_one_value_rows(features):
    from widedeep.export.example_proto import one_value_fields, one_value_row
    data = encode_example(features)
    specs = {k: (kind, None) for k, (kind, _) in features.items()}
    specs["extra"] = ("float", 0.5)
    got, want = one_value_row(data, one_value_fields(specs)), _one_row_via_rows(data, specs)
    if got is None or want is None:
        assert got is want
        return
    assert sorted(got) == sorted(want)
    for k in want:  # NaN equals NaN here (two NaN objects are != in a dict comparison)
        same = got[k] == want[k] or (isinstance(want[k], float) and want[k] != want[k]
                                     and got[k] != got[k])
        assert same and type(got[k]) is type(want[k]), (k, got[k], want[k])
