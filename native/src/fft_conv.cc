// FFT convolutions for large filters (Koch's 7x7 layer: 72% of its training step as a direct
// convolution, which oneDNN already runs at the core's peak). A stride-1 correlation is a product
// per frequency: y = IFFT(FFT(x) . conj(FFT(w))), summed over input channels, so each of the
// N x (N/2+1) frequencies of an N x N transform is one complex GEMM (images x in-channels) .
// (in-channels x out-channels). For 7x7 on 48x48 maps (N = 64) that is ~10x fewer multiplications
// than the direct kernel, plus transforms that cost per channel, not per channel pair.
//
// Transforms run along H and W with the channels innermost (NHWC, and HWIO for filters), so every
// butterfly is a vectorised loop over a block of channels. Spectra are stored per image as
// [kh][kw][re(C) | im(C)], which is exactly the row layout [Xr | Xi] the per-frequency GEMM reads
// (leading dimension: one image's spectrum), so no transposes are needed.
// Backward data is the forward correlation of dy with the filter flipped in space and transposed
// in channels (a "full" convolution); backward weights is a GEMM over the images per frequency.
#include <dnnl.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "kernels.h"

namespace fewshot {
namespace {

constexpr int64_t kChannelBlock = 64;  // channels per vectorised transform task

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], AlignedFree>;

Buffer allocate(size_t floats) {
  const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes ? bytes : 64));
  if (!p) throw std::bad_alloc();
  return Buffer(p);
}

// The spectra live in three grow-only buffers kept between calls (calls run one at a time, as
// in conv.cc): freshly allocated ones every call fragmented the heap (peak RSS of a Koch step
// 1.5 -> 2.6 GB) and page-faulted their ~350 MB in again (the forward pass 2x slower).
float* workspace(int slot, size_t floats) {
  static Buffer buffers[3];
  static size_t sizes[3] = {0, 0, 0};
  if (sizes[slot] < floats) {
    buffers[slot].reset();
    sizes[slot] = 0;
    buffers[slot] = allocate(floats);
    sizes[slot] = floats;
  }
  return buffers[slot].get();
}

int64_t fftSize(int64_t n) {
  int64_t s = 8;
  while (s < n) s <<= 1;
  return s;
}

