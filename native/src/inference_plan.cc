// InferencePlan: see inference_plan.h. Per batch size: a list of steps (oneDNN primitives with
// their arguments bound, or small OpenMP loops for what oneDNN has no primitive for), executed
// in order on buffers allocated once. Activations flow in whatever layout each primitive
// prefers (e.g. nChw16c), so a Conv-4 runs conv+bias+ReLU, max-pool, conv+bias+ReLU, ...
// without converting to NHWC in between; only the input and the final output are NHWC.
//
// A large batch runs as one single-threaded pipeline per thread, each over its own share of the
// batch in chunks of kChunk images (see run()).
#include "inference_plan.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>

#include "dnnl_context.h"
#include "kernels.h"

namespace fewshot {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

int64_t windowOut(int64_t size, int64_t k, int64_t s, int64_t d, int64_t padBegin, int64_t padEnd) {
  return (size + padBegin + padEnd - ((k - 1) * d + 1)) / s + 1;
}

// Per-image layer normalisation over all of h*w*c with per-element gamma/beta (double sums,
// like the mean/variance tfjs computes), NHWC in and out.
void layerNorm(const float* x, float* y, int64_t n, int64_t size, const float* gamma, const float* beta, float eps) {
#pragma omp parallel for
  for (int64_t i = 0; i < n; i++) {
    const float* xi = x + i * size;
    float* yi = y + i * size;
    double sum = 0;
    for (int64_t j = 0; j < size; j++) sum += xi[j];
    const double mean = sum / double(size);
    double sq = 0;
    for (int64_t j = 0; j < size; j++) sq += (xi[j] - mean) * (xi[j] - mean);
    const float inv = float(1.0 / std::sqrt(sq / double(size) + eps));
    const float m = float(mean);
    for (int64_t j = 0; j < size; j++) yi[j] = (xi[j] - m) * inv * gamma[j] + beta[j];
  }
}

}  // namespace

struct InferencePlan::Compiled {
  // Its own stream: pipelines of different threads run at once, and a oneDNN stream is not
  // thread-safe. Primitives take a user scratchpad for the same reason.
  stream strm{cpuEngine()};
  memory input, output;             // user buffers (handles set per run)
  std::vector<std::function<void()>> steps;
  std::vector<memory> keep;         // weights and activations owned by this batch size
};

InferencePlan::InferencePlan(std::vector<InferenceOp> ops, int64_t h, int64_t w, int64_t c)
    : ops_(std::move(ops)), h_(h), w_(w), c_(c) {
  // Shape pass: validates geometry and sizes the output.
  int64_t H = h, W = w, C = c;
  bool flat = false;
  std::vector<std::array<int64_t, 3>> saved;  // (H, W, C) of each open kSave
  for (const auto& op : ops_) {
    switch (op.kind) {
      case InferenceOp::kSave:
        if (flat) throw std::invalid_argument("inference plan: residual branch after dense");
        saved.push_back({H, W, C});
        break;
      case InferenceOp::kResidualAdd: {
        if (saved.empty()) throw std::invalid_argument("inference plan: residual add without a saved input");
        auto [SH, SW, SC] = saved.back();
        saved.pop_back();
        if (flat) throw std::invalid_argument("inference plan: residual add after dense");
        if (!op.weights.empty()) {
          if (int64_t(op.weights.size()) != op.kh * op.kw * SC * op.outChannels || op.bias.size() != size_t(op.outChannels))
            throw std::invalid_argument("inference plan: projection weights size");
          SH = windowOut(SH, op.kh, op.sh, 1, op.pt, op.pb), SW = windowOut(SW, op.kw, op.sw, 1, op.pl, op.pr);
          flopsPerImage_ += 2.0 * SH * SW * op.outChannels * op.kh * op.kw * SC;
          SC = op.outChannels;
        }
        if (SH != H || SW != W || SC != C) throw std::invalid_argument("inference plan: residual shapes differ");
        break;
      }
      case InferenceOp::kConv:
      case InferenceOp::kMaxPool:
      case InferenceOp::kAvgPool:
        if (flat) throw std::invalid_argument("inference plan: window op after dense");
        H = windowOut(H, op.kh, op.sh, op.dh, op.pt, op.pb);
        W = windowOut(W, op.kw, op.sw, op.dw, op.pl, op.pr);
        if (op.kind == InferenceOp::kConv) {
          if (int64_t(op.weights.size()) != op.kh * op.kw * C * op.outChannels) throw std::invalid_argument("inference plan: conv weights size");
          flopsPerImage_ += 2.0 * H * W * op.outChannels * op.kh * op.kw * C;
          C = op.outChannels;
        }
        if (H < 1 || W < 1) throw std::invalid_argument("inference plan: window larger than its input");
        break;
      case InferenceOp::kLayerNorm:
        if (flat || int64_t(op.weights.size()) != H * W * C || op.bias.size() != op.weights.size())
          throw std::invalid_argument("inference plan: layer-norm parameters size");
        break;
      case InferenceOp::kAffine: break;
      case InferenceOp::kDense:
        if (int64_t(op.weights.size()) != H * W * C * op.outChannels) throw std::invalid_argument("inference plan: dense weights size");
        flopsPerImage_ += 2.0 * H * W * C * op.outChannels;
        H = 1, W = 1, C = op.outChannels, flat = true;
        break;
      default: throw std::invalid_argument("inference plan: unknown op");
    }
  }
  if (!saved.empty()) throw std::invalid_argument("inference plan: a saved input is never added");
  outSize_ = H * W * C;
}

