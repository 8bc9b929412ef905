"""Initializers equal to TF 2.15's in distribution and parameters.

Keras v2 classes (`tf.keras.initializers.*`) and the `tf.compat.v1`
initializers the canned estimators use. Each is called as
``init(shape, dtype='float32')`` and returns a NumPy array (a `Variable`
takes it as its initial value); `get_config` / `from_config` / `get` as Keras.
Values are drawn with `minitf.random` (see there: TF's distributions, not its
bit streams).
"""

import math

import numpy as np

from minitf import random as _random

# std of a standard normal truncated to [-2, 2]: VarianceScaling divides by it.
_TRUNC_STD = 0.87962566103423978


class Initializer:
    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self).__name__, repr(sorted(self.get_config().items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.zeros(shape, dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.ones(shape, dtype)


class Constant(Initializer):
    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype="float32"):
        return np.broadcast_to(np.asarray(self.value, dtype), shape).copy()

    def get_config(self):
        v = self.value
        return {"value": v.tolist() if isinstance(v, np.ndarray) else v}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype="float32"):
        rng = _random.make_rng(self.seed)
        if np.dtype(dtype).kind in "iu":  # integers uniform on [minval, maxval), as TF
            return rng.integers(int(self.minval), int(self.maxval), shape, dtype=np.dtype(dtype))
        return (self.minval + (self.maxval - self.minval) * rng.random(shape)).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype="float32"):
        rng = _random.make_rng(self.seed)
        return (self.mean + self.stddev * rng.standard_normal(shape)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal(mean, stddev) with values beyond 2 stddev redrawn."""

    def __call__(self, shape, dtype="float32"):
        return _random.truncated_normal_array(_random.make_rng(self.seed), shape, self.mean,
                                              self.stddev, dtype)


def _fans(shape):
    """(fan_in, fan_out) as Keras computes them (conv kernels: times the
    receptive field)."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(Initializer):
    """Variance ``scale / n``, n = fan_in, fan_out or their mean (`mode`), as a
    truncated normal (stddev corrected for the truncation), a normal, or a
    uniform on [-sqrt(3 scale / n), +sqrt(3 scale / n)]."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', "
                             f"got {mode!r}")
        distribution = distribution.lower()
        if distribution == "normal":  # Keras's alias
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"VarianceScaling: distribution must be 'truncated_normal', "
                             f"'untruncated_normal' or 'uniform', got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[
            self.mode]
        scale = self.scale / max(1.0, n)
        rng = _random.make_rng(self.seed)
        if self.distribution == "truncated_normal":
            return _random.truncated_normal_array(rng, shape, 0.0,
                                                  math.sqrt(scale) / _TRUNC_STD, dtype)
        if self.distribution == "untruncated_normal":
            return (math.sqrt(scale) * rng.standard_normal(shape)).astype(dtype)
        limit = math.sqrt(3.0 * scale)
        return (-limit + 2 * limit * rng.random(shape)).astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _scaling(name, scale, mode, distribution):
    class _Init(VarianceScaling):
        def __init__(self, seed=None):
            super().__init__(scale, mode, distribution, seed)

        def get_config(self):
            return {"seed": self.seed}
    _Init.__name__ = _Init.__qualname__ = name
    return _Init


GlorotUniform = _scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype="float32"):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {tuple(shape)}")
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype="float32"):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2, got "
                             f"{tuple(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _random.make_rng(self.seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # makes the result uniform over orthogonal matrices
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


# --- tf.compat.v1 initializers (v1 defaults differ from Keras's) -------------------------------
def glorot_uniform_initializer(seed=None, dtype="float32"):
    """The default kernel initializer of TF's v1 layers (the canned DNN's)."""
    return GlorotUniform(seed=seed)


def truncated_normal_initializer(mean=0.0, stddev=1.0, seed=None, dtype="float32"):
    return TruncatedNormal(mean, stddev, seed)


def random_normal_initializer(mean=0.0, stddev=1.0, seed=None, dtype="float32"):
    return RandomNormal(mean, stddev, seed)


def random_uniform_initializer(minval=0.0, maxval=None, seed=None, dtype="float32"):
    return RandomUniform(minval, 1.0 if maxval is None else maxval, seed)


def zeros_initializer(dtype="float32"):
    return Zeros()


def ones_initializer(dtype="float32"):
    return Ones()


def constant_initializer(value=0, dtype="float32", verify_shape=False):
    return Constant(value)


_CLASSES = {c.__name__: c for c in (
    Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Identity,
    Orthogonal)}
_ALIASES = {"zeros": Zeros, "ones": Ones, "constant": Constant, "random_uniform": RandomUniform,
            "random_normal": RandomNormal, "truncated_normal": TruncatedNormal,
            "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
            "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
            "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "identity": Identity,
            "orthogonal": Orthogonal}
globals().update(_ALIASES)


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'GlorotUniform'), a config
    dict ``{"class_name": ..., "config": ...}``, an instance or a callable."""
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"unknown initializer class {identifier.get('class_name')!r}; "
                             f"known: {sorted(_CLASSES)}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown initializer {identifier!r}; known: "
                             f"{sorted(_ALIASES) + sorted(_CLASSES)}")
        return cls()
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret initializer identifier {identifier!r}")
