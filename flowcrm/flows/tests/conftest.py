from __future__ import annotations

import pytest

from flowcrm.flows.core import language
from flowcrm.flows.definitions import clear_caches


@pytest.fixture(autouse=True)
def _fresh_engine_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture(autouse=True)
def _pure_core_tests_run_without_database_languages(request):
    """The app installs the database-backed condition language at start-up; the engine-core
    tests are pure (no database) and install their own languages when they need one."""
    if not request.module.__name__.rsplit(".", 1)[-1].startswith("test_core_"):
        yield
        return
    previous = (language.condition_language(), language.expression_language())
    language.install_condition_language(None)
    language.install_expression_language(None)
    yield
    language.install_condition_language(previous[0])
    language.install_expression_language(previous[1])
