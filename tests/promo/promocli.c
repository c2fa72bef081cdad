/* gst-kling: gst-kling-promo end to end, on a product photo drawn here
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fast test models (tests/models: video-colour, poster-colour,
 * copy-echo) and espeak-ng stand in for the defaults; the output is small
 * (180x320) so the suite stays short.  H.264 cannot keep pixels exact, so
 * the product is checked bit-exact in the frames as they enter the encoder
 * (--dump-frames writes every 15th frame and the layout), and in the MP4
 * within a small error of those frames.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/app/app.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#define W 180
#define H 320
#define PHOTO_W 120
#define PHOTO_H 160
/* the product in the photo */
#define PX 30
#define PY 30
#define PW 60
#define PH 100

static gchar *tmpdir;

static void
product_pixel (gint x, gint y, guint8 * rgb)
{
  rgb[0] = 200;
  rgb[1] = (x * 4) & 255;
  rgb[2] = (y * 3) & 255;
}

/* @format: RGB or GRAY8 (@bpp 3 or 1) */
static void
write_png_format (const gchar * path, const guint8 * rgb, gint w, gint h,
    const gchar * format, gint bpp)
{
  GstElement *p = gst_parse_launch ("appsrc name=src ! pngenc ! "
      "filesink name=sink", NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  GstCaps *caps = gst_caps_new_simple ("video/x-raw", "format",
      G_TYPE_STRING, format, "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
      "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
  GstBuffer *buf;
  GstMapInfo map;
  GstMessage *m;
  gint y, stride = GST_ROUND_UP_4 (w * bpp);

  buf = gst_buffer_new_allocate (NULL, (gsize) stride * h, NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (y = 0; y < h; y++)
    memcpy (map.data + (gsize) y * stride, rgb + (gsize) y * w * bpp,
        (gsize) w * bpp);
  gst_buffer_unmap (buf, &map);
  g_object_set (src, "caps", caps, NULL);
  g_object_set (sink, "location", path, NULL);
  gst_caps_unref (caps);
  gst_element_set_state (p, GST_STATE_PLAYING);
  gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  m = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (p);
}

static void
write_png (const gchar * path, const guint8 * rgb, gint w, gint h)
{
  write_png_format (path, rgb, w, h, "RGB", 3);
}

/* a product on a plain white ground */
static gchar *
draw_product_photo (void)
{
  guint8 *rgb = g_malloc ((gsize) PHOTO_W * PHOTO_H * 3);
  gchar *path = g_build_filename (tmpdir, "product.png", NULL);
  gint x, y;

  for (y = 0; y < PHOTO_H; y++)
    for (x = 0; x < PHOTO_W; x++) {
      guint8 *d = rgb + ((gsize) y * PHOTO_W + x) * 3;
      if (x >= PX && x < PX + PW && y >= PY && y < PY + PH)
        product_pixel (x, y, d);
      else
        d[0] = d[1] = d[2] = 255;
    }
  write_png (path, rgb, PHOTO_W, PHOTO_H);
  g_free (rgb);
  return path;
}

static gchar *
make_music (void)
{
  gchar *path = g_build_filename (tmpdir, "music.wav", NULL);
  gchar *desc = g_strdup_printf ("audiotestsrc wave=sine freq=220 "
      "num-buffers=100 ! audioconvert ! wavenc ! filesink location=\"%s\"",
      path);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstMessage *m;

  gst_element_set_state (p, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  g_free (desc);
  return path;
}

/* noise everywhere: nothing stands out of a plain ground */
static gchar *
draw_noise_photo (void)
{
  guint8 *rgb = g_malloc ((gsize) PHOTO_W * PHOTO_H * 3);
  gchar *path = g_build_filename (tmpdir, "noise.png", NULL);
  GRand *r = g_rand_new_with_seed (3);
  gsize i;

  for (i = 0; i < (gsize) PHOTO_W * PHOTO_H * 3; i++)
    rgb[i] = g_rand_int_range (r, 0, 256);
  write_png (path, rgb, PHOTO_W, PHOTO_H);
  g_rand_free (r);
  g_free (rgb);
  return path;
}

/* @size: --size WxH, or NULL for none */
static gint
run_cli_sized (const gchar * size, const gchar * const *extra, gchar ** out,
    gchar ** err)
{
  const gchar *models = g_getenv ("KLING_TEST_MODELS");
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  gint status = -1;
  GError *error = NULL;

  g_ptr_array_add (argv, g_strdup (g_getenv ("PROMO_CLI")));
  if (size) {
    g_ptr_array_add (argv, g_strdup ("--size"));
    g_ptr_array_add (argv, g_strdup (size));
  }
  g_ptr_array_add (argv, g_strdup ("--threads=1"));
  g_ptr_array_add (argv, g_strdup_printf ("--video-model=%s/video-colour.pt",
          models));
  g_ptr_array_add (argv, g_strdup_printf ("--poster-model=%s/poster-colour.pt",
          models));
  g_ptr_array_add (argv, g_strdup_printf ("--copy-model=%s/copy-echo.pt",
          models));
  for (; *extra; extra++)
    g_ptr_array_add (argv, g_strdup (*extra));
  g_ptr_array_add (argv, NULL);
  fail_unless (g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, 0, NULL,
          NULL, out, err, &status, &error), "%s", error ? error->message : "");
  g_ptr_array_free (argv, TRUE);
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return -1;
}

static gint
run_cli (const gchar * const *extra, gchar ** out, gchar ** err)
{
  gchar *size = g_strdup_printf ("%dx%d", W, H);
  gint ret = run_cli_sized (size, extra, out, err);

  g_free (size);
  return ret;
}

/* the CLI's own message in its stderr (the rest is debug output) */
static const gchar *
cli_error (const gchar * err)
{
  const gchar *m = err ? strstr (err, "gst-kling-promo: ") : NULL;

  return m ? m : "(no message)";
}

/* no output, and no temporary file left beside it */
static void
assert_nothing_left (const gchar * dir, const gchar * output)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  fail_if (g_file_test (output, G_FILE_TEST_EXISTS), "%s left", output);
  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)))
    fail_if (strstr (name, ".partial-") != NULL, "%s left", name);
  g_dir_close (d);
}

