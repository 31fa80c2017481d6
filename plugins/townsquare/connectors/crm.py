"""CRM/billing exports (CSV or Parquet) → ``accounts`` and ``subscriptions``.

``ctx.location`` is a folder holding ``accounts.csv`` or ``accounts.parquet`` and
``subscriptions.csv`` or ``subscriptions.parquet`` (names matched case-insensitively;
other files are ignored), or one such file, whose name only has to *start* with
``accounts`` or ``subscriptions`` (``accounts-2026-05.csv``). A folder missing one of
the two lands the other with a warning; a folder with neither, or with both a CSV and
a Parquet file for the same entity, is an error. URLs are refused (export the files).

Columns (the README's "Commercial source (CRM export)" section is the reference):

- accounts: ``account_id`` and ``name`` required; ``domains``, ``website``,
  ``industry``, ``country``, ``segment``, ``created_at``, ``updated_at``.
- subscriptions: ``subscription_id``, ``account_id``, ``product_kind`` and
  ``started_at`` required; ``product``, ``plan``, ``ended_at``, ``amount``,
  ``currency`` (a required column when ``amount`` is there), ``status``,
  ``updated_at``.

Header: names are matched case-insensitively, surrounding spaces trimmed. A missing
required column, or two columns with the same name, raises ``CrmFormatError`` before
any row is read, one line per problem (every file's header is checked first). Unknown
columns are kept in ``raw`` and otherwise ignored (one warning per file).

Values (CSV text, or Parquet values of any type, converted by the same rules):

- text: surrounding spaces trimmed; empty means null. Integer-valued numbers become
  their digits (a Parquet ``account_id`` stored as int64 is ``"42"``).
- ``domains``: separated by ``;``, ``,`` or whitespace (a Parquet list, or text split
  the same way); each lower-cased, a scheme (``https://``), user part (``jane@``),
  port, path/query and a leading ``www.`` removed; duplicates dropped, order kept.
  Anything that is still not a host name with a dot (``acme``, ``acme_corp.com``, an
  IP address) quarantines the row.
- dates: ISO 8601 date or date-time; a date means midnight UTC, a date-time without
  an offset is UTC, one with an offset is converted to UTC. ``started_at`` and
  ``ended_at`` before 1990 are quarantined (Excel's 1899-12-30, the Unix epoch);
  ``ended_at`` before ``started_at`` too. (``created_at``/``updated_at`` before 1990 or in
  the future are quarantined by the landing gate.)
- ``product_kind``: support, training or other; ``status``: active, cancelled
  (``canceled`` accepted), expired, trial, pending; both case-insensitive, stored
  lower-case. Anything else quarantines the row.
- ``amount``: ``1234.5``, ``1,234.50`` (comma thousands groups), a leading ``+``;
  at most 2 decimal places (trailing zeros beyond them are fine), not negative, under
  10^16; stored as ``Decimal`` with 2 places. ``currency``: 3 letters, upper-cased;
  required when ``amount`` is given.

Every bad row is ``Rejected`` with every problem found, each naming the column and the
value: ``amount: not a number ('12,3,4'); currency: not a 3-letter ISO 4217 code
('EURO')``. ``raw`` is ``{"file", "line" (CSV: the record's first line, the header
being line 1) or "row" (Parquet: 1-based), "record": {column as written: value}}``.

Duplicate ids within one file: a row whose typed values equal the first row with that
id is dropped (counted in ``duplicates_dropped``); a different row reusing the id is
``Rejected`` (the first in file order wins).

CSV files
    Read as a stream (``csv`` module, strict quoting). Encoding: UTF-8 with or
    without a BOM; a UTF-16 BOM means UTF-16 (Excel's "Unicode text"); a file that is
    not valid UTF-8 is read as Windows-1252 (Excel's "CSV" on Windows) with a warning.
    The delimiter is ``options.delimiter`` when set, else an Excel ``sep=;`` first
    line, else the most frequent of ``,`` ``;`` and tab in the header line. Blank rows
    (empty or only delimiters) are skipped. Per row, not per file: a NUL byte in a
    value, a record with more values than the header has columns (unless the extra
    ones are empty) or fewer, broken quoting (``"ab"cd``), and a truncated last line
    (the file ends inside a quoted value, or ends without a line break in the middle of
    a record) are quarantined. An empty file (not even a header) lands nothing, with a
    warning.

Parquet files
    Read batch by batch (``pyarrow`` ``iter_batches``), every column, values converted
    by the rules above (amount as a string or float, dates as strings, timestamps
    or dates, ids as integers...). A file pyarrow cannot open raises
    ``CrmFormatError``.

Incremental loads and state
    An export is a snapshot. The state of each entity is
    ``{"files": {NAME: {"size", "mtime_ns", "sha256", "rows", "quarantined"}}}``.
    A file with the same size and modification time as its cursor is skipped without
    being read; otherwise its SHA-256 is computed: the same content (a touched
    file) is skipped too, a changed file is landed again whole (staging keeps the
    latest ingestion per key). ``ctx.since`` (``--since``) reads every file again,
    whatever the state; rows are not filtered by date (a snapshot row has no reliable
    change date). A file that changes while it is read keeps its old cursor, so the
    next run reads it again. The state is exposed by ``new_state()`` only after
    ``items()`` ran to the end.

``interval_key()`` hashes the stored cursors, the files' names, sizes and mtimes and
``since``: a retry of the same slice gets the same run id.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, ClassVar

from townsquare.connectors.base import Connector, ConnectorContext
from townsquare.records import Item, Rejected, Row
from townsquare.schemas import ENTITIES
from townsquare.text import parse_since

log = logging.getLogger(__name__)

ACCOUNTS = "accounts"
SUBSCRIPTIONS = "subscriptions"
SUFFIXES = (".csv", ".parquet")

# the export's columns are the raw entities' columns (townsquare.schemas is the contract)
COLUMNS: dict[str, tuple[str, ...]] = {
    e: tuple(ENTITIES[e].data_columns) for e in (ACCOUNTS, SUBSCRIPTIONS)
}
REQUIRED: dict[str, tuple[str, ...]] = {e: ENTITIES[e].required for e in (ACCOUNTS, SUBSCRIPTIONS)}
KEY = {e: ENTITIES[e].key[0] for e in (ACCOUNTS, SUBSCRIPTIONS)}
PRODUCT_KINDS = ("support", "training", "other")
STATUSES = ("active", "cancelled", "expired", "trial", "pending")
STATUS_ALIASES = {"canceled": "cancelled"}
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
MAX_AMOUNT = Decimal(10) ** 16  # decimal128(18, 2): 16 digits before the point
CENTS = Decimal("0.01")

_CONTENT_BITS = (1 << 48) - 1
_AT_BITS = (1 << 40) - 1
_CHUNK = 1 << 20
_BATCH_ROWS = 8192
_SHOWN = 80
_UNNAMED = "_column_{}"
_DELIMITERS = (",", ";", "\t")
_SEP_LINE = re.compile(r"^\ufeff?sep=(.)\s*$", re.IGNORECASE)
_DOMAIN_SPLIT = re.compile(r"[;,\s]+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_AMOUNT = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?$|^[+-]?\.\d+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
    SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS
    VED VES VND VUV WST XAF XCD XCG XDR XOF XPF YER ZAR ZMW ZWG ZWL
    """.split()  # noqa: SIM905 (a block of codes reads better than a 180-item list)
)
"""Active ISO 4217 currency codes (precious metals, fund and test codes left out)."""


