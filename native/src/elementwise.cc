// Memory-bound kernels (pooling, batch norm, elementwise, reductions, Adam): plain loops the
// compiler vectorises, split over the OpenMP threads oneDNN already uses.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels.h"

namespace fewshot {

// Below this many elements threading costs more than it saves.
static constexpr int64_t kParallelMin = 1 << 15;

static inline float activate(float v, int activation, float alpha) {
  switch (activation) {
    case kRelu: return v < 0.f ? 0.f : v;
    case kRelu6: return v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
    case kElu: return v > 0.f ? v : std::expm1(v);
    case kLeakyRelu: return v < 0.f ? alpha * v : v;
    case kSigmoid: return 1.f / (1.f + std::exp(-v));
    default: return v;
  }
}

void biasActivation(float* y, int64_t size, const float* bias, int64_t period, int activation, float alpha) {
  if (period > 0) {
    const int64_t rows = size / period;
#pragma omp parallel for schedule(static) if (size > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      float* row = y + r * period;
      for (int64_t j = 0; j < period; j++) row[j] = activate(row[j] + bias[j], activation, alpha);
    }
  } else if (activation != kLinear) {
#pragma omp parallel for schedule(static) if (size > kParallelMin)
    for (int64_t i = 0; i < size; i++) y[i] = activate(y[i], activation, alpha);
  }
}

// ---------------------------------------------------------------- pooling (NHWC)

void maxPool(const PoolGeometry& g, const float* x, float* y) {
  const int64_t c = g.c;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < g.n; b++) {
    for (int64_t oy = 0; oy < g.oh; oy++) {
      std::vector<float> best(c);
      for (int64_t ox = 0; ox < g.ow; ox++) {
        for (int64_t ch = 0; ch < c; ch++) best[ch] = -std::numeric_limits<float>::infinity();
        for (int64_t ky = 0; ky < g.kh; ky++) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.ih) continue;
          for (int64_t kx = 0; kx < g.kw; kx++) {
            const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.iw) continue;
            const float* px = x + ((b * g.ih + iy) * g.iw + ix) * c;
            for (int64_t ch = 0; ch < c; ch++) best[ch] = px[ch] > best[ch] ? px[ch] : best[ch];
          }
        }
        std::memcpy(y + ((b * g.oh + oy) * g.ow + ox) * c, best.data(), c * sizeof(float));
      }
    }
  }
}

void avgPool(const PoolGeometry& g, const float* x, float* y) {
  const int64_t c = g.c;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < g.n; b++) {
    for (int64_t oy = 0; oy < g.oh; oy++) {
      std::vector<double> acc(c);
      for (int64_t ox = 0; ox < g.ow; ox++) {
        for (int64_t ch = 0; ch < c; ch++) acc[ch] = 0;
        int64_t count = 0;
        for (int64_t ky = 0; ky < g.kh; ky++) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.ih) continue;
          for (int64_t kx = 0; kx < g.kw; kx++) {
            const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.iw) continue;
            const float* px = x + ((b * g.ih + iy) * g.iw + ix) * c;
            for (int64_t ch = 0; ch < c; ch++) acc[ch] += px[ch];
            count++;
          }
        }
        float* out = y + ((b * g.oh + oy) * g.ow + ox) * c;
        for (int64_t ch = 0; ch < c; ch++) out[ch] = count ? float(acc[ch] / count) : 0.f;
      }
    }
  }
}

// Non-overlapping windows (stride == window, no padding or dilation: every 2x2/2 pool of a
// conv net): each dx element belongs to at most one window, so dx is written once, window by
// window (argmax as a small index, vectorised), with no zero-fill pass and no scatter.
static bool tiles(const PoolGeometry& g) {
  return g.sh == g.kh && g.sw == g.kw && g.dh == 1 && g.dw == 1 && g.pt == 0 && g.pl == 0 && g.oh * g.kh <= g.ih &&
         g.ow * g.kw <= g.iw;
}

