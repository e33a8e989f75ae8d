"""Tensor operations of the core: arithmetic, matmul, reductions, shape ops, indexing, elementwise math.

Each op is gradient-checked in float64 and compared with torch (forward and every gradient) in float64
and float32. An op is listed once in OPS with its minicnn and torch spellings and the input shapes.
"""
import numpy as np
import pytest

import minicnn
import minicnn.functional as F
from helpers import host, import_torch, parity_tolerance, rel_error, torch_parity_errors

DTYPES = [np.float64, np.float32]


def case(name, ours, theirs, *shapes, positive=False):
    """One op: ``ours``/``theirs`` take (torch module or None, *tensors); inputs drawn with ``shapes``.
    ``positive`` inputs lie in [0.5, 2] (log, sqrt, powers with tensor exponents)."""
    return pytest.param(ours, theirs, shapes, positive, id=name)


def same(call):
    """Ops spelled the same way on both sides (operators, methods)."""
    return call, call


OPS = [
    # arithmetic with broadcasting; the backward must sum over the broadcast axes
    case("add", *same(lambda a, b: a + b), (3, 4), (3, 4)),
    case("add_broadcast_3x1x4_5x4", *same(lambda a, b: a + b), (3, 1, 4), (5, 4)),
    case("add_broadcast_row", *same(lambda a, b: a + b), (1, 4), (3, 1)),
    case("sub_broadcast", *same(lambda a, b: a - b), (2, 3, 4), (3, 1)),
    case("mul_broadcast", *same(lambda a, b: a * b), (3, 1, 4), (5, 4)),
    case("mul_scalar_shape", *same(lambda a, b: a * b), (2, 3), ()),
    case("div_broadcast", *same(lambda a, b: a / b), (4, 3), (3,), positive=True),
    case("pow_tensor_exponent", *same(lambda a, b: a**b), (3, 4), (4,), positive=True),
    case("neg", *same(lambda a: -a), (2, 5)),
    case("add_scalar", *same(lambda a: a + 2.5), (3, 2)),
    case("radd_scalar", *same(lambda a: 2.5 + a), (3, 2)),
    case("rsub_scalar", *same(lambda a: 1.5 - a), (3, 2)),
    case("rmul_scalar", *same(lambda a: 3 * a), (3, 2)),
    case("rdiv_scalar", *same(lambda a: 2.0 / a), (3, 2), positive=True),
    case("pow_int", *same(lambda a: a**3), (3, 2)),
    case("pow_half", *same(lambda a: a**0.5), (3, 2), positive=True),
    case("pow_negative", *same(lambda a: a**-1.5), (3, 2), positive=True),
    case("rpow_scalar", *same(lambda a: 2.0**a), (3, 2)),
    case("chain", *same(lambda a, b: (a * b - a / (b * b + 1.0)) ** 2), (2, 3), (3,)),
    # matmul: vectors, matrices, batches with broadcasting
    case("matmul_1d_1d", *same(lambda a, b: a @ b), (5,), (5,)),
    case("matmul_1d_2d", *same(lambda a, b: a @ b), (4,), (4, 3)),
    case("matmul_2d_1d", *same(lambda a, b: a @ b), (3, 4), (4,)),
    case("matmul_2d_2d", *same(lambda a, b: a @ b), (3, 4), (4, 5)),
    case("matmul_batched", *same(lambda a, b: a @ b), (2, 3, 4), (2, 4, 5)),
    case("matmul_batched_2d", *same(lambda a, b: a @ b), (2, 3, 4), (4, 5)),
    case("matmul_broadcast_batch", *same(lambda a, b: a @ b), (2, 1, 3, 4), (5, 4, 2)),
    case("matmul_1d_batched", *same(lambda a, b: a @ b), (4,), (2, 4, 3)),
    case("matmul_batched_1d", *same(lambda a, b: a @ b), (2, 3, 4), (4,)),
    case("matmul_method", *same(lambda a, b: a.matmul(b)), (1, 4), (4, 1)),
    # reductions
    case("sum_all", *same(lambda a: a.sum()), (3, 4)),
    case("sum_dim", *same(lambda a: a.sum(1)), (3, 4, 2)),
    case("sum_dims_keepdim", *same(lambda a: a.sum((0, 2), keepdim=True)), (3, 4, 2)),
    case("sum_negative_dim", *same(lambda a: a.sum(-1)), (3, 4, 2)),
    case("mean_all", *same(lambda a: a.mean()), (3, 4)),
    case("mean_dims", *same(lambda a: a.mean((1, 2))), (2, 3, 5)),
    case("mean_keepdim", *same(lambda a: a.mean(0, keepdim=True)), (3, 4)),
    case("amax_all", lambda a: a.max(), lambda a: a.amax(), (3, 4)),
    case("amax_dim", lambda a: a.amax(1), lambda a: a.amax(1), (3, 4, 2)),
    case("amax_dims_keepdim", lambda a: a.amax((0, 2), keepdim=True), lambda a: a.amax((0, 2), keepdim=True),
         (3, 4, 2)),
    case("amin_dim", lambda a: a.amin(-1), lambda a: a.amin(-1), (3, 4)),
    case("amin_keepdim", lambda a: a.amin(0, keepdim=True), lambda a: a.amin(0, keepdim=True), (3, 4)),
    # shape ops
    case("reshape", *same(lambda a: a.reshape(4, 3)), (3, 4)),
    case("reshape_minus_one", *same(lambda a: a.reshape(-1, 2)), (3, 4)),
    case("view", *same(lambda a: a.view(2, 6)), (3, 4)),
    case("transpose", *same(lambda a: a.transpose(0, 2)), (2, 3, 4)),
    case("transpose_negative", *same(lambda a: a.transpose(-1, -2)), (2, 3, 4)),
    case("T", *same(lambda a: a.T), (3, 5)),
    case("permute", *same(lambda a: a.permute(2, 0, 1)), (2, 3, 4)),
    case("permute_tuple", *same(lambda a: a.permute((1, 0, 2))), (2, 3, 4)),
    case("flatten", *same(lambda a: a.flatten()), (2, 3, 4)),
    case("flatten_from_1", *same(lambda a: a.flatten(1)), (2, 3, 4)),
    case("flatten_middle", *same(lambda a: a.flatten(1, 2)), (2, 3, 4, 2)),
    case("unsqueeze", *same(lambda a: a.unsqueeze(1)), (3, 4)),
    case("squeeze", *same(lambda a: a.squeeze()), (3, 1, 4, 1)),
    case("squeeze_dim", *same(lambda a: a.squeeze(1)), (3, 1, 4, 1)),
    # indexing (numpy/torch semantics shared by both)
    case("index_int", *same(lambda a: a[1]), (3, 4)),
    case("index_slice", *same(lambda a: a[1:, :3]), (3, 4)),
    case("index_step", *same(lambda a: a[::2, 1::2]), (5, 4)),
    case("index_negative_int", *same(lambda a: a[-1, -2]), (3, 4)),
    case("index_ellipsis_none", *same(lambda a: a[..., None, 1]), (2, 3, 4)),
    case("index_fancy_repeats", *same(lambda a: a[[0, 2, 0, 0]]), (3, 4)),
    case("index_fancy_pairs", *same(lambda a: a[[0, 1, 1], [2, 2, 3]]), (3, 4)),
    case("index_fancy_with_slice", *same(lambda a: a[:, [3, 0, 3]]), (2, 4)),
    # concatenation
    case("cat", lambda a, b: minicnn.cat([a, b], 1), lambda a, b: torch().cat([a, b], 1), (2, 3), (2, 5)),
    case("cat_three_dim0", lambda a, b, c: minicnn.cat([a, b, c]), lambda a, b, c: torch().cat([a, b, c]),
         (1, 3), (2, 3), (3, 3)),
    case("cat_negative_dim", lambda a, b: minicnn.cat((a, b), -1), lambda a, b: torch().cat((a, b), -1),
         (2, 3, 1), (2, 3, 2)),
    case("stack", lambda a, b: minicnn.stack([a, b]), lambda a, b: torch().stack([a, b]), (2, 3), (2, 3)),
    case("stack_dim1", lambda a, b: minicnn.stack([a, b], 1), lambda a, b: torch().stack([a, b], 1), (2, 3), (2, 3)),
    case("stack_last", lambda a, b: minicnn.stack([a, b], -1), lambda a, b: torch().stack([a, b], -1), (4,), (4,)),
    # elementwise math
    case("exp", *same(lambda a: a.exp()), (3, 4)),
    case("log", *same(lambda a: a.log()), (3, 4), positive=True),
    case("sqrt", *same(lambda a: a.sqrt()), (3, 4), positive=True),
    case("abs", *same(lambda a: a.abs()), (3, 4)),
    case("clip", lambda a: a.clip(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), (4, 5)),
    case("clamp_min_only", lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), (4, 5)),
    case("clamp_max_only", lambda a: F.clamp(a, max=0.2), lambda a: a.clamp(max=0.2), (4, 5)),
    case("pad_last", lambda a: F.pad(a, (1, 2)), lambda a: tf().pad(a, (1, 2)), (2, 3)),
    case("pad_2d_value", lambda a: F.pad(a, (1, 0, 2, 1), value=1.5),
         lambda a: tf().pad(a, (1, 0, 2, 1), value=1.5), (1, 2, 3, 3)),
]