static guint8 *
read_ppm (const gchar * dir, guint frame, gint * w, gint * h)
{
  gchar *path = g_strdup_printf ("%s/frame-%05u.ppm", dir, frame);
  gchar *data = NULL;
  gsize len = 0;
  gint n = 0, maxval = 0;
  guint8 *px;

  fail_unless (g_file_get_contents (path, &data, &len, NULL), "no %s", path);
  fail_unless (sscanf (data, "P6\n%d %d\n%d\n%n", w, h, &maxval, &n) == 3);
  fail_unless (maxval == 255 && n > 0);
  fail_unless_equals_uint64 (len, (guint64) n + (guint64) * w * *h * 3);
  px = g_memdup2 (data + n, (gsize) * w * *h * 3);
  g_free (data);
  g_free (path);
  return px;
}

typedef struct
{
  gint x, y, w, h;
  guint frames;
  guint shot_start[8], shot_frames[8], n_shots;
  guint end_start;
  guint fade;                   /* frames of each cross-fade */
} Layout;

static void
read_layout (const gchar * dir, Layout * l)
{
  gchar *path = g_build_filename (dir, "layout.txt", NULL);
  gchar *data = NULL, **lines;
  guint i;

  memset (l, 0, sizeof (*l));
  fail_unless (g_file_get_contents (path, &data, NULL, NULL));
  lines = g_strsplit (data, "\n", -1);
  fail_unless (sscanf (lines[0], "product %d %d %d %d", &l->x, &l->y, &l->w,
          &l->h) == 4);
  fail_unless (sscanf (lines[1], "frames %u", &l->frames) == 1);
  {
    gchar **tok = g_strsplit (lines[2], " ", -1);
    for (i = 1; tok[i] && tok[i + 1] && l->n_shots < 8; i += 2) {
      l->shot_start[l->n_shots] = atoi (tok[i]);
      l->shot_frames[l->n_shots++] = atoi (tok[i + 1]);
    }
    g_strfreev (tok);
  }
  fail_unless (sscanf (lines[3], "end %u", &l->end_start) == 1);
  fail_unless (lines[4] && sscanf (lines[4], "fade %u", &l->fade) == 1);
  g_strfreev (lines);
  g_free (data);
  g_free (path);
}

/* the product's opaque pixels, one to one where the layout put them (the
 * cut-out carries a one-pixel feathered ring around them), in a frame
 * @fw pixels wide */
static void
assert_product_exact_in (const guint8 * frame, gint fw, const Layout * l,
    guint f)
{
  gint x, y;

  for (y = PY; y < PY + PH; y++)
    for (x = PX; x < PX + PW; x++) {
      guint8 want[3];
      const guint8 *got = frame + ((gsize) (l->y + 1 + y - PY) * fw +
          (l->x + 1 + x - PX)) * 3;
      product_pixel (x, y, want);
      fail_unless (memcmp (want, got, 3) == 0, "frame %u: product pixel "
          "%d,%d is %d,%d,%d, not %d,%d,%d", f, x, y, got[0], got[1],
          got[2], want[0], want[1], want[2]);
    }
}

static void
assert_product_exact (const guint8 * frame, const Layout * l, guint f)
{
  assert_product_exact_in (frame, W, l, f);
}

/* GES does the cuts and fades: the report lists the timeline's clips and
 * the keyframes GES holds on the alpha of the shots on the upper layer
 * (every other shot fades in over the one before or out over the one
 * after); and the middle frame of each fade (dumped besides every 15th)
 * is a blend of the frames of the two shots on either side of it, away
 * from the product (the top rows). */