// Twiddles exp(-2 pi i j / N), j < N/2, and the bit-reversal permutation, per size.
struct Plan {
  int64_t n;
  std::vector<float> cos_, sin_;
  std::vector<int64_t> rev;
  explicit Plan(int64_t size) : n(size), cos_(size / 2), sin_(size / 2), rev(size) {
    for (int64_t j = 0; j < n / 2; j++) {
      const double a = -2.0 * M_PI * double(j) / double(n);
      cos_[j] = float(std::cos(a));
      sin_[j] = float(std::sin(a));
    }
    int bits = 0;
    while ((int64_t(1) << bits) < n) bits++;
    for (int64_t i = 0; i < n; i++) {
      int64_t r = 0;
      for (int b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      rev[i] = r;
    }
  }
};

const Plan& planFor(int64_t n) {
  static const Plan p8(8), p16(16), p32(32), p64(64), p128(128);
  switch (n) {
    case 8: return p8;
    case 16: return p16;
    case 32: return p32;
    case 64: return p64;
    default: return p128;
  }
}

// In-place radix-2 FFT over N elements already in bit-reversed order in `s`, element k being
// cn real parts at s + 2 cn k followed by cn imaginary parts. inverse: conjugate twiddles
// (unscaled).
void fftInPlace(float* s, const Plan& p, int64_t cn, bool inverse) {
  const int64_t n = p.n, e = 2 * cn;
  const float sign = inverse ? -1.f : 1.f;
  for (int64_t len = 2; len <= n; len <<= 1) {
    const int64_t half = len / 2, step = n / len;
    for (int64_t i = 0; i < n; i += len) {
      for (int64_t j = 0; j < half; j++) {
        const float wr = p.cos_[j * step], wi = sign * p.sin_[j * step];
        float* __restrict ar = s + (i + j) * e;
        float* __restrict ai = ar + cn;
        float* __restrict br = s + (i + j + half) * e;
        float* __restrict bi = br + cn;
#pragma omp simd
        for (int64_t c = 0; c < cn; c++) {
          const float tr = wr * br[c] - wi * bi[c], ti = wr * bi[c] + wi * br[c];
          br[c] = ar[c] - tr;
          bi[c] = ai[c] - ti;
          ar[c] += tr;
          ai[c] += ti;
        }
      }
    }
  }
}

// The complex FFT along kh of every column kw of a half spectrum (channels [c0, c0+cn)), in
// place; only its first `keepRows` rows are written back.
void columns(float* spec, const Plan& p, int64_t C, int64_t c0, int64_t cn, bool inverse, int64_t keepRows,
             float* scratch) {
  const int64_t n = p.n, nw = n / 2 + 1, e = 2 * cn, rowStride = nw * 2 * C;
  for (int64_t k = 0; k < nw; k++) {
    for (int64_t r = 0; r < n; r++) {
      const float* from = spec + r * rowStride + k * 2 * C + c0;
      float* d = scratch + p.rev[r] * e;
      std::memcpy(d, from, cn * sizeof(float));
      std::memcpy(d + cn, from + C, cn * sizeof(float));
    }
    fftInPlace(scratch, p, cn, inverse);
    for (int64_t r = 0; r < keepRows; r++) {
      float* to = spec + r * rowStride + k * 2 * C + c0;
      std::memcpy(to, scratch + r * e, cn * sizeof(float));
      std::memcpy(to + C, scratch + r * e + cn, cn * sizeof(float));
    }
  }
}

// Half spectrum of a real [h][w][C] block (channels [c0, c0+cn) of a pixel stride `pix`),
// placed at (top, left) of an N x N zero grid: spec[kh][kw][re(C) | im(C)] for kw <= N/2, C = the
// spectrum's channel stride. scratch: 2 N cn floats.
void forwardReal2D(const float* src, int64_t h, int64_t w, int64_t pix, int64_t top, int64_t left, const Plan& p,
                   float* spec, int64_t C, int64_t c0, int64_t cn, float* scratch) {
  const int64_t n = p.n, nw = n / 2 + 1, e = 2 * cn;
  const int64_t rowStride = nw * 2 * C;
  // rows: two real rows a, b as one complex FFT of z = a + i b
  for (int64_t r = 0; r < n; r += 2) {
    const bool hasA = r >= top && r < top + h, hasB = r + 1 >= top && r + 1 < top + h;
    float* outA = spec + r * rowStride + c0;
    float* outB = outA + rowStride;
    if (!hasA && !hasB) {
      for (int64_t k = 0; k < nw; k++) {
        std::memset(outA + k * 2 * C, 0, cn * sizeof(float));
        std::memset(outA + k * 2 * C + C, 0, cn * sizeof(float));
        std::memset(outB + k * 2 * C, 0, cn * sizeof(float));
        std::memset(outB + k * 2 * C + C, 0, cn * sizeof(float));
      }
      continue;
    }
    for (int64_t x = 0; x < n; x++) {
      float* d = scratch + p.rev[x] * e;
      const bool inside = x >= left && x < left + w;
      const float* a = hasA && inside ? src + ((r - top) * w + (x - left)) * pix + c0 : nullptr;
      const float* b = hasB && inside ? src + ((r + 1 - top) * w + (x - left)) * pix + c0 : nullptr;
      if (a) std::memcpy(d, a, cn * sizeof(float)); else std::memset(d, 0, cn * sizeof(float));
      if (b) std::memcpy(d + cn, b, cn * sizeof(float)); else std::memset(d + cn, 0, cn * sizeof(float));
    }
    fftInPlace(scratch, p, cn, false);
    // A[k] = (Z[k] + conj(Z[N-k])) / 2, B[k] = (Z[k] - conj(Z[N-k])) / 2i
    for (int64_t k = 0; k < nw; k++) {
      const float* zr = scratch + k * e;
      const float* zi = zr + cn;
      const float* mr = scratch + ((n - k) % n) * e;
      const float* mi = mr + cn;
      float* __restrict ar = outA + k * 2 * C;
      float* __restrict ai = ar + C;
      float* __restrict br = outB + k * 2 * C;
      float* __restrict bi = br + C;
#pragma omp simd
      for (int64_t c = 0; c < cn; c++) {
        const float a = zr[c], b = zi[c], ma = mr[c], mb = mi[c];
        ar[c] = 0.5f * (a + ma);
        ai[c] = 0.5f * (b - mb);
        br[c] = 0.5f * (b + mb);
        bi[c] = 0.5f * (ma - a);
      }
    }
  }
  columns(spec, p, C, c0, cn, false, n, scratch);
}

// The real N x N signal of a half spectrum (destroyed: the column pass runs in place), times
// `scale`, cropped to its first outH x outW pixels: dst[y][x][c0 + c] at pixel stride `pix`.
void inverseReal2D(float* spec, const Plan& p, int64_t C, int64_t c0, int64_t cn, float* dst, int64_t outH,
                   int64_t outW, int64_t pix, float scale, float* scratch) {
  const int64_t n = p.n, nw = n / 2 + 1, e = 2 * cn;
  const int64_t rowStride = nw * 2 * C;
  columns(spec, p, C, c0, cn, true, outH, scratch);  // only the rows that are kept
  // rows, two at a time: Z = A + i B over the full (Hermitian-extended) spectrum, whose
  // inverse has row a in its real part and row b in its imaginary part
  for (int64_t r = 0; r < outH; r += 2) {
    const bool hasB = r + 1 < outH;
    const float* rowA = spec + r * rowStride + c0;
    const float* rowB = rowA + rowStride;
    for (int64_t x = 0; x < n; x++) {
      const int64_t k = x <= n / 2 ? x : n - x;
      const float conj = x <= n / 2 ? 1.f : -1.f;  // A[N-k] = conj(A[k])
      const float* ar = rowA + k * 2 * C;
      const float* ai = ar + C;
      const float* br = rowB + k * 2 * C;
      const float* bi = br + C;
      float* __restrict zr = scratch + p.rev[x] * e;
      float* __restrict zi = zr + cn;
      if (hasB) {
#pragma omp simd
        for (int64_t c = 0; c < cn; c++) {  // Z = A + i B = (ar - bi) + i (ai + br), conj applied per part
          zr[c] = ar[c] - conj * bi[c];
          zi[c] = conj * ai[c] + br[c];
        }
      } else {
#pragma omp simd
        for (int64_t c = 0; c < cn; c++) {
          zr[c] = ar[c];
          zi[c] = conj * ai[c];
        }
      }
    }
    fftInPlace(scratch, p, cn, true);
    for (int64_t x = 0; x < outW; x++) {
      const float* zr = scratch + x * e;
      const float* zi = zr + cn;
      float* __restrict a = dst + (r * outW + x) * pix + c0;
#pragma omp simd
      for (int64_t c = 0; c < cn; c++) a[c] = scale * zr[c];
      if (hasB) {
        float* __restrict b = dst + ((r + 1) * outW + x) * pix + c0;
#pragma omp simd
        for (int64_t c = 0; c < cn; c++) b[c] = scale * zi[c];
      }
    }
  }
}

// f(block, c0, cn, scratch) for `count` blocks x groups of up to 64 channels, in parallel, each
// thread with its own transform scratch.
template <typename F>
void forEachChannelGroup(int64_t count, int64_t C, const Plan& p, F f) {
  const int64_t groups = (C + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel
  {
    Buffer scratch = allocate(2 * p.n * kChannelBlock);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < count * groups; t++) {
      const int64_t c0 = (t % groups) * kChannelBlock;
      f(t / groups, c0, std::min(kChannelBlock, C - c0), scratch.get());
    }
  }
}

// Spectra of `count` real [h][w][C] blocks (block i at src + i * h * w * C) into spec (block i at
// spec + i * N (N/2+1) 2C).
void spectra(const float* src, int64_t count, int64_t h, int64_t w, int64_t C, int64_t top, int64_t left,
             const Plan& p, float* spec) {
  const int64_t per = p.n * (p.n / 2 + 1) * 2 * C;
  forEachChannelGroup(count, C, p, [&](int64_t i, int64_t c0, int64_t cn, float* scratch) {
    forwardReal2D(src + i * h * w * C, h, w, C, top, left, p, spec + i * per, C, c0, cn, scratch);
  });
}

// The signals of `count` half spectra, times `scale`, cropped to outH x outW (dst block i at
// dst + i * outH * outW * C).
void signals(float* spec, int64_t count, int64_t C, const Plan& p, float* dst, int64_t outH, int64_t outW, float scale) {
  const int64_t per = p.n * (p.n / 2 + 1) * 2 * C;
  forEachChannelGroup(count, C, p, [&](int64_t i, int64_t c0, int64_t cn, float* scratch) {
    inverseReal2D(spec + i * per, p, C, c0, cn, dst + i * outH * outW * C, outH, outW, C, scale, scratch);
  });
}

void sgemm(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
           int64_t ldb, float beta, float* c, int64_t ldc) {
  const dnnl_status_t st = dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (st != dnnl_success) throw dnnl::error(st, "dnnl_sgemm failed");
}

// Images per pass through the spectra buffers: at most ~64 MB per image-spectra buffer (Koch's
// 64-image 7x7 layer: 2 chunks of 32), so the workspace stays ~280 MB instead of ~410.
int64_t forcedChunk = 0;  // setFftChunkImages (tests): > 0 overrides the budget

int64_t imagesPerChunk(int64_t bins, int64_t channels, int64_t images) {
  if (forcedChunk > 0) return std::min(forcedChunk, images);
  const int64_t perImage = bins * 2 * channels * int64_t(sizeof(float));
  return std::max<int64_t>(1, std::min<int64_t>(images, (int64_t(64) << 20) / perImage));
}

int64_t gridFor(const ConvGeometry& g) { return fftSize(std::max(g.ih + g.pt + g.pb, g.iw + g.pl + g.pr)); }

}  // namespace

