"""Charts of a statistics report (issue #11), rendered to PNG bytes: the indicators against
their targets, the deficit heatmap, the weekly trend.

Like `ui.files.charts`: no pyplot and no aiogram; each chart is its own
`matplotlib.figure.Figure` on an Agg canvas, drawn under the shared render lock, with DejaVu
Sans (it has Cyrillic). Every text comes in already translated; shares are 0..1 and None
where unknown (drawn as "—").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ui.files.charts import (
    _CURRENT,
    _GRID,
    _INK,
    _MUTED,
    _RENDER_LOCK,
    _THRESHOLD,
    FONT_FAMILY,
    _new_figure,
    _title,
    _to_png,
    _wrap,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "MAX_HEATMAP_COLUMNS",
    "MAX_HEATMAP_ROWS",
    "deficit_heatmap",
    "indicator_bars",
    "trend_lines",
]

WIDTH_IN = 7.5
DPI = 120  # 900 px wide
MAX_HEATMAP_ROWS = 20
MAX_HEATMAP_COLUMNS = 25
#: line colours of the trend, one per indicator
_SERIES = ("#13827c", "#3b6fb6", "#d0694f", "#8a5cb8", "#c59a1a", "#5a8f3e")
_EMPTY = "#eef1f4"


def _share(value: float | None, what: str) -> float | None:
    if value is None:
        return None
    number = float(value)
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise ValueError(f"{what} = {value!r}: a share must be within 0..1")
    return number


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _style_axes(ax: Axes) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(_GRID)
    ax.set_axisbelow(True)
    for tick in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        tick.set_fontfamily(FONT_FAMILY)


# --------------------------------------------------------------------------- indicators


def indicator_bars(
    labels: Sequence[str],
    shares: Sequence[float | None],
    targets: Sequence[float | None],
    *,
    title: str,
    target_label: str,
) -> bytes:
    """Horizontal bars of the indicators' shares (in %), each target a red mark across its
    bar; 900 px wide."""
    if not labels or not len(labels) == len(shares) == len(targets):
        raise ValueError("labels, shares and targets must be non-empty and of equal length")
    values = [_share(v, f"shares[{i}]") for i, v in enumerate(shares)]
    goals = [_share(v, f"targets[{i}]") for i, v in enumerate(targets)]
    with _RENDER_LOCK:
        return _draw_bars([str(x) for x in labels], values, goals, title, target_label)


def _draw_bars(
    labels: list[str],
    values: list[float | None],
    goals: list[float | None],
    title: str,
    target_label: str,
) -> bytes:
    n = len(labels)
    header_in, footer_in, per_row_in = 1.1, 0.5, 0.7
    height_in = header_in + footer_in + per_row_in * n
    fig = _new_figure(WIDTH_IN, height_in, DPI)
    _title(fig, title, y=1 - 0.18 / height_in, size=14, width=60)
    ax = fig.add_axes((0.36, footer_in / height_in, 0.56, per_row_in * n / height_in))
    ys = list(range(n))
    ax.barh(ys, [(v or 0.0) * 100 for v in values], height=0.55, color=_CURRENT)
    for y, value in zip(ys, values, strict=True):
        ax.text(
            (value or 0.0) * 100 + 1.5,
            y,
            _percent(value),
            va="center",
            ha="left",
            fontsize=10,
            fontweight="bold",
            color=_INK if value is not None else _MUTED,
            family=FONT_FAMILY,
            parse_math=False,
            clip_on=False,
        )
    marks = [(y, g) for y, g in zip(ys, goals, strict=True) if g is not None]
    handles = []
    for y, goal in marks:
        (line,) = ax.plot(
            [goal * 100, goal * 100], [y - 0.4, y + 0.4], color=_THRESHOLD, linewidth=2.5
        )
        handles = [line]
    ax.set_xlim(0, 100)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"])
    ax.set_yticks(ys)
    ax.set_yticklabels(
        [_wrap(label, 28, max_lines=3) for label in labels],
        family=FONT_FAMILY,
        fontsize=10,
        color=_INK,
        parse_math=False,
    )
    ax.tick_params(axis="x", labelsize=9, colors=_MUTED, length=0)
    ax.tick_params(axis="y", length=0, pad=8)
    ax.grid(axis="x", color=_GRID, linewidth=0.9)
    _style_axes(ax)
    if handles:
        fig.legend(
            handles=handles,
            labels=[target_label],
            loc="upper center",
            bbox_to_anchor=(0.5, 1 - 0.7 / height_in),
            frameon=False,
            prop={"family": FONT_FAMILY, "size": 10},
        )
    return _to_png(fig)


# --------------------------------------------------------------------------- heatmap


def deficit_heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
) -> bytes:
    """Competencies (rows) × schools or municipalities (columns), each cell the share of the
    column's diagnosed teachers with that deficit, annotated; an empty cell (no diagnosed
    teachers) is grey with "—". At most `MAX_HEATMAP_ROWS` × `MAX_HEATMAP_COLUMNS`."""
    if not rows or not columns:
        raise ValueError("a heatmap needs at least one row and one column")
    if len(rows) > MAX_HEATMAP_ROWS or len(columns) > MAX_HEATMAP_COLUMNS:
        raise ValueError(
            f"at most {MAX_HEATMAP_ROWS} rows and {MAX_HEATMAP_COLUMNS} columns, "
            f"got {len(rows)} × {len(columns)}"
        )
    if len(values) != len(rows) or any(len(line) != len(columns) for line in values):
        raise ValueError("values must have one row per label and one cell per column")
    grid = [
        [_share(v, f"values[{r}][{c}]") for c, v in enumerate(line)]
        for r, line in enumerate(values)
    ]
    with _RENDER_LOCK:
        return _draw_heatmap([str(r) for r in rows], [str(c) for c in columns], grid, title)


def _draw_heatmap(
    rows: list[str], columns: list[str], grid: list[list[float | None]], title: str
) -> bytes:
    import numpy as np
    from matplotlib import colormaps

    n_rows, n_cols = len(rows), len(columns)
    cell_w = min(0.9, 5.2 / n_cols)
    width_in = max(WIDTH_IN, 2.9 + cell_w * n_cols + 0.3)
    header_in, footer_in, per_row_in = 0.75, 1.6, 0.5
    height_in = header_in + footer_in + per_row_in * n_rows
    fig = _new_figure(width_in, height_in, DPI)
    _title(fig, title, y=1 - 0.15 / height_in, size=14, width=60)
    # the labels (2.9 in) and the cells, centred
    left = ((width_in - (2.9 + cell_w * n_cols + 0.3)) / 2 + 2.9) / width_in
    ax = fig.add_axes(
        (left, footer_in / height_in, cell_w * n_cols / width_in, per_row_in * n_rows / height_in)
    )
    data = np.ma.masked_invalid(
        np.array([[np.nan if v is None else v * 100 for v in line] for line in grid], dtype=float)
    )
    cmap = colormaps["YlOrRd"].with_extremes(bad=_EMPTY)
    ax.imshow(data, cmap=cmap, vmin=0, vmax=100, aspect="auto", interpolation="nearest")
    for r, line in enumerate(grid):
        for c, value in enumerate(line):
            dark = value is not None and value >= 0.6
            ax.text(
                c,
                r,
                _percent(value),
                ha="center",
                va="center",
                fontsize=8.5 if n_cols <= 12 else 7,
                color="white" if dark else (_INK if value is not None else _MUTED),
                family=FONT_FAMILY,
                parse_math=False,
            )
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels(
        [_wrap(c, 18, max_lines=2) for c in columns],
        rotation=40,
        ha="right",
        rotation_mode="anchor",
        fontsize=8.5,
        color=_INK,
        family=FONT_FAMILY,
        parse_math=False,
    )
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(
        [_wrap(r, 30, max_lines=2) for r in rows],
        fontsize=9,
        color=_INK,
        family=FONT_FAMILY,
        parse_math=False,
    )
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return _to_png(fig)


# --------------------------------------------------------------------------- trend


def trend_lines(
    weeks: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
) -> bytes:
    """One line per indicator over the weeks (oldest first), shares in %; a week without a
    value leaves a gap."""
    if not weeks or not series:
        raise ValueError("a trend needs at least one week and one line")
    lines = []
    for name, values in series:
        if len(values) != len(weeks):
            raise ValueError(f"{name!r}: {len(values)} values for {len(weeks)} weeks")
        lines.append((str(name), [_share(v, name) for v in values]))
    with _RENDER_LOCK:
        return _draw_trend([str(w) for w in weeks], lines, title)


def _draw_trend(weeks: list[str], lines: list[tuple[str, list[float | None]]], title: str) -> bytes:
    height_in = 5.6
    fig = _new_figure(WIDTH_IN, height_in, DPI)
    _title(fig, title, y=1 - 0.15 / height_in, size=14, width=60)
    ax = fig.add_axes((0.09, 0.36, 0.86, 0.5))
    xs = list(range(len(weeks)))
    for i, (name, values) in enumerate(lines):
        ys = [math.nan if v is None else v * 100 for v in values]
        ax.plot(
            xs,
            ys,
            color=_SERIES[i % len(_SERIES)],
            linewidth=2.2,
            marker="o",
            markersize=4,
            label=_wrap(name, 34, max_lines=2),
        )
    ax.set_ylim(0, 100)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_yticklabels(["0%", "25%", "50%", "75%", "100%"])
    ax.set_xticks(xs)
    ax.set_xticklabels(weeks, fontsize=8.5, color=_INK)
    ax.tick_params(axis="both", labelsize=8.5, colors=_MUTED, length=0)
    ax.grid(axis="y", color=_GRID, linewidth=0.9)
    _style_axes(ax)
    fig.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 0.01),
        ncol=2,
        frameon=False,
        prop={"family": FONT_FAMILY, "size": 9},
    )
    return _to_png(fig)
