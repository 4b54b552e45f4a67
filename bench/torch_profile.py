#!/usr/bin/env python3
"""torch.profiler table of the Conv-4 episode step of bench/torch_speed.py (issue 11: per-op
comparison with bench/profile-step.ts). /usr/bin/python3 bench/torch_profile.py [--channels-last] [--steps N]"""
import argparse
import torch
from torch.profiler import ProfilerActivity, profile
from torch_speed import conv4_episode

p = argparse.ArgumentParser()
p.add_argument("--channels-last", action="store_true")
p.add_argument("--steps", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
step, _ = conv4_episode(torch.channels_last if a.channels_last else torch.contiguous_format)
step()
with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    for _ in range(a.steps):
        step()
print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=30, max_name_column_width=40, max_shapes_column_width=60))