class CrmFormatError(ValueError):
    """An export file the connector cannot read: a bad header, not a Parquet file."""


def _c1_controls(exc: UnicodeError) -> tuple[str, int]:
    """Bytes Windows-1252 leaves undefined (0x81, 0x8d, ...) → the same code points."""
    if isinstance(exc, UnicodeDecodeError):
        return bytes(exc.object[exc.start : exc.end]).decode("latin-1"), exc.end
    raise exc


codecs.register_error("townsquare.cp1252", _c1_controls)


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class ExportFile:
    entity: str
    path: Path

    @property
    def is_parquet(self) -> bool:
        return self.path.name.lower().endswith(".parquet")


def _entity_of(name: str) -> str | None:
    lower = name.lower()
    if not lower.endswith(SUFFIXES):
        return None
    for entity in (ACCOUNTS, SUBSCRIPTIONS):
        if lower.startswith(entity):
            return entity
    return None


def export_files(location: str) -> list[ExportFile]:
    """The export files at ``location`` (a folder or one file), accounts first."""
    if "://" in location:
        raise ValueError(
            f"crm: {location} is a URL; the crm connector reads exported files "
            "(a folder with accounts.csv and subscriptions.csv, or Parquet)"
        )
    path = Path(location).expanduser()
    if path.is_file():
        entity = _entity_of(path.name)
        if entity is None:
            raise CrmFormatError(
                f"crm: {path}: expected a file named accounts*.csv, accounts*.parquet, "
                "subscriptions*.csv or subscriptions*.parquet"
            )
        return [ExportFile(entity, path)]
    if not path.is_dir():
        raise FileNotFoundError(f"crm: file or folder not found: {path}")
    found: dict[str, list[Path]] = {ACCOUNTS: [], SUBSCRIPTIONS: []}
    for child in sorted(path.iterdir()):
        lower = child.name.lower()
        for entity in found:
            if child.is_file() and lower in (entity + s for s in SUFFIXES):
                found[entity].append(child)
    files = []
    for entity, paths in found.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            raise CrmFormatError(
                f"crm: {path} holds both {names}; keep one export per entity in the folder"
            )
        if paths:
            files.append(ExportFile(entity, paths[0]))
    if not files:
        others = sorted(p.name for p in path.iterdir() if p.name.lower().endswith(SUFFIXES))
        seen = f" (found: {', '.join(others)})" if others else ""
        raise FileNotFoundError(
            f"crm: no accounts.csv, accounts.parquet, subscriptions.csv or "
            f"subscriptions.parquet in folder {path}{seen}"
        )
    for entity in found:
        if not found[entity]:
            log.warning(
                "crm: no %s.csv or %s.parquet in %s: landing %s only",
                entity,
                entity,
                path,
                ", ".join(f.entity for f in files),
            )
    return files


