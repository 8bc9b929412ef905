"""The estimator's fast paths give what the plain ones gave: `checkpoint.read`
(one pass over the file) equals the old probing reader; `predict` reuses the
restored store only while the checkpoint is unchanged; `_examples` yields the
same rows; the model_fn's signature is read once; a head's TRAIN predictions
are computed only when a hook fetches one."""

import inspect
import os
import shutil

import h5py
import numpy as np
import pytest

import minitf as tf
import widedeep.estimator as E
from minitf import initializers
from minitf.data import Dataset
from widedeep import checkpoint as ckpt
from widedeep.estimator import estimator as estimator_module
from widedeep.variables import get_variable

HERE = os.path.dirname(__file__)
TF_MODEL_DIR = os.path.join(HERE, "reference", "fixtures", "tf_model_dir")

X = np.random.default_rng(1).normal(size=(12, 2)).astype(np.float32)
Y = (X @ np.array([[1.5], [-2.0]], np.float32) + 0.25).astype(np.float32)


def model_fn(features, labels, mode):
    """y = x w + b, squared loss, plain gradient descent."""
    w = get_variable("linear/w", (2, 1), initializer=initializers.GlorotUniform())
    b = get_variable("linear/b", (1,))
    pred = tf.matmul(tf.constant(features["x"]), w) + b
    if mode == E.ModeKeys.PREDICT:
        return E.EstimatorSpec(mode, predictions={"y": pred})
    loss = tf.reduce_mean(tf.square(pred - labels))
    tape = E.current_tape()

    def train_op():
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(0.1 * np.asarray(gw))
        b.assign_sub(0.1 * np.asarray(gb))

    return E.EstimatorSpec(mode, loss=loss, train_op=train_op)


def make(model_dir, fn=model_fn, **cfg):
    cfg.setdefault("log_step_count_steps", 0)
    return E.Estimator(fn, str(model_dir), E.RunConfig(**cfg))


def train_input():
    return Dataset.from_tensor_slices(({"x": X}, Y)).repeat().batch(4)


def predict_input():
    return Dataset.from_tensor_slices({"x": X}).batch(5)


def predictions(est, **kw):
    return np.stack([p["y"] for p in est.predict(predict_input, **kw)])


@pytest.fixture
def reads(monkeypatch):
    """Counts checkpoint.read calls (the estimator calls it through the module)."""
    calls = []
    real = ckpt.read

    def counting(prefix, names=None, **kw):
        calls.append((os.fspath(prefix), names))
        return real(prefix, names, **kw)

    monkeypatch.setattr(ckpt, "read", counting)
    return calls


# --- checkpoint.read -------------------------------------------------------------------------
def old_read(prefix, names=None):
    """checkpoint.read before the one-pass reader: an `in` probe per name."""
    path = ckpt._path(prefix)
    out = {}
    try:
        with ckpt._open(prefix) as f:
            if names is None:
                names = []
                f.visititems(lambda n, o: names.append(ckpt._name(n))
                             if isinstance(o, h5py.Dataset) else None)
            for n in names:
                key = n + ckpt.VALUE if n + ckpt.VALUE in f else n
                if key not in f or not isinstance(f[key], h5py.Dataset):
                    raise ckpt.CheckpointError(f"variable {n!r} is not in checkpoint {path}")
                v = f[key][()]
                if isinstance(v, bytes) or (isinstance(v, np.ndarray) and v.dtype.kind == "O"):
                    v = np.asarray(v, dtype=object)
                out[n] = v
    except ckpt.CheckpointError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        raise ckpt.CheckpointError(f"checkpoint file {path} is unreadable (truncated or "
                                   f"corrupted?): {e}") from None
    return out


def assert_same_values(got, want):
    assert list(got) == list(want)  # same names, same order
    for k in want:
        assert type(got[k]) is type(want[k]), k
        assert np.asarray(got[k]).dtype == np.asarray(want[k]).dtype, k
        assert np.asarray(got[k]).shape == np.asarray(want[k]).shape, k
        assert np.array_equal(np.asarray(got[k]), np.asarray(want[k])), k


