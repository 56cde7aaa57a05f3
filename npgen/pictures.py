"""Pictures of a run: image grids (Pillow) and plots (matplotlib, Agg backend).

Every function takes host data (arrays of any npgen backend are copied to the
host with ``npgen.to_numpy`` on entry), creates the parent folders of
``path`` and writes the PNG atomically (temporary file, then ``os.replace``),
so a viewer never sees half a picture. matplotlib is imported only inside the
plotting functions, and only its object-oriented API is used (no pyplot
state, no display needed).

Grids are upscaled by nearest-neighbour repetition until they are at least
512 pixels wide (an 8x8 digit becomes a 64x64 block), and take an optional
``title`` drawn in a caption strip above them; reconstructions also label
their rows (input / reconstruction).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from npgen.backend import to_numpy
from npgen.checkpoint import atomic_write

__all__ = ["save_image_grid", "save_interpolation", "save_loss_curves",
           "save_reconstructions", "save_scatter_2d", "tile_images"]

MIN_TILE_PIXELS = 32  # default upscaling makes every tile at least this tall and wide
MIN_GRID_PIXELS = 512  # ... and every grid at least this wide
CAPTION_PIXELS = 18  # font size of titles and row labels


def _host_images(where: str, images, name: str = "images") -> np.ndarray:
    """``images`` as a float64 host array ``(N, C, H, W)`` with C in {1, 3}."""
    host = np.asarray(to_numpy(images), dtype=np.float64)  # the one crossing to the host
    if host.ndim != 4 or host.shape[1] not in (1, 3) or host.shape[0] == 0:
        raise ValueError(f"{where}: expected {name} of shape (N, C, H, W) with N >= 1 and "
                         f"C in {{1, 3}}; got shape {host.shape}")
    return host


def _to_uint8(where: str, images: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Map ``value_range`` linearly onto 0..255 (values outside are clipped)."""
    low, high = value_range
    if not high > low:
        raise ValueError(f"{where}: value_range must be (low, high) with high > low; "
                         f"got {value_range}")
    unit = np.clip((images - low) / (high - low), 0.0, 1.0)
    return np.round(unit * 255.0).astype(np.uint8)


def tile_images(rows: Sequence[Sequence[np.ndarray | None]], *, scale: int, padding: int,
                pad_value: int) -> np.ndarray:
    """Lay out uint8 tiles ``(C, H, W)`` in rows; None leaves a blank cell.

    Returns an ``(H_grid, W_grid, C)`` uint8 canvas with ``padding`` pixels
    around and between the tiles, each tile upscaled ``scale`` times by
    nearest-neighbour repetition.
    """
    first = next(tile for row in rows for tile in row if tile is not None)
    channels, height, width = first.shape
    tile_h, tile_w = height * scale, width * scale
    n_cols = max(len(row) for row in rows)
    canvas = np.full((padding + len(rows) * (tile_h + padding),
                      padding + n_cols * (tile_w + padding), channels), pad_value, np.uint8)
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            if tile is None:
                continue
            big = tile.repeat(scale, axis=1).repeat(scale, axis=2)  # (C, tile_h, tile_w)
            top, left = padding + r * (tile_h + padding), padding + c * (tile_w + padding)
            canvas[top:top + tile_h, left:left + tile_w] = big.transpose(1, 2, 0)  # (h, w, C)
    return canvas


def _default_scale(images: np.ndarray, n_cols: int) -> int:
    """Smallest factor making tiles >= MIN_TILE_PIXELS and the grid >= MIN_GRID_PIXELS wide."""
    height, width = images.shape[2], images.shape[3]
    return max(1, math.ceil(MIN_TILE_PIXELS / max(height, width)),
               math.ceil(MIN_GRID_PIXELS / (n_cols * width)))


