"""The worker job that snapshots each period's forecast at its start and closes past ones."""

from __future__ import annotations

import time

from django.utils import timezone

from flowcrm.core.actors import Actor
from flowcrm.forecasts.models import ForecastSnapshot
from flowcrm.forecasts.periods import period_start
from flowcrm.forecasts.services import snapshot_take, snapshots_close
from flowcrm.sales.models import Pipeline

CHECK_EVERY_SECONDS = 600
_last_check = {"at": 0.0}


def snapshot_periods() -> int:
    """At most every ten minutes: take this month's and quarter's snapshot if missing, and fill
    the actuals of ended periods. Returns the number of snapshots written."""
    if time.monotonic() - _last_check["at"] < CHECK_EVERY_SECONDS:
        return 0
    _last_check["at"] = time.monotonic()
    today = timezone.now().date()
    actor = Actor.system("forecast snapshots")
    written = 0
    for pipeline in Pipeline.objects.all():
        for kind in ("month", "quarter"):
            start = period_start(today, kind)
            exists = ForecastSnapshot.objects.filter(
                pipeline=pipeline, period_kind=kind, period_start=start
            ).exists()
            if not exists:
                snapshot_take(pipeline=pipeline, start=start, kind=kind, actor=actor)
                written += 1
        written += snapshots_close(pipeline=pipeline, today=today, actor=actor)
    return written
