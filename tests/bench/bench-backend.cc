// The backend C API against bare libtorch: the same model, the same
// channels-last input wrapped without a copy, the same threads, the same
// output handling (contiguous CPU tensor).  A = bare libtorch, B = C API:
// ratio B/A is the C API's cost, target <= 1.02.
// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ATen/Parallel.h>
#include <torch/script.h>

extern "C" {
#include "bench-common.h"
#include "kling-backend.h"
}

struct Data {
  torch::jit::Module module;
  KlingModel* model;
  std::vector<float> frame;
  int size;
  int threads;
};

static void bare(gpointer p) {
  Data* d = (Data*)p;
  c10::InferenceMode guard;
  at::Tensor x = torch::from_blob(d->frame.data(), {1, 3, d->size, d->size},
                                  {3L * d->size * d->size, 1, 3L * d->size, 3});
  at::Tensor y = d->module.forward({x}).toTensor().contiguous();
  volatile float sink = y.data_ptr<float>()[0];
  (void)sink;
}

static void c_api(gpointer p) {
  Data* d = (Data*)p;
  KlingTensor t;
  kling_tensor_init_packed_image(&t, KLING_DTYPE_FLOAT32, d->frame.data(),
                                 d->size, d->size, 3, 3,
                                 d->size * 3 * sizeof(float));
  KlingOutputs* out = kling_model_call(d->model, "forward", &t, 1, NULL, NULL);
  volatile float sink = ((float*)kling_outputs_get(out, 0)->data)[0];
  (void)sink;
  kling_outputs_free(out);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.pt [threads]\n", argv[0]);
    return 2;
  }
  Data d;
  d.threads = argc > 2 ? atoi(argv[2]) : (int)g_get_num_processors();
  d.size = 256;
  GError* err = NULL;
  KlingLoadOptions opts = {"cpu", KLING_PRECISION_FLOAT32, d.threads};
  d.model = kling_model_load(argv[1], &opts, NULL, &err);
  if (!d.model) {
    fprintf(stderr, "%s\n", err->message);
    return 1;
  }
  d.module = torch::jit::load(argv[1]);
  d.module.eval();
  at::set_num_threads(d.threads);
  GRand* rand = g_rand_new_with_seed(3);
  d.frame.resize(3 * d.size * d.size);
  for (auto& v : d.frame) v = g_rand_double(rand);
  g_rand_free(rand);

  printf("Backend C API against bare libtorch: %s, 1x3x%dx%d channels-last "
         "float32, %d threads (A = bare libtorch, B = C API; ratio = B/A)\n\n",
         argv[1], d.size, d.size, d.threads);
  bench_header("A: bare", "B: C API");
  bench_pair("forward() call, per call", bare, &d, c_api, &d, 21, 20,
             "<= 1.02", 1.02, FALSE);
  kling_model_free(d.model);
  return 0;
}
