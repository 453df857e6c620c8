"""E-mail channel: SMTP with STARTTLS, SSL or plain (a local relay)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import cast

from gateway.notify.channel import DeliveryError, DeliveryResult, attempt
from gateway.notify.config import EmailChannel
from gateway.notify.message import Message


class EmailDelivery:
    """Sends messages as e-mails to fixed recipients: plain text, and HTML with inline images when the message
    has them."""

    mirrors_alerts = False

    def __init__(self, name: str, settings: EmailChannel, tls_context: ssl.SSLContext | None = None) -> None:
        self.name = name
        self.settings = settings
        self._tls = tls_context or ssl.create_default_context()

    def email(self, message: Message) -> EmailMessage:
        """The e-mail for ``message``: its text, and when it has HTML, multipart/alternative with the HTML in
        multipart/related beside its images (by Content-ID)."""
        msg = EmailMessage()
        msg["Subject"] = message.title
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(self.settings.to)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="houqin.local")
        msg.set_content(message.text)
        if message.html is not None:
            msg.add_alternative(message.html, subtype="html")
            html_part = cast(EmailMessage, msg.get_payload()[-1])  # type: ignore[index]
            for img in message.images:
                html_part.add_related(img.png, maintype="image", subtype="png", cid=f"<{img.cid}>",
                                      filename=img.cid.split("@")[0] + ".png")
        return msg

    def send(self, message: Message) -> DeliveryResult:
        """Connect, secure, log in, send once; any SMTP or network failure is a failed delivery."""
        return attempt(self.name, self._send, message)

    def _send(self, message: Message) -> None:
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
                smtp.send_message(self.email(message))
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"{self.name}: SMTP {s.host}:{s.effective_port} failed: {e}") from None
