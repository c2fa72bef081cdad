/* gst-kling: kling-draw, boxes and labels on every format aiproductdetect
 * accepts (pure C: no model)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

#include "kling-check.h"

#include "kling-draw.h"

#define W 320
#define H 240


/* kling_draw_detections on every format aiproductdetect accepts: on a grey
 * frame, the left edge of a box takes the class colour (read back through
 * GstVideoConverter) and its inside is left alone. */
GST_START_TEST (test_draw_every_format)
{
  const gchar *formats[] = { "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR",
    "RGBA", "BGRA", "ARGB", "ABGR", "I420", "YV12", "NV12", "NV21", "YUY2",
    "UYVY", "Y42B", "Y444", "GRAY8"
  };
  /* label 1: palette colour 64, 160, 255 */
  KlingDetection det = { 100, 60, 180, 120, 0.9f, 1 };
  const gchar *labels[] = { "red", "green", NULL };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstVideoFormat fmt = gst_video_format_from_string (formats[i]);
    GstVideoInfo rgb_info, info;
    GstBuffer *rgb = kling_check_boxes_frame (&rgb_info), *buf, *back;
    GstVideoFrame fin, fout;
    GstVideoConverter *conv;
    GstMapInfo map;
    gboolean gray = fmt == GST_VIDEO_FORMAT_GRAY8;
    const guint8 *edge, *inside;

    fail_unless (kling_draw_supported (fmt), "%s not supported", formats[i]);
    gst_video_info_set_format (&info, fmt, W, H);
    buf = gst_buffer_new_allocate (NULL, info.size, NULL);
    back = gst_buffer_new_allocate (NULL, rgb_info.size, NULL);
    /* grey everywhere: the boxes frame's boxes are elsewhere than det's edge */
    gst_buffer_memset (rgb, 0, 90, rgb_info.size);
    gst_video_frame_map (&fin, &rgb_info, rgb, GST_MAP_READ);
    gst_video_frame_map (&fout, &info, buf, GST_MAP_WRITE);
    conv = gst_video_converter_new (&rgb_info, &info, NULL);
    gst_video_converter_frame (conv, &fin, &fout);
    gst_video_converter_free (conv);
    gst_video_frame_unmap (&fin);
    kling_draw_detections (&fout, &det, 1, labels);
    gst_video_frame_unmap (&fout);

    gst_video_frame_map (&fin, &info, buf, GST_MAP_READ);
    gst_video_frame_map (&fout, &rgb_info, back, GST_MAP_WRITE);
    /* read chroma back unfiltered: a 2-pixel edge is not blurred into
     * the grey around it */
    conv = gst_video_converter_new (&info, &rgb_info,
        gst_structure_new ("options",
            GST_VIDEO_CONVERTER_OPT_CHROMA_RESAMPLER_METHOD,
            GST_TYPE_VIDEO_RESAMPLER_METHOD,
            GST_VIDEO_RESAMPLER_METHOD_NEAREST, NULL));
    gst_video_converter_frame (conv, &fin, &fout);
    gst_video_converter_free (conv);
    gst_video_frame_unmap (&fin);
    gst_video_frame_unmap (&fout);

    gst_buffer_map (back, &map, GST_MAP_READ);
    edge = map.data + (90 * GST_VIDEO_INFO_PLANE_STRIDE (&rgb_info, 0)) +
        100 * 3;
    inside = map.data + (90 * GST_VIDEO_INFO_PLANE_STRIDE (&rgb_info, 0)) +
        140 * 3;
    if (gray) {
      /* luma of 64, 160, 255 is 132 (the converter reads GRAY8 back
       * with a little range expansion) */
      fail_unless (ABS (edge[0] - 132) <= 12 && edge[0] == edge[2],
          "%s: edge %d %d %d", formats[i], edge[0], edge[1], edge[2]);
    } else {
      /* 4:2:x chroma is upsampled from neighbours the grey shares */
      gint tol = GST_VIDEO_FORMAT_INFO_W_SUB (info.finfo, 1) ? 40 : 12;

      fail_unless (ABS (edge[0] - 64) <= tol && ABS (edge[1] - 160) <= tol
          && ABS (edge[2] - 255) <= tol, "%s: edge %d %d %d", formats[i],
          edge[0], edge[1], edge[2]);
    }
    fail_unless (ABS (inside[0] - 90) <= 3 && ABS (inside[1] - 90) <= 3
        && ABS (inside[2] - 90) <= 3, "%s: inside %d %d %d", formats[i],
        inside[0], inside[1], inside[2]);
    gst_buffer_unmap (back, &map);
    gst_buffer_unref (back);
    gst_buffer_unref (buf);
    gst_buffer_unref (rgb);
  }
}

GST_END_TEST;

/* A grey RGB frame with one detection drawn: where its tab is, what
 * colours it holds. */
