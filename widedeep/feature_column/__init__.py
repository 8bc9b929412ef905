"""`tf.feature_column` for widedeep: the column constructors, with TF 2.15's
arguments, defaults and argument checks, and the two layers the canned models
use (`LinearModel` for the wide part, `DenseFeatures` for the deep part).

    import widedeep.feature_column as fc
    age = fc.numeric_column("age")
    edu = fc.categorical_column_with_vocabulary_list("education", ["Bachelors", ...])
    wide = [fc.bucketized_column(age, [18, 25, 30]), fc.crossed_column([edu, "occupation"], 1000)]
    deep = [age, fc.embedding_column(edu, 8)]
"""

import numpy as np

from widedeep.feature_column.columns import (  # noqa: F401
    DEFAULT_HASH_KEY,
    BucketizedColumn,
    CategoricalColumn,
    CrossedColumn,
    DenseColumn,
    EmbeddingColumn,
    FeatureColumn,
    HashedCategoricalColumn,
    IdentityCategoricalColumn,
    IdWeightPair,
    IndicatorColumn,
    NumericColumn,
    SharedEmbeddingColumn,
    TransformCache,
    VocabularyFileCategoricalColumn,
    VocabularyListCategoricalColumn,
    WeightedCategoricalColumn,
    _dtype_name,
    deserialize,
    read_vocabulary_file,
    serialize,
)
from widedeep.feature_column.inputs import FixedLenFeature, VarLenFeature  # noqa: F401
from widedeep.feature_column.layers import DenseFeatures, LinearModel  # noqa: F401

_COMBINERS = ("mean", "sqrtn", "sum")


def _check_key(key, what):
    if not isinstance(key, str) or not key:
        raise ValueError(f"{what}: key must be a non-empty string, got {key!r}")


def numeric_column(key, shape=(1,), default_value=None, dtype="float32", normalizer_fn=None):
    """A dense feature: float32 [batch, *shape].

    Raises:
      TypeError: a non-integer dimension, or a normalizer_fn that is not callable.
      ValueError: a dimension < 1, or a dtype that is not a number type.
    """
    _check_key(key, "numeric_column")
    shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)
    for d in shape:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"numeric_column '{key}': shape dimensions must be integers, "
                            f"got shape {shape}")
        if d < 1:
            raise ValueError(f"numeric_column '{key}': shape dimensions must be greater than "
                             f"0, got shape {shape}")
    shape = tuple(int(d) for d in shape)
    dtype = _dtype_name(dtype, f"numeric_column '{key}'")
    if dtype == "string":
        raise ValueError(f"numeric_column '{key}': dtype must be convertible to float, got "
                         f"string")
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"numeric_column '{key}': normalizer_fn must be a callable, got "
                        f"{normalizer_fn!r}")
    if default_value is not None:
        # As TF: a scalar fills the shape; otherwise it must have the shape. Kept as a
        # nested tuple (hashable), e.g. shape (2,) with 0. -> (0.0, 0.0).
        d = np.asarray(default_value)
        if d.dtype.kind not in "iuf" or (d.ndim and d.shape != shape):
            raise TypeError(f"numeric_column '{key}': default_value {default_value!r} is "
                            f"not compatible with shape {shape} and dtype {dtype}")
        default_value = _tuplify(np.broadcast_to(d, shape).tolist())
    return NumericColumn(key, shape, default_value, dtype, normalizer_fn)


