"""Garbage-collector settings for a long-running service, applied once it has started."""

from __future__ import annotations

import gc

#: Container objects allocated (less those freed) between two young-generation collections; Python's default is
#: 700. A commit window keeps up to a thousand messages alive, each a dozen small objects, so at 700 every window
#: was walked by several collections and promoted to the old generation, whose growth then set off full
#: collections: profiled, they were the largest part of the ingest pipeline's extra time per message.
YOUNG_THRESHOLD = 10_000


def settle_after_start() -> None:
    """Freeze what start-up built (modules, settings, the parts) and collect young objects less often.

    Frozen objects are never walked again: before this, each full collection walked the ~90,000 objects of the
    loaded service to free a few new ones. Objects are still freed by reference counting as before; only cycles
    among start-up objects are kept (there are none to free by then).
    """
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
