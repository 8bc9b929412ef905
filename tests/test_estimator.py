"""The Estimator runtime with a small model_fn: every argument and error of
train / evaluate / predict, checkpoints, hooks, crash safety, event files."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import minitf as tf
import widedeep.estimator as E
from minitf.data import Dataset
from widedeep import checkpoint as ckpt
from widedeep.variables import current_store, get_variable

X = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
Y = (X @ np.array([[2.0], [-1.0]], np.float32) + 0.5).astype(np.float32)


def model_fn(features, labels, mode, params):
    """y = x w + b, squared loss, plain gradient descent."""
    w = get_variable("linear/w", (2, 1))
    b = get_variable("linear/b", (1,))
    pred = tf.matmul(tf.constant(features["x"]), w) + b
    if mode == E.ModeKeys.PREDICT:
        return E.EstimatorSpec(mode, predictions={"y": pred, "x2": features["x"] * 2})
    loss = tf.reduce_mean(tf.square(pred - labels))
    tape = E.current_tape()
    lr = params.get("lr", 0.1)

    def train_op():
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(lr * np.asarray(gw))
        b.assign_sub(lr * np.asarray(gb))

    metrics = current_store().cache.setdefault("metrics", {"mae": _Mean()})
    metrics["mae"].update_state(np.abs(pred.numpy() - labels))
    return E.EstimatorSpec(mode, loss=loss, train_op=train_op, eval_metric_ops=metrics)


class _Mean:
    def __init__(self):
        self.total, self.count = 0.0, 0

    def update_state(self, v):
        self.total += float(np.sum(v))
        self.count += np.size(v)

    def result(self):
        return self.total / max(self.count, 1)


def train_input(batch=16, epochs=None):
    return lambda: Dataset.from_tensor_slices(({"x": X}, Y)).repeat(epochs).batch(batch)


def make(tmp_path, **cfg):
    cfg.setdefault("log_step_count_steps", 0)
    return E.Estimator(model_fn, str(tmp_path / "m"), E.RunConfig(**cfg), params={"lr": 0.1})


def step_of(est):
    return int(est.get_variable_value("global_step"))


# --- train -------------------------------------------------------------------------------
def test_steps_are_incremental_and_max_steps_absolute(tmp_path):
    est = make(tmp_path)
    est.train(train_input(), steps=5)
    assert step_of(est) == 5
    est.train(train_input(), steps=5)
    assert step_of(est) == 10  # two train(steps=5): 10 steps
    est.train(train_input(), max_steps=12)
    assert step_of(est) == 12
    before = est.get_variable_value("linear/w")
    est.train(train_input(), max_steps=12)  # already there: no step, no change
    assert step_of(est) == 12
    np.testing.assert_array_equal(est.get_variable_value("linear/w"), before)


def test_end_of_input_stops_training(tmp_path):
    est = make(tmp_path)
    est.train(train_input(batch=16, epochs=1), steps=100)  # 64 rows / 16 = 4 batches
    assert step_of(est) == 4


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps=1, max_steps=1), "Can not provide both steps and max_steps"),
    (dict(steps=0), "Must specify steps > 0, given: 0"),
    (dict(max_steps=-1), "Must specify max_steps > 0, given: -1"),
])
def test_train_argument_errors(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(tmp_path).train(train_input(), **kwargs)


def test_training_fits_and_checkpoints_are_kept(tmp_path):
    est = make(tmp_path, save_checkpoints_steps=10, keep_checkpoint_max=2)
    est.train(train_input(), steps=60)
    np.testing.assert_allclose(est.get_variable_value("linear/w").ravel(), [2, -1], atol=1e-2)
    _, every = ckpt.read_state(est.model_dir)
    assert [ckpt.step_of(p) for p in every] == [50, 60]
    assert sorted(f for f in os.listdir(est.model_dir) if f.endswith(".h5")) == [
        "model.ckpt-50.h5", "model.ckpt-60.h5"]
    assert est.latest_checkpoint() == os.path.join(est.model_dir, "model.ckpt-60")


def test_first_checkpoint_holds_initial_values(tmp_path):
    est = make(tmp_path, keep_checkpoint_max=0)
    est.train(train_input(), steps=3)
    first = ckpt.read(os.path.join(est.model_dir, "model.ckpt-0"))
    assert first["global_step"] == 0 and not first["linear/w"].any()
    assert est.get_variable_value("linear/w").any()


def test_hooks_protocol_and_stop(tmp_path):
    calls = []

    class Hook(E.SessionRunHook):
        def begin(self):
            calls.append("begin")

        def after_create_session(self, session, coord):
            calls.append(("session", int(session.run("global_step"))))

        def before_run(self, ctx):
            return E.SessionRunArgs({"loss": "loss", "step": "global_step"})

        def after_run(self, ctx, values):
            calls.append(("step", int(values.results["step"])))
            if values.results["step"] == 2:
                ctx.request_stop()

        def end(self, session):
            calls.append("end")

    est = make(tmp_path)
    est.train(train_input(), hooks=[Hook()])
    assert calls == ["begin", ("session", 0), ("step", 0), ("step", 1), ("step", 2), "end"]
    assert step_of(est) == 3


def test_saving_listeners_called_around_saves(tmp_path):
    seen = []

    class Listener(E.CheckpointSaverListener):
        def before_save(self, session, step):
            seen.append(("before", step))

        def after_save(self, session, step):
            seen.append(("after", step))

    make(tmp_path, save_checkpoints_steps=2).train(train_input(), steps=4,
                                                   saving_listeners=[Listener()])
    assert seen == [("before", 0), ("after", 0), ("before", 2), ("after", 2), ("before", 4),
                    ("after", 4)]


def test_nan_loss_raises_and_keeps_last_good_checkpoint(tmp_path):
    est = make(tmp_path)
    est.train(train_input(), steps=2)
    good = est.get_variable_value("linear/w")
    bad = np.full_like(X, np.nan)
    with pytest.raises(E.NanLossDuringTrainingError, match="NaN loss during training"):
        est.train(lambda: Dataset.from_tensor_slices(({"x": bad}, Y)).batch(8), steps=5)
    assert step_of(est) == 2
    np.testing.assert_array_equal(est.get_variable_value("linear/w"), good)


# --- evaluate / predict ----------------------------------------------------------------------
def test_evaluate_returns_metrics_loss_and_global_step(tmp_path):
    est = make(tmp_path)
    est.train(train_input(), steps=20)
    res = est.evaluate(lambda: Dataset.from_tensor_slices(({"x": X}, Y)).batch(16))
    w, b = est.get_variable_value("linear/w"), est.get_variable_value("linear/b")
    err = X @ w + b - Y
    # loss: the mean of the 4 per-batch mean squared errors (equal batches: the overall mean)
    np.testing.assert_allclose(res["loss"], np.mean(err ** 2), rtol=1e-5)
    np.testing.assert_allclose(res["mae"], np.mean(np.abs(err)), rtol=1e-5)
    assert res["global_step"] == 20
    assert os.listdir(est.eval_dir())
    res2 = est.evaluate(lambda: Dataset.from_tensor_slices(({"x": X}, Y)).batch(16), steps=1,
                        name="one")
    np.testing.assert_allclose(res2["loss"], np.mean(err[:16] ** 2), rtol=1e-5)
    assert est.eval_dir("one").endswith("eval_one") and os.path.isdir(est.eval_dir("one"))
    with pytest.raises(ValueError, match="Must specify steps > 0"):
        est.evaluate(train_input(), steps=0)


def test_evaluate_given_checkpoint_and_without_any(tmp_path):
    est = make(tmp_path, save_checkpoints_steps=5, keep_checkpoint_max=0)
    fresh = est.evaluate(lambda: Dataset.from_tensor_slices(({"x": X}, Y)).batch(64))
    np.testing.assert_allclose(fresh["loss"], np.mean(Y ** 2), rtol=1e-5)  # w = 0, b = 0
    assert fresh["global_step"] == 0
    est.train(train_input(), steps=10)
    at5 = est.evaluate(lambda: Dataset.from_tensor_slices(({"x": X}, Y)).batch(64),
                       checkpoint_path=os.path.join(est.model_dir, "model.ckpt-5"))
    assert at5["global_step"] == 5


def test_predict_single_batch_keys_and_errors(tmp_path):
    est = make(tmp_path)
    est.train(train_input(), steps=10)
    pin = lambda: Dataset.from_tensor_slices({"x": X[:5]}).batch(2)  # noqa: E731
    single = list(est.predict(pin))
    assert len(single) == 5 and set(single[0]) == {"y", "x2"}
    w, b = est.get_variable_value("linear/w"), est.get_variable_value("linear/b")
    np.testing.assert_allclose([p["y"][0] for p in single], (X[:5] @ w + b)[:, 0], rtol=1e-6)
    batches = list(est.predict(pin, predict_keys=["y"], yield_single_examples=False))
    assert [b_["y"].shape for b_ in batches] == [(2, 1), (2, 1), (1, 1)]
    assert set(batches[0]) == {"y"}
    with pytest.raises(ValueError, match="Expected to run at least one output from"):
        list(est.predict(pin, predict_keys=["nope"]))
    # predictions of different batch lengths cannot be split into examples
    def uneven_fn(features, mode):
        return E.EstimatorSpec(mode, predictions={"a": np.zeros(2), "b": np.zeros(3)})
    uneven = E.Estimator(uneven_fn, str(tmp_path / "u"))
    with pytest.raises(ValueError, match="Batch length of predictions should be same"):
        list(uneven.predict(lambda: {"x": X[:2]}))
    assert len(list(uneven.predict(lambda: {"x": X[:2]}, yield_single_examples=False))) == 1
    # non-dict predictions with predict_keys
    flat = E.Estimator(lambda features, mode: E.EstimatorSpec(mode, predictions=np.ones(2)),
                       str(tmp_path / "f"))
    with pytest.raises(ValueError, match="predict_keys argument is not valid"):
        list(flat.predict(lambda: {"x": X[:2]}, predict_keys=["a"]))


def test_predict_runs_the_caller_and_model_fn_hooks(tmp_path):
    """TF's predict runs the caller's hooks and the spec's prediction_hooks:
    begin, after_create_session, before_run / after_run per batch (fetching the
    step's predictions), end; a stop request ends predict after that batch."""
    calls = []

    class Hook(E.SessionRunHook):
        def __init__(self, name, stop_at=None):
            self.name, self.stop_at, self.batches = name, stop_at, 0

        def begin(self):
            calls.append((self.name, "begin"))

        def after_create_session(self, session, coord):
            calls.append((self.name, "session", int(session.run("global_step"))))

        def before_run(self, ctx):
            return E.SessionRunArgs("y")

        def after_run(self, ctx, values):
            self.batches += 1
            calls.append((self.name, "run", values.results.shape))
            if self.batches == self.stop_at:
                ctx.request_stop()

        def end(self, session):
            calls.append((self.name, "end"))

    def hooked_fn(features, labels, mode, params):
        spec = model_fn(features, labels, mode, params)
        if mode == E.ModeKeys.PREDICT:
            spec = spec._replace(prediction_hooks=[Hook("spec", stop_at=2)])
        return spec

    est = make(tmp_path)
    est.train(train_input(), steps=3)
    hooked = E.Estimator(hooked_fn, est.model_dir, params={"lr": 0.1})
    pin = lambda: Dataset.from_tensor_slices({"x": X[:7]}).batch(3)  # noqa: E731
    out = list(hooked.predict(pin, hooks=[Hook("caller")]))
    assert len(out) == 6  # the stop after batch 2 of 3: its examples, then no more
    assert calls == [
        ("caller", "begin"), ("spec", "begin"),
        ("caller", "session", 3), ("spec", "session", 3),
        ("caller", "run", (3, 1)), ("spec", "run", (3, 1)),
        ("caller", "run", (3, 1)), ("spec", "run", (3, 1)),
        ("caller", "end"), ("spec", "end")]


def test_restored_model_predicts_what_it_predicted(tmp_path):
    est = make(tmp_path)
    est.train(train_input(), steps=7)
    pin = lambda: Dataset.from_tensor_slices({"x": X}).batch(64)  # noqa: E731
    before = next(est.predict(pin, yield_single_examples=False))["y"]
    again = E.Estimator(model_fn, est.model_dir, params={"lr": 0.1})
    np.testing.assert_array_equal(next(again.predict(pin, yield_single_examples=False))["y"],
                                  before)


# --- variables, config, constructor -------------------------------------------------------------
def test_variable_access_before_and_after_training(tmp_path):
    est = make(tmp_path)
    for call in (est.get_variable_names, lambda: est.get_variable_value("linear/w")):
        with pytest.raises(ValueError, match="Could not find trained model in model_dir"):
            call()
    assert est.latest_checkpoint() is None
    est.train(train_input(), steps=1)
    assert est.get_variable_names() == ["global_step", "linear/b", "linear/w"]
    w, b = est.get_variable_value(["linear/w", "linear/b"])
    assert w.shape == (2, 1) and b.shape == (1,)


def test_constructor_and_config(tmp_path):
    with pytest.raises(ValueError, match="must include features argument"):
        E.Estimator(lambda x: None)
    with pytest.raises(ValueError, match="does not include params argument"):
        E.Estimator(lambda features: None, params={"a": 1})
    with pytest.raises(ValueError, match="both in constructor and RunConfig"):
        E.Estimator(model_fn, str(tmp_path / "a"), E.RunConfig(model_dir=str(tmp_path / "b")))
    with pytest.raises(ValueError, match="Can not provide both save_checkpoints_steps"):
        E.RunConfig(save_checkpoints_steps=1, save_checkpoints_secs=1)
    est = E.Estimator(model_fn)  # a temporary model_dir, as TF
    assert os.path.isdir(est.model_dir) and est.config.model_dir == est.model_dir
    cfg = E.RunConfig()
    assert (cfg.save_checkpoints_secs, cfg.save_checkpoints_steps, cfg.keep_checkpoint_max,
            cfg.log_step_count_steps, cfg.save_summary_steps) == (600, None, 5, 100, 100)
    with pytest.raises(ValueError, match="Missing train_op"):
        E.EstimatorSpec(E.ModeKeys.TRAIN, loss=1.0)
    with pytest.raises(ValueError, match="Missing loss"):
        E.EstimatorSpec(E.ModeKeys.EVAL)
    with pytest.raises(ValueError, match="Loss must be scalar"):
        E.EstimatorSpec(E.ModeKeys.EVAL, loss=np.ones(3))


def test_warm_start_from_path_and_regex(tmp_path):
    src = make(tmp_path)
    src.train(train_input(), steps=30)
    warm = E.Estimator(model_fn, str(tmp_path / "w"), E.RunConfig(log_step_count_steps=0),
                       params={"lr": 0.0}, warm_start_from=src.model_dir)
    warm.train(train_input(), steps=1)  # lr 0: values stay the warm-started ones
    np.testing.assert_array_equal(warm.get_variable_value("linear/w"),
                                  src.get_variable_value("linear/w"))
    assert step_of(warm) == 1  # global_step is not trainable: not warm-started
    only_b = E.Estimator(model_fn, str(tmp_path / "b"), E.RunConfig(log_step_count_steps=0),
                         params={"lr": 0.0}, warm_start_from=E.WarmStartSettings(
                             src.model_dir, vars_to_warm_start=".*/b"))
    only_b.train(train_input(), steps=1)
    assert not only_b.get_variable_value("linear/w").any()
    np.testing.assert_array_equal(only_b.get_variable_value("linear/b"),
                                  src.get_variable_value("linear/b"))


# --- checkpoint files ---------------------------------------------------------------------------
def test_corrupted_and_truncated_checkpoints_raise_clear_errors(tmp_path):
    est = make(tmp_path)
    est.train(train_input(), steps=2)
    path = est.latest_checkpoint() + ".h5"
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(ckpt.CheckpointError, match="model.ckpt-2.h5 is unreadable"):
        est.get_variable_value("linear/w")
    open(path, "wb").write(b"\x00" * 64 + data[64:])
    with pytest.raises(ckpt.CheckpointError, match="model.ckpt-2.h5"):
        est.train(train_input(), steps=1)
    with pytest.raises(ckpt.CheckpointError, match="does not exist"):
        ckpt.read(str(tmp_path / "nothing"))


CRASHER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import test_estimator as t
    import widedeep.estimator as E
    est = E.Estimator(t.model_fn, {model_dir!r},
                      E.RunConfig(save_checkpoints_steps=1, log_step_count_steps=0,
                                  keep_checkpoint_max=3), params={{"lr": 0.01}})
    print("ready", flush=True)
    est.train(t.train_input(), steps=100000)
""")


def test_kill_9_during_training_never_leaves_a_bad_checkpoint(tmp_path):
    model_dir = str(tmp_path / "crash")
    script = CRASHER.format(tests=os.path.dirname(__file__), model_dir=model_dir)
    rng = np.random.default_rng(0)
    last = 0
    for _ in range(3):
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert p.stdout.readline().strip() == b"ready"
        time.sleep(0.3 + rng.random() * 0.7)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        latest = ckpt.latest_checkpoint(model_dir)
        assert latest is not None
        values = ckpt.read(latest)  # never unreadable
        step = int(values["global_step"])
        assert step >= last and step == ckpt.step_of(latest)
        for prefix in ckpt.read_state(model_dir)[1]:
            ckpt.read(prefix)
        last = step
    est = E.Estimator(model_fn, model_dir, E.RunConfig(log_step_count_steps=0),
                      params={"lr": 0.01})
    est.train(train_input(), steps=2)
    assert step_of(est) == last + 2  # resumed from the latest intact checkpoint


# --- event files ------------------------------------------------------------------------------
def test_event_file_records_are_well_formed(tmp_path):
    from widedeep.estimator import summary
    est = make(tmp_path, save_summary_steps=1)
    est.train(train_input(), steps=3)
    (name,) = [f for f in os.listdir(est.model_dir) if f.startswith("events.out.tfevents")]
    data = open(os.path.join(est.model_dir, name), "rb").read()
    n, pos = 0, 0
    while pos < len(data):
        (length,) = np.frombuffer(data[pos:pos + 8], "<u8")
        assert int.from_bytes(data[pos + 8:pos + 12], "little") == summary.masked_crc(
            data[pos:pos + 8])
        body = data[pos + 12:pos + 12 + int(length)]
        crc = int.from_bytes(data[pos + 12 + int(length):pos + 16 + int(length)], "little")
        assert crc == summary.masked_crc(body)
        pos += 16 + int(length)
        n += 1
    assert n == 4  # file version + 3 steps
    # crc32c check value from RFC 3720 (iSCSI): "123456789" -> 0xE3069283
    assert summary.crc32c(b"123456789") == 0xE3069283


@pytest.mark.tf
def test_tensorboard_reads_our_event_files(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    est = make(tmp_path, save_summary_steps=1)
    est.train(train_input(), steps=3)
    est.evaluate(lambda: Dataset.from_tensor_slices(({"x": X}, Y)).batch(32))
    acc = EventAccumulator(est.model_dir)
    acc.Reload()
    loss = acc.Scalars("loss")
    assert [e.step for e in loss] == [1, 2, 3]
    assert all(np.isfinite(e.value) for e in loss)
    ev = EventAccumulator(est.eval_dir())
    ev.Reload()
    assert set(ev.Tags()["scalars"]) == {"loss", "mae"}


def test_checkpoint_keeps_a_variable_that_is_also_a_parent(tmp_path):
    """v1 optimizers name slots '<variable>/<Optimizer>': both names survive."""
    values = {"dnn/w": np.ones((2, 2), np.float32), "dnn/w/Adagrad": np.full((2, 2), 3.0),
              "dnn/w/Adagrad_1": np.zeros(2)}
    prefix = ckpt.write(str(tmp_path / "model.ckpt-1"), values)
    assert [n for n, _ in ckpt.list_variables(prefix)] == sorted(values)
    got = ckpt.read(prefix)
    for k, v in values.items():
        np.testing.assert_array_equal(got[k], v)
    assert ckpt.read(prefix, ["dnn/w"])["dnn/w"].shape == (2, 2)


def test_progress_bar_hook_draws_steps_and_loss(tmp_path):
    import io
    out = io.StringIO()
    est = make(tmp_path)
    est.train(train_input(), steps=4, hooks=[E.ProgressBarHook(total=4, stream=out,
                                                               every_secs=0)])
    text = out.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n")
    last = text.strip().split("\r")[-1]
    assert last.startswith("[" + "#" * 30 + "] 4/4 steps  loss ")
    assert "[" + "#" * 7 + "." in text  # a quarter done after the first step


def test_progress_hook_lines_every_n_steps(tmp_path):
    lines = []
    est = make(tmp_path)
    est.train(train_input(), steps=5, hooks=[E.ProgressBarHook(
        total=5, every_steps=2, batch_size=4, out=lines.append)])
    assert [ln.split("  loss")[0] for ln in lines] == [
        "  step      2/5", "  step      4/5", "  step      5/5"]
    assert all(ln.endswith(" examples/s") for ln in lines)
    est.train(train_input(), steps=2, hooks=[E.ProgressBarHook(every_steps=1, out=lines.append)])
    assert [ln.split("  loss")[0] for ln in lines[3:]] == ["  step      6", "  step      7"]
    assert lines[-1].endswith(" steps/s")


def _head_model_fn(make_optimizer):
    """A TF-style custom model_fn: the head and the optimizer built inside it
    (TF builds them once per graph; we call model_fn once per batch)."""
    from widedeep.heads import BinaryClassHead

    def model_fn(features, labels, mode):
        head = BinaryClassHead()
        w = get_variable("w", (2, 1))
        logits = tf.matmul(tf.constant(features["x"]), w)
        return head.create_estimator_spec(features, mode, logits, labels=labels,
                                          optimizer=make_optimizer(),
                                          trainable_variables=[w])
    return model_fn


def test_optimizer_built_in_model_fn_keeps_its_slots(tmp_path):
    """Adagrad built anew each batch, over 4 steps in one call or in two calls,
    equals one Adagrad object kept outside: its accumulator lives on (and is
    checkpointed and restored) as TF's slot variable would."""
    y = (X[:, 0] > 0).astype(np.int64)

    def data():
        return Dataset.from_tensor_slices(({"x": X}, y)).batch(16)

    def run(name, make_optimizer, calls):
        est = E.Estimator(_head_model_fn(make_optimizer), model_dir=str(tmp_path / name))
        if name != "kept-1":  # every run starts from the same initial values
            ckpt.Saver(str(tmp_path / name)).save(
                ckpt.read(str(tmp_path / "kept-1/model.ckpt-0.h5")), 0)
        for steps in calls:
            est.train(data, steps=steps)
        return est

    kept = tf.optimizers.Adagrad(0.5)
    ref = run("kept-1", lambda: kept, [4])
    runs = [run("fresh-1", lambda: tf.optimizers.Adagrad(0.5), [4]),
            run("kept-2", lambda: kept, [2, 2]),
            run("fresh-2", lambda: tf.optimizers.Adagrad(0.5), [2, 2])]
    for name in ("w", "training/Adagrad/w/accumulator"):
        np.testing.assert_array_equal(runs[0].get_variable_value(name),
                                      ref.get_variable_value(name))
        np.testing.assert_array_equal(runs[2].get_variable_value(name),
                                      runs[1].get_variable_value(name))
    # by hand: accumulator = 0.1 + sum of squared gradients, not reset each step
    assert np.all(ref.get_variable_value("training/Adagrad/w/accumulator") > 0.1)


def test_head_built_in_model_fn_streams_metrics_over_batches(tmp_path):
    y = (X[:, 0] > 0.3).astype(np.int64)
    est = E.Estimator(_head_model_fn(lambda: tf.optimizers.SGD(0.1)), model_dir=str(tmp_path))
    est.train(lambda: Dataset.from_tensor_slices(({"x": X}, y)).batch(16), steps=2)
    by8 = est.evaluate(lambda: Dataset.from_tensor_slices(({"x": X}, y)).batch(8))
    by64 = est.evaluate(lambda: Dataset.from_tensor_slices(({"x": X}, y)).batch(64))
    for k in ("accuracy", "label/mean", "auc", "average_loss", "accuracy_baseline"):
        np.testing.assert_allclose(by8[k], by64[k], rtol=1e-6, err_msg=k)
    assert by64["label/mean"] == np.float32(np.mean(y))
