"""Bad arguments to ops, layers, optimizers and schedulers: each gets torch's error type, a message
naming the op or class and the argument at fault, and leaves nothing changed (inputs, parameters,
options, the random stream).

Files, datasets and the command line have their own: test_bad_files.py and test_bad_cli.py.
"""
import copy
import re

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim
from minicnn.data import DataLoader, Dataset
from minicnn.functional import dims
from minicnn.optim import lr_scheduler

from helpers import import_torch

F = minicnn.functional

# ----------------------------------------------------------------------------------------------
# Dims out of range: IndexError with torch's message, prefixed by the op
# ----------------------------------------------------------------------------------------------

# (op, call on a (2, 3) tensor x with a bad dim d, the number of dims the op accepts)
DIM_OPS = {
    "flatten": (lambda x, d: x.flatten(d), 2),
    "flatten_end": (lambda x, d: x.flatten(0, d), 2),
    "squeeze": (lambda x, d: x.squeeze(d), 2),
    "unsqueeze": (lambda x, d: x.unsqueeze(d), 3),
    "transpose": (lambda x, d: x.transpose(0, d), 2),
    "transpose_first": (lambda x, d: x.transpose(d, 1), 2),
    "permute": (lambda x, d: x.permute(0, d), 2),
    "sum": (lambda x, d: x.sum(d), 2),
    "mean": (lambda x, d: x.mean(d), 2),
    "max": (lambda x, d: x.amax(d), 2),
    "min": (lambda x, d: x.amin(d), 2),
    "argmax": (lambda x, d: x.argmax(d), 2),
    "argmin": (lambda x, d: x.argmin(d), 2),
    "softmax": (lambda x, d: F.softmax(x, d), 2),
    "log_softmax": (lambda x, d: F.log_softmax(x, d), 2),
    "cat": (lambda x, d: minicnn.cat([x, x], d), 2),
    "stack": (lambda x, d: minicnn.stack([x, x], d), 3),
    "size": (lambda x, d: x.size(d), 2),
}
# The op name the message starts with, where it is not the case's name.
DIM_OP_NAMES = {"flatten_end": "flatten", "transpose_first": "transpose"}


@pytest.mark.parametrize("dim_sign", [5, -6], ids=["too_high", "too_low"])
@pytest.mark.parametrize("case", sorted(DIM_OPS))
def test_a_dim_out_of_range_raises_torchs_index_error_naming_the_op(case, dim_sign, device):
    call, accepted = DIM_OPS[case]
    x = minicnn.tensor(np.arange(6.0).reshape(2, 3), device=device)
    before = np.array(minicnn.backend.to_host(x.array))
    op = DIM_OP_NAMES.get(case, case)
    message = (rf"^{op}: Dimension out of range \(expected to be in range of \[{-accepted}, {accepted - 1}\], "
               rf"but got {dim_sign}\)$")
    with pytest.raises(IndexError, match=message):
        call(x, dim_sign)
    np.testing.assert_array_equal(minicnn.backend.to_host(x.array), before)


@pytest.mark.parametrize("case", ["flatten", "unsqueeze", "sum", "softmax", "cat", "stack", "transpose"])
def test_a_dim_error_reads_as_torchs(case):
    torch = import_torch()
    calls = {
        "flatten": lambda m, x: x.flatten(5), "unsqueeze": lambda m, x: x.unsqueeze(5),
        "sum": lambda m, x: x.sum(5), "softmax": lambda m, x: x.softmax(5), "cat": lambda m, x: m.cat([x], 5),
        "stack": lambda m, x: m.stack([x], 5), "transpose": lambda m, x: x.transpose(0, 5),
    }
    with pytest.raises(IndexError) as theirs:
        calls[case](torch, torch.zeros(2, 3))
    with pytest.raises(IndexError) as ours:
        calls[case](minicnn, minicnn.zeros(2, 3))
    assert str(ours.value) == f"{case}: {theirs.value}"


