// oneDNN convolutions and GEMM. Activations stay in TF.js's NHWC buffers (oneDNN runs nhwc
// kernels on them directly); only the small filters are reordered into the blocked layout the
// chosen kernel wants. Primitives are created once per geometry and reused every step.
#include <dnnl.hpp>

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
  memory::desc src, dst;
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

std::string keyOf(const char* kind, const ConvGeometry& g, int a = 0, float alpha = 0, bool bias = false) {
  std::string k(kind);
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
Descs descsOf(const ConvGeometry& g, int64_t groups = 1) {
  Descs d;
  d.src = memory::desc({g.n, g.ic, g.ih, g.iw}, dt::f32, tag::nhwc);
  d.dst = memory::desc({g.n, g.oc, g.oh, g.ow}, dt::f32, tag::nhwc);
  if (groups > 1) {
    const memory::dims w{groups, g.oc / groups, g.ic / groups, g.kh, g.kw};
    d.weightsUser = memory::desc(w, dt::f32, tag::hwigo);
    d.weightsAny = memory::desc(w, dt::f32, tag::any);
  } else {
    d.weightsUser = memory::desc({g.oc, g.ic, g.kh, g.kw}, dt::f32, tag::hwio);
    d.weightsAny = memory::desc({g.oc, g.ic, g.kh, g.kw}, dt::f32, tag::any);
  }
  d.bias = memory::desc({g.oc}, dt::f32, tag::x);
  d.strides = {g.sh, g.sw};
  d.dilates = {g.dh - 1, g.dw - 1};
  d.padL = {g.pt, g.pl};
  d.padR = {g.pb, g.pr};
  return d;
}

convolution_forward::primitive_desc forwardPd(const Descs& d, bool withBias, const primitive_attr& attr) {
  auto desc = withBias
      ? convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, d.src,
                                  d.weightsAny, d.bias, d.dst, d.strides, d.dilates, d.padL, d.padR)
      : convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, d.src,
                                  d.weightsAny, d.dst, d.strides, d.dilates, d.padL, d.padR);
  return convolution_forward::primitive_desc(desc, attr, cpuEngine());
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

}  // namespace

void conv2dForward(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y,
                   int activation, float alpha, int64_t groups) {
  const std::string key = keyOf("fwd", g, activation, alpha, bias != nullptr) + ",g" + std::to_string(groups);
  auto p = cache().get(key);
  if (!p) {
    p = std::make_shared<ConvPrimitive>();
    Descs d = descsOf(g, groups);
    post_ops ops;
    appendActivation(ops, activation, alpha);
    primitive_attr attr;
    attr.set_post_ops(ops);
    auto pd = forwardPd(d, bias != nullptr, attr);
    p->prim = convolution_forward(pd);
    p->weightsUser = d.weightsUser;
    p->src = d.src;
    p->dst = d.dst;
    prepareWeights(*p, pd.weights_desc(), true);
    cache().put(key, p);
  }
  auto& eng = cpuEngine();
  auto& s = cpuStream();
  memory src(p->src, eng, const_cast<float*>(x));
  memory dst(p->dst, eng, y);
  memory wUse = weightsFor(*p, w);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wUse}, {DNNL_ARG_DST, dst}};
  if (bias) args.insert({DNNL_ARG_BIAS, memory(memory::desc({g.oc}, dt::f32, tag::x), eng, const_cast<float*>(bias))});
  p->prim.execute(s, args);
  s.wait();
}

void conv2dBackwardData(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  const std::string key = keyOf("bwd_data", g);
  auto p = cache().get(key);
  if (!p) {
    p = std::make_shared<ConvPrimitive>();
    Descs d = descsOf(g);
    auto hint = forwardPd(d, false, primitive_attr());
    auto desc = convolution_backward_data::desc(algorithm::convolution_direct, d.src, d.weightsAny, d.dst,
                                                d.strides, d.dilates, d.padL, d.padR);
    auto pd = convolution_backward_data::primitive_desc(desc, cpuEngine(), hint);
    p->prim = convolution_backward_data(pd);
    p->weightsUser = d.weightsUser;
    p->src = d.src;
    p->dst = d.dst;
    prepareWeights(*p, pd.weights_desc(), true);
    cache().put(key, p);
  }
  auto& eng = cpuEngine();
  auto& s = cpuStream();
  memory diffDst(p->dst, eng, const_cast<float*>(dy));
  memory diffSrc(p->src, eng, dx);
  memory wUse = weightsFor(*p, w);
  p->prim.execute(s, {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, wUse}, {DNNL_ARG_DIFF_SRC, diffSrc}});
  s.wait();
}

void conv2dBackwardWeights(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  const std::string key = keyOf("bwd_weights", g);
  auto p = cache().get(key);
  if (!p) {
    p = std::make_shared<ConvPrimitive>();
    Descs d = descsOf(g);
    auto hint = forwardPd(d, false, primitive_attr());
    auto desc = convolution_backward_weights::desc(algorithm::convolution_direct, d.src, d.weightsAny, d.dst,
                                                   d.strides, d.dilates, d.padL, d.padR);
    auto pd = convolution_backward_weights::primitive_desc(desc, cpuEngine(), hint);
    p->prim = convolution_backward_weights(pd);
    p->weightsUser = d.weightsUser;
    p->src = d.src;
    p->dst = d.dst;
    prepareWeights(*p, pd.diff_weights_desc(), false);
    cache().put(key, p);
  }
  auto& eng = cpuEngine();
  auto& s = cpuStream();
  memory src(p->src, eng, const_cast<float*>(x));
  memory diffDst(p->dst, eng, const_cast<float*>(dy));
  memory wUser(p->weightsUser, eng, dw);
  memory target = p->reorderWeights ? p->weightsScratch : wUser;
  p->prim.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, target}});
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
