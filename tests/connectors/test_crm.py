"""CrmConnector against real CSV and Parquet exports written here (csv module, pyarrow).

Every file is built in ``tmp_path`` next to the values it must produce, so each ugly case
(bad values, broken headers, encodings, truncation, duplicates, reruns) is visible.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from townsquare.config import SourceConfig
from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.crm import (
    CrmConnector,
    CrmFormatError,
    export_files,
    normalize_domain,
)
from townsquare.pipeline import ingest_source
from townsquare.records import Item, Rejected, Row

ACCOUNT_HEADER = [
    "account_id",
    "name",
    "domains",
    "website",
    "industry",
    "country",
    "segment",
    "created_at",
    "updated_at",
]
SUB_HEADER = [
    "subscription_id",
    "account_id",
    "product_kind",
    "product",
    "plan",
    "started_at",
    "ended_at",
    "amount",
    "currency",
    "status",
    "updated_at",
]
ACCOUNT_ROWS = [
    [
        "A-1",
        "Acme Corp",
        "acme.com; https://www.Acme.io/about, mail.acme.com",
        "https://acme.com",
        "Manufacturing",
        "DE",
        "enterprise",
        "2024-01-15",
        "2025-03-01T10:30:00+02:00",
    ],
    ["A-2", "Beta GmbH", "", "", "", "", "", "", ""],
]
SUB_ROWS = [
    [
        "S-1",
        "A-1",
        "Support",
        "24/7 Enterprise Support",
        "annual",
        "2024-02-01",
        "2025-01-31T23:59:59Z",
        "1,234.50",
        "eur",
        "Active",
        "2025-02-01 08:00:00",
    ],
    ["S-2", "A-1", "TRAINING", "Admin course", "one-off", "2024-05-10", "", "900", "USD", "", ""],
    ["S-3", "A-2", "other", "", "", "2025-06-01T09:00:00", "", "", "", "pending", ""],
]

UTC_MIDNIGHT = datetime(2024, 1, 15, tzinfo=UTC)


def write_csv(path: Path, header: list[str], rows: list[list[str]], **kwargs: Any) -> Path:
    encoding = kwargs.pop("encoding", "utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh, **kwargs)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def export(folder: Path, accounts: bool = True, subscriptions: bool = True) -> Path:
    if accounts:
        write_csv(folder / "accounts.csv", ACCOUNT_HEADER, ACCOUNT_ROWS)
    if subscriptions:
        write_csv(folder / "subscriptions.csv", SUB_HEADER, SUB_ROWS)
    return folder


def connector(location: Path, **kwargs: Any) -> CrmConnector:
    since = kwargs.pop("since", None)
    state = kwargs.pop("state", None) or {}
    return CrmConnector(
        ConnectorContext(
            name="crm", location=str(location), since=since, state=state, options=kwargs
        )
    )


def collect(location: Path, **kwargs: Any) -> list[Item]:
    return list(connector(location, **kwargs).items())


def rows(items: list[Item], entity: str | None = None) -> list[dict[str, Any]]:
    return [i.values for i in items if isinstance(i, Row) and entity in (None, i.entity)]


def rejected(items: list[Item]) -> list[Rejected]:
    return [i for i in items if isinstance(i, Rejected)]


def one_subscription(path: Path, **changes: str) -> list[Item]:
    """A subscriptions file with one valid row, with ``changes`` applied to it."""
    values = dict(zip(SUB_HEADER, SUB_ROWS[0], strict=True))
    values.update(changes)
    write_csv(path / "subscriptions.csv", SUB_HEADER, [[values[c] for c in SUB_HEADER]])
    return collect(path / "subscriptions.csv")


# -- the happy path -------------------------------------------------------------------------


def test_csv_export_lands_typed_rows(tmp_path: Path) -> None:
    items = collect(export(tmp_path))
    assert rejected(items) == []
    assert rows(items, "accounts") == [
        {
            "account_id": "A-1",
            "name": "Acme Corp",
            "domains": ["acme.com", "acme.io", "mail.acme.com"],
            "website": "https://acme.com",
            "industry": "Manufacturing",
            "country": "DE",
            "segment": "enterprise",
            "created_at": UTC_MIDNIGHT,
            "updated_at": datetime(2025, 3, 1, 8, 30, tzinfo=UTC),
        },
        {
            "account_id": "A-2",
            "name": "Beta GmbH",
            "domains": None,
            "website": None,
            "industry": None,
            "country": None,
            "segment": None,
            "created_at": None,
            "updated_at": None,
        },
    ]
    assert rows(items, "subscriptions") == [
        {
            "subscription_id": "S-1",
            "account_id": "A-1",
            "product_kind": "support",
            "product": "24/7 Enterprise Support",
            "plan": "annual",
            "started_at": datetime(2024, 2, 1, tzinfo=UTC),
            "ended_at": datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC),
            "amount": Decimal("1234.50"),
            "currency": "EUR",
            "status": "active",
            "updated_at": datetime(2025, 2, 1, 8, 0, tzinfo=UTC),
        },
        {
            "subscription_id": "S-2",
            "account_id": "A-1",
            "product_kind": "training",
            "product": "Admin course",
            "plan": "one-off",
            "started_at": datetime(2024, 5, 10, tzinfo=UTC),
            "ended_at": None,
            "amount": Decimal("900.00"),
            "currency": "USD",
            "status": None,
            "updated_at": None,
        },
        {
            "subscription_id": "S-3",
            "account_id": "A-2",
            "product_kind": "other",
            "product": None,
            "plan": None,
            "started_at": datetime(2025, 6, 1, 9, 0, tzinfo=UTC),
            "ended_at": None,
            "amount": None,
            "currency": None,
            "status": "pending",
            "updated_at": None,
        },
    ]
    first = next(i for i in items if isinstance(i, Row) and i.entity == "subscriptions")
    assert first.raw == {
        "file": "subscriptions.csv",
        "line": 2,
        "record": dict(zip(SUB_HEADER, SUB_ROWS[0], strict=True)),
    }
    assert str(first.values["amount"]) == "1234.50"


def test_parquet_export_with_native_and_wrong_types(tmp_path: Path) -> None:
    accounts = pa.table(
        {
            "Account_ID": pa.array([17, 18], pa.int64()),  # ids as integers, odd case
            "name": ["Acme", "Beta"],
            "domains": pa.array([["Acme.com", "https://www.acme.io/"], None]),
            "created_at": pa.array([date(2024, 1, 15), None], pa.date32()),
            "updated_at": pa.array(
                [datetime(2025, 3, 1, 10, 30), datetime(2025, 3, 2)], pa.timestamp("ns")
            ),
        }
    )
    pq.write_table(accounts, tmp_path / "accounts.parquet")
    subs = pa.table(
        {
            "subscription_id": ["S-1", "S-2", "S-3", "S-4"],
            "account_id": ["17", "17", "18", "18"],
            "product_kind": ["support", "Training", "other", "support"],
            "started_at": ["2024-02-01", "2024-05-10T12:00:00+02:00", "2025-01-01", "2024-01-01"],
            "amount": ["1,234.50", "99.9", None, "12,3,4"],  # amount as text
            "currency": ["eur", "USD", None, "EUR"],
            "ended_at": pa.array(
                [datetime(2025, 1, 31, tzinfo=UTC), None, None, None], pa.timestamp("us", tz="UTC")
            ),
        }
    )
    pq.write_table(subs, tmp_path / "subscriptions.parquet")
    items = collect(tmp_path)
    assert rows(items, "accounts") == [
        {
            "account_id": "17",
            "name": "Acme",
            "domains": ["acme.com", "acme.io"],
            "website": None,
            "industry": None,
            "country": None,
            "segment": None,
            "created_at": UTC_MIDNIGHT,
            "updated_at": datetime(2025, 3, 1, 10, 30, tzinfo=UTC),
        },
        {
            "account_id": "18",
            "name": "Beta",
            "domains": None,
            "website": None,
            "industry": None,
            "country": None,
            "segment": None,
            "created_at": None,
            "updated_at": datetime(2025, 3, 2, tzinfo=UTC),
        },
    ]
    subs_rows = rows(items, "subscriptions")
    assert [(r["subscription_id"], r["amount"], r["currency"]) for r in subs_rows] == [
        ("S-1", Decimal("1234.50"), "EUR"),
        ("S-2", Decimal("99.90"), "USD"),
        ("S-3", None, None),
    ]
    assert subs_rows[0]["ended_at"] == datetime(2025, 1, 31, tzinfo=UTC)
    assert subs_rows[1]["started_at"] == datetime(2024, 5, 10, 10, 0, tzinfo=UTC)
    assert subs_rows[1]["product_kind"] == "training"
    [bad] = rejected(items)
    assert (bad.entity, bad.native_id, bad.reason) == (
        "subscriptions",
        "S-4",
        "amount: not a number ('12,3,4')",
    )
    assert bad.raw["file"] == "subscriptions.parquet" and bad.raw["row"] == 4


def test_parquet_amounts_as_decimal_and_float(tmp_path: Path) -> None:
    table = pa.table(
        {
            "subscription_id": ["S-1", "S-2", "S-3", "S-4"],
            "account_id": ["A"] * 4,
            "product_kind": ["support"] * 4,
            "started_at": ["2024-01-01"] * 4,
            "amount": pa.array([12.5, 0.1, float("nan"), -3.0]),
            "currency": ["EUR"] * 4,
        }
    )
    pq.write_table(table, tmp_path / "subscriptions.parquet")
    items = collect(tmp_path / "subscriptions.parquet")
    assert [r["amount"] for r in rows(items)] == [Decimal("12.50"), Decimal("0.10"), None]
    assert [r.reason for r in rejected(items)] == ["amount: negative (-3.0)"]
    decimal = pa.table(
        {
            "subscription_id": ["S-1"],
            "account_id": ["A"],
            "product_kind": ["support"],
            "started_at": pa.array([datetime(2024, 1, 1)], pa.timestamp("ms")),
            "amount": pa.array([Decimal("1234.5000")], pa.decimal128(12, 4)),
            "currency": ["CHF"],
        }
    )
    pq.write_table(decimal, tmp_path / "subscriptions.parquet")
    [row] = rows(collect(tmp_path / "subscriptions.parquet"))
    assert row["amount"] == Decimal("1234.50")
    assert row["started_at"] == datetime(2024, 1, 1, tzinfo=UTC)


def test_parquet_time_zones_and_nul_bytes(tmp_path: Path) -> None:
    when = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    table = pa.table(
        {
            "account_id": ["A-1", "A-2"],
            "name": ["Acme", "Be\x00ta"],
            "updated_at": pa.array([when, when], pa.timestamp("ms", tz="Europe/Berlin")),
        }
    )
    pq.write_table(table, tmp_path / "accounts.parquet")
    items = collect(tmp_path)
    assert [(r["account_id"], r["updated_at"]) for r in rows(items)] == [("A-1", when)]
    assert [(r.native_id, r.reason) for r in rejected(items)] == [
        ("A-2", "name: contains a NUL byte ('Be\\x00ta')")
    ]


# -- files and headers ---------------------------------------------------------------------


def test_single_file_by_name_prefix_and_bad_locations(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "Accounts-2026-05.csv", ACCOUNT_HEADER, ACCOUNT_ROWS)
    [found] = export_files(str(path))
    assert (found.entity, found.path) == ("accounts", path)
    assert len(rows(collect(path), "accounts")) == 2

    other = write_csv(tmp_path / "customers.csv", ACCOUNT_HEADER, ACCOUNT_ROWS)
    with pytest.raises(CrmFormatError, match="expected a file named accounts"):
        export_files(str(other))
    with pytest.raises(ValueError, match="is a URL"):
        export_files("https://crm.example.com/export")
    with pytest.raises(FileNotFoundError, match="file or folder not found"):
        export_files(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"no accounts\.csv, accounts\.parquet"):
        export_files(str(empty))


def test_folder_with_both_csv_and_parquet_of_one_entity_is_an_error(tmp_path: Path) -> None:
    export(tmp_path)
    pq.write_table(pa.table({"account_id": ["A"], "name": ["x"]}), tmp_path / "accounts.parquet")
    with pytest.raises(CrmFormatError, match=r"holds both accounts\.csv and accounts\.parquet"):
        export_files(str(tmp_path))


def test_folder_with_only_one_file_lands_it_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    export(tmp_path, accounts=False)
    (tmp_path / "notes.txt").write_text("not an export")
    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.crm"):
        conn = connector(tmp_path)
        items = list(conn.items())
    assert [f.entity for f in conn.files] == ["subscriptions"]
    assert len(rows(items, "subscriptions")) == 3
    assert rows(items, "accounts") == []
    assert "no accounts.csv or accounts.parquet in" in caplog.text
    assert "landing subscriptions only" in caplog.text
    assert set(conn.new_state()) == {"subscriptions"}


def test_missing_required_column_names_column_file_and_columns_found(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "subscriptions.csv",
        ["subscription_id", "account_id", "product_kind", "amount", "currency"],
        [["S-1", "A-1", "support", "12", "EUR"]],
    )
    with pytest.raises(CrmFormatError) as info:
        collect(tmp_path)
    assert str(info.value) == (
        f"crm: {path}: missing required column 'started_at' (columns found: "
        "subscription_id, account_id, product_kind, amount, currency)"
    )


def test_every_header_problem_of_every_file_is_reported_one_line_each(tmp_path: Path) -> None:
    accounts = write_csv(tmp_path / "accounts.csv", ["account_id", "Name", " name "], [])
    subs = write_csv(
        tmp_path / "subscriptions.csv",
        ["subscription_id", "product_kind", "started_at", "amount"],
        [],
    )
    with pytest.raises(CrmFormatError) as info:
        collect(tmp_path)
    assert str(info.value).splitlines() == [
        f"crm: {accounts}: duplicate column 'name' (columns 2 and 3; names are matched "
        "case-insensitively)",
        f"crm: {subs}: missing required column 'account_id' (columns found: subscription_id, "
        "product_kind, started_at, amount)",
        f"crm: {subs}: missing column 'currency', required with 'amount' (columns found: "
        "subscription_id, product_kind, started_at, amount)",
    ]


def test_header_names_match_case_insensitively_with_spaces_trimmed(tmp_path: Path) -> None:
    header = [" Account_ID ", "NAME", "Domains  "]
    write_csv(tmp_path / "accounts.csv", header, [["A-1", "Acme", "ACME.com"]])
    [row] = rows(collect(tmp_path))
    assert (row["account_id"], row["name"], row["domains"]) == ("A-1", "Acme", ["acme.com"])


def test_extra_columns_are_kept_in_raw_and_warned_about_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    header = ["account_id", "name", "Owner", "Notes", ""]
    data = [["A-1", "Acme", "bob", "key account", ""], ["A-2", "Beta", "eve", "", ""]]
    write_csv(tmp_path / "accounts.csv", header, data)
    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.crm"):
        items = collect(tmp_path)
    assert [r["account_id"] for r in rows(items)] == ["A-1", "A-2"]
    first = items[0]
    assert isinstance(first, Row)
    assert first.raw["record"] == {
        "account_id": "A-1",
        "name": "Acme",
        "Owner": "bob",
        "Notes": "key account",
        "_column_5": "",
    }
    warnings = [r.getMessage() for r in caplog.records if "unknown column" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].endswith("ignoring unknown column(s) Owner, Notes (kept in raw)")


def test_header_only_file_lands_nothing_and_an_empty_file_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, [])
    (tmp_path / "subscriptions.csv").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.crm"):
        conn = connector(tmp_path)
        items = list(conn.items())
    assert items == []
    assert "subscriptions.csv is empty (not even a header line)" in caplog.text
    state = conn.new_state()
    assert state["accounts"]["files"]["accounts.csv"]["rows"] == 0
    assert state["subscriptions"]["files"]["subscriptions.csv"]["size"] == 0


def test_semicolon_tab_and_excel_sep_line(tmp_path: Path) -> None:
    write_csv(tmp_path / "a" / "accounts.csv", ACCOUNT_HEADER, ACCOUNT_ROWS, delimiter=";")
    assert len(rows(collect(tmp_path / "a"))) == 2
    write_csv(tmp_path / "b" / "accounts.csv", ACCOUNT_HEADER, ACCOUNT_ROWS, delimiter="\t")
    assert rows(collect(tmp_path / "b"))[0]["domains"] == ["acme.com", "acme.io", "mail.acme.com"]
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "accounts.csv").write_text(
        "sep=|\r\naccount_id|name|domains\r\nA-1|Acme, Inc.|acme.com;acme.io\r\n"
    )
    [row] = rows(collect(tmp_path / "c"))
    assert (row["name"], row["domains"]) == ("Acme, Inc.", ["acme.com", "acme.io"])
    write_csv(tmp_path / "d" / "accounts.csv", ["account_id", "name"], [["A-1", "x"]])
    assert len(rows(collect(tmp_path / "d", delimiter=","))) == 1
    with pytest.raises(CrmFormatError, match="delimiter: expected one character"):
        connector(tmp_path / "d", delimiter=";;")


# -- bad values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"amount": "12,3,4"}, "amount: not a number ('12,3,4')"),
        ({"amount": "12.345"}, "amount: more than 2 decimal places ('12.345')"),
        ({"amount": "-5.00"}, "amount: negative ('-5.00')"),
        ({"amount": "$12"}, "amount: not a number ('$12')"),
        ({"amount": "NaN"}, "amount: not a number ('NaN')"),
        ({"amount": "12", "currency": ""}, "currency: required when amount is given ('12')"),
        ({"currency": "EURO"}, "currency: not a 3-letter ISO 4217 code ('EURO')"),
        ({"currency": "€"}, "currency: not a 3-letter ISO 4217 code ('€')"),
        ({"currency": "XYZ"}, "currency: unknown ISO 4217 currency ('XYZ')"),
        ({"started_at": "05/03/2024"}, "started_at: not an ISO 8601 date ('05/03/2024')"),
        ({"started_at": ""}, "started_at: missing (required)"),
        ({"started_at": "1899-12-30"}, "started_at: before 1990 ('1899-12-30')"),
        ({"updated_at": "2024-02-30"}, "updated_at: not an ISO 8601 date ('2024-02-30')"),
        (
            {"product_kind": "consulting"},
            "product_kind: not one of support, training, other ('consulting')",
        ),
        ({"product_kind": " "}, "product_kind: missing (required)"),
        (
            {"status": "on hold"},
            "status: not one of active, cancelled, expired, trial, pending ('on hold')",
        ),
        (
            {"started_at": "2024-06-01", "ended_at": "2024-05-31"},
            "ended_at: before started_at ('2024-05-31' < '2024-06-01')",
        ),
        (
            {"account_id": "", "amount": "x"},
            "account_id: missing (required); amount: not a number ('x')",
        ),
    ],
)
def test_bad_subscription_values_are_quarantined_with_column_and_value(
    tmp_path: Path, changes: dict[str, str], reason: str
) -> None:
    items = one_subscription(tmp_path, **changes)
    assert rows(items) == []
    [bad] = rejected(items)
    assert bad.entity == "subscriptions"
    assert bad.reason == reason
    assert bad.native_id == "S-1"
    assert bad.raw["file"] == "subscriptions.csv" and bad.raw["line"] == 2


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"amount": "1234.5"}, {"amount": Decimal("1234.50")}),
        ({"amount": "+1,234,567.00"}, {"amount": Decimal("1234567.00")}),
        ({"amount": "12.500"}, {"amount": Decimal("12.50")}),
        ({"amount": "", "currency": ""}, {"amount": None, "currency": None}),
        ({"status": "Canceled"}, {"status": "cancelled"}),
        ({"currency": "chf"}, {"currency": "CHF"}),
        ({"ended_at": "2024-02-01"}, {"ended_at": datetime(2024, 2, 1, tzinfo=UTC)}),
        (
            {"started_at": "2024-02-01T10:00:00-05:00"},
            {"started_at": datetime(2024, 2, 1, 15, 0, tzinfo=UTC), "ended_at": None},
        ),
        ({"started_at": "2030-01-01"}, {"started_at": datetime(2030, 1, 1, tzinfo=UTC)}),
    ],
)
def test_accepted_subscription_value_forms(
    tmp_path: Path, changes: dict[str, str], expected: dict[str, Any]
) -> None:
    if "started_at" in changes:
        changes = {"ended_at": "", **changes}
    items = one_subscription(tmp_path, **changes)
    assert rejected(items) == []
    [row] = rows(items)
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("domains", "reason"),
    [
        ("acme.com; acme", "domains: not a domain ('acme')"),
        ("acme_corp.com", "domains: not a domain ('acme_corp.com')"),
        ("192.168.0.1", "domains: not a domain ('192.168.0.1')"),
        ("https://", "domains: not a domain ('https://')"),
        ("-acme.com", "domains: not a domain ('-acme.com')"),
    ],
)
def test_invalid_domains_quarantine_the_account(tmp_path: Path, domains: str, reason: str) -> None:
    write_csv(tmp_path / "accounts.csv", ["account_id", "name", "domains"], [["A", "n", domains]])
    items = collect(tmp_path)
    assert [(r.native_id, r.reason) for r in rejected(items)] == [("A", reason)]


def test_domain_normalization() -> None:
    assert normalize_domain("HTTPS://WWW.Acme.com:8443/path?q=1#x") == "acme.com"
    assert normalize_domain("jane.doe@Acme.co.uk") == "acme.co.uk"
    assert normalize_domain("mailto:sales@acme.io") == "acme.io"
    assert normalize_domain("www.acme.com.") == "acme.com"
    assert normalize_domain("Bücher.de") == "bücher.de"
    assert normalize_domain("www2.acme.com") == "www2.acme.com"


def test_missing_account_name_is_quarantined(tmp_path: Path) -> None:
    write_csv(tmp_path / "accounts.csv", ["account_id", "name"], [["A-1", ""], ["", "No id"]])
    items = collect(tmp_path)
    assert [(r.native_id, r.reason) for r in rejected(items)] == [
        ("A-1", "name: missing (required)"),
        (None, "account_id: missing (required)"),
    ]


# -- duplicates -----------------------------------------------------------------------------


def test_identical_duplicates_are_dropped_and_conflicting_ones_quarantined(tmp_path: Path) -> None:
    data = [
        SUB_ROWS[0],
        SUB_ROWS[1],
        # the same values written differently: identical once typed
        [*SUB_ROWS[0][:7], "1234.5", "EUR", "active", "2025-02-01T08:00:00Z"],
        [*SUB_ROWS[1][:7], "901", *SUB_ROWS[1][8:]],  # S-2 with another amount
    ]
    write_csv(tmp_path / "subscriptions.csv", SUB_HEADER, data)
    conn = connector(tmp_path)
    items = list(conn.items())
    assert [r["subscription_id"] for r in rows(items)] == ["S-1", "S-2"]
    assert rows(items)[1]["amount"] == Decimal("900.00")  # the first one wins
    [bad] = rejected(items)
    assert bad.reason == "subscription_id: duplicate 'S-2' with different values (line 3 was kept)"
    assert bad.raw["line"] == 5
    assert conn.duplicates_dropped == 1


def test_a_bad_first_copy_does_not_block_a_good_second_one(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "accounts.csv",
        ["account_id", "name", "domains"],
        [["A-1", "Acme", "acme"], ["A-1", "Acme", "acme.com"]],
    )
    items = collect(tmp_path)
    assert [r["domains"] for r in rows(items)] == [["acme.com"]]
    assert len(rejected(items)) == 1


# -- encodings and damaged files -----------------------------------------------------------


def test_utf8_bom_is_stripped_from_the_first_column(tmp_path: Path) -> None:
    write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, ACCOUNT_ROWS, encoding="utf-8-sig")
    assert (tmp_path / "accounts.csv").read_bytes().startswith(b"\xef\xbb\xbfaccount_id,")
    items = collect(tmp_path)
    assert [r["account_id"] for r in rows(items)] == ["A-1", "A-2"]
    assert "account_id" in items[0].raw["record"]


def test_utf16_excel_unicode_text_export(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "accounts.csv",
        ["account_id", "name"],
        [["A-1", "Société Générale"]],
        encoding="utf-16",
        delimiter="\t",
    )
    assert [r["name"] for r in rows(collect(tmp_path))] == ["Société Générale"]


def test_a_cp1252_file_is_read_as_windows_1252_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_csv(
        tmp_path / "accounts.csv",
        ["account_id", "name", "segment"],
        [["A-1", "Café Müller", "€ premium"], ["A-2", "Ærø “quoted”", ""]],
        encoding="cp1252",
    )
    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.crm"):
        items = collect(tmp_path)
    assert [(r["name"], r["segment"]) for r in rows(items)] == [
        ("Café Müller", "€ premium"),
        ("Ærø “quoted”", None),
    ]
    assert f"crm: {path} is not valid UTF-8 (byte 0xe9 at offset 32)" in caplog.text
    assert "reading it as Windows-1252" in caplog.text


def test_nul_byte_quarantines_only_that_row(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_bytes(
        b"account_id,name,notes\nA-1,Acme,ok\nA-2,Be\x00ta,ok\nA-3,Gamma,x\x00\n"
    )
    items = collect(tmp_path)
    assert [r["account_id"] for r in rows(items)] == ["A-1"]
    assert [(r.native_id, r.reason) for r in rejected(items)] == [
        ("A-2", "name: contains a NUL byte ('Be\\x00ta')"),
        ("A-3", "notes: contains a NUL byte ('x\\x00')"),
    ]


def test_truncated_last_line_with_an_open_quote_is_quarantined(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text(
        'account_id,name,domains\nA-1,Acme,acme.com\nA-2,"Beta, Inc.",beta.com\nA-3,"Gamm'
    )
    items = collect(tmp_path)
    assert [r["account_id"] for r in rows(items)] == ["A-1", "A-2"]
    [bad] = rejected(items)
    assert bad.reason == "truncated last line: the file ends inside a quoted value (line 4)"
    assert bad.raw == {"file": "accounts.csv", "line": 4, "text": 'A-3,"Gamm'}


def test_truncated_last_line_with_missing_values_is_quarantined(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text(
        "account_id,name,domains,country\nA-1,Acme,acme.com,DE\nA-2,Bet"
    )
    items = collect(tmp_path)
    assert [r["account_id"] for r in rows(items)] == ["A-1"]
    [bad] = rejected(items)
    assert bad.native_id == "A-2"
    assert bad.reason == (
        "truncated last line: 2 of 4 values and no line break at the end of the file (line 3)"
    )


def test_a_complete_last_line_without_a_line_break_lands(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("account_id,name\r\nA-1,Acme\r\nA-2,Beta")
    assert [r["name"] for r in rows(collect(tmp_path))] == ["Acme", "Beta"]


def test_malformed_rows_are_quarantined_and_reading_goes_on(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text(
        "account_id,name,domains\n"
        'A-1,"Acme"Corp,acme.com\n'  # text after a closing quote
        "A-2,Beta,beta.com,extra\n"  # one value too many
        "A-3,Gamma\n"  # one value too few
        "A-4,Delta,delta.com,\n"  # an empty extra value (Excel): fine
        "\n"
        ",,\n"  # blank rows are skipped
        'A-5,"multi\nline name",epsilon.com\n'
    )
    items = collect(tmp_path)
    assert [(r["account_id"], r["name"]) for r in rows(items)] == [
        ("A-4", "Delta"),
        ("A-5", "multi\nline name"),
    ]
    assert [(r.native_id, r.reason) for r in rejected(items)] == [
        (None, "malformed CSV at line 2: ',' expected after '\"'"),
        ("A-2", "too many values at line 3: 4 values, the header has 3 columns"),
        ("A-3", "too few values at line 4: 2 values, the header has 3 columns"),
    ]
    assert rejected(items)[0].raw["text"] == 'A-1,"Acme"Corp,acme.com\n'
    assert rejected(items)[1].raw["extra_values"] == ["extra"]
    assert [i.raw["line"] for i in items if isinstance(i, Row)] == [5, 8]


def test_a_parquet_file_pyarrow_cannot_read_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "accounts.parquet").write_text("account_id,name\n")
    with pytest.raises(CrmFormatError, match=r"accounts\.parquet: not a readable Parquet file"):
        collect(tmp_path)


# -- incremental ---------------------------------------------------------------------------


def test_unchanged_files_are_skipped_changed_ones_landed_again_since_rereads(
    tmp_path: Path,
) -> None:
    export(tmp_path)
    first = connector(tmp_path)
    assert len(rows(list(first.items()))) == 5
    state = first.new_state()
    cursor = state["subscriptions"]["files"]["subscriptions.csv"]
    assert set(cursor) == {"size", "mtime_ns", "sha256", "rows", "quarantined"}
    assert (cursor["rows"], cursor["quarantined"]) == (3, 0)

    again = connector(tmp_path, state=state)
    assert list(again.items()) == []
    assert again.skipped_files == ["accounts.csv", "subscriptions.csv"]
    assert again.interval_key() == connector(tmp_path, state=state).interval_key()

    # touched, same bytes: skipped after hashing, the new mtime is remembered
    os.utime(tmp_path / "accounts.csv", ns=(1_700_000_000_000_000_000,) * 2)
    touched = connector(tmp_path, state=state)
    assert list(touched.items()) == []
    assert touched.new_state()["accounts"]["files"]["accounts.csv"]["mtime_ns"] == (
        1_700_000_000_000_000_000
    )

    # a changed file is landed again whole; the other one is still skipped
    s4 = ["S-4", "A-2", "support", "", "", "2025-07-01", "", "", "", "", ""]
    write_csv(tmp_path / "subscriptions.csv", SUB_HEADER, [*SUB_ROWS, s4])
    changed = connector(tmp_path, state=touched.new_state())
    assert changed.interval_key() != again.interval_key()
    items = list(changed.items())
    assert [r["subscription_id"] for r in rows(items)] == ["S-1", "S-2", "S-3", "S-4"]
    assert changed.skipped_files == ["accounts.csv"]
    new = changed.new_state()["subscriptions"]["files"]["subscriptions.csv"]
    assert new["sha256"] != cursor["sha256"] and new["rows"] == 4

    # --since reads everything again, whatever the state
    since = connector(tmp_path, state=changed.new_state(), since="2024-01-01")
    assert len(rows(list(since.items()))) == 6
    assert since.skipped_files == []


def test_state_is_only_exposed_after_items_ran_to_the_end(tmp_path: Path) -> None:
    export(tmp_path)
    conn = connector(tmp_path)
    iterator = conn.items()
    next(iterator)
    assert conn.new_state() == {}


def test_landing_through_the_pipeline_and_rerun(tmp_path: Path) -> None:
    folder = export(tmp_path / "export")
    lake = tmp_path / "lake"
    source = SourceConfig(type="crm", name="acme-crm", location=str(folder))
    result = ingest_source(source, lake=str(lake), credentials={})
    assert {e: (r.rows, r.quarantined) for e, r in result.entities.items()} == {
        "accounts": (2, 0),
        "subscriptions": (3, 0),
    }
    con = duckdb.connect()
    got = con.execute(
        f"select subscription_id, amount, typeof(amount), started_at, raw "
        f"from read_parquet('{lake}/raw/subscriptions/*/*/*.parquet') order by 1"
    ).fetchall()
    assert [(g[0], g[1], g[2]) for g in got] == [
        ("S-1", Decimal("1234.50"), "DECIMAL(18,2)"),
        ("S-2", Decimal("900.00"), "DECIMAL(18,2)"),
        ("S-3", None, "DECIMAL(18,2)"),
    ]
    assert json.loads(got[0][4])["record"]["amount"] == "1,234.50"
    domains = con.execute(
        f"select domains from read_parquet('{lake}/raw/accounts/*/*/*.parquet') order by account_id"
    ).fetchall()
    assert domains == [(["acme.com", "acme.io", "mail.acme.com"],), (None,)]

    rerun = ingest_source(source, lake=str(lake), credentials={})
    assert rerun.rows == 0  # both files unchanged
    assert rerun.run_id != result.run_id


# -- the command line -----------------------------------------------------------------------


def test_cli_ingest_crm_folder_prints_the_json_summary(tmp_path: Path) -> None:
    folder = export(tmp_path / "export")
    lake = tmp_path / "lake"
    env = {k: v for k, v in os.environ.items() if k != "TOWNSQUARE_LAKE"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "townsquare.cli",
            "ingest",
            "crm",
            str(folder),
            "--name",
            "acme-crm",
            "--lake",
            str(lake),
            "--json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["source"] == "acme-crm"
    assert out["type"] == "crm"
    assert out["entities"] == {
        "accounts": {"rows": 2, "quarantined": 0},
        "subscriptions": {"rows": 3, "quarantined": 0},
    }
    assert len(out["files"]) == 2 and all(Path(f).exists() for f in out["files"])
    assert any("/raw/accounts/source=acme-crm/" in f for f in out["files"])
    assert any("/raw/subscriptions/source=acme-crm/" in f for f in out["files"])
    assert (lake / "_state" / "acme-crm" / "subscriptions.json").exists()
