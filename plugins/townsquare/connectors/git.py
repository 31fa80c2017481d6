"""git repositories → ``repo_commits``.

``ctx.location`` is a local repository (a work tree, any folder inside one, or a
bare repository) or a clone URL (``https://``, ``http://``, ``ssh://``, ``git://``,
``file://`` or scp-style ``git@host:owner/name.git``). Everything is done by the
``git`` command line (no library), so any repository git can read works.

Clone URLs
    A URL is mirror-cloned (``git clone --mirror``) into the cache folder on the
    first run (into a temporary name, renamed when complete, so an interrupted clone
    leaves nothing half-made), and ``git fetch --prune`` runs on later runs. The
    cache folder is the option ``cache_dir``, else ``$TOWNSQUARE_HOME/git-cache``
    when ``TOWNSQUARE_HOME`` is set, else ``~/.cache/townsquare/git``; each URL gets
    its own ``<name>-<12 hex of the URL's SHA-256>.git`` folder in it. git never
    prompts (``GIT_TERMINAL_PROMPT=0``): private repositories need a credential
    helper or an SSH agent in the environment (credentials written into the URL
    work but are kept in the mirror's config; they are masked in messages).

Which commits
    Every commit reachable from the branches, tags and remote-tracking branches
    (``refs/heads``, ``refs/tags``, ``refs/remotes``) and from ``HEAD`` (so a
    detached ``HEAD`` counts), each once. Other refs (GitHub's ``refs/pull/*`` in
    a mirror, ``refs/stash``, notes) are not read. Tags that point at a tree or a
    blob are ignored. A repository without commits yields no rows, no error.

Reading
    ``git rev-list`` lists the commits to read (the revisions given on stdin), and
    ``git log --no-walk`` reads them ``log_batch`` (50,000) at a time, each streamed
    through a pipe in a NUL-separated format with ``--numstat`` for the counts: git
    keeps every object it touched until it exits, so one ``git log`` over a long
    history would grow with it; batches keep git's memory, and ours, bounded whatever
    the repository size. Settings that would change the output are pinned on
    the command line (``--no-color``, ``--root``, ``-M``, ``--no-diff-merges``,
    ``--encoding=UTF-8``, ``core.quotePath=false``, ``log.showSignature=false``, ``color.ui=false``,
    no mailmap), and the ``GIT_DIR``-style variables of the environment are
    dropped. Every field arrives as bytes and is decoded as UTF-8, else cp1252,
    else Latin-1 (``townsquare.mail.decode_bytes``): git re-encodes a message whose
    commit declares its encoding, but a message or name written in a legacy
    encoding without one (common in old repositories) arrives as it was.

Columns
    - ``repo``: the option ``repo`` when set; else for a URL ``owner/name`` (the
      last two path parts, ``.git`` stripped), for a local path or a ``file://``
      URL the folder name (``.git`` stripped; a work tree's own folder).
    - ``authored_at``/``committed_at``: the commit's timestamps in UTC;
      ``*_utc_offset_minutes`` the offset they were recorded with (null when it is
      not a real offset, such as git's ``+9999``). A date git cannot read, or one
      Python cannot represent, makes the commit ``Rejected`` with a reason (the
      message is kept in ``raw`` of the quarantined record). git shows a date too
      large for it as 1970: such rows are quarantined by the landing gate
      ("before 1990").
    - ``message``: the full message (``%B``); CRLF and stray CRs become LF,
      trailing whitespace is stripped, empty → null. git cuts a message at a NUL
      byte.
    - ``files_changed``/``insertions``/``deletions``: from ``--numstat`` against
      the first (only) parent, renames detected (a renamed file counts once);
      a binary file counts as changed with no lines. Merge commits get null for
      all three (git shows no diff for merges; diffing against the first parent
      would count the merged branch's changes twice); a commit without changes
      gets 0.
    - ``is_merge``: more than one parent. ``parents``: their shas in order.
    - ``co_author_names``/``co_author_emails``: from ``Co-authored-by: Name
      <email>`` lines of the message (key case-insensitive, each on a line of its
      own, anywhere in the message), in order; a line without a name or without
      an ``<address@with-at-sign>`` is skipped.
    - ``raw``: ``{"sha", "parents", "author", "committer"}`` with the idents as
      git stores them (``Name <email> EPOCH +HHMM``); the message is not repeated.

Options (``ctx.options``)
    ``repo``: the ``repo`` column value (see above). ``cache_dir``: where URLs are
    mirrored (see above). ``git_binary``: the git executable (default ``git``, from
    ``PATH``). ``fetch_timeout``: seconds a clone or fetch may take (default 3600).
    ``diff_stats``: false skips ``--numstat`` (``files_changed``, ``insertions`` and
    ``deletions`` stay null): git then reads no file contents, about ten times
    faster on a large history (the diffs are what git spends its time on).
    ``log_batch``: commits one ``git log`` reads (default 50,000; see Reading).

Incremental loads and state
    The state of ``repo_commits`` is ``{"tips": {REFNAME: SHA}}``: the commit each
    branch, tag, remote-tracking branch and ``HEAD`` pointed at (annotated tags
    peeled) when the last successful run read the repository. The next run lists
    ``git log NEW_TIPS --not OLD_TIPS``, so only commits not reachable from any old
    tip come. Old tips that are no longer in the repository (a force-push followed
    by garbage collection) are left out with a warning, so commits reachable from
    the new tips but not from the remaining old tips are landed again (staging
    dedups on ``repo, sha``). Commits that a force-push removed stay landed.
    ``ctx.since`` (``--since``) wins over the state: the whole history is scanned
    and ``git log --since`` keeps the commits whose committer date is not before
    it; the tips are then stored as usual. The state is exposed by ``new_state()``
    only after ``items()`` ran to the end; the runner commits it after the data.

``interval_key()`` is a hash of the stored tips and ``since``: a retry from the
same state gets the same run id and replaces what an interrupted run landed.

Failures
    A ``git`` that exits non-zero, is killed, or whose output ends inside a record
    (a final record without its terminator) raises ``GitError`` (never a silent
    partial load: the runner aborts and commits neither data nor state). Output
    that does not look like the requested format raises ``GitError`` too. (Output
    cut exactly between two records by something that still exits 0 cannot be
    told from the real end; git itself does not do that.) A clone or fetch that
    fails or takes longer than ``fetch_timeout`` raises ``GitError``.

Limits
    Renames are detected with git's defaults (``diff.renameLimit``). A mirror of a
    GitHub repository also downloads ``refs/pull/*`` (not read). There is no
    timeout on ``git log`` itself (the orchestrator's task timeout applies).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, ClassVar
from urllib.parse import urlsplit

from townsquare.connectors.base import Connector, ConnectorContext
from townsquare.mail import decode_bytes
from townsquare.records import Item, Rejected, Row
from townsquare.text import parse_since

log = logging.getLogger(__name__)

ENTITY = "repo_commits"
REF_PREFIXES = ("refs/heads", "refs/tags", "refs/remotes")
FIELDS = ("sha", "parents", "an", "ae", "ad", "cn", "ce", "cd", "message")
LOG_FORMAT = "%x1e" + "%x00".join(["%H", "%P", "%an", "%ae", "%ad", "%cn", "%ce", "%cd", "%B"])
LOG_FORMAT += "%x00"
LOG_ARGS = (
    "log",
    "--stdin",
    "--no-color",
    "--no-mailmap",
    "--encoding=UTF-8",
    "--date=raw",
    "--root",
    "-M",
    "--no-diff-merges",
    "--no-ext-diff",
    "--no-textconv",
    f"--pretty=tformat:{LOG_FORMAT}",  # tformat: every record ends with a newline
)
"""``git log`` and its options (``--numstat`` is added unless ``diff_stats`` is off);
the revisions come on stdin (``^SHA`` excludes)."""
RECORD_START = b"\x1e"
CHUNK = 1 << 20
MESSAGE_EXCERPT = 2000
"""Characters of the message kept in ``raw`` of a rejected commit."""
DEFAULT_FETCH_TIMEOUT = 3600.0

_URL_SCHEMES = ("http://", "https://", "ssh://", "git://", "file://", "git+ssh://", "ssh+git://")
_SCP_URL = re.compile(r"^[\w.+-]+@[\w.-]+:(?!//)")
_USERINFO = re.compile(r"(://)[^/@\s]+@")
_TZ = re.compile(rb"^([+-])(\d\d)(\d\d)$")
_CO_AUTHOR = re.compile(
    r"^[ \t]*co-authored-by:[ \t]*(.*?)[ \t]*<([^<>\s]*)>[ \t]*$", re.IGNORECASE | re.MULTILINE
)
_LINE_END = re.compile(r"\r\n?")
_MAX_OFFSET_MINUTES = 18 * 60
PINNED_CONFIG = (
    "core.quotePath=false",
    "log.showSignature=false",
    "color.ui=false",
    "core.packedGitLimit=256m",
    "core.packedGitWindowSize=32m",
)
"""Settings passed to every git call, whatever the user's or repository's config says
(pack files are mapped 32 MiB at a time, at most 256 MiB at once: the default maps up to
32 TiB, and a large history's pack then counts whole in git's resident memory)."""
LOG_BATCH = 50_000
"""Commits one ``git log`` reads. git keeps every object it has touched until it exits, so
a single ``git log --numstat`` over a history grows with it (about 1.8 GB at 900,000
commits); ``git rev-list`` lists the commits and a ``git log --no-walk`` per batch reads
them, each bounded."""
_GIT_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)


class GitError(RuntimeError):
    """git failed, or its output was cut off or not in the expected format."""


# --------------------------------------------------------------------------- locations


def is_url(location: str) -> bool:
    """Whether ``location`` is a clone URL (scheme or scp-style ``user@host:path``)."""
    lowered = location.lower()
    return lowered.startswith(_URL_SCHEMES) or _SCP_URL.match(location) is not None


def mask_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@`` (for messages)."""
    return _USERINFO.sub(r"\1***@", url)


