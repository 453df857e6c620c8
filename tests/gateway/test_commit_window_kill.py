"""kill -9 of `houqin run` while a commit window is open: after a restart every reading is there once."""

from __future__ import annotations

import time
from pathlib import Path

from tests.gateway.ingest_helpers import Publisher, write_config
from tests.gateway.test_cli import start_run, stored
from tests.mosquitto import Mosquitto
from tests.waiting import wait_for


def test_kill_9_inside_an_open_commit_window_loses_and_doubles_nothing(tmp_path: Path, mosquitto: Mosquitto) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path / "houqin.toml", data, mosquitto.url)
    text = config.read_text(encoding="utf-8")
    # A long window, so the kill surely lands while the messages wait in it, received but uncommitted.
    config.write_text(text.replace("[storage]\n", '[storage]\ncommit_interval = "60s"\n'), encoding="utf-8")
    log = tmp_path / "run.log"
    proc = start_run(config, log)
    pub = Publisher(mosquitto.port)
    n = 40
    t0 = time.time() - n
    try:
        pub.wait_gateway(30)
        for i in range(n):
            pub.state("water", {"total_l": 100.0 + 3 * i}, ts=t0 + i, seq=i + 1)
        assert stored(data, "water", "total_l") == []  # all of them are in the open window
        proc.kill()
        proc.wait(10)
        config.write_text(text, encoding="utf-8")  # the default window for the restart
        pub.gateway_online = False
        proc = start_run(config, log)
        pub.wait_gateway(30)
        wait_for(lambda: len(stored(data, "water", "total_l")) >= n, timeout=60, what="every reading after restart")
        assert stored(data, "water", "total_l") == [100.0 + 3 * i for i in range(n)]
        assert stored(data, "water", "usage_l") == [3.0] * (n - 1)
    finally:
        pub.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
