#!/usr/bin/env python3
"""Independent cross-check of `mxlab eval`: a numpy-only Llama forward pass with OCP MX
round-to-nearest quantization of the linear layers' weights and inputs, written from the model
README and the OCP MX v1.0 text, sharing no code with mxlab.

  python3 tools/model/ref_eval.py --model ../shared/models/bytellama-7m \
      --text ../shared/models/bytellama-7m/data/wiki_test.txt --windows 2 \
      --weight-format mxint4 [--act-format mxint8] [--block-size 32]

Prints bits per byte. Formats: fp32 (no quantization), mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2,
mxfp6_e2m3, mxfp4_e2m1, mxintN (N >= 2: two's complement with an implicit scale 2^-(N-2)).
Scales: E8M0, X = 2^(floor(log2 amax) - emax_elem); elements round to nearest, ties to even,
saturating; blocks run along the reduction (last) axis.
"""
import argparse
import json
import struct

import numpy as np

# name -> (exponent bits, mantissa bits, emax of the element, largest finite value)
FLOATS = {
    "mxfp8_e4m3": (4, 3, 8, 448.0),
    "mxfp8_e5m2": (5, 2, 15, 57344.0),
    "mxfp6_e3m2": (3, 2, 4, 28.0),
    "mxfp6_e2m3": (2, 3, 2, 7.5),
    "mxfp4_e2m1": (2, 1, 2, 6.0),
}


def load_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        lo, hi = v["data_offsets"]
        buf = data[lo:hi]
        if v["dtype"] == "BF16":
            bits = np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        elif v["dtype"] == "F16":
            arr = np.frombuffer(buf, dtype=np.float16).astype(np.float32)
        elif v["dtype"] == "F32":
            arr = np.frombuffer(buf, dtype=np.float32)
        else:
            raise SystemExit(f"{path}: {name}: dtype {v['dtype']} not handled here")
        out[name] = arr.reshape(v["shape"])
    return out


def round_elements(y, fmt):
    """y: block values already divided by the shared scale (float64)."""
    if fmt.startswith("mxint"):
        bits = int(fmt[5:])
        unit = 2.0 ** (bits - 2)
        k = np.clip(np.round(y * unit), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        return k / unit
    ebits, mbits, _, maxv = FLOATS[fmt]
    emin = 2 - 2 ** (ebits - 1)  # 1 - bias
    a = np.abs(y)
    e = np.maximum(np.floor(np.log2(np.where(a > 0, a, 1.0))), emin)
    ulp = 2.0 ** (e - mbits)
    return np.sign(y) * np.minimum(np.round(a / ulp) * ulp, maxv)  # np.round: ties to even


def mx_quantize(x, fmt, block):
    if fmt == "fp32":
        return x
    emax = 0 if fmt.startswith("mxint") else FLOATS[fmt][2]
    x64 = x.astype(np.float64)
    out = np.empty_like(x64)
    for b0 in range(0, x.shape[-1], block):
        blk = x64[..., b0:b0 + block]
        amax = np.abs(blk).max(axis=-1, keepdims=True)
        exp = np.clip(np.floor(np.log2(np.where(amax > 0, amax, 1.0))) - emax, -127, 127)
        scale = 2.0 ** exp
        out[..., b0:b0 + block] = np.where(amax > 0, round_elements(blk / scale, fmt) * scale, 0.0)
    return out.astype(np.float32)


class Llama:
    def __init__(self, model_dir, wfmt, afmt, block):
        cfg = json.load(open(f"{model_dir}/config.json"))
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.hd = cfg["hidden_size"] // self.heads
        self.eps = cfg["rms_norm_eps"]
        self.theta = cfg.get("rope_theta", 10000.0)
        self.afmt, self.block = afmt, block
        w = load_safetensors(f"{model_dir}/model.safetensors")
        if "lm_head.weight" not in w:
            w["lm_head.weight"] = w["model.embed_tokens.weight"]
        for name in w:
            if name.endswith("_proj.weight") or name == "lm_head.weight":
                w[name] = mx_quantize(w[name], wfmt, block)
        self.w = w

    def linear(self, x, name):
        return mx_quantize(x, self.afmt, self.block) @ self.w[name].T

    def norm(self, x, name):
        var = (x.astype(np.float64) ** 2).mean(-1, keepdims=True)
        return (x / np.sqrt(var + self.eps)).astype(np.float32) * self.w[name]

    def logits(self, tokens):
        w, hd, t = self.w, self.hd, len(tokens)
        x = w["model.embed_tokens.weight"][tokens]
        inv = self.theta ** (-np.arange(0, hd, 2) / hd)
        ang = np.arange(t)[:, None] * inv[None, :]
        cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)

        def rope(q):
            a, b = q[..., :hd // 2], q[..., hd // 2:]
            return np.concatenate([a * cos - b * sin, b * cos + a * sin], -1)

        mask = np.triu(np.full((t, t), -np.inf, dtype=np.float32), 1)
        for l in range(self.layers):
            p = f"model.layers.{l}."
            h = self.norm(x, p + "input_layernorm.weight")
            q = self.linear(h, p + "self_attn.q_proj.weight").reshape(t, self.heads, hd)
            k = self.linear(h, p + "self_attn.k_proj.weight").reshape(t, self.kv_heads, hd)
            v = self.linear(h, p + "self_attn.v_proj.weight").reshape(t, self.kv_heads, hd)
            rep = self.heads // self.kv_heads
            q = rope(q.transpose(1, 0, 2))
            k = rope(np.repeat(k.transpose(1, 0, 2), rep, axis=0))
            v = np.repeat(v.transpose(1, 0, 2), rep, axis=0)
            s = q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(hd)) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(1, 0, 2).reshape(t, self.heads * hd)
            x = x + self.linear(a, p + "self_attn.o_proj.weight")
            h = self.norm(x, p + "post_attention_layernorm.weight")
            g = self.linear(h, p + "mlp.gate_proj.weight")
            u = self.linear(h, p + "mlp.up_proj.weight")
            x = x + self.linear(g / (1 + np.exp(-g)) * u, p + "mlp.down_proj.weight")
        return self.linear(self.norm(x, "model.norm.weight"), "lm_head.weight")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--windows", type=int, default=2)
    ap.add_argument("--window-size", type=int, default=512)
    ap.add_argument("--weight-format", default="fp32")
    ap.add_argument("--act-format", default="fp32")
    ap.add_argument("--block-size", type=int, default=32)
    a = ap.parse_args()
    model = Llama(a.model, a.weight_format, a.act_format, a.block_size)
    text = np.frombuffer(open(a.text, "rb").read(), dtype=np.uint8).astype(np.int64)
    ws, nats = a.window_size, 0.0
    for i in range(a.windows):
        seq = text[i * ws:i * ws + ws + 1]
        lg = model.logits(seq[:-1]).astype(np.float64)
        m = lg.max(-1)
        lse = m + np.log(np.exp(lg - m[:, None]).sum(-1))
        nats += float((lse - lg[np.arange(ws), seq[1:]]).sum())
    bpb = nats / (a.windows * ws) / np.log(2)
    print(f"bits per byte {bpb:.6f} ({a.windows} windows, weights {a.weight_format}, "
          f"activations {a.act_format}, blocks of {a.block_size})")


if __name__ == "__main__":
    main()
