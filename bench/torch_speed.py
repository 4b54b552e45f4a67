#!/usr/bin/env python3
"""PyTorch reference for bench/speed.ts: the same workloads, layer for layer, on CPU.

Prints one JSON object. Run with the Debian torch: /usr/bin/python3 bench/torch_speed.py ...
--weights DIR loads the Conv-4 inference weights written by speed.ts (TF.js layout), so outputs
can be compared; --onnx-out writes that model through torch.onnx (ONNX Runtime's reference
graph: NCHW input, batch norm as torch exports it).
"""
import argparse
import contextlib
import json
import os
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # speed.ts reports this as "PyTorch missing"
    print(json.dumps({"error": f"torch not importable: {e}"}))
    sys.exit(0)


def conv4():
    layers = []
    for i in range(4):
        layers += [nn.Conv2d(1 if i == 0 else 64, 64, 3, padding=1), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01),
                   nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*layers, nn.Flatten())


def koch():
    return nn.Sequential(
        nn.Conv2d(1, 64, 10), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 7), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 128, 4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 256, 4), nn.ReLU(), nn.Flatten(),
        nn.Linear(9216, 4096), nn.Sigmoid())


def load_conv4_weights(model, directory):
    """Weights written by speed.ts: manifest.json + raw little-endian float32 files (TF.js layout)."""
    import numpy as np
    manifest = json.load(open(os.path.join(directory, "manifest.json")))
    arrays = {e["name"]: np.fromfile(os.path.join(directory, e["file"]), dtype="<f4").reshape(e["shape"]) for e in manifest}
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    bns = [m for m in model if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for i, (c, b) in enumerate(zip(convs, bns)):
            c.weight.copy_(torch.from_numpy(arrays[f"conv{i}/kernel"].transpose(3, 2, 0, 1).copy()))  # HWIO -> OIHW
            c.bias.copy_(torch.from_numpy(arrays[f"conv{i}/bias"]))
            b.weight.copy_(torch.from_numpy(arrays[f"bn{i}/gamma"]))
            b.bias.copy_(torch.from_numpy(arrays[f"bn{i}/beta"]))
            b.running_mean.copy_(torch.from_numpy(arrays[f"bn{i}/moving_mean"]))
            b.running_var.copy_(torch.from_numpy(arrays[f"bn{i}/moving_variance"]))


def reduced(bf16):
    """PyTorch's own mixed precision for CPU training: forward and loss under autocast (bf16
    convolutions and matmuls, fp32 master weights and reductions), backward outside it."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def conv4_episode(fmt, way=60, shot=5, query=5, bf16=False):
    """One prototypical-network training step on a 600-image episode, built once: (step, items)."""
    model = conv4().to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    x = torch.rand(way * (shot + query), 1, 28, 28).to(memory_format=fmt)
    labels = torch.arange(way).repeat_interleave(query)

    def step():
        with reduced(bf16):
            emb = model(x)
            support, queries = emb[: way * shot], emb[way * shot:]
            protos = support.reshape(way, shot, -1).mean(1)
            d = (queries.pow(2).sum(1, keepdim=True) - 2 * queries @ protos.t() + protos.pow(2).sum(1)[None])
            loss = F.cross_entropy(-d, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step, x.shape[0]


def koch_pair(fmt, pairs=32, bf16=False):
    """One Siamese pair step (shared Koch encoder, |a-b|, dense-1, BCE), built once: (step, items)."""
    enc = koch().to(memory_format=fmt)
    head = nn.Linear(4096, 1)
    opt = torch.optim.Adam(list(enc.parameters()) + list(head.parameters()), lr=1e-4, eps=1e-7)
    left = torch.rand(pairs, 1, 105, 105).to(memory_format=fmt)
    right = torch.rand(pairs, 1, 105, 105).to(memory_format=fmt)
    same = (torch.arange(pairs) % 2).float()[:, None]

    def step():
        with reduced(bf16):
            both = enc(torch.cat([left, right]))
            a_, b_ = both.chunk(2)
            loss = F.binary_cross_entropy_with_logits(head((a_ - b_).abs()), same)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step, pairs


def timed(step, reps, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return times


def onednn_status():
    return {"mkldnn_available": torch.backends.mkldnn.is_available(), "mkldnn_enabled": torch.backends.mkldnn.enabled,
            "onednn": next((l.strip() for l in torch.__config__.show().splitlines() if "MKL-DNN" in l or "oneDNN" in l), None),
            "cpu_capability": next((l.split(":")[-1].strip() for l in torch.__config__.show().splitlines() if "CPU capability" in l), None)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True, choices=["conv4-episode", "koch-pair", "conv4-infer"])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=256, help="inference batch")
    p.add_argument("--calls", type=int, default=1, help="inference calls per timed step (small batches)")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--bf16", action="store_true", help="training: torch.autocast('cpu', dtype=torch.bfloat16)")
    p.add_argument("--weights", help="Conv-4 weights exported by speed.ts")
    p.add_argument("--onnx-out", help="write the Conv-4 (eval mode) as ONNX here, then exit")
    p.add_argument("--reference", help="TF.js output (raw float32) to compare the inference output with")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "channels_last": a.channels_last,
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "autocast_bf16": a.bf16, **onednn_status()}

    if a.workload == "conv4-episode":
        step, items = conv4_episode(fmt, bf16=a.bf16)
    elif a.workload == "koch-pair":
        step, items = koch_pair(fmt, bf16=a.bf16)
    else:
        batch = a.batch
        model = conv4().eval()
        if a.weights:
            load_conv4_weights(model, a.weights)
        if a.onnx_out:
            torch.onnx.export(model, torch.rand(1, 1, 28, 28), a.onnx_out, input_names=["images"], output_names=["embeddings"],
                              dynamic_axes={"images": {0: "batch"}, "embeddings": {0: "batch"}}, opset_version=13)
            print(json.dumps({"onnx": a.onnx_out, **result}))
            return
        model = model.to(memory_format=fmt)
        x = torch.rand(batch, 1, 28, 28)
        if a.weights and os.path.exists(os.path.join(a.weights, f"input{batch}.bin")):
            import numpy as np
            x = torch.from_numpy(np.fromfile(os.path.join(a.weights, f"input{batch}.bin"), dtype="<f4").reshape(batch, 1, 28, 28))
        x = x.contiguous(memory_format=fmt)

        def forward():
            with torch.no_grad():
                return model(x)

        def step():
            for _ in range(a.calls):
                forward()
        items = batch * a.calls
        if a.reference:
            import numpy as np
            ref = np.fromfile(a.reference, dtype="<f4")
            result["max_abs_diff_vs_tfjs"] = float(np.abs(forward().numpy().reshape(-1) - ref).max())

    for _ in range(a.warmup):
        step()
    cpu0 = time.process_time()
    times = timed(step, a.reps, 0)
    cpu_per_item = (time.process_time() - cpu0) / (items * a.reps)  # all threads' CPU seconds
    med = statistics.median(times)
    result.update({"workload": a.workload, "items": items, "times_s": times, "median_s": med, "per_s": items / med,
                   "cpu_s_per_item": cpu_per_item,
                   "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
