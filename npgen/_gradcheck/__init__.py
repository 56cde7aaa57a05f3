"""The pieces of :mod:`npgen.gradcheck`; import the public names from there.

- :mod:`.numeric`: the float64 central differences, the projection ``r`` and the tolerances;
- :mod:`.report`: one input's comparison (:class:`InputCheck`) and the full report;
- :mod:`.misuse`: wrong arguments refused with errors naming the checker;
- :mod:`.vjp`: :func:`check_vjp`, the one comparison loop;
- :mod:`.module`: :func:`check_module` and :func:`check_double_backward`, both reduced
  to :func:`check_vjp`.
"""
