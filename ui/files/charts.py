"""Charts of a teacher's competency profile, rendered to PNG bytes.

Headless and thread-safe by construction: no pyplot (global state), only
``matplotlib.figure.Figure`` drawn on its own ``FigureCanvasAgg``. Matplotlib is imported
lazily, so importing this module is cheap and touches no global configuration. Rendering is
CPU-bound (~0.1-0.3 s); call it from handlers through :func:`render_png`, which moves the work
to a worker thread so the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import io
import math
import textwrap
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.projections.polar import PolarAxes
    from matplotlib.text import Text

__all__ = ["comparison_chart", "radar_chart", "render_png"]

MIN_AXES = 3
MAX_AXES = 12
MAX_BARS = 20
SCORE_MIN = 0.0
SCORE_MAX = 100.0

FONT_FAMILY = "DejaVu Sans"  # ships with matplotlib and covers Cyrillic

# Calm teal/blue palette on white.
_INK = "#1f2d3d"  # titles, labels
_MUTED = "#6b7a8a"  # radial tick labels, secondary text
_GRID = "#d5dde5"
_CURRENT = "#13827c"  # teal
_PREVIOUS = "#7f93b0"  # slate blue
_THRESHOLD = "#d0694f"  # soft terracotta: the deficit threshold

RADAR_SIZE_IN = 6.0
RADAR_DPI = 150  # 6 in x 150 dpi = 900 x 900 px
BAR_WIDTH_IN = 7.5
BAR_DPI = 120  # 7.5 in x 120 dpi = 900 px wide

# Matplotlib only promises thread safety per figure; font caches and the Agg backend share a
# little state between figures. Charts are small, so serialising the actual drawing is cheap
# insurance: callers still run in worker threads and never block the event loop.
_RENDER_LOCK = threading.Lock()


# --------------------------------------------------------------------------- validation


def _validate_scores(name: str, values: Sequence[float], expected_len: int) -> list[float]:
    if len(values) != expected_len:
        raise ValueError(
            f"{name} has {len(values)} values but there are {expected_len} labels; "
            "lengths must be equal"
        )
    result: list[float] = []
    for i, raw in enumerate(values):
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{i}] = {raw!r} is not a number") from None
        if math.isnan(value) or not SCORE_MIN <= value <= SCORE_MAX:
            raise ValueError(
                f"{name}[{i}] = {raw!r} is out of range; scores must be within "
                f"{SCORE_MIN:g}..{SCORE_MAX:g}"
            )
        result.append(value)
    return result


def _validate_labels(labels: Sequence[str], low: int, high: int, what: str) -> list[str]:
    if isinstance(labels, str):
        raise ValueError("labels must be a sequence of strings, not a single string")
    if not low <= len(labels) <= high:
        raise ValueError(f"{what} needs {low}..{high} labels, got {len(labels)}")
    return [str(label) for label in labels]


# --------------------------------------------------------------------------- helpers


def _wrap(text: str, width: int, max_lines: int = 2) -> str:
    """Wrap to at most ``max_lines`` lines, widening the lines rather than cutting text."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    while True:
        lines = textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=True)
        if len(lines) <= max_lines:
            return "\n".join(lines)
        width += 1


def _fmt(value: float) -> str:
    return f"{value:.0f}"


def _new_figure(width_in: float, height_in: float, dpi: int) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _fit_inside(
    fig: Figure, texts: Sequence[Text], *, min_size: float, margin_px: float = 6
) -> None:
    """Shrink texts that stick out of the figure (very long words) until they fit."""
    width, height = fig.bbox.width, fig.bbox.height
    for text in texts:
        while True:
            box = text.get_window_extent()
            inside = (
                box.x0 >= margin_px
                and box.x1 <= width - margin_px
                and box.y0 >= margin_px
                and box.y1 <= height - margin_px
            )
            size = float(text.get_fontsize())
            if inside or size <= min_size:
                break
            text.set_fontsize(max(min_size, size - 0.5))


