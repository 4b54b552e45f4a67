#!/usr/bin/env python3
"""torch.profiler table of the Conv-4 episode step of bench/torch_speed.py (issue 11: per-op
comparison with bench/profile-step.ts). /usr/bin/python3 bench/torch_profile.py [--channels-last] [--steps N]"""
import argparse
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile
from torch_speed import conv4

p = argparse.ArgumentParser()
p.add_argument("--channels-last", action="store_true")
p.add_argument("--steps", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
fmt = torch.channels_last if a.channels_last else torch.contiguous_format
way, shot, query = 60, 5, 5
model = conv4().to(memory_format=fmt)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
x = torch.rand(way * (shot + query), 1, 28, 28).to(memory_format=fmt)
labels = torch.arange(way).repeat_interleave(query)


def step():
    emb = model(x)
    support, queries = emb[: way * shot], emb[way * shot:]
    protos = support.reshape(way, shot, -1).mean(1)
    d = (queries.pow(2).sum(1, keepdim=True) - 2 * queries @ protos.t() + protos.pow(2).sum(1)[None])
    loss = F.cross_entropy(-d, labels)
    opt.zero_grad()
    loss.backward()
    opt.step()


step()
with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    for _ in range(a.steps):
        step()
print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=30, max_name_column_width=40, max_shapes_column_width=60))