GST_START_TEST (test_label_tab)
{
  /* label 0: palette colour 255, 64, 64; "RED 87%": 7 glyphs */
  KlingDetection det = { 50, 60, 150, 120, 0.87f, 0 };
  const gchar *labels[] = { "red", NULL };
  GstVideoInfo info;
  GstBuffer *buf = kling_check_boxes_frame (&info);
  GstVideoFrame frame;
  gint x, y, stride, tab = 0, text = 0, other = 0;
  const guint8 *d;

  gst_buffer_memset (buf, 0, 90, info.size);
  gst_video_frame_map (&frame, &info, buf, GST_MAP_READWRITE);
  kling_draw_detections (&frame, &det, 1, labels);
  d = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  /* the tab: 7 * 12 + 2 wide, 18 high, just above the box */
  for (y = 42; y < 60; y++)
    for (x = 50; x < 50 + 86; x++) {
      const guint8 *p = d + y * stride + x * 3;
      if (p[0] == 255 && p[1] == 64 && p[2] == 64)
        tab++;
      else if (p[0] == 0 && p[1] == 0 && p[2] == 0)
        text++;
      else
        other++;
    }
  fail_unless_equals_int (other, 0);
  fail_unless (text > 100 && tab > text, "tab %d, text %d", tab, text);
  /* nothing beyond the tab's right end nor above it */
  for (x = 50 + 86; x < 50 + 100; x++)
    fail_unless (d[50 * stride + x * 3] == 90);
  for (x = 50; x < 150; x++)
    fail_unless (d[41 * stride + x * 3] == 90);
  /* the box: its 2-pixel edges in the label colour, the inside untouched */
  fail_unless (d[119 * stride + 100 * 3] == 255);
  fail_unless (d[90 * stride + 51 * 3] == 255 && d[90 * stride + 148 * 3]
      == 255);
  fail_unless (d[90 * stride + 100 * 3] == 90);
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
}

GST_END_TEST;

/* Boxes reaching past the frame are clipped (valgrind, in the pure suite,
 * sees any write outside it), a box at the top edge puts its tab inside,
 * and labels the font lacks draw as blanks. */
GST_START_TEST (test_clipped_and_odd_labels)
{
  KlingDetection dets[] = {
    {-40, -30, 60, 50, 0.5f, 1},
    {280, 200, 400, 300, 0.99f, 0},
    {0, 0, W, H, 1.0f, 2},
  };
  const gchar *labels[] = { "瓶子 bottle", "", "x%-.", NULL };
  GstVideoInfo info;
  GstBuffer *buf = kling_check_boxes_frame (&info);
  GstVideoFrame frame;
  const guint8 *d;
  gint stride;

  gst_buffer_memset (buf, 0, 90, info.size);
  gst_video_frame_map (&frame, &info, buf, GST_MAP_READWRITE);
  kling_draw_detections (&frame, dets, G_N_ELEMENTS (dets), labels);
  d = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  /* the whole-frame box (label 2: 64, 220, 96) runs along every edge */
  fail_unless (d[(H - 1) * stride + (W / 2) * 3 + 1] == 220);
  fail_unless (d[(H / 2) * stride + (W - 1) * 3 + 1] == 220);
  /* its tab (y0 < the tab's height) is inside it, at the top left */
  fail_unless (d[1 * stride + 1 * 3] == 64 && d[1 * stride + 1 * 3 + 1] ==
      220 && d[1 * stride + 1 * 3 + 2] == 96);
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
}

GST_END_TEST;

/* A format it does not draw on (16 bits a component) is left as it was. */
GST_START_TEST (test_unsupported_untouched)
{
  KlingDetection det = { 10, 10, 50, 50, 0.9f, 0 };
  const gchar *labels[] = { "red", NULL };
  const GstVideoFormat formats[] = { GST_VIDEO_FORMAT_GRAY16_LE,
    GST_VIDEO_FORMAT_ARGB64, GST_VIDEO_FORMAT_I420_10LE
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstVideoInfo info;
    GstBuffer *buf;
    GstVideoFrame frame;
    GstMapInfo map;
    gsize k;

    fail_if (kling_draw_supported (formats[i]));
    gst_video_info_set_format (&info, formats[i], 64, 64);
    buf = gst_buffer_new_allocate (NULL, info.size, NULL);
    gst_buffer_memset (buf, 0, 0x5a, info.size);
    gst_video_frame_map (&frame, &info, buf, GST_MAP_READWRITE);
    kling_draw_detections (&frame, &det, 1, labels);
    gst_video_frame_unmap (&frame);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    for (k = 0; k < map.size; k++)
      fail_unless (map.data[k] == 0x5a, "%s changed at %" G_GSIZE_FORMAT,
          gst_video_format_to_string (formats[i]), k);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
}

GST_END_TEST;

static Suite *
draw_suite (void)
{
  Suite *s = suite_create ("draw");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_draw_every_format);
  tcase_add_test (tc, test_label_tab);
  tcase_add_test (tc, test_clipped_and_odd_labels);
  tcase_add_test (tc, test_unsupported_untouched);
  return s;
}

GST_CHECK_MAIN (draw);
