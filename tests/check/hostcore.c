/* gst-kling: klinghost's cores: the `talking-head` manifest, kling-face
 * and kling-mel-feed
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>
#include <gst/check/gstcheck.h>

#include "kling-face.h"
#include "kling-manifest.h"
#include "kling-mel-feed.h"

static const KlingMethodInfo forward_only[] = { {"forward", 2} };

static gchar *
check_head (const gchar * extra)
{
  gchar *json = g_strdup_printf ("{\"format\": 1, \"task\": \"talking-head\","
      " \"methods\": [\"forward\"]%s%s}", extra ? ", " : "",
      extra ? extra : "");
  GError *error = NULL;
  KlingManifest *m = kling_manifest_parse (json, -1, "head.pt", &error);
  gchar *msg = NULL;

  fail_unless (m != NULL, "%s", error ? error->message : "");
  if (!kling_manifest_check_task (m, "talking-head", forward_only, 1, FALSE,
          &error)) {
    msg = g_strdup (error->message);
    g_error_free (error);
  }
  kling_manifest_free (m);
  g_free (json);
  return msg;
}

GST_START_TEST (test_manifest_talking_head)
{
  struct
  {
    const gchar *extra, *names;
  } bad[] = {
    {"\"face\": {\"width\": 4}", "`face.width`"},
    {"\"face\": {\"height\": 5000}", "`face.height`"},
    {"\"batch\": 0", "`batch`"},
    {"\"batch\": 65", "`batch`"},
    {"\"face\": {\"mask\": 1.5}", "`face.mask`"},
    {"\"face\": {\"box\": [0.9, 0, 0.5, 0.5]}", "`face.box`"},
    {"\"face\": {\"box\": [0, 0, 0.5]}", "`face.box`"},
    {"\"face\": {\"box\": [0, 0, 0, 0.5]}", "`face.box`"},
    {"\"mel\": {\"n_fft\": 801}", "`mel.n_fft`"},
    /* 64 x 6 x 1024 x 1024 values: over the tensor limit */
    {"\"batch\": 64, \"face\": {\"width\": 1024, \"height\": 1024}",
        "KLING_MANIFEST_MAX_ELEMENTS"},
  };
  const KlingMethodInfo other[] = { {"synthesize", 1} };
  const gchar *json = "{\"format\": 1, \"task\": \"talking-head\", "
      "\"methods\": [\"forward\"]}";
  KlingManifest *m;
  KlingHeadSpec spec;
  GError *error = NULL;
  gchar *msg;
  guint i;

  msg = check_head (NULL);
  fail_unless (msg == NULL, "%s", msg);
  msg = check_head ("\"mel\": {\"bands\": 80, \"frames\": 16}, \"face\": "
      "{\"width\": 96, \"height\": 96, \"box\": [0.25, 0.3, 0.5, 0.5], "
      "\"mask\": 0.5}, \"batch\": 8");
  fail_unless (msg == NULL, "%s", msg);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    msg = check_head (bad[i].extra);
    fail_unless (msg != NULL, "accepted %s", bad[i].extra);
    fail_unless (strstr (msg, bad[i].names) != NULL, "%s: %s", bad[i].extra,
        msg);
    g_free (msg);
  }

  /* no forward: named */
  m = kling_manifest_parse (json, -1, "head.pt", NULL);
  fail_if (kling_manifest_check_task (m, "talking-head", other, 1, FALSE,
          &error));
  fail_unless (strstr (error->message, "no method `forward`") != NULL, "%s",
      error->message);
  g_clear_error (&error);

  /* the defaults: Wav2Lip's layout */
  kling_head_spec_from_manifest (&spec, m);
  fail_unless_equals_int (spec.face_width, 96);
  fail_unless_equals_int (spec.face_height, 96);
  fail_unless_equals_int (spec.batch, 4);
  fail_unless_equals_int (spec.mel.n_mels, 80);
  fail_unless_equals_int (spec.mel.frames, 16);
  fail_unless_equals_int (spec.mel.rate, 16000);
  fail_unless_equals_int (spec.mel.hop, 200);
  fail_unless_equals_float (spec.mask, 0.5);
  fail_if (spec.has_box);
  kling_manifest_free (m);

  m = kling_manifest_parse ("{\"format\": 1, \"task\": \"talking-head\", "
      "\"methods\": [\"forward\"], \"face\": {\"width\": 32, \"height\": 48,"
      " \"box\": [0.25, 0.5, 0.5, 0.25]}, \"batch\": 2}", -1, "h.pt", NULL);
  kling_head_spec_from_manifest (&spec, m);
  fail_unless_equals_int (spec.face_width, 32);
  fail_unless_equals_int (spec.face_height, 48);
  fail_unless_equals_int (spec.batch, 2);
  fail_unless (spec.has_box);
  fail_unless_equals_float (spec.box[1], 0.5);
  kling_manifest_free (m);
}