InferencePlan::~InferencePlan() = default;

InferencePlan::Compiled& InferencePlan::compiled(int64_t n, int slot) {
  const Key key{slot, n};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = byBatch_.find(key);
    if (it != byBatch_.end()) {
      auto& lru = lru_[slot];
      lru.erase(std::find(lru.begin(), lru.end(), n));
      lru.push_back(n);
      return *it->second;
    }
  }
  auto& eng = cpuEngine();
  auto p = std::make_unique<Compiled>();
  auto& s = p->strm;
  primitive_attr userScratch;
  userScratch.set_scratchpad_mode(scratchpad_mode::user);
  // A primitive's scratchpad, owned by this batch size's plan (empty when it needs none).
  const auto scratchFor = [&](const memory::desc& d) {
    memory m(d, eng);
    p->keep.push_back(m);
    return m;
  };
  auto& steps = p->steps;
  int64_t H = h_, W = w_, C = c_;
  const auto nhwc = [&](int64_t ch, int64_t hh, int64_t ww) { return memory::desc({n, ch, hh, ww}, dt::f32, tag::nhwc); };
  p->input = memory(nhwc(C, H, W), eng, DNNL_MEMORY_NONE);
  memory cur = p->input;
  bool flat = false;  // after a dense layer: cur is a plain [n, C] buffer

  // `from` in layout `want`: itself when it already is, else a copy made by a reorder step.
  const auto converted = [&](const memory& from, const memory::desc& want) {
    if (from.get_desc() == want) return from;
    memory to(want, eng);
    p->keep.push_back(to);
    reorder::primitive_desc rpd(from, to, userScratch);
    reorder r(rpd);
    memory scratch = scratchFor(rpd.scratchpad_desc());
    steps.push_back([r, from, to, scratch, &s]() mutable {
      r.execute(s, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}, {DNNL_ARG_SCRATCHPAD, scratch}});
    });
    return to;
  };
  const auto reorderTo = [&](const memory::desc& want) { cur = converted(cur, want); };
  std::vector<std::pair<memory, std::array<int64_t, 3>>> saved;  // kSave's activations and their H, W, C
  const auto ensureNhwc = [&]() {
    if (!flat && cur.get_desc() != nhwc(C, H, W)) reorderTo(nhwc(C, H, W));
  };
  // Source layout for a primitive: the one it wants, with no copy when the bytes already match
  // (a plain single-channel image is both NCHW and NHWC).
  const auto feed = [&](const memory::desc& want) {
    if (cur.get_desc() == want) return;
    if (C == 1 && !flat && cur.get_desc() == nhwc(C, H, W) && want == memory::desc({n, 1, H, W}, dt::f32, tag::nchw)) {
      memory same(want, eng, DNNL_MEMORY_NONE);
      memory from = cur;
      steps.push_back([same, from]() mutable { same.set_data_handle(from.get_data_handle()); });
      cur = same;
      return;
    }
    reorderTo(want);
  };

  for (const auto& op : ops_) {
    if (op.kind == InferenceOp::kSave) {
      // Every op writes a buffer of its own, so the saved one stays intact until it is added.
      saved.push_back({cur, {H, W, C}});
    } else if (op.kind == InferenceOp::kResidualAdd) {
      auto [shortcut, dims] = saved.back();
      saved.pop_back();
      primitive_attr attr;
      attr.set_scratchpad_mode(scratchpad_mode::user);
      post_ops po;
      memory target = cur;  // the main branch's output, which nothing else reads: added to in place
      if (!op.weights.empty()) {
        // Projection shortcut: one convolution of the saved input that accumulates into the main
        // branch's output (sum post-op), then the activation: oneDNN's own residual fusion.
        po.append_sum(1.f);
        appendActivation(po, op.activation, op.alpha);
        attr.set_post_ops(po);
        const auto [SH, SW, SC] = dims;
        const int64_t OC = op.outChannels;
        memory::desc src({n, SC, SH, SW}, dt::f32, tag::any), wts({OC, SC, op.kh, op.kw}, dt::f32, tag::any), bias({OC}, dt::f32, tag::x);
        auto desc = convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src, wts, bias, target.get_desc(),
                                              {op.sh, op.sw}, {0, 0}, {op.pt, op.pl}, {op.pb, op.pr});
        convolution_forward::primitive_desc pd(desc, attr, eng);
        memory in = converted(shortcut, pd.src_desc());
        memory wUser(memory::desc({OC, SC, op.kh, op.kw}, dt::f32, tag::hwio), eng, const_cast<float*>(op.weights.data()));
        memory wMem(pd.weights_desc(), eng);
        reorder(wUser, wMem).execute(s, wUser, wMem);
        s.wait();
        memory bMem(bias, eng, const_cast<float*>(op.bias.data()));
        p->keep.insert(p->keep.end(), {wMem, bMem});
        convolution_forward prim(pd);
        memory scratch = scratchFor(pd.scratchpad_desc());
        steps.push_back([prim, in, wMem, bMem, target, scratch, &s]() {
          prim.execute(s, {{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, wMem}, {DNNL_ARG_BIAS, bMem}, {DNNL_ARG_DST, target}, {DNNL_ARG_SCRATCHPAD, scratch}});
        });
      } else {
        // Identity shortcut: a binary add into the main branch's output, then the activation.
        appendActivation(po, op.activation, op.alpha);
        attr.set_post_ops(po);
        memory in = converted(shortcut, target.get_desc());
        dnnl::binary::primitive_desc pd(dnnl::binary::desc(algorithm::binary_add, target.get_desc(), in.get_desc(), target.get_desc()), attr, eng);
        dnnl::binary prim(pd);
        memory scratch = scratchFor(pd.scratchpad_desc());
        steps.push_back([prim, in, target, scratch, &s]() {
          prim.execute(s, {{DNNL_ARG_SRC_0, target}, {DNNL_ARG_SRC_1, in}, {DNNL_ARG_DST, target}, {DNNL_ARG_SCRATCHPAD, scratch}});
        });
      }
    } else if (op.kind == InferenceOp::kConv) {
      const int64_t OH = windowOut(H, op.kh, op.sh, op.dh, op.pt, op.pb), OW = windowOut(W, op.kw, op.sw, op.dw, op.pl, op.pr);
      const int64_t OC = op.outChannels;
      memory::desc src({n, C, H, W}, dt::f32, tag::any), wts({OC, C, op.kh, op.kw}, dt::f32, tag::any),
          bias({OC}, dt::f32, tag::x), dst({n, OC, OH, OW}, dt::f32, tag::any);
      primitive_attr attr;
      attr.set_scratchpad_mode(scratchpad_mode::user);
      post_ops po;
      appendActivation(po, op.activation, op.alpha);
      attr.set_post_ops(po);
      const auto pdWith = [&](algorithm alg) {
        auto desc = convolution_forward::desc(prop_kind::forward_inference, alg, src, wts, bias, dst,
                                              {op.sh, op.sw}, {op.dh - 1, op.dw - 1}, {op.pt, op.pl}, {op.pb, op.pr});
        return convolution_forward::primitive_desc(desc, attr, eng);
      };
      const ConvGeometry g{n, H, W, C, OH, OW, OC, op.kh, op.kw, op.sh, op.sw, op.dh, op.dw, op.pt, op.pb, op.pl, op.pr};
      convolution_forward::primitive_desc pd = pdWith(algorithm::convolution_direct);
      if (winogradPays(g, 1)) {
        try {
          pd = pdWith(algorithm::convolution_winograd);
        } catch (const dnnl::error&) {  // no Winograd kernel for this geometry or post-op: direct
        }
      }
      feed(pd.src_desc());
      // Weights: reordered into the kernel's layout once, here.
      memory wUser(memory::desc({OC, C, op.kh, op.kw}, dt::f32, tag::hwio), eng, const_cast<float*>(op.weights.data()));
      memory wMem(pd.weights_desc(), eng);
      reorder(wUser, wMem).execute(s, wUser, wMem);
      s.wait();
      memory bMem(bias, eng, const_cast<float*>(op.bias.data()));
      memory out(pd.dst_desc(), eng);
      p->keep.insert(p->keep.end(), {wMem, bMem, out});
      convolution_forward prim(pd);
      memory in = cur, scratch = scratchFor(pd.scratchpad_desc());
      steps.push_back([prim, in, wMem, bMem, out, scratch, &s]() {
        prim.execute(s, {{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, wMem}, {DNNL_ARG_BIAS, bMem}, {DNNL_ARG_DST, out}, {DNNL_ARG_SCRATCHPAD, scratch}});
      });
      cur = out, H = OH, W = OW, C = OC;
    } else if (op.kind == InferenceOp::kMaxPool || op.kind == InferenceOp::kAvgPool) {
      const int64_t OH = windowOut(H, op.kh, op.sh, 1, op.pt, op.pb), OW = windowOut(W, op.kw, op.sw, 1, op.pl, op.pr);
      memory::desc dst({n, C, OH, OW}, dt::f32, tag::any);
      auto desc = pooling_forward::desc(prop_kind::forward_inference,
                                        op.kind == InferenceOp::kMaxPool ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding,
                                        cur.get_desc(), dst, {op.sh, op.sw}, {op.kh, op.kw}, {op.pt, op.pl}, {op.pb, op.pr});
      pooling_forward::primitive_desc pd(desc, userScratch, eng);
      feed(pd.src_desc());
      memory out(pd.dst_desc(), eng);
      p->keep.push_back(out);
      pooling_forward prim(pd);
      memory in = cur, scratch = scratchFor(pd.scratchpad_desc());
      steps.push_back([prim, in, out, scratch, &s]() {
        prim.execute(s, {{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, out}, {DNNL_ARG_SCRATCHPAD, scratch}});
      });
      cur = out, H = OH, W = OW;
    } else if (op.kind == InferenceOp::kLayerNorm || op.kind == InferenceOp::kAffine) {
      ensureNhwc();
      memory out(cur.get_desc(), eng);
      p->keep.push_back(out);
      memory in = cur;
      const int64_t size = flat ? C : H * W * C;
      const InferenceOp* o = &op;
      steps.push_back([in, out, n, size, o, &s]() {
        s.wait();
        const float* x = static_cast<const float*>(in.get_data_handle());
        float* y = static_cast<float*>(out.get_data_handle());
        if (o->kind == InferenceOp::kLayerNorm) {
          layerNorm(x, y, n, size, o->weights.data(), o->bias.data(), o->epsilon);
        } else {
          const float a = o->scale, b = o->offset;
#pragma omp parallel for
          for (int64_t i = 0; i < n * size; i++) y[i] = x[i] * a + b;
        }
      });
      cur = out;
    } else {  // dense on the NHWC-flattened activations, as tfjs-layers' Flatten orders them
      ensureNhwc();
      const int64_t k = flat ? C : H * W * C, units = op.outChannels;
      memory out(memory::desc({n, units}, dt::f32, tag::ab), eng);
      p->keep.push_back(out);
      memory in = cur;
      const InferenceOp* o = &op;
      steps.push_back([in, out, n, k, units, o, &s]() {
        s.wait();
        float* y = static_cast<float*>(out.get_data_handle());
        batchMatMul(static_cast<const float*>(in.get_data_handle()), o->weights.data(), y, 1, false, false, n, units, k, false, false);
        biasActivation(y, n * units, o->bias.empty() ? nullptr : o->bias.data(), o->bias.empty() ? 0 : units, o->activation, o->alpha);
      });
      cur = out, H = 1, W = 1, C = units, flat = true;
    }
  }
  ensureNhwc();
  {
    memory last = cur;
    const int64_t bytes = n * outSize_ * int64_t(sizeof(float));
    p->output = memory(memory::desc({n * outSize_}, dt::f32, tag::x), eng, DNNL_MEMORY_NONE);
    memory output = p->output;
    steps.push_back([last, output, bytes, &s]() {
      s.wait();
      std::memcpy(output.get_data_handle(), last.get_data_handle(), size_t(bytes));
    });
  }
  // Keep a few batch sizes per slot (a service sees 1..k, an evaluation its chunk size and a remainder).
  std::lock_guard<std::mutex> lock(mutex_);
  auto& lru = lru_[slot];
  if (lru.size() >= 4) {
    byBatch_.erase(Key{slot, lru.front()});
    lru.erase(lru.begin());
  }
  lru.push_back(n);
  return *(byBatch_[key] = std::move(p));
}