static void maxPoolGradTiled(const PoolGeometry& g, const float* dy, const float* x, float* dx) {
  const int64_t c = g.c;
  const bool remainder = g.oh * g.kh != g.ih || g.ow * g.kw != g.iw;  // rows/columns no window covers
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < g.n; b++) {
    if (remainder) std::memset(dx + b * g.ih * g.iw * c, 0, g.ih * g.iw * c * sizeof(float));
    // The window position of the maximum, kept as a float so compare-and-blend stays in one
    // vector type (mixing an int index with float data did not vectorise: 2.7x slower).
    std::vector<float> best(c), arg(c);
    float* __restrict pb = best.data();
    float* __restrict pa = arg.data();
    for (int64_t oy = 0; oy < g.oh; oy++) {
      for (int64_t ox = 0; ox < g.ow; ox++) {
        for (int64_t ch = 0; ch < c; ch++) {
          pb[ch] = -std::numeric_limits<float>::infinity();
          pa[ch] = -1.f;
        }
        float k = 0.f;
        for (int64_t ky = 0; ky < g.kh; ky++) {
          for (int64_t kx = 0; kx < g.kw; kx++, k += 1.f) {
            const float* __restrict px = x + ((b * g.ih + oy * g.kh + ky) * g.iw + ox * g.kw + kx) * c;
#pragma omp simd
            for (int64_t ch = 0; ch < c; ch++) {
              // Strictly greater: the first maximum in scan order wins, as in tfjs-backend-cpu.
              const bool better = px[ch] > pb[ch];
              pb[ch] = better ? px[ch] : pb[ch];
              pa[ch] = better ? k : pa[ch];
            }
          }
        }
        const float* __restrict g0 = dy + ((b * g.oh + oy) * g.ow + ox) * c;
        k = 0.f;
        for (int64_t ky = 0; ky < g.kh; ky++) {
          for (int64_t kx = 0; kx < g.kw; kx++, k += 1.f) {
            float* __restrict pd = dx + ((b * g.ih + oy * g.kh + ky) * g.iw + ox * g.kw + kx) * c;
#pragma omp simd
            for (int64_t ch = 0; ch < c; ch++) pd[ch] = pa[ch] == k ? g0[ch] : 0.f;
          }
        }
      }
    }
  }
}

void maxPoolGrad(const PoolGeometry& g, const float* dy, const float* x, float* dx) {
  if (tiles(g)) return maxPoolGradTiled(g, dy, x, dx);
  const int64_t c = g.c;
  // Images are independent, so threads split the batch and never write the same dx element.
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < g.n; b++) {
    std::memset(dx + b * g.ih * g.iw * c, 0, g.ih * g.iw * c * sizeof(float));
    std::vector<float> best(c);
    std::vector<int64_t> where(c);
    for (int64_t oy = 0; oy < g.oh; oy++) {
      for (int64_t ox = 0; ox < g.ow; ox++) {
        for (int64_t ch = 0; ch < c; ch++) {
          best[ch] = -std::numeric_limits<float>::infinity();
          where[ch] = -1;
        }
        for (int64_t ky = 0; ky < g.kh; ky++) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.ih) continue;
          for (int64_t kx = 0; kx < g.kw; kx++) {
            const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.iw) continue;
            const int64_t base = ((b * g.ih + iy) * g.iw + ix) * c;
            const float* px = x + base;
            for (int64_t ch = 0; ch < c; ch++) {
              // Strictly greater: the first maximum in scan order wins, as in tfjs-backend-cpu.
              const bool better = px[ch] > best[ch];
              best[ch] = better ? px[ch] : best[ch];
              where[ch] = better ? base + ch : where[ch];
            }
          }
        }
        const float* g0 = dy + ((b * g.oh + oy) * g.ow + ox) * c;
        for (int64_t ch = 0; ch < c; ch++)
          if (where[ch] >= 0) dx[where[ch]] += g0[ch];
      }
    }
  }
}

// ---------------------------------------------------------------- batch norm

void batchNorm(const float* x, int64_t size, int64_t c, const float* mean, int64_t meanSize, const float* var,
               int64_t varSize, const float* offset, int64_t offsetSize, const float* scale, int64_t scaleSize,
               float eps, float* y) {
  std::vector<float> mu(c), rs(c), off(c);
  for (int64_t j = 0; j < c; j++) {
    mu[j] = mean[meanSize == 1 ? 0 : j];
    const float s = scale ? scale[scaleSize == 1 ? 0 : j] : 1.f;
    rs[j] = s / std::sqrt(var[varSize == 1 ? 0 : j] + eps);
    off[j] = offset ? offset[offsetSize == 1 ? 0 : j] : 0.f;
  }
  const int64_t rows = size / c;
  const float *pm = mu.data(), *pr = rs.data(), *po = off.data();
#pragma omp parallel for schedule(static) if (size > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* xi = x + r * c;
    float* yi = y + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) yi[j] = (xi[j] - pm[j]) * pr[j] + po[j];
  }
}

