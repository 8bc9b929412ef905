"""Serving input receivers (tf.estimator.export's), without a graph.

TF's receivers hold placeholder tensors and the graph ops that turn them into
features. Here a placeholder is a `TensorSpec` (dtype, shape with None for an
unknown dimension, name), and a feature is either one of the receiver's specs
itself (the raw receiver: the caller feeds the feature) or a `ParsedFeature`,
"feature `key` parsed with `spec` from the serialized tf.train.Examples fed to
`source`" (the parsing receiver). Those two are all an export can write down as
JSON, so they are all a receiver may hold::

    def serving_input_receiver_fn():
        examples = TensorSpec([None], "string", name="input_example_tensor")
        features = parse_example(examples, make_parse_example_spec(columns))
        return ServingInputReceiver(features, {"examples": examples})
"""

import collections

import numpy as np

from widedeep.feature_column.inputs import FixedLenFeature, VarLenFeature

DTYPES = ("string", "float32", "float64", "int32", "int64", "bool")
_NUMPY = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64,
          "bool": np.bool_}


def dtype_name(dtype, what="dtype"):
    """'string' | 'float32' | ... for a name, a NumPy dtype, str/bytes, or a tf.DType."""
    if dtype is str or dtype is bytes or dtype is object:
        return "string"
    if hasattr(dtype, "as_numpy_dtype"):  # a tf.DType
        dtype = dtype.name
    if not isinstance(dtype, str):
        try:
            dtype = np.dtype(dtype).name
        except TypeError:
            raise ValueError(f"{what}: not a dtype: {dtype!r}") from None
        if dtype.startswith(("str", "bytes")) or dtype == "object":
            dtype = "string"
    dtype = {"str": "string", "float": "float32", "bytes": "string", "object": "string"}.get(
        dtype, dtype)
    if dtype not in DTYPES:
        raise ValueError(f"{what}: dtype must be one of {list(DTYPES)}, got {dtype!r}")
    return dtype


class TensorSpec:
    """A placeholder: what a signature input accepts.

    Args:
      shape: a list of int or None (unknown; the batch dimension first), e.g.
        ``[None]`` for one value per example, ``[None, 3]`` for three.
      dtype: 'string', 'float32', 'float64', 'int32', 'int64' or 'bool' (or a
        NumPy / TF dtype naming one of them).
      name: TF's placeholder name (informative only).
    """

    __slots__ = ("shape", "dtype", "name")

    def __init__(self, shape, dtype, name=None):
        if isinstance(shape, (int, np.integer)) or shape is None:
            shape = [shape]
        try:
            shape = tuple(None if d is None else int(d) for d in shape)
        except (TypeError, ValueError):
            raise ValueError(f"TensorSpec {name!r}: shape must be a list of int or None, got "
                             f"{shape!r}") from None
        if any(d is not None and d < 0 for d in shape):
            raise ValueError(f"TensorSpec {name!r}: negative dimension in shape {list(shape)}")
        self.shape, self.dtype, self.name = shape, dtype_name(dtype, f"TensorSpec {name!r}"), name

    def __repr__(self):
        return f"TensorSpec(shape={list(self.shape)}, dtype={self.dtype!r}, name={self.name!r})"

    def to_json(self):
        return {"dtype": self.dtype, "shape": list(self.shape)}

    @classmethod
    def from_json(cls, d, name=None):
        return cls(d["shape"], d["dtype"], name)

    def check(self, value, what):
        """`value` as an ndarray of this spec's dtype and shape (strings as an object
        array of str/bytes), or ValueError naming `what`."""
        if type(value) is np.ndarray and value.ndim == len(self.shape) and (
                value.dtype == (object if self.dtype == "string" else _NUMPY[self.dtype])) and (
                all(d is None or d == n for d, n in zip(self.shape, value.shape))):
            # already what it should be (the common case when serving): no copy
            if self.dtype != "string" or all(isinstance(v, (str, bytes))
                                             for v in value.reshape(-1)[:1000]):
                return value
        if self.dtype == "string":
            if isinstance(value, np.ndarray) and value.dtype.kind in "SU":
                value = value.tolist()  # "S" arrays drop trailing NUL bytes: keep objects
            a = np.empty(np.shape(value) if not isinstance(value, (str, bytes)) else (),
                         dtype=object)
            a[...] = value
            flat = a.reshape(-1)
            for v in flat[:1000]:
                if not isinstance(v, (str, bytes)):
                    raise ValueError(f"{what}: expected strings (dtype string), got "
                                     f"{type(v).__name__} {v!r:.50}")
        else:
            try:
                a = np.asarray(value)
                if a.dtype.kind in "USO" and a.size:
                    raise TypeError(a.dtype)
                a = a.astype(_NUMPY[self.dtype], copy=False)
            except (TypeError, ValueError):
                raise ValueError(f"{what}: expected {self.dtype} values, got "
                                 f"{value!r:.80}") from None
        if a.ndim != len(self.shape) or any(
                d is not None and d != n for d, n in zip(self.shape, a.shape)):
            raise ValueError(f"{what}: expected shape {_shape_str(self.shape)}, got "
                             f"{list(a.shape)}")
        return a