@dataclass
class _Scan:
    """One pass over a file's bytes: its digest and how to decode it."""

    size: int
    mtime_ns: int
    sha256: str
    encoding: str = "utf-8-sig"
    errors: str = "strict"
    has_nul: bool = False


def _scan(path: Path, text: bool) -> _Scan:
    st = path.stat()
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    checking = text
    bad: str | None = None
    offset = 0
    has_nul = False
    head = b""
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
            if not text:
                continue
            if not head:
                head = block[:4]
            has_nul = has_nul or b"\x00" in block
            if checking:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    at = offset + exc.start
                    bad = f"byte 0x{block[exc.start]:02x} at offset {at}"
                    checking = False
            offset += len(block)
        if checking:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                bad = "it ends inside a UTF-8 character (truncated)"
    scan = _Scan(st.st_size, st.st_mtime_ns, digest.hexdigest(), has_nul=has_nul)
    if not text:
        return scan
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        scan.encoding, scan.has_nul = "utf-16", True  # NULs are part of the encoding
    elif bad is None:
        pass
    elif head[:3] == b"\xef\xbb\xbf" or bad.startswith("it ends"):
        log.warning(
            "crm: %s: not valid UTF-8 (%s) although it looks like UTF-8; "
            "undecodable bytes are replaced with U+FFFD",
            path,
            bad,
        )
        scan.errors = "replace"
    else:
        log.warning(
            "crm: %s is not valid UTF-8 (%s): reading it as Windows-1252 "
            "(cp1252, as Excel exports CSV on Windows)",
            path,
            bad,
        )
        scan.encoding, scan.errors = "cp1252", "townsquare.cp1252"
    return scan


# --------------------------------------------------------------------------- values


class _Bad(ValueError):
    """A value that breaks a column's rule; the message follows ``column: ``."""


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= _SHOWN else value[: _SHOWN - 3] + "..."
        return repr(text)
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip() or None
    raise _Bad(f"expected text, got {type(value).__name__} ({_show(value)})")


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise _Bad(f"not an ISO 8601 date ({_show(text)})") from None
    if isinstance(value, datetime):
        if hasattr(value, "to_pydatetime"):  # pandas.Timestamp (Parquet ns timestamps)
            value = value.to_pydatetime()
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, float) and math.isnan(value):
        return None
    raise _Bad(f"not an ISO 8601 date ({_show(value)})")


