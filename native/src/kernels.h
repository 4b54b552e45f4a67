// Native kernels behind the 'native' TF.js backend. Every function works in place on float32
// buffers owned by JavaScript (the cpu backend's TypedArrays): no copies in, none out.
// Layouts are TF.js's: NHWC activations, HWIO filters, row-major matrices.
#pragma once
#include <cstdint>

namespace fewshot {

// Geometry of one 2-D convolution, exactly as tfjs-core's computeConv2DInfo reports it.
struct ConvGeometry {
  int64_t n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr;
};

enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeakyRelu = 4, kSigmoid = 5 };

// oneDNN convolutions (primitives cached by geometry). groups == ic: depthwise (TF's
// DepthwiseConv2dNative, filter [kh, kw, ic, multiplier]).
// bf16 (opt-in mixed precision for training): the kernel reads bfloat16 copies of its inputs
// (activations, filter, gradient) and writes float32, accumulating in float32; buffers stay
// float32. Ignored where bf16Supported() is false, the input has under 16 channels (memory-bound
// first layers) or oneDNN has no jit bf16 kernel for the geometry: those stay float32, and so do
// the FFT convolutions (fftPays), whose float32 is faster than bf16's direct kernels.
void conv2dForward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                   float* y, int activation, float alpha, int64_t groups = 1, bool bf16 = false);
// groups as in conv2dForward (depthwise: the gradients of DepthwiseConv2dNative; bf16 ignored there).
void conv2dBackwardData(const ConvGeometry& g, const float* dy, const float* w, float* dx, bool bf16 = false,
                        int64_t groups = 1);
// db (optional, [oc]): the bias gradient (dy summed over images and pixels), in the same pass.
void conv2dBackwardWeights(const ConvGeometry& g, const float* x, const float* dy, float* dw, bool bf16 = false,
                           float* db = nullptr, int64_t groups = 1);
// True when the CPU runs oneDNN's bf16 kernels natively (AVX512-BF16 or AMX).
bool bf16Supported();
// Whether a convolution runs as Winograd F(4x4, 3x3) (training and inference plans; conv.cc).
bool winogradPays(const ConvGeometry& g, int64_t groups);
// FFT convolutions (fft_conv.cc) for large filters, stride 1: the three passes of training.
// fftPays says where they run instead of oneDNN's direct kernels (FEWSHOT_CONV_FFT=0: never).
bool fftPays(const ConvGeometry& g, int64_t groups);
void fftConvForward(const ConvGeometry& g, const float* x, const float* w, float* y);
void fftConvBackwardData(const ConvGeometry& g, const float* dy, const float* w, float* dx);
void fftConvBackwardWeights(const ConvGeometry& g, const float* x, const float* dy, float* dw);
// One output channel (single_output_conv.cc): loops vectorised over the input channels, where
// oneDNN's direct kernels have no output channels to block over (FEWSHOT_CONV_SINGLE_OUTPUT=0: never).
bool singleOutputPays(const ConvGeometry& g, int64_t groups);
void singleOutputConvForward(const ConvGeometry& g, const float* x, const float* w, float* y);
// db (optional, [1]): the bias gradient.
void singleOutputConvBackwardWeights(const ConvGeometry& g, const float* x, const float* dy, float* dw, float* db);
// Images per pass through the FFT workspace; 0: automatic (~64 MB per buffer). Tests set 1 to
// cover the chunked accumulation on small inputs.
void setFftChunkImages(int64_t images);

// Row-major C[b] = op(A[b]) * op(B[b]) through oneDNN's sgemm; batchA/batchB are 1 or batch.
void batchMatMul(const float* a, const float* b, float* c, int64_t batch, bool aBatched,
                 bool bBatched, int64_t m, int64_t n, int64_t k, bool transA, bool transB);

// y[i] = act(y[i] + bias[i % period]) (period 0: no bias).
void biasActivation(float* y, int64_t size, const float* bias, int64_t period, int activation,
                    float alpha);

struct PoolGeometry {
  int64_t n, ih, iw, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
};
void maxPool(const PoolGeometry& g, const float* x, float* y);
// dx (zeroed here) receives dy at the first maximum of each window, like tfjs-backend-cpu.
void maxPoolGrad(const PoolGeometry& g, const float* dy, const float* x, float* dx);
void avgPool(const PoolGeometry& g, const float* x, float* y);

// Batch norm over the channel (last, size c) axis; params of size c, or 1 (broadcast); offset
// and scale may be null.
void batchNorm(const float* x, int64_t size, int64_t c, const float* mean, int64_t meanSize,
               const float* var, int64_t varSize, const float* offset, int64_t offsetSize,
               const float* scale, int64_t scaleSize, float eps, float* y);
