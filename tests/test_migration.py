"""Migration from TensorFlow (issue 9): a tf.estimator model_dir is trained,
evaluated, served and warm-started from by widedeep without TensorFlow.

The fixture (tests/reference/generate_migration.py) is TF 2.15's census
DNNLinearCombinedClassifier (hidden [16, 8]) after 20 steps, with TF's
predictions and metrics on 2,000 test rows and its variables after 5 more steps.
"""

import os
import re
import shutil

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from parity import assert_all_close

from minitf.data import Dataset
from widedeep import checkpoint as ckpt
from widedeep import tf_checkpoint as tfc
from widedeep.canned import DNNLinearCombinedClassifier
from widedeep.datasets import census_columns, load_adult
from widedeep.estimator import RunConfig, WarmStartSettings

HERE = os.path.dirname(__file__)
FIXTURES = os.path.join(HERE, "reference", "fixtures")
TF_DIR = os.path.join(FIXTURES, "tf_model_dir")
FIX = np.load(os.path.join(FIXTURES, "migration.npz"))
BATCH, STEPS, MORE_STEPS = 256, 20, 5
N_TEST, EVAL_BATCH = 2000, 500
DATA = f"model.ckpt-{STEPS}.data-00000-of-00001"
STEP25 = {k[len("step25/"):]: FIX[k] for k in FIX.files if k.startswith("step25/")}


def make(model_dir, **kw):
    wide, deep = census_columns()
    return DNNLinearCombinedClassifier(model_dir=model_dir, linear_feature_columns=wide,
                                       dnn_feature_columns=deep, dnn_hidden_units=[16, 8], **kw)


def train_input(first_batch, n_batches):
    f, y = load_adult("train")
    rows = slice(first_batch * BATCH, (first_batch + n_batches) * BATCH)
    f = {k: v[rows] for k, v in f.items()}
    return lambda: Dataset.from_tensor_slices((f, y[rows])).batch(BATCH)


def census_test_rows():
    f, y = load_adult("test")
    return {k: v[:N_TEST] for k, v in f.items()}, y[:N_TEST]


def predict_input():
    f, _ = census_test_rows()
    return Dataset.from_tensor_slices(f).batch(EVAL_BATCH)


def eval_input():
    return Dataset.from_tensor_slices(census_test_rows()).batch(EVAL_BATCH)


def predictions(est, input_fn=predict_input):
    preds = list(est.predict(input_fn))
    return {k: np.stack([p[k] for p in preds]) for k in ("logistic", "class_ids", "logits")}


def assert_predictions_equal(got, want, tol=1e-5):
    np.testing.assert_allclose(got["logistic"], want["logistic"], rtol=tol, atol=tol)
    np.testing.assert_allclose(got["logits"], want["logits"], rtol=tol, atol=tol)
    np.testing.assert_array_equal(got["class_ids"], want["class_ids"])




@pytest.fixture
def tf_dir(tmp_path):
    """A copy of the TF fixture model_dir (tests write into it)."""
    d = str(tmp_path / "tf_model_dir")
    shutil.copytree(TF_DIR, d)
    return d


def tf_files(model_dir):
    return sorted(f for f in os.listdir(model_dir) if f.endswith(".index") or ".data-" in f)


# --- the checkpoint functions on TF checkpoints -------------------------------------------
def test_checkpoint_functions_read_tf(tf_dir):
    prefix = ckpt.latest_checkpoint(tf_dir)
    assert prefix == os.path.join(tf_dir, f"model.ckpt-{STEPS}")
    assert ckpt.is_tf_checkpoint(prefix) and ckpt.exists(prefix)
    assert ckpt.step_of(prefix) == STEPS
    names = [n for n, _ in ckpt.list_variables(prefix)]
    assert names == sorted(STEP25) == [n for n, _ in tfc.list_variables(prefix)]
    shapes = dict(ckpt.list_variables(prefix))
    values = ckpt.read(prefix)
    assert sorted(values) == names
    for n, v in values.items():
        assert v.shape == shapes[n] == STEP25[n].shape and v.dtype == STEP25[n].dtype, n
    assert values["global_step"] == STEPS
    assert ckpt.read(prefix, ["dnn/logits/bias"])["dnn/logits/bias"].shape == (1,)
    with pytest.raises(ckpt.CheckpointError, match="'nope' is not in TensorFlow checkpoint"):
        ckpt.read(prefix, ["nope"])
    # our .h5 takes precedence over a TF bundle of the same prefix
    ckpt.write(prefix, {"global_step": np.int64(7)}, 7)
    assert not ckpt.is_tf_checkpoint(prefix)
    assert ckpt.read(prefix) == {"global_step": 7}