def _strip_git(name: str) -> str:
    return name[:-4] if name.endswith(".git") and len(name) > 4 else name


def url_path(url: str) -> str:
    """The repository path of a clone URL, without slashes around it."""
    if _SCP_URL.match(url) and "://" not in url:
        return url.split(":", 1)[1].strip("/")
    return urlsplit(url).path.strip("/")


def repo_name(location: str) -> str:
    """The ``repo`` column for a location: ``owner/name`` for URLs, else the folder name."""
    if is_url(location) and not location.lower().startswith("file://"):
        parts = [p for p in url_path(location).split("/") if p]
        if not parts:
            raise ValueError(f"git: cannot tell the repository name from {mask_url(location)}")
        parts[-1] = _strip_git(parts[-1])
        return "/".join(parts[-2:])
    if is_url(location):
        name = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    else:
        name = Path(location).expanduser().resolve().name
    if not name:
        raise ValueError(f"git: cannot tell the repository name from {location}; set 'repo'")
    return _strip_git(name)


def default_cache_dir() -> Path:
    """``$TOWNSQUARE_HOME/git-cache`` when set, else ``~/.cache/townsquare/git``."""
    home = os.environ.get("TOWNSQUARE_HOME")
    if home:
        return Path(home).expanduser() / "git-cache"
    return Path.home() / ".cache" / "townsquare" / "git"


