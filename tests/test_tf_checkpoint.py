"""The pure-Python TF V2 checkpoint reader: parity with what TF 2.15 reads from
fixture checkpoints, corrupted copies, hand-built tables, and live TF."""

import os
import shutil
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from widedeep import checkpoint
from widedeep import tf_checkpoint as tfc
from widedeep.estimator.summary import masked_crc

HERE = os.path.dirname(__file__)
FIXTURES = os.path.join(HERE, "reference", "fixtures")
CKPT_DIR = os.path.join(FIXTURES, "tf_ckpt")
PREFIXES = {
    "v1": os.path.join(CKPT_DIR, "model.ckpt-30"),
    "dtypes": os.path.join(CKPT_DIR, "dtypes", "all"),
    "object": os.path.join(CKPT_DIR, "object", "ckpt-1"),
}


@pytest.fixture(scope="module")
def expected():
    """{tag: {name: (TF dtype name, value)}} as TF read the fixtures."""
    npz = np.load(os.path.join(FIXTURES, "tf_ckpt_values.npz"), allow_pickle=False)
    out = {}
    for tag in PREFIXES:
        out[tag] = {}
        for i, (name, dtype) in enumerate(zip(npz[f"{tag}_names"], npz[f"{tag}_dtypes"])):
            if dtype == "string":
                buf = npz[f"{tag}_{i}_buf"].tobytes()
                ends = np.cumsum(npz[f"{tag}_{i}_len"])
                flat = np.empty(len(ends), object)
                for j, end in enumerate(ends):
                    flat[j] = buf[end - npz[f"{tag}_{i}_len"][j]:end]
                value = flat.reshape(tuple(npz[f"{tag}_{i}_shape"]))
            else:
                value = npz[f"{tag}_{i}"]
            out[tag][str(name)] = (str(dtype), value)
    return out


def numpy_dtype(tf_name):
    return np.dtype({"string": object, "bfloat16": np.float32}.get(tf_name, tf_name))


# --- parity with TF on the fixtures ----------------------------------------------------------
@pytest.mark.parametrize("tag", sorted(PREFIXES))
def test_fixture_equals_tf(tag, expected):
    want = expected[tag]
    reader = tfc.TFCheckpointReader(PREFIXES[tag])
    assert sorted(reader.get_variable_to_shape_map()) == sorted(want)
    dtypes = reader.get_variable_to_dtype_map()
    shapes = reader.get_variable_to_shape_map()
    for name, (tf_dtype, value) in want.items():
        got = reader.get_tensor(name)
        assert isinstance(got, np.ndarray), name
        assert got.dtype == value.dtype == numpy_dtype(tf_dtype) == dtypes[name], name
        assert got.shape == value.shape == tuple(shapes[name]), name
        np.testing.assert_array_equal(got, value, err_msg=name)
        assert reader.has_tensor(name)
    assert not reader.has_tensor("nope")


def test_fixture_names_and_kinds(expected):
    v1 = expected["v1"]
    assert {"global_step", "dnn/hiddenlayer_0/kernel", "empty", "vocab", "name"} <= set(v1)
    assert v1["empty"][1].shape == (0, 3) and v1["scalar"][1].shape == ()
    assert v1["vocab"][1][4] == b"x" * 300 and v1["vocab"][1][0] == b""
    assert tfc.OBJECT_GRAPH_KEY in expected["object"]


@pytest.mark.parametrize("tag", sorted(PREFIXES))
def test_list_variables_and_read_all(tag, expected):
    want = {n: v for n, (_, v) in expected[tag].items() if n != tfc.OBJECT_GRAPH_KEY}
    assert tfc.list_variables(PREFIXES[tag]) == sorted((n, list(v.shape))
                                                       for n, v in want.items())
    got = tfc.read_all(PREFIXES[tag])
    assert sorted(got) == sorted(want)
    for name, value in want.items():
        np.testing.assert_array_equal(got[name], value)


def test_object_graph_entry_readable_but_not_listed():
    reader = tfc.load_checkpoint(PREFIXES["object"])
    graph = reader.get_tensor(tfc.OBJECT_GRAPH_KEY)
    assert graph.shape == () and isinstance(graph[()], bytes) and len(graph[()]) > 10
    assert all(n != tfc.OBJECT_GRAPH_KEY for n, _ in tfc.list_variables(PREFIXES["object"]))


