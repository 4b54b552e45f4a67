// oneDNN convolutions and GEMM. Activations stay in TF.js's NHWC buffers (oneDNN runs nhwc
// kernels on them directly); only the small filters are reordered into the blocked layout the
// chosen kernel wants. Two exceptions copy activations: the bf16 path, and Winograd kernels
// (3x3, stride 1, on larger maps), which only read and write oneDNN's blocked layout but do
// ~2.25x fewer multiplications. Primitives are created once per geometry and reused every step.
#include <dnnl.hpp>

#include <algorithm>
#include <cstdlib>

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dnnl_context.h"
#include "kernels.h"

namespace fewshot {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;


namespace {

struct ConvPrimitive {
  primitive prim;
  memory::desc weightsUser;      // HWIO, as TF.js stores filters
  memory::desc weightsInternal;  // what the kernel wants
  bool reorderWeights = false;
  primitive weightsReorder;
  memory weightsScratch;  // reordered filter (fwd / bwd-data) or filter gradient (bwd-weights)
  memory::desc src, dst;  // as the kernel reads/writes them (bf16 where `bf16`, blocked where `winograd`)
  bool bf16 = false;      // the kernel takes bfloat16 activations: convert the caller's float32 ones
  bool winograd = false;  // a Winograd kernel: activations copied to and from the blocked layout
};

// Small LRU cache: episodes use a handful of geometries, so a few hundred entries is plenty and
// bounds memory when shapes vary (e.g. the last, smaller batch of an epoch).
class PrimitiveCache {
 public:
  std::shared_ptr<ConvPrimitive> get(const std::string& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.second);
    return it->second.first;
  }
  void put(const std::string& key, std::shared_ptr<ConvPrimitive> p) {
    order_.push_front(key);
    map_[key] = {p, order_.begin()};
    if (map_.size() > kCapacity) {
      map_.erase(order_.back());
      order_.pop_back();
    }
  }

