"""The span of time every generated log covers, shared by both generators (gen_incidents.py
and gen_realistic.py): its start, its end (the benchmarks' --as-of) and the month edges."""

from __future__ import annotations

import datetime as dt

LOG_START = dt.datetime(2025, 3, 1)  # local time, Asia/Shanghai
AS_OF = dt.datetime(2025, 6, 1)  # end of the log, ends ongoing incidents
DAY = 86_400
HOUR = 3_600
HORIZON = int((AS_OF - LOG_START).total_seconds())  # seconds from LOG_START to AS_OF
MONTH_BOUNDARIES = (31 * DAY, 61 * DAY)  # 2025-04-01 and 2025-05-01 as offsets
