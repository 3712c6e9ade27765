"""A minimal Mapbox vector tile reader (the protobuf wire format), and the tile of a point."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

# -- a minimal Mapbox vector tile reader (protobuf wire format) ----------------------------


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            value, at = data[at : at + length], at + length
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def _value(data: bytes) -> object:
    for number, _, value in _fields(data):
        if number == 1:
            return bytes(value).decode()
        if number in (4, 5):
            return int(value)
        if number == 6:
            return (int(value) >> 1) ^ -(int(value) & 1)
        if number == 7:
            return bool(value)
    return None


def decode_tile(data: bytes) -> dict[str, list[dict[str, object]]]:
    """Layer name -> each feature's properties."""
    layers: dict[str, list[dict[str, object]]] = {}
    for number, _, layer in _fields(data):
        if number != 3:
            continue
        name, keys, values, features = "", [], [], []
        for n, _, v in _fields(layer):
            if n == 1:
                name = bytes(v).decode()
            elif n == 3:
                keys.append(bytes(v).decode())
            elif n == 4:
                values.append(_value(v))
            elif n == 2:
                features.append(v)
        decoded = []
        for feature in features:
            tags: list[int] = []
            for n, _, v in _fields(feature):
                if n == 2:
                    at = 0
                    while at < len(v):
                        tag, at = _varint(v, at)
                        tags.append(tag)
            decoded.append({keys[k]: values[t] for k, t in zip(tags[::2], tags[1::2], strict=True)})
        layers[name] = decoded
    return layers


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y