 private:
  static constexpr size_t kCapacity = 256;
  std::list<std::string> order_;
  std::unordered_map<std::string, std::pair<std::shared_ptr<ConvPrimitive>, std::list<std::string>::iterator>> map_;
};

PrimitiveCache& cache() {
  static PrimitiveCache c;
  return c;
}

std::string keyOf(const char* kind, const ConvGeometry& g, bool bf16, int a = 0, float alpha = 0, bool bias = false) {
  std::string k(kind);
  k += bf16 ? ",bf16" : ",f32";
  const int64_t* f = &g.n;
  for (int i = 0; i < 17; i++) k += "," + std::to_string(f[i]);
  k += "," + std::to_string(a) + "," + std::to_string(alpha) + (bias ? ",b" : ",-");
  return k;
}

struct Descs {
  memory::desc src, dst, weightsUser, weightsAny, bias;
  memory::dims strides, dilates, padL, padR;
};

// groups > 1: grouped convolution; groups == ic is TF's depthwise conv, whose filter
// [kh, kw, ic, multiplier] is oneDNN's {g, oc/g, 1, kh, kw} in the hwigo layout.
// The data types are what the kernel computes with (bf16 inputs, f32 outputs in the bf16
// path); the user's buffers are always f32.
Descs descsOf(const ConvGeometry& g, int64_t groups = 1, dt srcType = dt::f32, dt dstType = dt::f32,
              dt weightsType = dt::f32) {
  Descs d;
  d.src = memory::desc({g.n, g.ic, g.ih, g.iw}, srcType, tag::nhwc);
  d.dst = memory::desc({g.n, g.oc, g.oh, g.ow}, dstType, tag::nhwc);
  if (groups > 1) {
    const memory::dims w{groups, g.oc / groups, g.ic / groups, g.kh, g.kw};
    d.weightsUser = memory::desc(w, dt::f32, tag::hwigo);
    d.weightsAny = memory::desc(w, weightsType, tag::any);
  } else {
    d.weightsUser = memory::desc({g.oc, g.ic, g.kh, g.kw}, dt::f32, tag::hwio);
    d.weightsAny = memory::desc({g.oc, g.ic, g.kh, g.kw}, weightsType, tag::any);
  }
  d.bias = memory::desc({g.oc}, dt::f32, tag::x);
  d.strides = {g.sh, g.sw};
  d.dilates = {g.dh - 1, g.dw - 1};
  d.padL = {g.pt, g.pl};
  d.padR = {g.pb, g.pr};
  return d;
}

convolution_forward::primitive_desc forwardPd(const Descs& d, bool withBias, const primitive_attr& attr,
                                              algorithm alg = algorithm::convolution_direct) {
  auto desc = withBias
      ? convolution_forward::desc(prop_kind::forward_training, alg, d.src,
                                  d.weightsAny, d.bias, d.dst, d.strides, d.dilates, d.padL, d.padR)
      : convolution_forward::desc(prop_kind::forward_training, alg, d.src,
                                  d.weightsAny, d.dst, d.strides, d.dilates, d.padL, d.padR);
  return convolution_forward::primitive_desc(desc, attr, cpuEngine());
}

// The same convolution with the activations' layout left to the kernel (Winograd wants blocked).
Descs anyLayout(Descs d) {
  d.src = memory::desc(d.src.dims(), d.src.data_type(), tag::any);
  d.dst = memory::desc(d.dst.dims(), d.dst.data_type(), tag::any);
  return d;
}

// The Winograd variant of a primitive when oneDNN has one for this geometry (and post-ops),
// else the direct `fallback`.
template <typename Pd, typename Make>
Pd preferWinograd(Pd fallback, Make makeWinograd, bool& chosen) {
  try {
    Pd pd = makeWinograd();
    chosen = true;
    return pd;
  } catch (const dnnl::error&) {
    return fallback;
  }
}

void prepareWeights(ConvPrimitive& p, memory::desc internal, bool toInternal) {
  p.weightsInternal = internal;
  p.reorderWeights = internal != p.weightsUser;
  if (!p.reorderWeights) return;
  p.weightsScratch = memory(internal, cpuEngine());
  p.weightsReorder = toInternal ? reorder(reorder::primitive_desc(cpuEngine(), p.weightsUser, cpuEngine(), internal))
                                : reorder(reorder::primitive_desc(cpuEngine(), internal, cpuEngine(), p.weightsUser));
}

// The weights the primitive reads: the caller's buffer, or its reorder into the primitive's layout.
memory weightsFor(ConvPrimitive& p, const float* w) {
  memory wUser(p.weightsUser, cpuEngine(), const_cast<float*>(w));
  if (!p.reorderWeights) return wUser;
  p.weightsReorder.execute(cpuStream(), {{DNNL_ARG_FROM, wUser}, {DNNL_ARG_TO, p.weightsScratch}});
  return p.weightsScratch;
}

// Scratch for the kernel's copies of activations (bf16, or blocked for Winograd): a few buffers
// reused by every call, since calls run one at a time (slots 0 and 1: a call's two inputs,
// slot 2: its output). 64-byte aligned, as oneDNN's kernels prefer.
void* scratch(int slot, size_t bytes) {
  struct Buffer {
    void* data = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(data); }
  };
  static Buffer buffers[3];
  Buffer& b = buffers[slot];
  if (b.size < bytes) {
    std::free(b.data);
    b.size = (bytes + 63) / 64 * 64;
    b.data = std::aligned_alloc(64, b.size);
    if (!b.data) {
      b.size = 0;
      throw std::bad_alloc();
    }
  }
  return b.data;
}

// The caller's f32 NHWC buffer of the activations a kernel sees through `kernel`.
memory userMemory(const memory::desc& kernel, const float* x) {
  return memory(memory::desc(kernel.dims(), dt::f32, tag::nhwc), cpuEngine(), const_cast<float*>(x));
}

// The activations a kernel reads: the caller's buffer, or its copy in the kernel's data type
// and layout (oneDNN's primitive cache makes the reorder cheap to create).
memory kernelInput(const memory::desc& kernel, const float* x, int slot) {
  memory user = userMemory(kernel, x);
  if (user.get_desc() == kernel) return user;
  memory to(kernel, cpuEngine(), scratch(slot, kernel.get_size()));
  reorder(user, to).execute(cpuStream(), user, to);
  return to;
}