void batchNormGrad(const float* x, const float* dy, int64_t size, int64_t c, const float* mean, const float* var,
                   const float* scale, float eps, float* dx, float* dmean, float* dvar, float* dscale,
                   float* doffset) {
  const int64_t rows = size / c;
  std::vector<float> rsq(c), sc(c);
  for (int64_t j = 0; j < c; j++) {
    rsq[j] = 1.f / std::sqrt(var[j] + eps);
    sc[j] = scale ? scale[j] : 1.f;
  }
  const int threads = omp_get_max_threads();
  // Per-thread partial sums of dy and dy*(x-mean), then combined: one read of x and dy.
  std::vector<double> sumDy(size_t(threads) * c, 0.0), sumDyXm(size_t(threads) * c, 0.0);
  const float *prs = rsq.data(), *psc = sc.data();
#pragma omp parallel if (size > kParallelMin)
  {
    const int t = omp_get_thread_num();
    double* sdy = sumDy.data() + size_t(t) * c;
    double* sdx = sumDyXm.data() + size_t(t) * c;
    std::vector<float> accDy(c, 0.f), accDyXm(c, 0.f);
    int64_t inBlock = 0;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      const float* xi = x + r * c;
      const float* gi = dy + r * c;
      float* di = dx + r * c;
#pragma omp simd
      for (int64_t j = 0; j < c; j++) {
        accDy[j] += gi[j];
        accDyXm[j] += gi[j] * (xi[j] - mean[j]);
        di[j] = gi[j] * prs[j] * psc[j];
      }
      // Flush float partials to double every few rows to keep the sums accurate.
      if (++inBlock == 64) {
        for (int64_t j = 0; j < c; j++) {
          sdy[j] += accDy[j];
          sdx[j] += accDyXm[j];
          accDy[j] = accDyXm[j] = 0.f;
        }
        inBlock = 0;
      }
    }
    for (int64_t j = 0; j < c; j++) {
      sdy[j] += accDy[j];
      sdx[j] += accDyXm[j];
    }
  }
  for (int64_t j = 0; j < c; j++) {
    double s1 = 0, s2 = 0;
    for (int t = 0; t < threads; t++) {
      s1 += sumDy[size_t(t) * c + j];
      s2 += sumDyXm[size_t(t) * c + j];
    }
    const double r = rsq[j];
    if (doffset) doffset[j] = float(s1);
    if (dscale) dscale[j] = float(s2 * r);
    if (dmean) dmean[j] = float(-r * sc[j] * s1);
    if (dvar) dvar[j] = float(-0.5 * r * r * r * sc[j] * s2);
  }
}

// ---------------------------------------------------------------- elementwise

template <typename F>
static void binaryLoop(F f, const float* a, const float* b, float* y, int64_t size, int mode, int64_t m) {
  switch (mode) {
    case 0:
#pragma omp parallel for simd schedule(static) if (size > kParallelMin)
      for (int64_t i = 0; i < size; i++) y[i] = f(a[i], b[i]);
      break;
    case 1: {
      const int64_t rows = size / m;
#pragma omp parallel for schedule(static) if (size > kParallelMin)
      for (int64_t r = 0; r < rows; r++) {
        const float* ar = a + r * m;
        float* yr = y + r * m;
#pragma omp simd
        for (int64_t j = 0; j < m; j++) yr[j] = f(ar[j], b[j]);
      }
      break;
    }
    case 2: {
      const int64_t rows = size / m;
#pragma omp parallel for schedule(static) if (size > kParallelMin)
      for (int64_t r = 0; r < rows; r++) {
        const float* br = b + r * m;
        float* yr = y + r * m;
#pragma omp simd
        for (int64_t j = 0; j < m; j++) yr[j] = f(a[j], br[j]);
      }
      break;
    }
    case 3: {
      const int64_t rows = size / m;
#pragma omp parallel for schedule(static) if (size > kParallelMin)
      for (int64_t r = 0; r < rows; r++) {
        const float* ar = a + r * m;
        const float bv = b[r];
        float* yr = y + r * m;
#pragma omp simd
        for (int64_t j = 0; j < m; j++) yr[j] = f(ar[j], bv);
      }
      break;
    }
    case 4: {
      const int64_t rows = size / m;
#pragma omp parallel for schedule(static) if (size > kParallelMin)
      for (int64_t r = 0; r < rows; r++) {
        const float* br = b + r * m;
        const float av = a[r];
        float* yr = y + r * m;
#pragma omp simd
        for (int64_t j = 0; j < m; j++) yr[j] = f(av, br[j]);
      }
      break;
    }
  }
}

