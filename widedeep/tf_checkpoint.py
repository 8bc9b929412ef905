"""Reads TensorFlow's V2 checkpoints (what tf.estimator writes) without TensorFlow.

A checkpoint ``<prefix>`` (e.g. ``model_dir/model.ckpt-30``) is two kinds of file:

* ``<prefix>.index``: a LevelDB-style sorted table mapping each tensor name to a
  ``BundleEntryProto`` (dtype, shape, shard_id, offset, size, crc32c). The
  entry under the empty key is the ``BundleHeaderProto`` (num_shards,
  endianness, version). The file ends with a 48-byte footer: the varint block
  handles (offset, size) of the metaindex and index blocks, zero padding, and a
  fixed64 magic number. The index block maps separator keys to the handles of
  the data blocks. Every block is followed by a compression byte (0: none) and
  the masked CRC32C of the block and that byte. Keys within a block are
  prefix-compressed: each entry is ``varint shared, varint non_shared, varint
  value_size, key suffix, value``; the block ends with fixed32 restart offsets
  and their count.
* ``<prefix>.data-<shard>-of-<num_shards>``: the raw tensor bytes, little
  endian. A tensor is ``size`` bytes at ``offset`` in its shard, checked by the
  entry's masked CRC32C. A string tensor is stored as the varint64 length of
  every element, a fixed32 masked CRC32C of those lengths (each taken as a
  little-endian uint32, or uint64 if it does not fit), then the bytes of every
  element; its entry's CRC32C covers the lengths (as for the length
  checksum), the length checksum and the bytes.

The ``checkpoint`` file in a model directory is a text protobuf naming the
latest prefix (``model_checkpoint_path: "model.ckpt-30"``).

Protocol buffers are decoded by the small wire-format reader below; nothing in a
file is executed. Partitioned (sliced) variables are listed but not readable.
"""

import os
import re
import struct

import numpy as np

from widedeep.estimator.summary import masked_crc

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
DT_STRING = 7
DT_BFLOAT16 = 14

# TF DataType enum -> numpy dtype (little-endian byte layout in the file).
_DTYPES = {
    1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16,
    6: np.int8, 8: np.complex64, 9: np.int64, 10: np.bool_, 17: np.uint16,
    18: np.complex128, 19: np.float16, 22: np.uint32, 23: np.uint64,
}


class TFCheckpointError(ValueError):
    """A TF checkpoint is missing, truncated, corrupted or uses an unsupported feature."""


# --- protocol buffer wire format ------------------------------------------------------------
def _varint(buf, pos, what):
    """Decodes a base-128 varint at `pos`; returns (value, next position)."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise TFCheckpointError(f"bad varint in {what}")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def _fields(buf, what):
    """Yields (field number, value) of a serialized message: an int for varint and
    fixed fields, bytes for length-delimited ones."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos, what)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos, what)
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            if pos + n > len(buf):
                raise TFCheckpointError(f"truncated fixed field in {what}")
            value = int.from_bytes(buf[pos:pos + n], "little")
            pos += n
        elif wire == 2:
            n, pos = _varint(buf, pos, what)
            if pos + n > len(buf):
                raise TFCheckpointError(f"truncated field in {what}")
            value = bytes(buf[pos:pos + n])
            pos += n
        else:
            raise TFCheckpointError(f"unsupported wire type {wire} in {what}")
        yield num, value


def _int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _parse_header(buf, what):
    header = {"num_shards": 0, "endianness": 0}
    for num, value in _fields(buf, what):
        if num == 1:
            header["num_shards"] = value
        elif num == 2:
            header["endianness"] = value
    return header


def _parse_entry(buf, what):
    entry = {"dtype": 0, "shape": (), "shard_id": 0, "offset": 0, "size": 0,
             "crc32c": None, "sliced": False}
    for num, value in _fields(buf, what):
        if num == 1:
            entry["dtype"] = value
        elif num == 2:
            dims = []
            for n, dim in _fields(value, what):
                if n == 2:
                    size = 0
                    for m, v in _fields(dim, what):
                        if m == 1:
                            size = _int64(v)
                    dims.append(size)
            entry["shape"] = tuple(dims)
        elif num in (3, 4, 5):
            entry[("shard_id", "offset", "size")[num - 3]] = _int64(value)
        elif num == 6:
            entry["crc32c"] = value
        elif num == 7:
            entry["sliced"] = True
    return entry


