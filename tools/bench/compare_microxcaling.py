#!/usr/bin/env python3
"""Times microsoft/microxcaling's CPU quantize_mx_op on a 4096x4096 fp32 tensor (one torch
thread) next to `mxlab quantize --threads 1` on the same data, and checks the two outputs
agree bit for bit (mxlab --compat microxcaling).

usage: compare_microxcaling.py MICROXCALING_CHECKOUT MXLAB_BINARY
(needs torch and numpy in the running Python; the checkout is not part of mxlab)"""
import subprocess, sys, tempfile, time, os
import numpy as np
import torch

repo, mxlab = sys.argv[1], sys.argv[2]
sys.path.insert(0, repo)
from mx.mx_ops import quantize_mx_op  # noqa: E402
from mx.specs import MxSpecs  # noqa: E402

torch.set_num_threads(1)
specs = MxSpecs()
specs['scale_bits'] = 8
specs['shared_exp_method'] = 'max'
specs['mx_flush_fp32_subnorms'] = False
specs['custom_cuda'] = False
x = np.random.default_rng(0).standard_normal((4096, 4096)).astype(np.float32)
n = x.size
with tempfile.TemporaryDirectory() as d:
    np.save(f'{d}/x.npy', x)
    for fmt, mxfmt in [('fp8_e4m3', 'mxfp8_e4m3'), ('fp4_e2m1', 'mxfp4_e2m1'), ('int8', 'mxint8')]:
        t0 = time.perf_counter()
        ref = quantize_mx_op(torch.from_numpy(x), specs, elem_format=fmt, block_size=32,
                             axes=[-1], round='even').numpy()
        t_mc = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([mxlab, 'quantize', '--input', f'{d}/x.npy', '--output', f'{d}/y.npy',
                        '--format', mxfmt, '--rounding', 'nearest-even', '--compat',
                        'microxcaling', '--threads', '1'], check=True)
        t_cli = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([mxlab, 'quantize', '--input', f'{d}/x.npy', '--output', f'{d}/z.npy',
                        '--format', mxfmt, '--threads', '1'], check=True)
        t_ocp = time.perf_counter() - t0
        y = np.load(f'{d}/y.npy')
        same = np.array_equal(y.view(np.uint32), ref.view(np.uint32))
        print(f'{mxfmt}: microxcaling {n / t_mc / 1e6:.1f} M elem/s ({t_mc:.2f} s); '
              f'mxlab --compat microxcaling end to end {t_cli:.2f} s ({t_mc / t_cli:.0f}x); '
              f'mxlab ocp end to end {t_ocp:.2f} s ({t_mc / t_ocp:.0f}x); bit-identical: {same}')
