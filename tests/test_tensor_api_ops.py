"""The differentiable Tensor methods tutorials use beyond the core arithmetic: reductions that pick
elements (max/min/sort/topk/median/mode along a dim), statistics (std, var, norm, prod, cumsum),
sign/sin/cos, and the shape methods (expand, repeat, t, unflatten, chunk, split, view_as, ...).

Each is gradient-checked in float64 and compared with torch (forward and gradient) in float64 and
float32; ops are listed once, spelled the same way on both sides.
"""
import math

import numpy as np
import pytest

import minicnn
from helpers import import_torch, parity_tolerance, torch_parity_errors

DTYPES = [np.float64, np.float32]


def case(name, call, *shapes, positive=False):
    return pytest.param(call, shapes, positive, id=name)


OPS = [
    # picking reductions: the gradient goes to the picked element
    case("max_dim_values", lambda a: a.max(1).values, (3, 4)),
    case("max_dim_keepdim_index0", lambda a: a.max(0, keepdim=True)[0], (3, 4)),
    case("min_dim_negative", lambda a: a.min(-1).values, (2, 3, 4)),
    case("maximum", lambda a, b: a.maximum(b), (3, 4), (4,)),
    case("minimum", lambda a, b: a.minimum(b), (3, 4), (3, 1)),
    case("sort", lambda a: a.sort(1).values, (3, 5)),
    case("sort_descending_dim0", lambda a: a.sort(0, descending=True)[0], (4, 3)),
    case("topk", lambda a: a.topk(2).values, (3, 5)),
    case("topk_smallest_dim0", lambda a: a.topk(3, dim=0, largest=False).values, (4, 3)),
    case("median_all_even", lambda a: a.median(), (2, 3)),
    case("median_all_odd", lambda a: a.median(), (5,)),
    case("median_dim", lambda a: a.median(1).values, (3, 4)),
    case("median_dim_keepdim", lambda a: a.median(0, keepdim=True).values, (5, 2)),
    case("mode_dim", lambda a: a.mode(1).values, (3, 4)),
    # statistics
    case("std_all", lambda a: a.std(), (3, 4)),
    case("std_dim_biased", lambda a: a.std(1, unbiased=False), (3, 4)),
    case("std_correction_keepdim", lambda a: a.std(dim=0, correction=2, keepdim=True), (5, 3)),
    case("var_all", lambda a: a.var(), (3, 4)),
    case("var_dims", lambda a: a.var((0, 2)), (2, 3, 4)),
    case("var_unbiased_false", lambda a: a.var(unbiased=False), (6,)),
    case("norm_fro", lambda a: a.norm(), (3, 4)),
    case("norm_1_dim", lambda a: a.norm(1, dim=1), (3, 4)),
    case("norm_3_keepdim", lambda a: a.norm(p=3, dim=0, keepdim=True), (3, 4)),
    case("norm_inf", lambda a: a.norm(float("inf")), (3, 4)),
    case("prod_all", lambda a: a.prod(), (2, 3)),
    case("prod_dim", lambda a: a.prod(1), (3, 4)),
    case("prod_dim_keepdim", lambda a: a.prod(0, keepdim=True), (3, 2)),
    case("cumsum_dim1", lambda a: a.cumsum(1), (3, 4)),
    case("cumsum_dim0", lambda a: a.cumsum(dim=0), (3, 4)),
    # elementwise
    case("sign", lambda a: a.sign() * a, (3, 4)),
    case("sin", lambda a: a.sin(), (3, 4)),
    case("cos", lambda a: a.cos(), (3, 4)),
    case("softmax_method", lambda a: a.softmax(1), (3, 4)),
    case("log_softmax_method", lambda a: a.log_softmax(dim=-1), (3, 4)),
    # shape
    case("expand", lambda a: a.expand(2, 3, 4), (3, 1)),
    case("expand_minus_one", lambda a: a.expand(-1, 5), (3, 1)),
    case("expand_as", lambda a, b: a.expand_as(b) * b, (1, 4), (3, 4)),
    case("repeat", lambda a: a.repeat(2, 3), (2, 3)),
    case("repeat_new_dims", lambda a: a.repeat(2, 1, 2), (3, 2)),
    case("t", lambda a: a.t(), (3, 4)),
    case("T_property", lambda a: a.T, (3, 4)),
    case("unflatten", lambda a: a.unflatten(1, (2, 3)), (4, 6)),
    case("unflatten_minus_one", lambda a: a.unflatten(-1, (-1, 2)), (3, 4)),
    case("chunk", lambda a: a.chunk(2, 1)[0] * a.chunk(2, 1)[1], (3, 4)),
    case("chunk_uneven", lambda a: a.chunk(3)[-1], (5, 2)),
    case("split_size", lambda a: a.split(2, 1)[1], (3, 5)),
    case("split_sections", lambda a: a.split([1, 3], dim=1)[1] * 2, (3, 4)),
    case("view_as", lambda a, b: a.view_as(b) + b, (3, 4), (2, 6)),
    case("squeeze_dims_tuple", lambda a: a.squeeze((0, 2)), (1, 3, 1, 4)),
    case("unsqueeze_negative", lambda a: a.unsqueeze(-1), (3, 4)),
    case("flatten_start", lambda a: a.flatten(1), (2, 3, 4)),
    case("narrow", lambda a: a.narrow(1, 1, 2), (3, 4)),
    case("clone", lambda a: a.clone() * a, (3, 4)),
    case("contiguous_of_transpose", lambda a: a.t().contiguous(), (3, 4)),
    case("type_as", lambda a, b: a.type_as(b) * b, (3, 4), (3, 4)),
]


