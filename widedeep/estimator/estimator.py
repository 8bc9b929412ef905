"""`Estimator`: train / evaluate / predict around a model_fn, as tf.estimator.

Every call opens a fresh `VariableStore` restored from the latest checkpoint
(as TF builds a graph and restores per call; predict reuses the previous
predict call's store while its checkpoint's files are unchanged, see
`_PredictCache`), iterates the input, calls
`model_fn` once per batch, and (train) saves HDF5 checkpoints. The loop of one
training step:

    features, labels = next(batch)
    with GradientTape(): spec = model_fn(features, labels, TRAIN, ...)   # forward
    first step only: save model.ckpt-<step> if there is none (initial values)
    hooks.before_run -> spec.train_op() (the update) -> global_step += 1
    -> hooks.after_run (loss, NaN check, logging) -> summaries -> checkpoint
"""

import collections.abc
import contextlib
import inspect
import logging
import os
import sys
import tempfile
import threading
import time

import numpy as np

import minitf as tf
from minitf.blas import adaptive_threads
from minitf.data import Dataset
from minitf.optimizers.optimizer import SCOPE as OPT_SCOPE
from minitf.optimizers.optimizer import shared_state
from widedeep import checkpoint as ckpt
from widedeep.estimator.hooks import (
    LoggingTensorHook,
    NanTensorHook,
    ProgressBarHook,
    SessionRunContext,
    SessionRunValues,
    StepSession,
    StopAtStepHook,
    resolve,
)
from widedeep.estimator.model_fn import EstimatorSpec, LazyPredictions, ModeKeys
from widedeep.estimator.run_config import RunConfig
from widedeep.estimator.summary import SummaryWriter
from widedeep.variables import VariableStore, WarmStart, store_scope

log = logging.getLogger("widedeep")


class WarmStartSettings:
    """tf.estimator.WarmStartSettings: where and which variables to warm-start."""

    def __init__(self, ckpt_to_initialize_from, vars_to_warm_start=".*",
                 var_name_to_vocab_info=None, var_name_to_prev_var_name=None):
        if var_name_to_vocab_info:
            raise NotImplementedError("var_name_to_vocab_info is not supported yet")
        self.ckpt_to_initialize_from = ckpt_to_initialize_from
        self.vars_to_warm_start = vars_to_warm_start
        self.var_name_to_prev_var_name = var_name_to_prev_var_name or {}


def _global_step_scope(var):
    """minitf.train's global-step context, so model code can call get_global_step()."""
    try:
        from minitf import train as _train
    except ImportError:
        return contextlib.nullcontext()
    scope = getattr(_train, "global_step_scope", None)
    return scope(var) if scope is not None else contextlib.nullcontext()


def current_tape():
    """The GradientTape recording the current TRAIN step (None outside one).

    A model_fn's train_op closure takes its gradients from it::

        tape = current_tape()
        def train_op():
            grads = tape.gradient(loss, variables)
            ...apply them...
    """
    from minitf.autodiff import _recording
    tapes = _recording()
    return tapes[-1] if tapes else None


def _call_with(fn, what, **available):
    """Calls `fn` with those of `available` it accepts (TF's input_fn/model_fn rule)."""
    params = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return fn(**available)
    return fn(**{k: v for k, v in available.items() if k in params})


class _PredictCache:
    """The store of a predict call, kept for the next ones on the same estimator
    while the checkpoint's files are unchanged (TF restores the checkpoint in
    every call; the values are the same). Evaluate and train always restore
    afresh: evaluate keeps its metrics in `store.cache`, train changes variables.
    What predict leaves in `store.cache` is the model built once per store (the
    canned model's layers), which stays valid."""

    def __init__(self, key, store, gs):
        self.key, self.store, self.gs = key, store, gs
        self.lock = threading.Lock()  # held by the predict call using the store
        self.buffers = None  # [(variable, its array)] when last found unchanged

    def unchanged(self):
        """Whether every variable still holds its checkpoint value: a model_fn
        that assigned a variable while predicting (TF would restore it for the
        next call) must not leave that in the reused store. Compared by value
        once, then by identity of the arrays (an assign replaces the array)."""
        variables = self.store.variables
        if self.buffers is not None and len(self.buffers) == len(variables) and all(
                v._value is b for v, b in self.buffers):
            return True
        restore = self.store.restore
        if not all(n in restore and np.array_equal(v._value, restore[n])
                   for n, v in variables.items()):
            return False
        self.buffers = [(v, v._value) for v in variables.values()]
        return True