GST_END_TEST;

GST_START_TEST (test_box_parse)
{
  KlingFaceBox b;
  const gdouble half[4] = { 0.25, 0.25, 0.5, 0.5 };

  fail_unless (kling_face_box_parse ("10,20,30,40", &b));
  fail_unless (b.x == 10 && b.y == 20 && b.width == 30 && b.height == 40);
  fail_unless (kling_face_box_parse (" 1 , 2 ,3, 4 ", &b));
  fail_unless (b.x == 1 && b.height == 4);
  fail_if (kling_face_box_parse ("", &b));
  fail_if (kling_face_box_parse (NULL, &b));
  fail_if (kling_face_box_parse ("1,2,3", &b));
  fail_if (kling_face_box_parse ("1,2,3,4,5", &b));
  fail_if (kling_face_box_parse ("a,b,c,d", &b));
  fail_if (kling_face_box_parse ("1,2,0,4", &b));
  fail_if (kling_face_box_parse ("-1,2,3,4", &b));
  fail_if (kling_face_box_parse ("1.5,2,3,4", &b));
  kling_face_box_from_fractions (half, 256, 100, &b);
  fail_unless (b.x == 64 && b.y == 25 && b.width == 128 && b.height == 50);
}

GST_END_TEST;

/* The face box: the property first, then a `face` ROI meta (other ROI
 * types are not faces), then the manifest's, else none. */
GST_START_TEST (test_box_choice)
{
  KlingHeadSpec spec = { 0 };
  KlingFaceBox prop = { 1, 2, 3, 4 }, b;
  GstBuffer *buf = gst_buffer_new ();

  fail_if (kling_face_box_choose (&spec, buf, 200, 100, NULL, &b));
  spec.has_box = TRUE;
  spec.box[0] = spec.box[1] = 0.25;
  spec.box[2] = spec.box[3] = 0.5;
  fail_unless (kling_face_box_choose (&spec, buf, 200, 100, NULL, &b));
  fail_unless (b.x == 50 && b.y == 25 && b.width == 100 && b.height == 50);
  gst_buffer_add_video_region_of_interest_meta (buf, "product", 5, 6, 7, 8);
  fail_unless (kling_face_box_choose (&spec, buf, 200, 100, NULL, &b));
  fail_unless_equals_int (b.x, 50);
  gst_buffer_add_video_region_of_interest_meta (buf, "face", 9, 10, 11, 12);
  fail_unless (kling_face_box_choose (&spec, buf, 200, 100, NULL, &b));
  fail_unless (b.x == 9 && b.y == 10 && b.width == 11 && b.height == 12);
  fail_unless (kling_face_box_choose (&spec, buf, 200, 100, &prop, &b));
  fail_unless (b.x == 1 && b.y == 2 && b.width == 3 && b.height == 4);
  gst_buffer_unref (buf);
}

GST_END_TEST;

