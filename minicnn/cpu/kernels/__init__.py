"""numba kernels for the CPU engines, each tested against the reference array code in minicnn/functional."""
