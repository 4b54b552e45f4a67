// Image resampling: ResizeBilinear with tfjs-backend-cpu's exact arithmetic (source positions and
// weights in double, like its JavaScript), split over output rows. face-api resizes every photo to
// its detector's input and every face crop to its landmark and descriptor inputs: on the cpu
// kernel that was ~10 ms per 512x512 resize.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels.h"

namespace fewshot {

template <typename T>
static void resizeBilinearImpl(const T* x, int64_t n, int64_t ih, int64_t iw, int64_t c, int64_t oh, int64_t ow,
                               bool alignCorners, bool halfPixelCenters, float* y) {
  const double rowRatio = double(alignCorners && oh > 1 ? ih - 1 : ih) / double(alignCorners && oh > 1 ? oh - 1 : oh);
  const double colRatio = double(alignCorners && ow > 1 ? iw - 1 : iw) / double(alignCorners && ow > 1 ? ow - 1 : ow);
  // Per output column: left/right source columns and the weight, computed once.
  std::vector<int64_t> left(ow), right(ow);
  std::vector<double> colFrac(ow);
  for (int64_t j = 0; j < ow; j++) {
    const double src = halfPixelCenters ? colRatio * (j + 0.5) - 0.5 : colRatio * j;
    const double lo = std::max(0.0, std::floor(src));
    left[j] = int64_t(lo) * c;
    right[j] = std::min(iw - 1, int64_t(std::ceil(src))) * c;
    colFrac[j] = src - lo;
  }
#pragma omp parallel for schedule(static) if (n * oh * ow * c > (1 << 15))
  for (int64_t br = 0; br < n * oh; br++) {
    const int64_t b = br / oh, r = br % oh;
    const double src = halfPixelCenters ? rowRatio * (r + 0.5) - 0.5 : rowRatio * r;
    const double lo = std::max(0.0, std::floor(src));
    const double rowFrac = src - lo;
    const T* top = x + (b * ih + int64_t(lo)) * iw * c;
    const T* bot = x + (b * ih + std::min(ih - 1, int64_t(std::ceil(src)))) * iw * c;
    float* out = y + br * ow * c;
    for (int64_t j = 0; j < ow; j++) {
      const double cf = colFrac[j];
      for (int64_t d = 0; d < c; d++) {
        const double tl = top[left[j] + d], tr = top[right[j] + d], bl = bot[left[j] + d], brr = bot[right[j] + d];
        const double t = tl + (tr - tl) * cf, bo = bl + (brr - bl) * cf;
        out[j * c + d] = float(t + (bo - t) * rowFrac);
      }
    }
  }
}

void resizeBilinear(const float* x, int64_t n, int64_t ih, int64_t iw, int64_t c, int64_t oh, int64_t ow,
                    bool alignCorners, bool halfPixelCenters, float* y) {
  resizeBilinearImpl(x, n, ih, iw, c, oh, ow, alignCorners, halfPixelCenters, y);
}
void resizeBilinearInt32(const int32_t* x, int64_t n, int64_t ih, int64_t iw, int64_t c, int64_t oh, int64_t ow,
                         bool alignCorners, bool halfPixelCenters, float* y) {
  resizeBilinearImpl(x, n, ih, iw, c, oh, ow, alignCorners, halfPixelCenters, y);
}

}  // namespace fewshot

namespace fewshot {

// The tracker's crop (src/tracking/crop.ts): its two separable passes over taps the caller has
// tabulated, in the same double-precision operations in the same order, so the result is bitwise
// the JavaScript one (no fused multiply-adds: this function is compiled with fp-contract off).
// Rows of the horizontal pass, then output rows of the vertical one, are split over the threads.
__attribute__((optimize("fp-contract=off"))) void cropPasses(
    const uint8_t* data, int64_t width, int64_t channels, const int32_t* xIndex, const double* xWeight,
    const double* xOutside, const int32_t* yIndex, const double* yWeight, const double* yOutside, int64_t yFirst,
    int64_t rows, int64_t taps, int64_t out, const double* fill, float* dst) {
  const int64_t rowLen = out * 3, g = channels == 3 ? 1 : 0;
  std::vector<double> horizontal(size_t(std::max<int64_t>(rows, 0) * rowLen));
  std::vector<uint8_t> needed(size_t(std::max<int64_t>(rows, 0)), 0);
  for (int64_t t = 0; t < out * taps; t++)
    if (yWeight[t] != 0) needed[yIndex[t] - yFirst] = 1;
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t r = 0; r < rows; r++) {
    if (!needed[r]) continue;
    const int64_t start = (yFirst + r) * width * channels;
    double* o = horizontal.data() + r * rowLen;
    for (int64_t ox = 0, j = 0; ox < out; ox++, o += 3) {
      const double share = xOutside[ox];
      double red = share * fill[0], green = share * fill[1], blue = share * fill[2];
      for (const int64_t end = j + taps; j < end; j++) {
        const double w = xWeight[j];
        const int64_t p = start + xIndex[j];
        red += w * data[p];
        green += w * data[p + g];
        blue += w * data[p + 2 * g];
      }
      o[0] = red;
      o[1] = green;
      o[2] = blue;
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t oy = 0; oy < out; oy++) {
    std::vector<double> acc(static_cast<size_t>(rowLen));
    const double share = yOutside[oy];
    for (int64_t i = 0; i < rowLen; i += 3) {
      acc[i] = share * fill[0];
      acc[i + 1] = share * fill[1];
      acc[i + 2] = share * fill[2];
    }
    for (int64_t j = oy * taps, end = j + taps; j < end; j++) {
      const double w = yWeight[j];
      if (w == 0) continue;
      const double* h = horizontal.data() + (yIndex[j] - yFirst) * rowLen;
      for (int64_t i = 0; i < rowLen; i++) acc[i] += w * h[i];
    }
    float* o = dst + oy * rowLen;
    for (int64_t i = 0; i < rowLen; i++) o[i] = float(acc[i] / 255);
  }
}

}  // namespace fewshot
