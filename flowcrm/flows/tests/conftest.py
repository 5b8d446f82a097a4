from __future__ import annotations

import pytest

from flowcrm.flows.definitions import clear_caches


@pytest.fixture(autouse=True)
def _fresh_engine_caches():
    clear_caches()
    yield
    clear_caches()