void binary(int op, const float* a, const float* b, float* y, int64_t size, int mode, int64_t m) {
  switch (op) {
    case kAdd: return binaryLoop([](float p, float q) { return p + q; }, a, b, y, size, mode, m);
    case kSub: return binaryLoop([](float p, float q) { return p - q; }, a, b, y, size, mode, m);
    case kMul: return binaryLoop([](float p, float q) { return p * q; }, a, b, y, size, mode, m);
    case kDiv: return binaryLoop([](float p, float q) { return p / q; }, a, b, y, size, mode, m);
    case kMax:
      return binaryLoop([](float p, float q) { return (std::isnan(p) || std::isnan(q)) ? NAN : (p > q ? p : q); },
                        a, b, y, size, mode, m);
    case kMin:
      return binaryLoop([](float p, float q) { return (std::isnan(p) || std::isnan(q)) ? NAN : (p < q ? p : q); },
                        a, b, y, size, mode, m);
    case kSquaredDiff: return binaryLoop([](float p, float q) { return (p - q) * (p - q); }, a, b, y, size, mode, m);
    // dy * (x > 0): Relu's gradient in one pass instead of Step + Cast + Multiply.
    case kReluGradOp: return binaryLoop([](float g, float v) { return v > 0.f ? g : 0.f; }, a, b, y, size, mode, m);
    case kPow: return binaryLoop([](float p, float q) { return std::pow(p, q); }, a, b, y, size, mode, m);
    case kSecond: return binaryLoop([](float, float q) { return q; }, a, b, y, size, mode, m);
  }
}

template <typename F>
static void unaryLoop(F f, const float* x, float* y, int64_t size) {
#pragma omp parallel for simd schedule(static) if (size > kParallelMin)
  for (int64_t i = 0; i < size; i++) y[i] = f(x[i]);
}

void unary(int op, const float* x, float* y, int64_t size, float alpha) {
  switch (op) {
    case kReluU: return unaryLoop([](float v) { return v < 0.f ? 0.f : v; }, x, y, size);
    case kStep: return unaryLoop([alpha](float v) { return std::isnan(v) ? NAN : (v > 0.f ? 1.f : alpha); }, x, y, size);
    case kSquare: return unaryLoop([](float v) { return v * v; }, x, y, size);
    case kSqrt: return unaryLoop([](float v) { return std::sqrt(v); }, x, y, size);
    case kRsqrt: return unaryLoop([](float v) { return 1.f / std::sqrt(v); }, x, y, size);
    case kExp: return unaryLoop([](float v) { return std::exp(v); }, x, y, size);
    case kLog: return unaryLoop([](float v) { return std::log(v); }, x, y, size);
    case kSigmoidU: return unaryLoop([](float v) { return 1.f / (1.f + std::exp(-v)); }, x, y, size);
    case kNeg: return unaryLoop([](float v) { return -v; }, x, y, size);
    case kAbs: return unaryLoop([](float v) { return std::fabs(v); }, x, y, size);
    case kTanh: return unaryLoop([](float v) { return std::tanh(v); }, x, y, size);
    case kReciprocal: return unaryLoop([](float v) { return 1.f / v; }, x, y, size);
    case kRelu6U: return unaryLoop([](float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); }, x, y, size);
    case kEluU: return unaryLoop([](float v) { return v > 0.f ? v : std::expm1(v); }, x, y, size);
    case kLeakyReluU: return unaryLoop([alpha](float v) { return v < 0.f ? alpha * v : v; }, x, y, size);
    case kSoftplus: return unaryLoop([](float v) { return v > 20.f ? v : std::log1p(std::exp(v)); }, x, y, size);
    case kScale: return unaryLoop([alpha](float v) { return v * alpha; }, x, y, size);
    case kAddScalar: return unaryLoop([alpha](float v) { return v + alpha; }, x, y, size);
    case kFill: return unaryLoop([alpha](float) { return alpha; }, x, y, size);
  }
}

// ---------------------------------------------------------------- reductions

