"""Charts for reports, drawn with matplotlib's Agg canvas (no GUI, no pyplot global state); the bot
calls these in its chart worker process (cogs/reports/render.py). Readable at Discord's preview
size: labelled axes, dates on x in the guild's time zone, a legend."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# 1000×500 px at 100 dpi: Discord shows it about 550 px wide, where 10 pt text still reads.
SIZE_INCHES = (10, 5)
DPI = 100
PRESENT_COLOUR = "#3ba55d"
ABSENT_COLOUR = "#ed4245"
RATE_COLOUR = "#5865f2"
# Past this many roll calls the chart shows areas, not bars.
MAX_BARS = 60
# Date labels under the bars; past this many bars only every few are labelled.
MAX_TICKS = 12


@dataclass(frozen=True, slots=True)
class TimePoint:
    """One roll call: when it opened, who was there (present or late) and who counted (not excused)."""

    at: datetime
    attended: int
    counted: int


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    timezone: str
    points: Sequence[TimePoint] = ()
    bars: Sequence[Bar] = ()
    # Text lines drawn above the chart on the PDF page (the embed carries them otherwise).
    lines: Sequence[str] = ()


def _draw_over_time(figure: Figure, chart: Chart, rect: tuple[float, float, float, float]) -> None:
    zone = ZoneInfo(chart.timezone)
    axes = figure.add_axes(rect)
    moments = [point.at.astimezone(zone) for point in chart.points]
    attended = [point.attended for point in chart.points]
    missed = [point.counted - point.attended for point in chart.points]
    xs: Sequence[object]
    if len(moments) <= MAX_BARS:
        # One evenly spaced bar per roll call, labelled with its date: on a time axis two classes
        # on the same day would be slivers next to each other.
        xs = list(range(len(moments)))
        axes.bar(xs, attended, width=0.7, color=PRESENT_COLOUR, label="Present or late")
        axes.bar(xs, missed, width=0.7, bottom=attended, color=ABSENT_COLOUR, label="Absent")
        shown = xs[:: max(1, -(-len(xs) // MAX_TICKS))]
        axes.set_xticks(shown, [_tick_label(moments, index) for index in shown])
        axes.set_xlim(-0.6, len(xs) - 0.4)
    else:
        # Hundreds of bars would be slivers at preview size (and slow to draw): stacked areas instead.
        xs = moments
        counted = [a + m for a, m in zip(attended, missed, strict=True)]
        axes.fill_between(moments, 0, attended, step="mid", color=PRESENT_COLOUR, label="Present or late")
        axes.fill_between(moments, attended, counted, step="mid", color=ABSENT_COLOUR, label="Absent")
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator(tz=zone)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=zone))
    axes.set_ylabel("Members per roll call")
    axes.set_xlabel(f"Roll call date ({chart.timezone})")
    rates = axes.twinx()
    rates.plot(
        xs,
        [100 * point.attended / point.counted if point.counted else float("nan") for point in chart.points],
        color=RATE_COLOUR,
        marker="o" if len(moments) <= MAX_BARS else None,
        label="Attendance rate",
    )
    rates.set_ylim(0, 105)
    rates.set_ylabel("Attendance rate (%)")
    handles = axes.get_legend_handles_labels()
    more = rates.get_legend_handles_labels()
    # Above the plot, not in it: inside, bars and the rate line would run across it.
    rates.legend(
        handles[0] + more[0],
        handles[1] + more[1],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=3,
        fontsize=9,
        frameon=False,
    )
    axes.set_title(chart.title, pad=24)


def _tick_label(moments: Sequence[datetime], index: int) -> str:
    """`14 Mar`, with the time too when another roll call falls on the same day, and the year
    when the range spans more than one."""
    moment = moments[index]
    label = f"{moment.day} {moment:%b}"
    if len({other.year for other in moments}) > 1:
        label += f" {moment:%y}"
    if sum(other.date() == moment.date() for other in moments) > 1:
        label += f"\n{moment:%H:%M}"
    return label


def _draw_bars(figure: Figure, chart: Chart, rect: tuple[float, float, float, float]) -> None:
    axes = figure.add_axes(rect)
    labels = [bar.label for bar in chart.bars]
    values = [bar.value for bar in chart.bars]
    axes.bar(labels, values, color=[PRESENT_COLOUR, RATE_COLOUR, ABSENT_COLOUR, "#faa61a"][: len(values)])
    axes.set_ylabel("Members")
    axes.set_xlabel("Answer")
    axes.set_title(chart.title)
    for index, value in enumerate(values):
        axes.annotate(str(value), (index, value), ha="center", va="bottom")


def _figure(chart: Chart, *, with_text: bool) -> Figure:
    height = SIZE_INCHES[1] + (0.25 * len(chart.lines) + 0.5 if with_text else 0)
    # Imported here, not at the top: the bot process builds `Chart`s but never draws one, so only
    # the chart worker pays for matplotlib (a second to import, tens of MB). The Agg canvas is
    # attached to each Figure by hand: pyplot (and its process-wide backend) is never used.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(SIZE_INCHES[0], height), dpi=DPI)
    FigureCanvasAgg(figure)
    chart_height = SIZE_INCHES[1] / height
    rect = (0.08, 0.15 * chart_height, 0.84, 0.73 * chart_height)
    if chart.points:
        _draw_over_time(figure, chart, rect)
    else:
        _draw_bars(figure, chart, rect)
    if with_text:
        top = 1 - 0.3 / height
        for index, line in enumerate(chart.lines):
            figure.text(0.06, top - index * 0.25 / height, line, fontsize=11, va="top")
    return figure


def render_png(chart: Chart) -> bytes:
    buffer = io.BytesIO()
    _figure(chart, with_text=False).savefig(buffer, format="png")
    return buffer.getvalue()


def render_pdf(chart: Chart) -> bytes:
    """The figures as text and the same chart, on one PDF page (matplotlib's PDF backend)."""
    buffer = io.BytesIO()
    _figure(chart, with_text=True).savefig(buffer, format="pdf")
    return buffer.getvalue()


def load_matplotlib() -> bool:
    """Import what drawing needs, in the chart worker at start-up, so the first report does not wait for it."""
    from matplotlib import dates, figure  # noqa: F401
    from matplotlib.backends import backend_agg, backend_pdf  # noqa: F401

    return True
