"""The one door every public entry point checks its inputs through, before the math.

A public functional name (``conv2d_forward``, ``dense_backward``, ...), a module
(``nn.Conv2d``, ``nn.Dense``, ...), a loss and an optimizer each call ONE check
here with its own name, then the math, which holds no checks and no names:

    primitives   the shared pieces: float arrays, ranks, axes, same library/device/dtype,
                 positive ints, (h, w) pairs, seeds, JSON files
    layers       dense, batch norm, activations, dropout, flatten/unflatten
    conv         conv2d and conv_transpose2d (the output-size checks call conv.py's formulas)
    losses       every objective of npgen.losses
    optim        the optimizers, clip_grad_norm and the schedules

Every message names the function or layer, what it expected and what came (shape,
dtype, backend, device).
"""
