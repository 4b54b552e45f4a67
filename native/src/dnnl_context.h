// The one oneDNN CPU engine and stream every kernel in this addon runs on.
#pragma once
#include <dnnl.hpp>

namespace fewshot {
dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();
}  // namespace fewshot