def _layout_radar(
    fig: Figure,
    ax: PolarAxes,
    artists: Sequence[Artist],
    *,
    top_px: float,
    bottom_px: float,
    margin_px: float,
) -> None:
    """Size and centre the polar axes so that the chart (outer ring + labels) fills the safe area."""
    from matplotlib.transforms import Bbox

    fig_w, fig_h = fig.bbox.width, fig.bbox.height
    safe_w = fig_w - 2 * margin_px
    safe_h = top_px - bottom_px
    side_px = min(0.68 * fig_w, safe_h)
    min_side_px = 0.42 * fig_w
    cx, cy = fig_w / 2, (top_px + bottom_px) / 2
    for _ in range(8):
        ax.set_position(
            (
                (cx - side_px / 2) / fig_w,
                (cy - side_px / 2) / fig_h,
                side_px / fig_w,
                side_px / fig_h,
            )
        )
        union = Bbox.union([a.get_window_extent() for a in artists])
        # Centre the whole block (plot + labels) in the safe area.
        cx += fig_w / 2 - (union.x0 + union.x1) / 2
        cy += (top_px + bottom_px) / 2 - (union.y0 + union.y1) / 2
        overflow = max(union.width - safe_w, union.height - safe_h)
        if overflow <= 0 or side_px <= min_side_px:
            break
        side_px = max(min_side_px, side_px - overflow - 2)
    ax.set_position(
        (
            (cx - side_px / 2) / fig_w,
            (cy - side_px / 2) / fig_h,
            side_px / fig_w,
            side_px / fig_h,
        )
    )


