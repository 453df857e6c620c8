from __future__ import annotations

from pathlib import Path

from sensors.messages import Outgoing
from sensors.spool import Spool


def msg(i: int, kind: str, topic: str = "houqin/kg/d/state") -> Outgoing:
    return Outgoing(topic, str(i).encode(), kind)  # type: ignore[arg-type]


def test_fifo_across_reopen(tmp_path: Path) -> None:
    s = Spool(tmp_path / "spool.sqlite")
    s.append([msg(i, "state") for i in range(5)])
    s.close()
    s = Spool(tmp_path / "spool.sqlite")
    assert len(s) == 5
    head = s.head(3)
    assert [m.payload for _, m in head] == [b"0", b"1", b"2"]
    s.remove([i for i, _ in head])
    assert [m.payload for _, m in s.head(10)] == [b"3", b"4"]
    s.close()


def test_bound_drops_states_then_old_totals_then_events(tmp_path: Path) -> None:
    s = Spool(tmp_path / "spool.sqlite", max_messages=6)
    s.append([msg(0, "event", "houqin/kg/gate/event"), msg(1, "state"), msg(2, "total", "houqin/kg/w/state"),
              msg(3, "state"), msg(4, "total", "houqin/kg/w/state"), msg(5, "availability")])
    s.append([msg(6, "event", "houqin/kg/gate/event"), msg(7, "total", "houqin/kg/w/state")])
    # two over: the two oldest plain states went
    assert [m.payload for _, m in s.head(10)] == [b"0", b"2", b"4", b"5", b"6", b"7"]
    s.append([msg(8, "total", "houqin/kg/w/state"), msg(9, "event", "houqin/kg/gate/event")])
    # the availability went, then the oldest total; the newest total of each meter stays
    assert [m.payload for _, m in s.head(10)] == [b"0", b"4", b"6", b"7", b"8", b"9"]
    s.append([msg(10, "event", "houqin/kg/gate/event")] * 3)
    kept = [m.payload for _, m in s.head(10)]
    assert len(kept) == 6 and b"8" in kept  # the latest total survives even when events must go
    assert s.dropped() == {"state": 3, "total": 3, "event": 1}
    s.close()


def test_epoch_grows_forever(tmp_path: Path) -> None:
    s = Spool(tmp_path / "spool.sqlite")
    assert s.next_epoch() == 1
    assert s.next_epoch() == 2
    s.close()
    assert Spool(tmp_path / "spool.sqlite").next_epoch() == 3