def bucketized_column(source_column, boundaries):
    """Buckets of a 1-D numeric column; bucket i is [boundaries[i-1], boundaries[i])."""
    if not isinstance(source_column, NumericColumn):
        raise ValueError(f"bucketized_column: source_column must be a numeric_column, got "
                         f"{source_column!r}")
    if len(source_column.shape) > 1:
        raise ValueError(f"bucketized_column: source_column '{source_column.key}' must be "
                         f"one-dimensional, got shape {source_column.shape}")
    if not boundaries or not isinstance(boundaries, (list, tuple)):
        raise ValueError(f"bucketized_column '{source_column.key}': boundaries must be a "
                         f"non-empty sorted list, got {boundaries!r}")
    b = [float(x) for x in boundaries]
    if any(b[i] >= b[i + 1] for i in range(len(b) - 1)):
        raise ValueError(f"bucketized_column '{source_column.key}': boundaries must be "
                         f"sorted and distinct, got {list(boundaries)}")
    return BucketizedColumn(source_column, tuple(b))


def _check_categorical_dtype(dtype, key, what):
    name = _dtype_name(dtype, f"{what} '{key}'")
    if name not in ("string", "int64", "int32"):
        raise ValueError(f"{what} '{key}': dtype must be string or integer, got {dtype!r}")
    return name


def categorical_column_with_hash_bucket(key, hash_bucket_size, dtype="string"):
    """Ids by hashing: Fingerprint64(value) % hash_bucket_size (ints as strings)."""
    _check_key(key, "categorical_column_with_hash_bucket")
    if hash_bucket_size is None or hash_bucket_size < 1:
        raise ValueError(f"categorical_column_with_hash_bucket '{key}': hash_bucket_size "
                         f"must be at least 1, got {hash_bucket_size}")
    dtype = _check_categorical_dtype(dtype, key, "categorical_column_with_hash_bucket")
    return HashedCategoricalColumn(key, int(hash_bucket_size), dtype)


def _check_oov(key, what, default_value, num_oov_buckets):
    if num_oov_buckets:
        if default_value != -1:
            raise ValueError(f"{what} '{key}': can't specify both num_oov_buckets and "
                             f"default_value")
        if num_oov_buckets < 0:
            raise ValueError(f"{what} '{key}': num_oov_buckets must be >= 0, got "
                             f"{num_oov_buckets}")


def categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None, default_value=-1,
                                            num_oov_buckets=0):
    """Ids by position in `vocabulary_list`; values not in it get `default_value`
    (-1: dropped downstream), or, with `num_oov_buckets`, an id in
    [len(vocabulary_list), len + num_oov_buckets) by hash."""
    what = "categorical_column_with_vocabulary_list"
    _check_key(key, what)
    if vocabulary_list is None or len(vocabulary_list) < 1:
        raise ValueError(f"{what} '{key}': vocabulary_list must be non-empty, got "
                         f"{vocabulary_list!r}")
    vocab = tuple(v.decode("utf-8") if isinstance(v, bytes) else v for v in vocabulary_list)
    if len(set(vocab)) != len(vocab):
        dup = sorted({v for v in vocab if vocab.count(v) > 1})
        raise ValueError(f"{what} '{key}': duplicate keys in vocabulary_list: {dup}")
    _check_oov(key, what, default_value, num_oov_buckets)
    vdtype = "string" if all(isinstance(v, str) for v in vocab) else (
        "int64" if all(isinstance(v, (int, np.integer)) for v in vocab) else None)
    if vdtype is None:
        raise ValueError(f"{what} '{key}': vocabulary must be all strings or all integers, "
                         f"got {vocabulary_list!r:.200}")
    if dtype is None:
        dtype = vdtype
    else:
        dtype = _check_categorical_dtype(dtype, key, what)
        if (dtype == "string") != (vdtype == "string"):
            raise ValueError(f"{what} '{key}': dtype {dtype} and vocabulary dtype {vdtype} "
                             f"do not match")
    if vdtype != "string":
        vocab = tuple(int(v) for v in vocab)
    return VocabularyListCategoricalColumn(key, vocab, dtype, int(default_value),
                                           int(num_oov_buckets))


