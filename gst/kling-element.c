/* gst-kling: the shared element layer
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "kling-element.h"
#include "kling-manifest.h"

gboolean
kling_element_setup_mutable (GstElement * element, GParamSpec * pspec)
{
  GstState state = GST_STATE (element);

  if (state == GST_STATE_NULL || state == GST_STATE_READY)
    return TRUE;
  g_warning ("%s: changing \"%s\" takes effect only in NULL or READY state",
      GST_ELEMENT_NAME (element), pspec->name);
  return FALSE;
}

gchar *
kling_element_find_model (GstElement * element, const gchar * path,
    const gchar * default_file, const gchar * what, const gchar * property)
{
  gchar *found;

  if (path)
    return g_strdup (path);
  found = kling_package_find_default (default_file);
  if (found == NULL)
    GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND, ("No %s model: the "
            "default %s is not installed. Set the \"%s\" property or "
            "reinstall gst-kling.", what, default_file, property),
        ("searched GST_KLING_MODEL_PATH and %s", KLING_MODEL_DIR));
  return found;
}

void
kling_element_post_load_error (GstElement * element, const gchar * what,
    const gchar * property, const gchar * task, const gchar * path,
    const GError * error)
{
  gchar *fix = task ? g_strdup_printf ("set the \"%s\" property to a `%s` "
      "model package; see docs/models.md", property, task) :
      g_strdup_printf ("set the \"%s\" property to a gst-kling model "
      "package; see docs/models.md", property);

  if (g_error_matches (error, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_NOT_FOUND))
    GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND, ("Could not load %s "
            "model \"%s\": %s", what, path, error->message), ("%s", fix));
  else
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS, ("Could not load %s "
            "model \"%s\": %s", what, path, error->message), ("%s", fix));
  g_free (fix);
}

KlingGenModel *
kling_element_load_gen_model (GstElement * element, const gchar * path,
    const gchar * default_file, const gchar * what, const gchar * task,
    const KlingLoadOptions * options)
{
  gchar *file = kling_element_find_model (element, path, default_file, what,
      "model");
  KlingGenModel *gm;
  GError *error = NULL;

  if (file == NULL)
    return NULL;
  GST_INFO_OBJECT (element, "loading %s", file);
  gm = kling_gen_model_load (file, task, options, &error);
  if (gm == NULL) {
    kling_element_post_load_error (element, what, "model", task, file, error);
    g_error_free (error);
  }
  g_free (file);
  return gm;
}

void
kling_element_post_progress (GstElement * element, GstProgressType type,
    const gchar * code, const gchar * text)
{
  gst_element_post_message (element,
      gst_message_new_progress (GST_OBJECT (element), type, code, text));
}

gdouble
kling_element_percent (guint64 index, guint64 count, guint step, guint steps)
{
  if (count == G_MAXUINT64)
    return -1;
  return 100.0 * (index + (gdouble) step / MAX (steps, 1)) / MAX (count, 1);
}

void
kling_element_post_step (GstElement * element, const gchar * name,
    guint step, guint steps, gdouble percent, const gchar * first_field, ...)
{
  GstStructure *s = gst_structure_new (name, "step", G_TYPE_UINT, step,
      "steps", G_TYPE_UINT, steps, NULL);
  va_list args;

  va_start (args, first_field);
  if (first_field)
    gst_structure_set_valist (s, first_field, args);
  va_end (args);
  gst_structure_set (s, "percent", G_TYPE_DOUBLE, percent, NULL);
  gst_element_post_message (element,
      gst_message_new_element (GST_OBJECT (element), s));
}

GstBuffer *
kling_element_rgb_buffer (const GstVideoInfo * info, const guint8 * packed)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  gsize row = (gsize) GST_VIDEO_INFO_WIDTH (info) * 3;
  gint stride = GST_VIDEO_INFO_PLANE_STRIDE (info, 0), y;
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (y = 0; y < GST_VIDEO_INFO_HEIGHT (info); y++)
    memcpy (map.data + (gsize) y * stride, packed + y * row, row);
  gst_buffer_unmap (buf, &map);
  return buf;
}

gboolean
kling_element_convert_with (GstVideoConverter * converter,
    const GstVideoInfo * in_info, GstBuffer * in,
    const GstVideoInfo * out_info, GstBuffer * out)
{
  GstVideoFrame fin, fout;

  if (!gst_video_frame_map (&fin, (GstVideoInfo *) in_info, in, GST_MAP_READ))
    return FALSE;
  if (!gst_video_frame_map (&fout, (GstVideoInfo *) out_info, out,
          GST_MAP_WRITE)) {
    gst_video_frame_unmap (&fin);
    return FALSE;
  }
  gst_video_converter_frame (converter, &fin, &fout);
  gst_video_frame_unmap (&fout);
  gst_video_frame_unmap (&fin);
  return TRUE;
}

gboolean
kling_element_convert (const GstVideoInfo * in_info, GstBuffer * in,
    const GstVideoInfo * out_info, GstBuffer * out, GstStructure * config)
{
  GstVideoInfo to = *out_info;
  GstVideoConverter *conv;
  gboolean ok;

  /* the converter wants equal rates; the rate changes nothing per frame */
  GST_VIDEO_INFO_FPS_N (&to) = GST_VIDEO_INFO_FPS_N (in_info);
  GST_VIDEO_INFO_FPS_D (&to) = GST_VIDEO_INFO_FPS_D (in_info);
  conv = gst_video_converter_new ((GstVideoInfo *) in_info, &to, config);
  if (conv == NULL)
    return FALSE;
  ok = kling_element_convert_with (conv, in_info, in, &to, out);
  gst_video_converter_free (conv);
  return ok;
}

KlingGenPrompt *
kling_prompt_cache_get (KlingPromptCache * cache, GstElement * element,
    KlingGenModel * gm, const gchar * prompt, const gchar * negative,
    GCancellable * cancellable, GError ** error)
{
  gchar *key = g_strconcat (prompt ? prompt : "", "\x01",
      negative ? negative : "", NULL);
  gboolean truncated = FALSE;

  if (cache->prompt && g_strcmp0 (key, cache->key) == 0) {
    g_free (key);
    return cache->prompt;
  }
  kling_prompt_cache_clear (cache);
  cache->prompt = kling_gen_encode_prompt (gm, prompt, negative, &truncated,
      cancellable, error);
  if (cache->prompt)
    cache->key = key;
  else
    g_free (key);
  if (truncated)
    GST_ELEMENT_WARNING (element, RESOURCE, SETTINGS, ("The prompt is longer "
            "than the model reads (%u bytes): the end is cut off",
            gm->max_tokens), ("prompt: %s", prompt));
  return cache->prompt;
}

void
kling_prompt_cache_clear (KlingPromptCache * cache)
{
  g_clear_pointer (&cache->prompt, kling_gen_prompt_free);
  g_clear_pointer (&cache->key, g_free);
}

void
kling_element_resolve_sampling (const KlingGenModel * gm, guint steps,
    gdouble guidance, GstKlingSampler sampler, KlingSampling * out)
{
  out->steps = steps ? steps : gm->default_steps;
  out->guidance = guidance >= 0 ? guidance : gm->default_guidance;
  out->sampler = gst_kling_sampler_resolve (sampler, gm->default_sampler);
}
