"""Training hooks with TF's SessionRunHook protocol.

A hook's methods run around every step: ``begin()`` once, then
``after_create_session(session, coord)``, then per step
``before_run(run_context)`` (may return ``SessionRunArgs(fetches)``) and
``after_run(run_context, run_values)``, and ``end(session)`` at the end.

There is no graph, so fetches name values of the step instead of tensors:
'loss', 'global_step', or a key of the model's predictions (a Tensor the
model_fn made can also be given directly). `session.run(fetches)` resolves
the same names. ``run_context.request_stop()`` ends the loop after the step.
"""

import collections
import logging
import math
import time

import numpy as np

log = logging.getLogger("widedeep")

SessionRunArgs = collections.namedtuple("SessionRunArgs", ["fetches", "feed_dict", "options"])
SessionRunArgs.__new__.__defaults__ = (None, None)
SessionRunValues = collections.namedtuple("SessionRunValues",
                                          ["results", "options", "run_metadata"])


class NanLossDuringTrainingError(RuntimeError):
    def __str__(self):
        return "NaN loss during training."


class SessionRunContext:
    def __init__(self, original_args, session):
        self.original_args, self.session = original_args, session
        self._stop = False

    def request_stop(self):
        self._stop = True

    @property
    def stop_requested(self):
        return self._stop


class StepSession:
    """Stands in for a tf.Session: `run` resolves fetch names against the values
    of the current step."""

    def __init__(self):
        self.values = {}

    def run(self, fetches):
        return resolve(fetches, self.values)


def resolve(fetches, values):
    if fetches is None:
        return None
    if isinstance(fetches, dict):
        return {k: resolve(v, values) for k, v in fetches.items()}
    if isinstance(fetches, (list, tuple)):
        return type(fetches)(resolve(v, values) for v in fetches)
    if isinstance(fetches, str):
        name = fetches.split(":")[0]
        if name not in values:
            raise ValueError(f"hook fetch {fetches!r} is not a value of the step; available: "
                             f"{sorted(values)}")
        return values[name]
    if hasattr(fetches, "numpy"):
        return fetches.numpy()
    return fetches


class SessionRunHook:
    def begin(self):
        pass

    def after_create_session(self, session, coord):
        pass

    def before_run(self, run_context):
        return None

    def after_run(self, run_context, run_values):
        pass

    def end(self, session):
        pass


class StopAtStepHook(SessionRunHook):
    """Requests stop after `num_steps` more steps or at global step `last_step`."""

    def __init__(self, num_steps=None, last_step=None):
        if num_steps is None and last_step is None:
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and last_step is not None:
            raise ValueError("Only one of num_steps or last_step can be specified.")
        self._num_steps, self._last_step = num_steps, last_step

    def after_create_session(self, session, coord):
        step = int(session.run("global_step"))
        if self._last_step is None:
            self._last_step = step + self._num_steps

    def before_run(self, run_context):
        return SessionRunArgs("global_step")

    def after_run(self, run_context, run_values):
        # results hold the step before this update; the update adds one
        if int(run_values.results) + 1 >= self._last_step:
            run_context.request_stop()


class LoggingTensorHook(SessionRunHook):
    """Logs the given values every `every_n_iter` steps (or `every_n_secs`),
    as 'name = value, name = value'."""

    def __init__(self, tensors, every_n_iter=None, every_n_secs=None, at_end=False,
                 formatter=None):
        if (every_n_iter is None) == (every_n_secs is None) and not at_end:
            raise ValueError("exactly one of every_n_iter and every_n_secs should be provided.")
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        if not isinstance(tensors, dict):
            tensors = {t if isinstance(t, str) else str(i): t for i, t in enumerate(tensors)}
        self._tensors, self._n, self._secs = tensors, every_n_iter, every_n_secs
        self._at_end, self._formatter = at_end, formatter
        self._iter, self._last_time, self._last = 0, None, None

    def _due(self):
        if self._n is not None:
            return self._iter % self._n == 0
        return self._secs is not None and (self._last_time is None
                                           or time.time() - self._last_time >= self._secs)

    def before_run(self, run_context):
        self._should = self._due()
        return SessionRunArgs(self._tensors) if self._should or self._at_end else None

    def after_run(self, run_context, run_values):
        if run_values.results is not None:
            self._last = run_values.results
        if self._should:
            self._log(run_values.results)
        self._iter += 1

    def _log(self, values):
        self._last_time = time.time()
        if self._formatter:
            log.info(self._formatter(values))
        else:
            log.info(", ".join(f"{k} = {_fmt(v)}" for k, v in values.items()))

    def end(self, session):
        if self._at_end and self._last is not None:
            self._log(self._last)


def _fmt(v):
    v = np.asarray(v)
    return f"{v.item():.7g}" if v.size == 1 and v.dtype.kind == "f" else (
        str(v.item()) if v.size == 1 else np.array2string(v))