# --- the sorted-table (.index) file -------------------------------------------------------
def _read_block(data, handle, path):
    """The contents of the block at `handle` = (offset, size), checksum verified."""
    offset, size = handle
    end = offset + size + BLOCK_TRAILER_SIZE
    if end > len(data):
        raise TFCheckpointError(f"{path}: truncated (block at {offset} ends past the file)")
    kind = data[offset + size]
    (stored,) = struct.unpack_from("<I", data, offset + size + 1)
    if masked_crc(data[offset:offset + size + 1]) != stored:
        raise TFCheckpointError(f"{path}: CRC32C mismatch in the block at offset {offset} "
                                "(file corrupted)")
    if kind != 0:
        name = {1: "snappy", 2: "zlib"}.get(kind, f"type {kind}")
        raise TFCheckpointError(f"{path}: unsupported block compression ({name})")
    return data[offset:offset + size]


def _block_entries(block, path):
    """Yields (key, value) of a block, undoing the keys' prefix compression."""
    if len(block) < 4:
        raise TFCheckpointError(f"{path}: block too short")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 * (num_restarts + 1)
    if limit < 0:
        raise TFCheckpointError(f"{path}: bad restart count {num_restarts} in a block")
    key, pos = b"", 0
    while pos < limit:
        shared, pos = _varint(block, pos, path)
        non_shared, pos = _varint(block, pos, path)
        value_size, pos = _varint(block, pos, path)
        if shared > len(key) or pos + non_shared + value_size > limit:
            raise TFCheckpointError(f"{path}: corrupted block entry")
        key = key[:shared] + bytes(block[pos:pos + non_shared])
        pos += non_shared
        yield key, bytes(block[pos:pos + value_size])
        pos += value_size


def _block_handle(buf, pos, path):
    offset, pos = _varint(buf, pos, path)
    size, pos = _varint(buf, pos, path)
    return (offset, size), pos


