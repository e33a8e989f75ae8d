"""The products every Function uses: xp.matmul with small CPU products on one BLAS thread, and column sums."""
import numpy as np
import pytest

from minicnn import backend
from minicnn.functional import product_engines as products
from minicnn.cpu import blas_threads


@pytest.mark.parametrize("shape_a, shape_b", [
    ((3, 5), (5, 4)),            # small: one thread
    ((7,), (7, 2)),              # vector times matrix
    ((4, 6), (6,)),              # matrix times vector
    ((2, 3, 5), (5, 4)),         # a stack of matrices
    ((3, 4), (2, 4, 6)),         # broadcast against a stack
    ((512, 512), (512, 128)),    # above the threshold: every thread
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_equals_the_array_module_product(device, rng, shape_a, shape_b, dtype):
    a_host = rng.standard_normal(shape_a).astype(dtype)
    b_host = rng.standard_normal(shape_b).astype(dtype)
    a, b = backend.to_device(a_host, device), backend.to_device(b_host, device)
    product = backend.to_host(products.matmul(a, b))
    assert product.dtype == dtype
    np.testing.assert_allclose(product, np.matmul(a_host, b_host), rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_matmul_writes_into_out(device, rng):
    a = backend.to_device(rng.standard_normal((6, 3)), device)
    b = backend.to_device(rng.standard_normal((3, 2)), device)
    xp = backend.get_array_module(a)
    out = xp.empty((6, 2))
    assert products.matmul(a, b, out=out) is out
    np.testing.assert_allclose(backend.to_host(out), backend.to_host(a) @ backend.to_host(b), rtol=1e-12)


def test_small_products_run_on_one_blas_thread_and_restore_the_count():
    if blas_threads._controller() is None or blas_threads.maximum_threads() < 2:
        pytest.skip("threadpoolctl cannot control this BLAS, or it has a single thread")
    controller = blas_threads._state["controller"]
    before = controller.get_num_threads()
    with blas_threads.threads_for(blas_threads.SMALL_PRODUCT_FLOPS / 2):
        assert controller.get_num_threads() == 1
    assert controller.get_num_threads() == before
    with blas_threads.threads_for(blas_threads.SMALL_PRODUCT_FLOPS * 2):
        assert controller.get_num_threads() == before
    small = np.ones((8, 8), np.float32)
    products.matmul(small, small)
    assert controller.get_num_threads() == before


def test_forks_start_on_one_blas_thread_and_the_count_comes_back_with_the_next_large_product():
    if blas_threads._controller() is None or blas_threads.maximum_threads() < 2:
        pytest.skip("threadpoolctl cannot control this BLAS, or it has a single thread")
    controller = blas_threads._state["controller"]
    before = controller.get_num_threads()
    with blas_threads.forking_single_threaded():
        assert controller.get_num_threads() == 1  # what a child forked here inherits
    # given back lazily: small products leave it at one, the process still reports its own count
    assert controller.get_num_threads() == 1 and blas_threads.maximum_threads() == before
    with blas_threads.threads_for(blas_threads.SMALL_PRODUCT_FLOPS / 2):
        assert controller.get_num_threads() == 1
    assert controller.get_num_threads() == 1
    with blas_threads.threads_for(blas_threads.SMALL_PRODUCT_FLOPS * 2):
        assert controller.get_num_threads() == before
    with blas_threads.forking_single_threaded():
        pass
    blas_threads.restore_after_fork()
    assert controller.get_num_threads() == before
    blas_threads.restore_after_fork()  # nothing left to give back
    assert controller.get_num_threads() == before


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(50176, 6), (7, 3), (1, 5), (0, 4)])
def test_column_sums_equal_numpy_sums(device, dtype, shape):
    matrix = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    on_device = backend.to_device(matrix, device)
    got = backend.to_host(products.column_sums(on_device))
    assert got.dtype == dtype and got.shape == (shape[1],)
    expected = matrix.astype(np.float64).sum(axis=0)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    assert np.allclose(got, expected, rtol=tolerance, atol=tolerance * max(1.0, np.sqrt(shape[0])))


def test_column_sums_of_integers_stay_integers():
    matrix = np.arange(12, dtype=np.int64).reshape(4, 3)
    assert products.column_sums(matrix).tolist() == [18, 22, 26]
