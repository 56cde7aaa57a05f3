"""Pure forward/backward pairs: ``op_forward(...) -> (y, cache)``, ``op_backward(dy, cache)``.

Ops whose backward is differentiable add ``op_double_backward(ddx, dy, cache)``: the
cotangents of dy, x (and the parameters) for the scalar <ddx, dx> (gradient penalties).
Each public name checks its inputs once (dense, activations, batch norm, dropout and
the reshapes through :mod:`npgen._checks.layers`), then runs the math, which holds no checks.
"""

from npgen.functional.activations import (
    leaky_relu_backward,
    leaky_relu_double_backward,
    leaky_relu_forward,
    relu_backward,
    relu_double_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_double_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_double_backward,
    tanh_forward,
)
from npgen.functional.batchnorm import batchnorm_backward, batchnorm_forward
from npgen.functional.conv import (
    conv2d_backward,
    conv2d_double_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_double_backward,
    conv_transpose2d_forward,
)
from npgen.functional.dense import dense_backward, dense_double_backward, dense_forward
from npgen.functional.dropout import dropout_backward, dropout_forward
from npgen.functional.shape import (
    flatten_backward,
    flatten_double_backward,
    flatten_forward,
    unflatten_backward,
    unflatten_double_backward,
    unflatten_forward,
)

__all__ = [
    "batchnorm_backward",
    "batchnorm_forward",
    "conv2d_backward",
    "conv2d_double_backward",
    "conv2d_forward",
    "conv_transpose2d_backward",
    "conv_transpose2d_double_backward",
    "conv_transpose2d_forward",
    "dense_backward",
    "dense_double_backward",
    "dense_forward",
    "dropout_backward",
    "dropout_forward",
    "flatten_backward",
    "flatten_double_backward",
    "flatten_forward",
    "leaky_relu_backward",
    "leaky_relu_double_backward",
    "leaky_relu_forward",
    "relu_backward",
    "relu_double_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_double_backward",
    "sigmoid_forward",
    "tanh_backward",
    "tanh_double_backward",
    "tanh_forward",
    "unflatten_backward",
    "unflatten_double_backward",
    "unflatten_forward",
]
