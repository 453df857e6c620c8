"""The gate guard's work: card registry and access decisions, visitors, watch list, on-site roll call,
night patrols and shift handover (``[gate]`` settings, migration 0050, ``install`` in ``setup``)."""