def test_object_graph_skipped_and_strings_kept():
    """TF2 object checkpoints and string tensors (the reader's own fixtures)."""
    obj = os.path.join(FIXTURES, "tf_ckpt", "object", "ckpt-1")
    assert tfc.OBJECT_GRAPH_KEY in tfc.TFCheckpointReader(obj).get_variable_to_shape_map()
    assert tfc.OBJECT_GRAPH_KEY not in ckpt.read(obj)
    assert tfc.OBJECT_GRAPH_KEY not in dict(ckpt.list_variables(obj))
    with pytest.raises(ckpt.CheckpointError):
        ckpt.read(obj, [tfc.OBJECT_GRAPH_KEY])
    v1 = os.path.join(FIXTURES, "tf_ckpt", "model.ckpt-30")
    vocab = ckpt.read(v1, ["vocab"])["vocab"]
    assert vocab.dtype == object and vocab[4] == b"x" * 300 and vocab[0] == b""


def test_state_file_naming_a_missing_checkpoint(tf_dir):
    for f in tf_files(tf_dir):
        os.remove(os.path.join(tf_dir, f))
    assert ckpt.latest_checkpoint(tf_dir) is None


# --- (a) serving and evaluating a TF model_dir ------------------------------------------------
def test_predict_and_evaluate_equal_tf(tf_dir):
    est = make(tf_dir)
    assert sorted(est.get_variable_names()) == sorted(STEP25)
    assert est.get_variable_value("global_step") == STEPS
    want = {k: FIX[f"pred/{k}"] for k in ("logistic", "class_ids", "logits")}
    assert_predictions_equal(predictions(est), want)
    metrics = est.evaluate(eval_input)
    tf_metrics = {k[len("eval/"):]: FIX[k] for k in FIX.files if k.startswith("eval/")}
    assert sorted(metrics) == sorted(tf_metrics)
    for k, w in tf_metrics.items():
        np.testing.assert_allclose(metrics[k], w, rtol=1e-4, atol=1e-4, err_msg=k)
    assert metrics["global_step"] == STEPS
    assert tf_files(tf_dir) == tf_files(TF_DIR)  # serving leaves the TF checkpoint alone


# --- (b) training on ------------------------------------------------------------------------
def test_training_continues_from_tf_step(tf_dir):
    est = make(tf_dir)
    est.train(train_input(STEPS, MORE_STEPS), steps=MORE_STEPS)
    latest = est.latest_checkpoint()
    assert latest == os.path.join(tf_dir, f"model.ckpt-{STEPS + MORE_STEPS}")
    assert os.path.exists(latest + ".h5") and not ckpt.is_tf_checkpoint(latest)
    assert_all_close(ckpt.read(latest), STEP25, rtol=2e-5)
    # the state file lists both formats; the TF bundle is kept (5 <= keep_checkpoint_max)
    latest_state, every = ckpt.read_state(tf_dir)
    assert latest_state == latest
    assert every == [os.path.join(tf_dir, f"model.ckpt-{STEPS}"), latest]
    assert tf_files(tf_dir) == tf_files(TF_DIR)
    # and a TF-style reader of the state file (relative paths) still parses it
    assert tfc.latest_checkpoint(tf_dir) is None  # ours is .h5: TF has no .index for it
    with open(os.path.join(tf_dir, "checkpoint"), encoding="utf-8") as f:
        assert re.search(r'^all_model_checkpoint_paths: "model.ckpt-20"$', f.read(), re.M)


