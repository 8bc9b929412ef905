"""HDF5 checkpoints with TF's variable names, and TF's `checkpoint` state file.

A checkpoint for step N is ``<model_dir>/model.ckpt-N.h5``: one dataset per
variable at its TF name (the slashes become HDF5 groups), e.g.
``dnn/hiddenlayer_0/kernel`` or ``training/Adagrad/dnn/logits/bias/accumulator``.
The checkpoint's *prefix* (what `latest_checkpoint` returns, as TF does) is
``<model_dir>/model.ckpt-N``.

A name that is also another name's parent (v1 optimizers name their slots
``<variable>/<Optimizer>``) is stored at ``<name>/:value`` (':' cannot occur in
a TF variable name); readers undo it.

Writes are atomic: the file is written under a temporary name, flushed,
fsynced and renamed; only then does the ``checkpoint`` state file (itself
replaced atomically) name it. A crash at any moment leaves the latest named
checkpoint intact. Reading never executes anything from the file.

TensorFlow checkpoints are understood transparently, so a model_dir written by
tf.estimator can be trained, evaluated and served without TensorFlow: a prefix
with no ``<prefix>.h5`` but a ``<prefix>.index`` is a TF V2 bundle
(``.index`` plus ``.data-NNNNN-of-NNNNN``), read by `widedeep.tf_checkpoint`
(TF's ``_CHECKPOINTABLE_OBJECT_GRAPH`` entry is skipped; string tensors are
object arrays of bytes). The ``checkpoint`` state file is TF's text format, so
both kinds may be listed in it; new checkpoints are always written as ``.h5``.
When `Saver` prunes an old checkpoint (keep_checkpoint_max), the state file
stops listing it first, then its files are deleted. A pruned TF checkpoint
loses all its files, as with TF's own Saver: ``.index`` first (so a
half-deleted bundle is never taken for a checkpoint), then the ``.data-*``
shards and the ``.meta`` graph. A file that cannot be deleted is logged and left;
pruning never fails the save.
"""

import collections.abc
import glob
import logging
import os
import re
import time

import h5py
import numpy as np

STATE_FILE = "checkpoint"
VALUE = "/:value"  # where a variable that is also a parent group keeps its value
SUFFIX = ".h5"
TF_INDEX = ".index"  # a TF V2 checkpoint's index file: <prefix>.index

log = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted or not ours."""


def _path(prefix):
    return prefix if prefix.endswith(SUFFIX) else prefix + SUFFIX


def write(prefix, values, step=None):
    """Writes {name: array} to ``prefix + '.h5'`` atomically. Returns the prefix."""
    final = _path(prefix)
    tmp = f"{final}.tmp-{os.getpid()}"
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = "widedeep-checkpoint"
            f.attrs["version"] = 1
            if step is not None:
                f.attrs["global_step"] = int(step)
            parents = {n[:i] for n in values for i, c in enumerate(n) if c == "/"}
            for name in sorted(values):
                v = np.asarray(values[name])
                if v.dtype.kind in "OU":
                    v = np.asarray(v, dtype=h5py.string_dtype())
                f.create_dataset(name + VALUE if name in parents else name, data=v)
            f.flush()
            os.fsync(f.id.get_vfd_handle())
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return prefix[:-len(SUFFIX)] if prefix.endswith(SUFFIX) else prefix


def is_tf_checkpoint(prefix):
    """Whether `prefix` names a TF V2 checkpoint: ``<prefix>.index`` exists and
    ``<prefix>.h5`` (which takes precedence) does not."""
    prefix = os.fspath(prefix)
    return (not prefix.endswith(SUFFIX) and not os.path.exists(_path(prefix))
            and os.path.exists(prefix + TF_INDEX))


def exists(prefix):
    """Whether `prefix` names a checkpoint of either format."""
    return os.path.exists(_path(os.fspath(prefix))) or is_tf_checkpoint(prefix)


def files(prefix):
    """The files checkpoint `prefix` is read from: ``<prefix>.h5`` (whether it
    exists or not), or a TF bundle's ``.index`` and its ``.data-*`` shards."""
    prefix = os.fspath(prefix)
    if is_tf_checkpoint(prefix):
        return [prefix + TF_INDEX] + sorted(glob.glob(glob.escape(prefix) +
                                                      ".data-?????-of-?????"))
    return [_path(prefix)]


def _tf_reader(prefix):
    from widedeep import tf_checkpoint

    try:
        return tf_checkpoint.TFCheckpointReader(prefix)
    except tf_checkpoint.TFCheckpointError as e:
        raise CheckpointError(f"TensorFlow checkpoint {prefix} ({prefix + TF_INDEX}) is "
                              f"unreadable: {e}") from None


