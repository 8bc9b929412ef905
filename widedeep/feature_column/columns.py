"""The feature-column kinds of `tf.feature_column` (TF 2.15), as immutable objects.

A column turns raw features into what a model consumes:

* a *categorical* column gives an ``IdWeightPair``: a 2-D SparseTensor of bucket
  ids per example (and optional per-id weights), ``num_buckets`` wide;
* a *dense* column gives a float32 block ``[batch, *variable_shape]`` (an
  embedding column looks its ids up in a variable the layer owns).

Transforms run on NumPy arrays, vectorised; a `TransformCache` computes each
column once per batch even when several columns share it (a vocabulary column
both crossed and embedded, say). Names, ids and defaults are TF's; where TF
does something surprising the comment says so.
"""

import collections
import math

import numpy as np

from minitf import hashing
from minitf.kernels.lookup import lookup_ucs4, make_table
from minitf.ops.sparse import one_valid_id_per_row
from minitf.sparse import SparseTensor
from widedeep.feature_column.inputs import (
    FixedLenFeature,
    VarLenFeature,
    as_strings,
    kind,
    raw_feature,
    taken_as_is,
    to_sparse,
)

IdWeightPair = collections.namedtuple("IdWeightPair", ["id_tensor", "weight_tensor"])

# TF's default key for FingerprintCat64 in crosses (sparse_cross_op's kDefaultHashKey).
DEFAULT_HASH_KEY = 0xDECAFCAFFE
# Fingerprint64 of the empty string (farmhash's k2).
FINGERPRINT64_EMPTY = np.uint64(0x9AE16A3B2F90404F)
_DTYPES = {"string": "string", "str": "string", "object": "string", "int64": "int64",
           "int32": "int32", "float32": "float32", "float64": "float64"}


def _dtype_name(dtype, what):
    """'string' | 'int64' | 'int32' | 'float32' | 'float64' for a dtype given as TF
    does (a name, a NumPy dtype, str, or minitf's names)."""
    if dtype is str or dtype is bytes:
        return "string"
    name = str(np.dtype(dtype)) if not isinstance(dtype, str) else dtype
    name = {"<U0": "string", "|S0": "string", "bool": "bool"}.get(name, name)
    if name not in _DTYPES:
        raise ValueError(f"{what}: dtype must be one of {sorted(set(_DTYPES.values()))}, "
                         f"got {dtype!r}")
    return _DTYPES[name]


_UNSET = object()  # a TransformCache entry not computed yet


class TransformCache:
    """Transforms of one batch of `features`, each column computed once."""

    def __init__(self, features):
        if not isinstance(features, dict):
            raise TypeError(f"features must be a dict of name -> array, got "
                            f"{type(features).__name__}")
        self.features = features
        self._done, self._raw = {}, {}

    def raw(self, key, column_name):
        """`raw_feature(features, key, ...)`, converted once per batch however many
        columns read the feature."""
        x = self._raw.get(key)
        if x is None:
            x = self._raw[key] = raw_feature(self.features, key, column_name)
        return x

    # (Each cached transform is looked up once, with `_UNSET` for "not yet":
    # None is a result too, and hashing a column's key costs ~0.1 us a time.)
    def get(self, column):
        out = self._done.get(column, _UNSET)
        if out is _UNSET:
            out = self._done[column] = column._transform(self)
        return out

    def single_ids(self, column):
        """int64 [batch] ids of categorical `column` when every row holds exactly
        one id in [0, num_buckets) and there are no weights (the common case,
        where a lookup is just ``table[ids]``); otherwise None. Dense one-value
        inputs take the column's `_single_ids` lane, which skips building a
        SparseTensor; anything it cannot decide goes through `id_weight_pair`,
        the reference, so both give the same ids."""
        key = ("single", column)
        ids = self._done.get(key, _UNSET)
        if ids is _UNSET:
            ids = column._single_ids(self)
            if ids is None:
                ids, weights = column.id_weight_pair(self)
                ids = (ids.values if weights is None
                       and one_valid_id_per_row(ids, column.num_buckets) else None)
            self._done[key] = ids
        return ids

    def single_value(self, key, column_name):
        """`features[key]` as a 1-D array when it is dense with one value per
        example ([batch] or [batch, 1]); else None."""
        done = ("single_value", key)
        x = self._done.get(done, _UNSET)
        if x is _UNSET:
            x = self.features.get(key)
            # A 1-D array raw_feature takes as it is (as [batch, 1]): itself,
            # without the round trip through raw (~0.6 us a feature).
            if not (taken_as_is(x) and x.ndim == 1):
                x = self.raw(key, column_name)
                ok = isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] == 1
                x = x[:, 0] if ok else None
            self._done[done] = x
        return x

    def fingerprints(self, key, column_name):
        """uint64 Fingerprint64 of a dense one-value string feature (computed once
        per batch: a feature hashed, and crossed twice, is hashed once); None
        when the feature is not that."""
        done = ("fingerprints", key)
        h = self._done.get(done, _UNSET)
        if h is _UNSET:
            x = self.single_value(key, column_name)
            ok = x is not None and kind(x) == "string"
            h = self._done[done] = hashing.fingerprint64(as_strings(x, key)) if ok else None
        return h