/* A portrait with a different value at every byte. */
static GstBuffer *
pattern (const GstVideoInfo * info)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info),
      NULL);
  GstMapInfo map;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < map.size; i++)
    map.data[i] = (i * 37 + (i >> 7) * 11) & 0xff;
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* Every byte of @a and @b differs only inside the box @box, for every
 * component of the format (chroma planes subsampled). */
static void
check_outside_unchanged (const GstVideoInfo * info, GstBuffer * a,
    GstBuffer * b, const KlingFaceBox * box, guint * changed_inside)
{
  GstVideoFrame fa, fb;
  const GstVideoFormatInfo *finfo = info->finfo;
  guint c;
  gint x, y;

  *changed_inside = 0;
  fail_unless (gst_video_frame_map (&fa, info, a, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, info, b, GST_MAP_READ));
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    gint ws = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
    gint hs = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);
    gint w = GST_VIDEO_FRAME_COMP_WIDTH (&fa, c);
    gint h = GST_VIDEO_FRAME_COMP_HEIGHT (&fa, c);

    for (y = 0; y < h; y++)
      for (x = 0; x < w; x++) {
        guint8 va = GST_VIDEO_FRAME_COMP_DATA (&fa, c)[y *
            GST_VIDEO_FRAME_COMP_STRIDE (&fa, c) +
            x * GST_VIDEO_FRAME_COMP_PSTRIDE (&fa, c)];
        guint8 vb = GST_VIDEO_FRAME_COMP_DATA (&fb, c)[y *
            GST_VIDEO_FRAME_COMP_STRIDE (&fb, c) +
            x * GST_VIDEO_FRAME_COMP_PSTRIDE (&fb, c)];
        gboolean inside = (x << ws) >= box->x
            && (x << ws) < box->x + box->width && (y << hs) >= box->y
            && (y << hs) < box->y + box->height;

        if (!inside)
          fail_unless (va == vb, "%s: component %u at %d,%d changed outside "
              "the box", GST_VIDEO_INFO_NAME (info), c, x, y);
        else if (va != vb)
          (*changed_inside)++;
      }
  }
  /* padding bytes between rows are never written either */
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
}

