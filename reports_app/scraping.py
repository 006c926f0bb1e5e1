"""Every byte that comes from a group's repo passes here: the URL policy, git, limits.

Nothing in a repo is trusted: its URL must pass the one URL rule (engine/repo_urls.py), and what we read from it is
checked before use.

How a repo is read (`fetch_reports`), all inside a fresh work folder and without checking anything out:

1. a bare partial clone of the default branch: commits and trees of its whole history, no file contents
   (`--filter=blob:none`): the history finds the commit at a deadline and tells who committed (step 2b);
2. the commit: HEAD, or the last one (following first parents) dated before the deadline (`rev-list -1`);
2b. one `git rev-list` of the commits up to it (HEAD's walk prints HEAD first, so it is the commit of a head
   scrape): the commits the site has seen, and per author commits, first and last, active days (engine/contributors);
3. `git ls-tree` of `reports/` and `reports/figures/`: only `reports/README.md` and PNG or JPEG files directly in
   `reports/figures/` that are regular files with plain names are wanted, at most `max_figures` of them, no two
   whose names differ only in case; everything else is skipped, with a reason;
4. one fetch of the wanted blobs, under a file size cap (`prlimit`) so that no repo can fill our disk;
5. `git cat-file`: sizes first, then the contents of the blobs within the limits.

That is two connections to the server, whatever the repo holds besides reports/. A git server without filter
support (a plain local bare repo) sends everything in step 1; the fetch of step 4 then finds every blob there already
and does nothing.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from .engine import contributors
from .engine.figures import human_size, name_key, reserved_on_windows
from .engine.repo_urls import RepoError, RepoRefused, check_url  # noqa: F401 - RepoRefused: an outcome of fetch_reports

README = "reports/README.md"
FIGURES = "reports/figures/"
FIGURE_EXTENSIONS = (".png", ".jpg", ".jpeg")
MAX_NAME_LENGTH = 100  # Figure.name
# Letters and digits of any script, space and a few marks; no path separators, no %, ?, # (URLs), no control
# characters, and no leading dot or space.
_FIGURE_NAME = re.compile(r"\w[\w .+(),@~=-]*\Z")
ODD_NAME = "the name has characters other than letters, digits, spaces and . _ - + ( ) , @ ~ ="
ENDS_ODDLY = "the name ends in a dot or a space, which Windows drops"
RESERVED_NAME = "the name is reserved on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9 with any extension)"
CASE_CLASH = "{other} has the same name but for upper and lower case; only the first by name is read"
TOO_MANY_FIGURES = "more than {max_figures} figures; only the first {max_figures} by name are read"
# The skipped files listed for a repo (a job's page shows them all); the rest are counted in one more line.
MAX_LISTED_SKIPS = 100
_REGULAR = {"100644", "100755"}
_KIND = {"120000": "a symbolic link", "160000": "a submodule", "040000": "a folder"}
# Bytes a pack adds around its objects (header, object headers, checksum); the cap on a blob fetch leaves room.
_PACK_SLACK = 64 * 1024
_PRLIMIT = shutil.which("prlimit")  # util-linux; without it (not Linux) a blob fetch runs without the size cap
# What git may see of our environment: its own settings below, plus the proxy and CA settings a server may need.
_PASSED_ENV = ("PATH", "http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "SSL_CERT_FILE")


class RepoUnreachable(RepoError):
    """git could not fetch the repo (it does not exist, is private, the network failed, it took too long)."""


class RepoEmpty(RepoError):
    """The repo has no commits, or none dated before the deadline."""


class RepoAuthFailed(RepoUnreachable):
    """The server refused the credential we sent for the repo (HTTP 401, or 403 other than a rate limit)."""


class RepoRateLimited(RepoUnreachable):
    """The server answered "too many requests" (HTTP 429, or 403 saying "rate limit"), until we gave up."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


