"""E-mail channel: SMTP with STARTTLS, SSL or plain (a local relay)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from gateway.notify.channel import PEOPLE_EVENTS, DeliveryError
from gateway.notify.config import EmailChannel
from gateway.notify.messages import Notice


class EmailDelivery:
    """Sends notices as plain-text e-mails to fixed recipients."""

    events = PEOPLE_EVENTS

    def __init__(self, name: str, settings: EmailChannel, tls_context: ssl.SSLContext | None = None) -> None:
        self.name = name
        self.settings = settings
        self._tls = tls_context or ssl.create_default_context()

    def plain(self, subject: str, text: str) -> EmailMessage:
        """A plain-text e-mail from the channel's sender to its recipients (a subclass may add parts)."""
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(self.settings.to)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="houqin.local")
        msg.set_content(text)
        return msg

    def message(self, notice: Notice) -> EmailMessage:
        """The e-mail for ``notice``."""
        return self.plain(notice.title, notice.text)

    def deliver(self, notice: Notice) -> None:
        """Connect, secure, log in, send; raise DeliveryError on any SMTP or network failure."""
        s = self.settings
        password = s.login_password()
        if s.password_env and password is None:
            raise DeliveryError(f"{self.name}: environment variable {s.password_env} (password_env) is not set")
        try:
            smtp: smtplib.SMTP
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.effective_port, timeout=s.timeout, context=self._tls)
            else:
                smtp = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout)
            with smtp:
                if s.security == "starttls":
                    smtp.starttls(context=self._tls)
                if s.username:
                    smtp.login(s.username, password or "")
                smtp.send_message(self.message(notice))
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"{self.name}: SMTP {s.host}:{s.effective_port} failed: {e}") from None