def _not_before_1990(value: datetime | None, shown: Any) -> datetime | None:
    if value is not None and value < EARLIEST:
        raise _Bad(f"before 1990 ({_show(shown)})")
    return value


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Bad(f"not a number ({_show(value)})")
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise _Bad(f"not a number ({_show(value)})")
        number = Decimal(repr(value))
    elif isinstance(value, int | Decimal):
        number = Decimal(value)
        if not number.is_finite():
            raise _Bad(f"not a number ({_show(value)})")
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _AMOUNT.match(text):
            raise _Bad(f"not a number ({_show(text)})")
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise _Bad(f"not a number ({_show(text)})") from None
    else:
        raise _Bad(f"not a number ({_show(value)})")
    if number < 0:
        raise _Bad(f"negative ({_show(value)})")
    cents = number.quantize(CENTS)
    if cents != number:
        raise _Bad(f"more than 2 decimal places ({_show(value)})")
    if cents >= MAX_AMOUNT:
        raise _Bad(f"too large for decimal(18, 2) ({_show(value)})")
    return cents


def _choice(value: Any, allowed: tuple[str, ...], aliases: Mapping[str, str] | None = None) -> Any:
    text = _text(value)
    if text is None:
        return None
    lower = text.lower()
    lower = (aliases or {}).get(lower, lower)
    if lower not in allowed:
        raise _Bad(f"not one of {', '.join(allowed)} ({_show(text)})")
    return lower


