// JavaScript bindings: every kernel takes Float32Arrays (inputs and a preallocated output) and
// plain numbers, and works on the arrays' memory directly.
#include <napi.h>
#include <malloc.h>
#include <omp.h>

#include <cstdlib>
#include <dnnl.hpp>

#include "kernels.h"

namespace fewshot {
void registerInferencePlan(Napi::Env env, Napi::Object exports);
}

using namespace fewshot;

namespace {

const float* in(const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), "fewshot native: expected a Float32Array");
  return v.As<Napi::Float32Array>().Data();
}
float* out(const Napi::Value& v) { return const_cast<float*>(in(v)); }
int64_t len(const Napi::Value& v) { return int64_t(v.As<Napi::Float32Array>().ElementLength()); }
int64_t i64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
double f64(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }

template <typename T>
T geometry(const Napi::Value& v, size_t count) {
  auto a = v.As<Napi::Array>();
  if (a.Length() != count) throw Napi::TypeError::New(v.Env(), "fewshot native: bad geometry length");
  T g;
  int64_t* f = reinterpret_cast<int64_t*>(&g);
  for (size_t i = 0; i < count; i++) f[i] = a.Get(uint32_t(i)).As<Napi::Number>().Int64Value();
  return g;
}

// Turns oneDNN's C++ exceptions into JavaScript errors.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F f) {
  try {
    f();
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string("fewshot native (oneDNN): ") + e.what());
  }
  return info.Env().Undefined();
}