def _to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # No bbox_inches="tight": the layout is fixed, so the pixel size is predictable.
    # Empty metadata keeps the output free of the matplotlib version / timestamps.
    fig.savefig(buf, format="png", facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def _title(fig: Figure, title: str, *, y: float, size: float, width: int) -> Text:
    return fig.text(
        0.5,
        y,
        _wrap(title, width, max_lines=2),
        ha="center",
        va="top",
        fontsize=size,
        fontweight="bold",
        color=_INK,
        family=FONT_FAMILY,
        parse_math=False,
        linespacing=1.2,
    )


# --------------------------------------------------------------------------- radar


def radar_chart(
    labels: Sequence[str],
    scores: Sequence[float],
    *,
    title: str,
    threshold: float | None = None,
    previous: Sequence[float] | None = None,
    previous_label: str = "",
    current_label: str = "",
) -> bytes:
    """A 900x900 px radar (spider) chart of scores 0..100, as PNG bytes.

    ``threshold`` draws a dashed circle (the deficit threshold); ``previous`` draws a second,
    dashed polygon (the earlier attempt) and, when labels are given, a legend. Each axis label
    shows the score under it (``previous → current`` when there are two attempts).
    """
    names = _validate_labels(labels, MIN_AXES, MAX_AXES, "a radar chart")
    current = _validate_scores("scores", scores, len(names))
    prev = None if previous is None else _validate_scores("previous", previous, len(names))
    if threshold is not None:
        threshold = _validate_scores("threshold", [threshold], 1)[0]

    with _RENDER_LOCK:
        return _draw_radar(
            names,
            current,
            title=title,
            threshold=threshold,
            previous=prev,
            previous_label=previous_label,
            current_label=current_label,
        )


def _draw_radar(
    names: list[str],
    current: list[float],
    *,
    title: str,
    threshold: float | None,
    previous: list[float] | None,
    previous_label: str,
    current_label: str,
) -> bytes:
    import numpy as np

    n = len(names)
    fig = _new_figure(RADAR_SIZE_IN, RADAR_SIZE_IN, RADAR_DPI)
    has_legend = previous is not None and bool(previous_label or current_label)
    title_text = _title(fig, title, y=0.975, size=14, width=40)

    # Square polar axes; its final size and position are set by _layout_radar once the labels
    # exist and can be measured.
    ax = cast("PolarAxes", fig.add_axes((0.2, 0.2, 0.6, 0.6), projection="polar"))
    ax.set_theta_offset(math.pi / 2)  # first axis points up
    ax.set_theta_direction(-1)  # clockwise
    ax.set_facecolor("white")

    angles = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    closed = np.concatenate([angles, angles[:1]])

    # Radial axis 0..100 with gridlines at 25/50/75/100 drawn as polygons (like the data),
    # which reads better than circles on a radar.
    ax.set_ylim(0, SCORE_MAX)
    ax.set_yticks([])
    ax.set_xticks([])
    ax.grid(False)
    ax.spines["polar"].set_visible(False)
    rings = []
    for level in (25, 50, 75, 100):
        (ring,) = ax.plot(
            closed,
            [level] * (n + 1),
            color=_GRID,
            linewidth=1.3 if level == 100 else 0.9,
            zorder=1,
        )
        rings.append(ring)
        ax.text(
            0.0,
            level,
            f"{level}",
            fontsize=7.5,
            color=_MUTED,
            family=FONT_FAMILY,
            ha="left",
            va="bottom",
            zorder=6,
            parse_math=False,
        )
    for angle in angles:
        ax.plot([angle, angle], [0, SCORE_MAX], color=_GRID, linewidth=0.9, zorder=1)

    if threshold is not None:
        circle = np.linspace(0.0, 2 * math.pi, 241)
        ax.plot(
            circle,
            [threshold] * len(circle),
            color=_THRESHOLD,
            linewidth=1.6,
            linestyle=(0, (5, 4)),
            zorder=3,
        )
        # The threshold value, placed midway between the last and the first axis (the grid
        # values sit just right of the first axis).
        ax.text(
            -math.pi / n,
            threshold,
            _fmt(threshold),
            fontsize=8,
            fontweight="bold",
            color=_THRESHOLD,
            family=FONT_FAMILY,
            ha="center",
            va="center",
            zorder=7,
            parse_math=False,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.9},
        )

    handles = []
    if previous is not None:
        (line_prev,) = ax.plot(
            closed,
            [*previous, previous[0]],
            color=_PREVIOUS,
            linewidth=1.8,
            linestyle=(0, (4, 2.5)),
            marker="o",
            markersize=3.5,
            zorder=4,
            clip_on=False,
            label=previous_label,
        )
        ax.fill(closed, [*previous, previous[0]], color=_PREVIOUS, alpha=0.10, zorder=2)
        handles.append(line_prev)

    (line_cur,) = ax.plot(
        closed,
        [*current, current[0]],
        color=_CURRENT,
        linewidth=2.4,
        marker="o",
        markersize=5,
        zorder=5,
        clip_on=False,
        label=current_label,
    )
    ax.fill(closed, [*current, current[0]], color=_CURRENT, alpha=0.22, zorder=2)
    handles.append(line_cur)

    # Axis labels outside the plot, aligned away from the centre so they never run into it.
    label_size = 10.5 if n <= 8 else 9.5
    label_texts = []
    for angle, name, value, i in zip(angles, names, current, range(n), strict=True):
        # Screen direction of this axis (0 rad = up, clockwise).
        dx, dy = math.sin(angle), math.cos(angle)
        ha = "center" if abs(dx) < 0.15 else ("left" if dx > 0 else "right")
        va = "center" if abs(dy) < 0.15 else ("bottom" if dy > 0 else "top")
        score = _fmt(value) if previous is None else f"{_fmt(previous[i])} → {_fmt(value)}"
        label_text = ax.text(
            angle,
            SCORE_MAX * 1.12,
            f"{_wrap(name, 12)}\n{score}",
            ha=ha,
            va=va,
            fontsize=label_size,
            color=_INK,
            family=FONT_FAMILY,
            linespacing=1.15,
            multialignment="center",
            parse_math=False,
            clip_on=False,
        )
        label_texts.append(label_text)
    legend = None
    if has_legend:
        legend = fig.legend(
            handles=handles,
            labels=[previous_label, current_label],
            loc="lower center",
            bbox_to_anchor=(0.5, 0.015),
            ncol=2,
            frameon=False,
            prop={"family": FONT_FAMILY, "size": 10.5},
            handlelength=2.6,
            columnspacing=2.0,
        )

    # The safe area between the title and the legend, where the plot and its labels must fit.
    gap = 14.0  # px
    top_px = title_text.get_window_extent().y0 - gap
    bottom_px = (legend.get_window_extent().y1 if legend is not None else 0.0) + gap
    _layout_radar(
        fig, ax, [rings[-1], *label_texts], top_px=top_px, bottom_px=bottom_px, margin_px=gap
    )
    _fit_inside(fig, label_texts, min_size=7.0)

    return _to_png(fig)


