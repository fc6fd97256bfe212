"""The geometry of a service's timeline chart: the month as a band of fixed width, a shaded bar
per stretch of downtime (darker for a larger impact), maintenance and excluded windows, and the
month's days on the axis. The template draws it as inline SVG.

Down stretches are the chart's only ``<rect>`` elements (windows are hatched paths, rest days
shaded paths, the frame and ticks are lines), so a reader or a test can count them: one per
stretch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any

from slacalc.computing.statements import Stretch, Window
from slacalc.dates.instants import from_us, local_midnight_us
from slacalc.dates.workdays import WorkCalendar

WIDTH = 1000  # viewBox units across the month
LEFT, RIGHT = 6, 6  # room for the first and last day labels
BAR_TOP, BAR_HEIGHT = 4, 44
AXIS_Y = BAR_TOP + BAR_HEIGHT
HEIGHT = AXIS_Y + 40  # room for the day numbers, larger on a phone
MIN_WIDTH = 2  # a 40-second outage in a month is 0.015 units: drawn this wide to be seen


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    opacity: float  # 0.3 for the smallest impact, 1 for a full outage
    stretch: Stretch


@dataclass(frozen=True)
class Hatch:
    x: float
    width: float
    window: Window


@dataclass(frozen=True)
class Tick:
    x: float  # the day's midnight
    mid: float  # the middle of the day, where its number goes
    width: float  # to the next midnight (or the month's end)
    day: int
    major: bool  # labelled on every screen; minor labels hide on narrow ones
    rest: bool  # not a working day on the report's calendar (make-up working days are)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_top: int
    bar_height: int
    axis_y: int
    bars: list[Bar]
    hatches: list[Hatch]
    ticks: list[Tick]
    end_x: float


def timeline_chart(
    start: int,
    end: int,
    stretches: list[Stretch],
    windows: list[Window],
    *,
    tz: Any,
    calendar: WorkCalendar,
) -> Chart:
    """The chart of the month ``[start, end)`` (epoch microseconds) in zone ``tz``, its rest
    days as ``calendar`` has them."""
    span = end - start
    inner = WIDTH - LEFT - RIGHT

    def x(us: int) -> float:
        return LEFT + inner * (us - start) / span

    def extent(a: int, b: int) -> tuple[float, float]:
        x0, x1 = x(max(a, start)), x(min(b, end))
        width = max(x1 - x0, MIN_WIDTH)
        return round(min(x0, WIDTH - RIGHT - width), 3), round(width, 3)

    bars = []
    for s in stretches:
        bx, bw = extent(s.start, s.end)
        bars.append(Bar(bx, bw, _opacity(s.loss), s))
    hatches = []
    for w in windows:
        hx, hw = extent(w.start, w.end)
        hatches.append(Hatch(hx, hw, w))
    ticks = []
    day = from_us(start, tz).date()
    while (at := local_midnight_us(day, tz)) < end:
        following = min(local_midnight_us(day + timedelta(days=1), tz), end)
        ticks.append(
            Tick(
                round(x(at), 3),
                round((x(at) + x(following)) / 2, 3),
                round(x(following) - x(at), 3),
                day.day,
                day.day == 1 or day.day % 5 == 0,
                not calendar.is_working_day(day),
            )
        )
        day += timedelta(days=1)
    return Chart(WIDTH, HEIGHT, BAR_TOP, BAR_HEIGHT, AXIS_Y, bars, hatches, ticks, x(end))


def _opacity(loss: Fraction) -> float:
    return round(0.3 + 0.7 * float(loss), 3)
