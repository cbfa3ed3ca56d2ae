"""Speak SMTP and nothing else: settings from [smtp], a connection with STARTTLS, SSL or none.

The password comes only from the POLICYWATCH_SMTP_PASSWORD environment variable; it is never
logged and never part of an error message.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from types import TracebackType
from typing import Any

from monitor.config import ENV_SMTP_PASSWORD, Config, ConfigError
from monitor.subscriptions import SubscriptionError, validate_email

logger = logging.getLogger(__name__)

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
SMTP_KEYS = {"host", "port", "security", "username", "sender", "timeout", "ca_file"}


class MailerError(RuntimeError):
    """A message could not be handed to the SMTP server; one line, never the password."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    sender: Address
    username: str | None = None
    timeout: float = 30.0
    ca_file: str | None = None

    @property
    def password(self) -> str | None:
        return os.environ.get(ENV_SMTP_PASSWORD) or None

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


def smtp_settings(config: Config) -> SmtpSettings:
    """The validated [smtp] table; ConfigError naming the key when something is wrong."""
    where = f"{config.path or 'config'}: [smtp]"
    table: dict[str, Any] = dict(config.smtp or {})
    if not table:
        raise ConfigError(f"{where} is missing: add host, port, security and sender to send digests")
    for key in table:
        if key == "password":
            raise ConfigError(f"{where} key 'password': not allowed in the file, "
                              f"set {ENV_SMTP_PASSWORD} in the environment instead")
        if key not in SMTP_KEYS:
            raise ConfigError(f"{where} unknown key {key!r} (known: {', '.join(sorted(SMTP_KEYS))})")
    host = table.get("host")
    if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host.strip()):
        raise ConfigError(f"{where} key 'host': must be a host name")
    security = table.get("security", "starttls")
    if security not in SECURITY:
        raise ConfigError(f"{where} key 'security': must be one of {', '.join(SECURITY)}")
    port = table.get("port", DEFAULT_PORTS[security])
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError(f"{where} key 'port': must be a port number")
    username = table.get("username")
    if username is not None and (not isinstance(username, str) or not username):
        raise ConfigError(f"{where} key 'username': must be a non-empty string")
    timeout = table.get("timeout", 30)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError(f"{where} key 'timeout': must be a number of seconds")
    ca_file = table.get("ca_file")
    if ca_file is not None and (not isinstance(ca_file, str) or not os.path.exists(ca_file)):
        raise ConfigError(f"{where} key 'ca_file': no such file {ca_file!r}")
    sender_raw = table.get("sender")
    if not isinstance(sender_raw, str) or not sender_raw.strip():
        raise ConfigError(f"{where} key 'sender': required, e.g. \"policywatch <watcher@example.org>\"")
    if any(ch in sender_raw for ch in "\r\n"):
        raise ConfigError(f"{where} key 'sender': must be one line")
    name, addr = parseaddr(sender_raw)
    try:
        addr = validate_email(addr)
        sender = Address(display_name=name, addr_spec=addr)
    except (SubscriptionError, ValueError) as exc:
        raise ConfigError(f"{where} key 'sender': {exc}") from None
    return SmtpSettings(host=host.strip(), port=port, security=security, sender=sender,
                        username=username, timeout=float(timeout), ca_file=ca_file)


class SmtpConnection:
    """One SMTP session for several messages: ``with SmtpConnection(settings) as conn: conn.send(m)``."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def open(self) -> None:
        s = self.settings
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                      context=self._context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            self._smtp = smtp
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if s.username:
                password = s.password
                if not password:
                    raise MailerError(f"[smtp] username is set but {ENV_SMTP_PASSWORD} is empty")
                smtp.login(s.username, password)
        except MailerError:
            self.close()
            raise
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise MailerError(f"SMTP login as {s.username!r} at {s.describe()} refused "
                              f"({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise MailerError(f"cannot connect to SMTP server {s.describe()}: {_one_line(exc)}") from None
        logger.debug("connected to SMTP server %s", s.describe())

    def send(self, message: EmailMessage) -> None:
        """Hand one message over; returns only when the server accepted it for every recipient."""
        if self._smtp is None:
            self.open()
        assert self._smtp is not None
        try:
            refused = self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailerError(f"SMTP server refused recipient(s) {', '.join(exc.recipients)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise MailerError(f"SMTP send via {self.settings.describe()} failed: {_one_line(exc)}") from None
        if refused:
            raise MailerError(f"SMTP server refused recipient(s) {', '.join(refused)}")

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            try:
                smtp.close()
            except OSError:
                pass

    def __enter__(self) -> SmtpConnection:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    password = os.environ.get(ENV_SMTP_PASSWORD)
    if password:
        text = text.replace(password, "***")
    return " ".join(text.split())[:300]