AUTH_FAILED = (
    "authentication failed: the server refused the credential for {prefix} (setting SCRAPE_CREDENTIALS); "
    "it is wrong, expired, or has no access to this repo"
)
RATE_LIMITED = "the server kept refusing as rate limited (HTTP {status}), {tries} tries; scrape it again later"
RATE_LIMIT_WAIT = (
    "the server is rate limiting (HTTP {status}) and asks to wait {wait:.0f} s, more than the {left:.0f} s left of "
    "SCRAPE_TIMEOUT for waiting; scrape it again later"
)
MAX_TRIES = 4  # of one git command answered "rate limited"
BACKOFF_SECONDS = 1.0  # the first wait when the server gives no Retry-After; doubled each time
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# GIT_TRACE_CURL's lines ("12:00:00.123456 http.c:684  <= Recv header: Retry-After: 5") and what we read of them.
_TRACE_LINE = re.compile(r"\d\d:\d\d:\d\d\.\d+ +\S+:\d+ +")
_RECEIVED = re.compile(r"<= Recv header: (?:(HTTP/[\d.]+ (\d{3}))|([\w-]+): *(.*))")
_RATE_LIMIT_WORDS = re.compile(r"rate.limit", re.IGNORECASE)


@dataclass(frozen=True)
class Credential:
    """A secret for the repos under `prefix` (a SCRAPE_CREDENTIALS line), sent as HTTP Basic auth: a token as
    `x-access-token:<token>` (GitHub's form for every kind of token; GitLab and Gitea take any user name with a
    token), a secret with a colon as `user:password` as it is. Never shown: not in repr, and `scrub` takes it out of
    any text we keep."""

    prefix: str
    secret: str = field(repr=False)

    @property
    def basic(self) -> str:
        pair = self.secret if ":" in self.secret else f"x-access-token:{self.secret}"
        return base64.b64encode(pair.encode()).decode()

    def scrub(self, text: str) -> str:
        """`text` with the secret, its password part and its Basic form replaced by [credential]."""
        for secret in (self.basic, self.secret, self.secret.partition(":")[2]):
            if secret:
                text = text.replace(secret, "[credential]")
        return text


def credential_for(url: str, credentials: Iterable[tuple[str, str]]) -> Credential | None:
    """The credential of the longest prefix that `url` is under (on a path segment boundary), if any.

    >>> credential_for("https://github.com/acme/x", [("https://github.com/", "t1"), ("https://github.com/acme", "t2")])
    Credential(prefix='https://github.com/acme')
    """
    under = [
        (prefix, secret)
        for prefix, secret in credentials
        if url == prefix or url.startswith(prefix if prefix.endswith("/") else f"{prefix}/")
    ]
    return Credential(*max(under, key=lambda c: len(c[0]))) if under else None


@dataclass(frozen=True)
class Fetched:
    """What we read from one commit of a repo."""

    commit_sha: str
    commit_at: datetime
    readme: bytes | None  # reports/README.md, None when absent or skipped
    figures: dict[str, bytes] = field(default_factory=dict)  # name in reports/figures/ -> bytes
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) of files we did not take
    readme_blob: str = ""  # git's object id of `readme` (as `git ls-tree` lists it), "" when not read
    contributors: list[dict] = field(default_factory=list)  # per author of the commits up to this one (Scrape's)
    commits: list[tuple[str, datetime]] = field(default_factory=list)  # (sha, committer date) up to this one
    history_cut: bool = False  # the history read stopped before its first commit (MAX_COMMITS, MAX_LOG_BYTES)


