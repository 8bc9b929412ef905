"""Writes tests/reference/fixtures/example_proto.npz with TensorFlow 2.15.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_example_proto.py

Holds a batch of serialized tf.train.Examples: most written by TF's own
``tf.train.Example(...).SerializeToString()``, a few written byte by byte in
encodings TF never writes but parses (unpacked numbers, unknown fields, a Feature
with no list, a key given twice, two Examples concatenated). Stored as one uint8
buffer plus offsets (no pickle). Alongside: the spec (JSON), TF's decoding of each
Example (its protobuf message, flattened into a table of features) and
``tf.io.parse_example`` of the batch, and of its first Example alone.
"""

import json
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402
from proto_wire import entry, example, ld, varint  # noqa: E402  (beside this file)

OUT = os.path.join(os.path.dirname(__file__), "fixtures", "example_proto.npz")

# {name: ["fixed", shape, dtype, default] | ["var", dtype]}
SPEC = {
    "f_scalar": ["fixed", [], "float32", 0.5],
    "f_vec": ["fixed", [3], "float32", None],
    "i_scalar": ["fixed", [], "int64", -1],
    "i_mat": ["fixed", [2, 2], "int64", [[1, 2], [3, 4]]],
    "s_scalar": ["fixed", [], "string", "none"],
    "s_vec": ["fixed", [2], "string", ["a", "b"]],
    "v_str": ["var", "string"],
    "v_int": ["var", "int64"],
    "v_float": ["var", "float32"],
}
KIND_CODES = {None: 0, "bytes_list": 1, "float_list": 2, "int64_list": 3}
STRINGS = ["", "a", "hello", "日本語", "emoji🙂", "nul\x00byte", "HS-grad", "x" * 200]
FLOATS = [0.0, -0.0, 1.5, -2.25, 3.4e38, 1e-45, float("inf"), float("-inf"), float("nan")]
INTS = [0, 1, -1, 127, 128, 300, -300, 2**31, 2**63 - 1, -(2**63)]


def tf_spec():
    out = {}
    for k, v in SPEC.items():
        if v[0] == "fixed":
            out[k] = tf.io.FixedLenFeature(v[1], tf.as_dtype(v[2]), v[3])
        else:
            out[k] = tf.io.VarLenFeature(tf.as_dtype(v[1]))
    return out


def feature(kind, vals):
    if kind == "bytes":
        return tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[v.encode() if isinstance(v, str) else v for v in vals]))
    if kind == "float":
        return tf.train.Feature(float_list=tf.train.FloatList(value=vals))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=vals))


def pick(rng, pool, n):
    return [pool[i] for i in rng.integers(0, len(pool), n)]


def tf_examples(rng, n):
    out = []
    for i in range(n):
        f = {"f_vec": feature("float", pick(rng, FLOATS, 3))}
        if rng.random() < 0.6:
            f["f_scalar"] = feature("float", pick(rng, FLOATS, 1))
        if rng.random() < 0.6:
            f["i_scalar"] = feature("int64", pick(rng, INTS, 1))
        if rng.random() < 0.5:
            f["i_mat"] = feature("int64", pick(rng, INTS, 4))
        if rng.random() < 0.6:
            f["s_scalar"] = feature("bytes", pick(rng, STRINGS, 1))
        if rng.random() < 0.5:
            f["s_vec"] = feature("bytes", pick(rng, STRINGS, 2))
        for key, kind, pool in [("v_str", "bytes", STRINGS), ("v_int", "int64", INTS),
                                ("v_float", "float", FLOATS)]:
            if rng.random() < 0.8:  # present, possibly with an empty list
                f[key] = feature(kind, pick(rng, pool, int(rng.integers(0, 5))))
        if rng.random() < 0.4:  # a feature the spec does not name
            f["other"] = feature("bytes", [b"ignored"])
        if i == 0:
            f["raw_bytes"] = feature("bytes", [bytes(range(256))])
        out.append(tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString())
    return out