Napi::Value Conv2dForward(const Napi::CallbackInfo& i) {
  return guarded(i, [&] {
    // i[7] (optional): groups; the channel count for a depthwise convolution. i[8]: bf16.
    conv2dForward(geometry<ConvGeometry>(i[0], 17), in(i[1]), in(i[2]), in(i[3]), out(i[4]), int(i64(i[5])),
                  float(f64(i[6])), i.Length() > 7 && i[7].IsNumber() ? i64(i[7]) : 1, i.Length() > 8 && i[8].ToBoolean());
  });
}
// (geometry, dy, w, dx, bf16?, groups?)
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& i) {
  return guarded(i, [&] {
    conv2dBackwardData(geometry<ConvGeometry>(i[0], 17), in(i[1]), in(i[2]), out(i[3]), i.Length() > 4 && i[4].ToBoolean(),
                       i.Length() > 5 && i[5].IsNumber() ? i64(i[5]) : 1);
  });
}
// (geometry, x, dy, dw, bf16?, db?: the bias gradient, written in the same pass, groups?)
Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo& i) {
  return guarded(i, [&] {
    conv2dBackwardWeights(geometry<ConvGeometry>(i[0], 17), in(i[1]), in(i[2]), out(i[3]), i.Length() > 4 && i[4].ToBoolean(),
                          i.Length() > 5 && i[5].IsTypedArray() ? out(i[5]) : nullptr, i.Length() > 6 && i[6].IsNumber() ? i64(i[6]) : 1);
  });
}
Napi::Value Bf16Supported(const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), bf16Supported()); }
// (geometry, groups): the f32 training algorithm conv.cc picks, 'fft' | 'winograd' | 'direct'
// (tests check that their cases reach the kernel they are meant to cover)
Napi::Value ConvAlgorithm(const Napi::CallbackInfo& i) {
  const ConvGeometry g = geometry<ConvGeometry>(i[0], 17);
  const int64_t groups = i.Length() > 1 && i[1].IsNumber() ? i64(i[1]) : 1;
  return Napi::String::New(i.Env(), singleOutputPays(g, groups) ? "single-output" : fftPays(g, groups) ? "fft" : winogradPays(g, groups) ? "winograd" : "direct");
}
// (a, b, c, batch, aBatched, bBatched, m, n, k, transA, transB)
Napi::Value BatchMatMul(const Napi::CallbackInfo& i) {
  return guarded(i, [&] {
    batchMatMul(in(i[0]), in(i[1]), out(i[2]), i64(i[3]), i[4].ToBoolean(), i[5].ToBoolean(), i64(i[6]), i64(i[7]),
                i64(i[8]), i[9].ToBoolean(), i[10].ToBoolean());
  });
}
// (y, bias|null, period, activation, alpha)
Napi::Value BiasActivation(const Napi::CallbackInfo& i) {
  biasActivation(out(i[0]), len(i[0]), in(i[1]), i64(i[2]), int(i64(i[3])), float(f64(i[4])));
  return i.Env().Undefined();
}
Napi::Value MaxPool(const Napi::CallbackInfo& i) {
  maxPool(geometry<PoolGeometry>(i[0], 14), in(i[1]), out(i[2]));
  return i.Env().Undefined();
}
Napi::Value AvgPool(const Napi::CallbackInfo& i) {
  avgPool(geometry<PoolGeometry>(i[0], 14), in(i[1]), out(i[2]));
  return i.Env().Undefined();
}
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& i) {
  maxPoolGrad(geometry<PoolGeometry>(i[0], 14), in(i[1]), in(i[2]), out(i[3]));
  return i.Env().Undefined();
}
// (x, channels, mean, variance, offset|null, scale|null, eps, y)
Napi::Value BatchNorm(const Napi::CallbackInfo& i) {
  auto size = [&](const Napi::Value& v) { return v.IsNull() || v.IsUndefined() ? int64_t(0) : len(v); };
  batchNorm(in(i[0]), len(i[0]), i64(i[1]), in(i[2]), size(i[2]), in(i[3]), size(i[3]), in(i[4]), size(i[4]), in(i[5]),
            size(i[5]), float(f64(i[6])), out(i[7]));
  return i.Env().Undefined();
}
// (x, dy, channels, mean, variance, scale|null, eps, dx, dmean, dvar, dscale, doffset)
Napi::Value BatchNormGrad(const Napi::CallbackInfo& i) {
  batchNormGrad(in(i[0]), in(i[1]), len(i[0]), i64(i[2]), in(i[3]), in(i[4]), in(i[5]), float(f64(i[6])), out(i[7]),
                out(i[8]), out(i[9]), out(i[10]), out(i[11]));
  return i.Env().Undefined();
}
// (x, channels, gamma|null, beta|null, eps, y, mean, variance, relu)
Napi::Value BatchNormTrain(const Napi::CallbackInfo& i) {
  batchNormTrain(in(i[0]), len(i[0]), i64(i[1]), in(i[2]), in(i[3]), float(f64(i[4])), out(i[5]), out(i[6]), out(i[7]),
                 i[8].ToBoolean());
  return i.Env().Undefined();
}
// (x, dy, channels, mean, variance, gamma|null, eps, dx, dgamma, dbeta, reluOut|null)
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& i) {
  batchNormTrainGrad(in(i[0]), in(i[1]), len(i[0]), i64(i[2]), in(i[3]), in(i[4]), in(i[5]), float(f64(i[6])), out(i[7]),
                     out(i[8]), out(i[9]), in(i[10]));
  return i.Env().Undefined();
}
// (x, [n, h, w, c], gamma|null, beta|null, eps, pooled, mean, variance)
Napi::Value BatchNormReluPoolTrain(const Napi::CallbackInfo& i) {
  const auto d = i[1].As<Napi::Array>();
  auto dim = [&](uint32_t k) { return d.Get(k).As<Napi::Number>().Int64Value(); };
  batchNormReluPoolTrain(in(i[0]), dim(0), dim(1), dim(2), dim(3), in(i[2]), in(i[3]), float(f64(i[4])), out(i[5]),
                         out(i[6]), out(i[7]));
  return i.Env().Undefined();
}
// (x, dyPool, [n, h, w, c], mean, variance, gamma|null, beta|null, eps, dx, dgamma, dbeta)
Napi::Value BatchNormReluPoolTrainGrad(const Napi::CallbackInfo& i) {
  const auto d = i[2].As<Napi::Array>();
  auto dim = [&](uint32_t k) { return d.Get(k).As<Napi::Number>().Int64Value(); };
  batchNormReluPoolTrainGrad(in(i[0]), in(i[1]), dim(0), dim(1), dim(2), dim(3), in(i[3]), in(i[4]), in(i[5]), in(i[6]),
                             float(f64(i[7])), out(i[8]), out(i[9]), out(i[10]));
  return i.Env().Undefined();
}
// (op, a, b, y, mode, m)
Napi::Value Binary(const Napi::CallbackInfo& i) {
  binary(int(i64(i[0])), in(i[1]), in(i[2]), out(i[3]), len(i[3]), int(i64(i[4])), i64(i[5]));
  return i.Env().Undefined();
}
// (op, x, y, alpha)
Napi::Value Unary(const Napi::CallbackInfo& i) {
  unary(int(i64(i[0])), in(i[1]), out(i[2]), len(i[2]), float(f64(i[3])));
  return i.Env().Undefined();
}
// (kind, x, outer, inner, scale, y, overRows)
Napi::Value Reduce(const Napi::CallbackInfo& i) {
  if (i[6].ToBoolean())
    reduceRows(int(i64(i[0])), in(i[1]), i64(i[2]), i64(i[3]), f64(i[4]), out(i[5]));
  else
    reduceCols(int(i64(i[0])), in(i[1]), i64(i[2]), i64(i[3]), f64(i[4]), out(i[5]));
  return i.Env().Undefined();
}
// (var, grad, m, v, lr, beta1, beta2, eps, beta1Power, beta2Power, varOut, mOut, vOut)
Napi::Value Adam(const Napi::CallbackInfo& i) {
  adam(in(i[0]), in(i[1]), in(i[2]), in(i[3]), len(i[0]), float(f64(i[4])), float(f64(i[5])), float(f64(i[6])),
       float(f64(i[7])), float(f64(i[8])), float(f64(i[9])), out(i[10]), out(i[11]), out(i[12]));
  return i.Env().Undefined();
}
// (x: Float32Array | Int32Array, [n, ih, iw, c, oh, ow], alignCorners, halfPixelCenters, y)
Napi::Value ResizeBilinear(const Napi::CallbackInfo& i) {
  auto a = i[1].As<Napi::Array>();
  int64_t g[6];
  for (uint32_t k = 0; k < 6; k++) g[k] = a.Get(k).As<Napi::Number>().Int64Value();
  const bool align = i[2].ToBoolean(), half = i[3].ToBoolean();
  if (i[0].IsTypedArray() && i[0].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array)
    resizeBilinearInt32(i[0].As<Napi::Int32Array>().Data(), g[0], g[1], g[2], g[3], g[4], g[5], align, half, out(i[4]));
  else
    resizeBilinear(in(i[0]), g[0], g[1], g[2], g[3], g[4], g[5], align, half, out(i[4]));
  return i.Env().Undefined();
}
// (data u8, width, channels, xIndex i32, xWeight f64, xOutside f64, yIndex i32, yWeight f64, yOutside f64,
//  yFirst, rows, taps, out, fill f64[3], dst f32)
Napi::Value CropPasses(const Napi::CallbackInfo& i) {
  return guarded(i, [&] {
    auto f64 = [&](int k) { return i[k].As<Napi::Float64Array>().Data(); };
    auto i32 = [&](int k) { return i[k].As<Napi::Int32Array>().Data(); };
    cropPasses(i[0].As<Napi::Uint8Array>().Data(), i64(i[1]), i64(i[2]), i32(3), f64(4), f64(5), i32(6), f64(7), f64(8),
               i64(i[9]), i64(i[10]), i64(i[11]), i64(i[12]), f64(13), out(i[14]));
  });
}
Napi::Value SetNumThreads(const Napi::CallbackInfo& i) {
  omp_set_num_threads(int(i64(i[0])));
  return i.Env().Undefined();
}
Napi::Value GetNumThreads(const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), omp_get_max_threads()); }
Napi::Value Version(const Napi::CallbackInfo& i) {
  const dnnl_version_t* v = dnnl_version();
  return Napi::String::New(i.Env(), std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                        std::to_string(v->patch) + (v->cpu_runtime == DNNL_RUNTIME_OMP ? " omp" : ""));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Both cores by default; FEWSHOT_NUM_THREADS overrides (OMP_NUM_THREADS is honoured by libgomp).
  if (const char* t = std::getenv("FEWSHOT_NUM_THREADS")) omp_set_num_threads(std::atoi(t));
  // Training allocates and frees the same few 10-100 MB activation buffers every step. glibc
  // serves those with fresh mmap()s, so each step first-touches (page-faults) every byte again:
  // on VMs that made a relu on 30M floats take 1.5 s instead of 70 ms. Serving them from the
  // heap and keeping freed memory there makes steps reuse warm pages (RSS stays at the peak).
  const char* tune = std::getenv("FEWSHOT_MALLOC_TUNING");
  if (!tune || std::string(tune) != "0") {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, Conv2dBackwardData));
  exports.Set("conv2dBackwardWeights", Napi::Function::New(env, Conv2dBackwardWeights));
  exports.Set("bf16Supported", Napi::Function::New(env, Bf16Supported));
  exports.Set("convAlgorithm", Napi::Function::New(env, ConvAlgorithm));
  exports.Set("setFftChunkImages", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
    setFftChunkImages(i64(i[0]));
    return i.Env().Undefined();
  }));
  exports.Set("batchMatMul", Napi::Function::New(env, BatchMatMul));
  exports.Set("biasActivation", Napi::Function::New(env, BiasActivation));
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("avgPool", Napi::Function::New(env, AvgPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm));
  exports.Set("batchNormGrad", Napi::Function::New(env, BatchNormGrad));
  exports.Set("batchNormTrain", Napi::Function::New(env, BatchNormTrain));
  exports.Set("batchNormTrainGrad", Napi::Function::New(env, BatchNormTrainGrad));
  exports.Set("batchNormReluPoolTrain", Napi::Function::New(env, BatchNormReluPoolTrain));
  exports.Set("batchNormReluPoolTrainGrad", Napi::Function::New(env, BatchNormReluPoolTrainGrad));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("resizeBilinear", Napi::Function::New(env, ResizeBilinear));
  exports.Set("cropPasses", Napi::Function::New(env, CropPasses));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("version", Napi::Function::New(env, Version));
  registerInferencePlan(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(fewshot_native, Init)