def mirror_path(cache_dir: Path, url: str) -> Path:
    """The mirror folder of ``url`` in ``cache_dir``: readable name plus a URL hash."""
    tail = _strip_git(url_path(url).rstrip("/").rsplit("/", 1)[-1]) or "repo"
    slug = re.sub(r"[^\w.-]+", "_", tail)[:60]
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return cache_dir / f"{slug}-{digest}.git"


# --------------------------------------------------------------------------- git calls


class Git:
    """Runs one git executable against one repository, with a clean environment."""

    def __init__(self, binary: str = "git", repository: Path | None = None) -> None:
        self.binary = binary
        self.repository = repository
        env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
        env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_PAGER": "cat"})
        self.env = env

    def argv(self, *args: str) -> list[str]:
        where = ["-C", str(self.repository)] if self.repository is not None else []
        settings = [x for pair in PINNED_CONFIG for x in ("-c", pair)]
        return [self.binary, *settings, *where, *args]

    def run(self, *args: str, stdin: bytes | None = None, timeout: float | None = None) -> bytes:
        """Run a git command to the end; its stdout, or ``GitError`` with its stderr."""
        argv = self.argv(*args)
        try:
            proc = subprocess.run(
                argv,
                input=stdin,
                capture_output=True,
                env=self.env,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            raise GitError(f"git: executable not found: {self.binary}") from None
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} did not finish within {timeout:.0f}s") from None
        if proc.returncode != 0:
            raise GitError(_failure(args[0], proc.returncode, proc.stderr))
        return proc.stdout

    def popen(self, args: Sequence[str], errors: IO[bytes]) -> subprocess.Popen[bytes]:
        """Start git with stdin and stdout piped and stderr to ``errors``: a file, since a
        pipe nobody reads could fill up and block git."""
        try:
            return subprocess.Popen(
                self.argv(*args),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=self.env,
            )
        except FileNotFoundError:
            raise GitError(f"git: executable not found: {self.binary}") from None

    def stream(
        self,
        *args: str,
        stdin: bytes,
        reader: Callable[[IO[bytes], Callable[[], None]], Iterator[Any]] | None = None,
    ) -> Iterator[Any]:
        """Run a git command with ``stdin``; stream what ``reader`` makes of its output
        (default: ``git log`` records, see ``split_records``).

        The exit status is checked before the last item is yielded; a git that
        exits non-zero or is killed raises ``GitError``. Closing the iterator early
        kills git.
        """
        read = reader or split_records
        with tempfile.TemporaryFile() as errors:
            proc = self.popen(args, errors)
            assert proc.stdin is not None and proc.stdout is not None
            try:
                _feed(proc.stdin, stdin)

                def check_exit() -> None:
                    code = proc.wait()
                    if code != 0:
                        errors.seek(0)
                        raise GitError(_failure(args[0], code, errors.read()))

                yield from read(proc.stdout, check_exit)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.stdout.close()
                proc.wait()