// Where a kernel writes: the caller's buffer, or a scratch copy that finishOutput reorders back.
memory kernelOutput(const memory::desc& kernel, float* y) {
  memory user = userMemory(kernel, y);
  return user.get_desc() == kernel ? user : memory(kernel, cpuEngine(), scratch(2, kernel.get_size()));
}

void finishOutput(memory written, float* y) {
  memory user = userMemory(written.get_desc(), y);
  if (user.get_desc() == written.get_desc()) return;
  reorder(written, user).execute(cpuStream(), written, user);
}

// A bf16 kernel is only worth it when oneDNN has a real (jit) one for this geometry: on CPUs
// without AVX512-BF16/AMX, or for shapes the jit kernels reject, it would pick a slow reference
// implementation, so those geometries stay f32.
template <typename Pd>
bool usable(const Pd& pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) != 0;
}

// The bf16 variant of a primitive when oneDNN has a usable one, else the f32 `fallback`.
template <typename Pd, typename Make>
Pd preferBf16(Pd fallback, Make makeBf16, bool& chosen) {
  try {
    Pd pd = makeBf16();
    if (usable(pd)) {
      chosen = true;
      return pd;
    }
  } catch (const dnnl::error&) {  // no bf16 kernel for this geometry or CPU
  }
  return fallback;
}

// Convolutions with fewer input channels (a network's first layer on grey images, ic = 1) stay
// f32: little arithmetic per byte, and there the bf16 kernels plus the conversion of the
// gradient were slower than f32 (measured on Conv-4's and Koch's first layers).
constexpr int64_t kMinBf16Channels = 16;

}  // namespace

// Winograd F(4x4, 3x3) on this 2-core AVX-512 EPYC (oneDNN 2.6 jit_wino_4x3, f32, 600 images,
// 64 -> 64 channels, CPU ms, copies to/from the blocked layout not included):
//   28x28: fwd 307 -> 122, bwd-data 307 -> 123, bwd-weights 327 -> 137
//   14x14: fwd 77 -> 51, bwd-data 74 -> 45, bwd-weights 94 -> 58 (fwd with the copies: 82 -> 60-64)
//   7x7 and 3x3: no gain or slower; 1 input channel: 3x slower.
// 128 images (noisier, load ~7): 32 -> 32 at 24x24..34x34 gains 30-60%, at 17x17 runs 2x slower;
//   16 -> 16 at 14x14..28x28 is no faster (its filter gradient 2x slower); 64 -> 64 at 10x10 slower.
// The transforms cost per channel, the products per channel pair, so the gain needs both many
// channels and large maps: 3x3, stride 1, no dilation, >= 32 channels in and out, and
// min(channels) x output pixels >= 64 x 14 x 14 (Conv-4's second layer; the signature encoder's
// 32-channel 24x48 layer, not its 12x24 one).
// FEWSHOT_CONV_WINOGRAD=0 turns it off (A/B measurements, bit-exact retraining of older models).
bool winogradPays(const ConvGeometry& g, int64_t groups) {
  static const bool enabled = [] {
    const char* v = std::getenv("FEWSHOT_CONV_WINOGRAD");
    return !(v && std::string(v) == "0");
  }();
  return enabled && groups == 1 && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
         std::min(g.ic, g.oc) >= 32 && std::min(g.ic, g.oc) * g.oh * g.ow >= 64 * 14 * 14;
}

bool bf16Supported() {
  const auto isa = static_cast<unsigned>(get_effective_cpu_isa());
  const auto need = static_cast<unsigned>(cpu_isa::avx512_core_bf16);
  return (isa & need) == need;
}

