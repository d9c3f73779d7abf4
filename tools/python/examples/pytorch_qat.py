"""PyTorch user: swap every nn.Linear of a model for MXLinear (MX fake quantization with a
straight-through estimator) and train a few steps; then run one layer's product through the
H100 cuBLAS fp8 accumulator model."""
import torch

import mxlab.torch as mxt

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.GELU(), torch.nn.Linear(128, 10))
mxt.quantize_model_(model, weight_format="mxfp4_e2m1", act_format="mxfp8_e4m3")
opt = torch.optim.SGD(model.parameters(), lr=0.05)
x, target = torch.randn(256, 64), torch.randint(0, 10, (256,))
for step in range(20):
    loss = torch.nn.functional.cross_entropy(model(x), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"loss after 20 MX-QAT steps: {loss.item():.4f}")

layer = mxt.MXLinear.from_linear(model[2], weight_format="e4m3", act_format="e4m3",
                                 accum="h100-cublas-fp8")
print("emulated H100 fp8 GEMM output:", layer(model[1](model[0](x[:2]))).detach()[0, :4])
