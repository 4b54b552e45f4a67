#!/usr/bin/env python3
"""OpenBLAS side of the "why oneDNN" measurement (bench/why_onednn.ts runs the oneDNN side).

Koch conv2 forward (7x7, 64->128 channels, 48x48 -> 42x42) as im2col + OpenBLAS sgemm, and the
Koch dense layer (64x9216 @ 9216x4096) as one sgemm. numpy here is Debian's, on libblas.so.3 =
OpenBLAS (pthread) when libopenblas0-pthread is installed. Prints JSON.
"""
import json
import time

import numpy as np


def best(f, reps=3):
    f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


n, h, w, ci, co, k = 8, 48, 48, 64, 128, 7
oh, ow = h - k + 1, w - k + 1
x = np.random.rand(n, h, w, ci).astype(np.float32)
wt = np.random.rand(k * k * ci, co).astype(np.float32)


def im2col_gemm():
    cols = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))  # n, oh, ow, ci, k, k
    cols = np.ascontiguousarray(cols.transpose(0, 1, 2, 4, 5, 3)).reshape(n * oh * ow, k * k * ci)
    return cols @ wt


def gemm_only():
    return cols_ready @ wt


cols_ready = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)).reshape(n * oh * ow, k * k * ci)
a = np.random.rand(64, 9216).astype(np.float32)
b = np.random.rand(9216, 4096).astype(np.float32)
flops_conv = 2 * n * oh * ow * co * k * k * ci
print(json.dumps({
    "conv_im2col_gemm_s": best(im2col_gemm),
    "conv_gemm_only_s": best(gemm_only),
    "conv_gflop": flops_conv / 1e9,
    "im2col_bytes_per_image": cols_ready.nbytes // n,
    "dense_gemm_s": best(lambda: a @ b),
    "dense_gflop": 2 * 64 * 9216 * 4096 / 1e9,
}))
