"""Host-side data: IDX and CIFAR-10 readers on files written here, digits, toy 2-D, batches."""

from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest

import npgen
from npgen.data import (
    IDX_FILES,
    iterate_batches,
    load_dataset,
    load_toy2d,
    num_batches,
    read_cifar_batch,
    read_idx,
)

# ----------------------------------------------------------------------------
# Writers of tiny data files, independent of the readers
# ----------------------------------------------------------------------------


def idx_bytes(values: np.ndarray) -> bytes:
    """IDX encoding of an unsigned-byte array: 0x0000, type 0x08, rank, big-endian dims."""
    header = bytes([0, 0, 0x08, values.ndim]) + struct.pack(f">{values.ndim}I", *values.shape)
    return header + values.astype(np.uint8).tobytes()


def write_mnist(folder, rng, *, gz: bool, n_train: int = 5, n_test: int = 3, size=(28, 28)):
    folder.mkdir(parents=True, exist_ok=True)
    content = {
        "train_images": rng.integers(0, 256, size=(n_train, *size), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(n_test, *size), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    for key, values in content.items():
        data = idx_bytes(values)
        if gz:
            (folder / f"{IDX_FILES[key]}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / IDX_FILES[key]).write_bytes(data)
    return content


def write_cifar(folder, rng, *, n: int = 2, protocol: int = 2):
    folder.mkdir(parents=True, exist_ok=True)
    content = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=n)]
        with open(folder / name, "wb") as handle:
            pickle.dump({b"batch_label": b"x", b"data": data, b"labels": labels}, handle,
                        protocol=protocol)
        content[name] = (data, labels)
    return content


# ----------------------------------------------------------------------------
# MNIST / Fashion-MNIST
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_loader_reads_pixels_and_labels(tmp_path, gz, name):
    content = write_mnist(tmp_path, np.random.default_rng(1), gz=gz)
    data = load_dataset(f"{name}:{tmp_path}")
    assert data.name == name and data.kind == "image" and data.image_shape == (1, 28, 28)
    assert data.train.shape == (5, 1, 28, 28) and data.test.shape == (3, 1, 28, 28)
    assert data.train.dtype == np.float32 and data.train_labels.dtype == np.int64
    np.testing.assert_array_equal(data.train[:, 0] * 255.0,
                                  content["train_images"].astype(np.float32))
    np.testing.assert_array_equal(data.test_labels, content["test_labels"])
    np.testing.assert_array_equal(data.train_labels, content["train_labels"])


def test_idx_loader_finds_torchvision_layout_and_dotted_names(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", np.random.default_rng(2), gz=True)
    assert load_dataset(f"mnist:{tmp_path}").train.shape == (5, 1, 28, 28)
    other = tmp_path / "kaggle"
    write_mnist(other, np.random.default_rng(3), gz=False, size=(4, 6))
    for path in list(other.iterdir()):  # train-images.idx3-ubyte spelling
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    assert load_dataset(f"mnist:{other}").train.shape == (5, 1, 4, 6)


def test_idx_missing_file_lists_expected_names(tmp_path):
    write_mnist(tmp_path, np.random.default_rng(4), gz=False)
    (tmp_path / IDX_FILES["test_labels"]).unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_dataset(f"mnist:{tmp_path}")
    message = str(info.value)
    assert all(stem in message for stem in IDX_FILES.values())
    assert "LeCun" in message and "never downloads" in message
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(f"fashion-mnist:{tmp_path / 'nowhere'}")


def test_idx_truncated_and_corrupted_files_are_value_errors(tmp_path):
    write_mnist(tmp_path, np.random.default_rng(5), gz=False)
    images = tmp_path / IDX_FILES["train_images"]
    images.write_bytes(images.read_bytes()[:-7])
    with pytest.raises(ValueError, match="truncated") as info:
        load_dataset(f"mnist:{tmp_path}")
    assert str(images) in str(info.value)
    broken = tmp_path / "broken-idx3-ubyte.gz"
    broken.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 40)[:-10])
    with pytest.raises(ValueError, match="cannot be read"):
        read_idx(broken)
    not_idx = tmp_path / "not-idx"
    not_idx.write_bytes(b"PK\x03\x04 hello")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(not_idx)