GST_START_TEST (test_paste_outside_bit_exact)
{
  const GstVideoFormat formats[] = { GST_VIDEO_FORMAT_RGB,
    GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
    GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_ARGB,
    GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12
  };
  const KlingFaceBox box = { 13, 9, 30, 22 };   /* odd: aligned for 4:2:0 */
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstVideoInfo info;
    GstBuffer *portrait, *out;
    KlingFace *face;
    GError *error = NULL;
    const KlingFaceBox *used;
    gfloat *gen = g_new (gfloat, 3 * 16 * 16);
    guint changed, j;

    /* odd width: rows are padded */
    gst_video_info_set_format (&info, formats[i], 61, 47);
    portrait = pattern (&info);
    face = kling_face_new (&info, &box, 16, 16, 0.5, 3, &error);
    fail_unless (face != NULL, "%s", error ? error->message : "");
    used = kling_face_get_box (face);
    if (GST_VIDEO_FORMAT_INFO_W_SUB (info.finfo, 1)) {
      fail_unless (used->x == 14 && used->y == 10 && used->width == 28
          && used->height == 20, "%s: box %d,%d,%d,%d", GST_VIDEO_INFO_NAME
          (&info), used->x, used->y, used->width, used->height);
    } else {
      fail_unless (used->x == 13 && used->y == 9 && used->width == 30
          && used->height == 22);
    }
    for (j = 0; j < 3 * 16 * 16; j++)
      gen[j] = j < 256 ? 1.0f : 0.0f;   /* red */
    out = gst_buffer_copy_deep (portrait);
    fail_unless (kling_face_paste (face, gen, out));
    check_outside_unchanged (&info, portrait, out, used, &changed);
    fail_unless (changed > 0, "%s: nothing pasted",
        GST_VIDEO_INFO_NAME (&info));
    if (GST_VIDEO_INFO_IS_RGB (&info)) {
      GstVideoFrame f;
      guint8 *px;
      gint cx = used->x + used->width / 2, cy = used->y + used->height / 2;

      /* the middle is the face, red; the alpha is the portrait's */
      gst_video_frame_map (&f, &info, out, GST_MAP_READ);
      px = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) + cy *
          GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + cx *
          GST_VIDEO_FRAME_COMP_PSTRIDE (&f, 0);
      fail_unless_equals_int (px[GST_VIDEO_FRAME_COMP_OFFSET (&f, 0)], 255);
      fail_unless_equals_int (px[GST_VIDEO_FRAME_COMP_OFFSET (&f, 1)], 0);
      fail_unless_equals_int (px[GST_VIDEO_FRAME_COMP_OFFSET (&f, 2)], 0);
      gst_video_frame_unmap (&f);
      /* the rows above the mask row less the feather (3) are the
       * portrait's own, inside the box too: only the redrawn half is
       * pasted */
      {
        GstVideoFrame a, b;
        gint y, last = used->y + used->height / 2 - 3;
        gsize row = (gsize) 61 * GST_VIDEO_FRAME_COMP_PSTRIDE (&f, 0);

        gst_video_frame_map (&a, &info, portrait, GST_MAP_READ);
        gst_video_frame_map (&b, &info, out, GST_MAP_READ);
        for (y = used->y; y < last; y++)
          fail_unless (memcmp ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&a, 0)
                  + y * GST_VIDEO_FRAME_PLANE_STRIDE (&a, 0),
                  (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&b, 0) +
                  y * GST_VIDEO_FRAME_PLANE_STRIDE (&b, 0), row) == 0,
              "%s: row %d above the mask changed",
              GST_VIDEO_INFO_NAME (&info), y);
        /* and the first row below it is not */
        fail_if (memcmp ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&a, 0) +
                last * GST_VIDEO_FRAME_PLANE_STRIDE (&a, 0),
                (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&b, 0) +
                last * GST_VIDEO_FRAME_PLANE_STRIDE (&b, 0), row) == 0);
        gst_video_frame_unmap (&a);
        gst_video_frame_unmap (&b);
      }
    }
    if (GST_VIDEO_INFO_HAS_ALPHA (&info)) {
      GstVideoFrame fa, fb;
      gint x, y;

      gst_video_frame_map (&fa, &info, portrait, GST_MAP_READ);
      gst_video_frame_map (&fb, &info, out, GST_MAP_READ);
      for (y = 0; y < 47; y++)
        for (x = 0; x < 61; x++) {
          gsize o = y * GST_VIDEO_FRAME_COMP_STRIDE (&fa, 3) +
              x * GST_VIDEO_FRAME_COMP_PSTRIDE (&fa, 3);
          fail_unless (GST_VIDEO_FRAME_COMP_DATA (&fa, 3)[o] ==
              GST_VIDEO_FRAME_COMP_DATA (&fb, 3)[o]);
        }
      gst_video_frame_unmap (&fa);
      gst_video_frame_unmap (&fb);
    }
    g_free (gen);
    gst_buffer_unref (out);
    gst_buffer_unref (portrait);
    kling_face_free (face);
  }
}

GST_END_TEST;

/* The seam: the edge of the box blends, the middle is the face; a face
 * equal to the crop changes the box only by resampling. */
