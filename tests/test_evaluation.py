"""The digits evaluation classifier: its loss, accuracy, cache, and the IS / FD it yields."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npgen
from npgen import evaluation
from npgen.data import load_dataset
from npgen.evaluation import (
    digits_scores,
    load_digits_classifier,
    log_softmax,
    softmax_cross_entropy,
)
from npgen.gradcheck import check_vjp
from npgen.testing import strategies as nst

# ----------------------------------------------------------------------------
# Softmax cross-entropy
# ----------------------------------------------------------------------------


def _onehot(labels, classes):
    return npgen.asarray(np.eye(classes)[np.asarray(labels)], dtype="float64")


@given(classes=st.integers(2, 5), labels=st.lists(st.integers(0, 4), min_size=1, max_size=4),
       data=st.data())
def test_cross_entropy_vjp(backend, classes, labels, data):
    labels = [label % classes for label in labels]
    logits = data.draw(nst.float_arrays((len(labels), classes), min_value=-5.0, max_value=5.0))
    targets = _onehot(labels, classes)
    check_vjp(lambda l, t: softmax_cross_entropy(l, t)[0],
              lambda dy, l, t: (dy * softmax_cross_entropy(l, t)[1], None),
              (logits, targets), names=("logits", "targets"))


def _reference_cross_entropy(logits, labels):
    """-mean log(exp(l_y) / sum_k exp(l_k)), term by term in float64."""
    terms = [np.log(np.sum(np.exp(row))) - row[y] for row, y in zip(logits, labels)]
    return float(np.mean(terms))


def test_cross_entropy_value_against_a_loop_and_torch(backend):
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(6, 4)) * 3, rng.integers(0, 4, size=6)
    loss, _ = softmax_cross_entropy(npgen.asarray(logits, dtype="float64"), _onehot(labels, 4))
    assert float(loss) == pytest.approx(_reference_cross_entropy(logits, labels), rel=1e-12)
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.cross_entropy(torch.as_tensor(logits),
                                                 torch.as_tensor(labels))
    assert float(loss) == pytest.approx(float(expected), rel=1e-12)


def test_log_softmax_is_stable_for_huge_logits(backend):
    logits = npgen.asarray(np.array([[1000.0, 0.0, -1000.0], [-800.0, -800.0, -800.0]]),
                           dtype="float64")
    log_p = npgen.to_numpy(log_softmax(logits))
    assert np.isfinite(log_p).all()
    np.testing.assert_allclose(log_p[0, :2], [0.0, -1000.0], atol=1e-12)
    np.testing.assert_allclose(log_p[1], np.log(1 / 3) * np.ones(3), rtol=1e-12)
    loss, dlogits = softmax_cross_entropy(logits, _onehot([2, 0], 3))
    assert float(loss) == pytest.approx((2000.0 + np.log(3)) / 2, rel=1e-12)
    np.testing.assert_allclose(npgen.to_numpy(dlogits)[0], [0.5, 0.0, -0.5], atol=1e-12)


def test_cross_entropy_rejects_mismatched_targets():
    with pytest.raises(ValueError, match="softmax_cross_entropy"):
        softmax_cross_entropy(np.zeros((2, 3)), np.zeros((2, 4)))


# ----------------------------------------------------------------------------
# The classifier and its cache (trained once per module in a temporary cache)
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("npgen-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NPGEN_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def trained(cache_dir):
    """The classifier, trained once into the module's temporary cache."""
    return load_digits_classifier(seed=0)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_classifier_is_accurate_on_the_test_split(trained, digits):
    classifier = trained
    accuracy = float(np.mean(classifier.predict(digits.test) == digits.test_labels))
    assert accuracy >= 0.95
    assert classifier.accuracy == pytest.approx(accuracy)
    log_p = classifier.log_probs(digits.test)
    assert log_p.shape == (digits.test.shape[0], 10)
    np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1.0, rtol=1e-10)
    assert classifier.features(digits.test[:5]).shape == (5, 64)


