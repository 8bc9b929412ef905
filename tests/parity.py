"""Comparing our checkpoint values with TF's, shared by the parity tests."""

import numpy as np


def assert_all_close(got, want, rtol):
    """Same names, shapes and dtypes; values with |ours - TF| <= rtol * (1 + |TF|):
    float32 sums in another order differ in the last bits, and accumulators reach
    ~1e6 (the census capital_gain column is not normalized)."""
    assert sorted(got) == sorted(want)
    for k, w in want.items():
        g = np.asarray(got[k])
        assert g.shape == np.shape(w) and g.dtype == np.asarray(w).dtype, k
        err = np.max(np.abs(g.astype(np.float64) - w) / (1 + np.abs(w))) if g.size else 0
        assert err <= rtol, (k, err)