def _checkpoint_key(path):
    """What tells whether checkpoint `path` changed: its absolute path and, for
    each of its files, (name, inode, mtime_ns, size). None when a file is
    missing (the restore then raises as usual). A rewrite replaces the file
    (new inode), so it changes the key even within one mtime tick."""
    try:
        return (os.path.abspath(path),) + tuple(
            (f, st.st_ino, st.st_mtime_ns, st.st_size)
            for f in ckpt.files(path) for st in (os.stat(f),))
    except OSError:
        return None


class Estimator:
    """A model_fn with its runtime.

    Args:
      model_fn: ``model_fn(features, labels, mode, params, config) -> EstimatorSpec``
        (it may leave out any argument but features).
      model_dir: where checkpoints and summaries go; a temporary directory
        when None (as TF).
      config: a RunConfig.
      params: a dict passed to model_fn and input_fn.
      warm_start_from: a checkpoint path or model_dir, or WarmStartSettings.
    """

    _predict_cache = None  # the last predict call's _PredictCache
    _model_fn_args = (None, None)  # (model_fn, its signature's parameters)

    def __init__(self, model_fn, model_dir=None, config=None, params=None,
                 warm_start_from=None):
        if not callable(model_fn):
            raise ValueError(f"model_fn must be callable, got {model_fn!r}")
        args = inspect.signature(model_fn).parameters
        if "features" not in args:
            raise ValueError(f"model_fn ({model_fn}) must include features argument.")
        if params is not None and "params" not in args:
            raise ValueError(f"model_fn ({model_fn}) does not include params argument, but "
                             f"params ({params}) is passed to Estimator.")
        if config is None:
            config = RunConfig()
        elif not isinstance(config, RunConfig):
            raise ValueError(f"config must be an instance of RunConfig, but provided "
                             f"{config}.")
        if model_dir is not None and config.model_dir is not None and \
                os.path.abspath(model_dir) != os.path.abspath(config.model_dir):
            raise ValueError(f"model_dir are set both in constructor and RunConfig, but with "
                             f"different values. In constructor: '{model_dir}', in RunConfig: "
                             f"'{config.model_dir}' ")
        model_dir = model_dir or config.model_dir
        if model_dir is None:
            model_dir = tempfile.mkdtemp()
            log.warning("Using temporary folder as model directory: %s", model_dir)
        self._model_dir = os.fspath(model_dir)
        self._config = config.replace(model_dir=self._model_dir)
        self._params = dict(params or {})
        self._model_fn = model_fn
        if isinstance(warm_start_from, (str, os.PathLike)):
            warm_start_from = WarmStartSettings(os.fspath(warm_start_from))
        self._warm_start = warm_start_from

    # --- attributes -------------------------------------------------------------------
    @property
    def model_dir(self):
        return self._model_dir

    @property
    def config(self):
        return self._config

    @property
    def params(self):
        return dict(self._params)

    @property
    def model_fn(self):
        """The model_fn bound to this estimator's params and config."""
        def bound(features, labels, mode, config=None):
            return self._call_model_fn(features, labels, mode)
        return bound

    def eval_dir(self, name=None):
        return os.path.join(self._model_dir, "eval" if not name else "eval_" + name)

    def latest_checkpoint(self):
        return ckpt.latest_checkpoint(self._model_dir)

    def _require_checkpoint(self):
        path = self.latest_checkpoint()
        if path is None:
            raise ValueError(f"Could not find trained model in model_dir: {self._model_dir}.")
        return path

    def get_variable_names(self):
        return [n for n, _ in ckpt.list_variables(self._require_checkpoint())]

    def get_variable_value(self, name):
        path = self._require_checkpoint()
        if isinstance(name, (list, tuple)):
            values = ckpt.read(path, list(name))
            return [values[n] for n in name]
        return ckpt.read(path, [name])[name]

    # --- export (widedeep/export) ---------------------------------------------------------
    def export_saved_model(self, export_dir_base, serving_input_receiver_fn, assets_extra=None,
                           as_text=False, checkpoint_path=None,
                           experimental_mode=ModeKeys.PREDICT):
        """Exports the model (see widedeep.export.export_saved_model); returns the
        export directory as bytes, as TF."""
        from widedeep.export import export_saved_model  # imports widedeep.estimator
        return export_saved_model(self, export_dir_base, serving_input_receiver_fn,
                                  assets_extra, as_text, checkpoint_path, experimental_mode)

    def experimental_export_all_saved_models(self, export_dir_base, input_receiver_fn_map,
                                             assets_extra=None, as_text=False,
                                             checkpoint_path=None):
        from widedeep.export import experimental_export_all_saved_models
        return experimental_export_all_saved_models(self, export_dir_base,
                                                    input_receiver_fn_map, assets_extra,
                                                    as_text, checkpoint_path)

    # --- shared plumbing ---------------------------------------------------------------
    def _call_model_fn(self, features, labels, mode):
        fn, args = self._model_fn_args
        if fn is not self._model_fn:  # the signature once per model_fn, not per step
            fn, args = self._model_fn, inspect.signature(self._model_fn).parameters
            self._model_fn_args = (fn, args)
        kwargs = {"features": features}
        if "labels" in args:
            kwargs["labels"] = labels
        elif labels is not None:
            raise ValueError("model_fn does not take labels, but input_fn returns labels.")
        for name, value in (("mode", mode), ("params", self._params),
                            ("config", self._config)):
            if name in args:
                kwargs[name] = value
        spec = self._model_fn(**kwargs)
        if not isinstance(spec, EstimatorSpec):
            raise ValueError(f"model_fn should return an EstimatorSpec, given: {type(spec)}")
        return spec

    def _batches(self, input_fn, mode):
        """An iterator of (features, labels) from input_fn's result."""
        if not callable(input_fn):
            raise ValueError(f"input_fn must be callable, given: {input_fn!r}")
        result = _call_with(input_fn, "input_fn", mode=mode, params=self._params,
                            config=self._config)
        if isinstance(result, Dataset):
            return (_split(e, mode) for e in result)
        return iter([_split(result, mode)])

    def _store(self, checkpoint_path, training=False):
        """(store, global step) restored from `checkpoint_path`; training without
        a checkpoint warm-starts. Evaluate and predict read the optimizers' state
        (under 'training/') only if a model_fn asks for it (checkpoint.Deferred)."""
        restore, source = {}, None
        if checkpoint_path is not None:
            restore = ckpt.read(checkpoint_path, defer=None if training else f"{OPT_SCOPE}/")
            source = checkpoint_path
        warm = None
        if training and self._warm_start is not None and checkpoint_path is None:
            warm = _load_warm_start(self._warm_start)
        store = VariableStore(restore, warm, source)
        gs = store.get_variable("global_step", (), "int64", trainable=False)
        return store, gs

    def _predict_store(self, path):
        """(store, gs, entry) for predict: the cached store when checkpoint `path`
        is unchanged and no other predict call is using it, else a fresh one,
        which becomes the cached one. `entry` (None: not cached) is locked; the
        caller releases it. No caching without a checkpoint: TF initializes the
        variables anew in every call."""
        key = None if path is None else _checkpoint_key(path)
        entry = self._predict_cache
        if key is not None and entry is not None and entry.key == key:
            if not entry.lock.acquire(blocking=False):  # in use (an unfinished predict)
                return (*self._store(path), None)
            if entry.unchanged():
                return entry.store, entry.gs, entry
            entry.lock.release()
        store, gs = self._store(path)
        if key is None:
            return store, gs, None
        entry = _PredictCache(key, store, gs)
        entry.lock.acquire()
        self._predict_cache = entry
        return store, gs, entry

    def _seed(self):
        if self._config.tf_random_seed is not None:
            tf.random.set_seed(self._config.tf_random_seed)

    # --- train ----------------------------------------------------------------------------
    def train(self, input_fn, hooks=None, steps=None, max_steps=None, saving_listeners=None):
        """Trains for `steps` more steps, up to global step `max_steps`, or until
        the input ends. Returns self."""
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        latest = self.latest_checkpoint()
        if max_steps is not None and latest is not None:
            start = int(ckpt.read(latest, ["global_step"])["global_step"])
            if max_steps <= start:
                log.info("Skipping training since max_steps has already saved.")
                return self
        hooks = list(hooks or [])
        if steps is not None or max_steps is not None:
            hooks.append(StopAtStepHook(steps, max_steps))
        if sys.stderr.isatty() and self._config.log_step_count_steps:
            start = int(ckpt.read(latest, ["global_step"])["global_step"]) if latest else 0
            hooks.append(ProgressBarHook(max_steps or (start + steps if steps else None)))
        self._seed()
        store, gs = self._store(latest, training=True)
        with store_scope(store), _global_step_scope(gs), adaptive_threads(), \
                shared_state(store.optimizer_seen):
            loss = self._train_loop(input_fn, hooks, list(saving_listeners or []), store, gs,
                                    latest)
        if loss is not None:
            log.info("Loss for final step: %s.", loss)
        return self

    def _train_loop(self, input_fn, hooks, listeners, store, gs, latest):
        cfg = self._config
        saver = ckpt.Saver(self._model_dir, cfg.keep_checkpoint_max,
                           cfg.keep_checkpoint_every_n_hours)
        hooks = hooks + [NanTensorHook("loss")]
        if cfg.log_step_count_steps:
            hooks.append(LoggingTensorHook({"loss": "loss", "step": "global_step"},
                                           every_n_iter=cfg.log_step_count_steps))
        writer = SummaryWriter(self._model_dir) if cfg.save_summary_steps else None
        session = StepSession()
        batches = self._batches(input_fn, ModeKeys.TRAIN)
        saved_step = ckpt.step_of(latest) if latest else None
        last_save_time = time.time()
        count_time, count_step = time.time(), int(gs.numpy())

        def save(step):
            nonlocal saved_step, last_save_time
            for lst in listeners:
                lst.before_save(session, step)
            log.info("Saving checkpoints for %d into %s.", step,
                     os.path.join(self._model_dir, "model.ckpt"))
            saver.save(store.values(copy=False), step)
            saved_step, last_save_time = step, time.time()
            return any(bool(lst.after_save(session, step)) for lst in listeners)

        started, loss_value, stop = False, None, False
        try:
            for lst in listeners:
                lst.begin()
            for h in hooks:
                h.begin()
            for features, labels in batches:
                step = int(gs.numpy())
                with tf.GradientTape(persistent=True):
                    spec = self._call_model_fn(features, labels, ModeKeys.TRAIN)
                for t in spec.training_hooks + spec.training_chief_hooks:
                    if not started:
                        t.begin()
                        hooks.append(t)
                session.values = _step_values(spec, step)
                if not started:
                    started = True
                    for h in hooks:
                        h.after_create_session(session, None)
                    if saved_step != step:
                        stop = save(step)
                ctx = SessionRunContext(None, session)
                requests = [h.before_run(ctx) for h in hooks]
                fetched = [None if r is None else resolve(r.fetches, session.values)
                           for r in requests]
                if callable(spec.train_op):
                    spec.train_op()
                if int(gs.numpy()) == step:  # model_fn's update did not count the step
                    gs.assign(np.int64(step + 1))
                for h, got in zip(hooks, fetched):
                    h.after_run(ctx, SessionRunValues(got, None, None))
                loss_value = session.values["loss"]
                new_step = int(gs.numpy())
                if writer is not None and new_step % cfg.save_summary_steps == 0:
                    scalars = {"loss": loss_value}
                    if new_step > count_step:
                        scalars["global_step/sec"] = (new_step - count_step) / max(
                            time.time() - count_time, 1e-9)
                    writer.scalars(new_step, scalars)
                if cfg.log_step_count_steps and new_step % cfg.log_step_count_steps == 0:
                    rate = (new_step - count_step) / max(time.time() - count_time, 1e-9)
                    log.info("global_step/sec: %.4g", rate)
                    count_time, count_step = time.time(), new_step
                due = (cfg.save_checkpoints_steps and new_step % cfg.save_checkpoints_steps == 0
                       or cfg.save_checkpoints_secs is not None
                       and time.time() - last_save_time >= cfg.save_checkpoints_secs)
                if due:
                    stop = save(new_step) or stop
                if stop or ctx.stop_requested:
                    break
            if started and saved_step != int(gs.numpy()):
                save(int(gs.numpy()))
            for h in hooks:
                h.end(session)
            for lst in listeners:
                lst.end(session, int(gs.numpy()))
        finally:
            if writer is not None:
                writer.close()
        return loss_value

    # --- evaluate -------------------------------------------------------------------------
    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None, name=None):
        """Runs the EVAL model over the input (or `steps` batches) and returns its
        metrics, plus 'loss' (mean loss per batch) and 'global_step'."""
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        path = checkpoint_path or self.latest_checkpoint()
        if path is None:
            log.info("Could not find trained model in model_dir: %s, running initialization "
                     "to evaluate.", self._model_dir)
        self._seed()
        store, gs = self._store(path)
        hooks = list(hooks or [])
        session = StepSession()
        metrics, loss_sum, n_batches = None, 0.0, 0
        with store_scope(store), _global_step_scope(gs), adaptive_threads():
            for h in hooks:
                h.begin()
            for features, labels in self._batches(input_fn, ModeKeys.EVAL):
                spec = self._call_model_fn(features, labels, ModeKeys.EVAL)
                if metrics is None:
                    metrics = dict(spec.eval_metric_ops)
                    _join_hooks(hooks, spec.evaluation_hooks, session, spec, int(gs.numpy()))
                else:
                    _merge_metrics(metrics, spec.eval_metric_ops)
                session.values = _step_values(spec, int(gs.numpy()))
                ctx = _run_hooks(hooks, session)
                loss_sum += float(np.asarray(spec.loss))
                n_batches += 1
                if (steps is not None and n_batches >= steps) or ctx.stop_requested:
                    break
            for h in hooks:
                h.end(session)
        results = {k: _metric_value(m) for k, m in (metrics or {}).items()}
        if "loss" not in results:
            results["loss"] = np.float32(loss_sum / n_batches) if n_batches else np.float32(0)
        results["global_step"] = np.int64(gs.numpy())
        with SummaryWriter(self.eval_dir(name)) as w:
            w.scalars(int(results["global_step"]),
                      {k: v for k, v in results.items() if k != "global_step"
                       and np.size(v) == 1})
        log.info("Saving dict for global step %d: %s", results["global_step"],
                 ", ".join(f"{k} = {v}" for k, v in sorted(results.items())))
        return results

    # --- predict --------------------------------------------------------------------------
    def predict(self, input_fn, predict_keys=None, hooks=None, checkpoint_path=None,
                yield_single_examples=True):
        """Yields predictions: one dict per example (or per batch when
        `yield_single_examples` is False)."""
        path = checkpoint_path or self.latest_checkpoint()
        if path is None:
            log.info("Could not find trained model in model_dir: %s, running initialization "
                     "to predict.", self._model_dir)
        self._seed()
        store, gs, entry = self._predict_store(path)
        try:
            hooks = list(hooks or [])
            session, started = StepSession(), False
            with store_scope(store), _global_step_scope(gs):
                for h in hooks:
                    h.begin()
                for features, _ in self._batches(input_fn, ModeKeys.PREDICT):
                    with adaptive_threads():
                        spec = self._call_model_fn(features, None, ModeKeys.PREDICT)
                    preds = _filter(spec.predictions, predict_keys)
                    if not started:
                        started = True
                        _join_hooks(hooks, spec.prediction_hooks, session, spec, int(gs.numpy()))
                    stop = False
                    if hooks:  # (the step's values are made only for hooks to fetch)
                        session.values = _step_values(spec, int(gs.numpy()))
                        stop = _run_hooks(hooks, session).stop_requested
                    if not yield_single_examples:
                        yield preds
                    else:
                        yield from _examples(preds)
                    if stop:
                        break
                for h in hooks:
                    h.end(session)
        except Exception:
            if entry is not None and self._predict_cache is entry:
                self._predict_cache = None  # a model that failed half-built is not reused
            raise
        finally:
            if entry is not None:
                entry.lock.release()