def test_second_load_reads_the_cache(trained, cache_dir, digits, monkeypatch):
    classifier = trained
    path = evaluation.classifier_cache_path(0)
    assert path.parent == cache_dir and path.is_file()

    def no_training(seed=0):
        pytest.fail("load_digits_classifier retrained instead of reading the cache")

    monkeypatch.setattr(evaluation, "train_digits_classifier", no_training)
    again = load_digits_classifier(seed=0)
    assert again is not classifier
    np.testing.assert_array_equal(again.log_probs(digits.test), classifier.log_probs(digits.test))
    assert again.accuracy == classifier.accuracy


def test_a_corrupt_cache_is_retrained_over(trained, tmp_path, digits):
    classifier = trained
    path = evaluation.classifier_cache_path(0, tmp_path)
    path.write_bytes(b"PK\x03\x04 not really a zip file")
    with pytest.warns(RuntimeWarning, match="unreadable"):
        retrained = load_digits_classifier(seed=0, cache_dir=tmp_path)
    # training is deterministic given the seed: the same network comes back
    np.testing.assert_array_equal(retrained.log_probs(digits.test),
                                  classifier.log_probs(digits.test))
    assert evaluation.load_checkpoint(path).config["seed"] == 0  # the file was replaced


def test_an_unwritable_cache_only_warns(trained, tmp_path, monkeypatch):
    classifier = trained
    monkeypatch.setattr(evaluation, "train_digits_classifier", lambda seed: classifier)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.warns(RuntimeWarning, match="could not cache"):
        assert load_digits_classifier(seed=0, cache_dir=blocker) is classifier


def test_a_cache_of_another_version_is_ignored(trained, monkeypatch):
    monkeypatch.setattr(evaluation, "CLASSIFIER_VERSION", "some-other-version")
    assert evaluation._read_cache(evaluation.classifier_cache_path(0), 0) is None


# ----------------------------------------------------------------------------
# Scores
# ----------------------------------------------------------------------------


# Few images or dead units give singular feature covariances; FD is still exact (sqrtm of a
# singular PSD product), only scipy warns.
SINGULAR_OK = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")


@SINGULAR_OK
def test_real_digits_score_high_and_close(trained, digits):
    classifier = trained
    real = digits_scores(digits.test, digits.train, classifier=classifier)
    assert set(real) == {"inception_score", "real_inception_score", "frechet_distance",
                         "classifier_accuracy"}
    print(f"IS(test) = {real['inception_score']:.3f}, IS(train) = "
          f"{real['real_inception_score']:.3f}, FD(test, train) = {real['frechet_distance']:.3f}")
    assert real["inception_score"] > 8.0  # of at most 10: confident and spread over the classes
    assert real["real_inception_score"] > 8.0
    noise = np.random.default_rng(0).uniform(size=(500, 1, 8, 8))
    fake = digits_scores(noise, digits.train, classifier=classifier)
    assert real["frechet_distance"] < 0.1 * fake["frechet_distance"]
    assert fake["inception_score"] < 0.6 * real["inception_score"]


@SINGULAR_OK
def test_one_class_has_inception_score_near_one(trained, digits):
    classifier = trained
    zeros = digits.test[digits.test_labels == 0]
    scores = digits_scores(zeros, digits.test, classifier=classifier)
    assert 1.0 <= scores["inception_score"] < 1.5


def test_digits_scores_accepts_any_backend(backend, trained, digits):
    classifier = trained
    samples = npgen.asarray(digits.test[:100], dtype="float32")
    scores = digits_scores(samples, digits.test[100:], seed=0)  # loads from the cache
    expected = digits_scores(digits.test[:100], digits.test[100:], classifier=classifier)
    assert scores == pytest.approx(expected, rel=1e-12)  # both score on the host


@pytest.mark.parametrize("images, message", [
    (np.zeros((4, 8, 8)), "expected digit images"),
    (np.zeros((4, 1, 28, 28)), "expected digit images"),
    (np.full((4, 1, 8, 8), -1.0), r"in \[0, 1\]"),
])
def test_digits_scores_rejects_bad_images(trained, images, message):
    classifier = trained
    with pytest.raises(ValueError, match=message):
        digits_scores(images, np.zeros((4, 1, 8, 8)), classifier=classifier)
