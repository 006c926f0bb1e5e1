"""A network far away, in userspace: a TCP proxy on 127.0.0.1 that gives every connection a round-trip delay and a
bandwidth cap per direction, in front of a local server (bench/scrape.py --network puts it before the smart-HTTP git
server of tests/helpers/git_http.py).

    with slow_network("http://127.0.0.1:8123/", rtt=0.040, mbit=50) as url:   # url: the same server, far away
        ...
    with far_git_server(root, rtt=0.040, mbit=50) as server:   # both in a process of their own: server.url
        before = server.cpu()                                  # (python, git) CPU seconds spent so far over there
        ...

`far_git_server` runs this file as `python bench/slow_network.py --serve ROOT --rtt-ms 40 --mbit 50`: a separate
interpreter, so that the server and the proxy neither share the GIL of the process that measures itself nor count in
its CPU, as GitHub would not. The child prints its URL, answers each "cpu" line on its stdin with its CPU seconds, and
exits when its stdin closes (the block ends, or the parent dies however it dies).

What it models, per connection: the handshakes (TCP, and TLS as with https: `handshake_rtts` round trips before the
first byte of a request leaves), then each byte sent at `mbit` Mbit/s and arriving `rtt`/2 later, in each direction.
Not modelled: loss, TCP slow start, a bandwidth shared by connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]

CHUNK = 16 * 1024


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, free_at: float, one_way: float, rate: float
) -> None:
    """Pass bytes from `reader` to `writer`: each chunk leaves when the link is free (`rate` bytes a second, from
    `free_at` on) and arrives `one_way` seconds later. Reading goes on meanwhile, as a link in flight holds data."""
    loop = asyncio.get_running_loop()
    in_flight: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        link_free = free_at
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(CHUNK):
                link_free = max(loop.time(), link_free) + len(data) / rate
                in_flight.put_nowait((link_free + one_way, data))
        in_flight.put_nowait((link_free + one_way, b""))

    async def arrive() -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                at, data = await in_flight.get()
                if (wait := at - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        writer.close()

    await asyncio.gather(send(), arrive())


@contextmanager
def slow_network(upstream: str, *, rtt: float = 0.040, mbit: float = 50.0, handshake_rtts: int = 2) -> Iterator[str]:
    """The URL of `upstream` (http://host:port/...) behind the proxy while the block runs."""
    parts = urlsplit(upstream)
    rate, one_way = mbit * 1e6 / 8, rtt / 2
    loop = asyncio.new_event_loop()
    started = threading.Event()
    port: list[int] = []

    async def connection(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        opened = loop.time()
        try:
            server_reader, server_writer = await asyncio.open_connection(parts.hostname, parts.port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pipe(client_reader, server_writer, free_at=opened + handshake_rtts * rtt, one_way=one_way, rate=rate),
            _pipe(server_reader, client_writer, free_at=opened, one_way=one_way, rate=rate),
        )

    async def serve() -> asyncio.Server:
        return await asyncio.start_server(connection, "127.0.0.1", 0)

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(serve())
        port.append(server.sockets[0].getsockname()[1])
        started.set()
        loop.run_forever()
        server.close()

    thread = threading.Thread(target=run, name="slow-network", daemon=True)
    thread.start()
    started.wait()
    try:
        yield f"{parts.scheme}://127.0.0.1:{port[0]}{parts.path}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


@dataclass
class FarServer:
    """The smart-HTTP git server behind the proxy, in a process of its own (see `far_git_server`)."""

    url: str
    process: subprocess.Popen[str]

    def cpu(self) -> tuple[float, float]:
        """CPU seconds the server process has used so far: (python: the HTTP server's threads and the proxy,
        git: the `git http-backend`s and the upload-pack/pack-objects they ran, each counted once it has exited)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("cpu\n")
        self.process.stdin.flush()
        python, git = self.process.stdout.readline().split()
        return float(python), float(git)


@contextmanager
def far_git_server(root: Path, *, rtt: float = 0.040, mbit: float = 50.0) -> Iterator[FarServer]:
    """Serve the bare repos under `root` over smart HTTP behind the slow network, from a child process that ends
    with the block (also on Ctrl+C, which it does not see: it has a session of its own)."""
    command = [sys.executable, __file__, "--serve", str(root), "--rtt-ms", repr(rtt * 1000), "--mbit", repr(mbit)]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        if not (url := process.stdout.readline().strip()):
            raise RuntimeError(f"the server process did not start (exit status {process.wait()})")
        yield FarServer(url, process)
    finally:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve(root: Path, rtt: float, mbit: float) -> None:
    """The child of `far_git_server`: serve until stdin closes, answering "cpu" lines."""
    sys.path.insert(0, str(ROOT))
    from tests.helpers.git_http import git_http_server

    with git_http_server(root) as server, slow_network(server.url, rtt=rtt, mbit=mbit) as url:
        print(url, flush=True)
        for line in sys.stdin:
            if line.strip() == "cpu":
                me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
                python, git = me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime
                print(f"{python:.3f} {git:.3f}", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Serve bare git repos over smart HTTP behind the slow network.")
    ap.add_argument("--serve", type=Path, required=True, help="the folder of bare repos")
    ap.add_argument("--rtt-ms", type=float, default=40.0)
    ap.add_argument("--mbit", type=float, default=50.0)
    args = ap.parse_args()
    _serve(args.serve, args.rtt_ms / 1000, args.mbit)