class FeatureColumn:
    """Common surface: `name`, `parse_example_spec`, JSON config."""

    _kind = None  # TF's class name, used in the JSON config

    def __lt__(self, other):  # columns sort by name, as TF's layers order them
        return self.name < other.name

    def get_config(self):
        """A JSON-able dict from which `from_config` rebuilds this column exactly."""
        cfg = {}
        for f, v in zip(self._fields, self):
            if isinstance(v, FeatureColumn):
                v = serialize(v)
            elif isinstance(v, tuple) and any(isinstance(c, FeatureColumn) for c in v):
                v = [serialize(c) if isinstance(c, FeatureColumn) else c for c in v]
            elif isinstance(v, tuple):
                v = list(v)
            cfg[f] = v
        return cfg


class DenseColumn(FeatureColumn):
    pass


class CategoricalColumn(FeatureColumn):
    def id_weight_pair(self, cache):
        return cache.get(self)

    def _single_ids(self, cache):
        """The fast lane of `TransformCache.single_ids`: ids in [0, num_buckets),
        one per row, computed without a SparseTensor; None when this column
        cannot tell cheaply (the cache then asks `id_weight_pair`)."""
        return None


def _in_range(ids, n):
    """`ids` when all are in [0, n), else None."""
    return ids if len(ids) and 0 <= ids.min() and ids.max() < n else None


def _all(mask):
    """`mask.all()` for a bool array, in ~0.3 us instead of ~0.9 (the per-batch
    checks run on small arrays, where a reduction's fixed cost is all of it)."""
    return np.count_nonzero(mask) == mask.size


# --- numeric and bucketized ---------------------------------------------------------------
class NumericColumn(DenseColumn, collections.namedtuple(
        "NumericColumn", ["key", "shape", "default_value", "dtype", "normalizer_fn"])):
    """`numeric_column`: the feature as float32 ``[batch, *shape]``."""

    _kind = "NumericColumn"

    @property
    def name(self):
        return self.key

    @property
    def variable_shape(self):
        return self.shape

    @property
    def parse_example_spec(self):
        return {self.key: FixedLenFeature(self.shape, self.dtype, self.default_value)}

    def _transform(self, cache):
        x = cache.raw(self.key, self.name)
        if isinstance(x, SparseTensor):
            raise ValueError(f"numeric_column '{self.key}': the feature must be dense (an "
                             f"array), got a SparseTensor")
        if x.dtype.kind not in "iufb":
            raise ValueError(f"numeric_column '{self.key}': expected numbers, got dtype "
                             f"{x.dtype}")
        if self.normalizer_fn is not None:
            x = np.asarray(self.normalizer_fn(x))
        n = math.prod(self.shape)
        if len(x) and math.prod(x.shape[1:]) != n:
            raise ValueError(f"numeric_column '{self.key}': expected {n} value(s) per example "
                             f"(shape {self.shape}), got shape {x.shape[1:]}")
        x = x.astype(np.float32, copy=False)
        shape = (len(x),) + tuple(self.shape)
        return x if x.shape == shape else x.reshape(shape)

    def dense(self, cache, layer=None):
        return cache.get(self)

    def get_config(self):
        if self.normalizer_fn is not None:
            raise ValueError(
                f"numeric_column '{self.key}': its normalizer_fn {self.normalizer_fn!r} is "
                f"Python code and cannot be written to JSON. Normalize the feature in the "
                f"input_fn and in the serving input receiver instead, or use "
                f"normalizer_fn=None.")
        cfg = super().get_config()
        cfg["shape"] = list(self.shape)
        if self.default_value is not None:
            cfg["default_value"] = np.asarray(self.default_value).tolist()
        return cfg


