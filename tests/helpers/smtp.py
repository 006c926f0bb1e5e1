"""A small real SMTP server on 127.0.0.1 for tests that send through Django's SMTP backend: it takes mail, refuses
the recipients it is told to (550), and writes down what it delivered.

    with smtp_server(refused={"bounce@example.com"}) as server:
        settings.EMAIL_PORT = server.port
        ...
    assert server.delivered == ["ann@example.com"]
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.test import override_settings


class _Session(socketserver.StreamRequestHandler):
    """One SMTP conversation: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT (no STARTTLS, no AUTH)."""

    server: _Server

    def reply(self, code: int, text: str) -> None:
        self.wfile.write(f"{code} {text}\r\n".encode())

    def handle(self) -> None:
        self.reply(220, "test SMTP ready")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO", "NOOP"):
                self.reply(250, "ok")
            elif verb in ("MAIL", "RSET"):
                recipients = []
                self.reply(250, "ok")
            elif verb == "RCPT":
                address = command[command.find("<") + 1 : command.rfind(">")].lower()
                if address in self.server.refused:
                    self.reply(550, "no such user here")
                else:
                    recipients.append(address)
                    self.reply(250, "ok")
            elif verb == "DATA":
                self.reply(354, "go on")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                with self.server.lock:
                    self.server.delivered.extend(recipients)
                self.reply(250, "delivered")
            elif verb == "QUIT":
                self.reply(221, "bye")
                return
            else:
                self.reply(502, "not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, refused: set[str]):
        super().__init__(("127.0.0.1", 0), _Session)
        self.refused = {address.lower() for address in refused}
        self.delivered: list[str] = []
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]


@contextmanager
def smtp_server(refused: set[str] = frozenset()) -> Iterator[_Server]:
    """A running server, and Django's settings pointed at it (SMTP backend, no TLS) while it runs."""
    server = _Server(set(refused))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=server.port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_TIMEOUT=5,
        ):
            yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    """A port on 127.0.0.1 that nobody listens on: a connection to it is refused at once, as by a mail server that is
    down."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