static void
assert_ges_timeline (const gchar * out, const gchar * dump, const Layout * l,
    gboolean title, gboolean music)
{
  guint i;
  gchar *want;

  for (i = 0; i < l->n_shots; i++) {
    const gchar *line;
    want = g_strdup_printf ("KlingFeedClip shot-%u, %.3f-%.3f s", i + 1,
        l->shot_start[i] / 30.0, (l->shot_start[i] + l->shot_frames[i]) /
        30.0);
    line = strstr (out, want);
    fail_unless (line != NULL, "'%s' not in: %s", want, out);
    g_free (want);
    if (i == 0)
      continue;
    /* the fade between shots i and i + 1 (1-based): the upper one's
     * keyframes, out at shot i's end or in at shot i + 1's start */
    if ((i - 1) % 2 == 0)
      want = g_strdup_printf ("1.00 at %.3f s, 0.00 at %.3f s\n",
          (l->shot_start[i] - 1) / 30.0, (l->shot_start[i] + l->fade) / 30.0);
    else
      want = g_strdup_printf ("KlingFeedClip shot-%u, %.3f-%.3f s, alpha "
          "0.06 at %.3f s, 1.00 at %.3f s", i + 1, l->shot_start[i] / 30.0,
          (l->shot_start[i] + l->shot_frames[i]) / 30.0,
          l->shot_start[i] / 30.0, (l->shot_start[i] + l->fade) / 30.0);
    fail_unless (strstr (out, want) != NULL, "'%s' not in: %s", want, out);
    g_free (want);
  }
  want = g_strdup_printf ("timeline: layer 2: KlingFeedClip end-card, "
      "%.3f-%.3f s\n", l->end_start / 30.0, l->frames / 30.0);
  fail_unless (strstr (out, want) != NULL, "'%s' not in: %s", want, out);
  g_free (want);
  fail_unless ((strstr (out, "timeline: layer 0: GESTitleClip title, ") !=
          NULL) == title, "%s", out);
  fail_unless (strstr (out, "timeline: layer 3: KlingFeedClip voice, ") !=
      NULL, "%s", out);
  fail_unless ((strstr (out, "timeline: layer 4: GESUriClip music (volume "
              "0.25), 0.000-") != NULL) == music, "%s", out);

  for (i = 1; i < l->n_shots; i++) {
    guint mid = l->shot_start[i] + l->fade / 2;
    /* dumped frames of the shot before alone, and of the next alone */
    guint before = (l->shot_start[i] - 1) / 15 * 15;
    guint after = (l->shot_start[i] + l->fade + 14) / 15 * 15;
    gint w, h;
    guint8 *a = read_ppm (dump, before, &w, &h);
    guint8 *m = read_ppm (dump, mid, &w, &h);
    guint8 *b = read_ppm (dump, after, &w, &h);
    gsize j, row = (gsize) 10 * w * 3;
    gdouble dot = 0, norm = 0, t, off = 0;

    for (j = 0; j < row; j++) {
      dot += ((gdouble) m[j] - a[j]) * ((gdouble) b[j] - a[j]);
      norm += ((gdouble) b[j] - a[j]) * ((gdouble) b[j] - a[j]);
    }
    fail_unless (norm > (gdouble) row * 16, "shots %u and %u look alike",
        i, i + 1);
    /* m = a + t (b - a): how far the fade is, and how well that fits */
    t = dot / norm;
    for (j = 0; j < row; j++)
      off += fabs (m[j] - (a[j] + t * ((gdouble) b[j] - a[j])));
    GST_INFO ("fade %u: frame %u is %.2f of the way from frame %u to %u, "
        "off by %.2f", i, mid, t, before, after, off / row);
    fail_unless (t > 0.25 && t < 0.75, "frame %u is no blend of frames %u "
        "and %u (%.2f of the way)", mid, before, after, t);
    fail_unless (off / row < 6, "frame %u is off a blend of %u and %u by "
        "%.2f", mid, before, after, off / row);
    g_free (a);
    g_free (m);
    g_free (b);
  }
}

static JsonObject *
ffprobe (const gchar * file, JsonParser ** parser)
{
  const gchar *argv[] = { "ffprobe", "-v", "error", "-print_format", "json",
    "-show_streams", "-show_format", "-count_frames", file, NULL
  };
  gchar *out = NULL;
  gint status;

  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH
          | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL), "ffprobe failed");
  *parser = json_parser_new ();
  fail_unless (json_parser_load_from_data (*parser, out, -1, NULL));
  g_free (out);
  return json_node_get_object (json_parser_get_root (*parser));
}

/* the MP4's decoded frames (GStreamer's qtdemux 1.22 does not expose a
 * tx3g track: its text is read with ffprobe) */
typedef struct
{
  GPtrArray *frames;            /* RGB, W x H */
} Decoded;

static void
pad_added (GstElement * demux, GstPad * pad, GstElement * pipeline)
{
  gchar *name = gst_pad_get_name (pad);

  if (g_str_has_prefix (name, "video")) {
    GstElement *dec = gst_bin_get_by_name (GST_BIN (pipeline), "dec");
    GstPad *sinkpad = gst_element_get_static_pad (dec, "sink");
    gst_pad_link (pad, sinkpad);
    gst_object_unref (sinkpad);
    gst_object_unref (dec);
  }
  g_free (name);
}

static void
decode_mp4 (const gchar * file, Decoded * d)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! qtdemux name=q  "
      "avdec_h264 name=dec ! videoconvert ! video/x-raw,format=RGB,width=%d,"
      "height=%d ! appsink name=video sync=false", file, W, H);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *q = gst_bin_get_by_name (GST_BIN (p), "q");
  GstAppSink *video = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (p), "video"));
  GstSample *s;

  g_free (desc);
  d->frames = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (q, "pad-added", G_CALLBACK (pad_added), p);
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  while (!gst_app_sink_is_eos (video)) {
    GstMessage *m = gst_bus_pop_filtered (GST_ELEMENT_BUS (p),
        GST_MESSAGE_ERROR);
    fail_if (m != NULL, "decoding the promo failed");
    if ((s = gst_app_sink_try_pull_sample (video, 10 * GST_MSECOND))) {
      GstVideoInfo info;
      GstVideoFrame vf;
      guint8 *px = g_malloc ((gsize) W * H * 3);
      gint y;
      gst_video_info_from_caps (&info, gst_sample_get_caps (s));
      gst_video_frame_map (&vf, &info, gst_sample_get_buffer (s), GST_MAP_READ);
      for (y = 0; y < H; y++)
        memcpy (px + (gsize) y * W * 3,
            (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0) +
            (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0), W * 3);
      gst_video_frame_unmap (&vf);
      g_ptr_array_add (d->frames, px);
      gst_sample_unref (s);
    }
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (q);
  gst_object_unref (video);
  gst_object_unref (p);
}

