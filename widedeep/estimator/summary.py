"""TensorBoard event files, written directly in TF's record format.

A file ``events.out.tfevents.<time>.<host>`` holds records

    uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)

where each `data` is an ``Event`` protocol buffer: wall_time (field 1, double),
step (2, int64), file_version (3, string) or summary (5, a ``Summary`` of
values: tag (1, string), simple_value (2, float)). Only scalars are written;
that is all the estimator logs. TensorBoard's own reader loads these files
(tested).
"""

import os
import socket
import struct
import time


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field_bytes(num, payload):
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def event(step, wall_time=None, scalars=None, file_version=None):
    """An Event message: (step, wall time) and either a file version or scalars."""
    out = _varint(1 << 3 | 1) + struct.pack("<d", time.time() if wall_time is None
                                            else wall_time)
    out += _varint(2 << 3) + _varint(int(step))
    if file_version is not None:
        out += _field_bytes(3, file_version.encode())
    if scalars:
        summary = b"".join(
            _field_bytes(1, _field_bytes(1, tag.encode()) + _varint(2 << 3 | 5)
                         + struct.pack("<f", float(value)))
            for tag, value in scalars.items())
        out += _field_bytes(5, summary)
    return out


def record(data):
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc(header)) + data + struct.pack(
        "<I", masked_crc(data))


class SummaryWriter:
    """Appends scalar summaries to one event file in `logdir`."""

    def __init__(self, logdir):
        os.makedirs(logdir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
        self.path = os.path.join(logdir, name)
        self._f = open(self.path, "ab")  # noqa: SIM115 (kept open; closed by close())
        self._f.write(record(event(0, file_version="brain.Event:2")))
        self._f.flush()

    def scalars(self, step, values):
        self._f.write(record(event(step, scalars=values)))
        self._f.flush()

    def close(self):
        if not self._f.closed:
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