def _shape_str(shape):
    return "[" + ", ".join("None" if d is None else str(d) for d in shape) + "]"


class ParsedFeature(collections.namedtuple("ParsedFeature", ["source", "key", "spec"])):
    """Feature `key`, parsed with `spec` (FixedLenFeature / VarLenFeature) from the
    serialized tf.train.Examples fed to the TensorSpec `source`."""


def parse_example(serialized, feature_spec):
    """`tf.io.parse_example` on a placeholder: {key: ParsedFeature}.

    Args:
      serialized: a TensorSpec of dtype string, shape [batch].
      feature_spec: {key: FixedLenFeature | VarLenFeature} (widedeep's or TF's).
    """
    if not isinstance(serialized, TensorSpec) or serialized.dtype != "string" or len(
            serialized.shape) != 1:
        raise ValueError(f"parse_example: serialized must be a string TensorSpec of shape "
                         f"[batch], got {serialized!r}")
    if not isinstance(feature_spec, dict) or not feature_spec:
        raise ValueError(f"feature_spec must be a non-empty dict, got {feature_spec!r:.200}")
    return {k: ParsedFeature(serialized, k, feature_spec_to_json(k, s))
            for k, s in feature_spec.items()}


def feature_spec_to_json(key, spec):
    name = type(spec).__name__
    if name == "FixedLenFeature":
        shape = [spec.shape] if isinstance(spec.shape, (int, np.integer)) else spec.shape
        dtype = dtype_name(spec.dtype, f"feature '{key}'")
        default = spec.default_value
        if default is not None:
            default = np.asarray(default, dtype=object if dtype == "string" else None)
            default = [v.decode() if isinstance(v, bytes) else v
                       for v in default.reshape(-1).tolist()]
        return {"type": "FixedLenFeature", "shape": [int(d) for d in shape], "dtype": dtype,
                "default_value": default}
    if name == "VarLenFeature":
        return {"type": "VarLenFeature", "dtype": dtype_name(spec.dtype, f"feature '{key}'")}
    raise ValueError(f"feature '{key}': only FixedLenFeature and VarLenFeature can be "
                     f"exported, got {spec!r:.200}")


def feature_spec_from_json(d):
    if d["type"] == "FixedLenFeature":
        return FixedLenFeature(tuple(d["shape"]), d["dtype"], d["default_value"])
    if d["type"] == "VarLenFeature":
        return VarLenFeature(d["dtype"])
    raise ValueError(f"unknown feature spec type {d['type']!r}")


def _wrap(value, default_key, what):
    if value is None:
        raise ValueError(f"{what} must be defined.")
    return dict(value) if isinstance(value, dict) else {default_key: value}


def _check_tensors(tensors, what, allow_parsed=False):
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise ValueError(f"{what} keys must be strings: {k!r}.")
        ok = isinstance(v, TensorSpec) or (allow_parsed and isinstance(v, ParsedFeature))
        if not ok:
            raise ValueError(f"{what} {k!r} must be a TensorSpec"
                             f"{' or ParsedFeature' if allow_parsed else ''} (a placeholder "
                             f"description), got {type(v).__name__}.")