def test_pruning_deletes_tf_files(tf_dir):
    """keep_checkpoint_max prunes a TF checkpoint as TF's Saver would: its .index,
    data shards and .meta go; the state file no longer lists it."""
    open(os.path.join(tf_dir, f"model.ckpt-{STEPS}.meta"), "wb").close()
    other = os.path.join(tf_dir, "model.ckpt-200.index")  # another prefix: untouched
    open(other, "wb").close()
    est = make(tf_dir, config=RunConfig(keep_checkpoint_max=1, save_checkpoints_steps=1))
    est.train(train_input(STEPS, 2), steps=2)
    assert sorted(f for f in os.listdir(tf_dir) if not f.startswith("events.")) == sorted(
        ["checkpoint", "model.ckpt-22.h5", "model.ckpt-200.index"])
    assert ckpt.read_state(tf_dir)[1] == [os.path.join(tf_dir, "model.ckpt-22")]


def test_pruning_never_crashes_on_missing_tf_files(tf_dir):
    """A listed TF checkpoint whose files are gone is dropped from the list."""
    ckpt.write_state(tf_dir, os.path.join(tf_dir, f"model.ckpt-{STEPS}"),
                     [os.path.join(tf_dir, "model.ckpt-10"),
                      os.path.join(tf_dir, f"model.ckpt-{STEPS}")])
    saver = ckpt.Saver(tf_dir, keep_checkpoint_max=1)
    saver.save(ckpt.read(ckpt.latest_checkpoint(tf_dir)), 21)
    assert ckpt.read_state(tf_dir)[1] == [os.path.join(tf_dir, "model.ckpt-21")]
    assert tf_files(tf_dir) == []


# --- (c) warm-starting from TF ---------------------------------------------------------------
@pytest.mark.parametrize("source", ["model_dir", "prefix", "settings"])
def test_warm_start_from_tf(tmp_path, source):
    tf_values = ckpt.read(ckpt.latest_checkpoint(TF_DIR))
    warm = {"model_dir": TF_DIR, "prefix": os.path.join(TF_DIR, f"model.ckpt-{STEPS}"),
            "settings": WarmStartSettings(TF_DIR, vars_to_warm_start="dnn/.*")}[source]
    d = str(tmp_path / "new")
    est = make(d, warm_start_from=warm)
    est.train(train_input(0, 1), steps=1)
    start = ckpt.read(os.path.join(d, "model.ckpt-0"))
    assert start["global_step"] == 0
    assert ckpt.read(est.latest_checkpoint())["global_step"] == 1
    trainable = [n for n in tf_values if n != "global_step" and not n.startswith("training/")]
    assert set(trainable) <= set(start)
    for name in trainable:
        if source != "settings" or name.startswith("dnn/"):
            np.testing.assert_array_equal(start[name], tf_values[name], err_msg=name)
    # optimizer slots are not warm-started: they start fresh, not at TF's step-20 values
    after = ckpt.read(est.latest_checkpoint())
    slot = "training/Adagrad/dnn/logits/kernel/accumulator"
    assert np.all(after[slot] <= tf_values[slot]) and np.any(after[slot] < tf_values[slot])
    if source == "settings":  # the linear part was not warm-started
        assert not np.array_equal(start["linear/linear_model/bias_weights"],
                                  tf_values["linear/linear_model/bias_weights"])


# --- (d) corrupted TF checkpoints ----------------------------------------------------------
def _flip(path, where):
    with open(path, "r+b") as f:
        f.seek(where)
        b = f.read(1)
        f.seek(where)
        f.write(bytes([b[0] ^ 0xFF]))