def torch():
    return import_torch()


def tf():
    return import_torch().nn.functional


def draw_inputs(shapes, positive, seed=0):
    generator = np.random.default_rng(seed)
    if positive:
        return [generator.uniform(0.5, 2.0, size=shape) for shape in shapes]
    # keep values away from 0 and the clip bounds, where abs/clip are not differentiable
    arrays = [generator.standard_normal(shape) for shape in shapes]
    for a in arrays:
        for kink in (0.0, -0.5, 0.7, 0.1, 0.2):
            a[np.abs(a - kink) < 1e-3] += 0.01
    return arrays


@pytest.mark.parametrize("ours, theirs, shapes, positive", OPS)
def test_op_gradcheck(device, ours, theirs, shapes, positive):
    inputs = [minicnn.tensor(a, requires_grad=True, device=device) for a in draw_inputs(shapes, positive)]
    assert minicnn.gradcheck(ours, inputs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ours, theirs, shapes, positive", OPS)
def test_op_matches_torch(device, ours, theirs, shapes, positive, dtype):
    import_torch()
    forward_error, grad_errors = torch_parity_errors(ours, theirs, draw_inputs(shapes, positive, seed=1),
                                                     device, dtype)
    assert forward_error < parity_tolerance(dtype)
    assert max(grad_errors) < parity_tolerance(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ours, theirs, shapes, positive", [op for op in OPS if op.id.startswith(("add", "mul"))])
def test_results_keep_the_input_dtype(device, ours, theirs, shapes, positive, dtype):
    inputs = [minicnn.tensor(a.astype(dtype), requires_grad=True, device=device) for a in draw_inputs(shapes, positive)]
    out = ours(*inputs)
    out.sum().backward()
    assert out.dtype == dtype and all(t.grad.dtype == dtype for t in inputs)


@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_python_scalars_do_not_promote_float32(device, scalar):
    x = minicnn.tensor(np.ones(3, np.float32), device=device)
    for result in (x + scalar, scalar * x, x / scalar, x**scalar, scalar - x):
        assert result.dtype == np.float32


def test_true_division_of_integer_tensors_gives_float32_as_torch(device):
    a = minicnn.tensor([1, 2, 3], device=device)
    assert (a / 2).dtype == np.float32 and (a / a).dtype == np.float32
    np.testing.assert_allclose(host(a / 2), [0.5, 1.0, 1.5])


def test_every_op_result_holds_a_device_array(device):
    """Full reductions and integer indexing must still give arrays (numpy would hand back scalars)."""
    x = minicnn.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, device=device)
    array_type = type(x.array)
    for result in (x.sum(), x.mean(), x.max(), x[1, 2], x[1, 2] * 2.0):
        assert type(result.array) is array_type and result.shape == ()


# ----------------------------------------------------------------------------------------------
# max/min ties, indexing forms torch lacks, where
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduce_name, dim", [("amax", None), ("amax", 1), ("amax", 0), ("amin", (0, 1)),
                                              ("amin", 1)])