def draw(shapes, positive, seed):
    generator = np.random.default_rng(seed)
    if positive:
        return [generator.uniform(0.5, 2.0, size=shape) for shape in shapes]
    arrays = [generator.standard_normal(shape) for shape in shapes]
    for a in arrays:
        a[np.abs(a) < 1e-2] += 0.05  # away from the kinks of abs, sign and norms
    return arrays


@pytest.mark.parametrize("call, shapes, positive", OPS)
def test_method_gradcheck(device, call, shapes, positive):
    inputs = [minicnn.tensor(a, requires_grad=True, device=device) for a in draw(shapes, positive, 0)]
    assert minicnn.gradcheck(call, inputs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call, shapes, positive", OPS)
def test_method_matches_torch(device, call, shapes, positive, dtype):
    import_torch()
    forward_error, grad_errors = torch_parity_errors(call, call, draw(shapes, positive, 1), device, dtype)
    assert forward_error < parity_tolerance(dtype)
    assert max(grad_errors) < parity_tolerance(dtype)


# ----------------------------------------------------------------------------------------------
# return types and indices
# ----------------------------------------------------------------------------------------------

PAIRS = [
    pytest.param(lambda t: t.max(1), "max", id="max"),
    pytest.param(lambda t: t.min(0, keepdim=True), "min", id="min"),
    pytest.param(lambda t: t.sort(1, descending=True), "sort", id="sort"),
    # torch leaves the order of tied elements in topk unspecified: rows without ties
    pytest.param(lambda t: (t + t.new_tensor(np.arange(5) * 0.01)).topk(2, dim=1), "topk", id="topk"),
    pytest.param(lambda t: t.median(1), "median", id="median"),
    pytest.param(lambda t: t.mode(1), "mode", id="mode"),
]


@pytest.mark.parametrize("call, name", PAIRS)
def test_picking_reductions_return_a_values_indices_pair_as_torch(device, call, name):
    torch = import_torch()
    values = np.array([[3.0, 1.0, 3.0, 7.0, 1.0], [2.0, 2.0, 5.0, 5.0, 0.0], [4.0, 4.0, 4.0, 1.0, 1.0]])
    ours, theirs = call(minicnn.tensor(values, device=device)), call(torch.tensor(values))
    assert type(ours).__name__ == type(theirs).__name__ == name and type(ours).__module__ == "minicnn.return_types"
    values_out, indices_out = ours  # unpacks as a pair
    assert values_out is ours.values and indices_out is ours.indices and ours[1] is ours.indices
    assert isinstance(ours.values, minicnn.Tensor) and ours.indices.dtype == np.int64
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(minicnn.backend.to_host(ours.indices.array), theirs.indices.numpy())
    assert f"minicnn.return_types.{name}(" in repr(ours)


def test_max_of_a_batch_picks_the_prediction_as_a_tutorial_reads_it(device):
    logits = minicnn.tensor([[0.1, 2.0, -1.0], [3.0, 0.5, 0.2]], device=device)
    _, predicted = minicnn.max(logits, 1)
    assert predicted.tolist() == [1, 0]
    assert logits.max(1, keepdim=True)[1].tolist() == [[1], [0]]
    assert logits.max().item() == 3.0 and logits.max().shape == ()


@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True), (-1, False)])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_and_argmin_match_torch_including_flat_indices(device, name, dim, keepdim):
    torch = import_torch()
    values = np.random.default_rng(3).standard_normal((3, 4))
    ours = getattr(minicnn.tensor(values, device=device), name)(dim=dim, keepdim=keepdim)
    theirs = getattr(torch.tensor(values), name)(dim=dim, keepdim=keepdim)
    assert ours.dtype == np.int64 and tuple(ours.shape) == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()
    assert getattr(minicnn, name)(minicnn.tensor(values, device=device)).item() == getattr(torch, name)(
        torch.tensor(values)).item()


