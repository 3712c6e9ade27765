"""File safety before any parser sees a file: size limits, format by content, zips, encodings."""

from __future__ import annotations

import codecs
import enum
import shutil
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geodata.imports.report import FileRefused, Issue

SNIFF_BYTES = 64 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_COMPRESSION_RATIO = 100
"""Shapefile parts compress well (the .dbf pads with spaces), but not a hundredfold."""
_RATIO_FLOOR_BYTES = 1024 * 1024
"""Below this uncompressed size a high ratio cannot hurt, so it is not checked."""
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")
_ZIP_MAGIC = b"PK\x03\x04"
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_UTF8_BOM = b"\xef\xbb\xbf"


class FileFormat(enum.StrEnum):
    GEOJSON = "GeoJSON"
    GEOPACKAGE = "GeoPackage"
    SHAPEFILE_ZIP = "zipped Shapefile"
    SHAPEFILE = "Shapefile"
    CSV = "CSV"
    OSM_PBF = "OSM PBF"


_EXTENSIONS: dict[str, FileFormat] = {
    ".geojson": FileFormat.GEOJSON,
    ".json": FileFormat.GEOJSON,
    ".gpkg": FileFormat.GEOPACKAGE,
    ".zip": FileFormat.SHAPEFILE_ZIP,
    ".shp": FileFormat.SHAPEFILE,
    ".csv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".pbf": FileFormat.OSM_PBF,
}


def refuse(path: Path | str, reason: str) -> FileRefused:
    """A FileRefused with one file-level issue."""
    return FileRefused(path, [Issue(reason=reason)])


def check_size(path: Path, max_bytes: int) -> int:
    """The file's size in bytes; refused if it is not a regular file or exceeds `max_bytes`."""
    try:
        st = path.lstat()
    except OSError:
        raise refuse(path, "the file does not exist or cannot be read") from None
    if not stat.S_ISREG(st.st_mode):
        raise refuse(path, "not a regular file")
    if st.st_size > max_bytes:
        raise refuse(path, f"the file is {st.st_size} bytes, over the limit of {max_bytes} bytes")
    if st.st_size == 0:
        raise refuse(path, "the file is empty")
    return st.st_size


def _format_by_extension(path: Path) -> FileFormat:
    suffix = path.suffix.lower()
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        known = ", ".join(sorted(_EXTENSIONS))
        raise refuse(path, f"unknown file extension {suffix!r}: expected one of {known}") from None


def _content_matches(fmt: FileFormat, head: bytes) -> bool:
    body = head.removeprefix(_UTF8_BOM)
    if fmt is FileFormat.GEOJSON:
        return body.lstrip(b" \t\r\n").startswith(b"{")
    if fmt is FileFormat.GEOPACKAGE:
        return head.startswith(_SQLITE_MAGIC) and head[68:72] in _GPKG_APPLICATION_IDS
    if fmt is FileFormat.SHAPEFILE_ZIP:
        return head.startswith(_ZIP_MAGIC)
    if fmt is FileFormat.SHAPEFILE:
        return head.startswith(_SHP_MAGIC)
    if fmt is FileFormat.OSM_PBF:
        return is_osm_pbf(head)
    # CSV: text, and not markup or JSON that a permissive reader might take for something else.
    stripped = body.lstrip(b" \t\r\n")
    return b"\x00" not in head and not stripped.startswith((b"<", b"{", b"["))


def is_osm_pbf(head: bytes) -> bool:
    """An OSM PBF starts with a 4-byte length and a BlobHeader whose type is 'OSMHeader'."""
    if len(head) < 4 + 11:
        return False
    (length,) = struct.unpack(">I", head[:4])
    # BlobHeader field 1 (type, string): tag 0x0a, length 9, 'OSMHeader'.
    return 0 < length < 64 * 1024 and head[4:15] == b"\x0a\x09OSMHeader"


def detect_format(path: Path) -> FileFormat:
    """The format named by the extension, confirmed by the first bytes; else refused."""
    fmt = _format_by_extension(path)
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if not _content_matches(fmt, head):
        raise refuse(
            path,
            f"disguised format: the name says {fmt.value} but the content is not "
            f"{fmt.value}; refused",
        )
    return fmt