def _font():
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=CAPTION_PIXELS)
    except TypeError:  # pragma: no cover - Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def _captioned(picture, title: str | None, row_labels=None, row_pitch: int = 0,
               padding: int = 0):
    """``picture`` with ``title`` in a white strip above and ``row_labels`` (one per row,
    cycled) in a white column on the left; unchanged when both are None."""
    from PIL import Image, ImageDraw

    if title is None and row_labels is None:
        return picture
    font, line = _font(), CAPTION_PIXELS + 10
    measure = ImageDraw.Draw(picture)
    left = 0 if row_labels is None else 12 + max(
        int(measure.textlength(label, font=font)) for label in row_labels)
    top = 0 if title is None else line
    white = 255 if picture.mode == "L" else (255, 255, 255)
    framed = Image.new(picture.mode, (picture.width + left, picture.height + top), white)
    framed.paste(picture, (left, top))
    draw = ImageDraw.Draw(framed)
    if title is not None:
        draw.text((6, 5), title, fill=0 if picture.mode == "L" else (0, 0, 0), font=font)
    if row_labels is not None:
        rows = (picture.height - padding) // row_pitch
        for r in range(rows):
            middle = top + padding + r * row_pitch + (row_pitch - padding) // 2
            draw.text((6, middle), row_labels[r % len(row_labels)], anchor="lm", font=font,
                      fill=0 if picture.mode == "L" else (0, 0, 0))
    return framed


def _write_png(canvas: np.ndarray, path: str | Path, title: str | None = None,
               row_labels=None, row_pitch: int = 0, padding: int = 0) -> Path:
    """Save an ``(H, W, C)`` uint8 canvas as a gray (C=1) or RGB (C=3) PNG, atomically."""
    from PIL import Image

    picture = Image.fromarray(canvas[:, :, 0] if canvas.shape[2] == 1 else canvas)
    picture = _captioned(picture, title, row_labels, row_pitch, padding)
    with atomic_write(path) as handle:
        picture.save(handle, format="PNG")
    return Path(path)


def _grid_rows(tiles: np.ndarray, n_cols: int) -> list[list[np.ndarray | None]]:
    """Split ``(N, C, H, W)`` tiles into rows of ``n_cols``, padding the last with None."""
    rows = [list(tiles[i:i + n_cols]) for i in range(0, tiles.shape[0], n_cols)]
    rows[-1] += [None] * (n_cols - len(rows[-1]))
    return rows


def save_image_grid(images, path: str | Path, *, nrow: int | None = None,
                    scale: int | None = None, padding: int = 2,
                    value_range: tuple[float, float] = (0.0, 1.0),
                    pad_value: float = 0.5, title: str | None = None) -> Path:
    """Save images ``(N, C, H, W)`` (C = 1 or 3) as one PNG grid.

    Parameters
    ----------
    nrow : int or None
        Images per row (as in torchvision's ``make_grid``); ``ceil(sqrt(N))``
        if None.
    scale : int or None
        Nearest-neighbour upscaling factor; by default the smallest one that
        makes tiles at least 32 pixels and the grid at least 512 pixels wide
        (8 columns of 8x8 digits become 64x64 tiles).
    padding : int
        Pixels between and around tiles.
    value_range : (float, float)
        Values mapped to black and white; outside values are clipped
        (use ``(-1, 1)`` for tanh outputs).
    pad_value : float
        Gray level of the padding, in units of ``value_range`` mapped to [0, 1].
    title : str or None
        Caption drawn above the grid.
    """
    host = _host_images("save_image_grid", images)
    n_cols = nrow or math.ceil(math.sqrt(host.shape[0]))
    tiles = _to_uint8("save_image_grid", host, value_range)
    canvas = tile_images(_grid_rows(tiles, n_cols),
                         scale=scale or _default_scale(host, n_cols),
                         padding=padding, pad_value=round(255 * pad_value))
    return _write_png(canvas, path, title)


