"""minitf: a small TensorFlow-shaped engine on NumPy and Numba.

Tensors and Variables, a reverse-mode `GradientTape`, differentiable ops (with
sparse ones backed by Numba kernels), and TF's names for all of them::

    import minitf as tf
    w = tf.Variable([[1.0], [2.0]], name="w")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.matmul(x, w) ** 2)
    tape.gradient(loss, w)
"""

# tensor first: it binds Tensor's operators to the ops modules, which import it back.
from minitf.tensor import Tensor, Variable, constant, convert_to_tensor  # noqa: F401, I001
from minitf import (  # noqa: F401
    compat, data, hashing, initializers, math, nn, optimizers, random, schedules, sparse, train)
from minitf.autodiff import GradientTape, stop_recording  # noqa: F401
from minitf.ops.array import (  # noqa: F401
    broadcast_to, concat, expand_dims, fill, gather, identity, one_hot, ones, ones_like, range,
    reshape, shape, size, squeeze, stack, stop_gradient, tile, transpose, where, zeros,
    zeros_like)
from minitf.ops.math import (  # noqa: F401
    abs, add, add_n, argmax, cast, clip_by_value, divide, equal, exp, greater, greater_equal,
    less, less_equal, log, matmul, maximum, minimum, multiply, negative, not_equal, pow,
    reduce_max, reduce_mean, reduce_sum, sigmoid, sign, sqrt, square, subtract, tanh)
from minitf.sparse import IndexedSlices, SparseTensor  # noqa: F401

float16, float32, float64 = "float16", "float32", "float64"
int32, int64, bool_, string = "int32", "int64", "bool", "object"

__version__ = "0.1.0"
