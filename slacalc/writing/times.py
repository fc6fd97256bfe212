"""Instants as local wall-clock text, a column at a time (explain of a million incidents)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import numpy as np

from slacalc.dates.instants import format_local


def local_texts(instants: Any, tz: tzinfo) -> list[str]:
    """``YYYY-MM-DD HH:MM:SS`` (with microseconds when an instant has them), local in ``tz``.

    pyarrow formats the column when it knows the zone; otherwise each goes through
    :func:`format_local`, which is the same text.
    """
    instants = np.asarray(instants, dtype=np.int64)
    if len(instants) < 64 or not getattr(tz, "key", None):
        return [format_local(int(us), tz) for us in instants.tolist()]
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        stamps = pa.array(instants, pa.timestamp("us", tz=tz.key))  # type: ignore[attr-defined]
        text = [t[:19] for t in pc.strftime(stamps, format="%Y-%m-%d %H:%M:%S").to_pylist()]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return [format_local(int(us), tz) for us in instants.tolist()]
    fraction = instants % 1_000_000
    for i in np.flatnonzero(fraction).tolist():
        text[i] += f".{int(fraction[i]):06d}"
    return text
