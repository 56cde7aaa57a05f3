"""The terminal summary of a run: each figure beside what it should be compared with.

A newcomer reading ``test_negative_elbo=24.8`` cannot tell whether that is good.
Each line here puts the figure next to its reference: the held-out real data's
own score where there is one, and the quality bar of docs/results.md for the
bundled data sets (bars hold for the documented recipes; other data have none).
"""

from __future__ import annotations

import math

__all__ = ["BARS", "summary_lines"]

# The quality bars of docs/results.md, per data set.
BARS = {
    "digits": {"test_negative_elbo": 24.6, "inception_ratio": 0.75},
    "ring": {"modes_covered": 8, "high_quality_fraction": 0.80},
}


def _number(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "undefined"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _vae_lines(metrics: dict, bars: dict) -> list[str]:
    bar = bars.get("test_negative_elbo")
    lines = [f"test -ELBO {_number(metrics['test_negative_elbo'])} nats per example, lower is "
             "better" + (f" (docs/results.md: the 100-epoch MLP VAE recipe on digits "
                             f"meets the bar of {bar})" if bar else "")
             + f"; reconstruction {_number(metrics.get('test_reconstruction'))} + KL "
             f"{_number(metrics.get('test_kl'))}"]
    for key, value in metrics.items():
        if key.startswith("test_iw_bound_k"):
            lines.append(f"importance-weighted bound (k={key.removeprefix('test_iw_bound_k')}) "
                         f"{_number(value)} nats, a tighter bound than the -ELBO")
    return lines


def _image_gan_lines(metrics: dict, bars: dict) -> list[str]:
    score, real = metrics.get("inception_score"), metrics.get("real_inception_score")
    lines = []
    if score is not None and real:
        bar = bars.get("inception_ratio")
        lines.append(f"Inception-style score {_number(score)}, {score / real:.0%} of the "
                     f"held-out real images' {_number(real)}, higher is better"
                     + (f" (bar: {bar:.0%}, docs/results.md)" if bar else ""))
    if "frechet_distance" in metrics:
        lines.append(f"Frechet distance {_number(metrics['frechet_distance'])} to the held-out "
                     "real images, lower is better (0: the real data)")
    return lines


def _points_gan_lines(metrics: dict, bars: dict) -> list[str]:
    modes = metrics["num_modes"]
    bar_modes, bar_hq = bars.get("modes_covered"), bars.get("high_quality_fraction")
    return [f"modes covered {metrics['modes_covered']} of {modes}"
            + (f" (bar: {bar_modes}, docs/results.md)" if bar_modes else ""),
            f"high-quality samples {metrics['high_quality_fraction']:.0%} (within 3 std of a "
            "mode)" + (f" (bar: {bar_hq:.0%})" if bar_hq else "")]


def summary_lines(metrics: dict, data: str) -> list[str]:
    """Human-readable lines for a run's final ``metrics`` on the data set ``data``."""
    bars = BARS.get(data, {})
    if "test_negative_elbo" in metrics:
        lines = _vae_lines(metrics, bars)
    elif "modes_covered" in metrics:
        lines = _points_gan_lines(metrics, bars)
    else:
        lines = _image_gan_lines(metrics, bars)
    if "epoch" in metrics:
        lines.append(f"epoch {metrics['epoch']}, {metrics.get('seconds', 0.0):.0f} s")
    return lines
