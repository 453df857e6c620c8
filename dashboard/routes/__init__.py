"""Route modules: auth (login/logout/account), pages, the JSON API and operations (health, metrics).

One rule for every route: **no blocking work on the event loop.** The live streams of every open
tablet share the dashboard's one event loop, so a handler that touches SQLite (events database,
sessions, accounts, audit), the time-series store, report building or rendering, templates or files
is a plain ``def``: FastAPI runs it in its thread pool. ``async def`` is kept for the few handlers that
only wait or do nothing slow: the live stream (``/api/live``, whose session re-check goes through
``run_in_threadpool``), ``/api/ping``, ``/api/me``, and ``/api/devices/{id}/readings``, which computes
through ``ResultCache.aget`` (an explicit ``run_in_threadpool`` that also shares one query between
callers arriving at once). Dependencies follow the same rule: ``authorize`` does its session lookup
with ``run_in_threadpool``; ``Form`` (``form_fields``) only awaits the request body, so a handler that
reads a form takes ``form: Form`` and stays a plain ``def``. ``tests/dashboard/test_event_loop.py``
enforces the rule (an ``async def`` outside its short allow-list fails) and proves a live stream keeps
delivering while a slow page renders.
"""