VALUES = {
    "dnn/w": np.arange(6, dtype=np.float32).reshape(2, 3),
    "dnn/w/Adagrad": np.full((2, 3), 0.1, np.float32),  # dnn/w is stored at dnn/w/:value
    "deep": np.int32(4), "deep/x/y": np.ones(3),  # a scalar that is also a parent
    "global_step": np.int64(7), "lr": np.float32(0.5), "half": np.float16(1.5),
    "vocab": np.array([b"a", b"bb", b""], dtype=object), "one_string": np.asarray(b"s", object),
    "unicode": np.array(["p", "\u00e9"]), "flags": np.array([True, False]),
    "empty": np.zeros((0, 4), np.float32), "small_ints": np.arange(3, dtype=np.int8),
    "complex": np.array([1 + 2j]), "u\u00e9/v": np.ones((2, 1), np.float32),
}


def test_deferred_read_reads_the_optimizer_state_only_when_asked(tmp_path, reads):
    values = {**VALUES, "training/Adagrad/dnn/w/accumulator": np.full((2, 3), 0.1, np.float32),
              "training/Adagrad/iter": np.int64(7)}
    prefix = ckpt.write(str(tmp_path / "model.ckpt-7"), values)
    want = ckpt.read(prefix)
    reads.clear()
    got = ckpt.read(prefix, defer="training/")
    assert isinstance(got, ckpt.Deferred) and len(reads) == 1
    assert sorted(got) == sorted(want) and len(got) == len(want)
    assert "training/Adagrad/iter" in got and "training/nothing" not in got
    assert_same_values({k: got[k] for k in VALUES}, {k: want[k] for k in VALUES})
    assert len(reads) == 1  # the variables came with the first read
    assert np.array_equal(got["training/Adagrad/iter"], np.int64(7))
    assert [n for _, n in reads[1:]] == [["training/Adagrad/dnn/w/accumulator",
                                          "training/Adagrad/iter"]]  # the rest, in one read
    assert_same_values(dict(sorted(got.items())), dict(sorted(want.items())))
    assert len(reads) == 2
    with pytest.raises(KeyError):
        got["training/nothing"]


def test_evaluate_store_restores_optimizer_state_when_a_model_fn_asks(tmp_path):
    """An optimizer made while evaluating (not the canned model's way, but a
    model_fn may) still gets the checkpoint's slots."""
    acc = np.full((2, 1), 0.25, np.float32)
    path = ckpt.write(str(tmp_path / "model.ckpt-3"), {
        "global_step": np.int64(3), "linear/w": np.ones((2, 1), np.float32),
        "training/Adagrad/linear/w/accumulator": acc})
    store, gs = make(tmp_path)._store(path)
    assert isinstance(store.restore, ckpt.Deferred) and int(gs.numpy()) == 3
    opt = tf.optimizers.get("Adagrad", learning_rate=0.1)
    store.optimizer_seen(opt)
    assert list(opt._pending) == ["training/Adagrad/linear/w/accumulator"]
    assert np.array_equal(opt._pending["training/Adagrad/linear/w/accumulator"], acc)


def test_read_equals_the_old_reader(tmp_path):
    prefix = ckpt.write(str(tmp_path / "model.ckpt-7"), VALUES)
    with h5py.File(prefix + ".h5", "r") as f:  # the layout the test is about
        assert "dnn/w/:value" in f and "deep/:value" in f
    got = ckpt.read(prefix)
    assert_same_values(got, old_read(prefix))
    assert sorted(got) == sorted(VALUES)
    assert got["vocab"].dtype == object and got["vocab"].tolist() == [b"a", b"bb", b""]
    assert got["one_string"].shape == () and got["one_string"].item() == b"s"
    assert type(got["global_step"]) is np.int64  # a scalar dataset gives a numpy scalar
    names = ["vocab", "dnn/w", "deep", "global_step", "deep/x/y", "dnn/w/Adagrad"]
    assert_same_values(ckpt.read(prefix, names), old_read(prefix, names))
    assert list(ckpt.read(prefix + ".h5", names)) == names


@pytest.mark.parametrize("name", ["nope", "dnn", "dnn/w/Adagrad/x", "global_step/x", ""])
def test_read_of_a_missing_name_says_so_as_before(tmp_path, name):
    prefix = ckpt.write(str(tmp_path / "model.ckpt-7"), VALUES)
    messages = []
    for read in (ckpt.read, old_read):
        with pytest.raises(ckpt.CheckpointError, match="is not in checkpoint") as e:
            read(prefix, ["lr", name])
        messages.append(str(e.value))
    assert messages[0] == messages[1]