def _read_table(path):
    """{key bytes: value bytes} of every entry in the table file at `path`."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise TFCheckpointError(f"checkpoint index {path} does not exist") from None
    if len(data) < FOOTER_SIZE:
        raise TFCheckpointError(f"{path}: truncated ({len(data)} bytes, shorter than the "
                                f"{FOOTER_SIZE}-byte footer)")
    footer = data[-FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)
    if magic != TABLE_MAGIC:
        raise TFCheckpointError(f"{path}: bad magic number {magic:#018x} (truncated, or not "
                                "a TensorFlow checkpoint index)")
    _, pos = _block_handle(footer, 0, path)  # the metaindex block: unused
    index_handle, _ = _block_handle(footer, pos, path)
    table = {}
    for _, value in _block_entries(_read_block(data, index_handle, path), path):
        handle, _ = _block_handle(value, 0, path)
        for key, val in _block_entries(_read_block(data, handle, path), path):
            table[key] = val
    return table


# --- the `checkpoint` state file ----------------------------------------------------------
_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"a": b"\a", b"b": b"\b", b"f": b"\f",
            b"v": b"\v"}


def _unescape(text):
    """Undoes the C escapes (``\\"``, ``\\n``, octal, hex) of a text-format protobuf string."""
    def one(m):
        s = m.group(1)
        if s[:1] in b"01234567":
            return bytes([int(s, 8) & 0xFF])
        if s[:1] == b"x":
            return bytes([int(s[1:], 16)])
        return _ESCAPES.get(s, s)

    raw = re.sub(rb"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)", one, text.encode("utf-8"), flags=re.S)
    return raw.decode("utf-8", "surrogateescape")


def latest_checkpoint(model_dir):
    """The latest checkpoint prefix named by ``model_dir/checkpoint``, or None.

    As tf.train.latest_checkpoint: relative paths are taken relative to
    `model_dir`, and None is returned unless the prefix's ``.index`` file exists.
    """
    try:
        with open(os.path.join(model_dir, "checkpoint"), encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    m = re.search(r'^\s*model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"', text, re.M)
    if m is None:
        return None
    prefix = _unescape(m.group(1))
    if not os.path.isabs(prefix):
        prefix = os.path.join(model_dir, prefix)
    return prefix if os.path.exists(prefix + ".index") else None


def _resolve(path):
    if os.path.isdir(path):
        prefix = latest_checkpoint(path)
        if prefix is None:
            raise TFCheckpointError(f"no TensorFlow checkpoint found in directory {path}")
        return prefix
    return path[:-len(".index")] if path.endswith(".index") else path


# --- the reader ---------------------------------------------------------------------------
class TFCheckpointReader:
    """Reads the tensors of one TF V2 checkpoint, as tf.train.load_checkpoint's reader.

    Args:
        prefix: The checkpoint prefix (``.../model.ckpt-30``), its ``.index``
            file, or a model directory (its latest checkpoint is read).

    Raises:
        TFCheckpointError: The index is missing, truncated or corrupted, or a
            data shard is missing.
    """

    def __init__(self, prefix):
        self.prefix = _resolve(os.fspath(prefix))
        index = self.prefix + ".index"
        table = _read_table(index)
        if b"" not in table:
            raise TFCheckpointError(f"{index}: no bundle header entry")
        header = _parse_header(table.pop(b""), f"{index} (header)")
        self._endian = ">" if header["endianness"] == 1 else "<"
        self._num_shards = header["num_shards"]
        self._entries = {}
        for key, value in table.items():
            if key.startswith(b"\x00"):
                continue  # the entry of one slice of a partitioned variable
            name = key.decode("utf-8", "surrogateescape")
            self._entries[name] = _parse_entry(value, f"{index} (entry {name!r})")
        for shard in range(self._num_shards):
            if not os.path.exists(self._shard_path(shard)):
                raise TFCheckpointError(f"data shard {self._shard_path(shard)} of checkpoint "
                                        f"{self.prefix} is missing")

    def _shard_path(self, shard):
        return f"{self.prefix}.data-{shard:05d}-of-{self._num_shards:05d}"

    def get_variable_to_shape_map(self):
        """{name: shape list} of every tensor."""
        return {n: list(e["shape"]) for n, e in self._entries.items()}

    def get_variable_to_dtype_map(self):
        """{name: numpy dtype} of every tensor (strings: object, bfloat16: float32).

        Raises:
            TFCheckpointError: A tensor has a dtype this reader cannot decode.
        """
        return {n: self._dtype(n) for n in self._entries}

    def has_tensor(self, name):
        """Whether the checkpoint holds a tensor called `name`."""
        return name in self._entries

    def _entry(self, name):
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"tensor {name!r} is not in checkpoint {self.prefix}") from None

    def _dtype(self, name):
        code = self._entry(name)["dtype"]
        if code == DT_STRING:
            return np.dtype(object)
        if code == DT_BFLOAT16:
            return np.dtype(np.float32)
        if code not in _DTYPES:
            raise TFCheckpointError(f"tensor {name!r} in checkpoint {self.prefix} has dtype "
                                    f"enum {code}, which is not supported")
        return np.dtype(_DTYPES[code])

    def get_tensor(self, name):
        """The tensor `name` as an ndarray (0-d for scalars).

        String tensors become object arrays of bytes; bfloat16 ones are widened
        (exactly) to float32.

        Raises:
            KeyError: There is no tensor `name`.
            TFCheckpointError: Its bytes are truncated or fail their CRC32C, its
                dtype is unsupported, or it is a partitioned variable.
        """
        entry = self._entry(name)
        dtype = self._dtype(name)
        where = f"tensor {name!r} of checkpoint {self.prefix}"
        if entry["sliced"]:
            raise TFCheckpointError(f"{where} is a partitioned (sliced) variable, which is not "
                                    "supported")
        shape = entry["shape"]
        count = int(np.prod(shape, dtype=np.int64))
        path = self._shard_path(entry["shard_id"])
        try:
            with open(path, "rb") as f:
                f.seek(entry["offset"])
                raw = f.read(entry["size"])
        except FileNotFoundError:
            raise TFCheckpointError(f"data shard {path} for {where} is missing") from None
        if len(raw) != entry["size"]:
            raise TFCheckpointError(f"{path}: truncated (needs {entry['size']} bytes at offset "
                                    f"{entry['offset']} for {where})")
        if entry["dtype"] == DT_STRING:
            return self._strings(raw, count, entry, path, where).reshape(shape)
        if entry["crc32c"] is not None and masked_crc(raw) != entry["crc32c"]:
            raise TFCheckpointError(f"{path}: CRC32C mismatch in the bytes of {where} "
                                    "(file corrupted)")
        stored = np.dtype(np.uint16 if entry["dtype"] == DT_BFLOAT16 else dtype)
        if len(raw) != count * stored.itemsize:
            raise TFCheckpointError(f"{path}: {where} has {len(raw)} bytes, expected "
                                    f"{count * stored.itemsize} for shape {list(shape)}")
        values = np.frombuffer(raw, stored.newbyteorder(self._endian))
        if entry["dtype"] == DT_BFLOAT16:
            values = (values.astype(np.uint32) << 16).view(np.float32)
        elif dtype == np.bool_:
            values = np.frombuffer(raw, np.uint8) != 0
        else:
            values = values.astype(dtype)  # native byte order, writable
        return values.reshape(shape)

    def _strings(self, raw, count, entry, path, where):
        out = np.empty(count, dtype=object)
        if not raw:
            if count:
                raise TFCheckpointError(f"{path}: {where} has no bytes for {count} strings")
            return out
        lengths, pos = [], 0
        for _ in range(count):
            n, pos = _varint(raw, pos, f"{path} ({where})")
            lengths.append(n)
        length_bytes = b"".join(struct.pack(self._endian + ("I" if n <= 0xFFFFFFFF else "Q"), n)
                                for n in lengths)
        if pos + 4 + sum(lengths) != len(raw):
            raise TFCheckpointError(f"{path}: string lengths of {where} do not match its size "
                                    "(file corrupted)")
        (stored,) = struct.unpack_from(self._endian + "I", raw, pos)
        bad = masked_crc(length_bytes) != stored
        if not bad and entry["crc32c"] is not None:
            # the entry's checksum: lengths (as above), length checksum, bytes
            bad = masked_crc(length_bytes + raw[pos:]) != entry["crc32c"]
        if bad:
            raise TFCheckpointError(f"{path}: CRC32C mismatch in the bytes of {where} "
                                    "(file corrupted)")
        pos += 4
        for i, n in enumerate(lengths):
            out[i] = raw[pos:pos + n]
            pos += n
        return out


def load_checkpoint(path):
    """A TFCheckpointReader of `path` (a prefix or a model directory)."""
    return TFCheckpointReader(path)


def list_variables(path):
    """Sorted [(name, shape)] of a checkpoint, without TF's object-graph entry."""
    reader = TFCheckpointReader(path)
    return sorted((n, s) for n, s in reader.get_variable_to_shape_map().items()
                  if n != OBJECT_GRAPH_KEY)


def read_all(path):
    """{name: ndarray} of every tensor of a checkpoint but TF's object-graph entry."""
    reader = TFCheckpointReader(path)
    return {n: reader.get_tensor(n) for n in sorted(reader._entries) if n != OBJECT_GRAPH_KEY}


def convert(tf_path, out_model_dir):
    """Converts a TF checkpoint into this package's HDF5 checkpoint format.

    Writes ``out_model_dir/model.ckpt-<global_step>.h5`` and the ``checkpoint``
    state file through `widedeep.checkpoint.Saver`. The step is the
    ``global_step`` tensor, else the prefix's ``-N`` suffix, else 0.

    Args:
        tf_path: A TF checkpoint prefix or model directory.
        out_model_dir: Where to write the converted checkpoint.

    Returns:
        (converted names, {skipped name: reason}), both sorted by name.
    """
    from widedeep import checkpoint

    reader = TFCheckpointReader(tf_path)
    values, skipped = {}, {}
    for name in sorted(reader._entries):
        if name == OBJECT_GRAPH_KEY:
            skipped[name] = "TensorFlow's object graph, not a variable"
        elif reader._entries[name]["dtype"] == DT_STRING:
            skipped[name] = "string tensors are not converted"
        else:
            try:
                values[name] = reader.get_tensor(name)
            except TFCheckpointError as e:
                skipped[name] = str(e)
    if "global_step" in values:
        step = int(values["global_step"])
    else:
        step = checkpoint.step_of(reader.prefix) or 0
    checkpoint.Saver(out_model_dir, keep_checkpoint_max=0).save(values, step)
    return sorted(values), skipped
