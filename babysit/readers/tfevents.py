"""TensorBoard event files, read with the standard library: the TFRecord framing and the few
protobuf fields a scalar needs.

Written by hand on purpose: the `tensorboard` package (with protobuf and grpc) is ~60 MB and
its EventAccumulator is slow; the format is small and stable. Each record is
`uint64 length, uint32 masked_crc32c(length), data, uint32 masked_crc32c(data)` and `data` is
an `Event` protobuf (tensorflow/core/util/event.proto):

    Event   { double wall_time = 1; int64 step = 2; Summary summary = 5; ... }
    Summary { repeated Value value = 1; }
    Value   { string tag = 1; float simple_value = 2; TensorProto tensor = 8; ... }
    TensorProto { DataType dtype = 1; TensorShapeProto tensor_shape = 2;
                  bytes tensor_content = 4; repeated float float_val = 5;
                  repeated double double_val = 6; repeated int32 int_val = 7;
                  repeated int64 int64_val = 10; }

Scalars come as `simple_value` (torch.utils.tensorboard, Lightning, TF1) or as a tensor of
shape [] (TF2's tf.summary.scalar). A record cut short at the end of the file is a run still
writing; a record whose CRC does not match is damaged, and reading stops there.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO, NamedTuple

import google_crc32c

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")
_MASK_DELTA = 0xA282EAD8
# TensorProto dtypes of a scalar: DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64 -> struct format.
_TENSOR_FORMATS = {1: "<f", 2: "<d", 3: "<i", 9: "<q"}
MAX_RECORD_BYTES = 256 << 20  # an event is kilobytes; a bigger length is a damaged header


class DamagedRecord(Exception):
    """A record whose length or data CRC does not match: the file is damaged there."""


class Scalar(NamedTuple):  # a tuple: cheap to create 100,000 times
    """One logged number: tag, step, value and wall-clock time (seconds since the epoch)."""

    tag: str
    step: int
    value: float
    wall_time: float


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC-32C of `data`."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def records(fh: IO[bytes], chunk: int = 1 << 22) -> Iterator[bytes]:
    """The data of each whole record from the current position; stops before a cut-off one.

    After the iterator ends, fh is positioned at the start of the first incomplete record, so
    a follower can read on from there when more bytes arrive. Raises DamagedRecord on a CRC
    mismatch. The file is read in chunks of `chunk` bytes and records sliced out of them.
    """
    offset = fh.tell()  # file position of buf[0]
    buf = b""
    pos = 0
    unpack_header, unpack_footer = _HEADER.unpack_from, _FOOTER.unpack_from
    while True:
        avail = len(buf) - pos
        need = 12
        if avail >= 12:
            length, length_crc = unpack_header(buf, pos)
            if masked_crc(buf[pos : pos + 8]) != length_crc or length > MAX_RECORD_BYTES:
                raise DamagedRecord(f"bad record header at byte {offset + pos}")
            need = 16 + length
            if avail >= need:
                data = buf[pos + 12 : pos + 12 + length]
                if masked_crc(data) != unpack_footer(buf, pos + 12 + length)[0]:
                    raise DamagedRecord(f"bad record data at byte {offset + pos}")
                pos += need
                yield data
                continue
        more = fh.read(max(chunk, need - avail))
        if not more:
            fh.seek(offset + pos)
            return
        buf, offset, pos = buf[pos:] + more, offset + pos, 0


_U64 = (1 << 64) - 1


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """A protobuf varint at `pos`: at most 10 bytes, its value kept to 64 bits as protobuf's
    own parsers keep it (a step of 2**64 or more, or an int_val of 2**1100, was an
    OverflowError further on that hid the whole run); a longer one is damage (ValueError)."""
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _U64, pos
        shift += 7
        if shift >= 70:
            raise ValueError("a varint longer than 10 bytes")


def _fields(buf: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of a protobuf message; bytes for length-delimited."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:  # groups (3, 4) are not used by these messages
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def _tensor_scalar(buf: bytes) -> float | None:
    """The value of a TensorProto holding one number (shape [] or [1]), else None."""
    dtype, dims, content, values = 0, 0, b"", []
    for number, wire, value in _fields(buf):
        if number == 1 and wire == 0:
            dtype = value  # type: ignore[assignment]
        elif number == 2 and wire == 2:
            dims = sum(1 for n, _, _ in _fields(value) if n == 2)  # type: ignore[arg-type]
        elif number == 4 and wire == 2:
            content = value  # type: ignore[assignment]
        elif number in (5, 6) and wire == 2:  # packed floats / doubles
            size = 4 if number == 5 else 8
            fmt = "<f" if number == 5 else "<d"
            values += [struct.unpack_from(fmt, value, i)[0]  # type: ignore[arg-type]
                       for i in range(0, len(value), size)]  # type: ignore[arg-type]
        elif number == 5 and wire == 5:
            values.append(_FLOAT.unpack(value)[0])  # type: ignore[arg-type]
        elif number == 6 and wire == 1:
            values.append(_DOUBLE.unpack(value)[0])  # type: ignore[arg-type]
        elif number in (7, 10) and wire == 0:
            values.append(float(value))  # type: ignore[arg-type]
    if dims > 1:
        return None
    if content and dtype in _TENSOR_FORMATS:
        fmt = _TENSOR_FORMATS[dtype]
        if len(content) == struct.calcsize(fmt):
            return float(struct.unpack(fmt, content)[0])
        return None
    return float(values[0]) if len(values) == 1 else None


def _simple_scalar(data: bytes) -> Scalar | None:
    """The one scalar of an Event laid out as add_scalar writes it, read without the general
    parser (2x faster); None for any other layout. Lengths below 128 are one-byte varints."""
    n = len(data)
    if n < 24 or data[0] != 0x09 or data[9] != 0x10 or n > 127 + 16:
        return None
    step = data[10]
    pos = 11
    if step >= 0x80:
        step, pos = _varint(data, 10)
    # summary (0x2a), its one value (0x0a), the value's tag (0x0a), then simple_value (0x15)
    if data[pos] != 0x2A or data[pos + 1] != n - pos - 2 or data[pos + 2] != 0x0A \
            or data[pos + 3] != n - pos - 4 or data[pos + 4] != 0x0A:
        return None
    start = pos + 6
    end = start + data[pos + 5]
    if end + 5 != n or data[end] != 0x15:
        return None
    return Scalar(data[start:end].decode("utf-8", "replace"),
                  step if step < 1 << 63 else step - (1 << 64),
                  _FLOAT.unpack_from(data, end + 1)[0], _DOUBLE.unpack_from(data, 1)[0])


def scalars(data: bytes) -> list[Scalar]:
    """The scalars in one Event record (none for graphs, images, histograms, metadata)."""
    simple = _simple_scalar(data)
    if simple is not None:
        return [simple]
    wall_time, step, summary = 0.0, 0, None
    for number, wire, value in _fields(data):
        if number == 1 and wire == 1:
            wall_time = _DOUBLE.unpack(value)[0]  # type: ignore[arg-type]
        elif number == 2 and wire == 0:
            step = value if value < 1 << 63 else value - (1 << 64)  # type: ignore[operator]
        elif number == 5 and wire == 2:
            summary = value
    if summary is None:
        return []
    out = []
    for number, wire, value in _fields(summary):  # type: ignore[arg-type]
        if number != 1 or wire != 2:
            continue
        tag, number_value = None, None
        for n, w, v in _fields(value):  # type: ignore[arg-type]
            if n == 1 and w == 2:
                tag = v.decode("utf-8", "replace")  # type: ignore[attr-defined]
            elif n == 2 and w == 5:
                number_value = _FLOAT.unpack(v)[0]  # type: ignore[arg-type]
            elif n == 8 and w == 2:
                number_value = _tensor_scalar(v)  # type: ignore[arg-type]
        if tag is not None and number_value is not None:
            out.append(Scalar(tag, step, number_value, wall_time))
    return out