class BucketizedColumn(DenseColumn, CategoricalColumn, collections.namedtuple(
        "BucketizedColumn", ["source_column", "boundaries"])):
    """`bucketized_column`: bucket b holds boundaries[b-1] <= x < boundaries[b]."""

    _kind = "BucketizedColumn"

    @property
    def name(self):
        return f"{self.source_column.name}_bucketized"

    @property
    def parse_example_spec(self):
        return self.source_column.parse_example_spec

    @property
    def num_buckets(self):
        return (len(self.boundaries) + 1) * self.source_column.shape[0]

    @property
    def variable_shape(self):
        return tuple(self.source_column.shape) + (len(self.boundaries) + 1,)

    def _transform(self, cache):
        x = cache.get(self.source_column)
        bounds = self.__dict__.get("_bounds")  # (namedtuple: the instance dict is a cache)
        if bounds is None:
            bounds = self.__dict__["_bounds"] = np.asarray(self.boundaries, np.float64)
        # (The method, not np.searchsorted's Python wrapper; intp is int64 here.)
        return bounds.searchsorted(x.astype(np.float64), side="right").astype(np.int64,
                                                                               copy=False)

    def _single_ids(self, cache):
        b = cache.get(self)
        return b.reshape(len(b)) if b.shape[1:] == (1,) else None  # id = bucket when dim 1

    def dense(self, cache, layer=None):
        """One-hot ``[batch, dim, len(boundaries) + 1]``."""
        b = cache.get(self)
        return np.eye(len(self.boundaries) + 1, dtype=np.float32)[b]

    def id_weight_pair(self, cache):
        """Ids ``bucket + (len(boundaries) + 1) * i`` for the i-th source value, so
        each dimension of the source has its own buckets."""
        b = cache.get(self)
        batch, dim = b.shape
        rows = np.repeat(np.arange(batch, dtype=np.int64), dim)
        cols = np.tile(np.arange(dim, dtype=np.int64), batch)
        ids = b.reshape(-1) + (len(self.boundaries) + 1) * cols
        return IdWeightPair(SparseTensor(np.stack([rows, cols], 1), ids, [batch, dim]), None)


# --- categorical from raw values ----------------------------------------------------------
def _categorical_input(cache, column, want):
    """The column's feature as a SparseTensor without missing cells, checking that
    its values are `want` ('string' or 'int')."""
    sp = to_sparse(cache.raw(column.key, column.name))
    got = kind(sp.values)
    if want == "int" and got != "int" or want == "string" and got != "string":
        raise ValueError(f"{type(column).__name__} '{column.key}': column dtype is "
                         f"{column.dtype} but the feature holds {got} values "
                         f"(dtype {sp.values.dtype})")
    return sp


def _ucs4(a):
    """A unicode array's code points, uint32 [n, width], NUL-padded (what the
    string kernels read)."""
    if a.ndim != 1 or not a.flags.c_contiguous:  # (a batch's feature is; 0.3 us less)
        a = np.ascontiguousarray(a).reshape(-1)
    width = a.dtype.itemsize // 4
    if width == 0:
        return np.zeros((len(a), 0), np.uint32)
    return a.view(np.uint32).reshape(len(a), width)


def _with_values(sp, values):
    return SparseTensor._trusted(sp.indices, values, sp.dense_shape)