def test_read_of_bad_files_raises_as_before(tmp_path):
    prefix = ckpt.write(str(tmp_path / "model.ckpt-7"), VALUES)
    data = open(prefix + ".h5", "rb").read()
    with open(prefix + ".h5", "wb") as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ckpt.CheckpointError, match="model.ckpt-7.h5 is unreadable"):
        ckpt.read(prefix)
    with pytest.raises(ckpt.CheckpointError, match="does not exist"):
        ckpt.read(str(tmp_path / "nothing"))
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(ckpt.CheckpointError, match="is not a widedeep checkpoint"):
        ckpt.read(str(tmp_path / "other"))


def test_files_of_a_checkpoint(tmp_path):
    prefix = ckpt.write(str(tmp_path / "model.ckpt-7"), VALUES)
    assert ckpt.files(prefix) == [prefix + ".h5"]
    tf_prefix = os.path.join(TF_MODEL_DIR, "model.ckpt-20")
    assert ckpt.files(tf_prefix) == [tf_prefix + ".index",
                                     tf_prefix + ".data-00000-of-00001"]


# --- predict reuses the restored store ----------------------------------------------------------
def test_predict_reads_the_checkpoint_once_and_predicts_the_same(tmp_path, reads):
    est = make(tmp_path / "m")
    est.train(train_input, steps=3)
    fresh = predictions(make(tmp_path / "m"))  # another estimator: its own store
    reads.clear()
    got = [predictions(est) for _ in range(3)]
    assert len(reads) == 1  # the first call restores; the next two reuse its store
    for g in got:
        np.testing.assert_array_equal(g, fresh)
    first = next(est.predict(predict_input))  # an unfinished call releases the store too
    np.testing.assert_array_equal(first["y"], fresh[0])
    np.testing.assert_array_equal(predictions(est), fresh)
    assert len(reads) == 1


def test_predict_reloads_after_more_training(tmp_path, reads):
    est = make(tmp_path / "m")
    est.train(train_input, steps=2)
    before = predictions(est)
    est.train(train_input, steps=2)  # a new checkpoint, model.ckpt-4
    reads.clear()
    after = predictions(est)
    assert [os.path.basename(p) for p, _ in reads] == ["model.ckpt-4"]
    assert not np.allclose(after, before)
    np.testing.assert_array_equal(after, predictions(make(tmp_path / "m")))


def test_predict_reloads_an_overwritten_checkpoint(tmp_path, reads):
    est = make(tmp_path / "m")
    est.train(train_input, steps=2)
    predictions(est)
    latest = est.latest_checkpoint()
    values = ckpt.read(latest)
    values["linear/b"] = values["linear/b"] + 1.0
    ckpt.write(latest, values)  # the same path, new contents
    reads.clear()
    got = predictions(est)
    assert len(reads) == 1
    np.testing.assert_allclose(got, X @ values["linear/w"] + values["linear/b"], rtol=1e-6)


def test_predict_with_another_checkpoint_path_reloads(tmp_path, reads):
    est = make(tmp_path / "m", save_checkpoints_steps=1, keep_checkpoint_max=10)
    est.train(train_input, steps=3)
    latest, first = est.latest_checkpoint(), str(tmp_path / "m" / "model.ckpt-1")
    at_latest = predictions(est)
    at_first = predictions(est, checkpoint_path=first)
    assert not np.allclose(at_first, at_latest)
    np.testing.assert_array_equal(at_first, predictions(make(tmp_path / "m"),
                                                        checkpoint_path=first))
    reads.clear()
    np.testing.assert_array_equal(predictions(est), at_latest)  # back to the latest
    assert [p for p, _ in reads] == [latest]


def test_predict_of_a_tf_checkpoint_reloads_when_its_data_file_changes(tmp_path, reads):
    model_dir = shutil.copytree(TF_MODEL_DIR, tmp_path / "tf")
    est = make(model_dir)
    prefix = est.latest_checkpoint()
    assert ckpt.is_tf_checkpoint(prefix)
    # The model_fn only restores global_step (a TF checkpoint has no linear/w):
    # the point is when the files are read.
    only_step = make(model_dir, fn=_global_step_model_fn)
    list(only_step.predict(predict_input))
    list(only_step.predict(predict_input))
    assert len(reads) == 1
    data = prefix + ".data-00000-of-00001"
    shutil.copyfile(data, data + ".new")
    os.replace(data + ".new", data)  # same bytes, a new file
    list(only_step.predict(predict_input))
    assert len(reads) == 2