def test_a_zero_dim_tensor_accepts_dims_minus_one_and_zero_only():
    x = minicnn.tensor(3.0)
    assert x.sum(0).item() == 3.0 and x.sum(-1).item() == 3.0
    with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
        x.sum(1)


@pytest.mark.parametrize("call, error, match", [
    (lambda x: x.sum(1.5), TypeError, "sum: dim must be an int, got float 1.5"),
    (lambda x: x.flatten("a"), TypeError, "flatten: dim must be an int, got str 'a'"),
    (lambda x: x.unsqueeze(None), TypeError, "unsqueeze: dim must be an int, got NoneType"),
    (lambda x: x.sum((0, 0)), RuntimeError, "sum: dim 0 appears multiple times"),
    (lambda x: x.permute(1, 1), RuntimeError, "permute: duplicate dims"),
    (lambda x: x.permute(0), RuntimeError, r"permute: number of dims in \(0,\) does not match the 2 dims"),
    (lambda x: x.reshape(2, 3, 1).flatten(2, 1), RuntimeError, "flatten: start_dim 2 cannot come after end_dim 1"),
    (lambda x: minicnn.stack([x, x[:1]]), RuntimeError, r"stack: .*\(2, 3\) at entry 0 and \(1, 3\) at entry 1"),
    (lambda x: minicnn.cat([x, 3]), TypeError, "cat: .*element 1 is int"),
    (lambda x: minicnn.cat([x.sum(), x.sum()]), RuntimeError, "cat: zero-dimensional tensor"),
], ids=["float_dim", "string_dim", "none_dim", "repeated_dim", "permute_repeated", "permute_too_few",
        "flatten_backwards", "stack_unequal", "cat_not_a_tensor", "cat_zero_dim"])
def test_a_malformed_dim_argument_is_refused(call, error, match, device):
    x = minicnn.tensor(np.arange(6.0).reshape(2, 3), device=device)
    with pytest.raises(error, match=match):
        call(x)
    np.testing.assert_array_equal(minicnn.backend.to_host(x.array), np.arange(6.0).reshape(2, 3))


def test_normalize_dim_names_the_op_it_is_given():
    assert dims.normalize_dim(-1, 4, "myop") == 3
    with pytest.raises(IndexError, match=r"^myop: Dimension out of range \(expected to be in range of \[-4, 3\]"):
        dims.normalize_dim(4, 4, "myop")


# ----------------------------------------------------------------------------------------------
# Broadcasting, tensor creation, batching
# ----------------------------------------------------------------------------------------------

BROADCAST_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "where": lambda a, b: minicnn.where(a > 0, a, b),
}


@pytest.mark.parametrize("op", sorted(BROADCAST_OPS))
def test_shapes_that_do_not_broadcast_name_the_op_and_both_shapes(op, device):
    a = minicnn.tensor(np.ones((2, 3)), device=device, requires_grad=True)
    b = minicnn.tensor(np.ones((4,)), device=device)
    pattern = rf"^{op}: The size of tensor a \(\d\) must match the size of tensor b \(\d\) at non-singleton " \
              rf"dimension \d: shapes .*do not broadcast"
    with pytest.raises(RuntimeError, match=pattern) as error:
        BROADCAST_OPS[op](a, b)
    if op != "where":
        assert "(2, 3)" in str(error.value) and "(4,)" in str(error.value)
    assert a.grad is None and a.shape == (2, 3) and b.shape == (4,)


def test_functional_add_names_itself_for_a_broadcast_error():
    with pytest.raises(RuntimeError, match=r"^add: .*shapes \(5, 2\) and \(3,\)"):
        F.add(minicnn.zeros(5, 2), minicnn.zeros(3))


