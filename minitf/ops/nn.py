"""Neural-network ops: activations, losses, dropout and batch normalization.

Where TF's gradient is not the textbook derivative, we follow TF and say so.
"""

import math

import numpy as np

from minitf.autodiff import primitive
from minitf.kernels.activations import relu_grad
from minitf.ops import math as M
from minitf.ops.array import stop_gradient
from minitf.ops.math import _sigmoid, sigmoid, tanh  # noqa: F401 - re-exported as tf.nn.*

# --- activations ---------------------------------------------------------------------


@primitive
def relu(features):
    x = features
    return np.maximum(x, 0), lambda g: (relu_grad(x, g),)  # 0 at x == 0, as TF


@primitive
def relu6(features):
    x = features
    return np.clip(x, 0, 6), lambda g: (np.where((x > 0) & (x < 6), g, 0),)


@primitive
def elu(features):
    x = features
    out = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    return out, lambda g: (np.where(out < 0, g * (out + 1), g),)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@primitive
def selu(features):
    x = features
    out = np.where(x > 0, _SELU_SCALE * x, _SELU_SCALE * _SELU_ALPHA * np.expm1(np.minimum(x, 0)))
    out = out.astype(x.dtype, copy=False)
    neg_slope = out + _SELU_SCALE * _SELU_ALPHA  # d/dx of scale alpha (e^x - 1), from the output
    # x == 0 takes the linear branch's slope, as TF's SeluGrad (it tests out < 0)
    return out, lambda g: (np.where(out < 0, g * neg_slope, g * _SELU_SCALE),)


@primitive
def leaky_relu(features, alpha=0.2):
    x = features
    a = x.dtype.type(np.float32(alpha))  # TF's alpha attr is a 32-bit float
    return np.where(x > 0, x, a * x), lambda g: (np.where(x > 0, g, a * g),)


@primitive
def gelu(features, approximate=False):
    """x * Phi(x) (exact, with erf) or TF's tanh approximation."""
    x = features
    if approximate:
        c = math.sqrt(2 / math.pi)
        k = x.dtype.type(np.float32(0.044715))  # TF casts it through a float32 tensor
        inner = c * (x + k * x ** 3)
        t = np.tanh(inner)
        out = 0.5 * x * (1 + t)
        return out, lambda g: (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t)
                                    * c * (1 + 3 * k * x * x)),)
    r2 = x.dtype.type(np.float32(math.sqrt(2)))  # likewise
    from scipy.special import erf  # here: importing scipy.special costs ~0.25 s
    cdf = (0.5 * (1 + erf(x / r2))).astype(x.dtype, copy=False)
    pdf = (np.exp(-(x / r2) ** 2) / (r2 * math.sqrt(math.pi))).astype(x.dtype, copy=False)
    return x * cdf, lambda g: (g * (cdf + x * pdf),)


@primitive
def softplus(features):
    x = features
    return np.logaddexp(0, x).astype(x.dtype, copy=False), lambda g: (g * _sigmoid(x),)


@primitive
def softsign(features):
    x = features
    d = 1 + np.abs(x)
    return x / d, lambda g: (g / (d * d),)


@primitive
def silu(features, beta=1.0):
    """x * sigmoid(beta x) (`tf.nn.silu`, also `tf.nn.swish`)."""
    x = features
    s = _sigmoid(beta * x)
    return x * s, lambda g: (g * (s + beta * x * s * (1 - s)),)


swish = silu


@primitive
def softmax(logits, axis=-1):
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return out, lambda g: (out * (g - (g * out).sum(axis=axis, keepdims=True)),)


