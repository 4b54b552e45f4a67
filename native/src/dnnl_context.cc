#include "dnnl_context.h"

#include "kernels.h"

namespace fewshot {
dnnl::engine& cpuEngine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& cpuStream() {
  static dnnl::stream s(cpuEngine());
  return s;
}

void appendActivation(dnnl::post_ops& ops, int activation, float alpha) {
  using dnnl::algorithm;
  switch (activation) {
    case kRelu: ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); break;
    case kRelu6: ops.append_eltwise(1.f, algorithm::eltwise_clip_v2, 0.f, 6.f); break;
    case kElu: ops.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f); break;
    case kLeakyRelu: ops.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); break;
    case kSigmoid: ops.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); break;
    default: break;
  }
}
}  // namespace fewshot
