// Convolutions with one output channel: a correlation filter's response over a feature map, as
// the tracker's discriminative filter computes it every frame (9 maps of 32x32x64 (*) an 8x8x64x1
// filter, forward and filter gradient, twice per refinement) and as SiamFC's cross-correlation
// does with the exemplar as the filter. oneDNN's direct kernels block over output channels and
// here have one to block: that forward took 2.2 ms, against 0.7 ms for oneDNN's depthwise kernel
// plus a channel sum (2 threads). These loops vectorise over the input channels instead, which
// are contiguous in NHWC activations and HWIO filters, and with dilation 1 so is a whole filter
// row (kw x ic values).
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels.h"

namespace fewshot {
namespace {

// Lanes of independent partial sums: two AVX2 (or one AVX-512) registers of FMAs in flight, and
// no reassociation needed from the compiler, so the result does not depend on -ffast-math.
constexpr int64_t kLanes = 16;

float dot(const float* __restrict a, const float* __restrict b, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; l++) acc[l] += a[i + l] * b[i + l];
  float s = 0.f;
  for (; i < n; i++) s += a[i] * b[i];
  for (int64_t l = 0; l < kLanes; l++) s += acc[l];
  return s;
}

void axpy(float r, const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += r * x[i];
}

// The filter taps kx of row ky that land inside the input for output column ox: [first, last).
void validTaps(const ConvGeometry& g, int64_t ox, int64_t& first, int64_t& last) {
  const int64_t x0 = ox * g.sw - g.pl;
  first = x0 >= 0 ? 0 : (-x0 + g.dw - 1) / g.dw;
  last = std::min(g.kw, (g.iw - x0 + g.dw - 1) / g.dw);
  if (last < first) last = first;
}

}  // namespace

bool singleOutputPays(const ConvGeometry& g, int64_t groups) {
  static const bool enabled = [] {
    const char* v = std::getenv("FEWSHOT_CONV_SINGLE_OUTPUT");
    return !(v && std::string(v) == "0");
  }();
  // Below 8 input channels there is little to vectorise over; oneDNN keeps those.
  return enabled && groups == 1 && g.oc == 1 && g.ic >= 8;
}

void singleOutputConvForward(const ConvGeometry& g, const float* x, const float* w, float* y) {
  const int64_t ic = g.ic;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < g.n; b++) {
    for (int64_t oy = 0; oy < g.oh; oy++) {
      for (int64_t ox = 0; ox < g.ow; ox++) {
        int64_t k0, k1;
        validTaps(g, ox, k0, k1);
        const int64_t ix0 = ox * g.sw - g.pl;
        float sum = 0.f;
        for (int64_t ky = 0; ky < g.kh; ky++) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.ih || k1 == k0) continue;
          const float* xr = x + ((b * g.ih + iy) * g.iw) * ic;
          const float* wr = w + ky * g.kw * ic;
          if (g.dw == 1) {
            sum += dot(xr + (ix0 + k0) * ic, wr + k0 * ic, (k1 - k0) * ic);
          } else {
            for (int64_t kx = k0; kx < k1; kx++) sum += dot(xr + (ix0 + kx * g.dw) * ic, wr + kx * ic, ic);
          }
        }
        y[(b * g.oh + oy) * g.ow + ox] = sum;
      }
    }
  }
}

void singleOutputConvBackwardWeights(const ConvGeometry& g, const float* x, const float* dy, float* dw, float* db) {
  const int64_t ic = g.ic, row = g.kw * ic;
  std::fill(dw, dw + g.kh * row, 0.f);
  // One task per filter row: each accumulates its own kw x ic values (in L1), no reduction across threads.
#pragma omp parallel for schedule(static)
  for (int64_t ky = 0; ky < g.kh; ky++) {
    float* out = dw + ky * row;
    for (int64_t b = 0; b < g.n; b++) {
      for (int64_t oy = 0; oy < g.oh; oy++) {
        const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
        if (iy < 0 || iy >= g.ih) continue;
        const float* xr = x + ((b * g.ih + iy) * g.iw) * ic;
        const float* d = dy + (b * g.oh + oy) * g.ow;
        for (int64_t ox = 0; ox < g.ow; ox++) {
          int64_t k0, k1;
          validTaps(g, ox, k0, k1);
          const int64_t ix0 = ox * g.sw - g.pl;
          if (g.dw == 1) {
            axpy(d[ox], xr + (ix0 + k0) * ic, out + k0 * ic, (k1 - k0) * ic);
          } else {
            for (int64_t kx = k0; kx < k1; kx++) axpy(d[ox], xr + (ix0 + kx * g.dw) * ic, out + kx * ic, ic);
          }
        }
      }
    }
  }
  if (db) {
    double s = 0;
    for (int64_t i = 0; i < g.n * g.oh * g.ow; i++) s += dy[i];
    db[0] = float(s);
  }
}

}  // namespace fewshot
