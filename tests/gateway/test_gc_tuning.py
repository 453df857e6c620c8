"""The collector settings `houqin run` applies once started, in a process of their own (they are process-wide)."""

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent("""
    import gc, weakref
    from gateway.app import Gateway  # start-up's objects: modules, settings classes
    from gateway.gc_tuning import YOUNG_THRESHOLD, settle_after_start

    settle_after_start()
    assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    tracked_after = len(gc.get_objects())
    assert tracked_after < 1_000, tracked_after  # start-up's objects are no longer walked by collections

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle made after start: still freed by the collector
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None
    print("ok")
""")


def test_settle_after_start_freezes_startup_and_still_collects_new_cycles() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
