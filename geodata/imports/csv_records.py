"""CSV files of records without geometry (the ledger, disinfection): rows by line, fields by
name (case and surrounding spaces ignored), the header checked for the required fields."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from geodata.imports import files
from geodata.imports.files import refuse

MAX_ROWS = 2_000_000


def read_rows(
    path: Path, *, encoding: str | None, required: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """(line, {field: text}) for every non-blank record; the header is line 1. Refuses the
    file (FileRefused) when it cannot be read or its header lacks a required field."""
    text = files.decode_text(path.read_bytes(), path, given=encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    line = 1
    try:
        for fields in reader:
            start, line = line, reader.line_num + 1
            if not fields or all(not f.strip() for f in fields):
                continue
            if header is None:
                header = [h.strip().lower() for h in fields]
                continue
            records.append((start, dict(zip(header, (f.strip() for f in fields), strict=False))))
            if len(records) > MAX_ROWS:
                raise refuse(path, f"more than {MAX_ROWS} rows: split the file")
    except csv.Error as e:
        raise refuse(path, f"line {line}: the CSV cannot be read: {e}") from None
    if header is None:
        raise refuse(path, "the CSV file has no header line")
    if len(set(header)) != len(header):
        raise refuse(path, "the CSV header has duplicate column names")
    missing = [name for name in required if name not in header]
    if missing:
        raise refuse(path, f"the CSV header lacks {', '.join(missing)}")
    return records