void setFftChunkImages(int64_t images) { forcedChunk = images; }

// Multiplications per output value and channel pair: kh kw directly, ~4 N (N/2+1) / (oh ow)
// through the transform (a complex product per frequency, spread over the outputs). Measured on
// Koch's 7x7 64 -> 128 layer (64 images 48x48): see docs/native.md. Small filters stay direct or
// Winograd: at 3x3 and 4x4 the transforms cost more than the products save.
bool fftPays(const ConvGeometry& g, int64_t groups) {
  static const bool enabled = [] {
    const char* v = std::getenv("FEWSHOT_CONV_FFT");
    return !(v && std::string(v) == "0");
  }();
  // the filter's transform (ic x oc planes) is paid per call, so a few images must share it
  if (!enabled || groups != 1 || g.sh != 1 || g.sw != 1 || g.dh != 1 || g.dw != 1 || g.n < 4) return false;
  if (g.kh * g.kw < 25 || std::min(g.ic, g.oc) < 16) return false;
  if (g.pt > g.kh - 1 || g.pb > g.kh - 1 || g.pl > g.kw - 1 || g.pr > g.kw - 1) return false;
  // backward data runs on a grid of ih + kh - 1
  const int64_t n = fftSize(std::max({g.ih + g.pt + g.pb, g.iw + g.pl + g.pr, g.ih + g.kh - 1, g.iw + g.kw - 1}));
  if (n > 128) return false;
  const double direct = double(g.kh * g.kw) * double(g.oh * g.ow);
  const double viaFft = 4.0 * double(n * (n / 2 + 1));
  return direct >= 4.0 * viaFft;
}