@primitive
def log_softmax(logits, axis=-1):
    out = _log_softmax(logits, axis)
    return out, lambda g: (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@primitive
def bias_add(value, bias):
    """value + bias along the last axis; the bias gradient sums all other axes."""
    if bias.ndim != 1 or value.shape[-1] != bias.shape[0]:
        raise ValueError(f"bias_add: bias must be 1-D of size {value.shape[-1]} (the last "
                         f"dimension of value {value.shape}), got shape {bias.shape}")
    return value + bias, lambda g: (g, g.reshape(-1, bias.shape[0]).sum(axis=0))


# --- losses ----------------------------------------------------------------------------
@primitive
def sigmoid_cross_entropy_with_logits(labels, logits):
    """max(x, 0) - x z + log(1 + exp(-|x|)), stable for large |x|.

    d/dx = sigmoid(x) - z and d/dz = -x (TF differentiates the labels too).
    """
    x, z = logits, labels
    if x.shape != z.shape:
        raise ValueError(f"sigmoid_cross_entropy_with_logits: logits and labels must have "
                         f"the same shape, got {x.shape} and {z.shape}")
    out = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    return out, lambda g: (-g * x, g * (_sigmoid(x) - z))


@primitive
def softmax_cross_entropy_with_logits(labels, logits, axis=-1):
    """-sum(labels * log_softmax(logits)) over `axis`.

    The logits gradient is TF's kernel formula ``softmax(logits) - labels``,
    which is the derivative only when each row of labels sums to 1. The labels
    gradient is ``-log_softmax(logits)``, as TF registers it.
    """
    if labels.shape != logits.shape:
        raise ValueError(f"softmax_cross_entropy_with_logits: logits and labels must have "
                         f"the same shape, got {logits.shape} and {labels.shape}")
    logp = _log_softmax(logits, axis)
    out = -(labels * logp).sum(axis=axis)

    def backward(g):
        g = np.expand_dims(g, axis)
        return -g * logp, g * (np.exp(logp) - labels)
    return out, backward


@primitive
def sparse_softmax_cross_entropy_with_logits(labels, logits):
    """-log_softmax(logits)[label] per row; labels are class ids in [0, n_classes)."""
    n = logits.shape[-1]
    if labels.shape != logits.shape[:-1]:
        raise ValueError(f"sparse_softmax_cross_entropy_with_logits: labels must have shape "
                         f"{logits.shape[:-1]} (logits without the last axis), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        bad = labels[(labels < 0) | (labels >= n)].reshape(-1)[0]
        raise ValueError(f"Received a label value of {int(bad)} which is outside the valid "
                         f"range of [0, {n}).")
    logp = _log_softmax(logits)
    picked = np.take_along_axis(logp, labels[..., None].astype(np.int64), -1)[..., 0]

    def backward(g):
        grad = np.exp(logp)
        np.put_along_axis(grad, labels[..., None].astype(np.int64),
                          np.take_along_axis(grad, labels[..., None].astype(np.int64), -1) - 1, -1)
        return None, g[..., None] * grad
    return -picked, backward


def log_poisson_loss(targets, log_input, compute_full_loss=False):
    """exp(c) - z c (`tf.nn.log_poisson_loss`); with `compute_full_loss`, plus
    Stirling's term z log z - z + 0.5 log(2 pi z) where z > 1.

    TF evaluates Stirling's term on every target and discards it where
    0 <= z <= 1, which makes its targets gradient NaN at z = 0; we evaluate it
    only where it is kept.
    """
    from minitf.ops.array import ones_like, where, zeros_like
    z, c = targets, log_input
    loss = M.exp(c) - z * c
    if not compute_full_loss:
        return loss
    big = M.greater(z, 1)
    safe = where(big, z, ones_like(z))
    stirling = safe * M.log(safe) - safe + 0.5 * M.log(2 * math.pi * safe)
    return loss + where(big, stirling, zeros_like(z))


def l2_loss(t):
    """sum(t ** 2) / 2."""
    return M.multiply(M.reduce_sum(M.square(t)), 0.5)


# --- dropout -----------------------------------------------------------------------------
def dropout(x, rate, noise_shape=None, seed=None, rng=None):
    """`tf.nn.dropout`: zeroes each entry with probability `rate` and scales the
    survivors by 1 / (1 - rate) (inverted dropout), so the expectation is x.

    Args:
      x: a float tensor.
      rate: the drop probability, in [0, 1).
      noise_shape: shape of the keep mask, broadcast against x.
      seed: op seed for `minitf.random.make_rng` (used when no `rng` is given).
      rng: a `numpy.random.Generator` to draw the mask from.
    """
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be a float in the range [0, 1), got {rate}")
    if rate == 0:
        return x
    if rng is None:
        from minitf import random as mrandom
        rng = mrandom.make_rng(seed)
    shape = tuple(np.shape(x)) if noise_shape is None else tuple(noise_shape)
    mask = (rng.random(shape) >= rate)
    return _apply_mask(x, mask, 1.0 / (1.0 - rate))


@primitive
def _apply_mask(x, mask=None, scale=1.0):
    m = (mask * scale).astype(x.dtype)
    return x * m, lambda g: (g * m,)


# --- normalization -------------------------------------------------------------------------
def moments(x, axes, keepdims=False):
    """`tf.nn.moments`: mean and (biased) variance over `axes`.

    As in TF, the variance is computed around ``stop_gradient(mean)``.
    """
    mean = M.reduce_mean(x, axes, keepdims=True)
    variance = M.reduce_mean(M.squared_difference(x, stop_gradient(mean)), axes, keepdims=True)
    if not keepdims:
        from minitf.ops.array import squeeze
        mean, variance = squeeze(mean, axes), squeeze(variance, axes)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon):
    """`tf.nn.batch_normalization`: (x - mean) * scale / sqrt(variance + eps) + offset,
    computed as TF does: ``x * inv + (offset - mean * inv)`` with
    ``inv = scale * rsqrt(variance + eps)``."""
    inv = M.rsqrt(M.add(variance, variance_epsilon))
    if scale is not None:
        inv = M.multiply(inv, scale)
    shift = M.negative(M.multiply(mean, inv))
    if offset is not None:
        shift = M.add(offset, shift)
    return M.add(M.multiply(x, inv), shift)


def batch_norm(x, gamma, beta, moving_mean, moving_variance, training,
               momentum=0.999, epsilon=1e-3):
    """Batch normalization over the batch axis, as the canned DNN applies it.

    TF's canned DNN uses ``tf.compat.v1.layers.BatchNormalization(momentum=0.999)``
    (epsilon 1e-3). On 2-D inputs that layer takes the non-fused path:

    * training: normalise with the batch's mean and biased variance, and move
      the statistics: ``moving -= (moving - batch_value) * (1 - momentum)``;
    * inference: normalise with the moving statistics.

    Args:
      x: [batch, units] tensor.
      gamma, beta: scale and offset Variables, shape [units].
      moving_mean, moving_variance: non-trainable Variables, shape [units].
      training: whether this is a training step.
    """
    if not training:
        return batch_normalization(x, moving_mean.value(), moving_variance.value(),
                                   beta, gamma, epsilon)
    mean, variance = moments(x, [0])
    decay = 1.0 - momentum
    moving_mean.assign_sub((moving_mean._value - mean._value) * decay)
    moving_variance.assign_sub((moving_variance._value - variance._value) * decay)
    return batch_normalization(x, mean, variance, beta, gamma, epsilon)
