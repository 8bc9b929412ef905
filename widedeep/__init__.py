"""widedeep: TensorFlow's wide & deep estimator on minitf (NumPy + Numba)."""
