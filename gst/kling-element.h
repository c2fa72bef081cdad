/* gst-kling: the shared element layer: the glue every element needs
 * around the cores (model lookup and its errors, progress, frames,
 * prompts, sampling settings)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_ELEMENT_H__
#define __KLING_ELEMENT_H__

#include <gst/gst.h>
#include <gst/video/video.h>

#include "kling-backend.h"
#include "kling-enums.h"
#include "kling-gen.h"

G_BEGIN_DECLS

/* For set-up properties (model, device, threads…): TRUE in NULL or READY;
 * otherwise warns that the change needs those states and returns FALSE,
 * as filesrc does for its location.  Call with the object lock held. */
gboolean kling_element_setup_mutable (GstElement * element,
    GParamSpec * pspec);

/* --- models ------------------------------------------------------------ */

/* The model file to load: @path (the property's value, copied under the
 * object lock by the caller), or @default_file from GST_KLING_MODEL_PATH
 * and the installed model directory.  This stats files: call it WITHOUT
 * the object lock.  NULL after posting a RESOURCE/NOT_FOUND error naming
 * @what ("video", "detector"…) and the @property to set. */
gchar *kling_element_find_model (GstElement * element, const gchar * path,
    const gchar * default_file, const gchar * what, const gchar * property);

/* Posts the error for a model that failed to load: RESOURCE/NOT_FOUND when
 * the file is missing, RESOURCE/SETTINGS otherwise; the fix names
 * @property and the `@task` contract (NULL: any gst-kling package). */
void kling_element_post_load_error (GstElement * element, const gchar * what,
    const gchar * property, const gchar * task, const gchar * path,
    const GError * error);

/* Finds (as kling_element_find_model) and loads a generation model for
 * @task; NULL after posting the error.  Without the object lock. */
KlingGenModel *kling_element_load_gen_model (GstElement * element,
    const gchar * path, const gchar * default_file, const gchar * what,
    const gchar * task, const KlingLoadOptions * options);

/* --- progress ---------------------------------------------------------- */

/* A progress message (gst-launch-1.0 prints it). */
void kling_element_post_progress (GstElement * element, GstProgressType type,
    const gchar * code, const gchar * text);

/* Per cent done at step @step of @steps of item @index of @count (-1 when
 * @count is G_MAXUINT64: endless). */
gdouble kling_element_percent (guint64 index, guint64 count, guint step,
    guint steps);

/* The element message @name with step, steps, percent and the fields
 * after @first_field (as gst_structure_new). */
void kling_element_post_step (GstElement * element, const gchar * name,
    guint step, guint steps, gdouble percent, const gchar * first_field,
    ...) G_GNUC_NULL_TERMINATED;

/* --- frames ------------------------------------------------------------ */

/* A new buffer laid out as @info (packed RGB, rows padded to its stride)
 * holding @packed, info->width * 3 bytes a row. */
GstBuffer *kling_element_rgb_buffer (const GstVideoInfo * info,
    const guint8 * packed);

/* Converts @in (@in_info) into @out (@out_info) with @converter. */
gboolean kling_element_convert_with (GstVideoConverter * converter,
    const GstVideoInfo * in_info, GstBuffer * in,
    const GstVideoInfo * out_info, GstBuffer * out);

/* One conversion with a converter made for it (@config taken, may be
 * NULL); the frame rates need not match (a still image into a stream).
 * FALSE when the formats cannot be converted or a buffer is too small. */
gboolean kling_element_convert (const GstVideoInfo * in_info, GstBuffer * in,
    const GstVideoInfo * out_info, GstBuffer * out, GstStructure * config);

/* --- generation settings ---------------------------------------------- */

/* The prompt last encoded, kept until the prompt or negative prompt
 * changes. */
typedef struct
{
  KlingGenPrompt *prompt;
  gchar *key;
} KlingPromptCache;

/* The encoded @prompt / @negative: the cached one when they are unchanged,
 * else newly encoded, posting a warning when the model cuts it.  NULL
 * with @error set on failure.  Without the object lock. */
KlingGenPrompt *kling_prompt_cache_get (KlingPromptCache * cache,
    GstElement * element, KlingGenModel * gm, const gchar * prompt,
    const gchar * negative, GCancellable * cancellable, GError ** error);
void kling_prompt_cache_clear (KlingPromptCache * cache);

typedef struct
{
  guint steps;
  gdouble guidance;
  KlingSamplerType sampler;
} KlingSampling;

/* The properties' values with "use the model's" resolved: steps 0,
 * guidance below 0 and sampler AUTO take the model's recommendation. */
void kling_element_resolve_sampling (const KlingGenModel * gm, guint steps,
    gdouble guidance, GstKlingSampler sampler, KlingSampling * out);

G_END_DECLS

#endif
