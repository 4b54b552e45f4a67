{
  "targets": [
    {
      "target_name": "fewshot_native",
      "sources": ["src/addon.cc", "src/dnnl_context.cc", "src/conv.cc", "src/fft_conv.cc", "src/single_output_conv.cc", "src/elementwise.cc", "src/image_ops.cc", "src/inference_plan.cc", "src/inference_plan_binding.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fexceptions", "-fopenmp", "-fno-math-errno"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "ldflags": ["-fopenmp"]
    }
  ]
}
