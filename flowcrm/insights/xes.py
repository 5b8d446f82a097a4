"""XES (IEEE 1849) export of a case notion's log, and a streaming XES reader.

The reader walks the document with expat (stdlib, no tree in memory) and reports every problem
with the line it is on. It keeps, per event, the ``concept:name`` (activity) and the
``time:timestamp`` attributes; events of every lifecycle transition are kept, as PM4Py does when
it reads a log. A trace's ``concept:name`` is the case id (a trace without one is named
``trace-N``; a repeated name gets ``#2``, ``#3``… so traces stay separate cases).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import itertools
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

from flowcrm.insights.process.filters import ProcessFilter
from flowcrm.insights.process.log import EventLog, build_log
from flowcrm.insights.process.notions import CaseNotion, load_log

if TYPE_CHECKING:
    from flowcrm.accounts.models import User

CHUNK_BYTES = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="UNKNOWN"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="UNKNOWN"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
"""


class XesError(ValueError):
    """A file that is not XES or is malformed; ``line`` is where the problem is (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


def _iso(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.isoformat(timespec="milliseconds")


def log_to_xes(log: EventLog, name: str) -> Iterator[str]:
    """The XES document of ``log``, one trace per chunk (memory stays one trace wide)."""
    yield HEADER
    yield f'  <string key="concept:name" value={quoteattr(name)}/>\n'
    bounds = log.case_bounds.tolist()
    names = [quoteattr(activity) for activity in log.activity_names]
    activities = log.activities.tolist()
    stamps = log.timestamps.tolist()
    starts = None if log.start_timestamps is None else log.start_timestamps.tolist()
    for case, (first, end) in enumerate(itertools.pairwise(bounds)):
        case_name = quoteattr(log.case_labels[case])
        parts = [f'  <trace>\n    <string key="concept:name" value={case_name}/>\n']
        for row in range(first, end):
            if starts is not None and starts[row] == starts[row]:  # not NaN
                parts.append(_event_xml(names[activities[row]], starts[row], "start"))
            parts.append(_event_xml(names[activities[row]], stamps[row], "complete"))
        parts.append("  </trace>\n")
        yield "".join(parts)
    yield "</log>\n"


def _event_xml(quoted_activity: str, seconds: float, transition: str) -> str:
    return (
        f'    <event>\n      <string key="concept:name" value={quoted_activity}/>\n'
        f'      <date key="time:timestamp" value="{_iso(seconds)}"/>\n'
        f'      <string key="lifecycle:transition" value="{transition}"/>\n    </event>\n'
    )


def xes_lines(notion: CaseNotion, filters: ProcessFilter, user: User | None) -> Iterator[str]:
    """Stream a case notion's log under ``filters`` as XES."""
    return log_to_xes(load_log(notion, filters, user), notion.name)


EventSink = Callable[[str, str, dt.datetime, int], None]


def open_xes(stream: IO[bytes]) -> IO[bytes]:
    """The XES bytes of ``stream``, transparently gunzipped when it starts with the gzip magic."""
    head = stream.read(2)
    rest: IO[bytes] = _Prepended(head, stream)  # type: ignore[assignment]  # read() is enough
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=rest, mode="rb")  # type: ignore[return-value]  # binary IO
    return rest