def test_corrupted_data_shard_raises_checkpoint_error(tf_dir):
    data = os.path.join(tf_dir, DATA)
    _flip(data, os.path.getsize(data) // 2)
    est = make(tf_dir)
    with pytest.raises(ckpt.CheckpointError, match=re.escape(data)):
        est.train(train_input(STEPS, 1), steps=1)
    with pytest.raises(ckpt.CheckpointError, match=re.escape(data)):
        list(est.predict(predict_input))
    with pytest.raises(ckpt.CheckpointError, match=re.escape(data)):
        est.evaluate(eval_input)
    assert tf_files(tf_dir) == tf_files(TF_DIR)
    assert not [f for f in os.listdir(tf_dir) if f.endswith(".h5")]  # nothing saved


@pytest.mark.parametrize("damage", ["flip", "truncate", "missing_shard"])
def test_corrupted_index_raises_checkpoint_error(tf_dir, damage):
    index = os.path.join(tf_dir, f"model.ckpt-{STEPS}.index")
    named = index
    if damage == "flip":
        _flip(index, 10)
    elif damage == "truncate":
        with open(index, "r+b") as f:
            f.truncate(os.path.getsize(index) - 7)
    else:
        named = os.path.join(tf_dir, DATA)
        os.remove(named)
    est = make(tf_dir)
    with pytest.raises(ckpt.CheckpointError, match=re.escape(named)):
        est.train(train_input(STEPS, 1), steps=1)
    with pytest.raises(ckpt.CheckpointError, match=re.escape(named)):
        list(est.predict(predict_input))


# --- converting with tf_checkpoint.convert ------------------------------------------------
def test_converted_model_dir_predicts_the_same(tmp_path):
    out = str(tmp_path / "converted")
    converted, skipped = tfc.convert(TF_DIR, out)
    assert converted == sorted(STEP25) and skipped == {}
    assert ckpt.latest_checkpoint(out) == os.path.join(out, f"model.ckpt-{STEPS}")
    assert not ckpt.is_tf_checkpoint(ckpt.latest_checkpoint(out))
    direct, via_h5 = predictions(make(TF_DIR)), predictions(make(out))
    for k in direct:
        np.testing.assert_array_equal(via_h5[k], direct[k], err_msg=k)


# --- (e) live: a freshly trained TF model_dir -------------------------------------------------
@pytest.mark.tf
@settings(max_examples=3, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(steps=st.integers(1, 6), batch=st.sampled_from([32, 64, 128]))
def test_live_tf_model_dir_predicts_equal(tmp_path_factory, steps, batch):
    tf = pytest.importorskip("tensorflow")
    import sys
    if os.path.join(HERE, "reference") not in sys.path:
        sys.path.insert(0, os.path.join(HERE, "reference"))
    from generate_canned import census_columns as tf_census_columns

    d = str(tmp_path_factory.mktemp("tf"))
    f, y = load_adult("train")
    f = {k: v[:batch * steps] for k, v in f.items()}
    y = y[:batch * steps]
    wide, deep = tf_census_columns()
    t = tf.estimator.DNNLinearCombinedClassifier(
        model_dir=d, linear_feature_columns=wide, dnn_feature_columns=deep,
        dnn_hidden_units=[16, 8])
    t.train(lambda: tf.data.Dataset.from_tensor_slices((f, y)).batch(batch), steps=steps)
    tf_names = sorted(n for n, _ in tf.train.list_variables(d))
    test_f, _ = census_test_rows()
    # Rows without capital gains or losses: capital_gain (up to 99,999) is not
    # normalized, so with it a logit is a float32 sum of terms in the thousands
    # that may cancel, and BLAS and Eigen round differently (1 ulp at 5,000 is
    # 5e-4). Without it the terms stay below a few hundred.
    small = np.nonzero((test_f["capital_gain"] == 0) & (test_f["capital_loss"] == 0))[0][:300]
    test_f = {k: v[small] for k, v in test_f.items()}
    want = list(t.predict(lambda: tf.data.Dataset.from_tensor_slices(test_f).batch(100)))
    want = {k: np.stack([p[k] for p in want]) for k in ("logistic", "class_ids", "logits")}
    ours = make(d)
    assert sorted(ours.get_variable_names()) == tf_names
    assert ours.get_variable_value("global_step") == steps
    got = predictions(ours, lambda: Dataset.from_tensor_slices(test_f).batch(100))
    atol = 1e-4
    np.testing.assert_allclose(got["logits"], want["logits"], rtol=1e-5, atol=atol)
    np.testing.assert_allclose(got["logistic"], want["logistic"], rtol=1e-5,
                               atol=1e-5 + atol / 4)  # sigmoid' <= 1/4
    clear = np.abs(want["logits"]) > atol
    np.testing.assert_array_equal(got["class_ids"][clear], want["class_ids"][clear])
