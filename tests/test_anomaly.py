"""Anomaly mode (minicnn.autograd.detect_anomaly) and the trainer stopping a diverging run."""
import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.anomaly import AnomalyError
from minicnn.data import ArrayImageDataset, DataLoader
from minicnn.training import Trainer, TrainingDiverged, load_checkpoint

F = minicnn.functional


class Log(nn.Module):
    def forward(self, input):
        return input.log()


def _model_with_a_log_inside():
    return nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.Identity(), Log()))


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with np.errstate(all="ignore"):
        yield


def test_a_forward_that_makes_a_nan_is_named_with_its_layer(device):
    model = _model_with_a_log_inside().to(device)
    with minicnn.autograd.detect_anomaly():
        x = minicnn.tensor(np.array([[-5.0, -5.0, -5.0]]), device=device, dtype=minicnn.float32)
        with pytest.raises(AnomalyError, match=r"^Function 'Log' returned nan values in its forward output "
                                               r"in layer '1.1' \(Log\)$"):
            model(x)


def test_anomaly_error_is_a_runtime_error_as_torchs():
    assert issubclass(AnomalyError, RuntimeError)


def test_a_backward_that_makes_an_inf_is_named(device):
    x = minicnn.tensor([0.0, 4.0], requires_grad=True, device=device)
    with minicnn.autograd.detect_anomaly():
        y = x.sqrt().sum()
        with pytest.raises(RuntimeError, match=r"Function 'SqrtBackward' returned inf values in its 0th output "
                                               r"outside any module"):
            y.backward()
    assert x.grad is None  # the bad gradient never reached the leaf


def test_a_non_finite_input_is_reported_as_coming_from_outside(device):
    x = minicnn.tensor([float("nan"), 1.0], device=device)
    with minicnn.autograd.detect_anomaly(), pytest.raises(AnomalyError, match="got nan values in its input 0"):
        x * 2


def test_the_mode_is_off_by_default_and_restored_after_the_block_even_on_error():
    assert not minicnn.autograd.is_anomaly_enabled()
    with pytest.raises(ValueError):
        with minicnn.autograd.detect_anomaly():
            assert minicnn.autograd.is_anomaly_enabled()
            raise ValueError("boom")
    assert not minicnn.autograd.is_anomaly_enabled()


def test_detect_anomaly_works_as_a_decorator_and_set_detect_anomaly_as_a_call():
    @minicnn.autograd.detect_anomaly()
    def inside():
        return minicnn.autograd.is_anomaly_enabled()

    assert inside() and not minicnn.autograd.is_anomaly_enabled()
    minicnn.autograd.set_detect_anomaly(True)
    try:
        assert minicnn.autograd.is_anomaly_enabled()
    finally:
        minicnn.autograd.set_detect_anomaly(False)
    assert not minicnn.autograd.is_anomaly_enabled()


def test_off_the_mode_records_nothing_on_the_graph():
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    y = nn.Sequential(nn.Identity())(x * 2)
    assert "_anomaly_modules" not in y.grad_fn.__dict__
    with minicnn.autograd.detect_anomaly():
        z = x * 2
    assert z.grad_fn._anomaly_modules == ()


def test_finite_values_pass_through_anomaly_mode_unchanged(device):
    model = _model_with_a_log_inside().to(device)
    x = minicnn.tensor(np.full((2, 3), 0.5), device=device, dtype=minicnn.float32)
    for layer in (model[0],):
        layer.weight.data = minicnn.tensor(np.eye(3), device=device, dtype=minicnn.float32)
        layer.bias.data = minicnn.zeros(3, device=device)
    plain = model(x)
    with minicnn.autograd.detect_anomaly():
        checked = model(x)
    np.testing.assert_array_equal(minicnn.backend.to_host(plain.array), minicnn.backend.to_host(checked.array))


# ----------------------------------------------------------------------------------------------
# fit stops a diverging run
# ----------------------------------------------------------------------------------------------

def _loader():
    rng = np.random.default_rng(0)
    images = (rng.random((64, 6, 6, 1)) * 255).astype(np.uint8)
    dataset = ArrayImageDataset(images, rng.integers(0, 2, 64), classes=["a", "b"])
    return DataLoader(dataset, batch_size=16, seed=0)


def _trainer(tmp_path, device, **options):
    minicnn.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.1)
    return Trainer(model, optimizer, device=device, out_dir=tmp_path, progress=False, plot=False, log=None,
                   **options)


@pytest.mark.parametrize("anomaly", [False, True], ids=["plain", "detect_anomaly"])
def test_fit_stops_at_the_first_non_finite_loss_and_keeps_the_last_good_checkpoint(anomaly, tmp_path, device):
    trainer = _trainer(tmp_path, device, detect_anomaly=anomaly)
    loader = _loader()
    trainer.fit(loader, epochs=1)
    good = load_checkpoint(tmp_path / "best.npz").model_state
    trainer.optimizer.param_groups[0]["lr"] = 1e30
    with pytest.raises(TrainingDiverged, match=r"^training diverged at epoch 2, step \d: ") as stop:
        trainer.fit(loader, epochs=3)
    assert stop.value.epoch == 2 and 1 <= stop.value.step <= 4
    assert ("in layer '" in str(stop.value)) == anomaly
    assert "kept the checkpoints of epoch 1" in str(stop.value)
    for name in ("best", "last"):
        kept = load_checkpoint(tmp_path / f"{name}.npz")
        assert kept.epoch == 1 and len(kept.history) == 1
        for key, value in kept.model_state.items():
            np.testing.assert_array_equal(np.asarray(value), np.asarray(good[key]))
    assert trainer.epoch == 1 and len(trainer.history) == 1


def test_a_nan_gradient_under_a_finite_loss_stops_the_run(tmp_path, device):
    def loss_with_a_bad_gradient(logits, labels):  # sqrt'(0) is infinite: the loss stays finite
        return F.cross_entropy(logits, labels) + (logits * 0.0).sum().sqrt()

    trainer = _trainer(tmp_path, device, loss_fn=loss_with_a_bad_gradient)
    with pytest.raises(TrainingDiverged, match=r"epoch 1, step 1: a gradient is nan \(the loss was"):
        trainer.fit(_loader(), epochs=1)
    assert not (tmp_path / "best.npz").exists()


def test_a_buffer_gone_non_finite_is_never_saved(tmp_path, device):
    class Poisoned(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("level", minicnn.zeros(1))

        def forward(self, input):
            self.level.array[...] = float("inf")
            return input

    trainer = _trainer(tmp_path, device)
    trainer.model.add_module("poison", Poisoned().to(device))
    with pytest.raises(TrainingDiverged, match=r"the end of epoch 1: poison.level holds NaN or infinite values"):
        trainer.fit(_loader(), epochs=1)
    assert not (tmp_path / "last.npz").exists()