GST_START_TEST (test_crop_and_feather)
{
  GstVideoInfo info;
  GstBuffer *portrait, *out;
  GstVideoFrame f;
  KlingFaceBox box = { 8, 8, 32, 32 };
  KlingFace *face;
  gfloat crop[3 * 32 * 32], in[6 * 32 * 32], gen[3 * 32 * 32];
  guint8 *d;
  gint x, y, i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 48, 48);
  portrait = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_video_frame_map (&f, &info, portrait, GST_MAP_WRITE);
  d = GST_VIDEO_FRAME_PLANE_DATA (&f, 0);
  for (y = 0; y < 48; y++)
    for (x = 0; x < 48; x++) {
      guint8 *p = d + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + 3 * x;
      /* uniform blue inside the box, grey around */
      gboolean in_box = x >= 8 && x < 40 && y >= 8 && y < 40;

      p[0] = in_box ? 0 : 100;
      p[1] = in_box ? 0 : 100;
      p[2] = in_box ? 200 : 100;
    }
  gst_video_frame_unmap (&f);

  face = kling_face_new (&info, &box, 32, 32, 0.5, 4, NULL);
  fail_unless (kling_face_crop (face, portrait, crop));
  /* a 1:1 crop of a uniform box is that colour */
  for (i = 0; i < 32 * 32; i++) {
    fail_unless_equals_float (crop[i], 0.0f);
    fail_unless (fabsf (crop[2 * 1024 + i] - 200 / 255.0f) < 1e-6);
  }
  kling_face_make_input (face, crop, crop, in);
  for (y = 0; y < 32; y++)
    for (x = 0; x < 32; x++) {
      gfloat b = in[2 * 1024 + y * 32 + x];

      if (y < 16) {
        fail_unless_equals_float (b, crop[2 * 1024 + y * 32 + x]);
      } else {
        fail_unless_equals_float (b, 0.0f);     /* masked */
      }
      fail_unless_equals_float (in[5 * 1024 + y * 32 + x],
          crop[2 * 1024 + y * 32 + x]);
    }

  /* a white face: middle white, edge rows blend, outside untouched */
  for (i = 0; i < 3 * 1024; i++)
    gen[i] = 1.0f;
  out = gst_buffer_copy_deep (portrait);
  fail_unless (kling_face_paste (face, gen, out));
  gst_video_frame_map (&f, &info, out, GST_MAP_READ);
  d = GST_VIDEO_FRAME_PLANE_DATA (&f, 0);
#define PX(x, y) (d + (y) * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + 3 * (x))
  fail_unless_equals_int (PX (24, 24)[0], 255);
  fail_unless_equals_int (PX (24, 24)[2], 255);
  fail_unless_equals_int (PX (7, 24)[0], 100);  /* outside */
  /* first column inside: alpha 0.5 / 4 */
  fail_unless_equals_int (PX (8, 24)[0], (gint) (255 * 0.125 + 0.5));
  fail_unless_equals_int (PX (8, 24)[2], (gint) (200 * 0.875 + 255 *
          0.125 + 0.5));
  /* feather 4: from 4 pixels in, all face */
  fail_unless_equals_int (PX (12, 24)[0], 255);
  fail_unless (PX (10, 24)[0] > PX (9, 24)[0]);
#undef PX
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);

  /* the crop pasted back unchanged gives the portrait back exactly */
  out = gst_buffer_copy_deep (portrait);
  fail_unless (kling_face_paste (face, crop, out));
  gst_video_frame_map (&f, &info, out, GST_MAP_READ);
  {
    GstMapInfo a;

    gst_buffer_map (portrait, &a, GST_MAP_READ);
    fail_unless (memcmp (a.data, GST_VIDEO_FRAME_PLANE_DATA (&f, 0),
            a.size) == 0);
    gst_buffer_unmap (portrait, &a);
  }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);
  gst_buffer_unref (portrait);
  kling_face_free (face);
}

GST_END_TEST;

GST_START_TEST (test_face_errors)
{
  GstVideoInfo info;
  GError *error = NULL;
  KlingFaceBox outside = { 100, 100, 20, 20 }, ok = { 0, 0, 8, 8 };

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 64, 64);
  fail_if (kling_face_new (&info, &outside, 16, 16, 0.5, -1, &error));
  fail_unless (strstr (error->message, "face-box") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY16_LE, 64, 64);
  fail_if (kling_face_new (&info, &ok, 16, 16, 0.5, -1, &error));
  fail_unless (strstr (error->message, "GRAY16_LE") != NULL, "%s",
      error->message);
  g_clear_error (&error);
}