def test_model_dir_and_state_file(tmp_path):
    assert tfc.latest_checkpoint(CKPT_DIR) == PREFIXES["v1"]
    assert tfc.TFCheckpointReader(CKPT_DIR).prefix == PREFIXES["v1"]
    assert tfc.TFCheckpointReader(PREFIXES["v1"] + ".index").prefix == PREFIXES["v1"]
    assert tfc.latest_checkpoint(str(tmp_path)) is None
    assert tfc.latest_checkpoint(str(tmp_path / "absent")) is None
    (tmp_path / "checkpoint").write_text(f'model_checkpoint_path: "{PREFIXES["v1"]}"\n'
                                         'all_model_checkpoint_paths: "x"\n')
    assert tfc.latest_checkpoint(str(tmp_path)) == PREFIXES["v1"]
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-5"\n')
    assert tfc.latest_checkpoint(str(tmp_path)) is None  # no .index file
    (tmp_path / "model.ckpt-5.index").write_bytes(b"")
    assert tfc.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model.ckpt-5")
    (tmp_path / 'we"ird\u00e9.index').write_bytes(b"")
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "we\\"ird\\303\\251"\n')
    assert tfc.latest_checkpoint(str(tmp_path)) == str(tmp_path / 'we"ird\u00e9')
    os.mkdir(tmp_path / "empty")
    with pytest.raises(tfc.TFCheckpointError, match="no TensorFlow checkpoint found .*empty"):
        tfc.TFCheckpointReader(str(tmp_path / "empty"))


def test_missing_tensor_is_key_error():
    reader = tfc.TFCheckpointReader(PREFIXES["v1"])
    with pytest.raises(KeyError, match="'dnn/nope'.*model.ckpt-30"):
        reader.get_tensor("dnn/nope")


# --- corrupted copies ------------------------------------------------------------------------
@pytest.fixture
def copy(tmp_path):
    shutil.copytree(CKPT_DIR, tmp_path / "ckpt")
    return str(tmp_path / "ckpt" / "model.ckpt-30")


def edit(path, fn):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data = fn(data)
    with open(path, "wb") as f:
        f.write(data)


def flip(pos):
    def fn(data):
        data[pos] ^= 0x40
        return data
    return fn


def test_truncated_index(copy):
    edit(copy + ".index", lambda d: d[:len(d) // 2])
    with pytest.raises(tfc.TFCheckpointError, match=r"model.ckpt-30.index: bad magic.*truncated"):
        tfc.TFCheckpointReader(copy)
    edit(copy + ".index", lambda d: d[:20])
    with pytest.raises(tfc.TFCheckpointError, match=r"model.ckpt-30.index: truncated \(20 bytes"):
        tfc.TFCheckpointReader(copy)


def test_flipped_byte_in_index(copy):
    edit(copy + ".index", flip(7))
    with pytest.raises(tfc.TFCheckpointError, match=r"model.ckpt-30.index: CRC32C mismatch"):
        tfc.TFCheckpointReader(copy)


def test_bad_magic(copy):
    edit(copy + ".index", flip(-1))
    with pytest.raises(tfc.TFCheckpointError, match=r"model.ckpt-30.index: bad magic number"):
        tfc.TFCheckpointReader(copy)


def test_snappy_block_rejected(copy):
    def snappy(data):
        footer = bytes(data[-tfc.FOOTER_SIZE:])
        _, pos = tfc._block_handle(footer, 0, "")
        (offset, size), _ = tfc._block_handle(footer, pos, "")
        data[offset + size] = 1
        data[offset + size + 1:offset + size + 5] = struct.pack(
            "<I", masked_crc(bytes(data[offset:offset + size + 1])))
        return data
    edit(copy + ".index", snappy)
    with pytest.raises(tfc.TFCheckpointError, match=r"unsupported block compression \(snappy"):
        tfc.TFCheckpointReader(copy)


@pytest.mark.parametrize("name", ["dnn/hiddenlayer_0/kernel", "vocab", "global_step"])
def test_flipped_byte_in_data_shard(copy, name):
    entry = tfc.TFCheckpointReader(copy)._entries[name]
    edit(copy + ".data-00000-of-00001", flip(entry["offset"] + entry["size"] - 1))
    reader = tfc.TFCheckpointReader(copy)
    with pytest.raises(tfc.TFCheckpointError,
                       match=rf"data-00000-of-00001: CRC32C mismatch .*'{name}'"):
        reader.get_tensor(name)
    others = [n for n in reader.get_variable_to_shape_map() if n != name]
    for other in others:  # the other tensors are intact
        reader.get_tensor(other)


def test_flipped_string_length(copy):
    entry = tfc.TFCheckpointReader(copy)._entries["vocab"]
    edit(copy + ".data-00000-of-00001", flip(entry["offset"] + 1))
    with pytest.raises(tfc.TFCheckpointError, match=r"data-00000-of-00001: .*'vocab'"):
        tfc.TFCheckpointReader(copy).get_tensor("vocab")


def test_missing_data_shard(copy):
    os.remove(copy + ".data-00000-of-00001")
    with pytest.raises(tfc.TFCheckpointError,
                       match=r"data shard .*model.ckpt-30.data-00000-of-00001 .* is missing"):
        tfc.TFCheckpointReader(copy)


def test_truncated_data_shard(copy):
    edit(copy + ".data-00000-of-00001", lambda d: d[:10])
    reader = tfc.TFCheckpointReader(copy)
    with pytest.raises(tfc.TFCheckpointError, match=r"data-00000-of-00001: truncated"):
        reader.get_tensor("vocab")


def test_missing_index(tmp_path):
    with pytest.raises(tfc.TFCheckpointError, match=r"index .*nothing.index does not exist"):
        tfc.TFCheckpointReader(str(tmp_path / "nothing"))


# --- hand-built tables: several data blocks, unsupported entries -------------------------------
def varint(n):
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n >> 7 else 0))
        n >>= 7
        if not n:
            return bytes(out)


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    return key + (varint(payload) if wire == 0 else varint(len(payload)) + payload)


