"""The mail fast path (``split_simple`` + ``simple_body``) against the email package.

``MessageBuilder`` reads most messages without the email package: it must give
exactly the ``body_text`` that ``body_text(BytesParser(policy=compat32).parse(...))``
gives, or hand the message over (``_COMPLEX``). These tests build many MIME messages
(seeded, so a failure names a reproducible case), well-formed ones that the fast
path must read itself and damaged or unusual ones that it may hand over, and compare
both readings byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import random
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import pytest

from townsquare.mail import _COMPLEX, body_text, simple_body, split_simple

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
PARSER = BytesParser(policy=compat32)

TEXTS = [
    "Hello list.",
    "Caf\u00e9 d\u00e9j\u00e0 vu, na\u00efve",
    "Line one\n\nLine two\n> quoted\n-- \nJane",
    "   padded   \n\n",
    "",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "--not-a-boundary\nFrom the release notes: it works",
    "a=b; c\u2019s \u20ac 5",
]
HTML = ["<p>Hello <b>world</b> &amp; all</p>", "<div>Caf\u00e9<br>two</div>", ""]


def encode(text: str, charset: str, cte: str) -> tuple[bytes, bytes]:
    """(header lines, body bytes) of a text in a charset and transfer encoding."""
    raw = text.encode(charset, "replace")
    if cte == "base64":
        body = base64.encodebytes(raw)
    elif cte == "quoted-printable":
        body = binascii.b2a_qp(raw)
    else:
        body = raw
    return f"Content-Transfer-Encoding: {cte}\n".encode() if cte else b"", body


def leaf(rng: random.Random) -> bytes:
    """One non-multipart part: headers, blank line, body (no trailing newline)."""
    kind = rng.choice(["plain", "plain", "html", "attachment", "named", "binary", "bare"])
    charset = rng.choice(["utf-8", "iso-8859-1", "cp1252", "utf-8"])
    cte = rng.choice(["", "8bit", "7bit", "base64", "quoted-printable"])
    quote = rng.choice(['"', ""])
    if kind == "html":
        text = rng.choice(HTML)
        ctype = f"Content-Type: text/html; charset={quote}{charset}{quote}\n".encode()
    else:
        text = rng.choice(TEXTS)
        ctype = f"Content-Type: text/plain; charset={quote}{charset}{quote}\n".encode()
    if kind == "bare":
        ctype = b""  # no Content-Type: text/plain, us-ascii
        charset = "utf-8"
    cte_line, body = encode(text, charset if kind != "bare" else "utf-8", cte)
    head = ctype + cte_line
    if kind == "attachment":
        head += b'Content-Disposition: attachment; filename="notes.txt"\n'
    elif kind == "named":
        # a name without "attachment": skipped unless it is the first part
        head += rng.choice([b"Content-Disposition: inline; filename=log.txt\n", b""])
        head = head.replace(
            b"Content-Type: text/plain;", b'Content-Type: text/plain; name="x.txt";'
        )
    elif kind == "binary":
        head = b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n"
        body = base64.encodebytes(bytes(range(40)))
    if rng.random() < 0.2:
        head += b"Content-ID: <part@example.org>\nX-Folded: one\n\ttwo\n"
    if rng.random() < 0.5:
        body = body.rstrip(b"\n")
    return head + b"\n" + body


def multipart(rng: random.Random, depth: int) -> bytes:
    """A multipart part (headers, blank line, body) with 1-4 children."""
    boundary = rng.choice(["b1", f"=_mix_{depth}", "----=_Part_0_1.2", "simple boundary"])
    boundary = f"{boundary}{depth}"
    subtype = rng.choice(["mixed", "alternative", "related", "signed"])
    quoted = f'"{boundary}"' if " " in boundary or rng.random() < 0.5 else boundary
    head = f"Content-Type: multipart/{subtype};\n boundary={quoted}\n".encode()
    lines = [head]
    if rng.random() < 0.3:
        lines.append(b"This is a multi-part message in MIME format.\n")
    children = []
    for _ in range(rng.randint(1, 4)):
        if depth < 2 and rng.random() < 0.3:
            children.append(multipart(rng, depth + 1))
        else:
            children.append(leaf(rng))
    body = b""
    for child in children:
        trail = rng.choice([b"", b" ", b"\t"])
        body += b"\n--" + boundary.encode() + trail + b"\n" + child
    body += b"\n--" + boundary.encode() + b"--" + rng.choice([b"", b"  "]) + b"\n"
    if rng.random() < 0.3:
        body += b"epilogue text\n--" + boundary.encode() + b"\nafter the close\n"
    return head + body


def message(part: bytes) -> bytes:
    top = b"From: Jane <jane@example.org>\nSubject: hi\nMIME-Version: 1.0\n"
    return top + part


def both(data: bytes) -> tuple[object, str | None]:
    """(fast path result, email package result)."""
    simple = split_simple(data)
    assert simple is not None, data
    _, first, body = simple
    return simple_body(first, body), body_text(PARSER.parsebytes(data))


def test_well_formed_multipart_messages_read_alike_without_the_email_package() -> None:
    rng = random.Random(20261125)
    for n in range(1500):
        data = message(multipart(rng, 0))
        fast, slow = both(data)
        assert fast is not _COMPLEX, f"case {n} went to the email package:\n{data!r}"
        assert fast == slow, f"case {n}:\n{data.decode('latin-1')}"


def test_single_part_messages_read_alike() -> None:
    rng = random.Random(7)
    for n in range(800):
        data = message(leaf(rng))
        fast, slow = both(data)
        assert fast is not _COMPLEX, f"case {n}: {data!r}"
        assert fast == slow, f"case {n}: {data!r}"


DAMAGED = {
    "no close boundary": b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n",
    "no start boundary": b"Content-Type: multipart/mixed; boundary=b\n\nhi\n--b--\n",
    "no boundary parameter": b"Content-Type: multipart/mixed\n\n--b\n\nhi\n--b--\n",
    "empty boundary": b'Content-Type: multipart/mixed; boundary=""\n\n--\n\nhi\n----\n',
    "adjacent boundary lines": (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\nContent-Type: text/plain\n\n"
        b"one\n--b\n--b--\nContent-Type: text/plain\n\ntwo\n--b--\n"
    ),
    "a part with headers only": (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n--b--\n"
    ),
    "a CR in the body": (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\rContent-Type: text/plain\n\nhi\r--b--\n"
    ),
    "a nested message": (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n"
        b"Subject: inner\n\ninner text\n--b--\n"
    ),
    "a digest": (
        b"Content-Type: multipart/digest; boundary=b\n\n--b\n\nSubject: inner\n\ntext\n--b--\n"
    ),
    "an RFC 2231 boundary": (
        b"Content-Type: multipart/mixed; boundary*=''b\n\n--b\nContent-Type: text/plain\n\n"
        b"hi\n--b--\n"
    ),
    "a quoted semicolon": (
        b'Content-Type: multipart/mixed; boundary="a;b"\n\n--a;b\nContent-Type: text/plain\n\n'
        b"hi\n--a;b--\n"
    ),
    "an 8-bit file name": (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nA\n"
        b"--b\nContent-Type: text/plain; name=\xc3\xa9.txt\n\nB\n--b--\n"
    ),
    "a uuencoded part": (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n"
        b"Content-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n`\nend\n--b--\n"
    ),
    "a body line between parts that is not a field": (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n"
        b"not a header\n\nhi\n--b--\n"
    ),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_damaged_or_unusual_multiparts_go_to_the_email_package(case: str) -> None:
    fast, slow = both(message(DAMAGED[case]))
    assert fast is _COMPLEX, (case, fast, slow)


def test_boundary_rules_the_fast_path_reads_itself() -> None:
    cases = {
        # trailing blanks on boundary lines; a lookalike line is body text
        b"Content-Type: multipart/mixed; boundary=b\n\npreamble\n--b \t\nContent-Type: "
        b"text/plain\n\none\n--bb\ntwo\n--b--  \nepilogue\n": "one\n--bb\ntwo",
        # the boundary is unquoted and right-stripped; text after the close is epilogue
        b'Content-Type: multipart/alternative; boundary="x "\n\n--x\nContent-Type: text/plain'
        b"\n\nplain\n--x\nContent-Type: text/html\n\n<p>html</p>\n--x--\n--x\n"
        b"Content-Type: text/plain\n\nlate\n": "plain",
        # html only when there is no plain part; a named later part is skipped
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\n"
        b'<p>A &amp; B</p>\n--b\nContent-Type: text/plain; name="x.txt"\n\nskipped\n--b--\n': (
            "A & B"
        ),
        # a named FIRST part is read; empty plain parts are left out of the join
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; "
        b"name=a.txt\n\nfirst\n--b\nContent-Type: text/plain\n\n\n--b\nContent-Type: "
        b"text/plain\n\nthird\n--b--\n": "first\n\nthird",
    }
    # unquoted twice, as the email package does: "<x>" is the boundary x
    cases[
        b'Content-Type: multipart/mixed; boundary="<x>"\n\n--x\nContent-Type: text/plain\n\n'
        b"inner\n--x--\n"
    ] = "inner"
    # a file name that unquotes twice to nothing does not make a later part skipped
    cases[
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
        b'one\n--b\nContent-Type: text/plain; name="<>"\n\ntwo\n--b--\n'
    ] = "one\n\ntwo"
    for data, expected in cases.items():
        fast, slow = both(message(data))
        assert (fast, slow) == (expected, expected), data


def read_alike(path: Path) -> tuple[int, int]:
    """Compare every message of an mbox file: (read by the fast path, handed over)."""
    from townsquare.mail import MboxSplitter, open_stream

    fast_read = handed_over = 0
    with path.open("rb") as fh:
        for raw in MboxSplitter(open_stream(fh), str(path)):
            simple = split_simple(raw.data)
            fast = _COMPLEX if simple is None else simple_body(simple[1], simple[2])
            if fast is _COMPLEX:
                handed_over += 1
                continue
            assert fast == body_text(PARSER.parsebytes(raw.data)), (path.name, raw.start)
            fast_read += 1
    return fast_read, handed_over


def test_fixture_and_sample_messages_read_alike() -> None:
    """The ugly fixture and the bundled sample: the fast path agrees or hands over."""
    sample = FIXTURES.parents[2] / "plugins" / "townsquare" / "samples" / "forum" / "mail"
    counts = [read_alike(path) for path in (FIXTURES / "ugly.mbox.gz", sample / "lumen-dev.mbox")]
    assert sum(fast for fast, _ in counts) >= 10