// y = x (*) w, no bias (the caller adds bias and activation). x [n, ih, iw, ic], w [kh, kw, ic, oc].
void fftConvForward(const ConvGeometry& g, const float* x, const float* w, float* y) {
  const int64_t n = gridFor(g);
  const Plan& p = planFor(n);
  const int64_t bins = n * (n / 2 + 1), ic = g.ic, oc = g.oc;
  // filter spectrum W [bin][re(ic x oc) | im(ic x oc)]; per bin, with X = [Xr | Xi] (n x 2ic):
  // Y = X . conj(W): Yr = [Xr | Xi] . [Wr ; Wi] (one GEMM over 2ic), Yi = Xi . Wr - Xr . Wi
  float* ws = workspace(0, size_t(bins) * 2 * ic * oc);
  spectra(w, 1, g.kh, g.kw, ic * oc, 0, 0, p, ws);
  const int64_t chunk = imagesPerChunk(bins, std::max(ic, oc), g.n);
  float* xs = workspace(1, size_t(chunk) * bins * 2 * ic);
  float* ys = workspace(2, size_t(chunk) * bins * 2 * oc);
  for (int64_t i0 = 0; i0 < g.n; i0 += chunk) {
    const int64_t m = std::min(chunk, g.n - i0);
    spectra(x + i0 * g.ih * g.iw * ic, m, g.ih, g.iw, ic, g.pt, g.pl, p, xs);
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t f = 0; f < bins; f++) {
      const float* xr = xs + f * 2 * ic;
      const float* wr = ws + f * 2 * ic * oc;
      float* yr = ys + f * 2 * oc;
      const int64_t ldx = bins * 2 * ic, ldy = bins * 2 * oc;
      sgemm('N', 'N', m, oc, 2 * ic, 1.f, xr, ldx, wr, oc, 0.f, yr, ldy);
      sgemm('N', 'N', m, oc, ic, 1.f, xr + ic, ldx, wr, oc, 0.f, yr + oc, ldy);
      sgemm('N', 'N', m, oc, ic, -1.f, xr, ldx, wr + ic * oc, oc, 1.f, yr + oc, ldy);
    }
    signals(ys, m, oc, p, y + i0 * g.oh * g.ow * oc, g.oh, g.ow, 1.f / float(n * n));
  }
}

