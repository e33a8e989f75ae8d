"""The added functional ops and layers: torch parity (forward and every gradient), float64 gradcheck, repr."""
import numpy as np
import pytest

import minicnn
import minicnn.nn as nn
import minicnn.nn.functional as F

from helpers import host, import_torch, parity_tolerance, torch_parity_errors

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


def unit(*shape):
    return RNG.uniform(0.05, 0.95, shape)


# name -> (our function, torch function (given torch.nn.functional), input arrays)
CASES = {
    "gelu": (F.gelu, lambda t: t.gelu, [randn(3, 4)]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda t: lambda x: t.gelu(x, approximate="tanh"),
                  [randn(3, 4)]),
    "elu": (lambda x: F.elu(x, 0.7), lambda t: lambda x: t.elu(x, 0.7), [randn(3, 4)]),
    "prelu": (F.prelu, lambda t: t.prelu, [randn(2, 3, 4), randn(3)]),
    "prelu_shared": (F.prelu, lambda t: t.prelu, [randn(2, 3, 4), randn(1)]),
    "softplus": (lambda x: F.softplus(x, 2.0, 3.0), lambda t: lambda x: t.softplus(x, 2.0, 3.0), [randn(3, 4) * 3]),
    "mish": (F.mish, lambda t: t.mish, [randn(3, 4)]),
    "logsigmoid": (F.logsigmoid, lambda t: t.logsigmoid, [randn(3, 4) * 4]),
    "softmax2d": (F.softmax2d, lambda t: lambda x: t.softmax(x, dim=-3), [randn(2, 3, 2, 2)]),
    **{f"pad_{mode}": (lambda x, m=mode: F.pad(x, (2, 1, 1, 3), mode=m),
                       lambda t, m=mode: lambda x: t.pad(x, (2, 1, 1, 3), mode=m), [randn(2, 3, 4, 5)])
       for mode in ("reflect", "replicate", "circular")},
    "pad_constant": (lambda x: F.pad(x, (1, 2), value=1.5), lambda t: lambda x: t.pad(x, (1, 2), value=1.5),
                     [randn(2, 3)]),
    **{f"interpolate_{mode}_{corners}": (
        lambda x, m=mode, c=corners: F.interpolate(x, size=(7, 3), mode=m, align_corners=c),
        lambda t, m=mode, c=corners: lambda x: t.interpolate(x, size=(7, 3), mode=m, align_corners=c),
        [randn(2, 2, 4, 5)]) for mode, corners in (("bilinear", False), ("bilinear", True), ("bicubic", False),
                                                   ("bicubic", True), ("nearest", None), ("area", None))},
    "interpolate_scale": (lambda x: F.interpolate(x, scale_factor=2.5, mode="bilinear"),
                          lambda t: lambda x: t.interpolate(x, scale_factor=2.5, mode="bilinear"),
                          [randn(1, 2, 3, 4)]),
    "interpolate_linear": (lambda x: F.interpolate(x, size=9, mode="linear"),
                           lambda t: lambda x: t.interpolate(x, size=9, mode="linear"), [randn(2, 3, 5)]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                         lambda t: lambda x, w, b: t.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                         [randn(2, 4, 3, 4), randn(4, 3, 3, 3), randn(3)]),
    "conv_transpose2d_groups_dilation": (
        lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), padding=(0, 1), groups=2, dilation=(2, 1)),
        lambda t: lambda x, w: t.conv_transpose2d(x, w, stride=(1, 2), padding=(0, 1), groups=2, dilation=(2, 1)),
        [randn(2, 4, 3, 4), randn(4, 2, 2, 3)]),
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
               lambda t: lambda x, w, b: t.conv1d(x, w, b, stride=2, padding=1, dilation=2),
               [randn(2, 3, 9), randn(4, 3, 3), randn(4)]),
    "unfold": (lambda x: F.unfold(x, (2, 3), padding=1, stride=(2, 1)),
               lambda t: lambda x: t.unfold(x, (2, 3), padding=1, stride=(2, 1)), [randn(2, 3, 4, 5)]),
    "fold": (lambda x: F.fold(x, (4, 5), (2, 3), padding=1, stride=(2, 1)),
             lambda t: lambda x: t.fold(x, (4, 5), (2, 3), padding=1, stride=(2, 1)), [randn(2, 18, 15)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 3, w, b), lambda t: lambda x, w, b: t.group_norm(x, 3, w, b),
                   [randn(2, 6, 3, 2), randn(6), randn(6)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (3, 2), w, b),
                   lambda t: lambda x, w, b: t.layer_norm(x, (3, 2), w, b), [randn(4, 3, 2), randn(3, 2), randn(3, 2)]),
    "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                      lambda t: lambda x, w, b: t.instance_norm(x, weight=w, bias=b),
                      [randn(2, 3, 4, 3), randn(3), randn(3)]),
    "bce": (F.binary_cross_entropy, lambda t: t.binary_cross_entropy, [unit(3, 4), unit(3, 4)]),
    "bce_weighted_sum": (lambda x, y: F.binary_cross_entropy(x, y, weight=minicnn.tensor(WEIGHT), reduction="sum"),
                         lambda t: lambda x, y: t.binary_cross_entropy(x, y, weight=TORCH_WEIGHT(), reduction="sum"),
                         [unit(3, 4), unit(3, 4)]),
    "bce_logits_pos_weight": (
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=minicnn.tensor(WEIGHT)),
        lambda t: lambda x, y: t.binary_cross_entropy_with_logits(x, y, pos_weight=TORCH_WEIGHT()),
        [randn(3, 4) * 3, unit(3, 4)]),
    "l1": (F.l1_loss, lambda t: t.l1_loss, [randn(3, 4), randn(3, 4)]),
    "smooth_l1": (lambda x, y: F.smooth_l1_loss(x, y, beta=0.5, reduction="none"),
                  lambda t: lambda x, y: t.smooth_l1_loss(x, y, beta=0.5, reduction="none"), [randn(3, 4), randn(3, 4)]),
    "kl_div_batchmean": (lambda x, y: F.kl_div(x, y, reduction="batchmean"),
                         lambda t: lambda x, y: t.kl_div(x, y, reduction="batchmean"), [np.log(unit(3, 4)), unit(3, 4)]),
    "kl_div_log_target": (lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True),
                          lambda t: lambda x, y: t.kl_div(x, y, reduction="sum", log_target=True),
                          [np.log(unit(3, 4)), np.log(unit(3, 4))]),
    "cosine_similarity": (F.cosine_similarity, lambda t: t.cosine_similarity, [randn(3, 5), randn(3, 5)]),
    "pairwise_distance": (lambda a, b: F.pairwise_distance(a, b, p=3.0),
                          lambda t: lambda a, b: t.pairwise_distance(a, b, p=3.0), [randn(3, 5), randn(3, 5)]),
    "triplet_margin": (lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, swap=True),
                       lambda t: lambda a, p, n: t.triplet_margin_loss(a, p, n, margin=2.0, swap=True),
                       [randn(4, 5), randn(4, 5), randn(4, 5)]),
    "hinge_embedding": (lambda x, y: F.hinge_embedding_loss(x, y, margin=0.5),
                        lambda t: lambda x, y: t.hinge_embedding_loss(x, y, margin=0.5),
                        [randn(3, 4), np.where(RNG.random((3, 4)) < 0.5, -1, 1).astype(np.int64)]),
    "cross_entropy_4d_target": (lambda x, y: F.cross_entropy(x, y), lambda t: t.cross_entropy,
                                [randn(2, 4, 3, 3), RNG.integers(0, 4, (2, 3, 3))]),
    "mse_int64_target": (F.mse_loss, lambda t: t.mse_loss, [randn(5), np.arange(5)]),
    "max_pool1d": (lambda x: F.max_pool1d(x, 3, 2, 1), lambda t: lambda x: t.max_pool1d(x, 3, 2, 1), [randn(2, 3, 9)]),
    "avg_pool1d": (lambda x: F.avg_pool1d(x, 3, 2, 1), lambda t: lambda x: t.avg_pool1d(x, 3, 2, 1), [randn(2, 3, 9)]),
    "adaptive_avg_pool1d": (lambda x: F.adaptive_avg_pool1d(x, 4), lambda t: lambda x: t.adaptive_avg_pool1d(x, 4),
                            [randn(2, 3, 9)]),
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x, 2), lambda t: lambda x: t.pixel_shuffle(x, 2), [randn(2, 8, 3, 2)]),
    "pixel_unshuffle": (lambda x: F.pixel_unshuffle(x, 2), lambda t: lambda x: t.pixel_unshuffle(x, 2),
                        [randn(2, 2, 4, 6)]),
    "embedding": (lambda w: F.embedding(minicnn.tensor(INDICES), w, padding_idx=1),
                  lambda t: lambda w: t.embedding(TORCH_INDICES(), w, padding_idx=1), [randn(6, 3)]),
    "embedding_repeated_indices": (lambda w: F.embedding(minicnn.tensor(INDICES), w),
                                   lambda t: lambda w: t.embedding(TORCH_INDICES(), w), [randn(6, 3)]),
}
WEIGHT = RNG.uniform(0.5, 2.0, 4)
INDICES = np.array([[0, 1, 5], [5, 2, 1]])