void conv2dForward(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y,
                   int activation, float alpha, int64_t groups, bool bf16) {
  if (singleOutputPays(g, groups)) {
    singleOutputConvForward(g, x, w, y);
    biasActivation(y, g.n * g.oh * g.ow, bias, bias ? 1 : 0, activation, alpha);
    return;
  }
  bf16 = bf16 && groups == 1 && g.ic >= kMinBf16Channels && bf16Supported();
  if (fftPays(g, groups)) {  // also under bf16: float32 FFT does ~10x fewer products than bf16 direct
    fftConvForward(g, x, w, y);
    biasActivation(y, g.n * g.oh * g.ow * g.oc, bias, bias ? g.oc : 0, activation, alpha);
    return;
  }
  const std::string key = keyOf("fwd", g, bf16, activation, alpha, bias != nullptr) + ",g" + std::to_string(groups);
  auto p = cache().get(key);
  if (!p) {
    p = std::make_shared<ConvPrimitive>();
    post_ops ops;
    appendActivation(ops, activation, alpha);
    primitive_attr attr;
    attr.set_post_ops(ops);
    Descs d = descsOf(g, groups);
    auto pd = forwardPd(d, bias != nullptr, attr);
    if (bf16) {  // bf16 src and weights, f32 dst (the next layer's batch norm reads f32)
      Descs db = descsOf(g, groups, dt::bf16, dt::f32, dt::bf16);
      pd = preferBf16(pd, [&] { return forwardPd(db, bias != nullptr, attr); }, p->bf16);
    } else if (winogradPays(g, groups)) {
      pd = preferWinograd(pd, [&] { return forwardPd(anyLayout(d), bias != nullptr, attr, algorithm::convolution_winograd); }, p->winograd);
    }
    p->prim = convolution_forward(pd);
    p->weightsUser = d.weightsUser;
    p->src = pd.src_desc();
    p->dst = pd.dst_desc();
    prepareWeights(*p, pd.weights_desc(), true);
    cache().put(key, p);
  }
  auto& eng = cpuEngine();
  auto& s = cpuStream();
  memory src = kernelInput(p->src, x, 0);
  memory dst = kernelOutput(p->dst, y);
  memory wUse = weightsFor(*p, w);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wUse}, {DNNL_ARG_DST, dst}};
  if (bias) args.insert({DNNL_ARG_BIAS, memory(memory::desc({g.oc}, dt::f32, tag::x), eng, const_cast<float*>(bias))});
  p->prim.execute(s, args);
  finishOutput(dst, y);
  s.wait();
}

void conv2dBackwardData(const ConvGeometry& g, const float* dy, const float* w, float* dx, bool bf16, int64_t groups) {
  bf16 = bf16 && groups == 1 && g.ic >= kMinBf16Channels && bf16Supported();
  if (fftPays(g, groups)) return fftConvBackwardData(g, dy, w, dx);
  const std::string key = keyOf("bwd_data", g, bf16) + ",g" + std::to_string(groups);
  auto p = cache().get(key);
  if (!p) {
    p = std::make_shared<ConvPrimitive>();
    auto make = [&](const Descs& d, const Descs& forward, algorithm alg = algorithm::convolution_direct) {
      auto hint = forwardPd(forward, false, primitive_attr(), alg);
      auto desc = convolution_backward_data::desc(alg, d.src, d.weightsAny, d.dst,
                                                  d.strides, d.dilates, d.padL, d.padR);
      return convolution_backward_data::primitive_desc(desc, cpuEngine(), hint);
    };
    Descs d = descsOf(g, groups);
    auto pd = make(d, d);
    if (bf16) {  // bf16 dy and weights, f32 dx
      Descs db = descsOf(g, 1, dt::f32, dt::bf16, dt::bf16);
      pd = preferBf16(pd, [&] { return make(db, descsOf(g, 1, dt::bf16, dt::bf16, dt::bf16)); }, p->bf16);
    } else if (winogradPays(g, groups)) {
      pd = preferWinograd(pd, [&] { return make(anyLayout(d), anyLayout(d), algorithm::convolution_winograd); }, p->winograd);
    }
    p->prim = convolution_backward_data(pd);
    p->weightsUser = d.weightsUser;
    p->src = pd.diff_src_desc();
    p->dst = pd.diff_dst_desc();
    prepareWeights(*p, pd.weights_desc(), true);
    cache().put(key, p);
  }
  auto& eng = cpuEngine();
  auto& s = cpuStream();
  memory diffDst = kernelInput(p->dst, dy, 0);
  memory diffSrc = kernelOutput(p->src, dx);
  memory wUse = weightsFor(*p, w);
  p->prim.execute(s, {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, wUse}, {DNNL_ARG_DIFF_SRC, diffSrc}});
  finishOutput(diffSrc, dx);
  s.wait();
}

