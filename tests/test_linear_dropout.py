"""linear (gradients, torch parity, shape errors) and dropout (statistics, mask reuse, seeding, modes)."""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import host, import_torch, make_input, parity_tolerance, torch_parity_errors

DTYPES = [np.float64, np.float32]
# (input shape, out_features): batch 1, odd sizes, a single vector, extra leading axes
LINEAR_SHAPES = [((4, 3), 5), ((1, 7), 2), ((5,), 3), ((2, 3, 4), 6), ((3, 1), 1)]


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("input_shape, out_features", LINEAR_SHAPES, ids=str)
def test_linear_gradcheck(device, input_shape, out_features, with_bias):
    x, _ = make_input(input_shape, device=device, seed=1)
    w, _ = make_input((out_features, input_shape[-1]), device=device, seed=2)
    b, _ = make_input((out_features,), device=device, seed=3)
    inputs = (x, w, b) if with_bias else (x, w)
    assert minicnn.gradcheck(F.linear, inputs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("input_shape, out_features", LINEAR_SHAPES, ids=str)
def test_linear_matches_torch(device, input_shape, out_features, with_bias, dtype):
    torch = import_torch()
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(input_shape), rng.standard_normal((out_features, input_shape[-1]))]
    if with_bias:
        arrays.append(rng.standard_normal(out_features))
    forward_error, grad_errors = torch_parity_errors(F.linear, torch.nn.functional.linear, arrays, device, dtype)
    assert max(forward_error, *grad_errors) < parity_tolerance(dtype)


def test_linear_skips_gradients_nobody_needs(device):
    x, _ = make_input((3, 4), device=device, requires_grad=False)
    w, _ = make_input((2, 4), device=device)
    F.linear(x, w).sum().backward()
    assert x.grad is None and w.grad is not None


@pytest.mark.parametrize("input_shape, weight_shape, bias_shape, error, pattern", [
    ((3, 4), (5, 3), None, RuntimeError, r"linear: .*\(5, 3\) expects in_features 3.*\(3, 4\) has in_features 4"),
    ((4,), (2, 5), None, RuntimeError, r"linear: .*expects in_features 5.*has in_features 4"),
    ((3, 4), (4,), None, ValueError, r"linear: weight must be 2-d"),
    ((3, 4), (5, 4), (4,), RuntimeError, r"linear: expected bias of shape \(5,\)"),
])
def test_linear_shape_errors_name_linear_and_the_features(device, input_shape, weight_shape, bias_shape, error,
                                                          pattern):
    x, _ = make_input(input_shape, device=device)
    w, _ = make_input(weight_shape, device=device)
    b = make_input(bias_shape, device=device)[0] if bias_shape else None
    with pytest.raises(error, match=pattern):  # torch's types: RuntimeError for the shape mismatches
        F.linear(x, w, b)


def test_linear_dtype_mismatch_raises(device):
    x, _ = make_input((3, 4), device=device, dtype=np.float32)
    w, _ = make_input((2, 4), device=device, dtype=np.float64)
    with pytest.raises(TypeError, match="linear.*float64.*float32"):
        F.linear(x, w)


# ----------------------------------------------------------------------------------------------
# dropout
# ----------------------------------------------------------------------------------------------

def binomial_bound(n: int, p: float, sigmas: float = 6.0) -> float:
    """A bound on |kept fraction - p| that a correct sampler exceeds with probability < 1e-8."""
    return sigmas * np.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_a_binomial_fraction_and_scales_by_one_over_keep(device, p, dtype):
    x = minicnn.ones(200, 300, dtype=dtype, device=device)
    out = host(F.dropout(x, p=p))
    kept = out != 0
    assert abs(kept.mean() - (1 - p)) < binomial_bound(kept.size, 1 - p)
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-6)
    assert out.dtype == dtype


@pytest.mark.parametrize("p", [0.3, 0.7])
def test_dropout_backward_uses_the_forward_mask(device, p):
    x, x_host = make_input((50, 40), device=device)
    out = F.dropout(x, p=p)
    upstream = np.random.default_rng(1).standard_normal((50, 40))
    out.backward(minicnn.tensor(upstream, device=device))
    kept = host(out) != 0
    np.testing.assert_allclose(host(out), np.where(kept, x_host / (1 - p), 0), rtol=1e-14)
    np.testing.assert_allclose(host(x.grad), np.where(kept, upstream / (1 - p), 0), rtol=1e-14)