GST_END_TEST;

/* --- kling-mel-feed ---------------------------------------------------- */

/* A feed at 25 fps over the default (16 kHz) spectrogram, taking 16 kHz
 * mono float. */
static KlingMelFeed *
new_feed (void)
{
  KlingMelFeed *feed = kling_mel_feed_new ();
  KlingMelParams params;
  GstAudioInfo info;
  GError *error = NULL;

  kling_mel_params_init_default (&params);
  fail_unless (kling_mel_feed_open (feed, &params, 25, 1, &error), "%s",
      error ? error->message : "");
  gst_audio_info_set_format (&info, GST_AUDIO_FORMAT_F32, 16000, 1, NULL);
  fail_unless (kling_mel_feed_set_format (feed, &info, &error), "%s",
      error ? error->message : "");
  return feed;
}

/* @seconds of a 440 Hz tone at 16 kHz mono float, at @pts. */
static GstBuffer *
tone_buffer (gdouble seconds, GstClockTime pts)
{
  gsize i, n = (gsize) (seconds * 16000);
  gfloat *samples = g_new (gfloat, n);
  GstBuffer *buf;

  for (i = 0; i < n; i++)
    samples[i] = 0.25 * sin (2 * G_PI * 440 * i / 16000.0);
  buf = gst_buffer_new_wrapped (samples, n * sizeof (gfloat));
  GST_BUFFER_PTS (buf) = pts;
  return buf;
}

static GstFlowReturn
push_tone (KlingMelFeed * feed, gdouble seconds, GstClockTime pts)
{
  GstBuffer *buf = tone_buffer (seconds, pts);
  GstFlowReturn ret;
  gsize skipped;

  ret = kling_mel_feed_push (feed, buf, &skipped);
  gst_buffer_unref (buf);
  fail_unless_equals_int (skipped, 0);
  return ret;
}

/* Outside live mode: the audio is refused before a format and while
 * flushing; windows come as the audio covers them, from the segment's
 * start when the audio has no PTS, and end with it. */