# Why check_url refuses a URL, in words a person can act on; every place that takes a repo URL shows these.
def fetch_reports(
    url: str,
    *,
    allowed: Sequence[str],
    before: datetime | None,
    workdir: Path,
    timeout: int,
    max_bytes: int,
    max_report_bytes: int,
    max_figure_bytes: int,
    max_figures: int,
    credentials: Sequence[tuple[str, str]] = (),
) -> Fetched:
    """Read `reports/README.md` and `reports/figures/*` of the repo's default branch: at its head, or at the last
    commit (following first parents) dated before `before`.

    `workdir` must be a fresh, empty folder that the caller removes afterwards: git writes only there. Each git
    command may take `timeout` seconds. Figures past the first `max_figures`, files over `max_report_bytes` /
    `max_figure_bytes`, or beyond `max_bytes` in all, are skipped. `credentials`: (URL prefix, secret) pairs, of
    which the longest prefix over `url` is sent (`Credential`). Raises RepoRefused (URL off `allowed`; git is never
    run), RepoUnreachable (RepoAuthFailed, RepoRateLimited) or RepoEmpty.
    """
    url = check_url(url, allowed)
    git = _Git.for_url(url, workdir, timeout, credentials)
    # Commits and trees of the whole history, no blobs: the history finds the commit at a deadline and says who
    # committed. (Trees of the whole history are small for course repos; --filter=tree:0 then a fetch of one tree
    # measured slower.)
    git.run(
        "clone",
        "--template=",
        "--bare",
        "--quiet",
        "--single-branch",
        "--no-tags",
        "--filter=blob:none",
        "--",
        url,
        "repo.git",
        cwd=workdir,
    )

    start = "HEAD"
    if before:
        # Committer dates are set by whoever commits and can be forged; the course's rule is the date all the same.
        cutoff = ["--first-parent", f"--before=@{int(before.timestamp())} +0000"]
        found = git.run("rev-list", "-1", "--ignore-missing", *cutoff, "HEAD").split()  # an unborn HEAD: nothing
        if not found:
            if not git.run("rev-list", "-1", "--ignore-missing", "HEAD").strip():
                raise RepoEmpty("the repo has no commits")
            when = before.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            raise RepoEmpty(f"no commit on the default branch is dated before the deadline ({when})")
        start = found[0].decode()
    history = _history(git, start)
    if history.head is None:
        raise RepoEmpty("the repo has no commits")
    sha, timestamp = history.head

    wanted, skipped = _wanted(git.run("ls-tree", "-z", sha, "--", "reports/", FIGURES), max_figures)
    readme, readme_blob, figures = None, "", {}
    if wanted:
        accepted = _within_limits(git, wanted, skipped, max_bytes, max_report_bytes, max_figure_bytes)
        contents = _contents(git, [oid for _, oid in accepted])
        for (path, oid), data in zip(accepted, contents, strict=True):
            if path == README:
                readme, readme_blob = data, oid
            else:
                figures[path.removeprefix(FIGURES)] = data
    return Fetched(
        sha,
        datetime.fromtimestamp(timestamp, UTC),
        readme,
        figures,
        _listed(skipped),
        readme_blob=readme_blob,
        contributors=contributors.contributors(history.commits),
        commits=[(c.sha, datetime.fromtimestamp(c.committed, UTC)) for c in history.commits],
        history_cut=history.cut,
    )


def _history(git: _Git, start: str) -> contributors.History:
    """One walk of the commits reachable from `start` (every parent, so merged branches count; commits after it do
    not), newest first and `start` first: at most MAX_COMMITS of them and MAX_LOG_BYTES of git's output, git stopped
    there. One commit and one byte more are asked for, to tell a history that ends there from one cut there. An
    unborn HEAD (an empty repo) reads as no commit (--ignore-missing), while a timeout stays RepoUnreachable."""
    most, limit = contributors.MAX_COMMITS, contributors.MAX_LOG_BYTES
    args = [f"-{most + 1}", "--ignore-missing", "--no-commit-header", f"--format={contributors.HISTORY_FORMAT}"]
    log = git.head("rev-list", *args, start, limit=limit + 1)
    return contributors.history(log, max_commits=most, max_bytes=limit)


