"""MboxSplitter (block reads) against a line-by-line reference splitter.

The reference below is the splitter as first written: it walks the stream line by
line, which is easy to check against the rules in ``townsquare.mail``'s docstring but
slow. The block splitter must cut every stream exactly as it does (messages, offsets,
completeness, the landed offset and the digest), whatever the block size.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator

import pytest

import townsquare.mail as mail
from townsquare.mail import (
    _ASCTIME,
    _BLANK,
    _KNOWN_HEADER,
    _QUOTED_FROM,
    MboxFormatError,
    MboxSplitter,
)

Cut = tuple[bytes, bytes, int, int, bool, bool]


def reference_split(data: bytes, start: int = 0) -> tuple[list[Cut], int, str]:
    """(messages, landed offset, digest hex) the line-by-line way."""
    digest = hashlib.sha256(data[:start])
    landed = start
    out: list[Cut] = []

    def finish(envelope: bytes, lines: list[bytes], at: int, end: int, in_headers: bool,
               ended: bool) -> None:  # fmt: skip
        nonlocal landed
        raw = b"".join(lines)
        complete = not in_headers
        is_landed = complete and ended
        if is_landed:
            digest.update(envelope + raw)
            landed = end
        body = raw.replace(b"\r\n", b"\n") if b"\r" in raw else raw
        if b">From " in body:
            body = _QUOTED_FROM.sub(rb"\1", body)
        out.append((envelope.rstrip(b"\r\n"), body, at, end, complete, is_landed))

    it: Iterator[bytes] = iter(io.BytesIO(data[start:]))
    offset = start
    envelope: bytes | None = None
    msg_start = offset
    lines: list[bytes] = []
    prev_blank = True
    in_headers = False
    body_at = 0
    line = next(it, None)
    while line is not None:
        nxt = next(it, None)
        if envelope is None:
            if line in _BLANK or (offset == 0 and line.strip(b"\xef\xbb\xbf\r\n") == b""):
                digest.update(line)
                offset += len(line)
                landed = offset
                line = nxt
                continue
            if not line.lstrip(b"\xef\xbb\xbf").startswith(b"From "):
                raise MboxFormatError("not an mbox")
            envelope, msg_start, in_headers, prev_blank = line, offset, True, False
        elif (
            prev_blank
            and line.startswith(b"From ")
            and (
                _ASCTIME.search(line) is not None
                or (nxt is not None and _KNOWN_HEADER.match(nxt) is not None)
            )
        ):
            finish(envelope, lines, msg_start, offset, in_headers, True)
            envelope, lines, msg_start, in_headers, prev_blank = line, [], offset, True, False
        else:
            lines.append(line)
            prev_blank = line in _BLANK
            if prev_blank and in_headers:
                in_headers = False
                body_at = len(lines)
        offset += len(line)
        line = nxt
    if envelope is not None:
        ended = not in_headers and len(lines) > body_at and lines[-1] in _BLANK
        finish(envelope, lines, msg_start, offset, in_headers, ended)
    return out, landed, digest.hexdigest()


def block_split(data: bytes, start: int = 0) -> tuple[list[Cut], int, str]:
    stream = io.BytesIO(data)
    stream.seek(start)
    splitter = MboxSplitter(stream, "x", start=start, digest=hashlib.sha256(data[:start]))
    cuts = [(m.envelope, m.data, m.start, m.end, m.complete, m.landed) for m in splitter]
    return cuts, splitter.landed, splitter.prefix_sha256()


PIECES = [
    b"From jane@example.org Mon Mar  4 10:00:00 2024\n",
    b"From jane@example.org Mon Mar  4 10:00:00 2024\r\n",
    b"From bob@example.org\n",  # no date: an envelope only when a known header follows
    b"From the release notes: it works\n",  # body text that looks like an envelope
    b"From \n",
    b">From the quoted line\n",
    b">>From twice quoted\n",
    b"From: Jane <jane@example.org>\n",
    b"Subject: hi\n",
    b"Return-Path: <x@y>\n",
    b"X-Mailer: thing\n",
    b"Received: from relay\n",
    b"Date: Mon, 4 Mar 2024 10:00:00 +0100\n",
    b"\n",
    b"\n",
    b"\n",
    b"\r\n",
    b"\r\n",
    b"body text\n",
    b"body text with CRLF\r\n",
    b"a lone CR\r inside\n",
    b"\xef\xbb\xbf\n",
    b"caf\xc3\xa9\n",
]


def random_mbox(rng: random.Random) -> bytes:
    out = []
    if rng.random() < 0.2:
        out.append(rng.choice([b"\n", b"\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n"]))
    out.append(PIECES[rng.randrange(3)])
    for _ in range(rng.randint(0, 40)):
        out.append(rng.choice(PIECES))
    data = b"".join(out)
    if rng.random() < 0.3:
        data = data.rstrip(b"\n")  # a stream cut mid-line
    return data


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 1 << 20])
def test_block_splitter_cuts_like_the_line_splitter(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mail, "SPLIT_BLOCK", block)
    rng = random.Random(block)
    compared = 0
    for n in range(1500 if block < 100 else 4000):
        data = random_mbox(rng)
        try:
            expected = reference_split(data)
        except MboxFormatError:
            with pytest.raises(MboxFormatError):
                block_split(data)
            continue
        assert block_split(data) == expected, (n, data)
        compared += 1
    assert compared > 1000


def test_resuming_at_each_landed_offset_cuts_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail, "SPLIT_BLOCK", 5)
    rng = random.Random(5)
    resumed = 0
    for _ in range(300):
        data = random_mbox(rng)
        try:
            cuts, _, _ = reference_split(data)
        except MboxFormatError:
            continue
        for cut in cuts:
            if cut[5] and cut[3] < len(data):  # a landed message with more after it
                assert block_split(data, cut[3]) == reference_split(data, cut[3])
                resumed += 1
    assert resumed > 100


def test_the_synth_like_stream_with_big_and_small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    messages = [
        b"From a%d@example.org Mon Mar  4 10:00:%02d 2024\nFrom: A <a@x>\nSubject: s%d\n\n"
        b"line\nFrom the notes\n>From quoted\n\n" % (n, n % 60, n)
        for n in range(2000)
    ]
    data = b"".join(messages)
    expected = reference_split(data)
    assert len(expected[0]) == 2000 and expected[1] == len(data)
    for block in (13, 4096, 1 << 20):
        monkeypatch.setattr(mail, "SPLIT_BLOCK", block)
        assert block_split(data) == expected
