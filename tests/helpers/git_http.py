"""A smart-HTTP git server of the test's own: `git http-backend` behind a threaded `http.server` on 127.0.0.1.

    with git_http_server(root) as server:           # serves root/<name>.git at f"{server.url}<name>.git"
        ...
    with git_http_server(root, auth=("x-access-token", "s3cret")) as server:  # Basic auth, else 401
        ...
    with git_http_server(root, refuse_first=2, refusal=429, retry_after=1) as server:  # rate limited twice
        ...

What a test may ask of it afterwards: `server.requests` (how many were answered), `server.most_at_once` (the
most requests in progress at one time), `server.refused` (how many got 401, 429 or 403), `server.authorizations`
(every Authorization header received). `delay` holds each answer back that long: a server far away, so that
concurrent fetches overlap for sure. HTTP/1.1 with keep-alive (bodies sent chunked), as GitHub's is.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HTTP_BACKEND = next(
    (p for p in ("/usr/lib/git-core/git-http-backend", shutil.which("git-http-backend") or "") if os.path.exists(p)),
    "",
)
# GitHub's own words for its rate limits (REST API and secondary limits), as a 403's plain-text body.
RATE_LIMIT_BODY = b"API rate limit exceeded for installation. You have exceeded a secondary rate limit.\n"
_CHUNK = 64 * 1024


@dataclass
class GitHttpServer:
    """A running server: `url` is its base URL (ends in /); the counters are filled in as requests come."""

    root: Path
    url: str = ""
    auth: tuple[str, str] | None = None
    refuse_first: int = 0
    refusal: int = 429  # 429, or 403 with RATE_LIMIT_BODY
    retry_after: int | None = 1
    delay: float = 0.0
    requests: int = 0
    refused: int = 0
    most_at_once: int = 0
    authorizations: list[str] = field(default_factory=list)
    _at_once: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, authorization: str | None) -> int | None:
        """Count a request in; the status to refuse it with, if any."""
        with self._lock:
            self.requests += 1
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)
            if authorization is not None:
                self.authorizations.append(authorization)
            if self.auth is not None:
                expected = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
                if authorization != expected:
                    self.refused += 1
                    return 401
            if self.refused < self.refuse_first:
                self.refused += 1
                return self.refusal
            return None

    def end(self) -> None:
        with self._lock:
            self._at_once -= 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet: pytest shows stderr of failing tests
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        state = self.server.state
        refusal = state.begin(self.headers.get("Authorization"))
        try:
            body = self._body()
            if state.delay:
                time.sleep(state.delay)  # the latency of a server far away, not a synchronisation
            if refusal is not None:
                self._refuse(refusal, state.retry_after)
            else:
                self._backend(body)
        finally:
            state.end()

    def _body(self) -> bytes:
        """The request body, chunked or not (git sends large ones chunked); gzip is left to http-backend."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return bytes(body)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _refuse(self, status: int, retry_after: int | None) -> None:
        if status == 401:
            body, headers = b"authentication required\n", {"WWW-Authenticate": 'Basic realm="test"'}
        elif status == 403:
            body, headers = RATE_LIMIT_BODY, {"X-RateLimit-Remaining": "0"}
        else:
            body, headers = b"too many requests\n", {}
        if retry_after is not None and status != 401:
            headers["Retry-After"] = str(retry_after)
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "text/plain", "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _backend(self, body: bytes) -> None:
        """Run `git http-backend` as a CGI script and pass on its answer, streamed in chunks."""
        parts = urlsplit(self.path)
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.server.state.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "HOME": str(self.server.state.root),
            "REQUEST_METHOD": self.command,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": self.server.state.auth[0] if self.server.state.auth else "",
        }
        for header in ("Git-Protocol", "Content-Encoding"):
            if (value := self.headers.get(header)) is not None:
                env["HTTP_" + header.upper().replace("-", "_")] = value
        process = subprocess.Popen(
            [HTTP_BACKEND], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert process.stdin is not None and process.stdout is not None
        threading.Thread(target=_feed, args=(process.stdin, body), daemon=True).start()
        status, headers = 200, []
        while (line := process.stdout.readline().rstrip(b"\r\n")) != b"":
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name.strip(), value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while chunk := process.stdout.read1(_CHUNK):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")
        process.wait()


def _feed(stdin, body: bytes) -> None:
    with stdin, suppress(BrokenPipeError):
        stdin.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: GitHttpServer


@contextmanager
def git_http_server(
    root: Path,
    *,
    auth: tuple[str, str] | None = None,
    refuse_first: int = 0,
    refusal: int = 429,
    retry_after: int | None = 1,
    delay: float = 0.0,
) -> Iterator[GitHttpServer]:
    """Serve the bare repos under `root` over smart HTTP on 127.0.0.1 (a free port) while the block runs.

    `auth` (user, password): every request must carry them as Basic auth, else 401 with `WWW-Authenticate: Basic`.
    `refuse_first`: the first N requests (that pass auth) get `refusal`: 429, or 403 with GitHub's rate-limit words,
    with `Retry-After: retry_after` unless it is None.
    """
    assert HTTP_BACKEND, "git-http-backend not found (Debian's git has it in /usr/lib/git-core)"
    state = GitHttpServer(Path(root), auth=auth, refuse_first=refuse_first, refusal=refusal, retry_after=retry_after)
    state.delay = delay
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = state
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, name="git-http", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