def _wanted(listing: bytes, max_figures: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    r"""`git ls-tree -z` of reports/ and reports/figures/ -> ([(path, oid)] to read, [(path, reason)] skipped).

    >>> _wanted(b"100644 blob a1\treports/README.md\x00120000 blob b2\treports/figures/x.png\x00", 200)
    ([('reports/README.md', 'a1')], [('reports/figures/x.png', 'a symbolic link; only regular files are read')])
    """
    wanted, skipped, figures = [], [], []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, _, oid = meta.decode().split(" ")
        path = raw_path.decode("utf-8", "backslashreplace")
        if path == README:
            if mode in _REGULAR:
                wanted.append((path, oid))
            else:
                skipped.append((path, f"{_KIND.get(mode, 'not a file')}; only regular files are read"))
            continue
        if path == FIGURES.rstrip("/"):  # listed only when it is not a folder
            skipped.append((path, f"{_KIND.get(mode, 'a file')}, not a folder"))
            continue
        if not path.startswith(FIGURES):
            continue  # the rest of reports/ is not ours to read
        name = path.removeprefix(FIGURES)
        if name.startswith("."):
            continue  # .gitkeep and the like
        shown = path if path.isprintable() else path.encode("unicode_escape").decode("ascii")
        if mode == "040000":
            skipped.append((shown, "a folder; only files directly in reports/figures/ are read"))
        elif mode not in _REGULAR:
            skipped.append((shown, f"{_KIND.get(mode, 'not a file')}; only regular files are read"))
        elif len(name) > MAX_NAME_LENGTH:
            skipped.append((shown, f"the name is longer than {MAX_NAME_LENGTH} characters"))
        elif not _FIGURE_NAME.match(name):
            skipped.append((shown, ODD_NAME))
        elif name.endswith((".", " ")):
            skipped.append((shown, ENDS_ODDLY))
        elif not name.lower().endswith(FIGURE_EXTENSIONS):
            skipped.append((shown, "not a .png, .jpg or .jpeg file"))
        elif reserved_on_windows(name):
            skipped.append((shown, RESERVED_NAME))
        else:
            figures.append((path, oid))
    return wanted + _first_figures(figures, skipped, max_figures), skipped


def _first_figures(
    figures: list[tuple[str, str]], skipped: list[tuple[str, str]], max_figures: int
) -> list[tuple[str, str]]:
    """The figures to read, by name: one of each name ignoring case (a checkout on macOS or Windows keeps only one),
    at most `max_figures`. The others go to `skipped`, with the reason."""
    taken: list[tuple[str, str]] = []
    names: dict[str, str] = {}  # name_key -> the name taken
    for path, oid in sorted(figures):
        name = path.removeprefix(FIGURES)
        if (other := names.get(name_key(name))) is not None:
            skipped.append((path, CASE_CLASH.format(other=other)))
        elif len(taken) >= max_figures:
            skipped.append((path, TOO_MANY_FIGURES.format(max_figures=max_figures)))
        else:
            names[name_key(name)] = name
            taken.append((path, oid))
    return taken


def _listed(skipped: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The first MAX_LISTED_SKIPS skipped files (and the README's entry, which the import reads), then a count of
    the rest, so that a repo of a million stray files does not make a page of a million lines."""
    if len(skipped) <= MAX_LISTED_SKIPS:
        return skipped
    shown = [s for s in skipped if s[0] == README] + [s for s in skipped if s[0] != README][:MAX_LISTED_SKIPS]
    return [*shown, (FIGURES, f"and {len(skipped) - len(shown):,} more files skipped, not listed here")]


def _within_limits(
    git: _Git,
    wanted: list[tuple[str, str]],
    skipped: list[tuple[str, str]],
    max_bytes: int,
    max_report_bytes: int,
    max_figure_bytes: int,
) -> list[tuple[str, str]]:
    """Fetch the wanted blobs (one round trip) and keep those within the limits, the README first.

    The sizes are only known once the blobs are here (git servers do not tell them), so the fetch runs under a file
    size cap of `max_bytes`; when the figures break it, the README is fetched alone and every figure is skipped.
    """
    if not git.fetch([oid for _, oid in wanted], cap=max_bytes + _PACK_SLACK):
        too_many = f"the files in reports/figures/ add up to more than {human_size(max_bytes)}; none was read"
        skipped.extend((path, too_many) for path, _ in wanted if path != README)
        wanted = [(path, oid) for path, oid in wanted if path == README]
        if wanted and not git.fetch([wanted[0][1]], cap=max_report_bytes + _PACK_SLACK):
            skipped.append((README, f"larger than {human_size(max_report_bytes)}, the limit for a report"))
            return []
    sizes = [
        int(line.split()[2])
        for line in git.run("cat-file", "--batch-check", input=_lines(oid for _, oid in wanted)).splitlines()
    ]
    accepted, total = [], 0
    for (path, oid), size in sorted(zip(wanted, sizes, strict=True), key=lambda w: w[0][0] != README):
        limit, what = (max_report_bytes, "a report") if path == README else (max_figure_bytes, "a figure")
        if size > limit:
            skipped.append((path, f"{human_size(size)}; {what} may be at most {human_size(limit)}"))
        elif total + size > max_bytes:
            skipped.append((path, f"the files in reports/ add up to more than {human_size(max_bytes)}"))
        else:
            accepted.append((path, oid))
            total += size
    return accepted


def _contents(git: _Git, oids: list[str]) -> list[bytes]:
    """The blobs' bytes, in order, from one `git cat-file --batch`."""
    if not oids:
        return []
    out = git.run("cat-file", "--batch", input=_lines(oids))
    contents, at = [], 0
    for _ in oids:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        contents.append(out[header_end + 1 : header_end + 1 + size])
        at = header_end + 1 + size + 1  # the content is followed by a newline
    return contents


def _lines(oids: Iterable[str]) -> bytes:
    return "".join(f"{oid}\n" for oid in oids).encode()


class _Git:
    """git with nothing of ours: no user or system config, no credential helpers, no prompts, no lazy fetches,
    https only (and file:// or http:// to this machine for URLs the allow-list lets through, which only tests and
    benches do).

    A credential reaches git only through the environment of its process (GIT_CONFIG_COUNT: an `http.<prefix>.
    extraHeader`), never its argv or the URL, and is scrubbed from whatever git says. git traces the HTTP headers
    it receives (GIT_TRACE_CURL, without data; it redacts the Authorization header it sends) so that a refusal's
    status and Retry-After are known."""

    def __init__(
        self,
        workdir: Path,
        timeout: int,
        *,
        allow_file: bool,
        allow_http: bool = False,
        credential: Credential | None = None,
    ):
        self.workdir, self.timeout, self.credential, self.waited = workdir, timeout, credential, 0.0
        self.repo = workdir / "repo.git"
        self.options = ["-c", "protocol.allow=never", "-c", "protocol.https.allow=always"]
        if allow_file:
            self.options += ["-c", "protocol.file.allow=always"]
        if allow_http:
            self.options += ["-c", "protocol.http.allow=always"]
        # One pack per fetch (never loose objects), so that a file size cap bounds a fetch's bytes as a whole.
        self.options += ["-c", "fetch.unpackLimit=1", "-c", "transfer.unpackLimit=1"]
        # Fetches by id claim to have nothing: else the server leaves out trees it thinks our commits bring along.
        self.options += ["-c", "fetch.negotiationAlgorithm=noop"]
        self.options += ["-c", "maintenance.auto=false", "-c", "gc.auto=0"]  # a throwaway clone needs no upkeep
        self.env = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
        self.env |= {
            "HOME": str(workdir),
            "TMPDIR": str(workdir),
            "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_NO_LAZY_FETCH": "1",  # a missing object is an error, never a silent extra download
            "GIT_LITERAL_PATHSPECS": "1",
            "GIT_PROTOCOL_FROM_USER": "0",
            "GIT_TRACE_CURL": "2",  # to stderr: the headers of each HTTP exchange, no data
            "GIT_TRACE_CURL_NO_DATA": "1",
        }
        if credential is not None:
            self.env |= {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": f"http.{credential.prefix}.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {credential.basic}",
            }

    @classmethod
    def for_url(cls, url: str, workdir: Path, timeout: int, credentials: Iterable[tuple[str, str]] = ()) -> _Git:
        """git to read `url` (checked by check_url already): file:// when the allow-list let it through, plain http
        only to this machine (127.0.0.1, ::1, localhost: a test's or bench's own server, never the network), and
        the credential of the longest prefix over `url`."""
        parts = urlsplit(url)
        return cls(
            workdir,
            timeout,
            allow_file=parts.scheme == "file",
            allow_http=parts.scheme == "http" and parts.hostname in _LOOPBACK,
            credential=credential_for(url, credentials),
        )

    def run(self, *args: str, cwd: Path | None = None, input: bytes | None = None, cap: int | None = None) -> bytes:
        """stdout of one git command; RepoUnreachable with git's reason when it fails or times out.

        A rate-limited answer (HTTP 429, or 403 saying "rate limit") is tried again after the wait the server asks
        for (Retry-After), else after 1, 2, 4 s: at most MAX_TRIES times, and while all the waits of this repo stay
        within `timeout` (SCRAPE_TIMEOUT); RepoRateLimited then."""
        for tries in range(1, MAX_TRIES + 1):
            try:
                return self._run(*args, cwd=cwd, input=input, cap=cap)
            except RepoRateLimited as limited:
                wait = BACKOFF_SECONDS * 2 ** (tries - 1) if limited.retry_after is None else limited.retry_after
                left = self.timeout - self.waited
                if tries == MAX_TRIES:
                    message = RATE_LIMITED.format(status=limited.status, tries=tries)
                elif wait >= left:
                    message = RATE_LIMIT_WAIT.format(status=limited.status, wait=wait, left=left)
                else:
                    time.sleep(wait)  # the server's rate limit, not a synchronisation
                    self.waited += wait
                    continue
                raise RepoRateLimited(message, status=limited.status) from None
        raise AssertionError("unreachable")

    def _run(self, *args: str, cwd: Path | None, input: bytes | None, cap: int | None) -> bytes:
        argv = ["git", *self.options, *([] if cwd else ["--git-dir", str(self.repo)]), *args]
        if cap is not None and _PRLIMIT:
            argv = [_PRLIMIT, f"--fsize={cap}", *argv]
        process = subprocess.Popen(  # a list argv, never a shell
            argv,
            cwd=cwd or self.workdir,
            env=self.env,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0,  # so that a timeout kills git's helpers too (remote-https, index-pack)
        )
        try:
            out, err = process.communicate(input, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RepoUnreachable(
                f"git took longer than {self.timeout} s (setting SCRAPE_TIMEOUT) and was stopped"
            ) from None
        if process.returncode != 0:
            raise self._failure(err.decode("utf-8", "replace"))
        return out

    def _failure(self, stderr: str) -> RepoUnreachable:
        """What git's stderr (its trace of HTTP headers included) says went wrong, with no credential in it."""
        if self.credential is not None:
            stderr = self.credential.scrub(stderr)
        said, status, headers = [], 0, {}
        for line in stderr.splitlines():
            if not (trace := _TRACE_LINE.match(line)):
                said.append(line)
            elif received := _RECEIVED.search(line, trace.end()):
                if received[2]:  # a status line: a new answer
                    status, headers = int(received[2]), {}
                else:
                    headers[received[3].lower()] = received[4].strip()
        text = "\n".join(said)
        rate_limited = headers.get("x-ratelimit-remaining") == "0" or _RATE_LIMIT_WORDS.search(text)
        if status == 429 or (status == 403 and rate_limited):
            return RepoRateLimited(_reason(text), status=status, retry_after=_seconds(headers.get("retry-after")))
        if self.credential is not None and status in (401, 403):
            return RepoAuthFailed(AUTH_FAILED.format(prefix=self.credential.prefix))
        return RepoUnreachable(_reason(text))

    def head(self, *args: str, limit: int) -> bytes:
        """The first `limit` bytes of a git command's stdout (git is stopped there): for output whose size the repo
        decides, such as its authors' names. RepoUnreachable when git fails or takes longer than the timeout."""
        argv = ["git", *self.options, "--git-dir", str(self.repo), *args]
        process = subprocess.Popen(  # a list argv, never a shell
            argv,
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            process_group=0,
        )
        stopped: list[bool] = []  # by the timer

        def stop() -> None:
            stopped.append(True)
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(self.timeout, stop)
        timer.start()
        try:
            out = process.stdout.read(limit)
            if len(out) == limit:
                os.killpg(process.pid, signal.SIGKILL)
            process.stdout.close()
            process.wait()
        finally:
            timer.cancel()
        if stopped:
            raise RepoUnreachable(f"git took longer than {self.timeout} s (setting SCRAPE_TIMEOUT) and was stopped")
        if process.returncode != 0 and len(out) < limit:
            raise RepoUnreachable(f"git could not read the repo's history (git {args[0]} failed)")
        return out

    def fetch(self, oids: list[str], *, cap: int | None = None) -> bool:
        """Fetch blobs by id (in one pack) unless they are here already.

        False when the fetch broke the file size `cap`; RepoUnreachable for other failures.
        """
        args = ["--no-tags", "--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none", "--stdin"]
        try:
            self.run("fetch", "origin", *args, input=_lines(oids), cap=cap)
        except RepoUnreachable:
            # index-pack writes the incoming pack to tmp_pack_*; the cap stopped it there when that file is full
            partial = list((self.repo / "objects" / "pack").glob("tmp_pack_*"))
            broke_cap = cap is not None and _PRLIMIT and any(p.stat().st_size >= cap for p in partial)
            for p in partial:
                p.unlink()
            if broke_cap:
                return False
            raise
        return True


def _seconds(retry_after: str | None) -> float | None:
    """A Retry-After header's wait in seconds: a number of seconds, or an HTTP date.

    >>> _seconds("7"), _seconds(None), _seconds("Wed, 21 Oct 2015 07:28:00 GMT"), _seconds("soon")
    (7.0, None, 0.0, None)
    """
    if retry_after is None:
        return None
    if retry_after.isdigit():
        return float(retry_after)
    try:
        return max(0.0, (parsedate_to_datetime(retry_after) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _reason(stderr: str) -> str:
    """git's complaint -> a sentence for people.

    >>> _reason("Cloning into bare repository 'repo.git'...\\nfatal: could not read Username for 'https://github.com'")
    'git was asked for a password: the repo does not exist or is private (it must be public)'
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if any("could not read Username" in line or "Repository not found" in line for line in lines):
        return "git was asked for a password: the repo does not exist or is private (it must be public)"
    if any("does not appear to be a git repository" in line for line in lines):
        return "there is no git repo at that URL"
    complaints = [line for line in lines if line.startswith(("fatal:", "error:"))] or lines or ["(no message)"]
    return f"git could not fetch the repo: {complaints[-1].removeprefix('fatal: ').removeprefix('error: ')[:300]}"


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # sha1 or sha256, as git prints them
NOT_AN_OBJECT_ID = "{value!r} is not a git object id (40 or 64 hexadecimal digits)"
COMMIT_NOT_IN_REPO = "commit {commit} is not in the repo"


def readme_blob_at(
    url: str,
    *,
    allowed: Sequence[str],
    commit: str,
    workdir: Path,
    timeout: int,
    credentials: Sequence[tuple[str, str]] = (),
) -> str | None:
    """The git blob id of `reports/README.md` at `commit` of the repo, None when that commit has no such file.

    Reads commits and trees only (a bare partial clone of every branch, then the commit by id when no branch has
    it): a tree names its blobs' ids, so no file content is fetched. `workdir` as for `fetch_reports`. Raises
    RepoRefused (URL off `allowed`), ValueError (`commit` is not an object id; git is never run), RepoUnreachable
    (the repo cannot be read, or the commit is not in it). `credentials` as for `fetch_reports`.
    """
    url = check_url(url, allowed)
    if not _OBJECT_ID.fullmatch(commit):
        raise ValueError(NOT_AN_OBJECT_ID.format(value=commit))
    git = _Git.for_url(url, workdir, timeout, credentials)
    clone = ["--template=", "--bare", "--quiet", "--no-tags", "--filter=blob:none"]
    git.run("clone", *clone, "--", url, "repo.git", cwd=workdir)
    try:
        git.run("cat-file", "-e", f"{commit}^{{commit}}")
    except RepoUnreachable:
        try:  # a commit no branch holds (a branch pushed over since): servers that allow it send it by id
            git.run("fetch", "origin", "--no-tags", "--no-write-fetch-head", "--filter=blob:none", commit)
            git.run("cat-file", "-e", f"{commit}^{{commit}}")
        except RepoUnreachable:
            raise RepoUnreachable(COMMIT_NOT_IN_REPO.format(commit=commit)) from None
    listing = git.run("ls-tree", "-z", commit, "--", README)
    for entry in listing.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        if path == README.encode() and meta.split(b" ")[1:2] == [b"blob"]:
            return meta.split(b" ")[2].decode()
    return None
