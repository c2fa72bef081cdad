// klinghost against a bare libtorch C++ loop doing the same work on the
// same 256x256 portrait and the same speech-like audio with the same
// threads: the log-mel spectrogram (kling-mel), the face crop and 6-channel
// input (kling-face), forward in batches of 4, and the paste back.
// A = bare loop, B = element (appsrc audio + still ! klinghost ! appsink).
// Each run is 1.6 s of audio, 40 frames at 25 fps.  Ratio printed as
// time(B)/time(A); fps(element)/fps(bare) = 1/ratio, target time ratio
// <= 1.05.  Also the element's real-time factor (audio seconds per wall
// second; >= 1 can drive a live stream).
// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <cmath>
#include <vector>

extern "C" {
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "bench-appsink.h"
#include "bench-common.h"
#include "kling-face.h"
#include "kling-manifest.h"
#include "kling-mel.h"
}

#define SIZE 256
#define RATE 16000
#define RUN_SECONDS 1.6
#define RUN_FRAMES 40
#define BATCH 4

struct Data {
  // bare loop
  torch::jit::Module module;
  KlingMel* mel;
  KlingFace* face;
  GstVideoInfo info;
  GstBuffer* portrait;
  std::vector<float> crop, face_in, mel_in;
  int run;
  // element
  GstElement* pipe;
  GstElement* asrc;
  GstElement* sink;
  guint64 pushed;  // samples
  guint64 pulled;  // frames
};

// speech-like: a 150-250 Hz voice with harmonics, its loudness and pitch
// moving every 80 ms, never silent
static float voice(guint64 i) {
  double t = (double)i / RATE;
  int syl = (int)(t / 0.08);
  double f0 = 150 + 100 * (0.5 + 0.5 * std::sin(syl * 1.7));
  double amp = 0.15 + 0.25 * (0.5 + 0.5 * std::sin(syl * 2.3 + 1));
  double v = 0;
  for (int h = 1; h <= 6; h++) v += std::sin(2 * M_PI * f0 * h * t) / h;
  return (float)(amp * v * 0.5);
}

static GstBuffer* make_portrait(const GstVideoInfo* info) {
  GstBuffer* buf = gst_buffer_new_allocate(NULL, info->size, NULL);
  GstVideoFrame f;
  gst_video_frame_map(&f, info, buf, GST_MAP_WRITE);
  GRand* r = g_rand_new_with_seed(5);
  for (int y = 0; y < SIZE; y++) {
    guint8* row = (guint8*)GST_VIDEO_FRAME_PLANE_DATA(&f, 0) +
                  y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0);
    for (int x = 0; x < SIZE; x++) {
      bool face = (x - 128) * (x - 128) + (y - 128) * (y - 128) < 70 * 70;
      row[3 * x] = face ? 200 : (x * 3) & 0xff;
      row[3 * x + 1] = face ? 150 + (y & 31) : (y * 2) & 0xff;
      row[3 * x + 2] = (guint8)(g_rand_int(r) & 0x3f) + (face ? 110 : 40);
    }
  }
  g_rand_free(r);
  gst_video_frame_unmap(&f);
  return buf;
}

static void bare(gpointer p) {
  Data* d = (Data*)p;
  c10::InferenceMode guard;
  const KlingMelParams* mp = kling_mel_get_params(d->mel);
  // this run's audio with the context its windows need on both sides
  double t_start = d->run * RUN_SECONDS;
  gint64 first = (gint64)std::floor((t_start - 0.2) * RATE);
  gsize n = (gsize)((RUN_SECONDS + 0.4) * RATE);
  std::vector<float> audio(n);
  for (gsize i = 0; i < n; i++)
    audio[i] = first + (gint64)i >= 0 ? voice(first + i) : 0.0f;
  gsize n_frames;
  gfloat* spec = kling_mel_compute(d->mel, audio.data(), n, &n_frames);
  int M = mp->n_mels, T = mp->frames;
  int fw = 96, fh = 96;
  for (int b = 0; b < RUN_FRAMES / BATCH; b++) {
    for (int k = 0; k < BATCH; k++) {
      int frame = b * BATCH + k;
      double t = t_start + frame * 0.04 - first / (double)RATE;
      gint64 start = (gint64)std::floor(t * RATE / mp->hop + 0.5) + mp->offset;
      for (int m = 0; m < M; m++)
        for (int j = 0; j < T; j++)
          d->mel_in[(k * M + m) * T + j] =
              spec[m * n_frames + CLAMP(start + j, 0, (gint64)n_frames - 1)];
      kling_face_make_input(d->face, d->crop.data(), d->crop.data(),
                            d->face_in.data() + k * 6 * fw * fh);
    }
    at::Tensor mel = torch::from_blob(d->mel_in.data(), {BATCH, 1, M, T});
    at::Tensor face = torch::from_blob(d->face_in.data(), {BATCH, 6, fh, fw});
    at::Tensor y = d->module.forward({mel, face}).toTensor().contiguous();
    for (int k = 0; k < BATCH; k++) {
      GstBuffer* out = gst_buffer_copy_deep(d->portrait);
      kling_face_paste(d->face, y.data_ptr<float>() + k * 3 * fw * fh, out);
      gst_buffer_unref(out);
    }
  }
  g_free(spec);
  d->run++;
}