namespace {

// Filter (and bias) gradient of a convolution with few inputs per output (kh kw ic <= 32: a first
// layer on grey or RGB images) as one GEMM over all output pixels: [patches | 1]^T . dy, the
// ones column giving the bias gradient in the same pass over dy. oneDNN's direct kernel reaches
// ~23 GFLOP/s on Conv-4's 3x3x1 layer (600 images 28x28: 23 CPU ms, plus 12 for the bias sum),
// since each of its 64-wide output rows has only 9 products per pixel to accumulate.
// Per-thread partial sums over chunks of pixels, each chunk's patches built in cache.
void smallFilterGradient(const ConvGeometry& g, const float* x, const float* dy, float* dw, float* db) {
  const int64_t k = g.kh * g.kw * g.ic, cols = k + 1, pixels = g.n * g.oh * g.ow, oc = g.oc;
  constexpr int64_t kChunk = 4096;
  const int64_t chunks = (pixels + kChunk - 1) / kChunk;
  std::vector<float> total(size_t(cols * oc), 0.f);
#pragma omp parallel
  {
    std::vector<float> patches(size_t(kChunk * cols)), part(size_t(cols * oc), 0.f);
#pragma omp for schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
      const int64_t p0 = c * kChunk, rows = std::min(kChunk, pixels - p0);
      for (int64_t r = 0; r < rows; r++) {
        const int64_t p = p0 + r, b = p / (g.oh * g.ow), oy = p / g.ow % g.oh, ox = p % g.ow;
        float* row = patches.data() + r * cols;
        for (int64_t ky = 0; ky < g.kh; ky++) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          for (int64_t kx = 0; kx < g.kw; kx++) {
            const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
            float* to = row + (ky * g.kw + kx) * g.ic;
            if (iy < 0 || iy >= g.ih || ix < 0 || ix >= g.iw) std::fill(to, to + g.ic, 0.f);
            else std::copy_n(x + ((b * g.ih + iy) * g.iw + ix) * g.ic, g.ic, to);
          }
        }
        row[k] = 1.f;
      }
      const dnnl_status_t st = dnnl_sgemm('T', 'N', cols, oc, rows, 1.f, patches.data(), cols, dy + p0 * oc, oc, 1.f,
                                          part.data(), oc);
      if (st != dnnl_success) throw dnnl::error(st, "dnnl_sgemm failed");
    }
#pragma omp critical
    for (size_t i = 0; i < total.size(); i++) total[i] += part[i];
  }
  std::copy_n(total.data(), k * oc, dw);  // rows in (ky, kx, ic) order: HWIO
  if (db) std::copy_n(total.data() + k * oc, oc, db);
}

}  // namespace

