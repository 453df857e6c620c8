"""Whether a card or exit-button event really came from the agent: the agent signs them with the site's gate
command key (``gateway.signing``), so on a broker that lets anyone publish, a forged or replayed read opens
nothing and a fake exit-button press excuses no forced opening."""

from __future__ import annotations

from collections.abc import Iterable

from gateway import contract
from gateway.model import Event
from gateway.signing import SIGNED_EVENTS, SignatureError, Verifier, event_body


class EventAuthenticity:
    """Checks the signature of card and button events from devices an agent drives (any thread)."""

    def __init__(self, key: bytes, site: str, devices: Iterable[str]) -> None:
        self._verifier = Verifier(key)
        self._site = site
        #: Devices whose card/button events must be signed: the readers and buttons an agent drives.
        self.devices = frozenset(devices)

    def must_sign(self, e: Event) -> bool:
        """Whether ``e`` is a card or button event of a device whose events the agent signs."""
        return e.type in SIGNED_EVENTS and e.device in self.devices

    def _check(self, e: Event) -> str:
        body = event_body(e.type, e.data, e.ts)
        body["sig"] = e.data.get("sig")
        self._verifier.check_body(contract.event_topic(self._site, e.device), body)
        return str(body["nonce"])

    def authentic(self, e: Event) -> bool:
        """True unless ``e`` must be signed and is not, or was altered (pure: the rules ask it too)."""
        if not self.must_sign(e):
            return True
        try:
            self._check(e)
        except SignatureError:
            return False
        return True

    def refusal(self, e: Event, now: float) -> SignatureError | None:
        """Why ``e`` must not be obeyed (unsigned, altered, replayed), or None; remembers its nonce (call once)."""
        if not self.must_sign(e):
            return None
        try:
            self._verifier.once(self._check(e), now)
        except SignatureError as err:
            return err
        return None
