// A loaded model compiled for inference: one oneDNN primitive per layer group, built once per
// batch size, with activations kept in oneDNN's blocked layouts between layers and weights
// reordered once. Layers are described by InferenceOp (batch norm already folded into the
// convolution weights by the caller); input and output are NHWC float32 buffers.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace fewshot {

struct InferenceOp {
  // kSave remembers the current activations for a later kResidualAdd, which adds them (through a
  // projection convolution when `weights` is not empty: kh x kw window, batch norm folded in) to
  // the current activations in place, then applies `activation`. Saves nest like brackets.
  enum Kind { kConv = 0, kMaxPool = 1, kAvgPool = 2, kLayerNorm = 3, kAffine = 4, kDense = 5, kSave = 6, kResidualAdd = 7 };
  int kind = kConv;
  // Window ops (conv, pooling): kernel, strides, dilations (1 = none), paddings top/bottom/left/right.
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pb = 0, pl = 0, pr = 0;
  int64_t outChannels = 0;   // conv filters / dense units
  std::vector<float> weights;  // conv / projection HWIO, dense [in, units], layer-norm gamma (h*w*c)
  std::vector<float> bias;     // conv / projection / dense bias, layer-norm beta
  int activation = 0;          // kernels.h Activation, fused as a post-op
  float alpha = 0;
  float scale = 1, offset = 0, epsilon = 0;  // affine (x*scale+offset) and layer-norm epsilon
};

class InferencePlan {
 public:
  // Input images are h x w x c; throws std::invalid_argument for impossible geometry.
  InferencePlan(std::vector<InferenceOp> ops, int64_t h, int64_t w, int64_t c);
  ~InferencePlan();
  // Output values per image (the flattened NHWC result of the last op).
  int64_t outputSize() const { return outSize_; }
  // Input values per image (h * w * c).
  int64_t inputSize() const { return h_ * w_ * c_; }
  // y[n * outputSize()] = model(x[n * h * w * c]).
  void run(const float* x, int64_t n, float* y);

 private:
  struct Compiled;
  // Slot: the thread number of a per-thread pipeline, or kTeam for a plan whose primitives
  // split their work over all threads.
  static constexpr int kTeam = -1;
  using Key = std::pair<int, int64_t>;  // (slot, batch size)
  Compiled& compiled(int64_t n, int slot);
  static void runOn(Compiled& c, const float* x, float* y);
  std::vector<InferenceOp> ops_;
  int64_t h_, w_, c_, outSize_;
  double flopsPerImage_ = 0;  // multiply-adds x 2 of the convolutions and dense layers
  std::mutex mutex_;  // guards the two maps: pipelines look up their plans at once
  std::map<Key, std::unique_ptr<Compiled>> byBatch_;
  std::map<int, std::vector<int64_t>> lru_;
};

}  // namespace fewshot