def categorical_column_with_vocabulary_file(key, vocabulary_file, vocabulary_size=None,
                                            num_oov_buckets=0, default_value=None,
                                            dtype="string"):
    """Like the vocabulary list column, with one token per line of a file."""
    what = "categorical_column_with_vocabulary_file"
    _check_key(key, what)
    if not vocabulary_file:
        raise ValueError(f"{what} '{key}': missing vocabulary_file")
    tokens = read_vocabulary_file(vocabulary_file, key)
    if vocabulary_size is None:
        vocabulary_size = len(tokens)
    if vocabulary_size < 1:
        raise ValueError(f"{what} '{key}': vocabulary_size must be > 0, got "
                         f"{vocabulary_size} ({vocabulary_file})")
    if num_oov_buckets:
        if default_value is not None:
            raise ValueError(f"{what} '{key}': can't specify both num_oov_buckets and "
                             f"default_value")
        if num_oov_buckets < 0:
            raise ValueError(f"{what} '{key}': num_oov_buckets must be >= 0, got "
                             f"{num_oov_buckets}")
    dtype = _check_categorical_dtype(dtype, key, what)
    col = VocabularyFileCategoricalColumn(
        key, str(vocabulary_file), int(vocabulary_size), int(num_oov_buckets), dtype,
        -1 if default_value is None else int(default_value), None)
    col._table()  # reads and checks the file now, as TF checks vocabulary_size
    return col


def categorical_column_with_identity(key, num_buckets, default_value=None):
    """The integer value is the id, in [0, num_buckets)."""
    what = "categorical_column_with_identity"
    _check_key(key, what)
    if num_buckets is None or num_buckets < 1:
        raise ValueError(f"{what} '{key}': num_buckets must be >= 1, got {num_buckets}")
    if default_value is not None and not 0 <= default_value < num_buckets:
        raise ValueError(f"{what} '{key}': default_value {default_value} is not in "
                         f"[0, {num_buckets})")
    return IdentityCategoricalColumn(key, int(num_buckets),
                                     None if default_value is None else int(default_value))


def weighted_categorical_column(categorical_column, weight_feature_key, dtype="float32"):
    """Gives each id of `categorical_column` the weight in `weight_feature_key`."""
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(f"weighted_categorical_column: categorical_column must be a "
                         f"categorical column, got {categorical_column!r}")
    if weight_feature_key is None:
        raise ValueError("weighted_categorical_column: weight_feature_key must be given")
    dtype = _dtype_name(dtype, f"weighted_categorical_column '{weight_feature_key}'")
    if not dtype.startswith("float"):
        raise ValueError(f"weighted_categorical_column: dtype {dtype} is not convertible to "
                         f"float")
    return WeightedCategoricalColumn(categorical_column, weight_feature_key, dtype)


def crossed_column(keys, hash_bucket_size, hash_key=None):
    """Hashed crosses of two or more features: raw feature names (strings or
    ints), or categorical columns other than hashed ones."""
    if not hash_bucket_size or hash_bucket_size < 1:
        raise ValueError(f"crossed_column: hash_bucket_size must be > 1, got "
                         f"{hash_bucket_size}")
    if not keys or len(keys) < 2:
        raise ValueError(f"crossed_column: keys must be a list with length > 1, got "
                         f"{keys!r}")
    for k in keys:
        if isinstance(k, str):
            continue
        if isinstance(k, HashedCategoricalColumn):
            raise ValueError(
                f"crossed_column does not support a categorical_column_with_hash_bucket "
                f"('{k.key}'): hashing before crossing increases collisions; pass its "
                f"feature name '{k.key}' instead")
        if not isinstance(k, CategoricalColumn):
            raise ValueError(f"crossed_column: unsupported key {k!r}; keys must be feature "
                             f"names or categorical columns")
    return CrossedColumn(tuple(keys), int(hash_bucket_size), hash_key)


def indicator_column(categorical_column):
    """Multi-hot [batch, num_buckets] of a categorical column, for the DNN."""
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(f"indicator_column: expected a categorical column, got "
                         f"{categorical_column!r}")
    return IndicatorColumn(categorical_column)


