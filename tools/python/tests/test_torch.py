"""mxlab.torch: fake_quant values and straight-through gradients (pass-through inside the
range, zero where the value saturated), MXLinear forward against mxlab.gemm of the quantized
operands, quantize_model_."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import mxlab  # noqa: E402
import mxlab.torch as mxt  # noqa: E402
from conftest import same_bits  # noqa: E402


def test_fake_quant_values_and_no_copy_input():
    x = torch.randn(4, 64, dtype=torch.float32)
    y = mxt.fake_quant(x, "mxfp8_e4m3")
    assert same_bits(y.numpy(), mxlab.quantize(x.numpy(), "mxfp8_e4m3"))
    assert y.dtype == x.dtype and y.shape == x.shape
    assert np.shares_memory(mxt._to_numpy(x), x.numpy())  # the bridge does not copy


def grad_of(x, fmt, **kw):
    x = x.clone().requires_grad_(True)
    mxt.fake_quant(x, fmt, **kw).sum().backward()
    return x.grad


def test_ste_passes_gradient_inside_the_range():
    x = torch.randn(8, 64, dtype=torch.float64) * 3
    for fmt in ("mxfp8_e4m3", "mxfp4_e2m1", "mxint8", "mxfp6_e2m3"):
        # rceil: the block maximum never saturates, so nothing is clipped
        g = grad_of(x, fmt, scale_rule="rceil")
        assert torch.equal(g, torch.ones_like(x)), fmt


def test_ste_zero_where_saturated():
    # e4m3, floor rule: amax 500 gives scale 2^(8-8) = 1 and element max 448: 500 saturates.
    x = torch.ones(1, 32, dtype=torch.float32)
    x[0, 0], x[0, 1], x[0, 2] = 500.0, -480.0, 440.0
    g = grad_of(x, "mxfp8_e4m3")
    want = torch.ones_like(x)
    want[0, 0] = want[0, 1] = 0
    assert torch.equal(g, want)
    # MXINT8: amax 1.99 gives scale 1, range [-2, 127/64]: 1.99 saturates, -1.99 does not.
    x = torch.zeros(1, 32, dtype=torch.float32)
    x[0, 0], x[0, 1], x[0, 2], x[0, 3] = 1.99, -1.99, -1.5, 1.5
    g = grad_of(x, "mxint8")
    want = torch.ones_like(x)
    want[0, 0] = 0
    assert torch.equal(g, want)
    # element-wise e4m3: beyond 448 clipped
    x = torch.tensor([1000.0, -449.5, 448.0, 3.0])
    assert torch.equal(grad_of(x, "e4m3"), torch.tensor([0.0, 0.0, 1.0, 1.0]))


def test_ste_gradient_scales_upstream_gradient():
    x = torch.tensor([[500.0] + [1.0] * 31]).requires_grad_(True)
    up = torch.arange(32.0).reshape(1, 32)
    mxt.fake_quant(x, "mxfp8_e4m3").backward(up)
    assert x.grad[0, 0] == 0 and torch.equal(x.grad[0, 1:], up[0, 1:])


@pytest.mark.parametrize("accum", ["exact", "fp32-seq", "h100-cublas-fp8"])
def test_mxlinear_forward_equals_gemm(accum):
    torch.manual_seed(0)
    lin = mxt.MXLinear(64, 16, bias=True, weight_format="mxfp8_e4m3", act_format="mxfp8_e5m2",
                       accum=accum)
    x = torch.randn(2, 5, 64)
    y = lin(x)
    ref = mxlab.gemm(x.reshape(-1, 64).numpy(), lin.weight.detach().numpy().T,
                     format="mxfp8_e5m2", format_b="mxfp8_e4m3", accum=accum)
    ref = torch.from_numpy(ref) + lin.bias.detach()
    assert y.shape == (2, 5, 16)
    assert same_bits(y.detach().reshape(-1, 16).numpy(), ref.numpy())
    y.sum().backward()
    assert lin.weight.grad is not None and lin.weight.grad.shape == lin.weight.shape


def test_mxlinear_fake_quant_path():
    torch.manual_seed(1)
    lin = mxt.MXLinear(32, 8, weight_format="mxint8", act_format="mxint8")
    x = torch.randn(3, 32, requires_grad=True)
    y = lin(x)
    wq = mxlab.quantize(lin.weight.detach().numpy(), "mxint8")
    xq = mxlab.quantize(x.detach().numpy(), "mxint8")
    ref = torch.nn.functional.linear(torch.from_numpy(xq), torch.from_numpy(wq), lin.bias)
    assert torch.equal(y, ref)
    y.sum().backward()
    assert x.grad.shape == x.shape


def test_quantize_model_swaps_every_linear():
    model = torch.nn.Sequential(torch.nn.Linear(32, 32), torch.nn.ReLU(),
                                torch.nn.Sequential(torch.nn.Linear(32, 4)))
    w0 = model[0].weight
    mxt.quantize_model_(model, weight_format="mxfp4_e2m1", act_format="mxfp8_e4m3")
    assert isinstance(model[0], mxt.MXLinear) and isinstance(model[2][0], mxt.MXLinear)
    assert model[0].weight is w0  # parameters shared, not copied
    out = model(torch.randn(2, 32))
    assert out.shape == (2, 4)


def test_cpu_only_and_bad_format():
    with pytest.raises(ValueError, match="--format"):
        mxt.fake_quant(torch.ones(4), "mxfp3")