def _join_hooks(hooks, spec_hooks, session, spec, step):
    """At the first batch: the model_fn's own hooks begin and join the caller's
    (after them, as TF lists them), then every hook's after_create_session."""
    for h in spec_hooks:
        h.begin()
        hooks.append(h)
    session.values = _step_values(spec, step)
    for h in hooks:
        h.after_create_session(session, None)


def _run_hooks(hooks, session):
    """One evaluate or predict step's before_run and after_run calls of `hooks`,
    their fetches resolved against the step's values; returns the run context."""
    ctx = SessionRunContext(None, session)
    fetched = [None if r is None else resolve(r.fetches, session.values)
               for r in (h.before_run(ctx) for h in hooks)]
    for h, got in zip(hooks, fetched):
        h.after_run(ctx, SessionRunValues(got, None, None))
    return ctx


def _split(element, mode):
    """(features, labels) of an input element, as TF reads input_fn results."""
    if isinstance(element, tuple):
        if len(element) != 2:
            raise ValueError(f"input_fn should return (features, labels) as a len 2 tuple, "
                             f"got a tuple of {len(element)}")
        return element
    if mode == ModeKeys.PREDICT or mode == ModeKeys.TRAIN or mode == ModeKeys.EVAL:
        return element, None
    return element, None


def _numpy(v):
    return v.numpy() if hasattr(v, "numpy") else np.asarray(v)