GST_START_TEST (test_feed_windows)
{
  KlingMelFeed *feed = kling_mel_feed_new ();
  KlingMelParams params;
  GstSegment segment, got;
  GstClockTime pts, duration;
  GstBuffer *buf;
  gchar *id;
  gboolean silent;
  gsize skipped;
  guint64 n;

  /* no format yet: the element posts "audio before its caps" */
  kling_mel_params_init_default (&params);
  fail_unless (kling_mel_feed_open (feed, &params, 25, 1, NULL));
  buf = tone_buffer (0.1, 0);
  fail_unless_equals_int (kling_mel_feed_push (feed, buf, &skipped),
      GST_FLOW_NOT_NEGOTIATED);
  gst_buffer_unref (buf);
  kling_mel_feed_free (feed);

  feed = new_feed ();
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = 2 * GST_SECOND;
  kling_mel_feed_set_segment (feed, &segment);
  fail_unless (kling_mel_feed_get_stream (feed, &got, &id));
  fail_unless (id == NULL);
  fail_unless_equals_uint64 (got.start, 2 * GST_SECOND);
  kling_mel_feed_set_stream_id (feed, "voice");
  fail_unless (kling_mel_feed_get_stream (feed, &got, &id));
  fail_unless_equals_string (id, "voice");
  g_free (id);

  fail_unless_equals_int (push_tone (feed, 1.0, GST_CLOCK_TIME_NONE),
      GST_FLOW_OK);
  kling_mel_feed_frame_time (feed, 3, &pts, &duration);
  fail_unless_equals_uint64 (pts, 2 * GST_SECOND + 120 * GST_MSECOND);
  fail_unless_equals_uint64 (duration, 40 * GST_MSECOND);
  fail_unless_equals_uint64 (kling_mel_feed_lookahead (feed),
      112500 * GST_USECOND);
  /* frame n needs the audio to n / 25 + 0.1125 s */
  for (n = 0; n <= 21; n++) {
    fail_unless_equals_int (kling_mel_feed_next_window (feed, n, FALSE,
            &silent), KLING_MEL_FEED_READY);
    fail_if (silent, "frame %d", (gint) n);
  }
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 24, FALSE,
          &silent), KLING_MEL_FEED_NOT_COVERED);

  /* the end: the frames the second lasts, then ENDED */
  fail_unless (kling_mel_feed_finish (feed));
  for (n = 22; n < 25; n++)
    fail_unless_equals_int (kling_mel_feed_next_window (feed, n, FALSE,
            &silent), KLING_MEL_FEED_READY);
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 25, FALSE,
          &silent), KLING_MEL_FEED_ENDED);

  /* flushing: the audio is refused, the producer told */
  kling_mel_feed_set_flushing (feed, TRUE);
  fail_unless_equals_int (push_tone (feed, 0.1, 0), GST_FLOW_FLUSHING);
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 0, FALSE,
          &silent), KLING_MEL_FEED_FLUSHING);
  fail_if (kling_mel_feed_get_stream (feed, &got, &id));
  fail_unless (id == NULL);
  kling_mel_feed_set_flushing (feed, FALSE);

  /* a flush forgets the stream, not the format: a GAP makes frames */
  kling_mel_feed_reset (feed);
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 0, FALSE,
          &silent), KLING_MEL_FEED_NOT_COVERED);
  fail_unless (kling_mel_feed_gap (feed, 0, GST_SECOND));
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 0, FALSE,
          &silent), KLING_MEL_FEED_READY);
  fail_unless (silent);

  /* EOS before any audio: nothing had come */
  kling_mel_feed_reset (feed);
  fail_if (kling_mel_feed_finish (feed));

  /* closed and opened again: a new timeline without a format */
  kling_mel_feed_close (feed);
  fail_unless (kling_mel_feed_open (feed, &params, 25, 1, NULL));
  fail_if (kling_mel_feed_gap (feed, 0, GST_SECOND));
  kling_mel_feed_free (feed);
}

GST_END_TEST;

static gpointer
wait_start_thread (gpointer feed)
{
  return GINT_TO_POINTER (kling_mel_feed_wait_start (feed));
}

static gpointer
wait_playing_thread (gpointer feed)
{
  GstClockTime deadline;

  return GINT_TO_POINTER (kling_mel_feed_wait_playing (feed, 0, &deadline));
}

/* Live: the producer waits for the audio to start and for PLAYING, each
 * cut short by flushing; its deadline is the frame's running time plus
 * the look-ahead and the upstream latency; the audio that has not come
 * is silence, and a frame over a frame late is late. */
