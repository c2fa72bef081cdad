/* gst-kling: what every element test needs
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Include after <gst/check/gstcheck.h>.  Define KLING_CHECK_STAT_PROBE
 * before including to interpose stat() and record whether a file was
 * looked up while kling_check_probe_element's object lock was held.
 */
#ifndef __KLING_CHECK_H__
#define __KLING_CHECK_H__

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

/* A file made by tests/models. */
static inline gchar *
kling_check_test_model (const gchar * name)
{
  return g_build_filename (g_getenv ("KLING_TEST_MODELS"), name, NULL);
}

/* The frame the test detectors know (tests/models' ColourBoxes): RGB
 * 320x240, a red box at (100, 60) 80x60 and a green box at (220, 150)
 * 50x70 on grey 90. */
static inline GstBuffer *
kling_check_boxes_frame (GstVideoInfo * info)
{
  GstBuffer *buf;
  GstMapInfo map;
  gint x, y;

  gst_video_info_set_format (info, GST_VIDEO_FORMAT_RGB, 320, 240);
  buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (y = 0; y < 240; y++)
    for (x = 0; x < 320; x++) {
      guint8 *p = map.data + y * GST_VIDEO_INFO_PLANE_STRIDE (info, 0) + x * 3;
      gboolean red = x >= 100 && x < 180 && y >= 60 && y < 120;
      gboolean green = x >= 220 && x < 270 && y >= 150 && y < 220;
      p[0] = red ? 240 : green ? 10 : 90;
      p[1] = green ? 240 : red ? 10 : 90;
      p[2] = red || green ? 10 : 90;
    }
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* @factory, checked to come from this build's gst-kling plugin. */
static inline GstElement *
kling_check_make_element (const gchar * factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);
  GstPlugin *plugin;

  fail_unless (e != NULL, "no element %s", factory);
  plugin = gst_plugin_feature_get_plugin (GST_PLUGIN_FEATURE
      (gst_element_get_factory (e)));
  fail_unless (plugin != NULL);
  fail_unless_equals_string (gst_plugin_get_name (plugin), "kling");
  gst_object_unref (plugin);
  return e;
}

/* The first error on @bus (waiting up to @timeout), its message text;
 * NULL if there was none. */
static inline gchar *
kling_check_pop_error (GstBus * bus, GstClockTime timeout)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, timeout,
      GST_MESSAGE_ERROR);
  GError *error = NULL;
  gchar *text;

  if (msg == NULL)
    return NULL;
  gst_message_parse_error (msg, &error, NULL);
  text = g_strdup (error->message);
  g_error_free (error);
  gst_message_unref (msg);
  return text;
}

/* The pipeline @desc goes NULL -> PLAYING -> NULL @cycles times; every
 * tenth cycle it plays to EOS (within @timeout) first.  The leaks tracer
 * catches anything a cycle leaves behind. */
static inline void
kling_check_state_cycles (const gchar * desc, guint cycles,
    GstClockTime timeout)
{
  GstElement *pipe = gst_parse_launch (desc, NULL);
  guint i;

  fail_unless (pipe != NULL, "cannot parse %s", desc);
  for (i = 0; i < cycles; i++) {
    fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    if (i % 10 == 0) {
      GstMessage *msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe),
          timeout, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
      fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
          "cycle %u of %s ended without EOS", i, desc);
      gst_message_unref (msg);
    }
    fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  gst_object_unref (pipe);
}

#ifdef KLING_CHECK_STAT_PROBE
#include <dlfcn.h>
#include <sys/stat.h>

/* The element whose object lock must not be held while files are stat'ed,
 * and whether it was. */
static GstElement *kling_check_probe_element;
static gint kling_check_stat_under_lock;

static void
kling_check_probe (void)
{
  GstElement *e = kling_check_probe_element;

  /* the test holds no lock: if the lock is taken now, the element's own
   * thread (this one) holds it */
  if (e && !g_mutex_trylock (GST_OBJECT_GET_LOCK (e)))
    g_atomic_int_set (&kling_check_stat_under_lock, 1);
  else if (e)
    g_mutex_unlock (GST_OBJECT_GET_LOCK (e));
}

/* With _FILE_OFFSET_BITS=64 (meson's default) this defines stat64, the
 * symbol GLib calls; exported despite -fvisibility=hidden so that it
 * interposes. */
__attribute__ ((visibility ("default")))
     int stat (const char *path, struct stat *buf)
{
  static int (*real) (const char *, struct stat *);

  if (real == NULL)
    real = (int (*)(const char *, struct stat *)) dlsym (RTLD_NEXT,
        "stat64");
  kling_check_probe ();
  return real (path, buf);
}

/* Takes @e to PAUSED and back (loading its default models from
 * GST_KLING_MODEL_PATH, found or not) and fails if a file was stat'ed
 * while its object lock was held; @e is taken. */
static inline void
kling_check_lookup_unlocked (GstElement * e)
{
  kling_check_probe_element = e;
  g_atomic_int_set (&kling_check_stat_under_lock, 0);
  gst_element_set_state (e, GST_STATE_PAUSED);
  gst_element_set_state (e, GST_STATE_NULL);
  kling_check_probe_element = NULL;
  fail_if (g_atomic_int_get (&kling_check_stat_under_lock),
      "a file was stat'ed under the object lock");
  gst_object_unref (e);
}
#endif

#endif
