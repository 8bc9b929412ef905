"""`tf.estimator` for widedeep: Estimator, EstimatorSpec, ModeKeys, RunConfig,
hooks and checkpoint listeners."""

from widedeep.estimator.estimator import Estimator, WarmStartSettings, current_tape  # noqa: F401
from widedeep.estimator.hooks import (  # noqa: F401
    CheckpointSaverListener,
    LoggingTensorHook,
    NanLossDuringTrainingError,
    NanTensorHook,
    ProgressBarHook,
    SessionRunArgs,
    SessionRunContext,
    SessionRunHook,
    SessionRunValues,
    StopAtStepHook,
    SummarySaverHook,
)
from widedeep.estimator.model_fn import EstimatorSpec, ModeKeys  # noqa: F401
from widedeep.estimator.run_config import RunConfig  # noqa: F401
