from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.dashboard.helpers import Site, make_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = make_site(tmp_path)
    yield s
    s.close()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app) as c:
        yield c