@dataclass(frozen=True)
class ShapefileParts:
    """The parts of one Shapefile extracted into a private directory."""

    shp: Path
    has_prj: bool
    has_cpg: bool


def _safe_member_name(name: str) -> PurePosixPath | None:
    """The member's path, or None when it could escape the extraction directory."""
    if "\\" in name or "\x00" in name:
        return None
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        return None
    return p


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def check_zip(path: Path, zf: zipfile.ZipFile, *, max_bytes: int) -> list[zipfile.ZipInfo]:
    """Every member checked before anything is extracted: names, links, declared sizes, ratio."""
    members = zf.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise refuse(path, f"the zip holds {len(members)} members, over {MAX_ZIP_MEMBERS}")
    total = 0
    for info in members:
        if _safe_member_name(info.filename) is None:
            raise refuse(path, "zip slip: a member path is absolute or leaves the archive")
        if _is_symlink(info):
            raise refuse(path, "a zip member is a symbolic link")
        if info.flag_bits & 0x1:
            raise refuse(path, "the zip is encrypted")
        total += info.file_size
        if info.file_size > max_bytes or total > max_bytes:
            raise refuse(
                path,
                f"zip bomb: the declared uncompressed size exceeds the limit of {max_bytes} bytes",
            )
        if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise refuse(
                path,
                f"zip bomb: a member's compression ratio exceeds {MAX_COMPRESSION_RATIO}:1",
            )
    return members


def _pick_shapefile(
    path: Path, members: list[zipfile.ZipInfo], layer_name: str | None
) -> dict[str, zipfile.ZipInfo]:
    """The parts ('.shp' -> member) of the zip's one Shapefile, or of the one `layer_name` names."""
    stems: dict[str, dict[str, zipfile.ZipInfo]] = {}
    for info in members:
        if info.is_dir():
            continue
        p = PurePosixPath(info.filename)
        if p.parts[0] == "__MACOSX" or p.name.startswith("._"):
            continue
        ext = p.suffix.lower()
        if ext in SHAPEFILE_PARTS:
            stem = str(p.with_suffix(""))
            stems.setdefault(stem, {})[ext] = info
    shapefiles = {stem: parts for stem, parts in stems.items() if ".shp" in parts}
    if layer_name is not None:
        shapefiles = {
            s: parts for s, parts in shapefiles.items() if PurePosixPath(s).name == layer_name
        }
    if not shapefiles:
        named = f" named {layer_name!r}" if layer_name else ""
        raise refuse(path, f"the zip holds no Shapefile (.shp){named}")
    if len(shapefiles) > 1:
        names = ", ".join(sorted(PurePosixPath(s).name for s in shapefiles))
        raise refuse(path, f"the zip holds several Shapefiles ({names}): pass --layer NAME")
    parts = next(iter(shapefiles.values()))
    for needed in (".shx", ".dbf"):
        if needed not in parts:
            raise refuse(path, f"the Shapefile in the zip has no {needed} part")
    return parts


def _extract_member(
    path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, max_bytes: int
) -> None:
    """Copy one member out, never writing more than it declared (nor the limit)."""
    limit = min(info.file_size, max_bytes)
    written = 0
    with zf.open(info) as src, target.open("xb") as dst:
        while chunk := src.read(1024 * 1024):
            written += len(chunk)
            if written > limit:
                raise refuse(path, "zip bomb: a member inflates beyond its declared size")
            dst.write(chunk)