def test_max_and_min_split_the_gradient_evenly_between_ties_as_torch(device, reduce_name, dim, dtype):
    torch_module = import_torch()
    x = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 2.0, 2.0], [-2.0, 0.0, 3.0, -2.0]])
    forward_error, (grad_error,) = torch_parity_errors(
        lambda t: getattr(t, reduce_name)(dim), lambda t: getattr(torch_module, reduce_name)(t, dim=() if dim is None else dim),
        [x], device, dtype,
    )
    assert forward_error == 0.0 and grad_error < parity_tolerance(dtype)


def test_max_tie_gradient_values(device):
    x = minicnn.tensor(np.array([[1.0, 3.0, 3.0], [5.0, 5.0, 5.0]]), requires_grad=True, device=device)
    x.amax(1).sum().backward()
    np.testing.assert_allclose(host(x.grad), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


@pytest.mark.parametrize("index", [
    np.s_[::-1], np.s_[::-2, 1:], np.s_[3:0:-1, ::-3], np.s_[-1:-4:-1, 2],
], ids=["reversed", "reversed_step2", "reversed_bounds", "reversed_then_int"])
def test_negative_step_slices(device, index):
    """torch has no negative steps: compare with numpy and gradcheck."""
    x_host = np.random.default_rng(2).standard_normal((5, 4))
    x = minicnn.tensor(x_host, requires_grad=True, device=device)
    np.testing.assert_array_equal(host(x[index].detach()), x_host[index])
    upstream = np.random.default_rng(3).standard_normal(x_host[index].shape)
    x[index].backward(minicnn.tensor(upstream, device=device))
    expected = np.zeros_like(x_host)
    expected[index] = upstream
    np.testing.assert_array_equal(host(x.grad), expected)
    assert minicnn.gradcheck(lambda t: t[index], x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index_kind", ["mask", "mask_rows", "int_tensor_repeats", "int_tensor_2d"])
def test_tensor_indices_and_boolean_masks(device, index_kind, dtype):
    torch_module = import_torch()
    x = np.random.default_rng(4).standard_normal((4, 3))
    index_host = {
        "mask": x > 0,
        "mask_rows": np.array([True, False, True, True]),
        "int_tensor_repeats": np.array([3, 0, 3, 3, 1]),
        "int_tensor_2d": np.array([[0, 1], [1, 1]]),
    }[index_kind]
    forward_error, (grad_error,) = torch_parity_errors(
        lambda t: t[minicnn.tensor(index_host, device=device)], lambda t: t[torch_module.tensor(index_host)],
        [x], device, dtype,
    )
    assert forward_error == 0.0 and grad_error < parity_tolerance(dtype)
    xt = minicnn.tensor(x, requires_grad=True, device=device)
    assert minicnn.gradcheck(lambda t: t[minicnn.tensor(index_host, device=device)], xt)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_shape, b_shape, cond_shape", [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)),
                                                          ((1, 4), (3, 1), (3, 4))])
