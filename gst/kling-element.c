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
  kling_element_install_device_threads (klass, KLING_GEN_PROP_DEVICE,
      KLING_GEN_PROP_THREADS, "Where the model runs: cpu, cuda or cuda:N");
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

static const KlingField gen_fields[] = {
  {KLING_GEN_PROP_PROMPT, G_STRUCT_OFFSET (KlingGenProps, prompt)},
  {KLING_GEN_PROP_NEGATIVE_PROMPT, G_STRUCT_OFFSET (KlingGenProps,
          negative_prompt)},
  {KLING_GEN_PROP_SEED, G_STRUCT_OFFSET (KlingGenProps, seed)},
  {KLING_GEN_PROP_STEPS, G_STRUCT_OFFSET (KlingGenProps, steps)},
  {KLING_GEN_PROP_GUIDANCE_SCALE, G_STRUCT_OFFSET (KlingGenProps, guidance)},
  {KLING_GEN_PROP_SAMPLER, G_STRUCT_OFFSET (KlingGenProps, sampler)},
  {KLING_GEN_PROP_MODEL, G_STRUCT_OFFSET (KlingGenProps, model_path)},
  {KLING_GEN_PROP_DEVICE, G_STRUCT_OFFSET (KlingGenProps, device)},
  {KLING_GEN_PROP_THREADS, G_STRUCT_OFFSET (KlingGenProps, threads)},
};

gboolean
kling_gen_props_set (KlingGenProps * props, GstElement * element,
    guint prop_id, const GValue * value, GParamSpec * pspec)
{
  return kling_fields_set (element, props, gen_fields,
      G_N_ELEMENTS (gen_fields), prop_id, value, pspec);
}

gboolean
kling_gen_props_get (const KlingGenProps * props, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  return kling_fields_get (props, gen_fields, G_N_ELEMENTS (gen_fields),
      prop_id, value, pspec);
}