def extract_shapefile(
    path: Path, into: Path, *, max_bytes: int, layer_name: str | None = None
) -> ShapefileParts:
    """Extract the .shp/.shx/.dbf/.prj/.cpg of one Shapefile from a checked zip into `into`."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise refuse(path, "not a readable zip archive") from None
    with zf:
        members = check_zip(path, zf, max_bytes=max_bytes)
        parts = _pick_shapefile(path, members, layer_name)
        # Fixed names in a private directory: nothing from the archive names a path on disk.
        try:
            for ext, info in parts.items():
                _extract_member(path, zf, info, into / f"layer{ext}", max_bytes)
        except (zipfile.BadZipFile, OSError, EOFError):
            raise refuse(path, "a zip member is corrupt") from None
    shp = into / "layer.shp"
    with shp.open("rb") as f:
        if not f.read(4).startswith(_SHP_MAGIC):
            raise refuse(path, "disguised format: the .shp in the zip is not a Shapefile")
    return ShapefileParts(shp=shp, has_prj=".prj" in parts, has_cpg=".cpg" in parts)


def copy_shapefile(path: Path, into: Path, *, max_bytes: int) -> ShapefileParts:
    """Copy a bare .shp and its sibling parts into `into` under fixed names, sizes checked."""
    parts: dict[str, Path] = {}
    for ext in SHAPEFILE_PARTS:
        for candidate in (path.with_suffix(ext), path.with_suffix(ext.upper())):
            if candidate.is_file():
                parts[ext] = candidate
                break
    for needed in (".shx", ".dbf"):
        if needed not in parts:
            raise refuse(path, f"the Shapefile has no {needed} part beside it")
    total = 0
    for ext, src in parts.items():
        total += src.stat().st_size
        if total > max_bytes:
            raise refuse(path, f"the Shapefile's parts exceed the limit of {max_bytes} bytes")
        shutil.copyfile(src, into / f"layer{ext}")
    return ShapefileParts(shp=into / "layer.shp", has_prj=".prj" in parts, has_cpg=".cpg" in parts)


# Text encodings: detect GBK without a declaration instead of reading mojibake.
_CHUNK = 1024 * 1024
# dBASE language driver ids GDAL maps to code page 936 (GBK).
_LDID_CP936 = (0x4D, 0x7A)
_CODE_PAGES = {"65001": "utf-8", "936": "cp936", "950": "cp950", "1252": "cp1252"}


def python_codec(name: str) -> str | None:
    """The Python codec for an encoding name from a .cpg file or the command line, if known."""
    key = name.strip().upper().removeprefix("CP").removeprefix("ANSI ")
    if key in _CODE_PAGES:
        return _CODE_PAGES[key]
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def decodes_as(path: Path, codec: str, *, start: int = 0) -> bool:
    """True when the bytes of `path` from `start` on decode strictly in `codec`, read in chunks."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        with path.open("rb") as f:
            f.seek(start)
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _ldid(dbf: Path) -> int:
    with dbf.open("rb") as f:
        header = f.read(32)
    if len(header) < 32:
        raise refuse(dbf.name, "the .dbf is truncated")
    (ldid,) = struct.unpack_from("<B", header, 29)
    return int(ldid)


def dbf_encoding(dbf: Path, *, cpg: Path | None, given: str | None, source: Path) -> str | None:
    """The encoding to read a .dbf with (None: let GDAL follow the .cpg); refused if unsure.

    The attribute bytes must decode strictly in the encoding given, the one the .cpg or the
    dBASE language driver id declares, or else UTF-8: GBK read as anything else is mojibake.
    """
    if given is not None:
        codec = python_codec(given)
        if codec is None:
            raise refuse(source, f"unknown encoding {given[:40]!r}")
        if not decodes_as(dbf, codec, start=32):
            raise refuse(source, f"the .dbf attributes do not decode as {given}")
        return given
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="replace").strip()[:40]
        codec = python_codec(declared)
        if codec is not None and not decodes_as(dbf, codec, start=32):
            raise refuse(
                source,
                f"the .dbf attributes do not decode as {declared!r}, the encoding its .cpg "
                "names: pass --encoding gbk (or the right one)",
            )
        return None
    if _ldid(dbf) in _LDID_CP936 and decodes_as(dbf, "cp936", start=32):
        return "CP936"
    if decodes_as(dbf, "utf-8", start=32):
        return "UTF-8"
    raise refuse(
        source,
        "the .dbf has no .cpg and its text is not UTF-8 (likely GBK): pass --encoding gbk",
    )


def decode_text(data: bytes, source: Path, *, given: str | None) -> str:
    """Text of a CSV file: UTF-8 (BOM removed) unless an encoding is given; never mojibake."""
    if given is not None:
        codec = python_codec(given)
        if codec is None:
            raise refuse(source, f"unknown encoding {given[:40]!r}")
        try:
            return data.decode(codec).removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise refuse(source, f"the file does not decode as {given}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse(
            source, "the file is not UTF-8 text (likely GBK): pass --encoding gbk"
        ) from None