def save_reconstructions(inputs, reconstructions, path: str | Path, *, ncol: int = 8,
                         scale: int | None = None, padding: int = 2,
                         value_range: tuple[float, float] = (0.0, 1.0),
                         title: str | None = None,
                         row_labels: tuple[str, str] | None = None) -> Path:
    """Save inputs and their reconstructions as alternating rows.

    Row 2k shows inputs ``k*ncol .. (k+1)*ncol - 1`` and row 2k+1 their
    reconstructions, each directly below its input. ``row_labels``, e.g.
    ``("input", "reconstruction")``, are written left of the rows, and ``title``
    above them.
    """
    host_in = _host_images("save_reconstructions", inputs, "inputs")
    host_out = _host_images("save_reconstructions", reconstructions, "reconstructions")
    if host_in.shape != host_out.shape:
        raise ValueError(f"save_reconstructions: inputs {host_in.shape} and reconstructions "
                         f"{host_out.shape} must have the same shape")
    n_cols = min(ncol, host_in.shape[0])
    rows_in = _grid_rows(_to_uint8("save_reconstructions", host_in, value_range), n_cols)
    rows_out = _grid_rows(_to_uint8("save_reconstructions", host_out, value_range), n_cols)
    rows = [row for pair in zip(rows_in, rows_out) for row in pair]
    scale = scale or _default_scale(host_in, n_cols)
    canvas = tile_images(rows, scale=scale, padding=padding, pad_value=128)
    return _write_png(canvas, path, title, row_labels, host_in.shape[2] * scale + padding,
                      padding)


def save_interpolation(rows_of_images, path: str | Path, *, scale: int | None = None,
                       padding: int = 2, value_range: tuple[float, float] = (0.0, 1.0),
                       title: str | None = None) -> Path:
    """Save latent interpolations, one row per path in latent space.

    ``rows_of_images`` is an ``(R, S, C, H, W)`` array or a list of R arrays
    ``(S, C, H, W)``. Each row is a sequence of decoded points along a path in latent space
    (e.g. ``decode((1 - t) z_a + t z_b)`` for t in ``linspace(0, 1, S)``).
    """
    if hasattr(rows_of_images, "shape"):  # one (R, S, C, H, W) array of any backend
        rows_of_images = to_numpy(rows_of_images)
    rows = [_host_images("save_interpolation", row, f"row {r}")
            for r, row in enumerate(rows_of_images)]
    if not rows or len({row.shape[1:] for row in rows}) != 1:
        raise ValueError("save_interpolation: expected one or more rows of images with one "
                         f"shared (C, H, W); got shapes {[row.shape for row in rows]}")
    tiles = [list(_to_uint8("save_interpolation", row, value_range)) for row in rows]
    n_cols = max(len(row) for row in tiles)
    canvas = tile_images(tiles, scale=scale or _default_scale(rows[0], n_cols),
                         padding=padding, pad_value=128)
    return _write_png(canvas, path, title)


# ----------------------------------------------------------------------------
# Plots (matplotlib, imported lazily)
# ----------------------------------------------------------------------------


