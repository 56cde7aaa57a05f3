"""Pictures: PNG grids with the documented geometry and pixel values, plots, atomic writes."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

import npgen
from npgen.pictures import (
    save_image_grid,
    save_interpolation,
    save_loss_curves,
    save_reconstructions,
    save_scatter_2d,
)


def grid_size(rows: int, cols: int, tile: int, padding: int = 2) -> tuple[int, int]:
    """(width, height) of a grid: padding around and between tiles."""
    return padding + cols * (tile + padding), padding + rows * (tile + padding)


def test_digit_grid_is_upscaled_to_at_least_512_pixels(tmp_path):
    images = np.random.default_rng(0).uniform(size=(10, 1, 8, 8)).astype(np.float32)
    path = save_image_grid(images, tmp_path / "deep" / "folder" / "grid.png")
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.mode == "L"
        # ceil(sqrt(10)) = 4 per row; 4 tiles of 8 pixels reach 512 at scale 16
        assert picture.size == grid_size(rows=3, cols=4, tile=128)
        pixels = np.asarray(picture)
    # Image 5 sits in row 1, column 1; each source pixel is a 16x16 block.
    top, left = 2 + 130, 2 + 130
    tile = pixels[top:top + 128, left:left + 128]
    np.testing.assert_array_equal(tile, np.round(images[5, 0] * 255).astype(np.uint8)
                                  .repeat(16, axis=0).repeat(16, axis=1))
    assert pixels[0, 0] == 128 and pixels[top - 1, left] == 128  # gray padding
    assert os.listdir(path.parent) == ["grid.png"]


def test_an_8x8_grid_of_digits_is_512_pixels_wide_and_captioned(tmp_path):
    images = np.zeros((64, 1, 8, 8))
    plain = save_image_grid(images, tmp_path / "plain.png", nrow=8)
    titled = save_image_grid(images, tmp_path / "titled.png", nrow=8, title="samples, epoch 3")
    with Image.open(plain) as a, Image.open(titled) as b:
        assert a.size == grid_size(rows=8, cols=8, tile=64) and a.width >= 512
        assert b.width == a.width and b.height > a.height  # a caption strip on top
        caption = np.asarray(b)[: b.height - a.height]
    assert (caption < 128).any() and (caption == 255).any()  # dark text on white


def test_rgb_grid_with_value_range_and_explicit_layout(tmp_path):
    images = np.zeros((2, 3, 4, 5))
    images[0, 0] = 1.0  # red in [-1, 1] units
    images[1, 2] = -1.0  # blue channel at the low end
    path = save_image_grid(images, tmp_path / "rgb.png", nrow=1, scale=3, padding=1,
                           value_range=(-1.0, 1.0))
    with Image.open(path) as picture:
        assert picture.mode == "RGB"
        assert picture.size == (1 + 5 * 3 + 1, 1 + 2 * (4 * 3 + 1))  # tiles 15 wide, 12 tall
        pixels = np.asarray(picture)
    np.testing.assert_array_equal(pixels[1, 1], [255, 128, 128])  # 0 maps to mid-gray 128
    np.testing.assert_array_equal(pixels[1 + 13, 1], [128, 128, 0])
    assert (pixels[0] == 128).all()  # padding row


def test_grids_accept_backend_arrays(tmp_path):
    with npgen.use_backend("array_api_strict", "device1"):
        images = npgen.asarray(np.ones((4, 1, 8, 8)), dtype="float32")
        path = save_image_grid(images, tmp_path / "strict.png", scale=1)
    with Image.open(path) as picture:
        assert picture.size == grid_size(2, 2, 8)


def test_reconstructions_alternate_rows(tmp_path):
    inputs = np.zeros((10, 1, 8, 8))
    outputs = np.ones((10, 1, 8, 8))
    path = save_reconstructions(inputs, outputs, tmp_path / "recon.png", ncol=4)
    with Image.open(path) as picture:
        assert picture.size == grid_size(rows=6, cols=4, tile=128)
        pixels = np.asarray(picture)
    row_values = [pixels[2 + r * 130 + 64, 2 + 64] for r in range(6)]
    assert row_values == [0, 255, 0, 255, 0, 255]
    assert pixels[2 + 4 * 130 + 64, 2 + 2 * 130 + 64] == 128  # blank cell after image 9
    labelled = save_reconstructions(inputs, outputs, tmp_path / "labelled.png", ncol=4,
                                    row_labels=("input", "recon."), title="epoch 1")
    with Image.open(labelled) as picture:
        assert picture.width > grid_size(6, 4, 128)[0]  # a label column on the left
        assert picture.height > grid_size(6, 4, 128)[1]  # and a title strip on top
    with pytest.raises(ValueError, match="same shape"):
        save_reconstructions(inputs, outputs[:3], tmp_path / "bad.png")


def test_interpolation_strip(tmp_path):
    strips = np.linspace(0.0, 1.0, 7)[None, :, None, None, None] * np.ones((3, 7, 1, 8, 8))
    path = save_interpolation(strips, tmp_path / "interp.png")
    with Image.open(path) as picture:
        assert picture.size == grid_size(rows=3, cols=7, tile=80)  # 7 * 80 >= 512
        pixels = np.asarray(picture)
    middle = [pixels[2 + 40, 2 + c * 82 + 40] for c in range(7)]
    assert middle == sorted(middle) and middle[0] == 0 and middle[-1] == 255
    as_list = save_interpolation(list(strips), tmp_path / "interp_list.png")
    assert as_list.read_bytes() == path.read_bytes()


def test_bad_image_shapes_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        save_image_grid(np.zeros((4, 8, 8)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="C in"):
        save_image_grid(np.zeros((4, 2, 8, 8)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="value_range"):
        save_image_grid(np.zeros((1, 1, 8, 8)), tmp_path / "x.png", value_range=(1, 1))
    assert not (tmp_path / "x.png").exists()


def test_loss_curves_and_scatter_are_pngs(tmp_path):
    history = {"generator": [2.0, 1.5, 1.2, 1.1], "discriminator": [0.7, 0.69, float("nan")]}
    curves = save_loss_curves(history, tmp_path / "plots" / "loss.png", title="losses")
    modes = 2.0 * np.c_[np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)]
    samples = np.random.default_rng(1).normal(size=(300, 2))
    scatter = save_scatter_2d(samples, modes, tmp_path / "plots" / "scatter.png",
                              real_samples=modes + 0.01)
    for path in (curves, scatter):
        with Image.open(path) as picture:
            picture.verify()
            assert picture.format == "PNG" and min(picture.size) >= 300
    assert sorted(os.listdir(tmp_path / "plots")) == ["loss.png", "scatter.png"]
    with pytest.raises(ValueError, match="non-empty"):
        save_loss_curves({}, tmp_path / "empty.png")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        save_scatter_2d(np.zeros((5, 3)), modes, tmp_path / "bad.png")