class HashedCategoricalColumn(CategoricalColumn, collections.namedtuple(
        "HashedCategoricalColumn", ["key", "hash_bucket_size", "dtype"])):
    """`categorical_column_with_hash_bucket`: id = Fingerprint64(value) % size; an
    integer value is hashed as its decimal string, as TF's ``as_string`` gives it."""

    _kind = "HashedCategoricalColumn"

    @property
    def name(self):
        return self.key

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    @property
    def parse_example_spec(self):
        return {self.key: VarLenFeature(self.dtype)}

    def _transform(self, cache):
        sp = _categorical_input(cache, self, "string" if self.dtype == "string" else "int")
        values = (as_strings(sp.values, self.key) if self.dtype == "string"
                  else sp.values.astype(np.int64).astype(str))
        ids = hashing.to_hash_bucket_fast(values, self.hash_bucket_size).astype(np.int64)
        return IdWeightPair(_with_values(sp, ids), None)

    def _single_ids(self, cache):
        if self.dtype != "string":
            return None
        h = cache.fingerprints(self.key, self.name)
        if h is None or not len(h):
            return None
        # '' is a missing value. Its hash is FINGERPRINT64_EMPTY, so the strings
        # are compared only when a hash is that (1.4 us less a batch).
        if np.count_nonzero(h == FINGERPRINT64_EMPTY) and np.count_nonzero(
                cache.single_value(self.key, self.name) == ""):
            return None
        return (h % np.uint64(self.hash_bucket_size)).view(np.int64)  # astype's bits


class _VocabularyLookup:
    """Shared by the vocabulary list and file columns: value -> index in the
    vocabulary; out of vocabulary -> vocab_size + hash % num_oov_buckets, or
    default_value when there are no OOV buckets."""

    def _table(self):
        """(sorted keys, their positions in the vocabulary), built on first use.
        (Columns are namedtuples; the subclass's instance dict holds the cache.)"""
        t = self.__dict__.get("_table_cache")
        if t is None:
            vocab = self._vocabulary()
            at = np.arange(len(vocab), dtype=np.int64)
            if self.dtype == "string":
                # NumPy's string arrays drop trailing NULs, so no value looked up
                # ends in one: an entry that does (a key of its own in TF) matches
                # nothing, and stays out of the table.
                at = np.array([i for i, v in enumerate(vocab) if not v.endswith("\0")],
                              np.int64)
                keys = np.asarray([vocab[i] for i in at], str)
            else:
                keys = np.asarray(vocab, np.int64)
            order = np.argsort(keys, kind="stable")
            keys = keys[order]
            t = self.__dict__["_table_cache"] = (
                keys, at[order],
                make_table(_ucs4(keys), at[order]) if self.dtype == "string" else None)
        return t

    def _search(self, values):
        """(values as str / int64, ids: the vocabulary index or default_value,
        found mask, number of missing values ('' or -1))."""
        keys, pos, table = self._table()
        if self.dtype == "string":
            values = as_strings(values, self.key)
            ids, found, empties = lookup_ucs4(_ucs4(values), table, int(self.default_value))
            return values, ids, found, empties
        values = values.astype(np.int64)
        if len(keys):
            at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
            found = keys[at] == values
            ids = np.where(found, pos[at], self.default_value).astype(np.int64)
        else:
            found = np.zeros(values.shape, bool)
            ids = np.full(values.shape, self.default_value, np.int64)
        return values, ids, found, int((values == -1).sum())

    def _lookup(self, values):
        values, ids, found, _ = self._search(values)
        if self.num_oov_buckets and not _all(found):
            miss = ~found
            s = values[miss] if self.dtype == "string" else values[miss].astype(str)
            ids[miss] = self._vocab_size() + hashing.to_hash_bucket_fast(s, self.num_oov_buckets)
        return ids

    @property
    def num_buckets(self):
        return self._vocab_size() + self.num_oov_buckets

    @property
    def parse_example_spec(self):
        return {self.key: VarLenFeature(self.dtype)}

    def _transform(self, cache):
        sp = _categorical_input(cache, self, "string" if self.dtype == "string" else "int")
        return IdWeightPair(_with_values(sp, self._lookup(sp.values)), None)

    def _single_ids(self, cache):
        x = cache.single_value(self.key, self.name)
        if x is None or kind(x) != ("string" if self.dtype == "string" else "int"):
            return None
        values, ids, found, missing = self._search(x)
        if missing or not len(ids):
            return None
        if _all(found):  # vocabulary positions: all in range
            return ids
        if self.num_oov_buckets:  # the misses go to the OOV buckets: all in range
            return self._lookup(values)
        return ids if 0 <= self.default_value < self.num_buckets else None


