"""The CPU speed machinery: a thread pool, BLAS thread control, malloc tuning, scratch buffers, numba kernels."""
