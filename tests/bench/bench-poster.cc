// ketuposter against a bare libtorch C++ loop over the same model calls
// (encode_image of the canvas, encode_prompt, denoise with both guidance
// rows, decode) with the same steps and threads; and the cost of composing
// a 768x1024 poster (scale the scene, shadow, product on top) against the
// model time.  A = bare loop, B = ketuposter.
// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ATen/Parallel.h>
#include <torch/script.h>

extern "C" {
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "bench-appsink.h"
#include "bench-common.h"
#include "kling-compose.h"
#include "kling-manifest.h"
}

#define VARIANTS 4

struct Data {
  torch::jit::Module module;
  const char* model;
  int threads, steps, size, variants;
  double guidance;
  GstElement *pipe, *src, *sink;
  GstBuffer* product;
  guint8* scene;
  guint8* product_rgba;
};

static GstBuffer* make_product(void) {
  GstBuffer* buf = gst_buffer_new_allocate(NULL, 200 * 300 * 4, NULL);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  for (int y = 0; y < 300; y++)
    for (int x = 0; x < 200; x++) {
      guint8* p = map.data + (y * 200 + x) * 4;
      bool in = x > 40 && x < 160 && y > 20 && y < 290;
      p[0] = (guint8)(x * 3 + y);
      p[1] = (guint8)(y * 5);
      p[2] = (guint8)(x ^ y);
      p[3] = in ? 255 : 0;
    }
  gst_buffer_unmap(buf, &map);
  return buf;
}

static void bare(gpointer p) {
  Data* d = (Data*)p;
  c10::InferenceMode guard;
  int L = 48;
  auto ids = torch::zeros({2, L}, torch::kLong);
  auto mask = torch::zeros({2, L}, torch::kLong);
  const std::string prompt = "夏日海灘";
  for (size_t i = 0; i < prompt.size(); i++) {
    ids[1][i] = (int64_t)(unsigned char)prompt[i] + 1;
    mask[1][i] = 1;
  }
  auto emb = d->module.get_method("encode_prompt")({ids, mask}).toTensor();
  auto canvas = torch::zeros({1, 3, d->size, d->size})
                    .contiguous(at::MemoryFormat::ChannelsLast);
  auto lat = d->module.get_method("encode_image")({canvas}).toTensor();
  auto cov = torch::zeros({1, 1, 1, lat.size(3), lat.size(4)});
  auto cond = torch::cat({lat, cov}, 1).expand({2, -1, -1, -1, -1}).contiguous();
  for (int v = 0; v < d->variants; v++) {
    auto x = torch::randn(lat.sizes());
    for (int s = 0; s < d->steps; s++) {
      double t = 1.0 - (double)s / d->steps, tn = 1.0 - (double)(s + 1) / d->steps;
      auto out = d->module.get_method("denoise")(
          {x.expand({2, -1, -1, -1, -1}).contiguous(), torch::full({2}, t),
           emb, cond}).toTensor();
      x = x + (tn - t) * (out[0] + d->guidance * (out[1] - out[0])).unsqueeze(0);
    }
    auto img = d->module.get_method("decode")({x}).toTensor();
    volatile float f = img.data_ptr<float>()[0];
    (void)f;
  }
}

static void element(gpointer p) {
  Data* d = (Data*)p;
  // ketuposter gives a repeated photo (imagefreeze) one set of posters:
  // every run sends a photo that differs in one corner pixel
  GstBuffer* photo = gst_buffer_copy_deep(d->product);
  static guint8 run;
  run++;
  gst_buffer_memset(photo, 0, run, 1);
  gst_app_src_push_buffer(GST_APP_SRC(d->src), photo);
  for (int v = 0; v < VARIANTS; v++) {
    bench_pull_or_exit(d->pipe, d->sink, 120 * GST_SECOND);
  }
}