@pytest.mark.parametrize("data, error, match", [
    ([[1, 2], [3]], ValueError, r"tensor: expected sequence of length 2 at dim 1 \(got 1\)"),
    ([[1, 2], [3, 4, 5]], ValueError, r"tensor: expected sequence of length 2 at dim 1 \(got 3\)"),
    ([[1, 2], 3], ValueError, "tensor: expected a number at dim 1 but got a sequence of length 2"),
    ([[[1.0]], [[2.0], [3.0]]], ValueError, r"tensor: expected sequence of length 1 at dim 1 \(got 2\)"),
    (["a", "b"], TypeError, "tensor: invalid data type 'str' at dim 1"),
    ([[1, None]], TypeError, "tensor: invalid data type 'NoneType' at dim 2"),
], ids=["short_row", "long_row", "number_and_row", "ragged_3d", "strings", "none"])
def test_a_ragged_or_non_numeric_list_to_tensor_is_refused_naming_where(data, error, match):
    snapshot = copy.deepcopy(data)
    with pytest.raises(error, match=match):
        minicnn.tensor(data)
    assert data == snapshot


def test_torch_also_calls_a_ragged_list_a_value_error():
    torch = import_torch()
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 1 \(got 1\)"):
        torch.tensor([[1, 2], [3]])