class VocabularyListCategoricalColumn(_VocabularyLookup, CategoricalColumn,
                                      collections.namedtuple(
                                          "VocabularyListCategoricalColumn",
                                          ["key", "vocabulary_list", "dtype", "default_value",
                                           "num_oov_buckets"])):
    """`categorical_column_with_vocabulary_list`."""

    _kind = "VocabularyListCategoricalColumn"

    @property
    def name(self):
        return self.key

    def _vocabulary(self):
        return self.vocabulary_list

    def _vocab_size(self):
        return len(self.vocabulary_list)


class VocabularyFileCategoricalColumn(_VocabularyLookup, CategoricalColumn,
                                      collections.namedtuple(
                                          "VocabularyFileCategoricalColumn",
                                          ["key", "vocabulary_file", "vocabulary_size",
                                           "num_oov_buckets", "dtype", "default_value",
                                           "file_format"])):
    """`categorical_column_with_vocabulary_file`: one token per line; the first
    `vocabulary_size` lines are the vocabulary."""

    _kind = "VocabularyFileCategoricalColumn"

    @property
    def name(self):
        return self.key

    def _vocabulary(self):
        tokens = read_vocabulary_file(self.vocabulary_file, self.key)
        if self.vocabulary_size is not None:
            if len(tokens) < self.vocabulary_size:
                raise ValueError(
                    f"categorical_column_with_vocabulary_file '{self.key}': vocabulary_size "
                    f"is {self.vocabulary_size} but {self.vocabulary_file} has only "
                    f"{len(tokens)} lines")
            tokens = tokens[:self.vocabulary_size]
        return tokens if self.dtype == "string" else [int(t) for t in tokens]

    def _vocab_size(self):
        return self.vocabulary_size


def read_vocabulary_file(path, key):
    try:
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\r\n") for line in f]
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"vocabulary file for column '{key}' cannot be read: {path}: "
                         f"{e}") from None


class IdentityCategoricalColumn(CategoricalColumn, collections.namedtuple(
        "IdentityCategoricalColumn", ["key", "number_buckets", "default_value"])):
    """`categorical_column_with_identity`: the value is the id; out-of-range values
    take `default_value`, or raise when it is None."""

    _kind = "IdentityCategoricalColumn"

    @property
    def name(self):
        return self.key

    @property
    def num_buckets(self):
        return self.number_buckets

    @property
    def parse_example_spec(self):
        return {self.key: VarLenFeature("int64")}

    def _transform(self, cache):
        sp = _categorical_input(cache, self, "int")
        ids = sp.values.astype(np.int64)
        bad = (ids < 0) | (ids >= self.number_buckets)
        if bad.any():
            if self.default_value is None:
                raise ValueError(
                    f"categorical_column_with_identity '{self.key}': value {int(ids[bad][0])} "
                    f"is not in [0, {self.number_buckets}) and default_value is None")
            ids = np.where(bad, self.default_value, ids)
        return IdWeightPair(_with_values(sp, ids), None)

    def _single_ids(self, cache):
        x = cache.single_value(self.key, self.name)
        if x is None or kind(x) != "int":
            return None
        return _in_range(x.astype(np.int64), self.number_buckets)  # -1 (missing) too


class WeightedCategoricalColumn(CategoricalColumn, collections.namedtuple(
        "WeightedCategoricalColumn", ["categorical_column", "weight_feature_key", "dtype"])):
    """`weighted_categorical_column`: the ids of `categorical_column`, each with the
    weight at the same position of feature `weight_feature_key`. As TF, weights
    of 0 in a dense weight feature count as missing and are dropped."""

    _kind = "WeightedCategoricalColumn"

    @property
    def name(self):
        return f"{self.categorical_column.name}_weighted_by_{self.weight_feature_key}"

    @property
    def num_buckets(self):
        return self.categorical_column.num_buckets

    @property
    def parse_example_spec(self):
        spec = dict(self.categorical_column.parse_example_spec)
        spec[self.weight_feature_key] = VarLenFeature(self.dtype)
        return spec

    def _transform(self, cache):
        w = to_sparse(cache.raw(self.weight_feature_key, self.name), ignore_value=0.0)
        if kind(w.values) != "float":
            raise ValueError(f"weighted_categorical_column '{self.name}': weights in "
                             f"'{self.weight_feature_key}' must be float, got {w.values.dtype}")
        ids = self.categorical_column.id_weight_pair(cache).id_tensor
        if ids.indices.shape != w.indices.shape or not np.array_equal(ids.indices, w.indices):
            raise ValueError(
                f"weighted_categorical_column '{self.name}': the weights in "
                f"'{self.weight_feature_key}' must sit at the same positions as the ids of "
                f"'{self.categorical_column.name}' ({len(ids.values)} ids, "
                f"{len(w.values)} weights)")
        return IdWeightPair(ids, _with_values(w, w.values.astype(np.float32)))


