"""`RunConfig` with TF 2.15's arguments and defaults."""

import copy


class RunConfig:
    """Runtime settings of an Estimator.

    Checkpoints are saved every `save_checkpoints_secs` (600 when neither it nor
    `save_checkpoints_steps` is given), or every `save_checkpoints_steps`;
    giving both is an error, as in TF.
    """

    def __init__(self, model_dir=None, tf_random_seed=None, save_summary_steps=100,
                 save_checkpoints_steps=None, save_checkpoints_secs=None,
                 session_config=None, keep_checkpoint_max=5,
                 keep_checkpoint_every_n_hours=10000, log_step_count_steps=100,
                 train_distribute=None, device_fn=None, protocol=None, eval_distribute=None,
                 experimental_distribute=None, experimental_max_worker_delay_secs=None,
                 session_creation_timeout_secs=7200, checkpoint_save_graph_def=True):
        if save_checkpoints_steps is not None and save_checkpoints_secs is not None:
            raise ValueError("Can not provide both save_checkpoints_steps and "
                             "save_checkpoints_secs.")
        if save_checkpoints_steps is None and save_checkpoints_secs is None:
            save_checkpoints_secs = 600
        for name, v in (("save_summary_steps", save_summary_steps),
                        ("keep_checkpoint_max", keep_checkpoint_max),
                        ("log_step_count_steps", log_step_count_steps),
                        ("save_checkpoints_steps", save_checkpoints_steps),
                        ("save_checkpoints_secs", save_checkpoints_secs)):
            if v is not None and v < 0:
                raise ValueError(f"{name} should be >= 0, given: {v}")
        self._model_dir = model_dir
        self.tf_random_seed = tf_random_seed
        self.save_summary_steps = save_summary_steps
        self.save_checkpoints_steps = save_checkpoints_steps
        self.save_checkpoints_secs = save_checkpoints_secs
        self.keep_checkpoint_max = keep_checkpoint_max
        self.keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self.log_step_count_steps = log_step_count_steps
        self.session_config = session_config

    @property
    def model_dir(self):
        return self._model_dir

    def replace(self, **kwargs):
        """A copy with some settings changed, as TF's RunConfig.replace."""
        new = copy.copy(self)
        for k, v in kwargs.items():
            if k == "model_dir":
                new._model_dir = v
            elif hasattr(new, k):
                setattr(new, k, v)
            else:
                raise ValueError(f"RunConfig.replace: unknown setting {k!r}")
        if new.save_checkpoints_steps is not None and "save_checkpoints_steps" in kwargs:
            new.save_checkpoints_secs = kwargs.get("save_checkpoints_secs")
        return new

    def __repr__(self):
        return f"RunConfig({ {k.lstrip('_'): v for k, v in vars(self).items()} })"