/* the subtitle track's text: ffprobe's hex dump of each tx3g sample (a
 * 16-bit length, then UTF-8) */
static GString *
subtitle_text (const gchar * file)
{
  const gchar *argv[] = { "ffprobe", "-v", "error", "-select_streams", "s",
    "-show_packets", "-show_data", "-print_format", "json", file, NULL
  };
  gchar *out = NULL;
  gint status;
  JsonParser *parser = json_parser_new ();
  JsonArray *packets;
  GString *text = g_string_new (NULL);
  guint i;

  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH
          | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL));
  fail_unless (json_parser_load_from_data (parser, out, -1, NULL));
  packets = json_object_get_array_member (json_node_get_object
      (json_parser_get_root (parser)), "packets");
  for (i = 0; i < json_array_get_length (packets); i++) {
    const gchar *dump = json_object_get_string_member
        (json_array_get_object_element (packets, i), "data");
    GByteArray *bytes = g_byte_array_new ();
    gchar **lines = g_strsplit (dump, "\n", -1);
    guint j;
    for (j = 0; lines[j]; j++) {
      /* "00000000: 0009 7265 6420 ...  ..red thing" */
      gchar *hex = strchr (lines[j], ':');
      gint k;
      if (hex == NULL)
        continue;
      hex++;
      for (k = 0; k < 8; k++) {
        guint v;
        gint n = 0;
        while (*hex == ' ')
          hex++;
        if (sscanf (hex, "%4x%n", &v, &n) == 1 && n == 4) {
          guint8 b[2] = { v >> 8, v & 255 };
          g_byte_array_append (bytes, b, 2);
          hex += 4;
        } else if (sscanf (hex, "%2x%n", &v, &n) == 1 && n == 2) {
          guint8 b = v;
          g_byte_array_append (bytes, &b, 1);
          break;
        } else {
          break;
        }
      }
    }
    if (bytes->len >= 2) {
      guint len = (bytes->data[0] << 8) | bytes->data[1];
      fail_unless (len + 2 <= bytes->len);
      g_string_append_len (text, (const gchar *) bytes->data + 2, len);
      g_string_append_c (text, '\n');
    }
    g_strfreev (lines);
    g_byte_array_free (bytes, TRUE);
  }
  g_object_unref (parser);
  g_free (out);
  return text;
}

/* ffprobe: H.264 @w x @h at 30 fps with @frames frames, AAC and a subtitle
 * track, @frames / 30 s long (within a frame) */
static void
assert_probe (const gchar * file, gint w, gint h, guint frames)
{
  JsonParser *parser;
  JsonObject *root = ffprobe (file, &parser);
  JsonArray *streams = json_object_get_array_member (root, "streams");
  gboolean seen_video = FALSE, seen_audio = FALSE, seen_text = FALSE;
  gchar *n = g_strdup_printf ("%u", frames);
  gdouble d;
  guint i;

  for (i = 0; i < json_array_get_length (streams); i++) {
    JsonObject *s = json_array_get_object_element (streams, i);
    const gchar *type = json_object_get_string_member (s, "codec_type");
    const gchar *codec = json_object_get_string_member (s, "codec_name");
    if (g_strcmp0 (type, "video") == 0) {
      fail_unless_equals_string (codec, "h264");
      fail_unless_equals_int (json_object_get_int_member (s, "width"), w);
      fail_unless_equals_int (json_object_get_int_member (s, "height"), h);
      fail_unless_equals_string (json_object_get_string_member (s,
              "r_frame_rate"), "30/1");
      fail_unless_equals_string (json_object_get_string_member (s,
              "nb_read_frames"), n);
      seen_video = TRUE;
    } else if (g_strcmp0 (type, "audio") == 0) {
      fail_unless_equals_string (codec, "aac");
      seen_audio = TRUE;
    } else if (g_strcmp0 (type, "subtitle") == 0) {
      fail_unless_equals_string (codec, "mov_text");
      seen_text = TRUE;
    }
  }
  fail_unless (seen_video && seen_audio && seen_text);
  d = g_ascii_strtod (json_object_get_string_member
      (json_object_get_object_member (root, "format"), "duration"), NULL);
  fail_unless (fabs (d - frames / 30.0) <= 1.0 / 30, "duration %f", d);
  g_object_unref (parser);
  g_free (n);
}

/* every dumped frame (every 15th) of a @w x @h promo holds the product's
 * pixels exactly at the rectangle the layout (and the CLI) gave, inside
 * the frame */
static void
assert_dump_exact (const gchar * dump, const gchar * out, gint w, gint h,
    Layout * l)
{
  gchar *said;
  guint f;

  read_layout (dump, l);
  fail_unless_equals_int (l->frames, 300);
  fail_unless_equals_int (l->w, PW + 2);
  fail_unless_equals_int (l->h, PH + 2);
  fail_unless (l->x >= 0 && l->y >= 0 && l->x + l->w <= w
      && l->y + l->h <= h, "product at %d,%d %dx%d outside %dx%d", l->x,
      l->y, l->w, l->h, w, h);
  said = g_strdup_printf ("product at %d,%d size %dx%d\n", l->x, l->y, l->w,
      l->h);
  fail_unless (strstr (out, said) != NULL, "'%s' not in: %s", said, out);
  g_free (said);
  for (f = 0; f < l->frames; f += 15) {
    gint fw, fh;
    guint8 *px = read_ppm (dump, f, &fw, &fh);
    fail_unless (fw == w && fh == h, "frame %u is %dx%d", f, fw, fh);
    assert_product_exact_in (px, w, l, f);
    g_free (px);
  }
}