class _MixedSizes(Dataset):
    """Four images, the third one of another height."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return np.zeros((1, 6 if index == 2 else 8, 8), np.float32), 0


@pytest.mark.parametrize("prefetch", [False, True], ids=["in_order", "prefetched"])
def test_images_of_different_sizes_batched_together_name_both_shapes(prefetch):
    batches = iter(DataLoader(_MixedSizes(), batch_size=2, prefetch=prefetch))
    images, _ = next(batches)  # the batch before the odd image comes through whole
    assert images.shape == (2, 1, 8, 8)
    with pytest.raises(RuntimeError, match=r"collate: .*sample 0 has shape \(1, 6, 8\) and of sample 1 shape \(1, 8, 8\)"):
        next(batches)


# ----------------------------------------------------------------------------------------------
# Layers: checked in the constructor, naming the class and the argument; no random numbers drawn
# ----------------------------------------------------------------------------------------------

LAYER_CASES = [
    ("conv_kernel_0", lambda: nn.Conv2d(1, 4, 0), ValueError, "Conv2d: kernel_size must be a positive int, got 0"),
    ("conv_kernel_negative", lambda: nn.Conv2d(1, 4, (3, -1)), ValueError, "Conv2d: kernel_size"),
    ("conv_kernel_triple", lambda: nn.Conv2d(1, 4, (3, 3, 3)), ValueError, "Conv2d: kernel_size must be an int or a pair"),
    ("conv_kernel_float", lambda: nn.Conv2d(1, 4, 2.5), TypeError, "Conv2d: kernel_size must be an int, got float"),
    ("conv_stride_0", lambda: nn.Conv2d(1, 4, 3, stride=0), ValueError, "Conv2d: stride must be a positive int"),
    ("conv_padding_negative", lambda: nn.Conv2d(1, 4, 3, padding=-1), ValueError, "Conv2d: padding must be an int >= 0"),
    ("conv_padding_word", lambda: nn.Conv2d(1, 4, 3, padding="full"), ValueError, "Conv2d: padding string"),
    ("conv_dilation_0", lambda: nn.Conv2d(1, 4, 3, dilation=0), ValueError, "Conv2d: dilation must be a positive int"),
    ("conv_in_channels_0", lambda: nn.Conv2d(0, 4, 3), ValueError, "Conv2d: in_channels must be a positive int"),
    ("conv_out_channels_negative", lambda: nn.Conv2d(1, -2, 3), ValueError, "Conv2d: out_channels"),
    ("conv_in_channels_str", lambda: nn.Conv2d("3", 4, 3), TypeError, "Conv2d: in_channels must be an int, got str"),
    ("conv_groups_0", lambda: nn.Conv2d(2, 4, 3, groups=0), ValueError, "Conv2d: groups must be a positive int"),
    ("conv_groups_indivisible", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "Conv2d: in_channels .*divisible"),
    ("linear_out_negative", lambda: nn.Linear(3, -1), ValueError, "Linear: out_features must be an int >= 0, got -1"),
    ("linear_in_negative", lambda: nn.Linear(-3, 2), ValueError, "Linear: in_features must be an int >= 0, got -3"),
    ("linear_in_float", lambda: nn.Linear(2.5, 2), TypeError, "Linear: in_features must be an int, got float"),
    ("linear_out_bool", lambda: nn.Linear(2, True), TypeError, "Linear: out_features must be an int, got bool"),
    ("maxpool_kernel_0", lambda: nn.MaxPool2d(0), ValueError, "MaxPool2d: kernel_size must be a positive int"),
    ("maxpool_stride_0", lambda: nn.MaxPool2d(2, stride=0), ValueError, "MaxPool2d: stride must be a positive int"),
    ("maxpool_padding_too_big", lambda: nn.MaxPool2d(2, padding=2), ValueError, "MaxPool2d: padding .* at most half"),
    ("maxpool_dilation_0", lambda: nn.MaxPool2d(2, dilation=0), ValueError, "MaxPool2d: dilation"),
    ("avgpool_kernel_negative", lambda: nn.AvgPool2d(-2), ValueError, "AvgPool2d: kernel_size"),
    ("avgpool_padding_negative", lambda: nn.AvgPool2d(2, padding=-1), ValueError, "AvgPool2d: padding must be an int >= 0"),
    ("avgpool_divisor_0", lambda: nn.AvgPool2d(2, divisor_override=0), ValueError, "AvgPool2d: divisor_override"),
    ("adaptive_avg_0", lambda: nn.AdaptiveAvgPool2d(0), ValueError, "AdaptiveAvgPool2d: output_size must be a positive int"),
    ("adaptive_max_str", lambda: nn.AdaptiveMaxPool2d("7"), TypeError, "AdaptiveMaxPool2d: output_size must be an int"),
    ("batchnorm_negative", lambda: nn.BatchNorm2d(-1), ValueError, "BatchNorm2d: num_features must be an int >= 0"),
    ("batchnorm_float", lambda: nn.BatchNorm1d(4.0), TypeError, "BatchNorm1d: num_features must be an int"),
    ("batchnorm_eps_negative", lambda: nn.BatchNorm2d(4, eps=-1e-5), ValueError, "BatchNorm2d: invalid eps"),
    ("batchnorm_momentum_2", lambda: nn.BatchNorm2d(4, momentum=2.0), ValueError, r"BatchNorm2d: invalid momentum 2.0, it must be in \[0, 1\]"),
    ("dropout_negative", lambda: nn.Dropout(-0.1), ValueError, "Dropout: dropout probability has to be between 0 and 1"),
    ("dropout_above_1", lambda: nn.Dropout(1.5), ValueError, "Dropout: dropout probability has to be between 0 and 1"),
    ("dropout_str", lambda: nn.Dropout("0.5"), TypeError, "Dropout: dropout probability p must be a number, got str"),
    ("leaky_relu_slope_str", lambda: nn.LeakyReLU("a"), TypeError, "LeakyReLU: negative_slope must be a number"),
    ("softmax_dim_float", lambda: nn.Softmax(dim=1.5), TypeError, "Softmax: dim must be an int, got float"),
    ("log_softmax_dim_str", lambda: nn.LogSoftmax(dim="1"), TypeError, "LogSoftmax: dim must be an int, got str"),
    ("flatten_start_str", lambda: nn.Flatten(start_dim="1"), TypeError, "Flatten: start_dim must be an int"),
    ("loss_reduction", lambda: nn.CrossEntropyLoss(reduction="avg"), ValueError, "CrossEntropyLoss: reduction must be"),
]


@pytest.mark.parametrize("make, error, match", [case[1:] for case in LAYER_CASES], ids=[case[0] for case in LAYER_CASES])
def test_a_layer_checks_its_arguments_in_the_constructor(make, error, match):
    state = minicnn.random.get_rng_state()
    with pytest.raises(error, match=match):
        make()
    assert minicnn.random.get_rng_state() == state  # refused before any weight was drawn


@pytest.mark.parametrize("layer, shape, match", [
    (lambda: nn.Conv2d(3, 4, 3), (2, 1, 8, 8), r"Conv2d\(3, 4.*expected input with 3 channels, got shape \(2, 1, 8, 8\)"),
    (lambda: nn.Conv2d(3, 4, 3), (2, 8), r"Conv2d.*expected 3D or 4D input, got 2D"),
    (lambda: nn.Linear(5, 2), (4, 3), r"Linear\(in_features=5.*expected input with 5 features.*\(4, 3\)"),
    (lambda: nn.MaxPool2d(2), (8,), r"MaxPool2d.*expected 3D or 4D input, got 1D"),
], ids=["conv_channels", "conv_rank", "linear_features", "pool_rank"])
def test_a_layer_names_itself_and_the_shape_for_a_wrong_input(layer, shape, match, device):
    module = layer().to(device)
    weights = {name: np.array(minicnn.backend.to_host(p.array)) for name, p in module.named_parameters()}
    x = minicnn.zeros(*shape, device=device)
    with pytest.raises(ValueError, match=match):
        module(x)
    for name, p in module.named_parameters():
        np.testing.assert_array_equal(minicnn.backend.to_host(p.array), weights[name])


# ----------------------------------------------------------------------------------------------
# Optimizers
# ----------------------------------------------------------------------------------------------

def _params():
    weight = nn.Parameter(minicnn.tensor(np.arange(4.0, dtype=np.float32)))
    weight.grad = minicnn.ones(4)
    return [weight]


OPTIMIZER_CASES = [
    ("sgd_lr_str", lambda p: optim.SGD(p, lr="0.1"), TypeError, "SGD: lr must be a number, got str"),
    ("sgd_lr_none", lambda p: optim.SGD(p, lr=None), TypeError, "SGD: lr must be a number, got NoneType"),
    ("sgd_lr_negative", lambda p: optim.SGD(p, lr=-0.1), ValueError, "SGD: invalid learning rate -0.1"),
    ("sgd_lr_nan", lambda p: optim.SGD(p, lr=float("nan")), ValueError, "SGD: invalid lr nan"),
    ("sgd_momentum_negative", lambda p: optim.SGD(p, lr=0.1, momentum=-0.9), ValueError, "SGD: invalid momentum"),
    ("sgd_momentum_str", lambda p: optim.SGD(p, lr=0.1, momentum="high"), TypeError, "SGD: momentum must be a number"),
    ("sgd_dampening_list", lambda p: optim.SGD(p, lr=0.1, dampening=[0]), TypeError, "SGD: dampening must be a number"),
    ("sgd_weight_decay_negative", lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), ValueError, "SGD: invalid weight_decay"),
    ("sgd_nesterov_no_momentum", lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, "SGD: Nesterov momentum"),
    ("adam_lr_str", lambda p: optim.Adam(p, lr="fast"), TypeError, "Adam: lr must be a number, got str"),
    ("adam_lr_negative", lambda p: optim.Adam(p, lr=-1e-3), ValueError, "Adam: invalid learning rate"),
    ("adam_beta1_1", lambda p: optim.Adam(p, betas=(1.0, 0.999)), ValueError, r"Adam: invalid beta parameters \(1.0, 0.999\)"),
    ("adam_beta2_negative", lambda p: optim.Adam(p, betas=(0.9, -0.1)), ValueError, "Adam: invalid beta parameters"),
    ("adam_betas_scalar", lambda p: optim.Adam(p, betas=0.9), TypeError, "Adam: betas must be a pair of numbers"),
    ("adam_betas_str", lambda p: optim.Adam(p, betas=("a", 0.9)), TypeError, "Adam: beta parameter at index 0 must be a number"),
    ("adam_eps_negative", lambda p: optim.Adam(p, eps=-1e-8), ValueError, "Adam: invalid epsilon value"),
    ("adam_weight_decay_str", lambda p: optim.Adam(p, weight_decay="0"), TypeError, "Adam: weight_decay must be a number"),
    ("adamw_lr_negative", lambda p: optim.AdamW(p, lr=-1.0), ValueError, "AdamW: invalid learning rate"),
    ("params_a_tensor", lambda p: optim.SGD(p[0], lr=0.1), TypeError, "iterable of Tensors or dicts, but got a Tensor"),
    ("params_empty", lambda p: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    ("params_not_tensors", lambda p: optim.Adam([1.0, 2.0]), TypeError, "optimizer can only optimize Tensors"),
]


@pytest.mark.parametrize("make, error, match", [case[1:] for case in OPTIMIZER_CASES],
                         ids=[case[0] for case in OPTIMIZER_CASES])
def test_an_optimizer_checks_its_arguments_in_the_constructor(make, error, match):
    params = _params()
    with pytest.raises(error, match=match):
        make(params)
    np.testing.assert_array_equal(params[0].array, np.arange(4.0))  # nothing was stepped
    np.testing.assert_array_equal(params[0].grad.array, np.ones(4))


# ----------------------------------------------------------------------------------------------
# Learning-rate schedulers
# ----------------------------------------------------------------------------------------------

SCHEDULER_CASES = [
    ("step_size_0", lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be a positive int, got 0"),
    ("step_size_negative", lambda o: lr_scheduler.StepLR(o, step_size=-3), ValueError, "StepLR: step_size"),
    ("step_size_float", lambda o: lr_scheduler.StepLR(o, step_size=2.5), TypeError, "StepLR: step_size must be an int"),
    ("step_gamma_none", lambda o: lr_scheduler.StepLR(o, 2, gamma=None), TypeError, "StepLR: gamma must be a number, got NoneType"),
    ("step_gamma_str", lambda o: lr_scheduler.StepLR(o, 2, gamma="0.1"), TypeError, "StepLR: gamma must be a number"),
    ("multistep_int", lambda o: lr_scheduler.MultiStepLR(o, milestones=3), TypeError, "MultiStepLR: milestones must be a list"),
    ("multistep_decreasing", lambda o: lr_scheduler.MultiStepLR(o, [5, 2]), ValueError, r"MultiStepLR: milestones should be a list of increasing integers, got \[5, 2\]"),
    ("multistep_str_entry", lambda o: lr_scheduler.MultiStepLR(o, ["3"]), TypeError, "MultiStepLR: each milestone must be an int"),
    ("multistep_negative", lambda o: lr_scheduler.MultiStepLR(o, [-1, 2]), ValueError, "MultiStepLR: each milestone"),
    ("multistep_gamma_none", lambda o: lr_scheduler.MultiStepLR(o, [2], gamma=None), TypeError, "MultiStepLR: gamma"),
    ("exponential_gamma_none", lambda o: lr_scheduler.ExponentialLR(o, gamma=None), TypeError, "ExponentialLR: gamma"),
    ("cosine_t_max_0", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "CosineAnnealingLR: T_max must be a positive int, got 0"),
    ("cosine_t_max_negative", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=-10), ValueError, "CosineAnnealingLR: T_max"),
    ("cosine_t_max_none", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=None), TypeError, "CosineAnnealingLR: T_max must be an int"),
    ("cosine_eta_min_str", lambda o: lr_scheduler.CosineAnnealingLR(o, 10, eta_min="0"), TypeError, "CosineAnnealingLR: eta_min"),
    ("last_epoch_str", lambda o: lr_scheduler.StepLR(o, 2, last_epoch="0"), TypeError, "StepLR: last_epoch must be an int"),
    ("not_an_optimizer", lambda o: lr_scheduler.StepLR(o.param_groups, 2), TypeError, "list is not an Optimizer"),
]


@pytest.mark.parametrize("make, error, match", [case[1:] for case in SCHEDULER_CASES],
                         ids=[case[0] for case in SCHEDULER_CASES])
def test_a_scheduler_checks_its_arguments_in_the_constructor(make, error, match):
    optimizer = optim.SGD(_params(), lr=0.5, momentum=0.9)
    options = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    with pytest.raises(error, match=match):
        make(optimizer)
    # the optimizer is as it was: no lr changed, no initial_lr recorded
    assert [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups] == options

