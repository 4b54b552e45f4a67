// JavaScript class for InferencePlan: `new InferencePlan({height, width, channels, ops})`, then
// `plan.run(x, n, y)` on Float32Arrays (NHWC input, [n, outputSize] output).
#include <napi.h>

#include <dnnl.hpp>
#include <stdexcept>

#include "inference_plan.h"

namespace fewshot {
namespace {

Napi::Float32Array float32(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), "inference plan: expected a Float32Array");
  return v.As<Napi::Float32Array>();
}

std::vector<float> floats(const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return {};
  auto a = float32(v);
  return std::vector<float>(a.Data(), a.Data() + a.ElementLength());
}

double num(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

class PlanWrap : public Napi::ObjectWrap<PlanWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "InferencePlan", {InstanceMethod("run", &PlanWrap::Run), InstanceAccessor("outputSize", &PlanWrap::OutputSize, nullptr)});
  }

  explicit PlanWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PlanWrap>(info) {
    Napi::Object spec = info[0].As<Napi::Object>();
    Napi::Array list = spec.Get("ops").As<Napi::Array>();
    std::vector<InferenceOp> ops;
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Object o = list.Get(i).As<Napi::Object>();
      InferenceOp op;
      op.kind = int(num(o, "kind", -1));
      op.kh = int64_t(num(o, "kh", 1)), op.kw = int64_t(num(o, "kw", 1));
      op.sh = int64_t(num(o, "sh", 1)), op.sw = int64_t(num(o, "sw", 1));
      op.dh = int64_t(num(o, "dh", 1)), op.dw = int64_t(num(o, "dw", 1));
      op.pt = int64_t(num(o, "pt", 0)), op.pb = int64_t(num(o, "pb", 0)), op.pl = int64_t(num(o, "pl", 0)), op.pr = int64_t(num(o, "pr", 0));
      op.outChannels = int64_t(num(o, "outChannels", 0));
      op.weights = floats(o.Get("weights"));
      op.bias = floats(o.Get("bias"));
      op.activation = int(num(o, "activation", 0));
      op.alpha = float(num(o, "alpha", 0));
      op.scale = float(num(o, "scale", 1)), op.offset = float(num(o, "offset", 0)), op.epsilon = float(num(o, "epsilon", 0));
      ops.push_back(std::move(op));
    }
    try {
      plan_ = std::make_unique<InferencePlan>(std::move(ops), int64_t(num(spec, "height", 0)), int64_t(num(spec, "width", 0)),
                                              int64_t(num(spec, "channels", 0)));
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), std::string("fewshot native: ") + e.what());
    }
  }

 private:
  Napi::Value Run(const Napi::CallbackInfo& info) {
    auto x = float32(info[0]);
    const int64_t n = info[1].As<Napi::Number>().Int64Value();
    auto y = float32(info[2]);
    if (n < 1 || int64_t(x.ElementLength()) != n * plan_->inputSize())
      throw Napi::RangeError::New(info.Env(), "inference plan: input has " + std::to_string(x.ElementLength()) + " values, expected " +
                                                  std::to_string(n) + " x " + std::to_string(plan_->inputSize()));
    if (int64_t(y.ElementLength()) != n * plan_->outputSize())
      throw Napi::RangeError::New(info.Env(), "inference plan: output buffer has the wrong size");
    try {
      plan_->run(x.Data(), n, y.Data());
    } catch (const dnnl::error& e) {
      throw Napi::Error::New(info.Env(), std::string("fewshot native (oneDNN): ") + e.what());
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), std::string("fewshot native: ") + e.what());
    }
    return info.Env().Undefined();
  }
  Napi::Value OutputSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(plan_->outputSize())); }

  std::unique_ptr<InferencePlan> plan_;
};

}  // namespace

void registerInferencePlan(Napi::Env env, Napi::Object exports) { exports.Set("InferencePlan", PlanWrap::Define(env)); }

}  // namespace fewshot