class NanTensorHook(SessionRunHook):
    """Raises NanLossDuringTrainingError (or only logs, with fail_on_nan_loss=False)
    when the loss is NaN. The estimator adds one; the update of the NaN step is
    never saved."""

    def __init__(self, loss_tensor="loss", fail_on_nan_loss=True):
        self._loss, self._fail = loss_tensor, fail_on_nan_loss

    def before_run(self, run_context):
        return SessionRunArgs(self._loss)

    def after_run(self, run_context, run_values):
        if math.isnan(float(np.asarray(run_values.results))):
            msg = "Model diverged with loss = NaN."
            if self._fail:
                log.error(msg)
                raise NanLossDuringTrainingError
            log.warning(msg)
            run_context.request_stop()


class CheckpointSaverListener:
    """Called around each checkpoint save: begin, before_save, after_save (may
    return True to stop training), end."""

    def begin(self):
        pass

    def before_save(self, session, global_step_value):
        pass

    def after_save(self, session, global_step_value):
        pass

    def end(self, session, global_step_value):
        pass


class SummarySaverHook(SessionRunHook):
    """Writes the named scalar values to `output_dir` every `save_steps` steps
    (or `save_secs`)."""

    def __init__(self, save_steps=None, save_secs=None, output_dir=None, summary_writer=None,
                 scaffold=None, summary_op=None, tensors=("loss",)):
        if (save_steps is None) == (save_secs is None):
            raise ValueError("exactly one of save_steps and save_secs should be provided.")
        self._steps, self._secs, self._dir = save_steps, save_secs, output_dir
        self._writer = summary_writer
        self._tensors = list(tensors)
        self._last_time, self._iter = None, 0

    def begin(self):
        if self._writer is None:
            if self._dir is None:
                raise ValueError("SummarySaverHook needs output_dir or summary_writer")
            from widedeep.estimator.summary import SummaryWriter
            self._writer = SummaryWriter(self._dir)

    def before_run(self, run_context):
        due = (self._iter % self._steps == 0 if self._steps else
               self._last_time is None or time.time() - self._last_time >= self._secs)
        self._due = due
        return SessionRunArgs(["global_step"] + self._tensors) if due else None

    def after_run(self, run_context, run_values):
        if self._due:
            step, *vals = run_values.results
            self._writer.scalars(int(step), dict(zip(self._tensors, vals)))
            self._last_time = time.time()
        self._iter += 1

    def end(self, session):
        self._writer.close()


class ProgressBarHook(SessionRunHook):
    """Training progress: by default a one-line bar on `stream` (stderr), redrawn
    at most every `every_secs`: ``[#####.....] 120/300 steps  loss 0.4512  51,200 steps/s``.
    With `every_steps`, one line every that many steps (and at `total`) instead,
    for logs: ``  step    120/300  loss    0.4512      51,200 examples/s``, written
    by `out` (a function taking a line; default: to `stream`).

    The rate is in examples/s when `batch_size` is given, else in steps/s. The
    Estimator adds a bar to `train` when stderr is a terminal; `total` is the
    global step training stops at, when known.
    """

    def __init__(self, total=None, stream=None, every_secs=0.2, width=30, every_steps=None,
                 batch_size=None, out=None):
        import sys
        self._total, self._stream = total, stream or sys.stderr
        self._every, self._width = every_secs, width
        self._every_steps, self._batch = every_steps, batch_size
        self._out = out or (lambda line: self._stream.write(line + "\n"))

    def after_create_session(self, session, coord):
        self._start_step = self._last_step = int(session.run("global_step"))
        self._t0 = self._last = time.perf_counter()

    def before_run(self, run_context):
        return SessionRunArgs({"step": "global_step", "loss": "loss"})

    def after_run(self, run_context, run_values):
        now = time.perf_counter()
        step = int(run_values.results["step"]) + 1
        loss = float(run_values.results["loss"])
        if self._every_steps:
            done = step - self._start_step
            if done % self._every_steps == 0 or step == self._total:
                self._line(step, loss, self._rate(step - self._last_step, now - self._last))
                self._last, self._last_step = now, step
        elif now - self._last >= self._every:
            self._last = now
            self._draw(step, loss, self._rate(step - self._start_step, now - self._t0))

    def _rate(self, steps, secs):
        per_sec = steps * (self._batch or 1) / max(secs, 1e-9)
        return f"{per_sec:,.0f} examples/s" if self._batch else f"{per_sec:,.1f} steps/s"

    def _line(self, step, loss, rate):
        of = f"/{self._total}" if self._total else ""
        self._out(f"  step {step:6d}{of}  loss {loss:9.4f}  {rate:>20}")

    def _draw(self, step, loss, rate):
        if self._total:
            done = min(1.0, (step - self._start_step) / max(self._total - self._start_step, 1))
            bar = "#" * int(done * self._width)
            head = f"[{bar:.<{self._width}}] {step}/{self._total} steps"
        else:
            head = f"step {step}"
        self._stream.write(f"\r{head}  loss {loss:.4f}  {rate}")
        self._stream.flush()

    def end(self, session):
        if not self._every_steps:
            self._stream.write("\n")
            self._stream.flush()