class CrossedColumn(CategoricalColumn, collections.namedtuple(
        "CrossedColumn", ["keys", "hash_bucket_size", "hash_key"])):
    """`crossed_column`: every combination of one value from each key, per example,
    hashed: ``h = hash_key; h = FingerprintCat64(h, hash(value_i)) for each key;
    id = h % hash_bucket_size``, with strings hashed by Fingerprint64 and ids
    taken as they are.

    As TF's sparse_cross does: keys given as columns (sparse inputs) come before
    keys given as raw feature names (dense inputs) in the hash chain; within a
    row, the combinations run with the last key varying fastest; raw features
    keep every value, '' included.
    """

    _kind = "CrossedColumn"

    @property
    def name(self):
        name = self.__dict__.get("_name")  # (namedtuple: the instance dict is a cache)
        if name is None:
            name = self.__dict__["_name"] = "_X_".join(
                sorted(k if isinstance(k, str) else k.name for k in self._leaves()))
        return name

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    def _leaves(self):
        out = self.__dict__.get("_leaf_list")
        if out is None:
            out = []
            for k in self.keys:
                out.extend(k._leaves() if isinstance(k, CrossedColumn) else [k])
            self.__dict__["_leaf_list"] = out
        return out

    @property
    def parse_example_spec(self):
        spec = {}
        for k in self._leaves():
            spec.update({k: VarLenFeature("string")} if isinstance(k, str)
                        else k.parse_example_spec)
        return spec

    def _transform(self, cache):
        sparse, dense = [], []
        for k in self._leaves():
            if isinstance(k, str):
                x = cache.raw(k, self.name)
                (sparse if isinstance(x, SparseTensor) else dense).append(x)
            else:
                pair = k.id_weight_pair(cache)
                if pair.weight_tensor is not None:
                    raise ValueError(f"crossed_column '{self.name}': key '{k.name}' has "
                                     f"weights, which crossed_column does not support")
                sparse.append(pair.id_tensor)
        return IdWeightPair(cross_hashed(sparse + dense, self.hash_bucket_size, self._hash_key(),
                                         self.name), None)

    def _single_ids(self, cache):
        """One cross per row when every key has one value per row: the hash chain
        of `cross_hashed`, column keys first, then the dense raw features."""
        of_columns, of_raw, name = [], [], self.name
        for k in self._leaves():
            if isinstance(k, str):
                x = cache.single_value(k, name)
                got = None if x is None else kind(x)
                if got == "string":
                    of_raw.append(cache.fingerprints(k, name))
                elif got == "int":
                    of_raw.append(x.astype(np.int64).view(np.uint64))
                else:
                    return None
            else:
                ids = cache.single_ids(k) if isinstance(k, CategoricalColumn) else None
                if ids is None:
                    return None
                of_columns.append(ids.view(np.uint64))
        parts = of_columns + of_raw
        if not len(parts[0]):
            return None
        return hashing.cross_ids(parts, self._hash_key(), self.hash_bucket_size)

    def _hash_key(self):
        """TF's: the default key when hash_key is None or 0 (``hash_key or default``)."""
        return self.hash_key or DEFAULT_HASH_KEY


def _per_row(x):
    """(counts [batch], start [batch], values [n]) of a 2-D SparseTensor or dense
    array, values in row-major order."""
    if isinstance(x, SparseTensor):
        order = np.lexsort((x.indices[:, 1], x.indices[:, 0]))
        rows, values = x.indices[order, 0], x.values[order]
        counts = np.bincount(rows, minlength=int(x.dense_shape[0])).astype(np.int64)
    else:
        x = x.reshape(len(x), -1)
        values = x.reshape(-1)
        counts = np.full(len(x), x.shape[1], np.int64)
    return counts, np.cumsum(counts) - counts, values


