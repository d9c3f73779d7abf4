#!/usr/bin/env python3
"""wgmma.mma_async FP8 probe (issue 19): the Hopper instruction itself, without cuBLAS.

On the GPU machine (nvcc, numpy):

    python3 tools/hw/wgmma_probe.py capture --out DIR [--seed 23]

builds tools/hw/wgmma_probe.cu for sm_90a, records the SASS opcode histogram and the wgmma
lines of `cuobjdump -sass` (DIR/wgmma_sass.txt), runs m64n64k32 tiles for e4m3/e5m2 A and B
at K = 32 (one instruction) and chains of 2, 4, 32 (and 128 for e4m3) instructions (the accumulator
registers start as C; every instruction adds into them), and writes DIR/wgmma.npz. Here:

    python3 tools/hw/wgmma_probe.py assemble --capture DIR/wgmma.npz --out wgmma.h5

writes an mxlab-hwprobe-v1 file (one group per combination and K; every data kind of
tools/hw/probe.py, C included) for `mxlab hwcheck` / `hwfit`.
"""
import argparse, json, os, subprocess, sys, time
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import probe  # noqa: E402
from scaled_mm_probe import convert_codes, fp8_values  # noqa: E402

COMBOS = [("e4m3", "e4m3"), ("e4m3", "e5m2"), ("e5m2", "e4m3"), ("e5m2", "e5m2")]
KS = [32, 64, 128, 1024]  # and 4096 for e4m3 x e4m3


def tiles_for(K):
    return 4 if K <= 128 else 1


def gen(rng, fa, fb, K):
    As, Bs, Cs, ks = [], [], [], []
    T = tiles_for(K)
    for kid, kind in enumerate(probe.KINDS):
        A, B, C = probe.gen_kind(rng, kind, fa, T, 64, 64, K)
        if fb != fa:
            B = convert_codes(B, fa, fb)
        As.append(A.astype(np.uint8)); Bs.append(B.astype(np.uint8)); Cs.append(C)
        ks.append(np.full(T, kid, np.uint8))
    return map(np.concatenate, (As, Bs, Cs, ks))


def exact(A, B, C, fa, fb):
    va, vb = fp8_values(fa)[A], fp8_values(fb)[B]
    with np.errstate(invalid="ignore", over="ignore"):
        return np.einsum("tmk,tnk->tmn", va, vb) + C


def capture(args):
    os.makedirs(args.out, exist_ok=True)
    binary = os.path.join(args.out, "wgmma_probe")
    r = subprocess.run(["nvcc", "-O2", "-std=c++17", "-gencode", "arch=compute_90a,code=sm_90a",
                        "-o", binary, os.path.join(HERE, "wgmma_probe.cu")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("nvcc failed:\n" + r.stderr)
    sass = probe.sh(f"cuobjdump -sass {binary}")
    with open(os.path.join(args.out, "wgmma_sass.txt"), "w") as f:
        f.write(sass)
    prov = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seed": args.seed,
            "nvidia_smi": probe.sh("nvidia-smi --query-gpu=name,driver_version,compute_cap "
                                   "--format=csv,noheader"),
            "nvcc": probe.sh("nvcc --version | tail -2"), "arch": "sm_90a",
            "sass": probe.sass_summary(binary), "command": " ".join(sys.argv)}
    rng = np.random.default_rng(args.seed)
    store, groups = {}, {}
    layout = None
    tmp = os.path.join(args.out, "tmp")
    for fa, fb in COMBOS:
        for K in KS + ([4096] if (fa, fb) == ("e4m3", "e4m3") else []):
            A, B, C, kk = gen(rng, fa, fb, K)
            A.tofile(tmp + ".a"); B.tofile(tmp + ".b"); C.astype(np.float32).tofile(tmp + ".c")
            ref = exact(A, B, C, fa, fb)
            tries = [layout] if layout else [(128, 256), (256, 128)]
            best = None
            for lbo, sbo in tries:
                r = subprocess.run([binary, fa + fb, str(len(kk)), str(K), str(lbo), str(sbo),
                                    tmp + ".a", tmp + ".b", tmp + ".c", tmp + ".d"],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    sys.exit(f"wgmma_probe failed: {r.stderr}")
                D = np.fromfile(tmp + ".d", np.float32).reshape(len(kk), 64, 64)
                sel = kk == probe.KINDS.index("normal")
                err = np.abs(D[sel] - ref[sel]) / np.maximum(np.abs(ref[sel]), 1e-3)
                med = float(np.median(err))
                print(fa, fb, K, (lbo, sbo), "median rel. error vs exact (normal):", med, flush=True)
                if best is None or med < best[0]:
                    best = (med, (lbo, sbo), D.copy())
            layout = best[1]
            name = f"wgmma_{fa}_{fb}_k{K}"
            store[name + ".a"], store[name + ".b"], store[name + ".c"] = A, B, C
            store[name + ".d"], store[name + ".kind"] = best[2].view(np.uint32), kk
            groups[name] = dict(fa=fa, fb=fb, k=K, lbo=layout[0], sbo=layout[1],
                                median_rel_err=best[0])
    for p in "abcd":
        try:
            os.remove(tmp + "." + p)
        except OSError:
            pass
    store["meta"] = np.frombuffer(json.dumps({"provenance": prov, "groups": groups}).encode(),
                                  np.uint8)
    np.savez_compressed(os.path.join(args.out, "wgmma.npz"), **store)
    print("wrote", os.path.join(args.out, "wgmma.npz"), json.dumps(prov["sass"]))


def assemble(args):
    import h5py
    z = np.load(args.capture)
    info = json.loads(bytes(z["meta"]).decode())
    with h5py.File(args.out + ".tmp", "w") as f:
        f.attrs["layout"] = "mxlab-hwprobe-v1"
        f.attrs["provenance"] = json.dumps(info["provenance"], indent=1)
        for name, m in info["groups"].items():
            h = f.create_group(name)
            h.attrs["op"] = f"wgmma.mma_async.m64n64k32.f32.{m['fa']}.{m['fb']}"
            h.attrs["format_a"], h.attrs["format_b"] = m["fa"], m["fb"]
            h.attrs["m"], h.attrs["n"], h.attrs["k"] = 64, 64, m["k"]
            h.attrs["kinds"] = "\n".join(probe.KINDS)
            h.attrs["note"] = ("inline-PTX wgmma, A and B in shared memory (K-major, no "
                               "swizzle), accumulator starts as C, K/32 chained instructions")
            for k in ("a", "b", "c", "d", "kind"):
                h.create_dataset(k, data=z[name + "." + k], compression="gzip",
                                 compression_opts=4)
    os.replace(args.out + ".tmp", args.out)
    print("wrote", args.out)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--out", required=True)
    c.add_argument("--seed", type=int, default=23)
    a = sub.add_parser("assemble")
    a.add_argument("--capture", required=True)
    a.add_argument("--out", required=True)
    args = ap.parse_args()
    capture(args) if args.cmd == "capture" else assemble(args)


if __name__ == "__main__":
    main()
