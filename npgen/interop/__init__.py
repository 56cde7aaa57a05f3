"""Bridges to other frameworks. Each submodule imports its framework only when imported itself.

* :mod:`npgen.interop.torch`: ``from_torch``, ``to_torch``, ``compare_with_torch``,
  ``torch_vjp`` (needs PyTorch: ``pip install "npgen[torch]"``).
"""
