"""The in-memory event log that every analysis reads: sorted numpy columns, one row per event.

Order is the contract every analysis relies on: events are sorted by case, then timestamp, then
``tiebreak`` (the event id for logs read from the database, the position in the file for imported
logs). Two events of one case with the same timestamp therefore have one stable order, and the
PM4Py comparison feeds PM4Py the very same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Int64Array = npt.NDArray[np.int64]
Float64Array = npt.NDArray[np.float64]
Int32Array = npt.NDArray[np.int32]


@dataclass(frozen=True)
class EventLog:
    """A sorted event log.

    ``case_keys[i]`` is the case of event ``i`` as a dense integer; ``case_labels[k]`` is the
    case's real id (a deal id, a trace name). ``activities[i]`` indexes ``activity_names``.
    ``timestamps`` are seconds since the Unix epoch (UTC, float). ``start_timestamps`` is set for
    interval logs (flow steps: started; the complete timestamp is in ``timestamps``) and
    ``queued_timestamps`` when waiting time is known.
    """

    case_keys: Int64Array
    activities: Int32Array
    timestamps: Float64Array
    activity_names: tuple[str, ...]
    case_labels: tuple[str, ...]
    start_timestamps: Float64Array | None = None
    queued_timestamps: Float64Array | None = None
    case_bounds: Int64Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # case_bounds[k]..case_bounds[k+1] are the rows of case k (rows are grouped by case).
        if len(self.case_keys):
            change = np.flatnonzero(self.case_keys[1:] != self.case_keys[:-1]) + 1
            bounds = np.concatenate(([0], change, [len(self.case_keys)])).astype(np.int64)
        else:
            bounds = np.zeros(1, dtype=np.int64)
        object.__setattr__(self, "case_bounds", bounds)

    @property
    def event_count(self) -> int:
        return len(self.case_keys)

    @property
    def case_count(self) -> int:
        return len(self.case_bounds) - 1

    def same_case_pairs(self) -> npt.NDArray[np.bool_]:
        """``mask[i]`` is True when event ``i`` and event ``i + 1`` belong to the same case."""
        return np.asarray(self.case_keys[1:] == self.case_keys[:-1])


def build_log(
    case_ids: Sequence[object] | npt.NDArray[np.generic],
    activities: Sequence[str],
    timestamps: Sequence[float] | Float64Array,
    *,
    tiebreak: Sequence[int] | Int64Array | None = None,
    start_timestamps: Sequence[float] | Float64Array | None = None,
    queued_timestamps: Sequence[float] | Float64Array | None = None,
) -> EventLog:
    """Sort raw columns into an :class:`EventLog`.

    Cases are ordered by their id (numbers numerically, otherwise as text); events of a case by
    timestamp, then ``tiebreak`` (default: the input position). Raises ``ValueError`` when the
    columns differ in length.
    """
    count = len(activities)
    if len(case_ids) != count or len(timestamps) != count:
        raise ValueError("case ids, activities and timestamps must have the same length")
    stamps = np.asarray(timestamps, dtype=np.float64)
    ties = (
        np.arange(count, dtype=np.int64)
        if tiebreak is None
        else np.asarray(tiebreak, dtype=np.int64)
    )
    case_values, case_keys = _dense_codes(case_ids)
    names, activity_codes = _activity_codes(activities)
    order = np.lexsort((ties, stamps, case_keys))
    starts = None if start_timestamps is None else np.asarray(start_timestamps, np.float64)[order]
    queued = None if queued_timestamps is None else np.asarray(queued_timestamps, np.float64)[order]
    return EventLog(
        case_keys=case_keys[order],
        activities=activity_codes[order],
        timestamps=stamps[order],
        activity_names=names,
        case_labels=tuple(str(v) for v in case_values),
        start_timestamps=starts,
        queued_timestamps=queued,
    )


def _dense_codes(
    case_ids: Sequence[object] | npt.NDArray[np.generic],
) -> tuple[list[object], Int64Array]:
    array = np.asarray(case_ids)
    if array.dtype.kind in "iu":
        values, codes = np.unique(array, return_inverse=True)
        return list(values.tolist()), codes.astype(np.int64)
    labels = [str(v) for v in array.tolist()]
    values_sorted = sorted(set(labels))
    index = {label: position for position, label in enumerate(values_sorted)}
    return list(values_sorted), np.fromiter((index[v] for v in labels), np.int64, len(labels))


def _activity_codes(activities: Iterable[str]) -> tuple[tuple[str, ...], Int32Array]:
    # A dict lookup per event is cheaper than np.unique on an object array (no string sort).
    lookup: dict[str, int] = {}
    codes = np.fromiter(
        (lookup.setdefault(name, len(lookup)) for name in activities), dtype=np.int32
    )
    return tuple(lookup), codes
