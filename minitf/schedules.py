"""Learning-rate schedules (`tf.keras.optimizers.schedules`), computed as TF
computes them: in float32, from the step.

A schedule is called with the step and returns the learning rate; an
optimizer calls it with its `iterations` before each update.
"""

import math

import numpy as np

F32 = np.float32


class LearningRateSchedule:
    def get_config(self):
        return dict(vars(self))

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _step(step):
    return F32(np.asarray(step, dtype=np.float64))


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; the exponent
    floored when `staircase`."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        if decay_steps <= 0:
            raise ValueError(f"ExponentialDecay: decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = _step(step) / F32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return F32(self.initial_learning_rate) * np.power(F32(self.decay_rate), p, dtype=F32)


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = _step(step) / F32(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return F32(self.initial_learning_rate) / (F32(1) + F32(self.decay_rate) * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] <
    step <= boundaries[i], values[-1] after."""

    def __init__(self, boundaries, values, name=None):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"The length of boundaries should be 1 less than the length of "
                             f"values; got {len(boundaries)} boundaries, {len(values)} values")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        i = int(np.searchsorted(np.asarray(self.boundaries), np.asarray(step), side="left"))
        return F32(self.values[i])


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, the step
    held at decay_steps (or, with `cycle`, decay_steps stretched to the next
    multiple)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name=None):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = (end_learning_rate, power,
                                                                     cycle, name)

    def __call__(self, step):
        s, steps = _step(step), F32(self.decay_steps)
        if self.cycle:
            mult = F32(1) if s == 0 else np.ceil(s / steps)
            steps = steps * mult
        else:
            s = min(s, steps)
        frac = (F32(1) - s / steps) ** F32(self.power)
        return (F32(self.initial_learning_rate) - F32(self.end_learning_rate)) * frac + F32(
            self.end_learning_rate)


class CosineDecay(LearningRateSchedule):
    """``initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
    decay_steps)) + alpha)`` (after an optional linear warmup)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None,
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate, self.decay_steps, self.alpha = (initial_learning_rate,
                                                                    decay_steps, alpha)
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def __call__(self, step):
        s = _step(step)
        if self.warmup_target is not None and s < self.warmup_steps:
            done = s / F32(self.warmup_steps)
            return F32(self.initial_learning_rate) + done * (
                F32(self.warmup_target) - F32(self.initial_learning_rate))
        top = F32(self.initial_learning_rate if self.warmup_target is None
                  else self.warmup_target)
        s = min(s - F32(self.warmup_steps), F32(self.decay_steps))
        cos = F32(0.5) * (F32(1) + F32(math.cos(math.pi * float(s / F32(self.decay_steps)))))
        return top * ((F32(1) - F32(self.alpha)) * cos + F32(self.alpha))


def serialize(schedule):
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    cls = {c.__name__: c for c in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                   PolynomialDecay, CosineDecay)}.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"unknown learning rate schedule {config.get('class_name')!r}")
    return cls.from_config(config["config"])
