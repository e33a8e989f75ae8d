"""examples/lenet_tutorial.py runs and its loss falls."""
import pathlib
import runpy

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "lenet_tutorial.py"


def test_lenet_tutorial_trains_and_the_loss_falls(capsys):
    namespace = runpy.run_path(str(EXAMPLE))  # defines Net and main without running them
    losses = namespace["main"](steps=20)
    printed = capsys.readouterr().out
    assert "Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))" in printed and "step  20" in printed
    assert len(losses) == 20
    # The first few losses sit near ln(10) = 2.30 (chance); the last few must be clearly lower.
    assert sum(losses[:3]) / 3 > 2.2
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3


def test_lenet_tutorial_net_matches_the_tutorial_shapes():
    import minicnn

    net = runpy.run_path(str(EXAMPLE))["Net"]()
    assert net(minicnn.randn(2, 3, 32, 32)).shape == (2, 10)
    assert sum(p.numel() for p in net.parameters()) == 62006  # the tutorial's LeNet has 62,006 parameters
