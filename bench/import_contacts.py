"""Benchmark ``import-contacts``: import a generated contacts CSV, upserting by e-mail.

The timed part is the whole import of the file (read, validate, normalise, look up existing
e-mails, insert/update, one event per record). The raw limit, measured in the same run, is the
plain database driver doing the same writes from the same file: parse the CSV, lower-case the
e-mails, upsert every row (``INSERT … ON CONFLICT (email) DO UPDATE``) and insert one event per
row, with no validation and no change detection.
"""

from __future__ import annotations

import csv
import json
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

FIRST_NAMES = (
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Linus", "Guido", "Ken",
    "Dennis", "Frances", "Radia", "Tim", "Vint", "Katherine", "John", "Mary", "Sophie", "Lukas",
    "Emma", "Noah", "Mia", "Leon", "Hannah", "Paul", "Lea", "Jonas", "Anna", "Felix",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Torvalds",
    "Rossum", "Thompson", "Ritchie", "Allen", "Perlman", "Berners-Lee", "Cerf", "Johnson",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
    "García", "Martin", "Bernard", "Dubois", "Rossi", "Smith", "Jones", "Brown", "Taylor",
)  # fmt: skip
COUNTRIES = (("DE", "+49"), ("US", "+1"), ("GB", "+44"), ("FR", "+33"), ("NL", "+31"))
SOURCES = ("website", "referral", "event", "outbound", "partner", "ads")
STAGES = ("subscriber", "lead", "lead", "lead", "mql", "sql", "customer")
HEADER = ["Email", "First Name", "Last Name", "Phone", "Country", "Source", "Lifecycle Stage"]


def contact_rows(size: int, *, seed: int = 7) -> Iterator[list[str]]:
    """``size`` contact rows; ~2% repeat an earlier e-mail in other case and with spaces."""
    rng = random.Random(seed)
    for index in range(size):
        if index > 50 and rng.random() < 0.02:
            original = rng.randrange(0, index)
            email = f"  {_email(original).upper()} "
        else:
            email = _email(index)
        country, prefix = COUNTRIES[index % len(COUNTRIES)]
        phone = (
            f"{prefix} {rng.randrange(200, 999)} {rng.randrange(1000000, 9999999)}"
            if rng.random() < 0.7
            else ""
        )
        yield [
            email,
            FIRST_NAMES[rng.randrange(len(FIRST_NAMES))],
            LAST_NAMES[rng.randrange(len(LAST_NAMES))],
            phone,
            country,
            SOURCES[rng.randrange(len(SOURCES))],
            STAGES[rng.randrange(len(STAGES))],
        ]


def _email(index: int) -> str:
    return f"contact{index}@example{index % 97}.com"


def write_contacts_csv(path: Path, size: int, *, seed: int = 7) -> Path:
    """The shared benchmark generator's contacts CSV when present, else this module's own."""
    try:
        from bench import generator  # type: ignore[attr-defined, unused-ignore]  # lands with the bench suite
    except ImportError:
        return _write_own_csv(path, size, seed=seed)
    result: Path = generator.write_contacts_csv(path, size, seed=seed)
    return result


def _write_own_csv(path: Path, size: int, *, seed: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(contact_rows(size, seed=seed))
    return path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _marks() -> dict[str, int]:
    from flowcrm.contacts.models import Contact
    from flowcrm.core.models import Event

    return {
        "contact": Contact.objects.order_by("-id").values_list("id", flat=True).first() or 0,
        "event": Event.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    }


def _clean_up(marks: dict[str, int]) -> None:
    from flowcrm.contacts.models import Contact
    from flowcrm.core.models import Event

    with transaction.atomic():
        Event.objects.filter(id__gt=marks["event"]).delete()
        Contact.objects.filter(id__gt=marks["contact"])._raw_delete(Contact.objects.db)


def import_once(path: Path) -> tuple[float, dict[str, Any]]:
    from flowcrm.core.actors import Actor
    from flowcrm.imports.mapping import ImportOptions
    from flowcrm.imports.models import ImportJob
    from flowcrm.imports.services import import_configure, import_from_path, import_run

    started = time.perf_counter()
    job = import_from_path(
        record_type="contacts", path=path, preset=None, user=None, actor=Actor.system("bench")
    )
    options = ImportOptions.model_validate(job.options)
    # Contacts only: company columns (if the file has them) would need the companies loaded.
    mapping = {
        header: column.model_copy(update={"target": "ignore"})
        if column.target in ("company", "owner")
        else column
        for header, column in options.mapping.items()
    }
    options = options.model_copy(
        update={"mapping": mapping, "match": ["email"], "policy": "create-update"}
    )
    import_configure(job=job, options=options)
    job = import_run(job=job)
    elapsed = time.perf_counter() - started
    summary = job.summary()
    ImportJob.objects.filter(pk=job.pk).delete()
    return elapsed, summary


def raw_limit_once(path: Path) -> float:
    """The same upserts and events through the bare driver (no validation, no ORM)."""
    started = time.perf_counter()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    upsert = (
        "INSERT INTO contacts_contact (email, first_name, last_name, phone, country, source,"
        " lifecycle_stage, lead_status, extra_emails, extra_phones, job_title, score,"
        " unsubscribed, custom, created_at, updated_at) VALUES"
        " (%s, %s, %s, %s, %s, %s, %s, 'new', '[]', '[]', '', 0, false, '{}', %s, %s)"
        " ON CONFLICT (email) WHERE email IS NOT NULL AND merged_into_id IS NULL DO UPDATE SET"
        " first_name = excluded.first_name, last_name = excluded.last_name,"
        " phone = excluded.phone, updated_at = excluded.updated_at"
    )
    event = (
        "INSERT INTO core_event (type, subject_type, subject_id, changes, data, occurred_at,"
        " actor_kind, actor_label) VALUES ('contact.created', 'contact', 0, %s, '{}', %s,"
        " 'system', 'bench')"
    )
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        while True:
            batch = [row for _, row in zip(range(5000), reader, strict=False)]
            if not batch:
                break
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    upsert,
                    [
                        (r[0].strip().lower(), r[1], r[2], r[3], r[4], r[5], r[6], now, now)
                        for r in batch
                    ],
                )
                cursor.executemany(event, [(json.dumps({"email": r[0]}), now) for r in batch])
    return time.perf_counter() - started


def run(size: int, runs: int) -> dict[str, Any]:
    """Import ``size`` generated contacts ``runs`` times (each into the same starting state)."""
    with tempfile.TemporaryDirectory() as directory:
        path = write_contacts_csv(Path(directory) / "contacts.csv", size)
        import_times: list[float] = []
        limit_times: list[float] = []
        summary: dict[str, Any] = {}
        for _ in range(runs):
            marks = _marks()
            elapsed, summary = import_once(path)
            import_times.append(elapsed)
            _clean_up(marks)
            marks = _marks()
            limit_times.append(raw_limit_once(path))
            _clean_up(marks)
    median = statistics.median(import_times)
    limit_median = statistics.median(limit_times)
    return {
        "name": "import-contacts",
        "database": connection.vendor,
        "size": size,
        "runs": runs,
        "median_seconds": round(median, 3),
        "throughput_per_second": round(size / median, 1),
        "limit_median_seconds": round(limit_median, 3),
        "limit_throughput_per_second": round(size / limit_median, 1),
        "ratio_to_limit": round(limit_median / median, 3),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "summary": summary,
    }
