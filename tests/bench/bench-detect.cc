// aiproductdetect against a bare libtorch C++ loop doing the same
// preprocessing (GstVideoConverter letterbox + ORC normaliser) and the same
// model call on the same 1280x720 frames with the same threads.
// A = bare loop, B = element (appsrc ! aiproductdetect ! appsink).
// Ratio printed as fps(B)/fps(A) = time(A)/time(B); target >= 0.95.
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
#include "kling-convert.h"
#include "kling-detections.h"
}

#define FW 1280
#define FH 720
#define NFRAMES 24

struct Data {
  std::vector<GstBuffer*> frames;
  GstVideoInfo in_info, rgb_info;
  GstVideoConverter* conv;
  GstBuffer* rgb;
  std::vector<float> values;
  KlingNormalizer* norm;
  torch::jit::Module module;
  int size;
  GstElement* pipe;
  GstElement* src;
  GstElement* sink;
};

// varied content: moving gradients, shapes and noise
static GstBuffer* make_frame(int n, GRand* rand) {
  GstBuffer* buf = gst_buffer_new_allocate(NULL, FW * FH * 3, NULL);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  for (int y = 0; y < FH; y++)
    for (int x = 0; x < FW; x++) {
      guint8* p = map.data + (y * FW + x) * 3;
      int cx = 300 + 20 * n, cy = 360;
      bool in = (x - cx) * (x - cx) + (y - cy) * (y - cy) < 120 * 120;
      p[0] = in ? 220 : (x + 3 * n) & 0xff;
      p[1] = in ? 40 : (y * 2) & 0xff;
      p[2] = (guint8)(g_rand_int(rand) & 0x3f) + ((x ^ y) & 0x7f);
    }
  gst_buffer_unmap(buf, &map);
  GST_BUFFER_PTS(buf) = gst_util_uint64_scale(n, GST_SECOND, 30);
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return buf;
}

static void bare(gpointer p) {
  Data* d = (Data*)p;
  c10::InferenceMode guard;
  for (GstBuffer* f : d->frames) {
    GstVideoFrame in, out;
    gst_video_frame_map(&in, &d->in_info, f, GST_MAP_READ);
    gst_video_frame_map(&out, &d->rgb_info, d->rgb, GST_MAP_READWRITE);
    gst_video_converter_frame(d->conv, &in, &out);
    kling_normalizer_run(d->norm, d->values.data(), d->size * 3 * 4,
                         (guint8*)GST_VIDEO_FRAME_PLANE_DATA(&out, 0),
                         GST_VIDEO_FRAME_PLANE_STRIDE(&out, 0), d->size);
    gst_video_frame_unmap(&out);
    gst_video_frame_unmap(&in);
    at::Tensor x = torch::from_blob(
        d->values.data(), {1, 3, d->size, d->size},
        {3L * d->size * d->size, 1, 3L * d->size, 3});
    at::Tensor y = d->module.forward({x}).toTensor().contiguous();
    volatile float s = y.data_ptr<float>()[0];
    (void)s;
  }
}

static void element(gpointer p) {
  Data* d = (Data*)p;
  for (GstBuffer* f : d->frames)
    gst_app_src_push_buffer(GST_APP_SRC(d->src), gst_buffer_ref(f));
  for (size_t i = 0; i < d->frames.size(); i++) {
    bench_pull_or_exit(d->pipe, d->sink, 60 * GST_SECOND);
  }
}

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.pt THREADS\n", argv[0]);
    return 2;
  }
  const char* model = argv[1];
  int threads = atoi(argv[2]);
  Data d;
  GRand* rand = g_rand_new_with_seed(11);
  for (int i = 0; i < NFRAMES; i++) d.frames.push_back(make_frame(i, rand));
  g_rand_free(rand);

  // the bare loop: what the element does before and at the model call
  d.size = 256;
  gst_video_info_set_format(&d.in_info, GST_VIDEO_FORMAT_RGB, FW, FH);
  GST_VIDEO_INFO_FPS_N(&d.in_info) = 30;
  gst_video_info_set_format(&d.rgb_info, GST_VIDEO_FORMAT_RGB, d.size, d.size);
  GST_VIDEO_INFO_FPS_N(&d.rgb_info) = 30;
  KlingLetterbox lb;
  kling_letterbox_init(&lb, FW, FH, d.size, d.size, TRUE);
  d.conv = gst_video_converter_new(
      &d.in_info, &d.rgb_info,
      gst_structure_new(
          "config", GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT, lb.dest_x,
          GST_VIDEO_CONVERTER_OPT_DEST_Y, G_TYPE_INT, lb.dest_y,
          GST_VIDEO_CONVERTER_OPT_DEST_WIDTH, G_TYPE_INT, lb.dest_width,
          GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT, lb.dest_height,
          GST_VIDEO_CONVERTER_OPT_FILL_BORDER, G_TYPE_BOOLEAN, FALSE,
          GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD,
          GST_TYPE_VIDEO_RESAMPLER_METHOD, GST_VIDEO_RESAMPLER_METHOD_LINEAR,
          GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
          GST_VIDEO_DITHER_NONE, NULL));
  d.rgb = gst_buffer_new_allocate(NULL, d.rgb_info.size, NULL);
  d.values.resize(3 * d.size * d.size);
  static const float mean[3] = {0, 0, 0}, stdv[3] = {1, 1, 1};
  d.norm = kling_normalizer_new(d.size, 3, 1 / 255.0f, mean, stdv);
  d.module = torch::jit::load(model);
  d.module.eval();
  at::set_num_threads(threads);

  gchar* desc = g_strdup_printf(
      "appsrc name=src format=time caps=video/x-raw,format=RGB,width=%d,"
      "height=%d,framerate=30/1 max-buffers=%d block=true ! aiproductdetect "
      "model=%s copy-model=\"\" threads=%d ! appsink name=sink sync=false "
      "max-buffers=%d",
      FW, FH, NFRAMES, model, threads, NFRAMES);
  GError* err = NULL;
  d.pipe = gst_parse_launch(desc, &err);
  if (!d.pipe) {
    fprintf(stderr, "%s\n", err->message);
    return 1;
  }
  d.src = gst_bin_get_by_name(GST_BIN(d.pipe), "src");
  d.sink = gst_bin_get_by_name(GST_BIN(d.pipe), "sink");
  gst_element_set_state(d.pipe, GST_STATE_PLAYING);

  printf("aiproductdetect against a bare libtorch loop: %s, %d frames of "
         "%dx%d RGB per run, %d threads (A = bare loop, B = element; ratio "
         "B/A in time, so fps(element)/fps(bare) = 1/ratio)\n\n",
         model, NFRAMES, FW, FH, threads);
  bench_header("A: bare", "B: element");
  // time ratio B/A <= 1/0.95 means fps ratio >= 0.95
  bench_pair("24 frames, 1280x720 -> 256x256", bare, &d, element, &d, 9, 1,
             "fps >= 0.95x", 1.0 / 0.95, FALSE);

  gst_element_set_state(d.pipe, GST_STATE_NULL);
  gst_object_unref(d.src);
  gst_object_unref(d.sink);
  gst_object_unref(d.pipe);
  for (GstBuffer* f : d.frames) gst_buffer_unref(f);
  return 0;
}