void reduceRows(int kind, const float* x, int64_t outer, int64_t inner, double scale, float* y) {
  const int threads = omp_get_max_threads();
  std::vector<double> part(size_t(threads) * inner);
  const double init = kind == kSum ? 0.0 : (kind == kMaxR ? -INFINITY : INFINITY);
  std::fill(part.begin(), part.end(), init);
#pragma omp parallel if (outer * inner > kParallelMin)
  {
    double* acc = part.data() + size_t(omp_get_thread_num()) * inner;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < outer; r++) {
      const float* xr = x + r * inner;
      if (kind == kSum) {
#pragma omp simd
        for (int64_t j = 0; j < inner; j++) acc[j] += xr[j];
      } else if (kind == kMaxR) {
        for (int64_t j = 0; j < inner; j++) acc[j] = (xr[j] > acc[j] || std::isnan(xr[j])) ? xr[j] : acc[j];
      } else {
        for (int64_t j = 0; j < inner; j++) acc[j] = (xr[j] < acc[j] || std::isnan(xr[j])) ? xr[j] : acc[j];
      }
    }
  }
  for (int64_t j = 0; j < inner; j++) {
    double v = part[j];
    for (int t = 1; t < threads; t++) {
      const double w = part[size_t(t) * inner + j];
      if (kind == kSum) v += w;
      else if (kind == kMaxR) v = (w > v || std::isnan(w)) ? w : v;
      else v = (w < v || std::isnan(w)) ? w : v;
    }
    y[j] = float(kind == kSum ? v * scale : v);
  }
}

void reduceCols(int kind, const float* x, int64_t outer, int64_t inner, double scale, float* y) {
#pragma omp parallel for schedule(static) if (outer * inner > kParallelMin)
  for (int64_t r = 0; r < outer; r++) {
    const float* xr = x + r * inner;
    double v = kind == kSum ? 0.0 : (kind == kMaxR ? -INFINITY : INFINITY);
    if (kind == kSum) {
#pragma omp simd reduction(+ : v)
      for (int64_t j = 0; j < inner; j++) v += xr[j];
      y[r] = float(v * scale);
    } else {
      for (int64_t j = 0; j < inner; j++) {
        const double w = xr[j];
        if (kind == kMaxR) v = (w > v || std::isnan(w)) ? w : v;
        else v = (w < v || std::isnan(w)) ? w : v;
      }
      y[r] = float(v);
    }
  }
}

// ---------------------------------------------------------------- optimizer

void adam(const float* var, const float* grad, const float* m, const float* v, int64_t size, float lr, float beta1,
          float beta2, float eps, float beta1Power, float beta2Power, float* varOut, float* mOut, float* vOut) {
  // Same arithmetic as tf.train.adam: m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps).
  const float c1 = 1.f / (1.f - beta1Power), c2 = 1.f / (1.f - beta2Power);
#pragma omp parallel for simd schedule(static) if (size > kParallelMin)
  for (int64_t i = 0; i < size; i++) {
    const float g = grad[i];
    const float mi = beta1 * m[i] + (1.f - beta1) * g;
    const float vi = beta2 * v[i] + (1.f - beta2) * g * g;
    mOut[i] = mi;
    vOut[i] = vi;
    varOut[i] = var[i] - lr * (mi * c1) / (std::sqrt(vi * c2) + eps);
  }
}

}  // namespace fewshot

namespace fewshot {

// Per-channel sums of f(row) over all rows, in double, split over threads.
template <typename F>
static void channelSums(int64_t rows, int64_t c, int64_t size, std::vector<double>& s1, std::vector<double>& s2, F f) {
  const int threads = omp_get_max_threads();
  std::vector<double> p1(size_t(threads) * c, 0.0), p2(size_t(threads) * c, 0.0);
#pragma omp parallel if (size > kParallelMin)
  {
    const int t = omp_get_thread_num();
    double* a1 = p1.data() + size_t(t) * c;
    double* a2 = p2.data() + size_t(t) * c;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) f(r, a1, a2);
  }
  s1.assign(c, 0.0);
  s2.assign(c, 0.0);
  for (int t = 0; t < threads; t++)
    for (int64_t j = 0; j < c; j++) {
      s1[j] += p1[size_t(t) * c + j];
      s2[j] += p2[size_t(t) * c + j];
    }
}

// y = (x - mean) * scale + shift per channel, then max(0, .) when Relu. Branch-free so the
// compiler vectorises it (a data-dependent branch per element is a 50% misprediction after
// batch norm).
template <bool Relu>
static void normalizeRows(const float* x, float* y, int64_t rows, int64_t c, int64_t size, const float* pm,
                          const float* ps, const float* pb) {
#pragma omp parallel for schedule(static) if (size > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * c;
    float* __restrict yr = y + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) {
      const float v = (xr[j] - pm[j]) * ps[j] + pb[j];
      yr[j] = Relu ? std::max(v, 0.f) : v;
    }
  }
}

