"""The bundled Lumen git history as a real repository (``materialize``).

``git/lumen.fastimport`` (written by ``generate_git.py``) is a ``git fast-import``
stream: every author, committer, date and file of the history is in it, so building
the repository needs only the ``git`` command, no network and no git configuration
(the user's global and system configuration are ignored)::

    from townsquare.samples.repo.git_sample import materialize

    repo = materialize(Path("/tmp/demo/samples/lumen-git"))  # a work tree on main

The build is idempotent: the stream's SHA-256 is kept in ``.git/townsquare-sample``,
and a folder that already holds a repository built from the same stream is reused
as it is. A repository built from another stream (the sample was regenerated) is
rebuilt. A folder that is not such a repository is never overwritten
(``FileExistsError``), unless it is empty. The new repository is built in a
temporary folder beside ``dest`` and renamed into place, so an interrupted build
leaves nothing half-made at ``dest``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

STREAM = Path(__file__).resolve().parent / "git" / "lumen.fastimport"
MARKER = "townsquare-sample"  # inside .git: the SHA-256 of the stream it was built from


def stream_sha256(stream: Path = STREAM) -> str:
    return hashlib.sha256(stream.read_bytes()).hexdigest()


def built_from(repo: Path) -> str | None:
    """The stream hash a sample repository was built from (None: not a sample)."""
    try:
        return (repo / ".git" / MARKER).read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    return env


def _git(repo: Path, *args: str, git: str = "git", stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(
        [git, "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        env=_env(),
        check=False,
    )
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"git {args[0]} failed ({proc.returncode}): {message}")
    return proc.stdout


def _is_usable(repo: Path, digest: str, git: str) -> bool:
    if built_from(repo) != digest:
        return False
    try:
        _git(repo, "rev-parse", "--verify", "-q", "refs/heads/main", git=git)
    except (RuntimeError, OSError):
        return False
    return True


def materialize(dest: Path, stream: Path = STREAM, *, git: str = "git") -> Path:
    """Build (or reuse) the sample repository at ``dest``; return its resolved path."""
    dest = Path(dest).resolve()
    data = stream.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if dest.exists():
        if _is_usable(dest, digest, git):
            return dest
        if built_from(dest) is None and any(dest.iterdir()):
            raise FileExistsError(f"{dest} exists and is not a Townsquare sample repository")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the repository is a plain folder
    try:
        _git(tmp, "init", "-q", "-b", "main", git=git)
        _git(tmp, "fast-import", "--quiet", "--done", git=git, stdin=data)
        _git(tmp, "reset", "-q", "--hard", git=git)
        (tmp / ".git" / MARKER).write_text(digest + "\n", encoding="ascii")
        if dest.exists():  # an older build of the sample, or an empty folder
            shutil.rmtree(dest)
        try:
            tmp.rename(dest)
        except OSError:  # another process built it meanwhile
            if not _is_usable(dest, digest, git):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
