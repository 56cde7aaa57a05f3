"""Bridges to other frameworks. Each submodule imports its framework only when imported itself.

* :mod:`npgen.interop.torch`: ``from_torch``, ``to_torch``, ``compare_with_torch``,
  ``torch_vjp``, ``torch_optimizer`` (needs PyTorch: ``pip install "npgen[torch]"``).
* :mod:`npgen.interop.jax`: ``jax_vjp``, ``to_jax``, ``from_jax`` (needs JAX:
  ``pip install "npgen[jax]"``; runs in float64 with ``jax_enable_x64``).
"""