static void element(gpointer p) {
  Data* d = (Data*)p;
  guint64 end = d->pushed + (guint64)(RUN_SECONDS * RATE + 0.5);
  while (d->pushed < end) {
    guint64 n = MIN(1600, end - d->pushed);
    GstBuffer* b = gst_buffer_new_allocate(NULL, n * 4, NULL);
    GstMapInfo m;
    gst_buffer_map(b, &m, GST_MAP_WRITE);
    for (guint64 i = 0; i < n; i++) ((float*)m.data)[i] = voice(d->pushed + i);
    gst_buffer_unmap(b, &m);
    GST_BUFFER_PTS(b) = gst_util_uint64_scale(d->pushed, GST_SECOND, RATE);
    GST_BUFFER_DURATION(b) = gst_util_uint64_scale(n, GST_SECOND, RATE);
    gst_app_src_push_buffer(GST_APP_SRC(d->asrc), b);
    d->pushed += n;
  }
  // frames whose window (112.5 ms ahead) is in, in whole batches of 4
  double secs = (double)d->pushed / RATE;
  guint64 ready = (guint64)std::floor((secs - 0.1125) / 0.04 + 1e-9) + 1;
  ready -= ready % BATCH;
  for (; d->pulled < ready; d->pulled++) {
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
  d.run = 0;
  d.pushed = d.pulled = 0;

  // the bare loop: the manifest's parameters, read as the element reads
  d.module = torch::jit::load(model);
  d.module.eval();
  at::set_num_threads(threads);
  {
    std::unordered_map<std::string, std::string> extra = {{"kling.json", ""}};
    torch::jit::load(model, c10::nullopt, extra);
    KlingManifest* m = kling_manifest_parse(extra["kling.json"].c_str(), -1,
                                            model, NULL);
    KlingHeadSpec spec;
    kling_head_spec_from_manifest(&spec, m);
    kling_manifest_free(m);
    if (spec.face_width != 96 || spec.batch != BATCH || !spec.has_box) {
      fprintf(stderr, "%s: want a 96x96 face, batch %d and a face.box\n",
              model, BATCH);
      return 2;
    }
    d.mel = kling_mel_new(&spec.mel, NULL);
    gst_video_info_set_format(&d.info, GST_VIDEO_FORMAT_RGB, SIZE, SIZE);
    KlingFaceBox box;
    kling_face_box_from_fractions(spec.box, SIZE, SIZE, &box);
    d.face = kling_face_new(&d.info, &box, 96, 96, spec.mask, -1, NULL);
    d.portrait = make_portrait(&d.info);
    d.crop.resize(3 * 96 * 96);
    kling_face_crop(d.face, d.portrait, d.crop.data());
    d.face_in.resize(BATCH * 6 * 96 * 96);
    d.mel_in.resize(BATCH * spec.mel.n_mels * spec.mel.frames);
  }

  gchar* desc = g_strdup_printf(
      "appsrc name=img format=time caps=video/x-raw,format=RGB,width=%d,"
      "height=%d,framerate=0/1 ! h.image "
      "appsrc name=audio format=time caps=audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=%d,channels=1 ! h.audio "
      "klinghost name=h model=%s threads=%d batch=%d ! appsink name=sink "
      "sync=false max-buffers=200",
      SIZE, SIZE, RATE, model, threads, BATCH);
  GError* err = NULL;
  d.pipe = gst_parse_launch(desc, &err);
  g_free(desc);
  if (!d.pipe) {
    fprintf(stderr, "%s\n", err->message);
    return 1;
  }
  GstElement* img = gst_bin_get_by_name(GST_BIN(d.pipe), "img");
  d.asrc = gst_bin_get_by_name(GST_BIN(d.pipe), "audio");
  d.sink = gst_bin_get_by_name(GST_BIN(d.pipe), "sink");
  gst_element_set_state(d.pipe, GST_STATE_PLAYING);
  gst_app_src_push_buffer(GST_APP_SRC(img), gst_buffer_ref(d.portrait));
  gst_app_src_end_of_stream(GST_APP_SRC(img));

  printf("klinghost against a bare libtorch loop: %s, %d frames (%.1f s of "
         "audio) per run, %dx%d RGB portrait, batch %d, %d threads (A = bare "
         "loop, B = element; ratio B/A in time, so fps(element)/fps(bare) = "
         "1/ratio)\n\n",
         model, RUN_FRAMES, RUN_SECONDS, SIZE, SIZE, BATCH, threads);
  bench_header("A: bare", "B: element");
  bench_pair("40 frames, 256x256, 96x96 face", bare, &d, element, &d, 15, 1,
             "time <= 1.05x", 1.05, FALSE);

  // real-time factor of the element alone
  {
    double t[5];
    for (int i = 0; i < 5; i++) t[i] = bench_time(element, &d, 1);
    double ms = bench_median(t, 5);
    double rtf = RUN_SECONDS * 1000.0 / ms;
    printf("\n| %-34s | %9.3f ms | %-16s | %-4s |\n",
           "element, 1.6 s of audio (median/5)", ms, "", "");
    printf("| %-34s | %9.2f x  | %-16s | %-4s |\n",
           "real-time factor (audio s / wall s)", rtf, ">= 1",
           rtf >= 1 ? "yes" : "NO");
  }

  gst_app_src_end_of_stream(GST_APP_SRC(d.asrc));
  gst_element_set_state(d.pipe, GST_STATE_NULL);
  gst_object_unref(img);
  gst_object_unref(d.asrc);
  gst_object_unref(d.sink);
  gst_object_unref(d.pipe);
  gst_buffer_unref(d.portrait);
  kling_face_free(d.face);
  kling_mel_free(d.mel);
  return 0;
}