// The normalisation as y = (x - mu) * scale + shift, from the batch statistics.
static void affineOf(const float* mean, const float* var, const float* gamma, const float* beta, float eps, int64_t c,
                     std::vector<float>& mu, std::vector<float>& scale, std::vector<float>& shift) {
  mu.resize(c), scale.resize(c), shift.resize(c);
  for (int64_t j = 0; j < c; j++) {
    mu[j] = mean[j];
    scale[j] = float((gamma ? gamma[j] : 1.f) / std::sqrt(double(var[j]) + eps));
    shift[j] = beta ? beta[j] : 0.f;
  }
}

// Batch statistics of x [rows, c] (mean, biased variance) and the per-channel affine map of the
// normalisation: y = (x - mu) * scale + shift.
static void batchStatistics(const float* x, int64_t size, int64_t c, const float* gamma, const float* beta, float eps,
                            float* mean, float* var, std::vector<float>& mu, std::vector<float>& scale,
                            std::vector<float>& shift) {
  const int64_t rows = size / c;
  std::vector<double> s1, s2;
  channelSums(rows, c, size, s1, s2, [&](int64_t r, double* a1, double* a2) {
    const float* xr = x + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) {
      const double v = xr[j];
      a1[j] += v;
      a2[j] += v * v;
    }
  });
  for (int64_t j = 0; j < c; j++) {
    const double m = s1[j] / rows;
    const double v = std::max(0.0, s2[j] / rows - m * m);
    mean[j] = float(m);
    var[j] = float(v);
  }
  affineOf(mean, var, gamma, beta, eps, c, mu, scale, shift);
}

void batchNormTrain(const float* x, int64_t size, int64_t c, const float* gamma, const float* beta, float eps,
                    float* y, float* mean, float* var, bool relu) {
  const int64_t rows = size / c;
  std::vector<float> mu, scale, shift;
  batchStatistics(x, size, c, gamma, beta, eps, mean, var, mu, scale, shift);
  if (relu)
    normalizeRows<true>(x, y, rows, c, size, mu.data(), scale.data(), shift.data());
  else
    normalizeRows<false>(x, y, rows, c, size, mu.data(), scale.data(), shift.data());
}


// A training batch norm's gradient from the per-channel sums of g (the incoming gradient) and
// g (x - mean) over the `rows` pixels: dgamma, dbeta, and dx = k0 (g - k1 - (x - mean) k2), i.e.
// gamma*rstd * (g - mean(g) - (x-mean) * rstd^2 * mean(g*(x-mean))), the full derivative through
// the batch mean and variance.
static void gradientCoefficients(const std::vector<double>& sumDy, const std::vector<double>& sumDyXm, const float* var,
                                 const float* gamma, float eps, int64_t rows, int64_t c, float* dgamma, float* dbeta,
                                 std::vector<float>& k0, std::vector<float>& k1, std::vector<float>& k2) {
  k0.resize(c), k1.resize(c), k2.resize(c);
  for (int64_t j = 0; j < c; j++) {
    const double rstd = 1.0 / std::sqrt(double(var[j]) + eps);
    const double g = gamma ? gamma[j] : 1.0;
    if (dgamma) dgamma[j] = float(sumDyXm[j] * rstd);
    if (dbeta) dbeta[j] = float(sumDy[j]);
    k0[j] = float(g * rstd);
    k1[j] = float(sumDy[j] / rows);
    k2[j] = float(rstd * rstd * sumDyXm[j] / rows);
  }
}

// The two passes of batchNormTrainGrad; with Relu the incoming gradient is dy * (reluOut > 0),
// computed branch-free on the fly (a select per element did not vectorise: 7x slower).
template <bool Relu>
static void batchNormTrainGradImpl(const float* x, const float* dy, const float* reluOut, int64_t size, int64_t c,
                                   const float* mean, const float* var, const float* gamma, float eps, float* dx,
                                   float* dgamma, float* dbeta) {
  const int64_t rows = size / c;
  std::vector<double> sumDy, sumDyXm;
  channelSums(rows, c, size, sumDy, sumDyXm, [&](int64_t r, double* a1, double* a2) {
    const float* __restrict xr = x + r * c;
    const float* __restrict gr = dy + r * c;
    const float* __restrict yr = Relu ? reluOut + r * c : nullptr;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) {
      const float g = Relu ? gr[j] * float(yr[j] > 0.f) : gr[j];  // dy * step(y), as tfjs's Relu gradient
      a1[j] += g;
      a2[j] += double(g) * (xr[j] - mean[j]);
    }
  });
  std::vector<float> k0, k1, k2;
  gradientCoefficients(sumDy, sumDyXm, var, gamma, eps, rows, c, dgamma, dbeta, k0, k1, k2);
  const float *p0 = k0.data(), *p1 = k1.data(), *p2 = k2.data();