// dx = the full correlation of dy with the filter flipped in space and transposed in channels.
void fftConvBackwardData(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  std::vector<float> flipped(size_t(g.kh * g.kw * g.ic * g.oc));
  for (int64_t a = 0; a < g.kh; a++)
    for (int64_t b = 0; b < g.kw; b++)
      for (int64_t i = 0; i < g.ic; i++)
        for (int64_t o = 0; o < g.oc; o++)
          flipped[((a * g.kw + b) * g.oc + o) * g.ic + i] = w[(((g.kh - 1 - a) * g.kw + (g.kw - 1 - b)) * g.ic + i) * g.oc + o];
  ConvGeometry t = g;
  t.ih = g.oh, t.iw = g.ow, t.ic = g.oc, t.oh = g.ih, t.ow = g.iw, t.oc = g.ic;
  t.pt = g.kh - 1 - g.pt, t.pb = g.kh - 1 - g.pb, t.pl = g.kw - 1 - g.pl, t.pr = g.kw - 1 - g.pr;
  fftConvForward(t, dy, flipped.data(), dx);
}

// dw[a][b][i][o] = sum over images and outputs of x[p + a][q + b][i] dy[p][q][o]: per frequency,
// X^T . conj(DY) summed over the images.
void fftConvBackwardWeights(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  const int64_t n = gridFor(g);
  const Plan& p = planFor(n);
  const int64_t bins = n * (n / 2 + 1), ic = g.ic, oc = g.oc;
  const int64_t chunk = imagesPerChunk(bins, std::max(ic, oc), g.n);
  float* xs = workspace(1, size_t(chunk) * bins * 2 * ic);
  float* ds = workspace(2, size_t(chunk) * bins * 2 * oc);
  float* cs = workspace(0, size_t(bins) * 2 * ic * oc);
  for (int64_t i0 = 0; i0 < g.n; i0 += chunk) {
    const int64_t m = std::min(chunk, g.n - i0);
    spectra(x + i0 * g.ih * g.iw * ic, m, g.ih, g.iw, ic, g.pt, g.pl, p, xs);
    spectra(dy + i0 * g.oh * g.ow * oc, m, g.oh, g.ow, oc, 0, 0, p, ds);
    const float keep = i0 == 0 ? 0.f : 1.f;  // the first chunk overwrites, later ones add
#pragma omp parallel
    {
      Buffer block = allocate(4 * ic * oc);  // [Xr | Xi]^T . [DYr | DYi]: 2ic x 2oc
#pragma omp for schedule(dynamic, 8)
      for (int64_t f = 0; f < bins; f++) {
        float* b = block.get();
        sgemm('T', 'N', 2 * ic, 2 * oc, m, 1.f, xs + f * 2 * ic, bins * 2 * ic, ds + f * 2 * oc, bins * 2 * oc, 0.f, b,
              2 * oc);
        float* cr = cs + f * 2 * ic * oc;
        float* ci = cr + ic * oc;
        for (int64_t i = 0; i < ic; i++) {
          const float* rr = b + i * 2 * oc;         // Xr^T DYr | Xr^T DYi
          const float* ir = b + (ic + i) * 2 * oc;  // Xi^T DYr | Xi^T DYi
#pragma omp simd
          for (int64_t o = 0; o < oc; o++) {
            cr[i * oc + o] = keep * cr[i * oc + o] + (rr[o] + ir[oc + o]);
            ci[i * oc + o] = keep * ci[i * oc + o] + (ir[o] - rr[oc + o]);
          }
        }
      }
    }
  }
  signals(cs, 1, ic * oc, p, dw, g.kh, g.kw, 1.f / float(n * n));
}

}  // namespace fewshot