def test_idx_wrong_magic_and_count_mismatch(tmp_path):
    content = write_mnist(tmp_path, np.random.default_rng(6), gz=False)
    labels = tmp_path / IDX_FILES["train_labels"]
    labels.write_bytes(idx_bytes(content["train_images"]))  # a rank-3 file in the labels slot
    with pytest.raises(ValueError, match="0x00000801"):
        load_dataset(f"mnist:{tmp_path}")
    labels.write_bytes(idx_bytes(content["train_labels"][:4]))
    with pytest.raises(ValueError, match="5 images but .* 4 labels"):
        load_dataset(f"mnist:{tmp_path}")


# ----------------------------------------------------------------------------
# CIFAR-10
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize("subfolder", [False, True])
def test_cifar_loader_reads_planes_in_rgb_order(tmp_path, protocol, subfolder):
    folder = tmp_path / "cifar-10-batches-py" if subfolder else tmp_path
    content = write_cifar(folder, np.random.default_rng(7), protocol=protocol)
    data = load_dataset(f"cifar10:{tmp_path}")
    assert data.train.shape == (10, 3, 32, 32) and data.test.shape == (2, 3, 32, 32)
    assert data.image_shape == (3, 32, 32) and data.train.dtype == np.float32
    raw, labels = content["data_batch_2"]
    # Row layout of the original files: 1024 red, then 1024 green, then 1024 blue, row-major.
    for channel in range(3):
        plane = raw[1, channel * 1024:(channel + 1) * 1024].reshape(32, 32)
        np.testing.assert_array_equal(data.train[3, channel] * 255.0, plane.astype(np.float32))
    np.testing.assert_array_equal(data.train_labels[2:4], labels)
    np.testing.assert_array_equal(data.test_labels, content["test_batch"][1])


def test_cifar_missing_corrupted_and_foreign_pickles(tmp_path):
    write_cifar(tmp_path, np.random.default_rng(8))
    (tmp_path / "test_batch").unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_dataset(f"cifar10:{tmp_path}")
    assert "test_batch" in str(info.value) and "Toronto" in str(info.value)
    batch = tmp_path / "data_batch_1"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(ValueError, match="data_batch_1"):
        read_cifar_batch(batch)

    class Sneaky:
        def __reduce__(self):
            return (print, ("this must not run",))

    batch.write_bytes(pickle.dumps({b"data": Sneaky(), b"labels": []}))
    with pytest.raises(ValueError, match="refusing to load builtins.print"):
        read_cifar_batch(batch)
    batch.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match="3072"):
        read_cifar_batch(batch)


# ----------------------------------------------------------------------------
# Digits, toy 2-D, specs
# ----------------------------------------------------------------------------


def test_digits_split_sizes_range_and_determinism():
    from sklearn.datasets import load_digits as sklearn_digits

    first, again, other = (load_dataset("digits", seed=s) for s in (0, 0, 1))
    assert first.train.shape == (1500, 1, 8, 8) and first.test.shape == (297, 1, 8, 8)
    assert first.train.dtype == np.float32 and first.image_shape == (1, 8, 8)
    assert first.train.min() == 0.0 and first.train.max() == 1.0
    np.testing.assert_array_equal(first.train, again.train)
    np.testing.assert_array_equal(first.test_labels, again.test_labels)
    assert not np.array_equal(first.train_labels, other.train_labels)
    # Train and test together are exactly the 1797 images (as multisets), scaled by 1/16.
    bunch = sklearn_digits()
    everything = np.concatenate([first.train, first.test]).reshape(1797, 64) * 16.0
    rows = np.concatenate([everything, np.concatenate([first.train_labels,
                                                       first.test_labels])[:, None]], axis=1)
    expected = np.concatenate([bunch.data, bunch.target[:, None]], axis=1)
    np.testing.assert_array_equal(rows[np.lexsort(rows.T)], expected[np.lexsort(expected.T)])