class ServingInputReceiver(collections.namedtuple(
        "ServingInputReceiver", ["features", "receiver_tensors",
                                 "receiver_tensors_alternatives"])):
    """What a serving_input_receiver_fn returns (tf.estimator.export's).

    Args:
      features: {key: TensorSpec | ParsedFeature} (a single one becomes
        {'feature': it}, as TF's); what the model_fn gets.
      receiver_tensors: {name: TensorSpec} (a single one becomes {'input': it}):
        the signature inputs.
      receiver_tensors_alternatives: {alternative name: {name: TensorSpec}}:
        extra input sets; each gives signatures '<alternative>:<key>'.
    """

    def __new__(cls, features, receiver_tensors, receiver_tensors_alternatives=None):
        features = _wrap(features, "feature", "features")
        _check_tensors(features, "feature", allow_parsed=True)
        receiver_tensors = _wrap(receiver_tensors, "input", "receiver_tensors")
        _check_tensors(receiver_tensors, "receiver_tensor")
        alternatives = _alternatives(receiver_tensors_alternatives)
        return super().__new__(cls, features, receiver_tensors, alternatives)


class TensorServingInputReceiver(collections.namedtuple(
        "TensorServingInputReceiver", ["features", "receiver_tensors",
                                       "receiver_tensors_alternatives"])):
    """Like ServingInputReceiver, but `features` is one TensorSpec passed to the
    model_fn as is (not in a dict). Canned models take a dict of features, so
    they cannot be exported with it (as in TF, where their model_fn raises)."""

    def __new__(cls, features, receiver_tensors, receiver_tensors_alternatives=None):
        if features is None:
            raise ValueError("features must be defined.")
        if not isinstance(features, (TensorSpec, ParsedFeature)):
            raise ValueError(f"feature must be a TensorSpec or ParsedFeature, got "
                             f"{type(features).__name__}.")
        receiver_tensors = _wrap(receiver_tensors, "input", "receiver_tensors")
        _check_tensors(receiver_tensors, "receiver_tensor")
        return super().__new__(cls, features, receiver_tensors,
                               _alternatives(receiver_tensors_alternatives))


def _alternatives(alts):
    out = {}
    for name, tensors in (alts or {}).items():
        if not isinstance(name, str):
            raise ValueError(f"receiver_tensors_alternatives keys must be strings: {name!r}.")
        tensors = _wrap(tensors, "input", f"receiver_tensors_alternatives[{name!r}]")
        _check_tensors(tensors, f"receiver_tensors_alternatives[{name!r}] tensor")
        out[name] = tensors
    return out


def build_parsing_serving_input_receiver_fn(feature_spec, default_batch_size=None):
    """A receiver fn taking serialized tf.train.Examples ('examples', string
    [default_batch_size]) and parsing them with `feature_spec`."""
    for k, s in feature_spec.items():
        feature_spec_to_json(k, s)  # fails now on what cannot be exported

    def serving_input_receiver_fn():
        examples = TensorSpec([default_batch_size], "string", name="input_example_tensor")
        return ServingInputReceiver(parse_example(examples, feature_spec),
                                    {"examples": examples})
    return serving_input_receiver_fn


def build_raw_serving_input_receiver_fn(features, default_batch_size=None):
    """A receiver fn whose inputs are the features themselves.

    Args:
      features: {key: TensorSpec, or an example array (its dtype and its shape
        after the first dimension are taken)}; the batch dimension becomes
        `default_batch_size` (None: any), as TF's.
    """
    if not isinstance(features, dict) or not features:
        raise ValueError(f"features must be a non-empty dict, got {features!r:.200}")
    specs = {}
    for k, v in features.items():
        if isinstance(v, TensorSpec):
            shape, dtype = v.shape, v.dtype
        else:
            a = np.asarray(v)
            shape, dtype = a.shape, ("string" if a.dtype.kind in "USO" else a.dtype)
        if not shape:
            raise ValueError(f"feature {k!r}: needs a batch dimension, got a scalar")
        specs[k] = ([default_batch_size] + list(shape[1:]), dtype_name(dtype, f"feature {k!r}"))

    def serving_input_receiver_fn():
        tensors = {k: TensorSpec(shape, dtype, name=k) for k, (shape, dtype) in specs.items()}
        return ServingInputReceiver(tensors.copy(), tensors)
    return serving_input_receiver_fn