// All five gradients of FusedBatchNorm in two passes over x and dy (per-channel params).
void batchNormGrad(const float* x, const float* dy, int64_t size, int64_t c, const float* mean,
                   const float* var, const float* scale, float eps, float* dx, float* dmean,
                   float* dvar, float* dscale, float* doffset);

// Training-mode batch norm over all but the last axis (what tfjs-layers' BatchNormalization
// computes with moments + batchNorm): y, batch mean and (biased) variance in two passes;
// relu: y = max(0, batchnorm(x)) in the same pass (a ReLU layer that follows it).
void batchNormTrain(const float* x, int64_t size, int64_t c, const float* gamma, const float* beta, float eps,
                    float* y, float* mean, float* var, bool relu = false);
// Its full gradient (through the batch statistics) in two passes. reluOut: the output of the
// fused ReLU variant (null without), whose gradient dy * (y > 0) is applied on the fly.
void batchNormTrainGrad(const float* x, const float* dy, int64_t size, int64_t c, const float* mean, const float* var,
                        const float* gamma, float eps, float* dx, float* dgamma, float* dbeta,
                        const float* reluOut = nullptr);

// Training batch norm + ReLU + max-pool 2x2 stride 2 'valid' (Conv-4's block after its
// convolution) over x [n, h, w, c]: writes only the pooled output [n, h/2, w/2, c] and the batch
// statistics. Its gradient takes the pooled output's gradient and recomputes the activations from
// x, so neither the full-size activations nor their gradient is ever stored.
void batchNormReluPoolTrain(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* gamma,
                            const float* beta, float eps, float* pooled, float* mean, float* var);
void batchNormReluPoolTrainGrad(const float* x, const float* dyPool, int64_t n, int64_t h, int64_t w, int64_t c,
                                const float* mean, const float* var, const float* gamma, const float* beta, float eps,
                                float* dx, float* dgamma, float* dbeta);

enum BinaryOp { kAdd = 0, kSub, kMul, kDiv, kMax, kMin, kSquaredDiff, kReluGradOp, kPow, kSecond };
// Broadcast modes: 0 same shape, 1 b periodic (b[i % m]), 2 a periodic, 3 b per block
// (b[i / m]), 4 a per block.
void binary(int op, const float* a, const float* b, float* y, int64_t size, int mode, int64_t m);

enum UnaryOp {
  kReluU = 0, kStep, kSquare, kSqrt, kRsqrt, kExp, kLog, kSigmoidU, kNeg, kAbs, kTanh,
  kReciprocal, kRelu6U, kEluU, kLeakyReluU, kSoftplus, kScale, kAddScalar, kFill
};
void unary(int op, const float* x, float* y, int64_t size, float alpha);

// Reductions of a [outer, inner] matrix: over rows (result [inner]) or columns ([outer]);
// accumulated in double like tfjs-backend-cpu, times `scale` (1/count for Mean).
void reduceRows(int kind, const float* x, int64_t outer, int64_t inner, double scale, float* y);
void reduceCols(int kind, const float* x, int64_t outer, int64_t inner, double scale, float* y);
enum ReduceKind { kSum = 0, kMaxR = 1, kMinR = 2 };

// One fused Adam step, in place on fresh output buffers.
void adam(const float* var, const float* grad, const float* m, const float* v, int64_t size,
          float lr, float beta1, float beta2, float eps, float beta1Power, float beta2Power,
          float* varOut, float* mOut, float* vOut);

// The tracker's square crop (src/tracking/crop.ts): its horizontal and vertical passes over the taps
// it tabulated (x offsets into a row, y source rows from yFirst), bitwise the JavaScript result.
void cropPasses(const uint8_t* data, int64_t width, int64_t channels, const int32_t* xIndex, const double* xWeight,
                const double* xOutside, const int32_t* yIndex, const double* yWeight, const double* yOutside,
                int64_t yFirst, int64_t rows, int64_t taps, int64_t out, const double* fill, float* dst);
// Bilinear resize of NHWC images [n, ih, iw, c] -> [n, oh, ow, c], as tf.image.resizeBilinear.
void resizeBilinear(const float* x, int64_t n, int64_t ih, int64_t iw, int64_t c, int64_t oh, int64_t ow,
                    bool alignCorners, bool halfPixelCenters, float* y);
void resizeBilinearInt32(const int32_t* x, int64_t n, int64_t ih, int64_t iw, int64_t c, int64_t oh, int64_t ow,
                         bool alignCorners, bool halfPixelCenters, float* y);

}  // namespace fewshot