def test_dropout_gradcheck_with_a_fixed_mask(device):
    """Re-seeding before every call fixes the mask, so finite differences see one function."""
    x, _ = make_input((3, 5), device=device)

    def seeded_dropout(t):
        minicnn.manual_seed(7)
        return F.dropout(t, p=0.4)

    assert minicnn.gradcheck(seeded_dropout, x)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_dropout_in_eval_mode_is_the_identity(device, p):
    x, x_host = make_input((4, 6), device=device)
    out = F.dropout(x, p=p, training=False)
    np.testing.assert_array_equal(host(out), x_host)
    out.sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.ones((4, 6)))


def test_dropout_with_p_zero_is_the_identity(device):
    x, x_host = make_input((4, 6), device=device)
    np.testing.assert_array_equal(host(F.dropout(x, p=0.0)), x_host)


def test_dropout_with_p_one_gives_zeros_and_zero_gradient(device):
    x, _ = make_input((4, 6), device=device)
    out = F.dropout(x, p=1.0)
    out.sum().backward()
    assert np.all(host(out) == 0) and np.all(host(x.grad) == 0)


def test_dropout_is_reproducible_after_manual_seed(device):
    x, _ = make_input((20, 30), device=device, requires_grad=False)
    minicnn.manual_seed(123)
    first = host(F.dropout(x))
    minicnn.manual_seed(123)
    second = host(F.dropout(x))
    np.testing.assert_array_equal(first, second)


def test_dropout_draws_a_new_mask_on_every_call(device):
    x, _ = make_input((20, 30), device=device, requires_grad=False)
    first, second = host(F.dropout(x)) != 0, host(F.dropout(x)) != 0
    assert np.any(first != second)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_outside_unit_interval_raises(device, p):
    x, _ = make_input((2, 2), device=device)
    with pytest.raises(ValueError, match=rf"dropout.*\[0, 1\].*{p}"):
        F.dropout(x, p=p)


def test_dropout_inplace_flag_is_accepted(device):
    x, x_host = make_input((8, 8), device=device, requires_grad=False)
    out = F.dropout(x, p=0.5, inplace=True)
    np.testing.assert_array_equal(host(x), x_host)
    assert np.any(host(out) == 0)


def test_dropout_mask_is_drawn_in_the_input_dtype(device, monkeypatch):
    """A float32 activation must not get a float64 temporary of its size from the mask."""
    x, _ = make_input((4, 5), device=device, dtype=np.float32)
    real_generator_for = minicnn.random.generator_for
    requested = []

    class RecordingGenerator:
        def __init__(self, generator):
            self.generator = generator

        def random(self, *args, **kwargs):
            requested.append(np.dtype(kwargs.get("dtype", np.float64)))
            return self.generator.random(*args, **kwargs)

    monkeypatch.setattr(minicnn.random, "generator_for", lambda dev: RecordingGenerator(real_generator_for(dev)))
    F.dropout(x, p=0.5)
    assert requested == [np.float32]


# -- dropout2d ----------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.25, 0.6])
def test_dropout2d_drops_whole_channels_and_backward_uses_the_same_mask(device, p):
    x, x_host = make_input((40, 50, 3, 2), device=device)
    out = F.dropout2d(x, p=p)
    upstream = np.random.default_rng(1).standard_normal(x_host.shape)
    out.backward(minicnn.tensor(upstream, device=device))
    kept = np.any(host(out) != 0, axis=(2, 3), keepdims=True)  # one decision per (n, c) map
    assert abs(kept.mean() - (1 - p)) < binomial_bound(kept.size, 1 - p)
    np.testing.assert_allclose(host(out), np.where(kept, x_host / (1 - p), 0), rtol=1e-14)
    np.testing.assert_allclose(host(x.grad), np.where(kept, upstream / (1 - p), 0), rtol=1e-14)


def test_dropout2d_eval_identity_and_errors(device):
    x, x_host = make_input((2, 3, 4, 4), device=device)
    np.testing.assert_array_equal(host(F.dropout2d(x, training=False)), x_host)
    assert np.all(host(F.dropout2d(x, p=1.0)) == 0)
    with pytest.raises(ValueError, match=r"dropout2d.*4-d.*\(3, 4\)"):
        F.dropout2d(make_input((3, 4), device=device)[0])
    with pytest.raises(ValueError, match=r"dropout2d.*\[0, 1\]"):
        F.dropout2d(x, p=2.0)