#pragma omp parallel for schedule(static) if (size > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * c;
    const float* __restrict gr = dy + r * c;
    const float* __restrict yr = Relu ? reluOut + r * c : nullptr;
    float* __restrict dr = dx + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) {
      const float g = Relu ? gr[j] * float(yr[j] > 0.f) : gr[j];  // dy * step(y), as tfjs's Relu gradient
      dr[j] = p0[j] * (g - p1[j] - (xr[j] - mean[j]) * p2[j]);
    }
  }
}

void batchNormTrainGrad(const float* x, const float* dy, int64_t size, int64_t c, const float* mean, const float* var,
                        const float* gamma, float eps, float* dx, float* dgamma, float* dbeta, const float* reluOut) {
  if (reluOut)
    batchNormTrainGradImpl<true>(x, dy, reluOut, size, c, mean, var, gamma, eps, dx, dgamma, dbeta);
  else
    batchNormTrainGradImpl<false>(x, dy, nullptr, size, c, mean, var, gamma, eps, dx, dgamma, dbeta);
}


// ---------------------------------------------------------------- batch norm + ReLU + 2x2 max-pool

// One 2x2 window of the normalised, rectified activations: y of its four pixels and, branch-free,
// which of them is the first maximum in scan order (tfjs-backend-cpu's MaxPoolGrad rule). The
// window's gradient goes to that pixel, times step(max), the ReLU's gradient.
// std::max's semantics on values: std::max on temporaries kept GCC from vectorising (6x slower)
static inline float maxOf(float a, float b) { return a < b ? b : a; }

// A 2x2 window's gradient gp split over its four (normalised, rectified) pixels y: all of it to
// the first maximum in scan order (tfjs-backend-cpu's MaxPoolGrad rule), times the ReLU's step.
// Branch-free: selects kept GCC from vectorising the loops that call it (4x slower).
static inline void routeWindow(float y00, float y01, float y10, float y11, float gp, float& g00, float& g01, float& g10,
                               float& g11) {
  const float gv = gp * float(maxOf(maxOf(y00, y01), maxOf(y10, y11)) > 0.f);
  const float w00 = float((y00 >= y01) & (y00 >= y10) & (y00 >= y11));
  const float w01 = (1.f - w00) * float((y01 >= y10) & (y01 >= y11));
  const float w10 = (1.f - w00 - w01) * float(y10 >= y11);
  g00 = w00 * gv;
  g01 = w01 * gv;
  g10 = w10 * gv;
  g11 = (1.f - w00 - w01 - w10) * gv;
}

// Training batch norm + ReLU + max-pool 2x2/2 'valid': only the pooled output is written (the
// full-size activations are never stored; the gradient recomputes them from x). x [n, h, w, c].
void batchNormReluPoolTrain(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* gamma,
                            const float* beta, float eps, float* pooled, float* mean, float* var) {
  std::vector<float> mu, scale, shift;
  batchStatistics(x, n * h * w * c, c, gamma, beta, eps, mean, var, mu, scale, shift);
  const int64_t ph = h / 2, pw = w / 2;
  const float *pm = mu.data(), *ps = scale.data(), *pb = shift.data();
#pragma omp parallel for schedule(static) if (n * h * w * c > kParallelMin)
  for (int64_t r = 0; r < n * ph; r++) {
    const int64_t b = r / ph, py = r % ph;
    for (int64_t px = 0; px < pw; px++) {
      const float* __restrict a = x + ((b * h + 2 * py) * w + 2 * px) * c;
      const float* __restrict a1 = a + c;
      const float* __restrict d = a + w * c;
      const float* __restrict d1 = d + c;
      float* __restrict out = pooled + (r * pw + px) * c;
#pragma omp simd
      for (int64_t j = 0; j < c; j++) {
        const float v = maxOf(maxOf((a[j] - pm[j]) * ps[j] + pb[j], (a1[j] - pm[j]) * ps[j] + pb[j]),
                              maxOf((d[j] - pm[j]) * ps[j] + pb[j], (d1[j] - pm[j]) * ps[j] + pb[j]));
        out[j] = maxOf(v, 0.f);
      }
    }
  }
}

