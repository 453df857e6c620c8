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


def test_a_new_database_leaves_its_schema_in_the_file_not_the_wal(tmp_path: Path) -> None:
    """Left in the WAL, the whole new schema was copied at the service's stop, as if that run's readings wrote it."""
    db = EventsDB(tmp_path / "events.db")
    try:
        assert (tmp_path / "events.db-wal").stat().st_size == 0
    finally:
        db.close()