void
kling_gen_props_set_property (GstElement * element, KlingGenProps * props,
    gpointer base, const KlingField * fields, guint n_fields, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GST_OBJECT_LOCK (element);
  if (!kling_gen_props_set (props, element, prop_id, value, pspec)
      && !kling_fields_set (element, base, fields, n_fields, prop_id, value,
          pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (element, prop_id, pspec);
  GST_OBJECT_UNLOCK (element);
}

void
kling_gen_props_get_property (GstElement * element,
    const KlingGenProps * props, gconstpointer base,
    const KlingField * fields, guint n_fields, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GST_OBJECT_LOCK (element);
  if (!kling_gen_props_get (props, prop_id, value, pspec)
      && !kling_fields_get (base, fields, n_fields, prop_id, value, pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (element, prop_id, pspec);
  GST_OBJECT_UNLOCK (element);
}

static const KlingField *
find_field (const KlingField * fields, guint n_fields, guint prop_id)
{
  guint i;

  for (i = 0; i < n_fields; i++)
    if (fields[i].prop_id == prop_id)
      return &fields[i];
  return NULL;
}

gboolean
kling_fields_set (GstElement * element, gpointer base,
    const KlingField * fields, guint n_fields, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  const KlingField *f = find_field (fields, n_fields, prop_id);
  gpointer p;

  if (f == NULL)
    return FALSE;
  if ((pspec->flags & GST_PARAM_MUTABLE_READY)
      && !kling_element_setup_mutable (element, pspec))
    return TRUE;
  p = G_STRUCT_MEMBER_P (base, f->offset);
  switch (G_TYPE_FUNDAMENTAL (pspec->value_type)) {
    case G_TYPE_STRING:
      g_free (*(gchar **) p);
      *(gchar **) p = g_value_dup_string (value);
      break;
    case G_TYPE_BOOLEAN:
      *(gboolean *) p = g_value_get_boolean (value);
      break;
    case G_TYPE_INT:
      *(gint *) p = g_value_get_int (value);
      break;
    case G_TYPE_UINT:
      *(guint *) p = g_value_get_uint (value);
      break;
    case G_TYPE_UINT64:
      *(guint64 *) p = g_value_get_uint64 (value);
      break;
    case G_TYPE_FLOAT:
      *(gfloat *) p = g_value_get_float (value);
      break;
    case G_TYPE_DOUBLE:
      *(gdouble *) p = g_value_get_double (value);
      break;
    case G_TYPE_ENUM:
      *(gint *) p = g_value_get_enum (value);
      break;
    default:
      g_return_val_if_fail (GST_VALUE_HOLDS_FRACTION (value), FALSE);
      ((gint *) p)[0] = gst_value_get_fraction_numerator (value);
      ((gint *) p)[1] = gst_value_get_fraction_denominator (value);
      break;
  }
  return TRUE;
}

gboolean
kling_fields_get (gconstpointer base, const KlingField * fields,
    guint n_fields, guint prop_id, GValue * value, GParamSpec * pspec)
{
  const KlingField *f = find_field (fields, n_fields, prop_id);
  gconstpointer p;

  if (f == NULL)
    return FALSE;
  p = G_STRUCT_MEMBER_P (base, f->offset);
  switch (G_TYPE_FUNDAMENTAL (pspec->value_type)) {
    case G_TYPE_STRING:
      g_value_set_string (value, *(gchar * const *) p);
      break;
    case G_TYPE_BOOLEAN:
      g_value_set_boolean (value, *(const gboolean *) p);
      break;
    case G_TYPE_INT:
      g_value_set_int (value, *(const gint *) p);
      break;
    case G_TYPE_UINT:
      g_value_set_uint (value, *(const guint *) p);
      break;
    case G_TYPE_UINT64:
      g_value_set_uint64 (value, *(const guint64 *) p);
      break;
    case G_TYPE_FLOAT:
      g_value_set_float (value, *(const gfloat *) p);
      break;
    case G_TYPE_DOUBLE:
      g_value_set_double (value, *(const gdouble *) p);
      break;
    case G_TYPE_ENUM:
      g_value_set_enum (value, *(const gint *) p);
      break;
    default:
      g_return_val_if_fail (GST_VALUE_HOLDS_FRACTION (value), FALSE);
      gst_value_set_fraction (value, ((const gint *) p)[0],
          ((const gint *) p)[1]);
      break;
  }
  return TRUE;
}

void
kling_fields_set_property (GstElement * element, gpointer base,
    const KlingField * fields, guint n_fields, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GST_OBJECT_LOCK (element);
  if (!kling_fields_set (element, base, fields, n_fields, prop_id, value,
          pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (element, prop_id, pspec);
  GST_OBJECT_UNLOCK (element);
}

void
kling_fields_get_property (GstElement * element, gconstpointer base,
    const KlingField * fields, guint n_fields, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GST_OBJECT_LOCK (element);
  if (!kling_fields_get (base, fields, n_fields, prop_id, value, pspec))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (element, prop_id, pspec);
  GST_OBJECT_UNLOCK (element);
}

void
kling_element_install_device_threads (GObjectClass * klass,
    guint prop_device, guint prop_threads, const gchar * device_blurb)
{
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  g_object_class_install_property (klass, prop_device,
      g_param_spec_string ("device", "Device", device_blurb, "cpu",
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, prop_threads,
      g_param_spec_int ("threads", "Threads", "Intra-op threads for "
          "inference; 0: one per CPU core", 0, 256, 0,
          rw | GST_PARAM_MUTABLE_READY));
}

gchar *
kling_element_find_optional_model (const gchar * path,
    const gchar * default_file, gboolean * is_default)
{
  *is_default = path == NULL;
  if (path == NULL)
    return kling_package_find_default (default_file);
  if (*path == '\0' || strcmp (path, "none") == 0)
    return NULL;
  return g_strdup (path);
}

GstPad *
kling_element_request_single_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, GstPad ** slot,
    GstPadChainFunction chain, GstPadEventFunction event, gpointer data)
{
  GstPad *pad = gst_pad_new_from_template (templ, name);

  gst_pad_set_element_private (pad, data);

  gst_pad_set_chain_function (pad, chain);
  gst_pad_set_event_function (pad, event);
  GST_OBJECT_LOCK (element);
  if (*slot) {
    GST_OBJECT_UNLOCK (element);
    gst_object_unref (gst_object_ref_sink (pad));
    return NULL;
  }
  *slot = pad;
  GST_OBJECT_UNLOCK (element);
  gst_pad_set_active (pad, TRUE);
  gst_element_add_pad (element, pad);
  return pad;
}

gboolean
kling_element_release_single_pad (GstElement * element, GstPad * pad,
    GstPad ** slot)
{
  GST_OBJECT_LOCK (element);
  if (pad != *slot) {
    GST_OBJECT_UNLOCK (element);
    return FALSE;
  }
  *slot = NULL;
  GST_OBJECT_UNLOCK (element);
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
  return TRUE;
}

gboolean
kling_element_pad_is_linked (GstElement * element, GstPad ** slot)
{
  gboolean linked;

  GST_OBJECT_LOCK (element);
  linked = *slot && gst_pad_is_linked (*slot);
  GST_OBJECT_UNLOCK (element);
  return linked;
}

GstIterator *
kling_element_iterate_partner (GstPad * pad, GstPad * sinkpad, GstPad * srcpad)
{
  GValue value = G_VALUE_INIT;
  GstIterator *it;

  if (pad != sinkpad && pad != srcpad)
    return NULL;
  g_value_init (&value, GST_TYPE_PAD);
  g_value_set_object (&value, pad == sinkpad ? srcpad : sinkpad);
  it = gst_iterator_new_single (GST_TYPE_PAD, &value);
  g_value_unset (&value);
  return it;
}

/* Upstream's @min and @max, with @ours added, as the answer to @query. */
static void
set_latency_plus (GstPad * sinkpad, GstQuery * query, gboolean live,
    GstClockTime min, GstClockTime max, GstClockTime ours)
{
  GST_DEBUG_OBJECT (sinkpad, "adding latency %" GST_TIME_FORMAT " to %"
      GST_TIME_FORMAT, GST_TIME_ARGS (ours), GST_TIME_ARGS (min));
  min += ours;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += ours;
  gst_query_set_latency (query, live, min, max);
}

gboolean
kling_element_query_latency (GstPad * sinkpad, GstQuery * query,
    GstClockTime ours)
{
  gboolean live;
  GstClockTime min, max;

  if (!gst_pad_peer_query (sinkpad, query))
    return FALSE;
  gst_query_parse_latency (query, &live, &min, &max);
  set_latency_plus (sinkpad, query, live, min, max, ours);
  return TRUE;
}

void
kling_element_query_clocked_latency (GstPad * sinkpad, GstQuery * query,
    GstClockTime ours, gboolean live, GstClockTime * upstream_min)
{
  GstQuery *upstream = gst_query_new_latency ();
  gboolean upstream_live = FALSE;
  GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;

  /* a query of its own: a peer that fails may have half-filled it */
  if (gst_pad_peer_query (sinkpad, upstream))
    gst_query_parse_latency (upstream, &upstream_live, &min, &max);
  gst_query_unref (upstream);
  *upstream_min = min;
  set_latency_plus (sinkpad, query, live || upstream_live, min, max, ours);
}

GstCaps *
kling_element_sized_caps (GstCaps * caps, gint width, gint height,
    gint fps_n, gint fps_d, GstCaps * filter)
{
  caps = gst_caps_make_writable (caps);
  gst_caps_set_simple (caps, "width", G_TYPE_INT, width, "height",
      G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, fps_n, fps_d,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  return kling_element_filter_caps (caps, filter);
}

GstCaps *
kling_element_filter_caps (GstCaps * caps, GstCaps * filter)
{
  GstCaps *tmp;

  if (filter == NULL)
    return caps;
  tmp = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
  gst_caps_unref (caps);
  return tmp;
}

gchar *
kling_element_buffer_text (GstElement * element, GstBuffer * buf,
    const gchar * pad_name, GstFlowReturn * ret)
{
  GstMapInfo map;
  gchar *text = NULL;

  *ret = GST_FLOW_ERROR;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (element, STREAM, FAILED, ("Cannot read a buffer on "
            "the %s pad", pad_name), ("its memory cannot be mapped for "
            "reading"));
  } else if (!g_utf8_validate ((const gchar *) map.data, map.size, NULL)) {
    GST_ELEMENT_ERROR (element, STREAM, DECODE, ("A buffer on the %s pad is "
            "not valid UTF-8 text", pad_name), ("the %s pad takes "
            "text/x-raw, format=utf8", pad_name));
    gst_buffer_unmap (buf, &map);
  } else {
    text = g_strstrip (g_strndup ((const gchar *) map.data, map.size));
    gst_buffer_unmap (buf, &map);
    *ret = GST_FLOW_OK;
  }
  gst_buffer_unref (buf);
  return text;
}

void
kling_element_stamp (GstBuffer * buf, GstClockTime pts,
    GstClockTime duration, guint64 offset)
{
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buf) = duration;
  GST_BUFFER_OFFSET (buf) = offset;
  GST_BUFFER_OFFSET_END (buf) = offset + 1;
}

GstClockTime
kling_element_running_time_now (GstElement * element)
{
  GstClock *clock = gst_element_get_clock (element);
  GstClockTime now, base;

  if (clock == NULL)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (element);
  gst_object_unref (clock);
  return now > base ? now - base : 0;
}

void
kling_clock_wait_init (KlingClockWait * wait)
{
  g_mutex_init (&wait->lock);
  wait->flushing = FALSE;
  wait->id = NULL;
}

void
kling_clock_wait_clear (KlingClockWait * wait)
{
  g_mutex_clear (&wait->lock);
}

gboolean
kling_clock_wait_until (KlingClockWait * wait, GstElement * element,
    GstClockTime running_time)
{
  GstClock *clock = gst_element_get_clock (element);
  GstClockReturn ret;
  GstClockID id;

  if (clock == NULL)
    return TRUE;
  id = gst_clock_new_single_shot_id (clock,
      gst_element_get_base_time (element) + running_time);
  gst_object_unref (clock);
  g_mutex_lock (&wait->lock);
  if (wait->flushing) {
    g_mutex_unlock (&wait->lock);
    gst_clock_id_unref (id);
    return FALSE;
  }
  wait->id = id;
  g_mutex_unlock (&wait->lock);
  ret = gst_clock_id_wait (id, NULL);
  g_mutex_lock (&wait->lock);
  wait->id = NULL;
  g_mutex_unlock (&wait->lock);
  gst_clock_id_unref (id);
  return ret != GST_CLOCK_UNSCHEDULED;
}

void
kling_clock_wait_set_flushing (KlingClockWait * wait, gboolean flushing)
{
  g_mutex_lock (&wait->lock);
  wait->flushing = flushing;
  if (flushing && wait->id)
    gst_clock_id_unschedule (wait->id);
  g_mutex_unlock (&wait->lock);
}

void
kling_clock_wait_unschedule (KlingClockWait * wait)
{
  g_mutex_lock (&wait->lock);
  if (wait->id)
    gst_clock_id_unschedule (wait->id);
  g_mutex_unlock (&wait->lock);
}

KlingCutout *
kling_element_cutout (const GstVideoFrame * frame, const GstVideoFrame * mask,
    gint tolerance, GError ** error)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  gint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  gint offsets[3], k, pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  const guint8 *pixels = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);

  for (k = 0; k < 3; k++)
    offsets[k] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, k);
  if (mask) {
    if (GST_VIDEO_FRAME_WIDTH (mask) != w || GST_VIDEO_FRAME_HEIGHT (mask) != h) {
      g_set_error (error, KLING_BACKEND_ERROR,
          KLING_BACKEND_ERROR_INVALID_ARGUMENT, "the mask is %dx%d but the "
          "product image is %dx%d; give a mask of the same size",
          GST_VIDEO_FRAME_WIDTH (mask), GST_VIDEO_FRAME_HEIGHT (mask), w, h);
      return NULL;
    }
    return kling_cutout_from_mask (pixels, stride, pstride, offsets,
        GST_VIDEO_FRAME_PLANE_DATA (mask, 0),
        GST_VIDEO_FRAME_PLANE_STRIDE (mask, 0), w, h, error);
  }
  if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo))
    return kling_cutout_from_alpha_pixels (pixels, stride, pstride, offsets,
        GST_VIDEO_FORMAT_INFO_POFFSET (finfo, 3), w, h, error);
  return kling_cutout_from_plain_background (pixels, stride, pstride,
      offsets, w, h, tolerance, error);
}