// what ketuposter adds at 768x1024 once the model is done: the scene
// scaled up to the poster, the shadow, the product on top
static void compose(gpointer p) {
  Data* d = (Data*)p;
  KlingRect prod = {284, 600, 200, 300};
  GstVideoInfo si, pi;
  gst_video_info_set_format(&si, GST_VIDEO_FORMAT_RGB, d->size, d->size);
  gst_video_info_set_format(&pi, GST_VIDEO_FORMAT_RGBA, 768, 1024);
  GstBuffer* sb = gst_buffer_new_allocate(NULL, si.size, NULL);
  gst_buffer_memset(sb, 0, 90, si.size);
  GstBuffer* pb = gst_buffer_new_wrapped_full((GstMemoryFlags)0, d->scene,
                                              768 * 1024 * 4, 0, 768 * 1024 * 4,
                                              NULL, NULL);
  GstVideoConverter* conv = gst_video_converter_new(
      &si, &pi,
      gst_structure_new("config", GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD,
                        GST_TYPE_VIDEO_RESAMPLER_METHOD,
                        GST_VIDEO_RESAMPLER_METHOD_CUBIC, NULL));
  GstVideoFrame in, out;
  gst_video_frame_map(&in, &si, sb, GST_MAP_READ);
  gst_video_frame_map(&out, &pi, pb, GST_MAP_WRITE);
  gst_video_converter_frame(conv, &in, &out);
  gst_video_frame_unmap(&in);
  gst_video_frame_unmap(&out);
  gst_video_converter_free(conv);
  gst_buffer_unref(sb);
  gst_buffer_unref(pb);
  kling_draw_ground_shadow(d->scene, 768 * 4, 768, 1024, &prod);
  kling_composite_over(d->scene, 768 * 4, 768, 1024, d->product_rgba, &prod);
}

static void one_poster_model(gpointer p) {
  Data* d = (Data*)p;
  d->variants = 1;
  bare(p);
  d->variants = VARIANTS;
}

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.pt THREADS\n", argv[0]);
    return 2;
  }
  Data d;
  d.model = argv[1];
  d.threads = atoi(argv[2]);
  torch::jit::ExtraFilesMap ef{{"kling.json", ""}};
  d.module = torch::jit::load(d.model, c10::kCPU, ef);
  d.module.eval();
  at::set_num_threads(d.threads);
  KlingManifest* m = kling_manifest_parse(ef["kling.json"].c_str(), -1,
                                          d.model, NULL);
  d.steps = kling_manifest_get_int(m, "defaults.steps", 16);
  d.guidance = kling_manifest_get_double(m, "defaults.guidance_scale", 3.0);
  if (d.guidance == 1.0) d.guidance = 1.5;
  d.size = kling_manifest_get_int(m, "size.width", 64);
  d.variants = VARIANTS;
  kling_manifest_free(m);
  d.product = make_product();
  d.scene = (guint8*)g_malloc0(768 * 1024 * 4);
  d.product_rgba = (guint8*)g_malloc(200 * 300 * 4);
  {
    GstMapInfo map;
    gst_buffer_map(d.product, &map, GST_MAP_READ);
    memcpy(d.product_rgba, map.data, 200 * 300 * 4);
    gst_buffer_unmap(d.product, &map);
  }

  gchar* desc = g_strdup_printf(
      "appsrc name=src format=time caps=video/x-raw,format=RGBA,width=200,"
      "height=300,framerate=0/1 ! ketuposter model=%s threads=%d steps=%d "
      "guidance-scale=%f variants=%d width=768 height=1024 "
      "prompt=\"夏日海灘\" ! appsink name=sink sync=false",
      d.model, d.threads, d.steps, d.guidance, VARIANTS);
  GError* error = NULL;
  d.pipe = gst_parse_launch(desc, &error);
  if (!d.pipe || error) {
    fprintf(stderr, "%s\n", error ? error->message : "no pipeline");
    return 1;
  }
  d.src = gst_bin_get_by_name(GST_BIN(d.pipe), "src");
  d.sink = gst_bin_get_by_name(GST_BIN(d.pipe), "sink");
  gst_element_set_state(d.pipe, GST_STATE_PLAYING);

  printf("ketuposter against a bare libtorch loop: %s, %d posters of "
         "768x1024, %d steps, %d threads (A = bare model calls, B = element; "
         "ratio B/A in time)\n\n", d.model, VARIANTS, d.steps, d.threads);
  bench_header("A: bare", "B: ketuposter");
  bench_pair("4 posters", bare, &d, element, &d, 7, 1, "<= 1.03", 1.03, FALSE);
  bench_header("A: model calls", "B: compose");
  bench_pair("compose 768x1024, one poster", one_poster_model, &d, compose,
             &d, 7, 1, "<= 0.05", 0.05, FALSE);

  gst_element_set_state(d.pipe, GST_STATE_NULL);
  gst_object_unref(d.src);
  gst_object_unref(d.sink);
  gst_object_unref(d.pipe);
  gst_buffer_unref(d.product);
  g_free(d.scene);
  g_free(d.product_rgba);
  return 0;
}
