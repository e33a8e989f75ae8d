"""Optional compiled kernels (numba on the CPU), each with a plain array-code twin in functional/."""
