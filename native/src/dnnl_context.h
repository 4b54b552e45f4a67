// The one oneDNN CPU engine and stream every kernel in this addon runs on.
#pragma once
#include <dnnl.hpp>

namespace fewshot {
dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();
// Appends a kernels.h Activation to a primitive's post-ops (kLinear: nothing).
void appendActivation(dnnl::post_ops& ops, int activation, float alpha);
}  // namespace fewshot
