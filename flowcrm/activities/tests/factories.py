"""Test factories for activities and tasks: typed functions creating rows (no events)."""

from __future__ import annotations

import itertools
from typing import Any

from django.utils import timezone

from flowcrm.activities.models import Activity, ActivityKind, Task, TaskStatus

_numbers = itertools.count(1)


def make_activity(**fields: Any) -> Activity:
    fields.setdefault("kind", ActivityKind.CALL)
    fields.setdefault("subject", f"Call {next(_numbers)}")
    fields.setdefault("occurred_at", timezone.now())
    return Activity.objects.create(**fields)


def make_task(**fields: Any) -> Task:
    fields.setdefault("title", f"Task {next(_numbers)}")
    fields.setdefault("status", TaskStatus.OPEN)
    return Task.objects.create(**fields)