// A forward pass this small (Conv-4 28x28 at batch 1: 20 MFLOP, ~0.2 ms on one core) is shorter
// than the OpenMP barriers of splitting every primitive over threads, whose wake-ups on a busy
// machine wait for the scheduler: batch 1 took 0.28 CPU ms per image on two threads, 0.19 on one.
static constexpr double kSingleThreadFlops = 5e7;
// Images per pass of a per-thread pipeline. A 256-image Conv-4 batch with every primitive split
// over the 2 threads: 0.204 CPU ms per image (median of 3); one single-threaded pipeline per
// thread over 16-image chunks, whose activations stay in cache: 0.193, wall -7%; 32-image
// chunks: 0.199 (2026-11-30, 2-core EPYC at load 9; docs/native.md).
static constexpr int64_t kChunk = 16;

static bool spinningWorkers() {
  static const bool active = [] {
    const char* v = std::getenv("OMP_WAIT_POLICY");
    if (!v) return false;
    std::string p(v);
    std::transform(p.begin(), p.end(), p.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    return p == "active";
  }();
  return active;
}

void InferencePlan::runOn(Compiled& c, const float* x, float* y) {
  c.input.set_data_handle(const_cast<float*>(x));
  c.output.set_data_handle(y);
  for (auto& step : c.steps) step();
  c.strm.wait();
}

void InferencePlan::run(const float* x, int64_t n, float* y) {
  if (n < 1) throw std::invalid_argument("inference plan: batch must be >= 1");
  const int threads = omp_get_max_threads();
  const int64_t in = inputSize(), out = outSize_;
  if (threads > 1 && n >= kChunk * threads) {
    // One pipeline per thread (slot = thread number), built and run with primitives that use
    // that thread only: no barrier between layers, and each chunk's activations stay in cache.
    std::exception_ptr error;
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), T = omp_get_num_threads();
      omp_set_num_threads(1);  // this thread's own setting: oneDNN sizes its work from it
      const int64_t begin = n * t / T, end = n * (t + 1) / T;
      try {
        for (int64_t i = begin; i < end; i += kChunk) {
          const int64_t k = std::min(kChunk, end - i);
          runOn(compiled(k, t), x + i * in, y + i * out);
        }
      } catch (...) {
#pragma omp critical(fewshot_inference_plan_error)
        if (!error) error = std::current_exception();
      }
    }
    omp_set_num_threads(threads);
    if (error) std::rethrow_exception(error);
    return;
  }
  // Decided per batch size, so a plan is always built (oneDNN splits work at creation) and run
  // with the same thread count. Single-threaded plans share slot 0 (the calling thread's).
  // Spinning workers (OMP_WAIT_POLICY=active: the user chose latency over CPU) answer a barrier
  // at once, so small passes use every thread: batch 1 on a quiet machine ran at 0.96x ONNX
  // Runtime's spinning pool on one thread (while using half its CPU per image).
  const bool single = threads > 1 && !spinningWorkers() && flopsPerImage_ * double(n) <= kSingleThreadFlops;
  if (single) omp_set_num_threads(1);
  try {
    runOn(compiled(n, single || threads == 1 ? 0 : kTeam), x, y);
  } catch (...) {
    if (single) omp_set_num_threads(threads);
    throw;
  }
  if (single) omp_set_num_threads(threads);
}

}  // namespace fewshot
