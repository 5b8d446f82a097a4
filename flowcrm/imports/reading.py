"""Reading an uploaded table file: CSV in any common dialect and encoding, or XLSX.

Files are streamed: only a sample is held in memory to detect the encoding and the dialect, and
rows are produced one at a time with the line they came from, so a million-row file costs the
memory of one chunk. Problems with the file as a whole raise :class:`FileProblem` with a message
that names the line or column; problems with one row are reported by the caller per row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer

SAMPLE_BYTES = 256 * 1024
_XLSX_MAGIC = b"PK\x03\x04"
# Bytes that never occur in a text file; their presence means "not a CSV" (PDF, image, …).
_BINARY_BYTES = frozenset(b"\x00\x01\x02\x03\x04\x05\x06\x07\x0e\x0f\x10\x11\x12\x14\x15\x16\x17")


_LATIN_GUESSES = frozenset(
    {"latin_1", "iso8859_1", "iso8859_15", "cp1250", "cp1252", "iso8859_2", "mac_roman"}
)


class FileProblem(Exception):
    """The file cannot be imported at all (not a table, no header, duplicate columns, …)."""


@dataclass(frozen=True)
class TableInfo:
    """What was detected about a file: format, encoding, delimiter and header."""

    format: str  # "csv" or "xlsx"
    encoding: str
    delimiter: str
    headers: list[str]
    has_bom: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "headers": self.headers,
        }


@dataclass(frozen=True)
class SourceRow:
    """One data row: the line it starts on (1-based, the header is line 1) and its cells."""

    line: int
    cells: list[str]


def inspect_file(path: Path) -> TableInfo:
    """Detect format, encoding and dialect, and read and check the header row."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip():
        raise FileProblem("The file is empty: expected a header row and data rows.")
    if sample.startswith(_XLSX_MAGIC):
        return _inspect_xlsx(path)
    if any(byte in _BINARY_BYTES for byte in sample[:8192]):
        raise FileProblem(
            "This is not a CSV file: it contains binary data. Upload a .csv or .xlsx file."
        )
    encoding, has_bom = _detect_encoding(sample)
    text_sample = sample.decode(encoding, errors="ignore")
    if has_bom:
        text_sample = text_sample.lstrip("\ufeff")
    delimiter = _detect_delimiter(text_sample)
    with _open_text(path, encoding) as text:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise FileProblem("The file is empty: expected a header row.") from None
        except csv.Error as error:
            raise FileProblem(f"Line 1 cannot be read as CSV: {error}.") from error
    headers = check_header(header)
    return TableInfo(
        format="csv", encoding=encoding, delimiter=delimiter, headers=headers, has_bom=has_bom
    )


def check_header(header: list[str]) -> list[str]:
    """The header names, trimmed; raises FileProblem for a missing header or duplicate names."""
    names = [str(cell or "").strip().lstrip("\ufeff") for cell in header]
    while names and names[-1] == "":
        names.pop()  # trailing empty cells, as spreadsheets often write them
    if not names:
        raise FileProblem("Line 1 is empty: the first line must name the columns.")
    for position, name in enumerate(names, start=1):
        if not name:
            raise FileProblem(f"Column {position} has no name in the header (line 1).")
        if "@" in name or name.replace(".", "").replace("-", "").isdigit():
            raise FileProblem(
                f"The file has no header row: line 1 holds data ({name!r} in column {position})"
                " where column names are expected."
            )
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        key = name.casefold()
        if key in seen:
            raise FileProblem(
                f"Duplicate column name {name!r} in the header: columns {seen[key]} and"
                f" {position}. Rename one of them."
            )
        seen[key] = position
    return names


def iter_rows(path: Path, info: TableInfo) -> Iterator[SourceRow]:
    """The data rows after the header, streamed."""
    if info.format == "xlsx":
        yield from _iter_xlsx(path)
        return
    with _open_text(path, info.encoding) as text:
        reader = csv.reader(text, delimiter=info.delimiter)
        try:
            next(reader)
            line = reader.line_num + 1
            for cells in reader:
                if cells:  # blank lines carry no data
                    yield SourceRow(line=line, cells=cells)
                line = reader.line_num + 1
        except csv.Error as error:
            raise FileProblem(f"Line {reader.line_num} cannot be read as CSV: {error}.") from error
        except UnicodeDecodeError as error:
            raise FileProblem(
                f"Line {reader.line_num + 1} is not valid {info.encoding}: {error.reason}."
            ) from error


def count_rows(path: Path, info: TableInfo) -> int:
    """The number of data rows (a fast pass over the file, for progress reporting)."""
    return sum(1 for _ in iter_rows(path, info))


def _detect_encoding(sample: bytes) -> tuple[str, bool]:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", True
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    try:
        # A sample cut mid-character is still UTF-8: ignore an incomplete tail.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8", False
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(sample).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding in _LATIN_GUESSES:
        # Single-byte Latin code pages decode most bytes alike, and the guess between them is
        # weak on short samples; spreadsheets in the West write Windows-1252 ("Latin-1").
        try:
            sample.decode("cp1252")
            return "cp1252", False
        except UnicodeDecodeError:
            pass
    return encoding, False


def _detect_delimiter(text_sample: str) -> str:
    lines = text_sample.splitlines()[:50]
    if len(lines) > 1 and len(text_sample) >= SAMPLE_BYTES // 2:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        # One column, or rows too irregular for the sniffer: count candidates in the header.
        header = lines[0] if lines else ""
        counts = {d: header.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    return path.open(encoding=encoding, newline="", errors="strict")


def _inspect_xlsx(path: Path) -> TableInfo:
    rows = _iter_xlsx_cells(path)
    try:
        header = next(rows)
    except StopIteration:
        raise FileProblem("The workbook's first sheet is empty: expected a header row.") from None
    return TableInfo(format="xlsx", encoding="xlsx", delimiter="", headers=check_header(header))


def _iter_xlsx(path: Path) -> Iterator[SourceRow]:
    rows = _iter_xlsx_cells(path)
    next(rows, None)
    for line, cells in enumerate(rows, start=2):
        if any(cells):
            yield SourceRow(line=line, cells=cells)


def _iter_xlsx_cells(path: Path) -> Iterator[list[str]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileProblem(
            f"This is neither a CSV file nor a readable XLSX workbook: {error}."
        ) from error
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_xlsx_text(value) for value in values]
    finally:
        workbook.close()


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
