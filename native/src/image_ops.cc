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