def TORCH_WEIGHT():
    return import_torch().tensor(WEIGHT)


def TORCH_INDICES():
    return import_torch().tensor(INDICES)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch_forward_and_every_gradient(name, dtype):
    torch = import_torch()
    ours, theirs, arrays = CASES[name]
    if name == "mse_int64_target" or name == "hinge_embedding":
        arrays = [arrays[0].astype(dtype), arrays[1]]
    forward, grads = torch_parity_errors(ours, theirs(torch.nn.functional), arrays, dtype=dtype)
    tolerance = parity_tolerance(dtype)
    assert forward < tolerance and all(g < tolerance for g in grads), (forward, grads)


GRADCHECK = ["gelu", "gelu_tanh", "elu", "prelu", "softplus", "mish", "logsigmoid", "pad_reflect", "pad_circular",
             "interpolate_bicubic_False", "interpolate_area_None", "conv_transpose2d", "conv_transpose2d_groups_dilation",
             "conv1d", "unfold", "fold", "group_norm", "layer_norm", "instance_norm", "bce", "bce_logits_pos_weight",
             "smooth_l1", "kl_div_batchmean", "kl_div_log_target", "cosine_similarity", "embedding_repeated_indices", "pixel_shuffle"]


@pytest.mark.parametrize("name", GRADCHECK)
def test_float64_gradcheck(name):
    ours, _, arrays = CASES[name]
    inputs = [minicnn.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    assert minicnn.gradcheck(ours, inputs)


REPRS = [
    ("GELU()", "GELU(approximate='none')"), ("ELU(alpha=0.5)", None), ("PReLU(3)", None), ("Softplus(beta=2.0)", None),
    ("Mish()", None), ("LogSigmoid()", None), ("Softmax2d()", None), ("Dropout2d(0.3)", None),
    ("Dropout1d()", None), ("AlphaDropout(0.2)", None), ("ZeroPad2d((1, 2, 0, 1))", None),
    ("ConstantPad2d(2, 3.5)", None), ("ReflectionPad2d(1)", None), ("ReplicationPad2d((1, 0, 2, 0))", None),
    ("Upsample(scale_factor=2)", None), ("Upsample(size=(4, 5), mode='bilinear')", None),
    ("UpsamplingBilinear2d(scale_factor=2)", None), ("PixelShuffle(2)", None),
    ("ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, bias=False)", None),
    ("ConvTranspose2d(4, 6, 3, groups=2, dilation=2)", None), ("Conv1d(3, 5, 3, padding=1)", None),
    ("Conv1d(3, 6, 3, padding='same', groups=3)", None), ("Fold((4, 5), 2)", None), ("Unfold(2, stride=2)", None),
    ("GroupNorm(2, 6)", None), ("LayerNorm([4, 3], elementwise_affine=False)", None),
    ("InstanceNorm2d(3, affine=True)", None), ("BCELoss()", None), ("BCEWithLogitsLoss()", None),
    ("L1Loss()", None), ("SmoothL1Loss(beta=0.5)", None), ("KLDivLoss(reduction='batchmean')", None),
    ("HingeEmbeddingLoss()", None), ("TripletMarginLoss()", None), ("CosineSimilarity()", None),
    ("PairwiseDistance()", None), ("MaxPool1d(2)", None), ("AvgPool1d(3, stride=2)", None),
    ("AdaptiveAvgPool1d(4)", None), ("Unflatten(1, (2, 5))", None), ("Embedding(10, 3, padding_idx=0)", None),
    ("ModuleDict({'a': nn.ReLU(), 'b': nn.Linear(2, 3)})", None),
]


@pytest.mark.parametrize("expression", [e for e, _ in REPRS])
def test_repr_and_parameter_shapes_match_torch(expression):
    torch = import_torch()
    ours, theirs = eval("nn." + expression, {"nn": nn}), eval("nn." + expression, {"nn": torch.nn})
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("layer, shape", [
    ("ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)", (2, 4, 5, 5)),
    ("Conv1d(3, 5, 3, stride=2, padding=1)", (2, 3, 11)), ("GroupNorm(2, 6)", (2, 6, 3, 3)),
    ("LayerNorm(4)", (3, 5, 4)), ("InstanceNorm2d(3, affine=True)", (2, 3, 4, 4)), ("PReLU(3)", (2, 3, 4)),
    ("Embedding(10, 3, padding_idx=0)", None), ("Upsample(scale_factor=2, mode='bilinear')", (1, 2, 3, 3)),
])
def test_layers_with_torchs_weights_give_torchs_outputs(layer, shape):
    torch = import_torch()
    ours, theirs = eval("nn." + layer, {"nn": nn}), eval("nn." + layer, {"nn": torch.nn}).double()
    ours.double().load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    values = RNG.integers(0, 10, (3, 4)) if shape is None else randn(*shape)
    out = ours(minicnn.tensor(values))
    expected = theirs(torch.tensor(values))
    assert out.shape == tuple(expected.shape) and np.allclose(host(out), expected.detach().numpy(), atol=1e-12)


def test_conv_transpose2d_output_size_picks_the_output_padding():
    layer = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    assert layer(minicnn.randn(1, 2, 4, 4), output_size=(8, 8)).shape == (1, 2, 8, 8)
    assert layer(minicnn.randn(1, 2, 4, 4)).shape == (1, 2, 7, 7)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    x, z = minicnn.tensor(randn(2, 4, 5, 5)), minicnn.tensor(randn(2, 3, 9, 9))
    weight = minicnn.tensor(randn(4, 3, 3, 3))
    # <conv2d(z, W), x> == <z, conv_transpose2d(x, W)>
    left = float((F.conv2d(z, weight, stride=2, padding=1) * x).sum().item())
    right = float((z * F.conv_transpose2d(x, weight, stride=2, padding=1)).sum().item())
    assert abs(left - right) < 1e-9 * abs(left)


def test_module_dict_and_parameter_containers_register_their_contents():
    blocks = nn.ModuleDict({"conv": nn.Conv2d(1, 2, 3), "act": nn.ReLU()})
    blocks["head"] = nn.Linear(2, 1)
    assert list(blocks) == ["conv", "act", "head"] and "conv" in blocks and len(blocks) == 3
    assert sorted(blocks.state_dict()) == ["conv.bias", "conv.weight", "head.bias", "head.weight"]
    params = nn.ParameterList([nn.Parameter(minicnn.randn(2)), minicnn.randn(3)])
    params.append(minicnn.randn(1))
    assert [p.shape for p in params] == [(2,), (3,), (1,)] and isinstance(params[1], nn.Parameter)
    assert len(list(params.parameters())) == 3 and params[-1].shape == (1,)
    named = nn.ParameterDict({"alpha": nn.Parameter(minicnn.ones(1))})
    named["beta"] = minicnn.zeros(2)
    assert list(dict(named.named_parameters())) == ["alpha", "beta"]


def test_dropout_variants_drop_whole_channels_and_alpha_dropout_keeps_the_moments():
    minicnn.manual_seed(0)
    out = host(nn.Dropout1d(0.5)(minicnn.ones(8, 16, 10)))
    per_channel = out.reshape(8 * 16, 10)
    assert set(np.unique(per_channel)) <= {0.0, 2.0} and all(len(set(row)) == 1 for row in per_channel)
    out = host(nn.Dropout2d(0.5)(minicnn.ones(4, 8, 3, 3))).reshape(32, 9)
    assert all(len(set(row)) == 1 for row in out)
    x = minicnn.randn(200000, dtype=minicnn.float64)
    dropped = host(F.alpha_dropout(x, 0.3, training=True))
    assert abs(dropped.mean()) < 0.01 and abs(dropped.std() - 1) < 0.01
    layer = nn.AlphaDropout(0.3).eval()
    assert layer(x) is x


def test_clip_grad_norm_matches_torch_and_can_refuse_nonfinite_norms():
    torch = import_torch()
    grads = [randn(3, 4), randn(5)]
    for norm_type in (2.0, 1.0, float("inf")):
        ours = [nn.Parameter(minicnn.zeros(*g.shape, dtype=minicnn.float64)) for g in grads]
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for o, t, g in zip(ours, theirs, grads):
            o.grad, t.grad = minicnn.tensor(g.copy()), torch.tensor(g.copy())
        total = nn.utils.clip_grad_norm_(ours, 0.5, norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
        assert abs(float(total.item()) - float(expected)) < 1e-12
        assert all(np.allclose(host(o.grad), t.grad.numpy(), atol=1e-14) for o, t in zip(ours, theirs))
    broken = nn.Parameter(minicnn.zeros(2))
    broken.grad = minicnn.tensor(np.array([np.inf, 1.0], np.float32))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([broken], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_parameter_vectors():
    param = nn.Parameter(minicnn.zeros(4))
    param.grad = minicnn.tensor(np.array([-3.0, -0.5, 0.2, 9.0], np.float32))
    nn.utils.clip_grad_value_([param], 1.0)
    assert host(param.grad).tolist() == [-1.0, -0.5, pytest.approx(0.2), 1.0]
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vector = nn.utils.parameters_to_vector(model.parameters())
    assert vector.shape == (sum(p.numel() for p in model.parameters()),)
    nn.utils.vector_to_parameters(minicnn.arange(vector.shape[0], dtype=minicnn.float32), model.parameters())
    assert host(model[0].weight).ravel().tolist() == [0, 1, 2, 3, 4, 5] and host(model[1].bias).tolist() == [10]


@pytest.mark.parametrize("call, error", [
    (lambda: F.pad(minicnn.randn(1, 2, 3), (3, 3), mode="reflect"), RuntimeError),
    (lambda: F.pad(minicnn.randn(1, 2, 3), (1,), mode="reflect"), ValueError),
    (lambda: F.interpolate(minicnn.randn(1, 2, 3, 3), size=4, scale_factor=2), ValueError),
    (lambda: F.interpolate(minicnn.randn(1, 2, 3), size=4, mode="bilinear"), NotImplementedError),
    (lambda: F.conv_transpose2d(minicnn.randn(1, 3, 4, 4), minicnn.randn(2, 2, 3, 3)), RuntimeError),
    (lambda: F.group_norm(minicnn.randn(2, 5, 3), 2), RuntimeError),
    (lambda: F.binary_cross_entropy(minicnn.tensor([1.5]), minicnn.tensor([1.0])), RuntimeError),
    (lambda: F.embedding(minicnn.tensor([1.0]), minicnn.randn(3, 2)), RuntimeError),
    (lambda: nn.GroupNorm(4, 6), ValueError),
])
def test_bad_arguments_raise_torchs_error_types(call, error):
    with pytest.raises(error):
        call()