def test_ring_and_grid_modes_and_samples():
    ring = load_dataset("ring", seed=3)
    angles = np.arange(8) * np.pi / 4
    # The modes are float32: one ulp at magnitude 2 is 2.4e-7, so 1e-6 is a few ulps
    # (measured 2.4e-8).
    np.testing.assert_allclose(ring.modes, 2.0 * np.c_[np.cos(angles), np.sin(angles)],
                               rtol=0, atol=1e-6)
    grid = load_dataset("grid", seed=3)
    assert {tuple(p) for p in grid.modes.tolist()} == {
        (float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    for data, std in ((ring, 0.02), (grid, 0.05)):
        assert data.kind == "points" and data.image_shape is None and data.mode_std == std
        assert data.train.shape == (10000, 2) and data.test.shape == (2000, 2)
        assert data.train.dtype == np.float32
        offsets = data.train - data.modes[data.train_labels]  # (N, 2) noise around own mode
        assert abs(offsets.std() / std - 1.0) < 0.03 and np.abs(offsets).max() < 6 * std
        counts = np.bincount(data.train_labels, minlength=len(data.modes))
        assert counts.min() > 0.6 * counts.mean()
    np.testing.assert_array_equal(ring.train, load_dataset("ring", seed=3).train)
    assert not np.array_equal(ring.train, load_dataset("ring", seed=4).train)
    assert load_toy2d("grid", num_train=7, num_test=2).train.shape == (7, 2)


def test_load_dataset_rejects_bad_specs():
    with pytest.raises(ValueError, match="unknown spec"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="needs a local folder"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="takes no path"):
        load_dataset("digits:/tmp")
    with pytest.raises(TypeError, match="spec must be a string"):
        load_dataset(None)


# ----------------------------------------------------------------------------
# Batches
# ----------------------------------------------------------------------------


def test_batches_cover_every_example_once_and_keep_pairs_aligned():
    x = np.arange(23 * 2, dtype=np.float32).reshape(23, 2)
    labels = np.arange(23)
    batches = list(iterate_batches((x, labels), 5, rng_or_seed=0))
    assert [len(b[0]) for b in batches] == [5, 5, 5, 5, 3] == [len(b[1]) for b in batches]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))
    for inputs, targets in batches:
        np.testing.assert_array_equal(inputs, x[targets])
    dropped = list(iterate_batches(x, 5, rng_or_seed=0, drop_last=True))
    assert len(dropped) == 4 == num_batches(23, 5, drop_last=True)
    assert num_batches(23, 5) == 5 and num_batches(20, 5) == 4
    ordered = np.concatenate(list(iterate_batches(x, 4, rng_or_seed=None, shuffle=False)))
    np.testing.assert_array_equal(ordered, x)


def test_batches_are_deterministic_and_resumable():
    x = np.arange(50.0)
    first = [b.tolist() for b in iterate_batches(x, 8, rng_or_seed=11)]
    assert first == [b.tolist() for b in iterate_batches(x, 8, rng_or_seed=11)]
    assert first != [b.tolist() for b in iterate_batches(x, 8, rng_or_seed=12)]
    rng = np.random.default_rng(5)
    epoch_1 = np.concatenate(list(iterate_batches(x, 8, rng_or_seed=rng)))
    saved = rng.bit_generator.state  # what a trainer checkpoints between epochs
    epoch_2 = np.concatenate(list(iterate_batches(x, 8, rng_or_seed=rng)))
    assert not np.array_equal(epoch_1, epoch_2)
    resumed = np.random.default_rng(0)
    resumed.bit_generator.state = saved
    np.testing.assert_array_equal(np.concatenate(list(iterate_batches(x, 8, rng_or_seed=resumed))),
                                  epoch_2)
    # The permutation is drawn when the iterator is created, not when it is consumed.
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    iterate_batches(x, 8, rng_or_seed=rng_a)
    next(iterate_batches(x, 8, rng_or_seed=rng_b))
    assert rng_a.bit_generator.state == rng_b.bit_generator.state


def test_batches_accept_npgen_rng_and_reject_bad_arguments():
    x = np.arange(10.0)
    order = np.concatenate(list(iterate_batches(x, 3, rng_or_seed=npgen.RNG(4, portable=True))))
    np.testing.assert_array_equal(order, np.random.default_rng(4).permutation(10))
    with pytest.raises(ValueError, match="rng_or_seed"):
        iterate_batches(x, 3, rng_or_seed=None)
    with pytest.raises(ValueError, match="batch_size"):
        iterate_batches(x, 0, rng_or_seed=0)
    with pytest.raises(ValueError, match="first axis"):
        iterate_batches((x, x[:5]), 3, rng_or_seed=0)
    with pytest.raises(TypeError, match="NumPy array"):
        iterate_batches([1.0, 2.0], 1, rng_or_seed=0)
    with pytest.raises(TypeError, match="rng_or_seed"):
        iterate_batches(x, 3, rng_or_seed="seed")