def block(items, restart_every=3):
    """A table block of sorted (key, value), prefix-compressed, with restarts."""
    out, restarts, last = bytearray(), [], b""
    for i, (key, value) in enumerate(items):
        shared = 0
        if i % restart_every:
            while shared < min(len(key), len(last)) and key[shared] == last[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += varint(shared) + varint(len(key) - shared) + varint(len(value))
        out += key[shared:] + value
        last = key
    out += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def table(items, per_block=4):
    """A whole table file of sorted (key, value) in blocks of `per_block` entries."""
    out, index = bytearray(), []

    def add(contents):
        handle = varint(len(out)) + varint(len(contents))
        out.extend(contents + b"\0" + struct.pack("<I", masked_crc(contents + b"\0")))
        return handle

    for i in range(0, len(items), per_block):
        chunk = items[i:i + per_block]
        index.append((chunk[-1][0], add(block(chunk))))
    meta = add(block([]))
    footer = meta + add(block(index))
    out += footer.ljust(40, b"\0") + struct.pack("<Q", tfc.TABLE_MAGIC)
    return bytes(out)


def entry(dtype, shape, offset, data, sliced=False):
    dims = b"".join(field(2, 2, field(1, 0, d)) for d in shape)
    proto = (field(1, 0, dtype) + field(2, 2, dims) + field(4, 0, offset)
             + field(5, 0, len(data)) + varint(6 << 3 | 5) + struct.pack("<I", masked_crc(data)))
    return proto + (field(7, 2, b"") if sliced else b"")


def write_bundle(prefix, tensors, extra=()):
    """Writes {name: float32/int64 array} as a one-shard bundle; `extra` entries raw."""
    data, items = bytearray(), []
    for name, value in tensors.items():
        raw = value.tobytes()
        code = {np.dtype(np.float32): 1, np.dtype(np.int64): 9}[value.dtype]
        items.append((name.encode(), entry(code, value.shape, len(data), raw)))
        data += raw
    items += list(extra)
    items.append((b"", field(1, 0, 1)))
    with open(prefix + ".index", "wb") as f:
        f.write(table(sorted(items)))
    with open(prefix + ".data-00000-of-00001", "wb") as f:
        f.write(bytes(data))


def test_hand_built_table_with_many_blocks(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {f"layer_{i:02d}/{k}": rng.normal(size=(i % 3, 2)).astype(np.float32)
               for i in range(25) for k in ("bias", "kernel")}
    tensors["global_step"] = np.array(99, np.int64)
    prefix = str(tmp_path / "model.ckpt-99")
    write_bundle(prefix, tensors)
    got = tfc.read_all(prefix)
    assert sorted(got) == sorted(tensors)
    for name, value in tensors.items():
        np.testing.assert_array_equal(got[name], value)
        assert got[name].dtype == value.dtype


def test_unsupported_dtype_and_sliced_entries(tmp_path):
    prefix = str(tmp_path / "odd")
    write_bundle(prefix, {"ok": np.ones(2, np.float32)}, extra=[
        (b"handle", entry(20, (), 0, b"")),  # DT_RESOURCE
        (b"part", entry(1, (4, 3), 0, b"", sliced=True)),
        (b"\x00slice-key", entry(1, (2, 3), 0, b"")),  # one slice: not listed
    ])
    reader = tfc.TFCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map() == {"ok": [2], "handle": [], "part": [4, 3]}
    with pytest.raises(tfc.TFCheckpointError, match=r"'handle' .*odd has dtype enum 20"):
        reader.get_tensor("handle")
    with pytest.raises(tfc.TFCheckpointError, match=r"'part' .*partitioned"):
        reader.get_tensor("part")
    np.testing.assert_array_equal(reader.get_tensor("ok"), np.ones(2, np.float32))


def test_wrong_size_entry(tmp_path):
    prefix = str(tmp_path / "bad")
    write_bundle(prefix, {}, extra=[(b"v", entry(1, (3,), 0, b"\0" * 8))])
    with open(prefix + ".data-00000-of-00001", "wb") as f:
        f.write(b"\0" * 8)
    with pytest.raises(tfc.TFCheckpointError, match=r"'v' .*8 bytes, expected 12"):
        tfc.TFCheckpointReader(prefix).get_tensor("v")


# --- conversion to our HDF5 checkpoints ------------------------------------------------------
def test_convert(tmp_path, expected):
    out = str(tmp_path / "out")
    converted, skipped = tfc.convert(CKPT_DIR, out)
    strings = {n for n, (d, _) in expected["v1"].items() if d == "string"}
    assert set(skipped) == strings and all("string" in r for r in skipped.values())
    assert converted == sorted(set(expected["v1"]) - strings)
    prefix = checkpoint.latest_checkpoint(out)
    assert prefix == os.path.join(out, "model.ckpt-30")
    got = checkpoint.read(prefix)
    assert sorted(got) == converted
    for name in converted:
        np.testing.assert_array_equal(got[name], expected["v1"][name][1])
        assert got[name].dtype == expected["v1"][name][1].dtype

    converted, skipped = tfc.convert(PREFIXES["object"], str(tmp_path / "obj"))
    assert tfc.OBJECT_GRAPH_KEY in skipped and len(converted) == 2
    assert checkpoint.latest_checkpoint(str(tmp_path / "obj")).endswith("model.ckpt-1")


# --- live against TF -------------------------------------------------------------------------
DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
          "uint16", "uint32", "uint64", "bool", "complex64", "complex128", "bfloat16", "string"]


def random_value(rng, dtype, shape):
    if dtype == "string":
        flat = np.empty(int(np.prod(shape)), object)
        for i in range(flat.size):
            flat[i] = rng.bytes(int(rng.choice([0, 1, 5, 130, 300])))
        return flat.reshape(shape)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith(("float", "bfloat", "complex")):
        value = rng.normal(size=shape) * 10.0 ** rng.integers(-3, 4)
        return value + 1j * rng.normal(size=shape) if dtype.startswith("complex") else value
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


@pytest.mark.tf
@settings(max_examples=10)
@given(st.lists(st.tuples(st.sampled_from(DTYPES), st.lists(st.integers(0, 4), max_size=3)),
                min_size=1, max_size=6),
       st.integers(0, 2**32 - 1), st.booleans())
def test_live_equal_tf(tmp_path_factory, specs, seed, v1_saver):
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(seed)
    values = {f"scope_{i}/var_{dtype}": random_value(rng, dtype, tuple(shape))
              for i, (dtype, shape) in enumerate(specs)}
    prefix = str(tmp_path_factory.mktemp("live") / "model.ckpt")
    if v1_saver:  # as an estimator saves: graph mode, sharded, with a state file
        with tf.Graph().as_default():
            variables = [tf.compat.v1.Variable(tf.constant(v, dtype=n.split("_")[-1]), name=n)
                         for n, v in values.items()]
            saver = tf.compat.v1.train.Saver(variables, sharded=True, save_relative_paths=True)
            with tf.compat.v1.Session() as sess:
                sess.run(tf.compat.v1.global_variables_initializer())
                prefix = saver.save(sess, prefix, global_step=7, write_meta_graph=False)
        assert tfc.latest_checkpoint(os.path.dirname(prefix)) == prefix
    else:
        tf.raw_ops.SaveV2(prefix=prefix, tensor_names=list(values),
                          shape_and_slices=[""] * len(values),
                          tensors=[tf.constant(v, dtype=n.split("_")[-1])
                                   for n, v in values.items()])
    want = tf.train.load_checkpoint(prefix)
    reader = tfc.TFCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map() == want.get_variable_to_shape_map()
    for name in values:
        expect = want.get_tensor(name)
        expect = np.array(expect, object) if isinstance(expect, bytes) else np.asarray(expect)
        if expect.dtype.name == "bfloat16":
            expect = expect.astype(np.float32)
        got = reader.get_tensor(name)
        assert got.dtype == expect.dtype and got.shape == expect.shape, name
        np.testing.assert_array_equal(got, expect, err_msg=name)
