"""npgen.verify's checking machinery: forward first, loss upstreams, replay and save, declared
support, options, and that every op of the package has a verifier."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume

import npgen
from npgen.cli import main
from npgen.testing.reference import conv2d_reference
from npgen.verify import api as verify
from npgen.verify.reference_files import compare_files

FEW = 8


def _dense(x, w, b):
    return x @ w.T + (0.0 if b is None else b)


def _dense_vjp(dy, x, w, b):
    return dy @ w, dy.T @ x, None if b is None else dy.sum(axis=0)


def _bce(l, t):
    return np.mean(np.logaddexp(0.0, l) - t * l)


def _bce_grad(l, t):
    return np.exp(-np.logaddexp(0.0, -l)) / l.size - t / l.size


# Forward first ---------------------------------------------------------------------------------


def test_a_forward_of_the_wrong_shape_is_a_forward_mismatch():
    """(in, out) confusion: on the failing case the backward (which would raise) is not run."""
    def transposed(x, w, b):
        return (x @ w.T).T  # (out, N)

    def backward(dy, x, w, b):
        raise AssertionError("the backward ran on a case whose forward is wrong")

    report = verify.verify_dense(transposed, _dense_vjp, max_examples=FEW,
                                 raise_exception=False)
    assert not report.ok and report.stage == "forward" and report.failure.name == "y"
    assert "differs from the reference shape" in report.failure.problem
    assert "MISMATCH in the forward (y)" in str(report)
    assert report.replay(transposed, backward).stage == "forward"


def test_a_float32_forward_for_float64_inputs_fails_on_its_dtype():
    report = verify.verify_dense(lambda x, w, b: _dense(x, w, b).astype(np.float32),
                                 max_examples=FEW, raise_exception=False)
    assert report.stage == "forward" and "dtype float32 for float64 inputs" in str(report)


def test_a_backward_mismatch_after_a_correct_forward_is_reported_as_backward():
    report = verify.verify_dense(_dense, lambda dy, x, w, b: (dy @ w, dy.T @ x * 1.01, None),
                                 max_examples=FEW, raise_exception=False)
    assert report.stage == "backward" and report.failure.name == "dweight"


# Losses: random non-unit upstreams ------------------------------------------------------------


def test_loss_backwards_get_a_different_non_unit_dloss_per_configuration():
    seen = []

    def backward(dloss, l, t):
        seen.append(float(dloss))
        return dloss * _bce_grad(l, t)

    report = verify.verify_bce_with_logits(_bce, backward, max_examples=FEW)
    assert report.ok and not report.notes
    assert len(set(seen)) == len(seen) == FEW and all(0.25 <= abs(d) <= 4 for d in seen)


def test_grad_form_is_accepted_with_a_note_and_the_form_can_be_forced():
    report = verify.verify_bce_with_logits(_bce, _bce_grad, max_examples=FEW)
    assert report.ok and "cannot be detected" in str(report)
    # *args hides the arity: the form is given explicitly
    forced = verify.verify_bce_with_logits(_bce, lambda *a: a[0] * _bce_grad(*a[1:]),
                                           backward_form="vjp", max_examples=FEW)
    assert forced.ok and not forced.notes
    with pytest.raises(ValueError, match="backward_form must be 'vjp' or 'grad'"):
        verify.verify_bce_with_logits(_bce, _bce_grad, backward_form="dloss")


# Replayable failures ---------------------------------------------------------------------------


def _off_by_1e3(x, w, b):
    return _dense(x, w, b) + 1e-3


def test_the_failing_case_is_shrunk_to_simple_numbers_and_replays(tmp_path):
    report = verify.verify_dense(_off_by_1e3, _dense_vjp, max_examples=FEW,
                                 raise_exception=False)
    case = report.case
    assert case.decimals in (0, 1) and report.inputs is case.inputs
    for a in case.inputs.values():  # integers or one decimal place
        assert a is None or np.array_equal(a, np.round(a, case.decimals))
    again = report.replay(_off_by_1e3, _dense_vjp)
    assert not again.ok and again.examples == 1 and again.case.inputs is case.inputs
    assert again.failure.abs_err == pytest.approx(1e-3)
    assert report.replay(_dense, _dense_vjp).ok
    with pytest.raises(ValueError, match="no failing case"):
        verify.verify_dense(_dense, max_examples=2).replay(_dense)


def test_a_saved_case_is_a_golden_file_npgen_compare_checks(tmp_path, capsys):
    report = verify.verify_dense(_off_by_1e3, _dense_vjp, max_examples=FEW,
                                 raise_exception=False)
    path = report.save(tmp_path / "ref")
    ref = dict(np.load(path))
    assert set(ref) >= {"x", "weight", "dy", "y", "dx", "dweight"}
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    their_y = _off_by_1e3(ref["x"], ref["weight"], None)
    np.savez(theirs / "dense__replay_0.npz", y=their_y, dx=ref["dx"], dweight=ref["dweight"])
    assert not compare_files(path, theirs / "dense__replay_0.npz").ok
    assert main(["compare", str(tmp_path / "ref"), str(theirs)]) == 1
    assert "0 of 1 cases passed" in capsys.readouterr().out


def test_a_loss_case_saves_its_dloss_and_scaled_gradients(tmp_path):
    def backward(dloss, l, t):
        return _bce_grad(l, t)  # ignores dloss

    report = verify.verify_bce_with_logits(_bce, backward, max_examples=FEW,
                                           raise_exception=False)
    arrays = dict(np.load(report.save(tmp_path)))
    np.testing.assert_allclose(arrays["dlogits"],
                               arrays["dloss"] * _bce_grad(arrays["logits"], arrays["target"]))


# Whole-folder compare --------------------------------------------------------------------------


def test_folder_compare_one_table_and_exit_status(tmp_path, capsys):
    ref, theirs = tmp_path / "ref", tmp_path / "theirs"
    assert main(["export-reference", str(ref), "--ops", "dense", "mse", "adamw_step"]) == 0
    theirs.mkdir()
    for name in ("dense__basic.npz", "dense__no_bias.npz", "mse__mean.npz",
                 "adamw_step__decoupled_weight_decay.npz"):
        arrays = dict(np.load(ref / name))
        if name == "mse__mean.npz":
            arrays["dpred"] = arrays["dpred"] * 2  # a wrong gradient
        if name != "dense__no_bias.npz":  # one file missing
            np.savez(theirs / name, **arrays)
    capsys.readouterr()
    assert main(["compare", str(ref), str(theirs)]) == 1
    out = capsys.readouterr().out
    assert "PASS  dense__basic.npz" in out and "FAIL  mse__mean.npz" in out
    assert "FAIL  dense__no_bias.npz" in out and "missing" in out
    assert "2 of 4 cases passed" in out
    np.savez(theirs / "dense__no_bias.npz", **dict(np.load(ref / "dense__no_bias.npz")))
    np.savez(theirs / "mse__mean.npz", **dict(np.load(ref / "mse__mean.npz")))
    assert main(["compare", str(ref), str(theirs)]) == 0
    assert main(["compare", str(ref), str(tmp_path / "nowhere")]) == 2


# Declared support, assume, NotImplementedError --------------------------------------------------


def _conv_without_dilation(x, w, b, stride, padding, dilation):
    if dilation != (1, 1):
        raise NotImplementedError("dilation")
    return conv2d_reference(x, w, b, stride, padding, dilation)


def test_an_undeclared_unsupported_configuration_is_reported_as_such():
    report = verify.verify_conv2d(_conv_without_dilation, max_examples=FEW,
                                  raise_exception=False)
    assert report.stage == "unsupported" and report.config["dilation"] != (1, 1)
    text = str(report)
    assert "UNSUPPORTED configuration" in text and "supports={" in text
    assert "MISMATCH" not in text


def test_a_declared_conv_without_dilation_passes_and_sees_no_dilation():
    seen = []

    def forward(x, w, b, stride, padding, dilation):
        seen.append(dilation)
        return _conv_without_dilation(x, w, b, stride, padding, dilation)

    report = verify.verify_conv2d(forward, supports={"dilation": 1}, max_examples=FEW)
    assert report.ok and set(seen) == {(1, 1)} and "within supports=" in str(report)


def test_assume_in_their_code_skips_the_example():
    batches = []

    def forward(x, w, b):
        assume(x.shape[0] > 1)
        batches.append(x.shape[0])
        return _dense(x, w, b)

    assert verify.verify_dense(forward, max_examples=FEW).ok
    assert batches and min(batches) > 1


def test_supports_values_and_unknown_keys():
    with pytest.raises(ValueError, match=r"verify_dense: supports names unknown.*\['bais'\]"):
        verify.verify_dense(_dense, supports={"bais": True}, max_examples=2)
    with pytest.raises(TypeError, match="supports must be a dict"):
        verify.verify_dense(_dense, supports=[("bias", True)], max_examples=2)
    seen = []

    def forward(x, w, b):
        seen.append(x.shape[0])
        return _dense(x, w, b)

    verify.verify_dense(forward, supports={"batch": {1, 3}}, max_examples=FEW)
    assert set(seen) <= {1, 3}
    with pytest.raises(ValueError, match="verify_dense: no configuration could be run"):
        verify.verify_dense(_dense, supports={"batch": 9}, max_examples=2)


# Options ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, value", [("rtol", -1e-3), ("atol", -1.0), ("rtol", float("nan"))])
def test_negative_tolerances_are_refused_naming_the_function(name, value):
    tolerances = {"rtol": 1e-6, "atol": 1e-8, name: value}
    with pytest.raises(ValueError, match=f"npgen.verify.verify_mse: {name} must be >= 0"):
        verify.verify_mse(np.mean, **tolerances)
    with pytest.raises(ValueError, match=f"verify_optimizer_steps: {name} must be >= 0"):
        verify.verify_optimizer_steps("sgd", lambda p, **h: None, **tolerances)


def test_bad_verifier_options():
    with pytest.raises(TypeError, match="rtol must be a number"):
        verify.verify_dense(_dense, rtol="1e-3", atol=1e-5)
    with pytest.raises(ValueError, match="real_label must be a number in"):
        verify.verify_gan_discriminator_loss(np.mean, real_label=1.5)
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum'"):
        verify.verify_mse(np.mean, reduction="none")
    with pytest.raises(ValueError, match="optimizer must be 'sgd', 'adam' or 'adamw'"):
        verify.verify_optimizer_steps("rmsprop", lambda p, **h: None)
    with pytest.raises(TypeError, match="amsgrad must be True or False"):
        verify.verify_adam_step(lambda *a: a, amsgrad=1)


def test_a_bug_from_step_two_shrinks_to_two_steps(tmp_path):
    """SGD whose momentum buffer restarts at every step: right at step 1, wrong from step 2."""
    def make_step(param, lr, momentum, dampening, nesterov, weight_decay):
        state = {"p": param}

        def step(grad):  # the buffer is re-initialized to g every time
            g = grad + weight_decay * state["p"]
            d = g + momentum * g if nesterov else g
            state["p"] = state["p"] - lr * d
            return state["p"]

        return step

    report = verify.verify_optimizer_steps("sgd", make_step, max_examples=FEW,
                                           raise_exception=False)
    assert not report.ok and report.config["steps"] == 2 and report.config["momentum"] > 0
    assert report.failure.index[0] == 1  # step 2
    folder = tmp_path / "saved"
    saved = dict(np.load(report.save(folder)))
    assert saved["params"].shape == (2, *report.config["shape"])
    assert main(["compare", str(folder), str(folder)]) == 0  # the manifest validates


# Every op has a verifier -----------------------------------------------------------------------

def test_every_op_of_the_package_has_a_verifier():
    from npgen import optim
    from npgen.registry import OPS, OPTIMIZER_VERIFIERS

    verifier_of = {name: op.verifier for name, op in OPS.items()} | OPTIMIZER_VERIFIERS
    missing = [op for op, verifier in verifier_of.items() if not verifier]
    assert not missing, f"ops without a verifier: {missing}"
    assert set(verifier_of.values()) <= set(npgen.verify.__all__)
    assert set(OPTIMIZER_VERIFIERS) <= set(optim.__all__)
    functional = {n.removesuffix("_forward") for n in npgen.functional.__all__
                  if n.endswith("_forward")}
    assert functional <= {op.split("[")[0] for op in verifier_of} | {"batchnorm"}