def _value_hashes(values, what):
    """uint64 per value: Fingerprint64 of a string, an integer as it is."""
    if kind(values) == "string":
        return hashing.fingerprint64(as_strings(values, what)).astype(np.uint64)
    if kind(values) != "int":
        raise ValueError(f"{what}: crossed features must be strings or integers, got "
                         f"{np.asarray(values).dtype}")
    return values.astype(np.int64).view(np.uint64) if values.dtype == np.int64 else \
        values.astype(np.int64).view(np.uint64)


def cross_hashed(inputs, num_buckets, hash_key, what="crossed_column"):
    """TF's ``sparse_cross_hashed``: a SparseTensor [batch, max combinations] of the
    hashed crosses, vectorised over all combinations of the batch."""
    parts = [_per_row(x) for x in inputs]
    batch = len(parts[0][0])
    if any(len(p[0]) != batch for p in parts):
        raise ValueError(f"{what}: the crossed features have different batch sizes: "
                         f"{[len(p[0]) for p in parts]}")
    counts = np.stack([p[0] for p in parts])                       # [features, batch]
    if counts.size and (counts == 1).all():  # one value per row and feature: one cross
        ids = hashing.cross_ids([_value_hashes(values, what) for _, _, values in parts],
                                hash_key, num_buckets)
        rows = np.arange(batch, dtype=np.int64)
        return SparseTensor._trusted(np.stack([rows, np.zeros_like(rows)], 1), ids, [batch, 1])
    total = counts.prod(axis=0)                                    # combinations per row
    row = np.repeat(np.arange(batch, dtype=np.int64), total)
    pos = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(total) - total, total)
    # Mixed radix: the last feature varies fastest.
    stride = np.ones(batch, np.int64)
    strides = []
    for c in counts[::-1]:
        strides.append(stride.copy())
        stride = stride * c
    strides = strides[::-1]
    ids = np.zeros(0, np.int64)
    if len(row):  # each combination's value of each feature, then the chain
        ids = hashing.cross_ids(
            [_value_hashes(values[start[row] + (pos // st[row]) % cnt[row]], what)
             for (cnt, start, values), st in zip(parts, strides)], hash_key, num_buckets)
    width = int(total.max()) if batch else 0
    return SparseTensor(np.stack([row, pos], 1), ids, [batch, width])


# --- dense from categorical ---------------------------------------------------------------
class IndicatorColumn(DenseColumn, collections.namedtuple(
        "IndicatorColumn", ["categorical_column"])):
    """`indicator_column`: a multi-hot [batch, num_buckets] float32 (counts for
    repeated ids; the weights, summed, for a weighted column; invalid ids give 0)."""

    _kind = "IndicatorColumn"

    @property
    def name(self):
        return f"{self.categorical_column.name}_indicator"

    @property
    def variable_shape(self):
        return (1, self.categorical_column.num_buckets)

    @property
    def parse_example_spec(self):
        return self.categorical_column.parse_example_spec

    def _transform(self, cache):
        n = self.categorical_column.num_buckets
        single = cache.single_ids(self.categorical_column)
        if single is not None:  # a one-hot row each
            out = np.zeros((len(single), n), np.float32)
            out[np.arange(len(single)), single] = 1.0
            return out
        ids, weights = self.categorical_column.id_weight_pair(cache)
        batch = int(ids.dense_shape[0])
        v = ids.values.astype(np.int64)
        ok = (v >= 0) & (v < n)
        w = np.ones(len(v), np.float32) if weights is None else weights.values.astype(np.float32)
        flat = ids.indices[ok, 0] * n + v[ok]
        return np.bincount(flat, w[ok], minlength=batch * n).astype(np.float32).reshape(batch, n)

    def dense(self, cache, layer=None):
        return cache.get(self)


class EmbeddingColumn(DenseColumn, collections.namedtuple(
        "EmbeddingColumn", ["categorical_column", "dimension", "combiner", "initializer",
                            "ckpt_to_load_from", "tensor_name_in_ckpt", "max_norm",
                            "trainable", "use_safe_embedding_lookup"])):
    """`embedding_column`: safe_embedding_lookup_sparse of the ids in a
    [num_buckets, dimension] variable that the layer using the column owns."""

    _kind = "EmbeddingColumn"

    @property
    def name(self):
        return f"{self.categorical_column.name}_embedding"

    @property
    def variable_shape(self):
        return (self.dimension,)

    @property
    def parse_example_spec(self):
        return self.categorical_column.parse_example_spec

    def _transform(self, cache):
        return self.categorical_column.id_weight_pair(cache)

    def table_shape(self):
        return (self.categorical_column.num_buckets, self.dimension)

    def dense(self, cache, layer):
        import minitf as tf
        ids, weights = cache.get(self)
        table = layer.embedding_table(self)
        return tf.nn.safe_embedding_lookup_sparse(table, ids, weights, combiner=self.combiner,
                                                  max_norm=self.max_norm)

    def get_config(self):
        cfg = FeatureColumn.get_config(self)
        cfg["initializer"] = _initializer_config(self.initializer, self.name)
        return cfg


class SharedEmbeddingColumn(DenseColumn, collections.namedtuple(
        "SharedEmbeddingColumn", ["categorical_column", "dimension", "combiner",
                                  "initializer", "shared_embedding_collection_name",
                                  "ckpt_to_load_from", "tensor_name_in_ckpt", "max_norm",
                                  "trainable", "use_safe_embedding_lookup"])):
    """One of `shared_embeddings`: like an embedding column, but every column of
    the group looks up the same variable, named by the collection."""

    _kind = "SharedEmbeddingColumn"

    @property
    def name(self):
        return f"{self.categorical_column.name}_shared_embedding"

    @property
    def variable_shape(self):
        return (self.dimension,)

    @property
    def parse_example_spec(self):
        return self.categorical_column.parse_example_spec

    _transform = EmbeddingColumn._transform
    table_shape = EmbeddingColumn.table_shape
    dense = EmbeddingColumn.dense
    get_config = EmbeddingColumn.get_config


def _initializer_config(init, name):
    """JSON for an embedding initializer: None (TF's default) or an initializer
    object with get_config; anything else cannot be exported."""
    if init is None:
        return None
    if hasattr(init, "get_config"):
        return {"class_name": type(init).__name__, "config": init.get_config()}
    raise ValueError(f"column '{name}': initializer {init!r} cannot be written to JSON; use "
                     f"a minitf.initializers object (e.g. TruncatedNormal) or None")


def default_embedding_initializer(dimension):
    """TF's default for embedding columns: truncated normal, mean 0, stddev
    1/sqrt(dimension)."""
    from minitf import initializers
    return initializers.TruncatedNormal(mean=0.0, stddev=1.0 / math.sqrt(dimension))


# --- JSON -----------------------------------------------------------------------------------
_KINDS = {c._kind: c for c in (
    NumericColumn, BucketizedColumn, HashedCategoricalColumn, VocabularyListCategoricalColumn,
    VocabularyFileCategoricalColumn, IdentityCategoricalColumn, WeightedCategoricalColumn,
    CrossedColumn, IndicatorColumn, EmbeddingColumn, SharedEmbeddingColumn)}


def serialize(column):
    """``{"class_name": kind, "config": {...}}``, as TF's serialize_feature_column."""
    return {"class_name": column._kind, "config": column.get_config()}


def deserialize(config):
    """Rebuilds a column from `serialize`'s output (nested columns included)."""
    try:
        cls = _KINDS[config["class_name"]]
    except (KeyError, TypeError):
        raise ValueError(f"not a feature column config: {config!r:.200}") from None
    cfg = dict(config["config"])
    if set(cfg) != set(cls._fields):
        raise ValueError(f"{config['class_name']} config has keys {sorted(cfg)}, expected "
                         f"{sorted(cls._fields)}")
    for f, v in cfg.items():
        if isinstance(v, dict) and "class_name" in v and v["class_name"] in _KINDS:
            cfg[f] = deserialize(v)
        elif isinstance(v, list):
            cfg[f] = tuple(deserialize(c) if isinstance(c, dict) else c for c in v)
    if cls is NumericColumn and cfg["default_value"] is not None:
        cfg["default_value"] = _tuplify(cfg["default_value"])
    if cfg.get("initializer") is not None:
        from minitf import initializers
        cfg["initializer"] = initializers.get(cfg["initializer"])
    return cls(**cfg)


def _tuplify(v):
    return tuple(_tuplify(x) for x in v) if isinstance(v, list) else v
