"""The delivery worker: bounded queue per channel, drops counted, backoff between retries."""

from __future__ import annotations

import threading

from gateway.notify.config import WebhookChannel
from gateway.notify.dispatcher import Dispatcher
from gateway.notify.message import Message
from gateway.notify.webhook import WebhookDelivery
from tests.notify.receivers import WebhookServer
from tests.waiting import wait_for


def notice(i: int) -> Message:
    return Message("t", "text", "md", fields={"event": "opened", "alert": {"id": i}})


def hook(url: str) -> WebhookDelivery:
    return WebhookDelivery("h", WebhookChannel(type="webhook", format="generic", url=url, timeout=10))


def test_full_queue_drops_and_counts() -> None:
    release = threading.Event()
    server = WebhookServer(on_post=lambda _r: release.wait(10))
    d = Dispatcher({"h": hook(server.url())}, queue_size=1)
    d.start()
    try:
        assert d.submit("h", notice(1))
        wait_for(lambda: len(server.received) == 1, what="first POST hanging")
        assert d.submit("h", notice(2))  # waits in the queue
        assert not d.submit("h", notice(3))  # queue full: dropped, never blocks the caller
        assert not d.submit("nope", notice(4))  # unknown channel
        release.set()
        wait_for(lambda: d.stats()["h"].sent == 2, what="two delivered")
        assert d.stats()["h"].dropped == 1
        assert [r.body["alert"]["id"] for r in server.received] == [1, 2]
    finally:
        release.set()
        d.stop()
        server.close()


def test_retry_after_failure_then_success() -> None:
    server = WebhookServer(status=503)
    results: list[str | None] = []
    d = Dispatcher({"h": hook(server.url())}, attempts=5, backoff_s=0.01,
                   on_result=lambda _c, _n, err: results.append(err))

    def recover(_r: object) -> None:
        if len(server.received) == 3:
            server.status = 200

    server.on_post = recover
    d.start()
    try:
        d.submit("h", notice(1))
        wait_for(lambda: results == [None], what="delivered on the third try")
        st = d.stats()["h"]
        assert (st.sent, st.failed_attempts, st.retried, st.gave_up) == (1, 2, 2, 0)
        assert len(server.received) == 3
    finally:
        d.stop()
        server.close()