def _tf_list_variables(prefix):
    from widedeep import tf_checkpoint

    reader = _tf_reader(prefix)
    return sorted((n, tuple(s)) for n, s in reader.get_variable_to_shape_map().items()
                  if n != tf_checkpoint.OBJECT_GRAPH_KEY)


def _tf_read(prefix, names):
    from widedeep import tf_checkpoint

    reader = _tf_reader(prefix)
    if names is None:
        names = sorted(n for n in reader.get_variable_to_shape_map()
                       if n != tf_checkpoint.OBJECT_GRAPH_KEY)
    out = {}
    for n in names:
        if n == tf_checkpoint.OBJECT_GRAPH_KEY or not reader.has_tensor(n):
            raise CheckpointError(f"variable {n!r} is not in TensorFlow checkpoint {prefix}")
        try:
            out[n] = reader.get_tensor(n)
        except (tf_checkpoint.TFCheckpointError, OSError) as e:
            raise CheckpointError(f"TensorFlow checkpoint {prefix} is unreadable (truncated "
                                  f"or corrupted?): {e}") from None
    return out


def _open(prefix):
    path = _path(prefix)
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint file {path} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise CheckpointError(f"checkpoint file {path} is unreadable (truncated or "
                              f"corrupted?): {e}") from None
    if f.attrs.get("format") != "widedeep-checkpoint":
        f.close()
        raise CheckpointError(f"{path} is not a widedeep checkpoint")
    return f


def _name(hdf5_path):
    return hdf5_path[:-len(VALUE)] if hdf5_path.endswith(VALUE) else hdf5_path


def list_variables(prefix):
    """[(name, shape)] of a checkpoint, sorted by name (as tf.train.list_variables).
    A TF checkpoint's object-graph entry is not listed."""
    if is_tf_checkpoint(prefix):
        return _tf_list_variables(os.fspath(prefix))
    out = []
    with _open(prefix) as f:
        f.visititems(lambda n, o: out.append((_name(n), tuple(o.shape)))
                     if isinstance(o, h5py.Dataset) else None)
    return sorted(out)


def _dataset(fid, name):
    """The DatasetID of variable `name` (at ``name/:value`` when it is also a
    parent group), or None. One low-level open per try: no `in` probes."""
    for key in (name + VALUE, name):
        try:
            obj = h5py.h5o.open(fid, key.encode())
        except KeyError:  # h5py's error for a missing object or path component
            continue
        return obj if isinstance(obj, h5py.h5d.DatasetID) else None
    return None


def _value(dsid):
    """What ``dataset[()]`` gives (a numpy scalar for shape ()), strings as
    object arrays. Plain numbers are read straight into an array, skipping
    h5py's per-dataset Python machinery; anything else goes through it."""
    dtype, shape = dsid.dtype, dsid.shape
    if dtype.kind in "biuf" and shape is not None:
        v = np.empty(shape, dtype)
        if v.size:
            dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, v)
        return v[()] if v.ndim == 0 else v
    v = h5py.Dataset(dsid)[()]
    if isinstance(v, bytes) or (isinstance(v, np.ndarray) and v.dtype.kind == "O"):
        v = np.asarray(v, dtype=object)
    return v


def read(prefix, names=None, defer=None):
    """{name: ndarray} of every variable, or of `names` (of our HDF5 checkpoint,
    or of a TF one: see the module's docstring). With `defer` (a name prefix,
    e.g. the optimizers' 'training/'), the names under it are read only when
    first asked for: the result is then a `Deferred` mapping."""
    if is_tf_checkpoint(prefix):
        return _tf_read(os.fspath(prefix), names)
    path = _path(prefix)
    out = {}
    try:
        with _open(prefix) as f:
            fid = f.id
            if names is None:
                # One pass over the file's links (names only: a fifth of the time
                # of visiting objects with their info); the datasets are the
                # leaves (write makes no empty groups; anything else is skipped).
                links = []
                fid.links.visit(links.append)
                parents = {p.rsplit(b"/", 1)[0] for p in links if b"/" in p}
                later = []
                for p in links:
                    if p in parents:
                        continue
                    name = _name(p.decode("utf-8"))
                    if defer is not None and name.startswith(defer):
                        later.append(name)
                        continue
                    obj = h5py.h5o.open(fid, p)
                    if isinstance(obj, h5py.h5d.DatasetID):
                        out[name] = _value(obj)
                return out if defer is None else Deferred(prefix, out, later)
            for n in names:
                dsid = _dataset(fid, n)
                if dsid is None:
                    raise CheckpointError(f"variable {n!r} is not in checkpoint {path}")
                out[n] = _value(dsid)
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"checkpoint file {path} is unreadable (truncated or "
                              f"corrupted?): {e}") from None
    return out


