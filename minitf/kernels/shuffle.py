"""TF's buffered shuffle (`Dataset.shuffle` with a buffer smaller than the data),
as a loop over the elements: compiled, since it takes a step per element."""

import numpy as np
from numba import njit


@njit(cache=True, no_cfunc_wrapper=True)
def buffered_shuffle(stream, buf, picks, out):
    """out[t] is buffer slot int(picks[t] * buffer length), then refilled with
    the next input; once the input is spent, with the buffer's last element
    (which is dropped). `buf` starts as the first inputs. A step per element, so
    compiled (~25 ms an epoch of census data in Python, with 10,000 of buffer);
    arrays come allocated (allocating here adds 0.1 s to the first compile)."""
    n, size = len(stream), len(buf)
    m = size
    for t in range(n):
        j = np.int64(picks[t] * m)  # int(), truncating a float >= 0 (a cast: int() compiles apart)
        out[t] = buf[j]
        if size + t < n:
            buf[j] = stream[size + t]
        else:
            m -= 1
            buf[j] = buf[m]
