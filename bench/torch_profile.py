#!/usr/bin/env python3
"""torch.profiler table of a training step of bench/torch_speed.py (issue 11: per-op comparison
with bench/profile-step.ts). /usr/bin/python3 bench/torch_profile.py [--workload conv4-episode|koch-pair]
[--channels-last] [--steps N]; CPU time is process_time over the profiled steps (all threads)."""
import argparse
import torch
from torch.profiler import ProfilerActivity, profile
import time
from torch_speed import conv4_episode, koch_pair

p = argparse.ArgumentParser()
p.add_argument("--workload", default="conv4-episode", choices=["conv4-episode", "koch-pair"])
p.add_argument("--channels-last", action="store_true")
p.add_argument("--steps", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
fmt = torch.channels_last if a.channels_last else torch.contiguous_format
step, items = (conv4_episode if a.workload == "conv4-episode" else koch_pair)(fmt)
step()
cpu0, t0 = time.process_time(), time.perf_counter()
for _ in range(a.steps):
    step()
wall, cpu = (time.perf_counter() - t0) / a.steps, (time.process_time() - cpu0) / a.steps
print(f"{a.workload}: {wall * 1e3:.1f} ms/step, CPU {cpu * 1e3:.1f} ms/step ({cpu * 1e3 / items:.3f} ms/item), without the profiler")
with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    for _ in range(a.steps):
        step()
print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=30, max_name_column_width=40, max_shapes_column_width=60))
