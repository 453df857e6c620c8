from pathlib import Path

from gateway.eventsdb import EventsDB, migration_scripts


def test_migrations_apply_once_in_order(tmp_path: Path) -> None:
    db = EventsDB(tmp_path / "events.db")
    numbers = [n for n, _, _ in migration_scripts()]
    assert numbers == sorted(numbers)
    applied = [r[0] for r in db.conn().execute("SELECT number FROM schema_migrations ORDER BY number")]
    assert applied == numbers
    mode = db.conn().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    db.close()
    # Opening again applies nothing new and keeps the data.
    again = EventsDB(tmp_path / "events.db")
    count = again.conn().execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert count == len(numbers)
    again.close()