// Its gradient from the pooled output's gradient dyPool: the batch norm's full gradient (through
// the batch statistics), where the incoming gradient is dyPool at each window's first maximum when
// that maximum is positive, else 0. Two passes over x, none over a full-size gradient.
void batchNormReluPoolTrainGrad(const float* x, const float* dyPool, int64_t n, int64_t h, int64_t w, int64_t c,
                                const float* mean, const float* var, const float* gamma, const float* beta, float eps,
                                float* dx, float* dgamma, float* dbeta) {
  std::vector<float> mu, scale, shift;
  affineOf(mean, var, gamma, beta, eps, c, mu, scale, shift);
  const int64_t ph = h / 2, pw = w / 2, rows = n * h * w, size = rows * c;
  const float *pm = mu.data(), *ps = scale.data(), *pb = shift.data();
  // the gradient reaching each pixel of window (b, py, px), channels [0, c); with sums, pass 1's
  // accumulation instead (a1 += g, a2 += g (x - mean) over the window)
  auto window = [&](auto sums, int64_t b, int64_t py, int64_t px, float* g00, float* g01, float* g10, float* g11,
                    double* a1, double* a2) {
    const float* __restrict a = x + ((b * h + 2 * py) * w + 2 * px) * c;
    const float* __restrict e = a + c;
    const float* __restrict d = a + w * c;
    const float* __restrict f = d + c;
    const float* __restrict gp = dyPool + ((b * ph + py) * pw + px) * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) {
      float q00, q01, q10, q11;
      routeWindow(maxOf((a[j] - pm[j]) * ps[j] + pb[j], 0.f), maxOf((e[j] - pm[j]) * ps[j] + pb[j], 0.f),
                  maxOf((d[j] - pm[j]) * ps[j] + pb[j], 0.f), maxOf((f[j] - pm[j]) * ps[j] + pb[j], 0.f), gp[j], q00,
                  q01, q10, q11);
      if constexpr (decltype(sums)::value) {
        a1[j] += q00 + q01 + q10 + q11;  // one of them is non-zero
        a2[j] += double(q00 * (a[j] - mean[j]) + q01 * (e[j] - mean[j]) + q10 * (d[j] - mean[j]) + q11 * (f[j] - mean[j]));
      } else {
        g00[j] = q00, g01[j] = q01, g10[j] = q10, g11[j] = q11;
      }
    }
  };
  std::vector<double> sumDy, sumDyXm;
  channelSums(n * ph, c, size, sumDy, sumDyXm, [&](int64_t r, double* a1, double* a2) {
    for (int64_t px = 0; px < pw; px++) window(std::true_type(), r / ph, r % ph, px, nullptr, nullptr, nullptr, nullptr, a1, a2);
  });
  std::vector<float> k0, k1, k2;
  gradientCoefficients(sumDy, sumDyXm, var, gamma, eps, rows, c, dgamma, dbeta, k0, k1, k2);
  const float *q0 = k0.data(), *q1 = k1.data(), *q2 = k2.data();
  // dx = k0 (g - k1 - (x - mean) k2) for every pixel; g = 0 outside the pooled windows (odd edges)
  auto write = [&](const float* __restrict xr, const float* __restrict g, float* __restrict dr) {
#pragma omp simd
    for (int64_t j = 0; j < c; j++) dr[j] = q0[j] * ((g ? g[j] : 0.f) - q1[j] - (xr[j] - mean[j]) * q2[j]);
  };
#pragma omp parallel if (size > kParallelMin)
  {
    std::vector<float> g(4 * c);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < n * h; r++) {  // one image row
      const int64_t b = r / h, y = r % h;
      const bool pooledRow = y / 2 < ph;
      if (pooledRow && y % 2 == 1) continue;  // written with the row above
      if (!pooledRow) {
        for (int64_t xx = 0; xx < w; xx++) write(x + (r * w + xx) * c, nullptr, dx + (r * w + xx) * c);
        continue;
      }
      for (int64_t px = 0; px < pw; px++) {
        window(std::false_type(), b, y / 2, px, g.data(), g.data() + c, g.data() + 2 * c, g.data() + 3 * c, nullptr,
               nullptr);
        const int64_t o = (r * w + 2 * px) * c;
        write(x + o, g.data(), dx + o);
        write(x + o + c, g.data() + c, dx + o + c);
        write(x + o + w * c, g.data() + 2 * c, dx + o + w * c);
        write(x + o + w * c + c, g.data() + 3 * c, dx + o + w * c + c);
      }
      for (int64_t xx = 2 * pw; xx < w; xx++) {  // odd width: the last column of both rows
        write(x + (r * w + xx) * c, nullptr, dx + (r * w + xx) * c);
        write(x + ((r + 1) * w + xx) * c, nullptr, dx + ((r + 1) * w + xx) * c);
      }
    }
  }
}

}  // namespace fewshot