def _global_step_model_fn(features, mode):
    step = tf.train.get_or_create_global_step()
    return E.EstimatorSpec(mode, predictions={"step": np.full(len(features["x"]),
                                                              step.numpy())})


def test_predict_without_a_checkpoint_initializes_every_call(tmp_path, reads):
    est = make(tmp_path / "m")  # no checkpoint, no seed: new random weights per call
    a, b = predictions(est), predictions(est)
    assert not np.allclose(a, b)
    assert est._predict_cache is None and reads == []
    seeded = make(tmp_path / "s", tf_random_seed=3)  # the seed is set again each call
    np.testing.assert_array_equal(predictions(seeded), predictions(seeded))


def test_evaluate_and_train_restore_afresh(tmp_path, reads):
    est = make(tmp_path / "m")
    est.train(train_input, steps=2)
    predictions(est)
    reads.clear()
    first = est.evaluate(lambda: Dataset.from_tensor_slices(({"x": X}, Y)).batch(4))
    second = est.evaluate(lambda: Dataset.from_tensor_slices(({"x": X}, Y)).batch(4))
    assert len([n for _, n in reads if n is None]) == 2  # each evaluate read the checkpoint
    assert first == second
    cached = est._predict_cache.store
    est.train(train_input, steps=1)
    assert est._predict_cache.store is cached  # train did not use (or change) it
    w = est._predict_cache.store.variables["linear/w"].numpy()
    np.testing.assert_array_equal(w, ckpt.read(str(tmp_path / "m" / "model.ckpt-2"),
                                               ["linear/w"])["linear/w"])


def test_two_unfinished_predicts_do_not_share_a_store(tmp_path, reads):
    est = make(tmp_path / "m")
    est.train(train_input, steps=2)
    want = predictions(est)
    reads.clear()
    first = est.predict(predict_input)
    row0 = next(first)  # holds the cached store
    second = predictions(est)  # restores a store of its own
    assert len(reads) == 1
    rest = np.stack([row0["y"]] + [p["y"] for p in first])
    np.testing.assert_array_equal(rest, want)
    np.testing.assert_array_equal(second, want)
    predictions(est)  # the first call finished: the cached store is free again
    assert len(reads) == 1


def _assigning_model_fn(features, mode):
    """Adds one to its variable on every predict call (TF would restore it each
    call, so every call sees the checkpoint's value plus one)."""
    v = get_variable("counter", ())
    v.assign_add(np.float32(1.0))
    return E.EstimatorSpec(mode, predictions={"v": np.full(len(features["x"]), v.numpy())})


def test_a_model_fn_that_assigns_in_predict_sees_the_checkpoint_every_call(tmp_path):
    model_dir = str(tmp_path / "m")
    os.makedirs(model_dir)
    ckpt.Saver(model_dir).save({"counter": np.float32(10.0), "global_step": np.int64(1)}, 1)
    est = make(model_dir, fn=_assigning_model_fn)
    for _ in range(3):
        got = [p["v"] for p in est.predict(lambda: Dataset.from_tensor_slices(
            {"x": X}).batch(len(X)))]
        assert got == [11.0] * len(X)


def test_a_failed_predict_does_not_leave_its_store_cached(tmp_path):
    est = make(tmp_path / "m")
    est.train(train_input, steps=2)
    predictions(est)
    assert est._predict_cache is not None

    def bad_input():
        raise RuntimeError("no input")

    with pytest.raises(RuntimeError, match="no input"):
        list(est.predict(bad_input))
    assert est._predict_cache is None
    np.testing.assert_array_equal(predictions(est), predictions(make(tmp_path / "m")))


# --- the model_fn's signature --------------------------------------------------------------------
def test_model_fn_signature_is_read_once_per_model_fn(tmp_path, monkeypatch):
    seen = []
    real = inspect.signature

    def counting(fn, *a, **kw):
        seen.append(fn)
        return real(fn, *a, **kw)

    est = make(tmp_path / "m")
    monkeypatch.setattr(estimator_module.inspect, "signature", counting)
    est.train(train_input, steps=5)
    predictions(est)
    assert sum(f is model_fn for f in seen) == 1

    def other(features, labels, mode):
        return model_fn(features, labels, mode)

    est._model_fn = other  # a new model_fn: its own signature
    predictions(est)
    assert sum(f is other for f in seen) == 1