def _step_values(spec, step):
    """{name: array} that hooks fetch from: global_step, loss and the predictions."""
    values = {"global_step": np.int64(step)}
    if spec.loss is not None:
        values["loss"] = np.float32(_numpy(spec.loss).reshape(()))
    if isinstance(spec.predictions, LazyPredictions):
        return _LazyStepValues(values, spec.predictions)
    if isinstance(spec.predictions, dict):
        values.update({k: _numpy(v) for k, v in spec.predictions.items()})
    return values


class _LazyStepValues(collections.abc.Mapping):
    """`_step_values` whose predictions are computed only when one is fetched."""

    def __init__(self, values, predictions):
        self._values, self._predictions = values, predictions

    def __getitem__(self, key):
        if key not in self._values:
            self._values[key] = _numpy(self._predictions[key])
        return self._values[key]

    def __contains__(self, key):
        return key in self._values or key in self._predictions

    def __iter__(self):
        return iter(dict.fromkeys([*self._values, *self._predictions]))

    def __len__(self):
        return len(dict.fromkeys([*self._values, *self._predictions]))


def _merge_metrics(kept, new):
    """Metric objects live across batches; a model_fn that returns fresh ones
    each batch has their states merged into the first ones."""
    for k, m in new.items():
        if k not in kept or kept[k] is m:
            continue
        if hasattr(kept[k], "merge_state"):
            kept[k].merge_state([m])
        else:
            raise ValueError(f"eval_metric_ops[{k!r}]: a new metric object came with each "
                             f"batch; return the same object every batch (e.g. keep it in "
                             f"widedeep.variables.current_store().cache)")