def _currency(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    upper = text.upper()
    if not _CURRENCY.match(upper):
        raise _Bad(f"not a 3-letter ISO 4217 code ({_show(text)})")
    if upper not in ISO_4217:
        raise _Bad(f"unknown ISO 4217 currency ({_show(text)})")
    return upper


def normalize_domain(text: str) -> str:
    """``https://www.Acme.com/about`` → ``acme.com``; raises ``ValueError`` if not a domain."""
    host = text.strip().lower()
    host = _SCHEME.sub("", host)
    host = host.removeprefix("mailto:")
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    host = host.split(":", 1)[0].rstrip(".")
    host = host.removeprefix("www.")
    if not host:
        raise ValueError(f"not a domain ({_show(text)})")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"not a domain ({_show(text)})") from None
    labels = ascii_host.split(".")
    if (
        len(labels) < 2
        or len(ascii_host) > 253
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(f"not a domain ({_show(text)})")
    return host


def _domains(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        parts = _DOMAIN_SPLIT.split(value)
    elif isinstance(value, list | tuple):
        parts = []
        for item in value:
            if item is None:
                continue
            if not isinstance(item, str):
                raise _Bad(f"not a domain ({_show(item)})")
            parts.extend(_DOMAIN_SPLIT.split(item))
    else:
        raise _Bad(f"expected domains as text or a list, got {_show(value)}")
    out: dict[str, None] = {}
    for part in parts:
        if part:
            try:
                out[normalize_domain(part)] = None
            except ValueError as exc:
                raise _Bad(str(exc)) from None
    return list(out) or None


_CONVERTERS: dict[str, Any] = {
    "domains": _domains,
    "created_at": _timestamp,
    "updated_at": _timestamp,
    "started_at": _timestamp,
    "ended_at": _timestamp,
    "amount": _amount,
    "currency": _currency,
    "product_kind": lambda v: _choice(v, PRODUCT_KINDS),
    "status": lambda v: _choice(v, STATUSES, STATUS_ALIASES),
}


_PLAN = {
    entity: tuple(
        (column, _CONVERTERS.get(column, _text), column in REQUIRED[entity]) for column in columns
    )
    for entity, columns in COLUMNS.items()
}


def convert(entity: str, record: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Typed values of one record (known columns, lower-case names) and its problems."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    bad: set[str] = set()
    get = record.get
    for column, converter, required in _PLAN[entity]:
        raw = get(column)
        if raw is None or raw == "":
            value = None
        else:
            try:
                value = converter(raw)
            except _Bad as exc:
                values[column] = None
                bad.add(column)
                problems.append(f"{column}: {exc}")
                continue
        values[column] = value
        if value is None and required:
            problems.append(f"{column}: missing (required)")
    if entity == SUBSCRIPTIONS:
        for column in ("started_at", "ended_at"):
            try:
                _not_before_1990(values[column], record.get(column))
            except _Bad as exc:
                problems.append(f"{column}: {exc}")
        start, end = values["started_at"], values["ended_at"]
        if start is not None and end is not None and end < start:
            problems.append(
                f"ended_at: before started_at ({_show(record.get('ended_at'))} < "
                f"{_show(record.get('started_at'))})"
            )
        if values["amount"] is not None and values["currency"] is None and "currency" not in bad:
            problems.append(
                f"currency: required when amount is given ({_show(record.get('amount'))})"
            )
    return values, problems


# --------------------------------------------------------------------------- headers


@dataclass
class _Header:
    """A file's columns: names as written (for ``raw``) and where each known column is."""

    names: list[str]
    index: dict[str, int]
    unnamed: set[int] = field(default_factory=set)


def check_header(entity: str, path: Path, columns: list[str]) -> tuple[_Header, list[str]]:
    """The header of a file, and its problems (one line each); warns of unknown columns."""
    names: list[str] = []
    index: dict[str, int] = {}
    unnamed: set[int] = set()
    first_at: dict[str, int] = {}
    problems: list[str] = []
    for i, column in enumerate(columns):
        name = "" if column is None else str(column).strip()
        if not name:
            unnamed.add(i)
            names.append(_UNNAMED.format(i + 1))
            continue
        names.append(name)
        key = name.lower()
        if key in first_at:
            problems.append(
                f"crm: {path}: duplicate column {name!r} (columns {first_at[key] + 1} and "
                f"{i + 1}; names are matched case-insensitively)"
            )
            continue
        first_at[key] = i
        if key in COLUMNS[entity]:
            index[key] = i
    found = ", ".join(n for i, n in enumerate(names) if i not in unnamed) or "none"
    for column in REQUIRED[entity]:
        if column not in index:
            problems.append(
                f"crm: {path}: missing required column {column!r} (columns found: {found})"
            )
    if entity == SUBSCRIPTIONS and "amount" in index and "currency" not in index:
        problems.append(
            f"crm: {path}: missing column 'currency', required with 'amount' "
            f"(columns found: {found})"
        )
    unknown = [
        n for i, n in enumerate(names) if i not in unnamed and n.lower() not in COLUMNS[entity]
    ]
    if unknown and not problems:
        log.warning(
            "crm: %s: ignoring unknown column(s) %s (kept in raw)", path, ", ".join(unknown)
        )
    return _Header(names, index, unnamed), problems


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class _Record:
    """One record of a file: its values by known column, or why it could not be read."""

    at: int
    raw: dict[str, Any]
    values: dict[str, Any] | None = None
    error: str | None = None
    native_id: str | None = None
    check_nul: bool = False


class _LineFeed:
    """The lines of a text stream for ``csv.reader``, counted, with the current record's text."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._pushback: str | None = None
        self.line = 0
        self.record_start = 1
        self.pending: list[str] = []
        self.unterminated = False

    def peek(self) -> str:
        if self._pushback is None:
            self._pushback = self._stream.readline()
        return self._pushback

    def skip(self) -> None:
        """Drop the peeked line (an Excel ``sep=`` line)."""
        self.peek()
        self._pushback = None
        self.line += 1
        self.record_start = self.line + 1

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if self._pushback is not None:
            line, self._pushback = self._pushback, None
        else:
            line = self._stream.readline()
        if not line:
            raise StopIteration
        self.line += 1
        self.pending.append(line)
        if line[-1] not in "\n\r":
            self.unterminated = True
        return line

    def end_record(self) -> tuple[int, str]:
        """The first line and the text of the record just read; starts the next one."""
        start, text = self.record_start, "".join(self.pending)
        self.pending = []
        self.record_start = self.line + 1
        return start, text


def _delimiter(first_line: str, option: Any) -> str:
    if option:
        text = str(option)
        text = "\t" if text.lower() in ("tab", "\\t") else text
        if len(text) != 1:
            raise CrmFormatError(f"crm: option delimiter: expected one character, got {option!r}")
        return text
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class _CsvReader:
    """A CSV export as ``_Record``s (see the module docstring for the per-row rules)."""

    def __init__(self, export: ExportFile, scan: _Scan, delimiter: Any) -> None:
        self.export = export
        self.scan = scan
        self._stream = export.path.open(
            encoding=scan.encoding, errors=scan.errors, newline="", buffering=_CHUNK
        )
        try:
            self.feed = _LineFeed(self._stream)
            first = self.feed.peek()
            sep = _SEP_LINE.match(first.rstrip("\r\n"))
            if sep:
                self.feed.skip()
                chosen = delimiter or sep.group(1)
            else:
                chosen = delimiter
            self.delimiter = _delimiter(self.feed.peek().lstrip("\ufeff"), chosen)
            self.reader = csv.reader(self.feed, delimiter=self.delimiter, strict=True)
            self.columns: list[str] | None = None
            while self.columns is None:
                try:
                    row = next(self.reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise CrmFormatError(
                        f"crm: {export.path}: unreadable header line: {exc}"
                    ) from None
                self.feed.end_record()
                if any(cell.strip() for cell in row):
                    if row:
                        row[0] = row[0].lstrip("\ufeff")
                    self.columns = row
        except BaseException:
            self._stream.close()
            raise

    def close(self) -> None:
        self._stream.close()

    def records(self, header: _Header) -> Iterator[_Record]:
        names, index, unnamed = header.names, header.index, header.unnamed
        ncols = len(names)
        key_at = index.get(KEY[self.export.entity])
        name = self.export.path.name
        feed, reader = self.feed, self.reader
        check_nul = self.scan.has_nul
        while True:
            try:
                row = next(reader)
                error = None
            except StopIteration:
                return
            except csv.Error as exc:
                row, error = None, str(exc)
            if row is None:
                start, text = feed.end_record()
                if error == "unexpected end of data":
                    reason = (
                        f"truncated last line: the file ends inside a quoted value (line {start})"
                    )
                else:
                    reason = f"malformed CSV at line {start}: {error}"
                yield _Record(start, {"file": name, "line": start, "text": text}, error=reason)
                continue
            if len(row) == ncols:
                start = feed.record_start
                feed.pending = []
                feed.record_start = feed.line + 1
                if not any(row):
                    continue  # only delimiters (Excel)
            else:
                start, text = feed.end_record()
                if not any(cell.strip() for cell in row):
                    continue  # a blank line, or only delimiters (Excel)
                if len(row) > ncols and not any(c.strip() for c in row[ncols:]):
                    row = row[:ncols]
                elif len(row) < ncols and all(i in unnamed for i in range(len(row), ncols)):
                    row = row + [""] * (ncols - len(row))
                else:
                    native = (
                        row[key_at].strip() if key_at is not None and key_at < len(row) else None
                    )
                    if feed.unterminated and len(row) < ncols:
                        reason = (
                            f"truncated last line: {len(row)} of {ncols} values and no line "
                            f"break at the end of the file (line {start})"
                        )
                    else:
                        many = "too many" if len(row) > ncols else "too few"
                        reason = (
                            f"{many} values at line {start}: {len(row)} values, "
                            f"the header has {ncols} columns"
                        )
                    raw = {
                        "file": name,
                        "line": start,
                        "record": dict(zip(names, row, strict=False)),
                    }
                    if len(row) > ncols:
                        raw["extra_values"] = row[ncols:]
                    yield _Record(start, raw, error=reason, native_id=native or None)
                    continue
            values = {col: row[i] for col, i in index.items()}
            raw = {"file": name, "line": start, "record": dict(zip(names, row, strict=True))}
            yield _Record(start, raw, values, check_nul=check_nul)


class _ParquetReader:
    """A Parquet export as ``_Record``s, batch by batch."""

    def __init__(self, export: ExportFile) -> None:
        import pyarrow.parquet as pq

        self.export = export
        try:
            self._file = pq.ParquetFile(export.path)
        except Exception as exc:
            raise CrmFormatError(
                f"crm: {export.path}: not a readable Parquet file ({_first_line(exc)})"
            ) from None
        self.columns: list[str] | None = list(self._file.schema_arrow.names)

    def close(self) -> None:
        self._file.close()

    def records(self, header: _Header) -> Iterator[_Record]:
        names, index = header.names, header.index
        name = self.export.path.name
        number = 0
        for batch in self._file.iter_batches(batch_size=_BATCH_ROWS, use_threads=False):
            columns = [_pylist(column) for column in batch.columns]
            check_nul = _has_nul(batch)
            for values_in_row in zip(*columns, strict=True):
                number += 1
                values = {col: values_in_row[i] for col, i in index.items()}
                raw = {
                    "file": name,
                    "row": number,
                    "record": dict(zip(names, values_in_row, strict=True)),
                }
                yield _Record(number, raw, values, check_nul=check_nul)


def _pylist(column: Any) -> list[Any]:
    """A column's Python values; time-zone-aware timestamps as naive UTC (3x faster; the
    instants are the same: Arrow stores them in UTC, and naive means UTC here)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        column = pc.cast(column, pa.timestamp(column.type.unit))
    return column.to_pylist()


def _has_nul(batch: Any) -> bool:
    """Whether any text value of a record batch holds a NUL character (rare: checked in bulk)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            if pc.any(pc.match_substring(column, "\x00")).as_py():
                return True
        elif not (pa.types.is_primitive(column.type) or pa.types.is_decimal(column.type)):
            return True  # lists, structs: checked row by row
    return False


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _nul_problems(raw: dict[str, Any]) -> list[str]:
    return [
        f"{column}: contains a NUL byte ({_show(value)})"
        for column, value in raw["record"].items()
        if isinstance(value, str) and "\x00" in value
    ]


def _fingerprint(values: dict[str, Any]) -> int:
    try:
        return hash(tuple(values.values()))
    except TypeError:  # lists (domains)
        return hash(tuple(tuple(v) if isinstance(v, list) else v for v in values.values()))


# --------------------------------------------------------------------------- connector


class CrmConnector(Connector):
    """Reads CRM/billing export snapshots (see the module docstring)."""

    type: ClassVar[str] = "crm"
    entities: ClassVar[tuple[str, ...]] = (ACCOUNTS, SUBSCRIPTIONS)

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        self.files = export_files(ctx.location)
        parse_since(ctx.since)  # validates it: any since reads every file again
        self.delimiter = ctx.options.get("delimiter") or None
        if self.delimiter:
            _delimiter("", self.delimiter)
        self._cursors: dict[str, dict[str, dict[str, Any]]] = {}
        for entity in self.entities:
            stored = self._state.get(entity, {}).get("files")
            self._cursors[entity] = dict(stored) if isinstance(stored, dict) else {}
        self._new: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in self.entities}
        self.skipped_files: list[str] = []
        self.duplicates_dropped = 0
        self._complete = False

    # -- the connector contract -------------------------------------------------

    def interval_key(self) -> str:
        parts = [repr(sorted((e, sorted(c.items())) for e, c in self._cursors.items()))]
        for export in self.files:
            st = export.path.stat()
            parts.append(f"{export.entity}:{export.path.name}:{st.st_size}:{st.st_mtime_ns}")
        parts.append(self.ctx.since or "")
        return "crm:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def items(self) -> Iterator[Item]:
        self._complete = False
        self._new = {e: {} for e in self.entities}
        planned: list[tuple[ExportFile, _Scan]] = []
        for export in self.files:
            scan = self._changed(export)
            if scan is not None:
                planned.append((export, scan))
        # every header is checked before any row is read, so one run reports them all
        readers: list[_CsvReader | _ParquetReader] = []
        headers: list[_Header | None] = []
        problems: list[str] = []
        try:
            for export, scan in planned:
                reader = self._open(export, scan)
                readers.append(reader)
                header = None
                if reader.columns is not None:
                    header, found = check_header(export.entity, export.path, reader.columns)
                    problems.extend(found)
                headers.append(header)
            if problems:
                raise CrmFormatError("\n".join(problems))
            for (export, scan), reader, header in zip(planned, readers, headers, strict=True):
                yield from self._file_items(export, scan, reader, header)
                reader.close()
        finally:
            for reader in readers:
                reader.close()
        self._complete = True

    def new_state(self) -> dict[str, dict[str, Any]]:
        """The file cursors to commit: updated only once ``items()`` has run to the end."""
        if self._complete:
            for entity in self.entities:
                files = {**self._cursors[entity], **self._new[entity]}
                if files:
                    self._state[entity] = {"files": files}
        return self._state

    # -- one file ---------------------------------------------------------------

    def _changed(self, export: ExportFile) -> _Scan | None:
        """The file's scan when it is to be read; None when it is unchanged (skipped)."""
        path = export.path
        cursor = None if self.ctx.since else self._cursors[export.entity].get(path.name)
        st = path.stat()
        if cursor and cursor.get("size") == st.st_size and cursor.get("mtime_ns") == st.st_mtime_ns:
            self.skipped_files.append(path.name)
            log.info("crm: %s unchanged since the last run (same size and time); skipped", path)
            return None
        scan = _scan(path, text=not export.is_parquet)
        if cursor and cursor.get("sha256") == scan.sha256:
            self.skipped_files.append(path.name)
            self._new[export.entity][path.name] = {
                **cursor,
                "size": scan.size,
                "mtime_ns": scan.mtime_ns,
            }
            log.info("crm: %s touched but its content is unchanged; skipped", path)
            return None
        if cursor:
            log.info("crm: %s changed since the last run: landing it again whole", path)
        elif self.ctx.since:
            log.info("crm: --since given: reading %s again", path)
        return scan

    def _open(self, export: ExportFile, scan: _Scan) -> _CsvReader | _ParquetReader:
        if export.is_parquet:
            return _ParquetReader(export)
        return _CsvReader(export, scan, self.delimiter)

    def _file_items(
        self,
        export: ExportFile,
        scan: _Scan,
        reader: _CsvReader | _ParquetReader,
        header: _Header | None,
    ) -> Iterator[Item]:
        entity, path = export.entity, export.path
        if header is None:
            log.warning("crm: %s is empty (not even a header line): nothing to land", path)
            records: Iterator[_Record] = iter(())
        else:
            records = reader.records(header)
        key = KEY[entity]
        seen: dict[int, int] = {}
        rows = quarantined = dropped = 0
        for record in records:
            if record.error is not None:
                quarantined += 1
                yield Rejected(entity, record.error, record.raw, native_id=record.native_id)
                continue
            assert record.values is not None
            problems = _nul_problems(record.raw) if record.check_nul else []
            values, found = convert(entity, record.values)
            problems.extend(found)
            native = values.get(key) or _text_or_none(record.values.get(key))
            if problems:
                quarantined += 1
                yield Rejected(entity, "; ".join(problems), record.raw, native_id=native)
                continue
            # one int per id: 48 bits of the values' hash, 40 bits of the line (or row)
            id_hash, content = hash(values[key]), _fingerprint(values) & _CONTENT_BITS
            first = seen.get(id_hash)
            if first is not None:
                if first >> 40 == content:
                    dropped += 1
                    continue
                where = "line" if "line" in record.raw else "row"
                quarantined += 1
                yield Rejected(
                    entity,
                    f"{key}: duplicate {_show(values[key])} with different values "
                    f"({where} {first & _AT_BITS} was kept)",
                    record.raw,
                    native_id=native,
                )
                continue
            seen[id_hash] = content << 40 | (record.at & _AT_BITS)
            rows += 1
            yield Row(entity, values, record.raw)
        self.duplicates_dropped += dropped
        if dropped:
            log.info("crm: %s: dropped %d identical duplicate row(s)", path, dropped)
        log.info("crm: %s: %d rows, %d quarantined", path, rows, quarantined)
        st = path.stat()
        if (st.st_size, st.st_mtime_ns) != (scan.size, scan.mtime_ns):
            log.warning("crm: %s changed while it was read; it will be read again next run", path)
            return
        self._new[entity][path.name] = {
            "size": scan.size,
            "mtime_ns": scan.mtime_ns,
            "sha256": scan.sha256,
            "rows": rows,
            "quarantined": quarantined,
        }


def _text_or_none(value: Any) -> str | None:
    try:
        return _text(value)
    except _Bad:
        return None
