"""Helpers for the digest, mail, feed and scheduler tests: a real SMTP server (aiosmtpd) on a free
port of 127.0.0.1 that parses what it receives, and events stored through the storage functions.

(No tests here; the module name only keeps it among the files this feature owns.)
"""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from storage.db import session_scope
from storage.documents import ensure_source, store_snapshot
from storage.events import add_event


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: Any


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=policy.default)
        with self.sink.lock:
            self.sink.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed))
        return "250 OK"


class SmtpSink:
    """aiosmtpd on 127.0.0.1: start(), stop() (the server is down: connections refused), start()
    again on the same port. ``tls`` is an SSLContext for STARTTLS; ``implicit_tls`` for SSL."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, implicit_tls: ssl.SSLContext | None = None,
                 credentials: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.credentials = credentials
        self.received: list[Received] = []
        self.logins: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            self.logins.append((login, password))
            if self.credentials == (login, password):
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> SmtpSink:
        kwargs: dict[str, Any] = {}
        if self.tls is not None:
            kwargs.update(tls_context=self.tls, require_starttls=True)
        if self.implicit_tls is not None:
            kwargs["ssl_context"] = self.implicit_tls
        if self.credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10, **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self, to: str | None = None) -> list[Any]:
        with self.lock:
            return [r.message for r in self.received if to is None or to in r.rcpt_tos]

    def smtp_toml(self, security: str = "none", username: str | None = None) -> str:
        lines = ["[smtp]", 'host = "127.0.0.1"', f"port = {self.port}", f'security = "{security}"',
                 'sender = "政策监测 policywatch <watcher@example.org>"', "timeout = 10"]
        if username:
            lines.append(f'username = "{username}"')
        return "\n".join(lines) + "\n"


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, made now with `cryptography`."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


# -- events through the storage functions -----------------------------------------------------
@dataclass
class Snap:
    url: str
    canonical_key: str
    title: str
    content_hash: str
    text: str = "正文"
    normalized_text: str = "正文"
    structure: dict[str, Any] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    raw: bytes = b"<html>body</html>"
    content_type: str | None = "text/html"
    encoding: str | None = "utf-8"
    etag: str | None = None
    last_modified: str | None = None


def store_document(sessions: Any, *, source: str, post: int, title: str, doc_number: str | None = None,
                   kind: str = "notice", tasks: list[dict[str, Any]] | None = None,
                   text: str = "正文") -> dict[str, int]:
    """A document with one version; returns ids: source_id, document_id, version_id."""
    structure = {"metadata": {"doc_number": doc_number, "kind": kind}, "tasks": tasks or []}
    snap = Snap(url=f"https://{source}.example.gov.cn/content/post_{post}.html",
                canonical_key=f"{source}.example.gov.cn/post_{post}", title=title,
                content_hash=hashlib.sha256(f"{post}{text}{tasks}".encode()).hexdigest(),
                text=text, normalized_text=text, structure=structure)
    with session_scope(sessions) as s:
        row = ensure_source(s, source, "html_pages", {})
        outcome = store_snapshot(s, row.id, snap)
        return {"source_id": row.id, "document_id": outcome.document_id,
                "version_id": outcome.version_id or outcome.previous_version_id}


def add(sessions: Any, doc: dict[str, int], type: str, summary: str, **fields: Any) -> int:
    """Store one change event on a document (from store_document); returns its id."""
    with session_scope(sessions) as s:
        event = add_event(s, type=type, source_id=doc["source_id"], document_id=doc["document_id"],
                          version_to_id=fields.pop("version_to_id", doc["version_id"]), summary=summary,
                          **fields)
        return event.id


def body_text(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def body_html(message: Any) -> str:
    return message.get_body(preferencelist=("html",)).get_content()
