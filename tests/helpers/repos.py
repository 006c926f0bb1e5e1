"""Real git repos made in a test (bare, file:// URLs), with commits dated as asked, and reports to put in them."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

from tests.conftest import read_fixture

JAN_10 = "2025-01-10T12:00:00+00:00"
JAN_20 = "2025-01-20T12:00:00+00:00"


class Symlink(str):
    """A file content that is a symbolic link to this path instead."""


def git(*args: str, cwd: Path, date: str = JAN_10, author: tuple[str, str] | None = None) -> str:
    """Run git in a test repo, with none of the machine's git config, commits dated `date` (by `author`, a (name,
    e-mail), else Test)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    if author is not None:
        env |= {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]}
    options = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]
    return subprocess.run(
        ["git", *options, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(root: Path, name: str, commits: list[tuple], *, allow_filter: bool = True) -> str:
    """A bare repo `root/<name>.git` with one commit per (date, {path: bytes | Symlink | None}) and its file:// URL;
    a third item (name, e-mail) sets the commit's author.

    Each commit writes its files over the previous commit's (None deletes a file). With `allow_filter` the repo
    serves partial clones, as GitHub does; without, git falls back to sending everything.
    """
    work = root / f"{name}-work"
    work.mkdir(parents=True)
    git("init", "-q", cwd=work)
    for date, files, *author in commits:
        for path, content in files.items():
            file = work / path
            file.parent.mkdir(parents=True, exist_ok=True)
            if file.is_symlink() or file.exists():
                file.unlink()
            if isinstance(content, Symlink):
                file.symlink_to(content)
            elif content is not None:
                file.write_bytes(content)
        git("add", "-A", cwd=work)
        git("commit", "-q", "--allow-empty", "-m", f"work of {date}", cwd=work, date=date, author=(author or [None])[0])
    bare = root / f"{name}.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=root)
    if allow_filter:
        git("config", "uploadpack.allowFilter", "true", cwd=bare)
    return f"file://{bare}"


def empty_repo(root: Path, name: str = "empty") -> str:
    bare = root / f"{name}.git"
    bare.mkdir()
    git("init", "-q", "--bare", cwd=bare)
    return f"file://{bare}"


def sha_of(url: str, rev: str = "HEAD") -> str:
    return git("rev-parse", rev, cwd=Path(url.removeprefix("file://")))


def noise(size: int, seed: int = 0) -> bytes:
    """Bytes that do not compress: what a pack holds of them is as large as they are."""
    return random.Random(seed).randbytes(size)


FILLED = read_fixture("filled.md").encode()


MEMBERS = b"s123456, s234567, s345678"  # the answer to question 2 in filled.md


def with_answer(text: str, number: int = 2) -> bytes:
    """filled.md with the answer to question 2 (or 3: its first line) replaced by `text`."""
    old = MEMBERS if number == 2 else b"We used the hourly readings of a public network of weather stations."
    assert old in FILLED
    return FILLED.replace(old, text.encode())


BOOM = "this answer breaks the import"