GST_START_TEST (test_feed_live)
{
  KlingMelFeed *feed = new_feed ();
  GstClockTime deadline, late;
  GstSegment segment;
  GThread *thread;
  gboolean silent;

  /* a wait for the start, woken by the first audio */
  thread = g_thread_new ("wait-start", wait_start_thread, feed);
  g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  fail_unless_equals_int (push_tone (feed, 0.5, GST_SECOND), GST_FLOW_OK);
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (thread)),
      KLING_MEL_FEED_READY);

  /* frames wait for PLAYING: not yet there, PAUSED */
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 0, TRUE,
          &silent), KLING_MEL_FEED_PAUSED);
  thread = g_thread_new ("wait-playing", wait_playing_thread, feed);
  g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  kling_mel_feed_set_flushing (feed, TRUE);
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (thread)),
      KLING_MEL_FEED_FLUSHING);
  kling_mel_feed_set_flushing (feed, FALSE);
  thread = g_thread_new ("wait-playing", wait_playing_thread, feed);
  g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  kling_mel_feed_set_playing (feed, TRUE);
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (thread)),
      KLING_MEL_FEED_READY);

  /* frame 2 at 1.08 s on a segment from 0.5 s with base 3 s: running time
   * 3.58 s, + 112.5 ms look-ahead + 50 ms upstream */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = segment.time = GST_SECOND / 2;
  segment.base = 3 * GST_SECOND;
  kling_mel_feed_set_segment (feed, &segment);
  kling_mel_feed_set_upstream_latency (feed, 50 * GST_MSECOND);
  fail_unless_equals_int (kling_mel_feed_wait_playing (feed, 2, &deadline),
      KLING_MEL_FEED_READY);
  fail_unless_equals_uint64 (deadline, 3580 * GST_MSECOND + 112500 *
      GST_USECOND + 50 * GST_MSECOND);
  /* late: more than its 40 ms after the deadline; never without a clock */
  fail_if (kling_mel_feed_is_late (feed, 2, deadline, deadline));
  late = deadline + 40 * GST_MSECOND;
  fail_if (kling_mel_feed_is_late (feed, 2, deadline, late));
  fail_unless (kling_mel_feed_is_late (feed, 2, deadline, late + 1));
  fail_if (kling_mel_feed_is_late (feed, 2, GST_CLOCK_TIME_NONE, late + 1));
  fail_if (kling_mel_feed_is_late (feed, 2, deadline, GST_CLOCK_TIME_NONE));
  /* before the segment: no deadline */
  segment.start = segment.time = 5 * GST_SECOND;
  kling_mel_feed_set_segment (feed, &segment);
  fail_unless_equals_int (kling_mel_feed_wait_playing (feed, 2, &deadline),
      KLING_MEL_FEED_READY);
  fail_unless_equals_uint64 (deadline, GST_CLOCK_TIME_NONE);

  /* the half second lasts 13 frames; frame 12's window reaches past the
   * audio, which live is silence to come: it is made now, loud */
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 12, TRUE,
          &silent), KLING_MEL_FEED_READY);
  fail_if (silent);
  /* far past the audio, not ended yet: silence */
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 40, TRUE,
          &silent), KLING_MEL_FEED_READY);
  fail_unless (silent);
  /* ended: no frame past the timeline's last (the silence made for
   * frame 40 counts) */
  kling_mel_feed_finish (feed);
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 100, TRUE,
          &silent), KLING_MEL_FEED_ENDED);
  kling_mel_feed_set_playing (feed, FALSE);
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 100, TRUE,
          &silent), KLING_MEL_FEED_PAUSED);

  /* a new stream: no window before its audio; the audio ending before it
   * began ends the wait for the start */
  kling_mel_feed_reset (feed);
  kling_mel_feed_set_playing (feed, TRUE);
  fail_unless_equals_int (kling_mel_feed_next_window (feed, 0, TRUE,
          &silent), KLING_MEL_FEED_NOT_COVERED);
  thread = g_thread_new ("wait-start", wait_start_thread, feed);
  g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  kling_mel_feed_finish (feed);
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (thread)),
      KLING_MEL_FEED_ENDED);
  kling_mel_feed_reset (feed);
  kling_mel_feed_set_flushing (feed, TRUE);
  fail_unless_equals_int (kling_mel_feed_wait_start (feed),
      KLING_MEL_FEED_FLUSHING);
  kling_mel_feed_free (feed);
}

GST_END_TEST;

static Suite *
hostcore_suite (void)
{
  Suite *s = suite_create ("hostcore");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_manifest_talking_head);
  tcase_add_test (tc, test_box_parse);
  tcase_add_test (tc, test_box_choice);
  tcase_add_test (tc, test_paste_outside_bit_exact);
  tcase_add_test (tc, test_crop_and_feather);
  tcase_add_test (tc, test_face_errors);
  tcase_add_test (tc, test_feed_windows);
  tcase_add_test (tc, test_feed_live);
  return s;
}

GST_CHECK_MAIN (hostcore);
