"""Shared test configuration.

Hypothesis profiles: ``default`` (fast, for a developer's loop) and ``ci``
(thorough; ``.ci/run`` selects it with ``HYPOTHESIS_PROFILE=ci``). Both set
``deadline=None``: the first call of a Numba kernel compiles it, which takes far
longer than any sensible deadline.

Tests marked ``tf`` import TensorFlow 2.15 and compare with it live. They are
skipped where TensorFlow is not installed; CI runs them in the reference venv
built by ``../shared/tools/make-refenv.sh``.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", max_examples=150, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _have_tf():
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def pytest_collection_modifyitems(config, items):
    if any("tf" in item.keywords for item in items) and not _have_tf():
        skip = pytest.mark.skip(reason="TensorFlow is not installed (run in the reference venv)")
        for item in items:
            if "tf" in item.keywords:
                item.add_marker(skip)
