"""Tensors and variables.

A `Tensor` is an immutable NumPy array plus an identity the tape can track. A
`Variable` is a named, mutable buffer; reading it inside a `GradientTape`
makes the tape watch it (when it is trainable), as in TensorFlow.

Dtype rules follow TF's conversion of Python values: a Python float (or a
list of them) becomes float32, a Python int becomes int32, a NumPy array keeps
its dtype. When an op mixes a tensor with a Python number, the number takes the
tensor's dtype (so ``x * 2`` stays float32).
"""

import numpy as np


def _default_dtype(value):
    """TF's dtype for a Python scalar (NumPy scalars carry their own dtype)."""
    t = type(value)
    if t is bool:
        return np.bool_
    if t is int:
        return np.int32 if -2**31 <= value < 2**31 else np.int64
    if t is float:
        return np.float32
    return None


def convert_to_tensor(value, dtype=None, name=None):
    """Returns `value` as a Tensor (a Tensor or Variable is returned as it is).

    Args:
      value: a Tensor, Variable, ndarray, Python number or (nested) list.
      dtype: optional dtype; a Python value is converted to it, a Tensor of
        another dtype raises.
      name: accepted for TF compatibility; unused.

    Raises:
      ValueError: a Tensor whose dtype differs from `dtype`.
    """
    del name
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != np.dtype(dtype):
            raise ValueError(
                f"Tensor conversion requested dtype {np.dtype(dtype).name} for a "
                f"Tensor with dtype {value.dtype.name}")
        return value
    if dtype is None and not isinstance(value, np.ndarray):
        dtype = _default_dtype(value)
        if dtype is None and isinstance(value, (list, tuple)):
            arr = np.asarray(value)
            # Lists of Python floats / ints: TF makes float32 / int32.
            if arr.dtype == np.float64:
                dtype = np.float32
            elif arr.dtype == np.int64:
                dtype = np.int32
            return Tensor(arr if dtype is None else arr.astype(dtype))
    return Tensor(np.asarray(value, dtype=dtype))


def constant(value, dtype=None, shape=None, name=None):
    """`tf.constant`: a Tensor holding `value`, optionally broadcast to `shape`."""
    t = convert_to_tensor(value, dtype, name)
    if shape is not None and tuple(t.shape) != tuple(shape):
        if t._value.size == 1:
            return Tensor(np.full(shape, t._value.reshape(()), dtype=t.dtype))
        if t._value.size != int(np.prod(shape)):
            raise TypeError(
                f"constant: expected {int(np.prod(shape))} values for shape {tuple(shape)}, "
                f"got {t._value.size}")
        return Tensor(t._value.reshape(shape))
    return t


class Tensor:
    """An immutable n-dimensional array.

    Attributes:
      shape: a tuple of ints.
      dtype: a NumPy dtype.
    """

    __slots__ = ("_value", "__weakref__")
    # Make ``ndarray + Tensor`` call Tensor.__radd__ rather than NumPy's own.
    __array_priority__ = 100

    def __init__(self, value):
        self._value = value if isinstance(value, np.ndarray) else np.asarray(value)

    # --- reading -----------------------------------------------------------------
    @property
    def shape(self):
        return self._value.shape

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def ndim(self):
        return self._value.ndim

    def numpy(self):
        """The value as an ndarray (shared with the tensor: do not mutate it)."""
        return self._value

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self._value.dtype:
            return self._value.astype(dtype)
        return self._value.copy() if copy else self._value

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len() of a scalar (0-d) tensor")
        return len(self._value)

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (self[i] for i in range(len(self._value)))

    def __bool__(self):
        return bool(self._value)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        return self._value.__index__()

    def __repr__(self):
        return (f"<tf.Tensor: shape={self.shape}, dtype={self.dtype.name}, "
                f"numpy={np.array2string(self._value, separator=', ')}>")

    # TF 2 tensors compare elementwise, so they cannot be dict keys either.
    __hash__ = None

    # --- operators (the ops live in minitf.ops) ---------------------------------------
    def __add__(self, o): return _math.add(self, o)
    def __radd__(self, o): return _math.add(o, self)
    def __sub__(self, o): return _math.subtract(self, o)
    def __rsub__(self, o): return _math.subtract(o, self)
    def __mul__(self, o): return _math.multiply(self, o)
    def __rmul__(self, o): return _math.multiply(o, self)
    def __truediv__(self, o): return _math.divide(self, o)
    def __rtruediv__(self, o): return _math.divide(o, self)
    def __matmul__(self, o): return _math.matmul(self, o)
    def __rmatmul__(self, o): return _math.matmul(o, self)
    def __pow__(self, o): return _math.pow(self, o)
    def __rpow__(self, o): return _math.pow(o, self)
    def __neg__(self): return _math.negative(self)
    def __abs__(self): return _math.abs(self)
    def __getitem__(self, key): return _array.getitem(self, key)
    def __lt__(self, o): return _math.less(self, o)
    def __le__(self, o): return _math.less_equal(self, o)
    def __gt__(self, o): return _math.greater(self, o)
    def __ge__(self, o): return _math.greater_equal(self, o)
    def __eq__(self, o): return _math.equal(self, o)
    def __ne__(self, o): return _math.not_equal(self, o)


class Variable(Tensor):
    """A named, mutable tensor: `tf.Variable`.

    Args:
      initial_value: a value, or a zero-argument callable returning one.
      trainable: whether a GradientTape watches it automatically.
      name: its name; `.name` reports it with TF's ``:0`` suffix.
      dtype: optional dtype to convert the initial value to.
      shape: optional expected shape (checked).

    `assign*` replace the buffer rather than write into it, so values a tape
    captured earlier keep their old contents (TF's copy-on-write). Optimizers
    update rows in place after the gradients are computed.
    """

    __slots__ = ("_name", "trainable")

    def __init__(self, initial_value, trainable=True, name=None, dtype=None, shape=None):
        if callable(initial_value):
            initial_value = initial_value()
        value = np.array(convert_to_tensor(initial_value, dtype)._value, copy=True)
        if dtype is not None:
            value = value.astype(dtype, copy=False)
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(
                f"Variable {name or 'Variable'}: initial value has shape {value.shape}, "
                f"expected {tuple(shape)}")
        super().__init__(value)
        self._name = name or "Variable"
        self.trainable = bool(trainable)

    @property
    def name(self):
        return self._name + ":0"

    def numpy(self):
        """A copy of the current value."""
        return self._value.copy()

    def value(self):
        return Tensor(self._value.copy())

    read_value = value

    def _checked(self, value, what):
        v = np.asarray(value._value if isinstance(value, Tensor) else value, dtype=self.dtype)
        if v.shape != self.shape:
            raise ValueError(
                f"Variable {self._name}: cannot {what} a value of shape {v.shape} to a "
                f"variable of shape {self.shape}")
        return v

    def assign(self, value):
        self._value = self._checked(value, "assign").copy()
        return self

    def assign_add(self, delta):
        self._value = self._value + self._checked(delta, "add")
        return self

    def assign_sub(self, delta):
        self._value = self._value - self._checked(delta, "subtract")
        return self

    def __repr__(self):
        return (f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}, "
                f"numpy={np.array2string(self._value, separator=', ')}>")


# Imported last: the ops import Tensor from here.
from minitf.ops import array as _array  # noqa: E402
from minitf.ops import math as _math  # noqa: E402