def _check_embedding(categorical_column, dimension, combiner, initializer, ckpt_to_load_from,
                     tensor_name_in_ckpt, what):
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(f"{what}: expected a categorical column, got {categorical_column!r}")
    name = categorical_column.name
    if dimension is None or dimension < 1:
        raise ValueError(f"{what} '{name}': dimension must be > 0, got {dimension}")
    if combiner not in _COMBINERS:
        raise ValueError(f"{what} '{name}': combiner must be one of 'mean', 'sqrtn' or "
                         f"'sum', got {combiner!r}")
    if initializer is not None and not callable(initializer):
        raise ValueError(f"{what} '{name}': initializer must be callable, got "
                         f"{initializer!r}")
    if (ckpt_to_load_from is None) != (tensor_name_in_ckpt is None):
        raise ValueError(f"{what} '{name}': ckpt_to_load_from and tensor_name_in_ckpt must "
                         f"be given together")


def embedding_column(categorical_column, dimension, combiner="mean", initializer=None,
                     ckpt_to_load_from=None, tensor_name_in_ckpt=None, max_norm=None,
                     trainable=True, use_safe_embedding_lookup=True):
    """A learned [num_buckets, dimension] table; each example gets the `combiner`
    of its ids' rows. Default initializer: truncated normal, stddev 1/sqrt(dimension)."""
    _check_embedding(categorical_column, dimension, combiner, initializer, ckpt_to_load_from,
                     tensor_name_in_ckpt, "embedding_column")
    return EmbeddingColumn(categorical_column, int(dimension), combiner, initializer,
                           ckpt_to_load_from, tensor_name_in_ckpt, max_norm, bool(trainable),
                           bool(use_safe_embedding_lookup))


def shared_embeddings(categorical_columns, dimension, combiner="mean", initializer=None,
                      shared_embedding_collection_name=None, ckpt_to_load_from=None,
                      tensor_name_in_ckpt=None, max_norm=None, trainable=True,
                      use_safe_embedding_lookup=True):
    """Embedding columns sharing one table (all columns must have the same number
    of buckets). The table is named `shared_embedding_collection_name`, by
    default the sorted column names joined by '_' + '_shared_embedding'.

    Unlike TF 2.15, which refuses these when executing eagerly, they work here.
    """
    cols = list(categorical_columns)
    if not cols:
        raise ValueError("shared_embeddings: categorical_columns must be non-empty")
    for c in cols:
        _check_embedding(c, dimension, combiner, initializer, ckpt_to_load_from,
                         tensor_name_in_ckpt, "shared_embeddings")
        if c.num_buckets != cols[0].num_buckets:
            raise ValueError(f"shared_embeddings: all categorical_columns must have the same "
                             f"number of buckets; '{cols[0].name}' has "
                             f"{cols[0].num_buckets}, '{c.name}' has {c.num_buckets}")
    name = shared_embedding_collection_name or (
        "_".join(sorted(c.name for c in cols)) + "_shared_embedding")
    return [SharedEmbeddingColumn(c, int(dimension), combiner, initializer, name,
                                  ckpt_to_load_from, tensor_name_in_ckpt, max_norm,
                                  bool(trainable), bool(use_safe_embedding_lookup))
            for c in cols]


def make_parse_example_spec(feature_columns):
    """{feature key: FixedLenFeature | VarLenFeature} for parsing tf.Examples."""
    spec = {}
    for c in feature_columns:
        if not isinstance(c, FeatureColumn):
            raise ValueError(f"make_parse_example_spec: expected feature columns, got {c!r}")
        for k, v in c.parse_example_spec.items():
            if k in spec and spec[k] != v:
                raise ValueError(f"make_parse_example_spec: feature '{k}' is parsed two "
                                 f"ways: {spec[k]} and {v}")
            spec[k] = v
    return spec


def _tuplify(v):
    return tuple(_tuplify(x) for x in v) if isinstance(v, list) else v