def _figure(width: float = 6.0, height: float = 4.0):
    """A matplotlib Figure on an Agg canvas (no pyplot, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save_figure(figure, path: str | Path) -> Path:
    figure.tight_layout()
    with atomic_write(path) as handle:
        figure.savefig(handle, format="png")
    return Path(path)


def save_loss_curves(history: Mapping[str, Sequence[float]], path: str | Path, *,
                     title: str | None = None, xlabel: str = "step",
                     ylabel: str = "loss", log_y: bool = False) -> Path:
    """Plot several series (e.g. ``{"generator": [...], "discriminator": [...]}``) vs their index.

    Series may have different lengths; each is drawn against ``0 .. len - 1``.
    Non-finite values are left as gaps.
    """
    if not history or not all(len(values) for values in history.values()):
        raise ValueError("save_loss_curves: expected a non-empty dict of non-empty series; got "
                         f"{ {name: len(values) for name, values in history.items()} }")
    figure = _figure()
    axes = figure.add_subplot()
    for name, values in history.items():
        series = np.asarray(to_numpy(values), dtype=np.float64).reshape(-1)  # (T,)
        axes.plot(np.arange(series.shape[0]), series, label=str(name), linewidth=1.2)
    if log_y:
        axes.set_yscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend()
    if title:
        axes.set_title(title)
    return _save_figure(figure, path)


def _points(where: str, points, name: str) -> np.ndarray:
    host = np.asarray(to_numpy(points), dtype=np.float64)
    if host.ndim != 2 or host.shape[1] != 2:
        raise ValueError(f"{where}: expected {name} of shape (N, 2); got {host.shape}")
    return host


def _scatter_layers(axes, fake, modes, real, mode_radius) -> None:
    """Real points (gray, bottom), hollow red mode circles, generated points (blue, top)."""
    from matplotlib.patches import Circle

    if real is not None:
        axes.scatter(real[:, 0], real[:, 1], s=5, c="0.35", alpha=0.5, linewidths=0, zorder=1)
    if mode_radius is not None:
        for mode in modes:
            axes.add_patch(Circle(mode, mode_radius, fill=False, ec="tab:red", lw=1.5, zorder=2))
    else:
        axes.scatter(modes[:, 0], modes[:, 1], s=160, facecolors="none", edgecolors="tab:red",
                     linewidths=1.5, zorder=2)
    axes.scatter(fake[:, 0], fake[:, 1], s=8, c="tab:blue", alpha=0.3, linewidths=0, zorder=3)


def _zoom_on_a_mode(axes, fake, modes, real, mode_radius) -> None:
    """An inset in the middle of the plot magnifying the first mode (the tight clusters
    of a good generator hide the real points at full scale)."""
    half = 2.5 * mode_radius
    inset = axes.inset_axes([0.34, 0.34, 0.32, 0.32])
    _scatter_layers(inset, fake, modes, real, mode_radius)
    inset.set_xlim(modes[0, 0] - half, modes[0, 0] + half)
    inset.set_ylim(modes[0, 1] - half, modes[0, 1] + half)
    inset.set_aspect("equal")
    inset.tick_params(labelsize=7)
    inset.set_title(f"zoom on the mode at ({modes[0, 0]:.2g}, {modes[0, 1]:.2g})", fontsize=8)


def save_scatter_2d(samples, real_modes, path: str | Path, *, real_samples=None,
                    title: str | None = None, limits: tuple[float, float] | None = None,
                    mode_radius: float | None = None) -> Path:
    """Scatter generated 2-D points over the modes of the real mixture.

    ``samples`` is ``(N, 2)``, ``real_modes`` ``(M, 2)``; ``real_samples``
    ``(N_real, 2)``, if given, are drawn first in gray. Each mode is a hollow
    red circle (of radius ``mode_radius`` in data units if given, e.g. the
    3-standard-deviation zone of a high-quality sample, and then an inset
    magnifies one mode), drawn under the semi-transparent generated points, so
    all three layers stay visible. ``limits`` fixes both axes to ``(low, high)``;
    by default they fit the modes with a margin, so pictures of successive
    epochs line up.
    """
    from matplotlib.lines import Line2D

    fake = _points("save_scatter_2d", samples, "samples")
    modes = _points("save_scatter_2d", real_modes, "real_modes")
    real = None if real_samples is None else _points("save_scatter_2d", real_samples,
                                                       "real_samples")
    figure = _figure(6.0, 6.6)
    axes = figure.add_subplot()
    _scatter_layers(axes, fake, modes, real, mode_radius)
    if mode_radius is not None:
        _zoom_on_a_mode(axes, fake, modes, real, mode_radius)
    handles = [] if real is None else [
        Line2D([], [], ls="", marker="o", color="0.35", label="real data")]
    handles += [Line2D([], [], ls="", marker="o", mfc="none", mec="tab:red", ms=10,
                       label="modes" + (" (3 std circle)" if mode_radius is not None else "")),
                Line2D([], [], ls="", marker="o", color="tab:blue", label="generated")]
    if limits is None:
        margin = 0.25 * max(1.0, float(np.abs(modes).max()))
        limits = (float(modes.min()) - margin, float(modes.max()) + margin)
    axes.set_xlim(*limits)
    axes.set_ylim(*limits)
    axes.set_aspect("equal")
    axes.set_xlabel("x1")
    axes.set_ylabel("x2")
    axes.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3,
                frameon=False)
    if title:
        axes.set_title(title, fontsize=10)
    return _save_figure(figure, path)