# --- hand-written encodings (tests/reference/proto_wire.py) ---------------------------
def handmade():
    f_vec = ld(2, ld(1, np.array([1, 2, 3], "<f4").tobytes()))
    unpacked_ints = ld(3, b"".join(varint(8) + varint(v) for v in [5, -7, 2**40]))
    unpacked_floats = ld(2, b"".join(b"\x0d" + np.float32(v).tobytes() for v in [0.25, -8]))
    return [
        # unpacked repeated numbers
        example(entry("f_vec", ld(2, b"".join(b"\x0d" + np.float32(v).tobytes()
                                               for v in [4, 5, 6]))),
                entry("v_int", unpacked_ints), entry("v_float", unpacked_floats),
                entry("i_mat", ld(3, b"".join(varint(8) + varint(v) for v in [9, 8, 7, 6])))),
        # unknown fields in Example (varint, fixed64, fixed32, bytes; TF's parser rejects
        # them deeper down); a Feature with no list set (-> default / empty)
        example(entry("f_vec", f_vec), entry("s_scalar", b""), entry("v_int", b""),
                entry("v_str", ld(1, ld(1, b"x") + ld(1, b"yz"))),
                extra=b"\x10\x96\x01" + b"\x19" + bytes(8) + b"\x25" + bytes(4) + ld(9, b"abc")),
        # a key twice (the later entry wins)
        example(entry("f_vec", f_vec), entry("v_int", ld(3, ld(1, varint(1)))),
                entry("v_int", ld(3, ld(1, varint(2) + varint(3)))),
                entry("i_scalar", ld(3, ld(1, varint(11)))),
                entry("i_scalar", ld(3, ld(1, varint(12))))),
        # two Examples concatenated (protobuf merges them)
        example(entry("f_vec", f_vec), entry("v_float", ld(2, ld(1, np.float32(1).tobytes()))))
        + example(entry("v_float", ld(2, ld(1, np.float32(2).tobytes()))),
                  entry("s_vec", ld(1, ld(1, b"p") + ld(1, b"q")))),
        # empty serialized Example apart from the required feature, in field order reversed
        example(entry("v_str", ld(1, b"")), entry("f_vec", f_vec)),
    ]


def pack(strings):
    enc = [s if isinstance(s, bytes) else s.encode() for s in strings]
    offsets = np.concatenate([[0], np.cumsum([len(e) for e in enc])]).astype(np.int64)
    return np.frombuffer(b"".join(enc), np.uint8).copy(), offsets


def store_parsed(out, prefix, parsed):
    for key, val in parsed.items():
        if isinstance(val, tf.SparseTensor):
            out[f"{prefix}{key}/indices"] = val.indices.numpy()
            out[f"{prefix}{key}/dense_shape"] = val.dense_shape.numpy()
            vals = val.values.numpy()
        else:
            vals = np.asarray(val.numpy(), dtype=object if val.dtype == tf.string else None)
            out[f"{prefix}{key}/shape"] = np.array(vals.shape, np.int64)
        if vals.dtype == object:
            out[f"{prefix}{key}/buf"], out[f"{prefix}{key}/offsets"] = pack(vals.reshape(-1))
        else:
            out[f"{prefix}{key}/values"] = vals.reshape(-1)


def main():
    rng = np.random.default_rng(215)
    ser = tf_examples(rng, 10) + handmade()
    out = {"spec_json": np.array(json.dumps(SPEC))}
    out["ser_buf"], out["ser_offsets"] = pack(ser)
    # TF's protobuf decoding, one row per (example, feature)
    rows = {"example": [], "key": [], "kind": [], "count": []}
    floats, ints, strs = [], [], []
    for i, s in enumerate(ser):
        msg = tf.train.Example.FromString(s)
        for key in sorted(msg.features.feature):
            feat = msg.features.feature[key]
            which = feat.WhichOneof("kind")
            vals = list(getattr(feat, which).value) if which else []
            rows["example"].append(i)
            rows["key"].append(key)
            rows["kind"].append(KIND_CODES[which])
            rows["count"].append(len(vals))
            {"bytes_list": strs, "float_list": floats, "int64_list": ints}.get(
                which, []).extend(vals)
    out["dec_example"] = np.array(rows["example"], np.int64)
    out["dec_key_buf"], out["dec_key_offsets"] = pack(rows["key"])
    out["dec_kind"] = np.array(rows["kind"], np.int64)
    out["dec_count"] = np.array(rows["count"], np.int64)
    out["dec_floats"] = np.array(floats, np.float32)
    out["dec_ints"] = np.array(ints, np.int64)
    out["dec_bytes_buf"], out["dec_bytes_offsets"] = pack(strs)
    store_parsed(out, "batch/", tf.io.parse_example(tf.constant(ser), tf_spec()))
    store_parsed(out, "single/", tf.io.parse_example(tf.constant(ser[0]), tf_spec()))
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(ser)} examples to {OUT}")


if __name__ == "__main__":
    main()
