"""Helpers for import tests: write a CSV and run an import job through the services."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from flowcrm.core.actors import Actor
from flowcrm.imports.mapping import ImportOptions
from flowcrm.imports.models import ImportJob
from flowcrm.imports.services import import_configure, import_from_path, import_run


@pytest.fixture(autouse=True)
def media_in_tmp(tmp_path: Path) -> Any:
    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        yield


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    counter = {"n": 0}

    def write(
        rows: list[list[str]],
        *,
        name: str | None = None,
        encoding: str = "utf-8",
        delimiter: str = ",",
    ) -> Path:
        counter["n"] += 1
        path = tmp_path / (name or f"file{counter['n']}.csv")
        with path.open("w", newline="", encoding=encoding) as handle:
            csv.writer(handle, delimiter=delimiter).writerows(rows)
        return path

    return write


@pytest.fixture
def run_import(db: None) -> Callable[..., ImportJob]:
    def run(
        path: Path, record_type: str = "contacts", chunk_size: int = 5000, **options: Any
    ) -> ImportJob:
        job = import_from_path(
            record_type=record_type, path=path, preset=None, user=None, actor=Actor.system("t")
        )
        job.chunk_size = chunk_size
        job.save(update_fields=["chunk_size"])
        merged = ImportOptions.model_validate({**job.options, **options})
        import_configure(job=job, options=merged)
        return import_run(job=job)

    return run