def test_where_matches_torch_and_routes_gradients_by_condition(device, a_shape, b_shape, cond_shape, dtype):
    torch_module = import_torch()
    generator = np.random.default_rng(5)
    condition = generator.random(cond_shape) > 0.5
    a, b = generator.standard_normal(a_shape), generator.standard_normal(b_shape)
    forward_error, grad_errors = torch_parity_errors(
        lambda s, t: minicnn.where(minicnn.tensor(condition, device=device), s, t),
        lambda s, t: torch_module.where(torch_module.tensor(condition), s, t),
        [a, b], device, dtype,
    )
    assert forward_error == 0.0 and max(grad_errors) < parity_tolerance(dtype)
    inputs = [minicnn.tensor(v, requires_grad=True, device=device) for v in (a, b)]
    assert minicnn.gradcheck(lambda s, t: minicnn.where(minicnn.tensor(condition, device=device), s, t), inputs)


def test_where_with_a_scalar_branch(device):
    x_host = np.array([-1.0, 2.0, -3.0])
    x = minicnn.tensor(x_host, requires_grad=True, device=device)
    out = minicnn.where(x > 0, x, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(host(out.detach()), [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(host(x.grad), [0.0, 1.0, 0.0])


def test_clip_passes_the_gradient_on_the_bounds_as_torch(device):
    torch_module = import_torch()
    x = np.array([-1.0, -0.5, 0.0, 0.7, 1.0])
    _, (grad_error,) = torch_parity_errors(lambda t: t.clip(-0.5, 0.7), lambda t: torch_module.clamp(t, -0.5, 0.7),
                                           [x], device)
    assert grad_error == 0.0


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------

def test_shape_errors_name_the_op_and_the_shapes(device):
    a = minicnn.tensor(np.ones((2, 3)), device=device)
    b = minicnn.tensor(np.ones((4, 2)), device=device)
    with pytest.raises(RuntimeError, match=r"matmul.*\(2, 3\).*\(4, 2\)"):
        a @ b
    with pytest.raises(RuntimeError, match=r"reshape.*\(2, 3\).*\(4, 2\)"):
        a.reshape(4, 2)
    with pytest.raises(RuntimeError, match=r"cat.*\(4, 2\).*\(2, 3\)"):
        minicnn.cat([a, b])
    with pytest.raises(RuntimeError, match="permute: duplicate dims"):
        a.permute(0, 0)
    with pytest.raises(IndexError, match=r"sum: Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        a.sum(2)


def test_errors_in_float32_stay_small_relative_to_float64(device):
    """The float32 path computes in float32 (no silent float64), and its error is float32-sized."""
    x = np.random.default_rng(6).standard_normal((50, 60))
    w = np.random.default_rng(7).standard_normal((60, 40))
    exact = host((minicnn.tensor(x, device=device) @ minicnn.tensor(w, device=device)).exp().sum(1))
    single = minicnn.tensor(x.astype(np.float32), device=device) @ minicnn.tensor(w.astype(np.float32), device=device)
    single = single.exp().sum(1)
    assert single.dtype == np.float32
    assert 1e-9 < rel_error(host(single), exact) < 1e-4