def _metric_value(m):
    if hasattr(m, "result"):
        return np.asarray(_numpy(m.result()))
    if isinstance(m, tuple):
        return np.asarray(_numpy(m[0]() if callable(m[0]) else m[0]))
    return np.asarray(_numpy(m))


def _filter(predictions, keys):
    if keys is None:
        return {k: _numpy(v) for k, v in predictions.items()} if isinstance(
            predictions, dict) else _numpy(predictions)
    if not isinstance(predictions, dict):
        raise ValueError("predict_keys argument is not valid in case of non-dict predictions.")
    keys = [keys] if isinstance(keys, str) else list(keys)
    missing = [k for k in keys if k not in predictions]
    if missing:
        raise ValueError(f"Expected to run at least one output from {sorted(predictions)}, "
                         f"provided {keys}.")
    return {k: _numpy(predictions[k]) for k in keys}


def _examples(preds):
    """The batch's predictions as one item per example (a list: predict yields
    from it, a generator less per example)."""
    if not isinstance(preds, dict):
        return list(preds)
    sizes = {k: (v.shape[0] if v.ndim else None) for k, v in preds.items()}  # (arrays: _filter)
    n = next(iter(sizes.values()), None)
    for k, s in sizes.items():
        if s is None or s != n:
            raise ValueError(f"Batch length of predictions should be same. {k} has different "
                             f"batch length than others.")
    # One row per example: list() of an array gives its rows (numpy scalars of a
    # 1-D array, row views of the others), as v[i] would, in one C loop. The
    # dicts are filled key by key: plain stores take half the time of
    # dict(zip(keys, row)) per example.
    rows = [{} for _ in range(n or 0)]
    for k, v in preds.items():
        for row, value in zip(rows, list(v)):
            row[k] = value
    return rows


def _load_warm_start(settings):
    path = settings.ckpt_to_initialize_from
    if os.path.isdir(path):
        found = ckpt.latest_checkpoint(path)
        if found is None:
            raise ValueError(f"warm_start_from: no checkpoint in {path}")
        path = found
    return WarmStart(path, ckpt.read(path), settings.vars_to_warm_start,
                     settings.var_name_to_prev_var_name)