class Deferred(collections.abc.Mapping):
    """A checkpoint's {name: array} whose `later` names are read on first access
    to any of them (`read(..., defer=...)`). Evaluate and predict defer the
    optimizers' state, which they do not use: it is half of a census
    checkpoint's datasets, and reading it was half of a cold predict call."""

    def __init__(self, prefix, now, later):
        self._prefix, self._values, self._later = prefix, now, dict.fromkeys(later)

    def _read_later(self):
        if self._later:
            self._values.update(read(self._prefix, list(self._later)))
            self._later = {}

    def __getitem__(self, name):
        if name not in self._values and name in self._later:
            self._read_later()
        return self._values[name]

    def __contains__(self, name):
        return name in self._values or name in self._later

    def __iter__(self):
        return iter([*self._values, *self._later])

    def __len__(self):
        return len(self._values) + len(self._later)

    def items(self):  # a full pass reads the rest at once, not name by name
        self._read_later()
        return self._values.items()


# --- the `checkpoint` state file -----------------------------------------------------------
def _state_path(model_dir):
    return os.path.join(model_dir, STATE_FILE)


def read_state(model_dir):
    """(latest prefix or None, [all prefixes]) from ``model_dir/checkpoint``."""
    try:
        with open(_state_path(model_dir), encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None, []
    latest = re.search(r'^model_checkpoint_path:\s*"(.*)"', text, re.M)
    every = re.findall(r'^all_model_checkpoint_paths:\s*"(.*)"', text, re.M)
    absolute = [p if os.path.isabs(p) else os.path.join(model_dir, p) for p in every]
    return (None if latest is None else (latest.group(1) if os.path.isabs(latest.group(1))
                                         else os.path.join(model_dir, latest.group(1)))), absolute


def write_state(model_dir, latest, every):
    """Replaces the state file (TF's text format, paths relative to model_dir)."""
    def rel(p):
        return os.path.relpath(p, model_dir) if os.path.dirname(p) == model_dir.rstrip("/") \
            else p
    lines = [f'model_checkpoint_path: "{rel(latest)}"']
    lines += [f'all_model_checkpoint_paths: "{rel(p)}"' for p in every]
    lines.append(f"last_preserved_timestamp: {time.time()}")
    tmp = _state_path(model_dir) + f".tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, _state_path(model_dir))


def latest_checkpoint(model_dir):
    """The latest checkpoint's prefix in `model_dir`, or None (as
    tf.train.latest_checkpoint): only one whose file exists, ours (``.h5``) or
    TF's (``.index``)."""
    if not model_dir or not os.path.isdir(model_dir):
        return None
    latest, _ = read_state(model_dir)
    if latest is not None and exists(latest):
        return latest
    return None


def _remove(prefix):
    """Deletes the files of checkpoint `prefix`: ours, or TF's (``.index`` first,
    then the data shards and the ``.meta`` graph). Failures are logged."""
    files = [_path(prefix), prefix + TF_INDEX]
    files += sorted(glob.glob(glob.escape(prefix) + ".data-?????-of-?????"))
    files.append(prefix + ".meta")
    for f in files:
        try:
            os.remove(f)
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not delete old checkpoint file %s: %s", f, e)


def step_of(prefix):
    m = re.search(r"-(\d+)$", prefix)
    return int(m.group(1)) if m else None


class Saver:
    """Saves `values` as ``model.ckpt-<step>`` and keeps the newest
    `keep_checkpoint_max` (0 or None: all), plus one every
    `keep_checkpoint_every_n_hours`, as tf.train.Saver does."""

    def __init__(self, model_dir, keep_checkpoint_max=5, keep_checkpoint_every_n_hours=10000):
        self.model_dir = model_dir
        self.max_to_keep = keep_checkpoint_max
        self.keep_every = keep_checkpoint_every_n_hours * 3600.0
        self._last_kept_time = time.time()

    def save(self, values, step):
        os.makedirs(self.model_dir, exist_ok=True)
        prefix = write(os.path.join(self.model_dir, f"model.ckpt-{int(step)}"), values, step)
        _, every = read_state(self.model_dir)
        every = [p for p in every if p != prefix and exists(p)] + [prefix]
        pruned = []
        if self.max_to_keep:
            while len(every) > self.max_to_keep:
                old = every.pop(0)
                if time.time() - self._last_kept_time >= self.keep_every:
                    self._last_kept_time = time.time()  # preserved, but no longer listed
                    continue
                pruned.append(old)
        # As TF's Saver: the state file stops listing a checkpoint before its files go,
        # so a crash in between never leaves the state naming a deleted checkpoint.
        write_state(self.model_dir, prefix, every)
        for old in pruned:
            _remove(old)
        return prefix