# --------------------------------------------------------------------------- bars


def comparison_chart(
    labels: Sequence[str],
    before: Sequence[float],
    after: Sequence[float],
    *,
    title: str,
    before_label: str,
    after_label: str,
) -> bytes:
    """Horizontal grouped bars (before vs after) per competency, 900 px wide, as PNG bytes."""
    names = _validate_labels(labels, 1, MAX_BARS, "a comparison chart")
    old = _validate_scores("before", before, len(names))
    new = _validate_scores("after", after, len(names))
    with _RENDER_LOCK:
        return _draw_bars(
            names, old, new, title=title, before_label=before_label, after_label=after_label
        )


def _draw_bars(
    names: list[str],
    before: list[float],
    after: list[float],
    *,
    title: str,
    before_label: str,
    after_label: str,
) -> bytes:
    n = len(names)
    header_in, footer_in, per_row_in = 1.1, 0.55, 0.78
    height_in = header_in + footer_in + per_row_in * n
    fig = _new_figure(BAR_WIDTH_IN, height_in, BAR_DPI)
    _title(fig, title, y=1 - 0.18 / height_in, size=14, width=60)

    left, right = 0.30, 0.95
    ax: Axes = fig.add_axes(
        (left, footer_in / height_in, right - left, (per_row_in * n) / height_in)
    )
    bar_h = 0.34
    ys = list(range(n))
    y_before = [y - bar_h / 2 for y in ys]
    y_after = [y + bar_h / 2 for y in ys]
    bars_before = ax.barh(
        y_before, before, height=bar_h, color=_PREVIOUS, alpha=0.85, label=before_label
    )
    bars_after = ax.barh(y_after, after, height=bar_h, color=_CURRENT, label=after_label)
    for ypos, value, colour in [
        *((y, v, _MUTED) for y, v in zip(y_before, before, strict=True)),
        *((y, v, _CURRENT) for y, v in zip(y_after, after, strict=True)),
    ]:
        ax.text(
            value + 1.2,
            ypos,
            _fmt(value),
            va="center",
            ha="left",
            fontsize=9.5,
            fontweight="bold",
            color=colour,
            family=FONT_FAMILY,
            parse_math=False,
            clip_on=False,
        )

    ax.set_xlim(0, SCORE_MAX)
    ax.set_ylim(n - 0.5, -0.5)  # first competency on top
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_yticks(ys)
    ax.set_yticklabels(
        [_wrap(name, 22, max_lines=3) for name in names],
        family=FONT_FAMILY,
        fontsize=10,
        color=_INK,
        parse_math=False,
    )
    for tick in ax.get_xticklabels():
        tick.set_fontfamily(FONT_FAMILY)
    ax.tick_params(axis="x", labelsize=9, colors=_MUTED, length=0)
    ax.tick_params(axis="y", length=0, pad=8)
    ax.grid(axis="x", color=_GRID, linewidth=0.9)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(_GRID)

    fig.legend(
        handles=[bars_before, bars_after],
        labels=[before_label, after_label],
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.68 / height_in),
        ncol=2,
        frameon=False,
        prop={"family": FONT_FAMILY, "size": 10.5},
    )
    return _to_png(fig)


# --------------------------------------------------------------------------- async


async def render_png(fn: Callable[..., bytes], *args: Any, **kwargs: Any) -> bytes:
    """Run a chart function in a worker thread so the event loop is never blocked.

    ``await render_png(radar_chart, labels, scores, title=...)``
    """
    return await asyncio.to_thread(fn, *args, **kwargs)