# --- _examples -----------------------------------------------------------------------------------
def old_examples(preds):
    """_examples before the row-list version."""
    if not isinstance(preds, dict):
        yield from preds
        return
    sizes = {k: (np.shape(v)[0] if np.ndim(v) else None) for k, v in preds.items()}
    n = next(iter(sizes.values()), None)
    for k, s in sizes.items():
        if s is None or s != n:
            raise ValueError(f"Batch length of predictions should be same. {k} has different "
                             f"batch length than others.")
    for i in range(n or 0):
        yield {k: v[i] for k, v in preds.items()}


def test_examples_yield_what_they_yielded():
    rng = np.random.default_rng(0)
    preds = {
        "probabilities": rng.random((4, 3)).astype(np.float32),
        "logistic": rng.random(4),
        "class_ids": np.arange(4, dtype=np.int64),
        "cube": np.arange(24).reshape(4, 3, 2),
        "classes": np.array([[b"0"], [b"1"], [b"1"], [b"0"]], dtype=object),
        "names": np.array([b"a", b"b", b"c", b"d"], dtype=object),
        "text": np.array(["x", "y", "z", "w"]),
        "flags": np.array([True, False, True, True]),
    }
    new, old = list(estimator_module._examples(preds)), list(old_examples(preds))
    assert len(new) == len(old) == 4
    for a, b in zip(new, old):
        assert list(a) == list(b)
        for k in b:
            assert type(a[k]) is type(b[k]), k
            if isinstance(b[k], np.ndarray):  # a row: a view of the batch's array
                assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
                assert a[k].base is b[k].base and np.shares_memory(a[k], preds[k])
                assert np.array_equal(a[k], b[k])
            elif isinstance(b[k], np.generic):
                assert a[k].dtype == b[k].dtype and a[k] == b[k]
            else:  # an element of an object array: the same object
                assert a[k] is b[k]
    assert type(new[0]["class_ids"]) is np.int64 and type(new[0]["names"]) is bytes
    assert type(new[0]["text"]) is np.str_


def test_examples_edge_cases_as_before():
    empty = {"a": np.zeros((0, 2)), "b": np.zeros(0)}
    assert list(estimator_module._examples(empty)) == list(old_examples(empty)) == []
    assert list(estimator_module._examples({})) == list(old_examples({})) == []
    not_dict = np.arange(3)
    assert list(estimator_module._examples(not_dict)) == list(old_examples(not_dict))
    for bad in ({"a": np.zeros(3), "b": np.zeros(2)}, {"a": np.zeros(3), "s": np.float32(1)}):
        for fn in (estimator_module._examples, old_examples):
            with pytest.raises(ValueError, match="Batch length of predictions should be same"):
                list(fn(bad))


def test_train_predictions_are_computed_only_when_fetched(tmp_path, monkeypatch):
    """A canned head's TRAIN spec computes its predictions lazily: not at all
    when no hook fetches one, and, when a hook fetches 'probabilities', the
    values the head gives for that step's logits."""
    from widedeep.canned import LinearClassifier
    from widedeep.feature_column import numeric_column
    from widedeep.heads import binary_class_head
    calls = []
    real = binary_class_head.BinaryClassHead.predictions

    def counted(self, logits):
        calls.append(np.asarray(logits.numpy() if hasattr(logits, "numpy") else logits))
        return real(self, logits)
    monkeypatch.setattr(binary_class_head.BinaryClassHead, "predictions", counted)
    labels = (Y > 0).astype(np.int64)
    est = LinearClassifier([numeric_column("x", shape=(2,))], model_dir=str(tmp_path))
    train = lambda: Dataset.from_tensor_slices(({"x": X}, labels)).batch(4)  # noqa: E731
    est.train(train, steps=3)
    assert calls == []

    class Fetch(E.SessionRunHook):
        got = []

        def before_run(self, run_context):
            return E.SessionRunArgs({"p": "probabilities", "loss": "loss"})

        def after_run(self, run_context, run_values):
            self.got.append(run_values.results)
    est.train(train, steps=2, hooks=[Fetch()])
    assert len(calls) == 2 and len(Fetch.got) == 2
    for logits, got in zip(calls, Fetch.got):
        p = 1 / (1 + np.exp(-logits.astype(np.float64)))
        np.testing.assert_allclose(got["p"][:, 1], p[:, 0], rtol=1e-6)
        assert got["loss"].shape == ()
