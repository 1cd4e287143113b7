import numpy as np
import torch

from inkstroke.calligraphy import brush, torch_brush
from inkstroke.calligraphy.brush import BrushParams
from inkstroke.calligraphy.profiles import default_trajectory
from inkstroke.io.hanzi import character_ink


def padded(traj, size):
    """The numpy brush's footprints of a trajectory as a padded torch batch."""
    xyzs = [brush.resample_stroke(s, brush.STAMP_SPACING * 1024 / size) for s in traj.strokes]
    m = max(len(x) for x in xyzs)
    xyz = np.stack([np.vstack([x, np.repeat(x[-1:], m - len(x), axis=0)]) for x in xyzs])
    valid = np.stack([np.arange(m) < len(x) for x in xyzs])
    return torch.tensor(xyz, dtype=torch.float64), torch.from_numpy(valid)


def test_torch_brush_draws_what_the_numpy_brush_draws():
    torch.set_num_threads(1)
    traj = default_trajectory(character_ink("永"))
    for params in (BrushParams(), BrushParams(ink_capacity=20_000.0, dip_every=0)):
        want = brush.render(traj, 128, params, seed=3)
        xyz, valid = padded(traj, 128)
        got = torch_brush.render(
            xyz, valid, 128, params=params, tables=torch_brush.bristle_tables(len(xyz), 3)
        )
        assert np.abs(got.numpy() - want).max() < 1e-4
        assert want.sum() > 100


def test_ema_agrees_with_numpy():
    rng = np.random.default_rng(1)
    target, alpha = rng.normal(size=(2, 150, 3)), rng.uniform(0, 1, (2, 150))
    got = torch_brush.ema(torch.tensor(target), torch.tensor(alpha), torch.zeros(2, 3)).numpy()
    for k in range(2):
        np.testing.assert_allclose(got[k], brush.ema(target[k], alpha[k], np.zeros(3)), atol=1e-9)


def stroke_gradient(target: torch.Tensor) -> torch.Tensor:
    """d MSE / d (x, y, z) of a horizontal stroke at y = 500, z = 50 (7.4 pixels wide at 128)."""
    xs = torch.linspace(300.0, 700.0, 60)
    xyz = torch.stack([xs, torch.full_like(xs, 500.0), torch.full_like(xs, 50.0)], -1)[
        None
    ].requires_grad_(True)
    img = torch_brush.render(xyz, torch.ones(1, 60, dtype=torch.bool), 128)
    torch.nn.functional.mse_loss(img, target).backward()
    assert torch.isfinite(xyz.grad).all()
    return xyz.grad[0]


def test_gradients_pull_a_stroke_toward_its_target():
    torch.set_num_threads(1)
    lower = torch.zeros(128, 128)
    lower[62:70, 40:88] = 1.0  # as wide, 3 pixels lower (y down)
    assert stroke_gradient(lower)[:, 1].sum() < 0  # moving down lowers the loss
    thinner = torch.zeros(128, 128)
    thinner[61:64, 40:88] = 1.0  # same centre line, 3 pixels wide
    grad = stroke_gradient(thinner)
    assert grad[:, 2].sum() > 0  # pressing less lowers the loss
    assert abs(grad[:, 1].sum()) < 0.1 * grad[:, 2].sum()