def _feed(pipe: IO[bytes], data: bytes) -> None:
    """Write git's input and close it. git reads all of it before it writes; if it
    exited early (a broken pipe), its exit status says why."""
    with contextlib.suppress(BrokenPipeError):
        pipe.write(data)
    with contextlib.suppress(BrokenPipeError):
        pipe.close()


class DrainedCommand:
    """A git command whose output a thread reads into memory from the start.

    So git runs now, on another core, while the caller still reads an earlier
    command; ``read`` then hands the output out block by block (``split_records``
    reads it like a pipe), ``check_exit`` raises ``GitError`` for a failed git, and
    ``close`` kills a git still running. Memory: the command's whole output.
    """

    def __init__(self, git: Git, args: list[str], stdin: bytes) -> None:
        self.args = args
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        try:
            self.proc = git.popen(args, self._errors)
        except GitError:
            self._errors.close()
            raise
        self._blocks: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, args=(stdin,), daemon=True)
        self._thread.start()

    def _drain(self, stdin: bytes) -> None:
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            _feed(proc.stdin, stdin)
            while block := proc.stdout.read1(CHUNK):
                self._blocks.put(block)
        except (OSError, ValueError):  # closed under us by close()
            pass
        finally:
            self._blocks.put(b"")

    def read(self, _size: int = -1) -> bytes:
        return self._blocks.get()

    def check_exit(self) -> None:
        code = self.proc.wait()
        if code != 0:
            self._errors.seek(0)
            raise GitError(_failure(self.args[0], code, self._errors.read()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._thread.join()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self._errors.close()


LOG_SPLIT_MIN = 2_000
"""A ``git log`` batch of at least twice this many commits runs as two git processes."""


def _log_halves(
    git: Git, args: list[str], batch: list[bytes]
) -> Iterator[tuple[list[bytes], bytes]]:
    """``git log`` records of a batch of SHAs, in order, from two git processes at once.

    git spends its time on the diffs, one commit after the other on one core: the
    second half of the batch runs in a second git at the same time (its output read
    into memory, ``DrainedCommand``) while the first half streams in.
    """
    if len(batch) < 2 * LOG_SPLIT_MIN:
        yield from git.stream(*args, stdin=b"".join(sha + b"\n" for sha in batch))
        return
    middle = len(batch) // 2
    second = DrainedCommand(git, args, b"".join(sha + b"\n" for sha in batch[middle:]))
    try:
        yield from git.stream(*args, stdin=b"".join(sha + b"\n" for sha in batch[:middle]))
        yield from split_records(second, second.check_exit)  # type: ignore[arg-type]
    finally:
        second.close()


def sha_batches(size: int) -> Callable[[IO[bytes], Callable[[], None]], Iterator[list[bytes]]]:
    """A ``Git.stream`` reader: ``git rev-list`` output as lists of at most ``size`` SHAs
    (the exit status is checked before the last list)."""

    def read(stream: IO[bytes], at_eof: Callable[[], None]) -> Iterator[list[bytes]]:
        batch: list[bytes] = []
        for line in stream:
            sha = line.strip()
            if not sha:
                continue
            batch.append(sha)
            if len(batch) >= size:
                yield batch
                batch = []
        at_eof()
        if batch:
            yield batch

    return read


def _failure(command: str, code: int, stderr: bytes) -> str:
    text = mask_url(decode_bytes(stderr).strip())
    lines = text.splitlines()
    detail = " | ".join(lines[-5:]) if lines else "no message"
    how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
    return f"git {command} {how}: {detail}"


# --------------------------------------------------------------------------- the stream


def split_records(
    stream: IO[bytes], at_eof: Callable[[], None] | None = None, chunk: int = CHUNK
) -> Iterator[tuple[list[bytes], bytes]]:
    """Split ``git log`` output in ``LOG_FORMAT`` into (fields, numstat section).

    A record is ``\\x1e``, the nine fields each ended by NUL (no field can hold a
    NUL: git cuts messages there), then the ``--numstat`` section, which always
    ends with a newline. Fields are found by counting NULs, so a ``\\x1e`` in a
    message does no harm; the numstat section ends at the next ``\\x1e`` (git
    quotes control characters in paths). ``at_eof`` runs when the stream ended,
    before the last record is yielded (the caller checks git's exit status there).
    A stream that ends inside a record raises ``GitError``.
    """
    buf = b""
    eof = False
    nfields = len(FIELDS)
    while True:
        if not eof:
            block = stream.read1(chunk) if hasattr(stream, "read1") else stream.read(chunk)
            if block:
                buf += block
            else:
                eof = True
                if at_eof is not None:
                    at_eof()
        pos = 0
        while pos < len(buf):
            if buf[pos : pos + 1] != RECORD_START:
                raise GitError(f"git log: unexpected output {buf[pos : pos + 60]!r}")
            fields: list[bytes] = []
            at = pos + 1
            for _ in range(nfields):
                end = buf.find(b"\0", at)
                if end < 0:
                    break
                fields.append(buf[at:end])
                at = end + 1
            if len(fields) < nfields:
                break  # the header is not all here yet
            nxt = buf.find(RECORD_START, at)
            if nxt < 0:
                if not eof:
                    break  # the numstat section may go on
                nxt = len(buf)
            section = buf[at:nxt]
            if not section.endswith(b"\n"):
                break  # cut off (only possible at the end of the stream)
            yield fields, section
            pos = nxt
        buf = buf[pos:]
        if eof:
            if buf:
                sha = buf[1:41].decode("ascii", "replace")
                raise GitError(
                    f"git log output ends inside the record of commit {sha!r} "
                    f"({len(buf)} bytes without their terminator): the stream was cut off"
                )
            return


def numstat_counts(section: bytes) -> tuple[int, int, int]:
    """(files changed, insertions, deletions) from a ``--numstat`` section."""
    files = insertions = deletions = 0
    for line in section.split(b"\n"):
        if not line:
            continue
        parts = line.split(b"\t", 2)
        if len(parts) != 3 or not parts[2]:
            raise GitError(f"git log: unexpected --numstat line {line[:80]!r}")
        added, deleted = parts[0], parts[1]
        files += 1
        if added != b"-" or deleted != b"-":
            try:
                insertions += int(added)
                deletions += int(deleted)
            except ValueError:
                raise GitError(f"git log: unexpected --numstat line {line[:80]!r}") from None
    return files, insertions, deletions


def parse_git_date(raw: bytes) -> tuple[datetime, int | None]:
    """A ``--date=raw`` value (``1709542800 +0100``) → (UTC time, offset minutes or None).

    Raises ``ValueError`` when the time cannot be read or represented.
    """
    parts = raw.split()
    if len(parts) != 2:
        raise ValueError(f"not a git date: {raw.decode('latin-1')!r}")
    try:
        when = datetime.fromtimestamp(int(parts[0]), UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"not a representable git date: {raw.decode('latin-1')!r}") from None
    match = _TZ.match(parts[1])
    offset: int | None = None
    if match and int(match.group(3)) < 60:
        offset = int(match.group(2)) * 60 + int(match.group(3))
        offset = -offset if match.group(1) == b"-" else offset
        if abs(offset) > _MAX_OFFSET_MINUTES:
            offset = None
    return when, offset


def co_authors(message: str | None) -> tuple[list[str], list[str]]:
    """Names and emails of the ``Co-authored-by: Name <email>`` lines, in order."""
    names: list[str] = []
    emails: list[str] = []
    if message and "-by:" in message.lower():
        for match in _CO_AUTHOR.finditer(message):
            name, email = match.group(1).strip(), match.group(2)
            if name and "@" in email.strip("@"):
                names.append(name)
                emails.append(email)
    return names, emails


def clean_message(text: str) -> str | None:
    if "\r" in text:
        text = _LINE_END.sub("\n", text)
    return text.rstrip() or None


def _text(value: bytes) -> str | None:
    return decode_bytes(value) if value else None


def commit_item(repo: str, fields: list[bytes], section: bytes, *, diff_stats: bool = True) -> Item:
    """One ``git log`` record → a ``repo_commits`` row, or ``Rejected`` for bad dates."""
    sha_b, parents_b, an, ae, ad, cn, ce, cd, message_b = fields
    sha = sha_b.decode("ascii", "replace")
    parents = parents_b.decode("ascii", "replace").split()
    author_name, author_email = _text(an), _text(ae)
    committer_name, committer_email = _text(cn), _text(ce)
    message = clean_message(decode_bytes(message_b))
    raw = {
        "sha": sha,
        "parents": parents,
        "author": f"{author_name or ''} <{author_email or ''}> {ad.decode('latin-1')}",
        "committer": f"{committer_name or ''} <{committer_email or ''}> {cd.decode('latin-1')}",
    }
    try:
        authored_at, author_offset = parse_git_date(ad)
    except ValueError as exc:
        return _rejected(repo, sha, f"unparseable author date: {exc}", raw, message)
    try:
        committed_at, committer_offset = parse_git_date(cd)
    except ValueError as exc:
        return _rejected(repo, sha, f"unparseable committer date: {exc}", raw, message)
    is_merge = len(parents) > 1
    files: int | None = None
    insertions: int | None = None
    deletions: int | None = None
    if diff_stats and not is_merge:
        files, insertions, deletions = numstat_counts(section)
    names, emails = co_authors(message)
    values = {
        "repo": repo,
        "sha": sha,
        "parents": parents,
        "author_name": author_name,
        "author_email": author_email,
        "authored_at": authored_at,
        "author_utc_offset_minutes": author_offset,
        "committer_name": committer_name,
        "committer_email": committer_email,
        "committed_at": committed_at,
        "committer_utc_offset_minutes": committer_offset,
        "message": message,
        "files_changed": files,
        "insertions": insertions,
        "deletions": deletions,
        "is_merge": is_merge,
        "co_author_names": names,
        "co_author_emails": emails,
    }
    return Row(ENTITY, values, raw)


def _rejected(
    repo: str, sha: str, reason: str, raw: dict[str, Any], message: str | None
) -> Rejected:
    kept = {**raw, "message": (message or "")[:MESSAGE_EXCERPT]}
    return Rejected(ENTITY, reason, kept, native_id=f"{repo}/{sha}")


# --------------------------------------------------------------------------- connector


class GitConnector(Connector):
    """Reads the commits of a git repository incrementally (see the module docstring)."""

    type: ClassVar[str] = "git"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        options = ctx.options
        self.location = ctx.location.strip()
        self.url = self.location if is_url(self.location) else None
        self.repo: str = str(options.get("repo") or repo_name(self.location))
        self.binary = str(options.get("git_binary") or "git")
        self.fetch_timeout = float(options.get("fetch_timeout") or DEFAULT_FETCH_TIMEOUT)
        self.diff_stats = bool(options.get("diff_stats", True))
        batch = options.get("log_batch")
        self.log_batch = LOG_BATCH if batch is None else int(batch)
        if self.log_batch < 1:
            raise ValueError(f"git: option log_batch must be at least 1 (got {self.log_batch})")
        cache = options.get("cache_dir")
        self.cache_dir = Path(cache).expanduser() if cache else default_cache_dir()
        self.since = parse_since(ctx.since)
        if self.url is None and not Path(self.location).expanduser().exists():
            raise FileNotFoundError(f"git: repository folder not found: {self.location}")
        self._old_tips = self._stored_tips()
        self._tips: dict[str, str] | None = None
        self.commits = 0
        self.rejected = 0

    def _stored_tips(self) -> dict[str, str]:
        tips = self._state.get(ENTITY, {}).get("tips", {})
        if not isinstance(tips, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tips.items()
        ):
            raise ValueError(
                f"stored state for {ENTITY} has unreadable tips {tips!r}; fix or delete "
                "the state file for this source, or pass --since"
            )
        return dict(tips)

    # -- the connector contract -------------------------------------------------

    def interval_key(self) -> str:
        text = json.dumps(sorted(self._old_tips.items())) + "\x1f" + (self.ctx.since or "")
        return "git:" + hashlib.sha256(text.encode()).hexdigest()[:32]

    def items(self) -> Iterator[Item]:
        self._tips = None
        git = Git(self.binary, self.repository())
        tips = self.current_tips(git)
        wanted = sorted(set(tips.values()))
        if wanted:
            # rev-list walks the history (commits only: small), git log reads it in batches
            walk = ["rev-list", "--stdin"]
            revisions = [f"{sha}\n" for sha in wanted]
            if self.since is not None:
                walk.append(f"--since={self.since:%Y-%m-%d %H:%M:%S} +0000")
            else:
                revisions += [f"^{sha}\n" for sha in self._known_old_tips(git)]
            args = [*LOG_ARGS, "--no-walk=unsorted"]
            if self.diff_stats:
                args.append("--numstat")
            batches = git.stream(
                *walk, stdin="".join(revisions).encode(), reader=sha_batches(self.log_batch)
            )
            for batch in batches:
                for fields, section in _log_halves(git, args, batch):
                    item = commit_item(self.repo, fields, section, diff_stats=self.diff_stats)
                    if isinstance(item, Row):
                        self.commits += 1
                    else:
                        self.rejected += 1
                    yield item
        log.info(
            "git: %s: %d new commits, %d rejected, %d refs",
            self.repo,
            self.commits,
            self.rejected,
            len(tips),
        )
        self._tips = tips

    def new_state(self) -> dict[str, dict[str, Any]]:
        """The ref tips to commit: updated only once ``items()`` has run to the end."""
        if self._tips is not None:
            self._state[ENTITY] = {"tips": dict(sorted(self._tips.items()))}
        return self._state

    # -- the repository ---------------------------------------------------------

    def repository(self) -> Path:
        """The local repository to read: the location itself, or the URL's mirror."""
        if self.url is None:
            path = Path(self.location).expanduser()
            try:
                Git(self.binary, path).run("rev-parse", "--git-dir")
            except GitError as exc:
                raise GitError(f"git: {path} is not a git repository ({exc})") from None
            return path
        return self.mirror()

    def mirror(self) -> Path:
        """Clone the URL (first run) or fetch it into its mirror in the cache folder."""
        assert self.url is not None
        target = mirror_path(self.cache_dir, self.url)
        shown = mask_url(self.url)
        if target.exists():
            log.info("git: fetching %s into %s", shown, target)
            Git(self.binary, target).run(
                "fetch", "--prune", "--quiet", "origin", timeout=self.fetch_timeout
            )
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        log.info("git: cloning %s into %s", shown, target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=self.cache_dir))
        try:
            Git(self.binary).run(
                "clone", "--mirror", "--quiet", self.url, str(tmp), timeout=self.fetch_timeout
            )
            try:
                tmp.rename(target)
            except OSError:
                if not target.exists():
                    raise
                log.info("git: %s was cloned by another run meanwhile", shown)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return target

    def current_tips(self, git: Git) -> dict[str, str]:
        """``{refname: commit sha}`` of branches, tags, remote branches and ``HEAD``."""
        listing = git.run("for-each-ref", "--format=%(objectname) %(refname)", *REF_PREFIXES)
        refs: list[tuple[str, str]] = []
        for line in listing.decode("utf-8", "surrogateescape").splitlines():
            sha, _, name = line.partition(" ")
            if sha and name:
                refs.append((name, sha))
        refs.append(("HEAD", "HEAD"))
        resolved = self._resolve(git, [sha for _, sha in refs])
        tips = {}
        for (name, _), commit in zip(refs, resolved, strict=True):
            if commit is not None:
                tips[name] = commit
            elif name != "HEAD":
                log.debug("git: %s does not point at a commit; ignored", name)
        return tips

    def _known_old_tips(self, git: Git) -> list[str]:
        old = sorted(set(self._old_tips.values()))
        resolved = self._resolve(git, old)
        missing = [sha for sha, commit in zip(old, resolved, strict=True) if commit is None]
        if missing:
            log.warning(
                "git: %s: %d commit(s) the last run stopped at are no longer in the "
                "repository (history rewritten?); commits behind them may land again",
                self.repo,
                len(missing),
            )
        return sorted({c for c in resolved if c is not None})

    @staticmethod
    def _resolve(git: Git, revisions: list[str]) -> list[str | None]:
        """Each revision peeled to its commit sha (None when it is not one, or missing)."""
        if not revisions:
            return []
        query = "".join(f"{rev}^{{commit}}\n" for rev in revisions).encode()
        out = git.run("cat-file", "--batch-check=%(objectname) %(objecttype)", stdin=query)
        lines = out.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) != len(revisions):
            raise GitError(f"git cat-file: expected {len(revisions)} answers, got {len(lines)}")
        result: list[str | None] = []
        for line in lines:
            sha, _, kind = line.rpartition(" ")
            result.append(sha if kind == "commit" else None)
        return result