/* --aspect with a --size of that aspect (small, so the test stays short) */
static void
check_aspect (const gchar * aspect, gint w, gint h)
{
  gchar *photo = draw_product_photo ();
  gchar *output = g_strdup_printf ("%s/promo-%dx%d.mp4", tmpdir, w, h);
  gchar *dump = g_strdup_printf ("%s/dump-%dx%d", tmpdir, w, h);
  gchar *dump_arg = g_strdup_printf ("--dump-frames=%s", dump);
  gchar *size = g_strdup_printf ("%dx%d", w, h);
  const gchar *args[] = { photo, "-o", output, "--aspect", aspect,
    "--duration", "10", "--lang", "en", "--style", "beach,snow", "--seed",
    "5", "--name", "Cola", "--price", "$1", dump_arg, NULL
  };
  gchar *out = NULL, *err = NULL;
  Layout l;

  fail_unless (run_cli_sized (size, args, &out, &err) == 0,
      "--aspect %s --size %s failed: %s", aspect, size, cli_error (err));
  assert_probe (output, w, h, 300);
  assert_dump_exact (dump, out, w, h, &l);
  fail_unless_equals_int (l.n_shots, 2);
  assert_ges_timeline (out, dump, &l, TRUE, FALSE);
  g_free (out);
  g_free (err);
  g_free (size);
  g_free (dump_arg);
  g_free (dump);
  g_free (output);
  g_free (photo);
}

GST_START_TEST (test_aspect_16_9)
{
  check_aspect ("16:9", 320, 180);
}

GST_END_TEST;

GST_START_TEST (test_aspect_1_1)
{
  check_aspect ("1:1", 240, 240);
}

GST_END_TEST;

/* the product on a busy ground (noise): the plain-background cut-out
 * cannot separate it, its mask can.  The mask is opaque on the product
 * and half transparent on a one-pixel ring around it. */
