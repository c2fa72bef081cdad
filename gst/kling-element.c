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

void
kling_gen_props_install (GObjectClass * klass, const KlingGenPropsInfo * info)
{
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  g_object_class_install_property (klass, KLING_GEN_PROP_PROMPT,
      g_param_spec_string ("prompt", "Prompt", info->prompt_blurb,
          info->default_prompt, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, KLING_GEN_PROP_NEGATIVE_PROMPT,
      g_param_spec_string ("negative-prompt", "Negative prompt",
          info->negative_prompt_blurb, "", rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, KLING_GEN_PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed", info->seed_blurb, 0, G_MAXUINT64,
          0, rw | info->seed_mutable));
  g_object_class_install_property (klass, KLING_GEN_PROP_STEPS,
      g_param_spec_uint ("steps", "Steps", "Sampling steps (more: better "
          "and slower); 0: the model's recommendation", 0, 1000, 0,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, KLING_GEN_PROP_GUIDANCE_SCALE,
      g_param_spec_double ("guidance-scale", "Guidance scale",
          "Classifier-free guidance: how strongly to follow the prompt (1: "
          "no guidance, half the compute); -1: the model's recommendation",
          -1.0, 50.0, -1.0, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, KLING_GEN_PROP_SAMPLER,
      g_param_spec_enum ("sampler", "Sampler", info->sampler_blurb,
          GST_TYPE_KLING_SAMPLER, GST_KLING_SAMPLER_AUTO,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (klass, KLING_GEN_PROP_MODEL,
      g_param_spec_string ("model", "Model", info->model_blurb, NULL,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, KLING_GEN_PROP_DEVICE,
      g_param_spec_string ("device", "Device", "Where the model runs: cpu, "
          "cuda or cuda:N", "cpu", rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, KLING_GEN_PROP_THREADS,
      g_param_spec_int ("threads", "Threads", "Intra-op threads for "
          "inference; 0: one per CPU core", 0, 256, 0,
          rw | GST_PARAM_MUTABLE_READY));
}

void
kling_gen_props_init (KlingGenProps * props, const KlingGenPropsInfo * info)
{
  memset (props, 0, sizeof *props);
  props->prompt = g_strdup (info->default_prompt);
  props->negative_prompt = g_strdup ("");
  props->guidance = -1.0;
  props->sampler = GST_KLING_SAMPLER_AUTO;
  props->device = g_strdup ("cpu");
}

void
kling_gen_props_clear (KlingGenProps * props)
{
  g_clear_pointer (&props->prompt, g_free);
  g_clear_pointer (&props->negative_prompt, g_free);
  g_clear_pointer (&props->model_path, g_free);
  g_clear_pointer (&props->device, g_free);
}

static void
replace_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

gboolean
kling_gen_props_set (KlingGenProps * props, GstElement * element,
    guint prop_id, const GValue * value, GParamSpec * pspec)
{
  gboolean setup = (pspec->flags & GST_PARAM_MUTABLE_READY) != 0;

  if (prop_id == 0 || prop_id >= KLING_GEN_PROP_LAST)
    return FALSE;
  if (setup && !kling_element_setup_mutable (element, pspec))
    return TRUE;
  switch (prop_id) {
    case KLING_GEN_PROP_PROMPT:
      replace_string (&props->prompt, value);
      break;
    case KLING_GEN_PROP_NEGATIVE_PROMPT:
      replace_string (&props->negative_prompt, value);
      break;
    case KLING_GEN_PROP_SEED:
      props->seed = g_value_get_uint64 (value);
      break;
    case KLING_GEN_PROP_STEPS:
      props->steps = g_value_get_uint (value);
      break;
    case KLING_GEN_PROP_GUIDANCE_SCALE:
      props->guidance = g_value_get_double (value);
      break;
    case KLING_GEN_PROP_SAMPLER:
      props->sampler = g_value_get_enum (value);
      break;
    case KLING_GEN_PROP_MODEL:
      replace_string (&props->model_path, value);
      break;
    case KLING_GEN_PROP_DEVICE:
      replace_string (&props->device, value);
      break;
    case KLING_GEN_PROP_THREADS:
      props->threads = g_value_get_int (value);
      break;
  }
  return TRUE;
}

gboolean
kling_gen_props_get (const KlingGenProps * props, guint prop_id, GValue * value)
{
  switch (prop_id) {
    case KLING_GEN_PROP_PROMPT:
      g_value_set_string (value, props->prompt);
      return TRUE;
    case KLING_GEN_PROP_NEGATIVE_PROMPT:
      g_value_set_string (value, props->negative_prompt);
      return TRUE;
    case KLING_GEN_PROP_SEED:
      g_value_set_uint64 (value, props->seed);
      return TRUE;
    case KLING_GEN_PROP_STEPS:
      g_value_set_uint (value, props->steps);
      return TRUE;
    case KLING_GEN_PROP_GUIDANCE_SCALE:
      g_value_set_double (value, props->guidance);
      return TRUE;
    case KLING_GEN_PROP_SAMPLER:
      g_value_set_enum (value, props->sampler);
      return TRUE;
    case KLING_GEN_PROP_MODEL:
      g_value_set_string (value, props->model_path);
      return TRUE;
    case KLING_GEN_PROP_DEVICE:
      g_value_set_string (value, props->device);
      return TRUE;
    case KLING_GEN_PROP_THREADS:
      g_value_set_int (value, props->threads);
      return TRUE;
    default:
      return FALSE;
  }
}

void
kling_still_pad_init (KlingStillPad * still)
{
  memset (still, 0, sizeof *still);
  g_mutex_init (&still->lock);
  g_cond_init (&still->cond);
}

void
kling_still_pad_clear (KlingStillPad * still)
{
  kling_still_pad_reset (still);
  g_mutex_clear (&still->lock);
  g_cond_clear (&still->cond);
}

void
kling_still_pad_reset (KlingStillPad * still)
{
  GstBuffer *old;

  g_mutex_lock (&still->lock);
  old = still->buffer;
  still->buffer = NULL;
  still->have_info = FALSE;
  still->eos = FALSE;
  g_mutex_unlock (&still->lock);
  gst_clear_buffer (&old);
}

gboolean
kling_still_pad_event (KlingStillPad * still, GstEvent * event)
{
  gboolean ret = TRUE;

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstVideoInfo info;
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    ret = gst_video_info_from_caps (&info, caps);
    g_mutex_lock (&still->lock);
    if (ret) {
      still->info = info;
      still->have_info = TRUE;
    }
    g_mutex_unlock (&still->lock);
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    g_mutex_lock (&still->lock);
    still->eos = TRUE;
    g_cond_broadcast (&still->cond);
    g_mutex_unlock (&still->lock);
  }
  gst_event_unref (event);
  return ret;
}

gboolean
kling_still_pad_get_info (KlingStillPad * still, GstVideoInfo * info,
    gboolean * have_buffer)
{
  gboolean ret;

  g_mutex_lock (&still->lock);
  ret = still->have_info;
  *info = still->info;
  *have_buffer = still->buffer != NULL;
  g_mutex_unlock (&still->lock);
  return ret;
}

void
kling_still_pad_set_buffer (KlingStillPad * still, GstBuffer * buffer)
{
  GstBuffer *old;

  g_mutex_lock (&still->lock);
  old = still->buffer;
  still->buffer = gst_buffer_ref (buffer);
  g_cond_broadcast (&still->cond);
  g_mutex_unlock (&still->lock);
  gst_clear_buffer (&old);
}

GstBuffer *
kling_still_pad_wait (KlingStillPad * still, GCancellable * cancellable,
    GstVideoInfo * info)
{
  GstBuffer *buf;

  g_mutex_lock (&still->lock);
  while (!still->buffer && !still->eos
      && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&still->cond, &still->lock);
  buf = still->buffer ? gst_buffer_ref (still->buffer) : NULL;
  *info = still->info;
  g_mutex_unlock (&still->lock);
  return buf;
}

void
kling_still_pad_wake (KlingStillPad * still)
{
  g_mutex_lock (&still->lock);
  g_cond_broadcast (&still->cond);
  g_mutex_unlock (&still->lock);
}