@pytest.mark.parametrize("call", [
    lambda t: t.all(), lambda t: t.any(), lambda t: t.all(1), lambda t: t.any(0, keepdim=True),
    lambda t: t.isnan(), lambda t: t.isfinite(), lambda t: t.eq(0.0), lambda t: t.ne(t), lambda t: t.lt(1.0),
    lambda t: t.le(1.0), lambda t: t.gt(-1.0), lambda t: t.ge(t.t().t()), lambda t: t > 0, lambda t: (t > 0) & (t < 2),
    lambda t: ~(t > 0), lambda t: (t > 0) | t.isnan(),
], ids=["all", "any", "all_dim", "any_keepdim", "isnan", "isfinite", "eq", "ne", "lt", "le", "gt", "ge", "op_gt",
        "and", "invert", "or"])
def test_comparisons_and_tests_give_bool_tensors_as_torch(device, call):
    torch = import_torch()
    values = np.array([[0.0, 1.0, np.nan], [2.0, -1.0, np.inf]])
    ours, theirs = call(minicnn.tensor(values, device=device)), call(torch.tensor(values))
    assert ours.dtype == np.bool_ and not ours.requires_grad
    assert ours.tolist() == theirs.tolist()


def test_cumsum_of_integers_and_bools_gives_int64_as_torch(device):
    torch = import_torch()
    for values in ([1, 2, 3], [True, False, True]):
        ours, theirs = minicnn.tensor(values, device=device).cumsum(0), torch.tensor(values).cumsum(0)
        assert ours.dtype == np.int64 and str(theirs.dtype) == "torch.int64" and ours.tolist() == theirs.tolist()


@pytest.mark.filterwarnings("ignore:std.*degrees of freedom")
def test_norm_and_std_at_zero_and_single_elements_as_torch(device):
    torch = import_torch()
    ours = minicnn.zeros(3, dtype=minicnn.float64, device=device, requires_grad=True)
    theirs = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    ours.norm().backward()
    theirs.norm().backward()
    assert ours.grad.tolist() == theirs.grad.tolist() == [0.0, 0.0, 0.0]
    assert math.isnan(minicnn.tensor([1.0], device=device).std().item()) and math.isnan(torch.tensor([1.0]).std().item())


def test_prod_gradient_with_zeros_matches_torch(device):
    torch = import_torch()
    values = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, 4.0]])
    for call in (lambda t: t.prod(1), lambda t: t.prod()):
        forward_error, (grad_error,) = torch_parity_errors(call, call, [values], device, np.float64)
        assert forward_error == 0.0 and grad_error < 1e-12


# ----------------------------------------------------------------------------------------------
# errors, as torch's
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error", [
    (lambda t: t.max(2), IndexError), (lambda t: t.argmax(-3), IndexError), (lambda t: t.sort(5), IndexError),
    (lambda t: t.cumsum(2), IndexError), (lambda t: t.std(4), IndexError), (lambda t: t.topk(4), RuntimeError),
    (lambda t: t.expand(3, 4), RuntimeError), (lambda t: t.repeat(2), RuntimeError),
    (lambda t: t.split([1, 1], 1), RuntimeError), (lambda t: t.chunk(0), RuntimeError),
    (lambda t: t.unflatten(1, (2, 2)), RuntimeError), (lambda t: t.reshape(2, 3, 1).t(), RuntimeError),
    (lambda t: t.unsqueeze(3), IndexError), (lambda t: t.squeeze(2), IndexError),
], ids=["max", "argmax", "sort", "cumsum", "std", "topk", "expand", "repeat", "split", "chunk", "unflatten", "t",
        "unsqueeze", "squeeze"])
def test_bad_arguments_raise_torchs_error_type(device, call, error):
    torch = import_torch()
    values = np.arange(6.0).reshape(2, 3)
    with pytest.raises(error):
        call(torch.tensor(values))
    with pytest.raises(error):
        call(minicnn.tensor(values, device=device))


def test_max_of_an_empty_dimension_is_an_index_error_as_torch(device):
    torch = import_torch()
    with pytest.raises(IndexError):
        torch.zeros(2, 0).max(1)
    with pytest.raises(IndexError, match="non-zero size"):
        minicnn.zeros(2, 0, device=device).max(1)