GST_START_TEST (test_mask)
{
  guint8 *rgb = g_malloc ((gsize) PHOTO_W * PHOTO_H * 3);
  guint8 *mask = g_malloc0 ((gsize) PHOTO_W * PHOTO_H);
  gchar *photo = g_build_filename (tmpdir, "busy.png", NULL);
  gchar *mask_path = g_build_filename (tmpdir, "busy-mask.png", NULL);
  gchar *output = g_build_filename (tmpdir, "masked.mp4", NULL);
  gchar *dump = g_build_filename (tmpdir, "dump-mask", NULL);
  gchar *dump_arg = g_strdup_printf ("--dump-frames=%s", dump);
  gchar *mask_arg = g_strdup_printf ("--mask=%s", mask_path);
  GRand *r = g_rand_new_with_seed (11);
  gchar *out = NULL, *err = NULL;
  Layout l;
  gint x, y;

  for (y = 0; y < PHOTO_H; y++)
    for (x = 0; x < PHOTO_W; x++) {
      guint8 *d = rgb + ((gsize) y * PHOTO_W + x) * 3;
      gboolean in = x >= PX && x < PX + PW && y >= PY && y < PY + PH;
      gboolean ring = x >= PX - 1 && x <= PX + PW && y >= PY - 1
          && y <= PY + PH;
      if (in) {
        product_pixel (x, y, d);
        mask[y * PHOTO_W + x] = 255;
      } else {
        d[0] = g_rand_int_range (r, 0, 256);
        d[1] = g_rand_int_range (r, 0, 256);
        d[2] = g_rand_int_range (r, 0, 256);
        mask[y * PHOTO_W + x] = ring ? 128 : 0;
      }
    }
  write_png (photo, rgb, PHOTO_W, PHOTO_H);
  write_png_format (mask_path, mask, PHOTO_W, PHOTO_H, "GRAY8", 1);

  /* without the mask: no separable product */
  {
    const gchar *a[] = { photo, "-o", output, "--duration", "10", NULL };
    fail_if (run_cli (a, &out, &err) == 0, "a busy photo was cut out: %s", out);
    fail_unless (strstr (err, "no separable product") != NULL, "%s", err);
    fail_unless (strstr (err, "--mask") != NULL, "%s", err);
    assert_nothing_left (tmpdir, output);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  /* a mask of another size is refused */
  {
    gchar *small = g_build_filename (tmpdir, "small-mask.png", NULL);
    gchar *small_arg = g_strdup_printf ("--mask=%s", small);
    const gchar *a[] = { photo, "-o", output, "--duration", "10", small_arg,
      NULL
    };
    write_png_format (small, mask, PHOTO_W / 2, PHOTO_H / 2, "GRAY8", 1);
    fail_if (run_cli (a, &out, &err) == 0);
    fail_unless (strstr (err, "--mask") != NULL
        && strstr (err, "size") != NULL, "%s", err);
    assert_nothing_left (tmpdir, output);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_free (small_arg);
    g_free (small);
  }
  /* with it: the product exact where the mask is opaque */
  {
    const gchar *a[] = { photo, "-o", output, "--duration", "10", "--lang",
      "en", "--style", "marble", "--seed", "2", "--kind", "bottle",
      mask_arg, dump_arg, NULL
    };
    fail_unless (run_cli (a, &out, &err) == 0, "failed: %s", cli_error (err));
    fail_unless (strstr (out, "kind: bottle (--kind)\n") != NULL, "%s", out);
    fail_unless (strstr (out, "copy 1: red thing\n") != NULL, "%s", out);
    assert_probe (output, W, H, 300);
    assert_dump_exact (dump, out, W, H, &l);
  }

  g_rand_free (r);
  g_free (out);
  g_free (err);
  g_free (mask_arg);
  g_free (dump_arg);
  g_free (dump);
  g_free (output);
  g_free (mask_path);
  g_free (photo);
  g_free (mask);
  g_free (rgb);
}

GST_END_TEST;

/* a bottle: a neck, a body with rounded shoulders and a label band */
static gchar *
draw_bottle_photo (void)
{
  const gint w = 160, h = 240, r = 12;
  guint8 *rgb = g_malloc ((gsize) w * h * 3);
  gchar *path = g_build_filename (tmpdir, "bottle.png", NULL);
  gint x, y;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      guint8 *d = rgb + ((gsize) y * w + x) * 3;
      gboolean neck = x >= 68 && x <= 92 && y >= 30 && y <= 70;
      gboolean body = x >= 50 && x <= 110 && y >= 65 && y <= 210;
      /* the body's corners, rounded */
      gint cx = x < 50 + r ? 50 + r : x > 110 - r ? 110 - r : x;
      gint cy = y < 65 + r ? 65 + r : y > 210 - r ? 210 - r : y;
      if (body && (x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r)
        body = FALSE;
      d[0] = d[1] = d[2] = 255;
      if (neck || body) {
        d[0] = 30;
        d[1] = 120;
        d[2] = 200;
      }
      if (body && y >= 120 && y <= 150) {
        d[0] = 240;
        d[1] = 200;
        d[2] = 40;
      }
    }
  write_png_format (path, rgb, w, h, "RGB", 3);
  g_free (rgb);
  return path;
}

/* a thin bar: a separable product the detector does not take for any
 * kind */
static gchar *
draw_bar_photo (void)
{
  guint8 *rgb = g_malloc ((gsize) PHOTO_W * PHOTO_H * 3);
  gchar *path = g_build_filename (tmpdir, "bar.png", NULL);
  gint x, y;

  for (y = 0; y < PHOTO_H; y++)
    for (x = 0; x < PHOTO_W; x++) {
      guint8 *d = rgb + ((gsize) y * PHOTO_W + x) * 3;
      gboolean bar = x >= 10 && x <= 110 && y >= 78 && y <= 84;
      d[0] = bar ? 200 : 255;
      d[1] = d[2] = bar ? 40 : 255;
    }
  write_png (path, rgb, PHOTO_W, PHOTO_H);
  g_free (rgb);
  return path;
}

/* the kind from the shipped detector (no --kind), and the fallback when
 * it finds none */
GST_START_TEST (test_kind)
{
  gchar *bottle = draw_bottle_photo ();
  gchar *bar = draw_bar_photo ();
  gchar *output = g_build_filename (tmpdir, "kind.mp4", NULL);
  gchar *other = g_strdup_printf ("--detect-model=%s/detect-yolov8.pt",
      g_getenv ("KLING_TEST_MODELS"));
  gchar *out = NULL, *err = NULL;
  const gchar *c;
  gdouble score = 0;

  /* a bottle: bottle copy (the echo copywriter's line 0), a bottle's
   * scenes */
  {
    const gchar *a[] = { bottle, "-o", output, "--duration", "10", "--lang",
      "en", NULL
    };
    fail_unless (run_cli (a, &out, &err) == 0, "failed: %s", cli_error (err));
    c = strstr (out, "kind: bottle (detected, score ");
    fail_unless (c != NULL, "%s", out);
    score = g_ascii_strtod (c + strlen ("kind: bottle (detected, score "),
        NULL);
    GST_INFO ("bottle detected with score %.2f", score);
    /* the shipped detector's threshold (its manifest) is 0.425 */
    fail_unless (score >= 0.42 && score <= 1.0, "score %f", score);
    fail_unless (strstr (out, "scenes: summer beach, snow, grass\n") != NULL,
        "%s", out);
    fail_unless (strstr (out, "copy 1: red thing\n") != NULL, "%s", out);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  /* a bar: nothing above the threshold; the default scenes, a message */
  {
    const gchar *a[] = { bar, "-o", output, "--duration", "10", "--lang",
      "en", "--style", "snow", NULL
    };
    fail_unless (run_cli (a, &out, &err) == 0, "failed: %s", cli_error (err));
    fail_unless (strstr (out, "kind: none (the detector's best guess "
            "scores ") != NULL, "%s", out);
    fail_unless (strstr (out, "give --kind\n") != NULL, "%s", out);
    fail_unless (strstr (out, "copy 1: red thing\n") != NULL, "%s", out);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  /* a detector whose labels are no kinds: the fallback says so */
  {
    const gchar *a[] = { bar, "-o", output, "--duration", "10", "--lang",
      "en", other, NULL
    };
    fail_unless (run_cli (a, &out, &err) == 0, "failed: %s", cli_error (err));
    fail_unless (strstr (out, "not a kind gst-kling-promo knows") != NULL,
        "%s", out);
    fail_unless (strstr (out, "scenes: summer beach, snow, grass\n") != NULL,
        "%s", out);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  g_free (other);
  g_free (output);
  g_free (bar);
  g_free (bottle);
}

GST_END_TEST;

static gchar *
copy_line (const gchar * out)
{
  const gchar *c = strstr (out, "copy 1: ");
  fail_unless (c != NULL, "no copy reported: %s", out);
  c += strlen ("copy 1: ");
  return g_strndup (c, strcspn (c, "\n"));
}

GST_START_TEST (test_promo)
{
  gchar *photo = draw_product_photo ();
  gchar *output = g_build_filename (tmpdir, "promo.mp4", NULL);
  gchar *dump = g_build_filename (tmpdir, "dump", NULL);
  gchar *dump2 = g_build_filename (tmpdir, "dump2", NULL);
  gchar *hls = g_build_filename (tmpdir, "hls", NULL);
  gchar *dump_arg = g_strdup_printf ("--dump-frames=%s", dump);
  gchar *dump2_arg = g_strdup_printf ("--dump-frames=%s", dump2);
  gchar *hls_arg = g_strdup_printf ("--hls=%s", hls);
  gchar *music = make_music ();
  const gchar *args[] = { photo, "-o", output, "--duration", "10", "--lang",
    "en", "--seed", "7", "--name", "Cola", "--price", "$1.99", dump_arg,
    hls_arg, "--music", music, NULL
  };
  gchar *out = NULL, *err = NULL, *copy, *pl = NULL;
  Layout l;
  Decoded dec;
  guint i, f;
  gint w, h;

  fail_unless_equals_int (run_cli (args, &out, &err), 0);
  GST_INFO ("stdout: %s", out);
  copy = copy_line (out);
  /* no --kind: the shipped detector calls the drawn product a can (label
   * 1), so the echo copywriter says its line 1 and the scenes are a
   * can's */
  fail_unless (strstr (out, "kind: can (detected, score ") != NULL, "%s", out);
  fail_unless (strstr (out, "scenes: summer beach, ice cubes, party\n") !=
      NULL, "%s", out);
  fail_unless_equals_string (copy, "green thing");

  /* the finished file has the mode a directly written one would have
   * (0666 under the umask), not its temporary file's 0600 */
  {
    GStatBuf st;
    mode_t mask = umask (022);

    umask (mask);
    fail_unless (g_stat (output, &st) == 0);
    fail_unless_equals_int (st.st_mode & 0777, 0666 & ~mask);
  }

  /* ffprobe: H.264 at the size and 30 fps, AAC, a subtitle track, 10 s */
  assert_probe (output, W, H, 300);

  /* the product, exact in the frames the encoder got */
  read_layout (dump, &l);
  fail_unless_equals_int (l.frames, 300);
  fail_unless_equals_int (l.w, PW + 2);
  fail_unless_equals_int (l.h, PH + 2);
  fail_unless (l.n_shots == 3);
  for (f = 0; f < l.frames; f += 15) {
    guint8 *px = read_ppm (dump, f, &w, &h);
    fail_unless (w == W && h == H);
    assert_product_exact (px, &l, f);
    g_free (px);
  }
  /* shots differ: the scene away from the product */
  {
    guint8 *a = read_ppm (dump, 30, &w, &h);
    guint8 *b = read_ppm (dump, 120, &w, &h);
    guint8 *c = read_ppm (dump, 195, &w, &h);
    gint64 ab = 0, bc = 0;
    gsize row = (gsize) 10 * W * 3;
    for (i = 0; i < row; i++) {
      ab += ABS ((gint) a[i] - b[i]);
      bc += ABS ((gint) b[i] - c[i]);
    }
    fail_unless (ab > (gint64) row * 4 && bc > (gint64) row * 4,
        "shots look alike (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")", ab,
        bc);
    g_free (a);
    g_free (b);
    g_free (c);
  }

  /* the MP4: its subtitles hold the copy; its frames the product, within
   * H.264's error of the exact frames */
  decode_mp4 (output, &dec);
  fail_unless_equals_int (dec.frames->len, 300);
  {
    GString *subs = subtitle_text (output);
    fail_unless (strstr (subs->str, copy) != NULL, "subtitles '%s' miss "
        "'%s'", subs->str, copy);
    g_string_free (subs, TRUE);
  }
  for (f = 0; f < 300; f += 45) {
    guint8 *exact = read_ppm (dump, f, &w, &h);
    const guint8 *got = dec.frames->pdata[f];
    gint64 sum = 0, n = 0;
    gint x, y;
    for (y = l.y + 1; y < l.y + l.h - 1; y++)
      for (x = l.x + 1; x < l.x + l.w - 1; x++)
        for (i = 0; i < 3; i++, n++)
          sum += ABS ((gint) got[(y * W + x) * 3 + i] -
              exact[(y * W + x) * 3 + i]);
    fail_unless (sum < n * 6, "frame %u: mean error %f", f, (gdouble) sum / n);
    g_free (exact);
  }
  g_ptr_array_free (dec.frames, TRUE);

  /* HLS: a valid playlist whose segments exist; the first was finished
   * before the last shot had been generated */
  {
    gchar *plp = g_build_filename (hls, "playlist.m3u8", NULL);
    gchar **lines;
    guint segs = 0, a, b;
    fail_unless (g_file_get_contents (plp, &pl, NULL, NULL));
    fail_unless (g_str_has_prefix (pl, "#EXTM3U"));
    fail_unless (strstr (pl, "#EXT-X-TARGETDURATION:") != NULL);
    fail_unless (strstr (pl, "#EXT-X-ENDLIST") != NULL);
    lines = g_strsplit (pl, "\n", -1);
    for (i = 0; lines[i]; i++)
      if (g_str_has_prefix (lines[i], "#EXTINF:")) {
        gchar *seg = g_build_filename (hls, lines[i + 1], NULL);
        fail_unless (g_file_test (seg, G_FILE_TEST_IS_REGULAR), "%s", seg);
        g_free (seg);
        segs++;
      }
    fail_unless (segs >= 4, "%u segments", segs);
    g_strfreev (lines);
    g_free (plp);
    fail_unless (sscanf (strstr (out, "first HLS segment after"),
            "first HLS segment after %*f s, with %u of %u", &a, &b) == 2);
    fail_unless (a < b, "first segment only after all %u shots", b);
  }

  assert_ges_timeline (out, dump, &l, TRUE, TRUE);

  /* the same seed: the same frames (GES's scaling and cross-fades
   * included: the middle frame of each fade too) */
  {
    const gchar *again[] = { photo, "-o", output, "--duration", "10",
      "--lang", "en", "--seed", "7", "--name", "Cola", "--price", "$1.99",
      dump2_arg, NULL
    };
    gchar *out2 = NULL;
    fail_unless_equals_int (run_cli (again, &out2, NULL), 0);
    for (f = 0; f < 300 + l.n_shots - 1; f++) {
      /* every 15th, then (past the end) each fade's middle frame */
      guint at = f < 300 ? f : l.shot_start[f - 300 + 1] + l.fade / 2;
      guint8 *a, *b;
      if (f < 300 && f % 15 != 0)
        continue;
      a = read_ppm (dump, at, &w, &h);
      b = read_ppm (dump2, at, &w, &h);
      fail_unless (memcmp (a, b, (gsize) W * H * 3) == 0, "frame %u differs "
          "with the same seed", at);
      g_free (a);
      g_free (b);
    }
    g_free (out2);
  }

  g_free (pl);
  g_free (music);
  g_free (copy);
  g_free (out);
  g_free (err);
  g_free (dump_arg);
  g_free (dump2_arg);
  g_free (hls_arg);
  g_free (hls);
  g_free (dump);
  g_free (dump2);
  g_free (output);
  g_free (photo);
}

GST_END_TEST;

static void
assert_fails (const gchar * const *args, const gchar * output,
    const gchar * message)
{
  gchar *out = NULL, *err = NULL, *dir = g_path_get_dirname (output);

  fail_if (run_cli (args, &out, &err) == 0, "succeeded: %s", out);
  fail_unless (strstr (err, message) != NULL, "'%s' not in: %s", message, err);
  fail_unless (strstr (err, "gst-kling-promo: ") != NULL);
  assert_nothing_left (dir, output);
  g_free (dir);
  g_free (out);
  g_free (err);
}

GST_START_TEST (test_bad_inputs)
{
  gchar *photo = draw_product_photo ();
  gchar *noise = draw_noise_photo ();
  gchar *text = g_build_filename (tmpdir, "notes.png", NULL);
  gchar *output = g_build_filename (tmpdir, "bad.mp4", NULL);
  gchar *nodir = g_build_filename (tmpdir, "no", "such", "dir", "x.mp4",
      NULL);

  fail_unless (g_file_set_contents (text, "this is not a picture\n", -1, NULL));
  {
    const gchar *a[] = { text, "-o", output, "--duration", "10", NULL };
    assert_fails (a, output, "is not a picture");
  }
  {
    const gchar *a[] = { noise, "-o", output, "--duration", "10", NULL };
    assert_fails (a, output, "no separable product");
  }
  {
    const gchar *a[] = { photo, "-o", nodir, "--duration", "10", NULL };
    assert_fails (a, nodir, "cannot write");
  }
  {
    const gchar *a[] = { photo, "-o", output, "--duration", "31", NULL };
    assert_fails (a, output, "out of range");
  }
  {
    const gchar *a[] = { photo, "-o", output, "--duration", "9", NULL };
    assert_fails (a, output, "out of range");
  }
  {
    const gchar *a[] = { photo, "-o", output, "--aspect", "4:3", NULL };
    assert_fails (a, output, "--aspect");
  }
  {
    const gchar *a[] = { photo, "-o", output, "--aspect", "16:9", "--size",
      "180x320", NULL
    };
    assert_fails (a, output, "is not --aspect 16:9");
  }
  {
    const gchar *a[] = { photo, "-o", output, "--duration", "10", "--music",
      text, NULL
    };
    assert_fails (a, output, "--music");
  }
  {
    gchar *bad = g_strdup_printf ("--detect-model=%s/not-torchscript.pt",
        g_getenv ("KLING_TEST_MODELS"));
    const gchar *a[] = { photo, "-o", output, "--duration", "10", bad, NULL };
    assert_fails (a, output, "cannot load the detector");
    g_free (bad);
  }
  {
    gchar *missing = g_build_filename (tmpdir, "missing.png", NULL);
    const gchar *a[] = { missing, "-o", output, "--duration", "10", NULL };
    assert_fails (a, output, "no such file");
    g_free (missing);
  }
  g_free (nodir);
  g_free (output);
  g_free (text);
  g_free (noise);
  g_free (photo);
}

GST_END_TEST;

static void
setup (void)
{
  tmpdir = g_dir_make_tmp ("promo-XXXXXX", NULL);
  fail_unless (tmpdir != NULL);
}

static gboolean
rm_tree (const gchar * path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (d) {
    while ((name = g_dir_read_name (d))) {
      gchar *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        rm_tree (child);
      else
        g_unlink (child);
      g_free (child);
    }
    g_dir_close (d);
  }
  return g_rmdir (path) == 0;
}

static void
teardown (void)
{
  rm_tree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

static Suite *
promocli_suite (void)
{
  Suite *s = suite_create ("promocli");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_promo);
  tcase_add_test (tc, test_bad_inputs);
  tcase_add_test (tc, test_aspect_16_9);
  tcase_add_test (tc, test_aspect_1_1);
  tcase_add_test (tc, test_mask);
  tcase_add_test (tc, test_kind);
  return s;
}

GST_CHECK_MAIN (promocli);
