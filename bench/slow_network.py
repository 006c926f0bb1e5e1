"""A network far away, in userspace: a TCP proxy on 127.0.0.1 that gives every connection a round-trip delay and a
bandwidth cap per direction, in front of a local server (bench/scrape.py --network puts it before the smart-HTTP git
server of tests/helpers/git_http.py).

    with slow_network("http://127.0.0.1:8123/", rtt=0.040, mbit=50) as url:   # url: the same server, far away
        ...

What it models, per connection: the handshakes (TCP, and TLS as with https: `handshake_rtts` round trips before the
first byte of a request leaves), then each byte sent at `mbit` Mbit/s and arriving `rtt`/2 later, in each direction.
Not modelled: loss, TCP slow start, a bandwidth shared by connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

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