class _Prepended(io.RawIOBase):
    """``head`` followed by the rest of ``stream``: sniff a file without seeking (uploads)."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head = head
        self.stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            if size < 0:
                return head + self.stream.read()
            return head + self.stream.read(max(size - len(head), 0))
        return self.stream.read(size)


class _Reader:
    """expat handlers collecting one trace at a time and passing its events to ``sink``."""

    def __init__(self, parser: Any, sink: EventSink) -> None:
        self.parser = parser
        self.sink = sink
        self.stack: list[str] = []
        self.trace_name: str | None = None
        self.trace_events: list[tuple[str | None, dt.datetime | None, int]] = []
        self.event: dict[str, Any] | None = None
        self.seen_names: dict[str, int] = {}
        self.traces = 0
        self.position = 0

    def line(self) -> int:
        return int(self.parser.CurrentLineNumber)

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        local = tag.rsplit(":", 1)[-1]  # a prefixed root ("xes:log") is still a log
        depth = len(self.stack)
        if depth == 0 and local != "log":
            raise XesError(
                self.line(), f"not an XES document: the root element is <{tag}>, not <log>"
            )
        self.stack.append(local)
        if depth == 1 and local == "trace":
            self.trace_name, self.trace_events = None, []
        elif depth == 2 and local == "event" and self.stack[1] == "trace":
            self.event = {"line": self.line(), "activity": None, "time": None}
        elif depth == 2 and self.stack[1] == "trace" and attributes.get("key") == "concept:name":
            self.trace_name = attributes.get("value")
        elif depth == 3 and self.event is not None:
            self._event_attribute(local, attributes)

    def _event_attribute(self, local: str, attributes: dict[str, str]) -> None:
        assert self.event is not None
        key, value = attributes.get("key"), attributes.get("value")
        if key == "concept:name":
            self.event["activity"] = value
        elif key == "time:timestamp":
            if local != "date" or value is None:
                raise XesError(self.line(), "time:timestamp must be a <date> with a value")
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                raise XesError(self.line(), f"time:timestamp {value!r} is not a date") from None
            self.event["time"] = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

    def end(self, tag: str) -> None:
        local = self.stack.pop()
        depth = len(self.stack)
        if depth == 2 and local == "event" and self.event is not None:
            event = self.event
            if not event["activity"]:
                raise XesError(event["line"], "event has no concept:name (activity)")
            if event["time"] is None:
                raise XesError(event["line"], "event has no time:timestamp")
            self.sink_event(event)
            self.event = None
        elif depth == 1 and local == "trace":
            self.flush_trace()

    def sink_event(self, event: dict[str, Any]) -> None:
        self.trace_events.append((event["activity"], event["time"], self.position))
        self.position += 1

    def flush_trace(self) -> None:
        self.traces += 1
        name = self.trace_name or f"trace-{self.traces}"
        seen = self.seen_names.get(name, 0) + 1
        self.seen_names[name] = seen
        case = name if seen == 1 else f"{name}#{seen}"
        for activity, moment, position in self.trace_events:
            assert activity is not None and moment is not None
            self.sink(case, activity, moment, position)
        self.trace_events = []


def read_xes(stream: IO[bytes], sink: EventSink) -> int:
    """Parse an XES document from ``stream`` (plain or gzipped), calling
    ``sink(case_id, activity, occurred_at, position)`` per event. Returns the number of traces.

    Raises :class:`XesError` naming the line for malformed XML, a non-XES root, or an event
    without activity or timestamp. Callers that store events must do so in a transaction so
    nothing is kept when it raises.
    """
    parser = expat.ParserCreate()
    reader = _Reader(parser, sink)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    try:
        source = open_xes(stream)
        while chunk := source.read(CHUNK_BYTES):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        message = expat.errors.messages.get(error.code, str(error)) if error.code else str(error)
        raise XesError(error.lineno, f"malformed XML: {message}") from None
    except (OSError, EOFError) as error:  # a truncated or corrupt gzip stream
        raise XesError(1, f"the file cannot be decompressed: {error}") from None
    return reader.traces


def xes_to_log(stream: IO[bytes]) -> EventLog:
    """Read an XES document into an :class:`EventLog` (file order breaks timestamp ties)."""
    cases: list[str] = []
    activities: list[str] = []
    stamps: list[float] = []
    positions: list[int] = []

    def collect(case: str, activity: str, moment: dt.datetime, position: int) -> None:
        cases.append(case)
        activities.append(activity)
        stamps.append(moment.timestamp())
        positions.append(position)

    read_xes(stream, collect)
    return build_log(cases, activities, stamps, tiebreak=positions)