void conv2dBackwardWeights(const ConvGeometry& g, const float* x, const float* dy, float* dw, bool bf16, float* db,
                           int64_t groups) {
  if (singleOutputPays(g, groups)) return singleOutputConvBackwardWeights(g, x, dy, dw, db);
  bf16 = bf16 && groups == 1 && g.ic >= kMinBf16Channels && bf16Supported();
  if (!bf16 && groups == 1 && g.kh * g.kw * g.ic <= 32) return smallFilterGradient(g, x, dy, dw, db);
  if (fftPays(g, groups)) {
    fftConvBackwardWeights(g, x, dy, dw);
    if (db) reduceRows(kSum, dy, g.n * g.oh * g.ow, g.oc, 1.0, db);
    return;
  }
  // oneDNN's diff_bias beside few input channels was slower than a separate sum over dy (Koch's
  // 10x10x1 layer: 122 vs 107 CPU ms); with 64 it was level or faster (Conv-4's 14x14 layer)
  float* const fusedDb = g.ic >= 16 ? db : nullptr;
  if (db && !fusedDb) reduceRows(kSum, dy, g.n * g.oh * g.ow, g.oc, 1.0, db);
  db = fusedDb;
  const std::string key = keyOf("bwd_weights", g, bf16, 0, 0, db != nullptr) + ",g" + std::to_string(groups);
  auto p = cache().get(key);
  if (!p) {
    p = std::make_shared<ConvPrimitive>();
    auto make = [&](const Descs& d, const Descs& forward, algorithm alg = algorithm::convolution_direct) {
      auto hint = forwardPd(forward, db != nullptr, primitive_attr(), alg);
      auto desc = db ? convolution_backward_weights::desc(alg, d.src, d.weightsAny, d.bias, d.dst,
                                                          d.strides, d.dilates, d.padL, d.padR)
                     : convolution_backward_weights::desc(alg, d.src, d.weightsAny, d.dst,
                                                          d.strides, d.dilates, d.padL, d.padR);
      return convolution_backward_weights::primitive_desc(desc, cpuEngine(), hint);
    };
    Descs d = descsOf(g, groups);
    auto pd = make(d, d);
    if (bf16) {  // bf16 x and dy, f32 filter gradient (accumulated in f32 by the kernel)
      Descs db = descsOf(g, 1, dt::bf16, dt::bf16, dt::f32);
      pd = preferBf16(pd, [&] { return make(db, descsOf(g, 1, dt::bf16, dt::bf16, dt::bf16)); }, p->bf16);
    } else if (winogradPays(g, groups)) {
      pd = preferWinograd(pd, [&] { return make(anyLayout(d), anyLayout(d), algorithm::convolution_winograd); }, p->winograd);
    }
    p->prim = convolution_backward_weights(pd);
    p->weightsUser = d.weightsUser;
    p->src = pd.src_desc();
    p->dst = pd.diff_dst_desc();
    prepareWeights(*p, pd.diff_weights_desc(), false);
    cache().put(key, p);
  }
  auto& eng = cpuEngine();
  auto& s = cpuStream();
  memory src = kernelInput(p->src, x, 0);
  memory diffDst = kernelInput(p->dst, dy, 1);
  memory wUser(p->weightsUser, eng, dw);
  memory target = p->reorderWeights ? p->weightsScratch : wUser;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, target}};
  if (db) args.insert({DNNL_ARG_DIFF_BIAS, memory(memory::desc({g.oc}, dt::f32, tag::x), eng, db)});
  p->prim.execute(s, args);
  if (p->reorderWeights) p->weightsReorder.execute(s, {{DNNL_ARG_FROM, p->weightsScratch}, {DNNL_ARG_TO, wUser}});
  s.wait();
}

void batchMatMul(const float* a, const float* b, float* c, int64_t batch, bool aBatched, bool bBatched,
                 int64_t m, int64_t n, int64_t k, bool transA, bool transB) {
  const int64_t lda = transA ? m : k, ldb = transB ? k : n;
  // A x B^T with few rows in A (a dense layer's input gradient, dy . W^T: Koch's 64x4096 .
  // 4096x9216) runs ~2.2x faster in sgemm as (B . A^T)^T, i.e. with the operands swapped,
  // plus a transpose of the small result.
  const bool swap = transB && !transA && m * 4 <= n;
  std::vector<float> ct(swap ? size_t(m * n) : 0);
  for (int64_t i = 0; i < batch; i++) {
    const float* ai = a + (aBatched ? i * m * k : 0);
    const float* bi = b + (bBatched ? i * k * n : 0);
    float* ci = c + i * m * n;
    dnnl_status_t st = swap ? dnnl_sgemm('N', 'T', n, m, k, 1.f, bi, k, ai, k, 0.f, ct.data(), m)
                            : dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, 1.f, ai, lda, bi, ldb, 0.f, ci, n);
    if (st != dnnl_success) throw dnnl::error(st, "dnnl_sgemm failed");
    if (swap) {
      const float* t = ct.data();
#pragma omp parallel for schedule(static) if (m * n > (1 << 15))
      for (int64_t r = 0; r < m; r++)
        for (int64_t j = 0; j < n; j++) ci[r * n + j] = t[j * m + r];
    }
  }
}

}  // namespace fewshot
