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
#include "kling-head.h"

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


/* --- the properties every generating element has ---------------------- */

/* Their values, under the element's object lock. */
typedef struct
{
  gchar *prompt, *negative_prompt;
  guint64 seed;
  guint steps;
  gdouble guidance;
  GstKlingSampler sampler;
  gchar *model_path, *device;
  gint threads;
} KlingGenProps;

/* Their property ids: an element's own ids start at KLING_GEN_PROP_LAST. */
enum
{
  KLING_GEN_PROP_PROMPT = 1,
  KLING_GEN_PROP_NEGATIVE_PROMPT,
  KLING_GEN_PROP_SEED,
  KLING_GEN_PROP_STEPS,
  KLING_GEN_PROP_GUIDANCE_SCALE,
  KLING_GEN_PROP_SAMPLER,
  KLING_GEN_PROP_MODEL,
  KLING_GEN_PROP_DEVICE,
  KLING_GEN_PROP_THREADS,
  KLING_GEN_PROP_LAST
};

/* What differs between the elements: the blurbs that name what they make,
 * the default prompt, and whether the seed may change while playing. */
typedef struct
{
  const gchar *default_prompt;
  const gchar *prompt_blurb;
  const gchar *negative_prompt_blurb;
  const gchar *seed_blurb;
  GParamFlags seed_mutable;     /* GST_PARAM_MUTABLE_READY or _PLAYING */
  const gchar *sampler_blurb;
  const gchar *model_blurb;
} KlingGenPropsInfo;

void kling_gen_props_install (GObjectClass * klass,
    const KlingGenPropsInfo * info);
void kling_gen_props_init (KlingGenProps * props,
    const KlingGenPropsInfo * info);
void kling_gen_props_clear (KlingGenProps * props);
/* With the object lock held; FALSE when @prop_id is not one of these. */
gboolean kling_gen_props_set (KlingGenProps * props, GstElement * element,
    guint prop_id, const GValue * value, GParamSpec * pspec);
gboolean kling_gen_props_get (const KlingGenProps * props, guint prop_id,
    GValue * value, GParamSpec * pspec);


/* --- properties -------------------------------------------------------- */

/* A property kept in a member of an element's struct: its id and the
 * member's offset (G_STRUCT_OFFSET); its type is the GParamSpec's:
 * string (gchar *), boolean, int, uint, uint64, float, double, enum
 * (an enum member) or fraction (gint[2]: numerator, denominator). */
typedef struct
{
  guint prop_id;
  gsize offset;
} KlingField;

/* Sets the member of @base that @fields gives @prop_id: a string is
 * replaced; a set-up property (GST_PARAM_MUTABLE_READY) changes only when
 * kling_element_setup_mutable allows.  With the object lock held; FALSE
 * when @prop_id is not among the @n_fields. */
gboolean kling_fields_set (GstElement * element, gpointer base,
    const KlingField * fields, guint n_fields, guint prop_id,
    const GValue * value, GParamSpec * pspec);
/* The member's value into @value.  With the object lock held; FALSE when
 * @prop_id is not among the @n_fields. */
gboolean kling_fields_get (gconstpointer base, const KlingField * fields,
    guint n_fields, guint prop_id, GValue * value, GParamSpec * pspec);

/* An element's whole set_property / get_property when all its
 * properties are @fields: under the object lock taken here; an unknown
 * @prop_id is warned about. */
void kling_fields_set_property (GstElement * element, gpointer base,
    const KlingField * fields, guint n_fields, guint prop_id,
    const GValue * value, GParamSpec * pspec);
void kling_fields_get_property (GstElement * element, gconstpointer base,
    const KlingField * fields, guint n_fields, guint prop_id,
    GValue * value, GParamSpec * pspec);

/* An element's whole set_property / get_property: the generation
 * properties in @props, then the element's own @fields (kling_fields_set),
 * under the object lock taken here; an unknown @prop_id is warned about. */
void kling_gen_props_set_property (GstElement * element,
    KlingGenProps * props, gpointer base, const KlingField * fields,
    guint n_fields, guint prop_id, const GValue * value, GParamSpec * pspec);
void kling_gen_props_get_property (GstElement * element,
    const KlingGenProps * props, gconstpointer base,
    const KlingField * fields, guint n_fields, guint prop_id,
    GValue * value, GParamSpec * pspec);

/* The `device` and `threads` properties every model-backed element has,
 * as @prop_device and @prop_threads; @device_blurb says what runs there. */
void kling_element_install_device_threads (GObjectClass * klass,
    guint prop_device, guint prop_threads, const gchar * device_blurb);

/* An optional model's file: NULL for "none" or "" (switched off), the
 * path for any other @path, and for NULL the installed @default_file or
 * NULL when it is missing (*@is_default TRUE: no error, the element goes
 * on without).  Stats files: call it WITHOUT the object lock. */
gchar *kling_element_find_optional_model (const gchar * path,
    const gchar * default_file, gboolean * is_default);

/* --- pads ---------------------------------------------------------------- */

/* A request pad from @templ named @name, kept in *@slot (read under the
 * object lock by other threads), with @data as its element_private; NULL
 * when *@slot already holds one. */
GstPad *kling_element_request_single_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, GstPad ** slot,
    GstPadChainFunction chain, GstPadEventFunction event, gpointer data);
/* Releases @pad when *@slot holds it: FALSE otherwise. */
gboolean kling_element_release_single_pad (GstElement * element,
    GstPad * pad, GstPad ** slot);
/* Whether *@slot holds a linked pad, read under the object lock. */
gboolean kling_element_pad_is_linked (GstElement * element, GstPad ** slot);

/* The internal links of a pass-through element: @pad's partner among
 * @sinkpad and @srcpad, NULL for its other pads. */
GstIterator *kling_element_iterate_partner (GstPad * pad, GstPad * sinkpad,
    GstPad * srcpad);

/* A LATENCY query on a source pad: upstream's (asked through @sinkpad)
 * with @ours added; FALSE when upstream does not answer. */
gboolean kling_element_query_latency (GstPad * sinkpad, GstQuery * query,
    GstClockTime ours);
/* The same for an element whose frames wait on the clock when @live: it
 * answers also without upstream (@ours alone), and live when @live or
 * upstream is.  *@upstream_min: upstream's minimum (0 without an answer),
 * which those waits must add: what comes through @sinkpad is that late. */
void kling_element_query_clocked_latency (GstPad * sinkpad, GstQuery * query,
    GstClockTime ours, gboolean live, GstClockTime * upstream_min);

/* @caps (taken) intersected with @filter (may be NULL), @filter's order
 * first. */
GstCaps *kling_element_filter_caps (GstCaps * caps, GstCaps * filter);

/* @caps (taken) fixed to @width x @height at @fps_n/@fps_d with square
 * pixels, intersected with @filter (may be NULL). */
GstCaps *kling_element_sized_caps (GstCaps * caps, gint width, gint height,
    gint fps_n, gint fps_d, GstCaps * filter);

/* The text of a text/x-raw, format=utf8 buffer (taken), stripped; NULL
 * after posting an error naming @pad_name when it cannot be mapped or is
 * not UTF-8 (*@ret then GST_FLOW_ERROR, else GST_FLOW_OK). */
gchar *kling_element_buffer_text (GstElement * element, GstBuffer * buf,
    const gchar * pad_name, GstFlowReturn * ret);

/* Timestamps of an output buffer: @pts, no DTS, @duration, offsets
 * @offset to @offset + 1. */
void kling_element_stamp (GstBuffer * buf, GstClockTime pts,
    GstClockTime duration, guint64 offset);

/* --- the clock --------------------------------------------------------- */

/* The running time now, or GST_CLOCK_TIME_NONE without a clock. */
GstClockTime kling_element_running_time_now (GstElement * element);

/* A live source's wait on the clock, which unlock() cuts short. */
typedef struct
{
  GMutex lock;
  gboolean flushing;
  GstClockID id;
} KlingClockWait;

void kling_clock_wait_init (KlingClockWait * wait);
void kling_clock_wait_clear (KlingClockWait * wait);
/* Waits until running time @running_time of @element (at once without a
 * clock); FALSE when flushing or unscheduled. */
gboolean kling_clock_wait_until (KlingClockWait * wait, GstElement * element,
    GstClockTime running_time);
/* Flushing on (the wait under way returns FALSE) or off. */
void kling_clock_wait_set_flushing (KlingClockWait * wait,
    gboolean flushing);
/* Cuts the wait under way short (it returns FALSE), flushing or not. */
void kling_clock_wait_unschedule (KlingClockWait * wait);

/* --- product photos ---------------------------------------------------- */

/* The product of a packed RGB(A) @frame: by @mask (GRAY8 of the same size,
 * 255 = product) when given, else by the frame's alpha, else by its plain
 * background within @tolerance.  NULL with @error set when none is found
 * or the mask does not fit. */
KlingCutout *kling_element_cutout (const GstVideoFrame * frame,
    const GstVideoFrame * mask, gint tolerance, GError ** error);

G_END_DECLS

G_BEGIN_DECLS

/* --- a sink pad that takes a still: an image, a mask ------------------ */

/* Its caps, its latest buffer and its EOS, under its own lock: the
 * streaming thread of the pad writes, another thread waits. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GstVideoInfo info;
  gboolean have_info;
  GstBuffer *buffer;
  gboolean eos;
} KlingStillPad;

/* A request pad (kling_element_request_single_pad) whose events go to
 * @still (kling_still_pad_event) and whose buffers to @chain. */
GstPad *kling_still_pad_request (KlingStillPad * still, GstElement * element,
    GstPadTemplate * templ, const gchar * name, GstPad ** slot,
    GstPadChainFunction chain);
void kling_still_pad_init (KlingStillPad * still);
void kling_still_pad_clear (KlingStillPad * still);
/* Forgets buffer, caps and EOS (a new run). */
void kling_still_pad_reset (KlingStillPad * still);
/* @pad's event: CAPS (FALSE if not video caps) and EOS are kept; the
 * event is taken. */
gboolean kling_still_pad_event (KlingStillPad * still, GstPad * pad,
    GstEvent * event);
/* Its caps (FALSE before any) and whether it holds a buffer. */
gboolean kling_still_pad_get_info (KlingStillPad * still,
    GstVideoInfo * info, gboolean * have_buffer);
/* Keeps @buffer (a ref is taken) as the latest still; wakes the waiter. */
void kling_still_pad_set_buffer (KlingStillPad * still, GstBuffer * buffer);
/* Waits for a still, EOS or @cancellable; the still (a ref) with its caps,
 * or NULL. */
GstBuffer *kling_still_pad_wait (KlingStillPad * still,
    GCancellable * cancellable, GstVideoInfo * info);
/* Wakes a waiter to look at its cancellable. */
void kling_still_pad_wake (KlingStillPad * still);

G_END_DECLS


G_BEGIN_DECLS

/* --- a sink pad that takes a short loop of frames: a host at rest ----- */

/* A still pad (its lock, caps and EOS; the first caps are kept) with up
 * to @max_frames buffers: the pad's streaming thread writes, another
 * thread waits. */
typedef struct
{
  KlingStillPad still;
  GPtrArray *frames;
  guint max_frames;
  const gchar *what;
  gboolean warned;
} KlingLoopPad;

/* @what names the frames in the warning ("portrait"). */
void kling_loop_pad_init (KlingLoopPad * loop, guint max_frames,
    const gchar * what);
void kling_loop_pad_clear (KlingLoopPad * loop);
/* Forgets frames, caps and EOS (a new run). */
void kling_loop_pad_reset (KlingLoopPad * loop);
/* @pad's event (taken): the first CAPS (FALSE if not video caps; a
 * change is warned about on @pad and ignored) and EOS are kept. */
gboolean kling_loop_pad_event (KlingLoopPad * loop, GstPad * pad,
    GstEvent * event);
/* Keeps @buf (taken) while the loop has room; past that, posts one
 * warning on @element's bus that the frames after max_frames are not
 * used. */
GstFlowReturn kling_loop_pad_chain (KlingLoopPad * loop, GstElement * element,
    GstBuffer * buf);
/* Waits for the first frame, then with @whole for the rest (EOS or
 * max_frames), until @cancellable is cancelled (kling_loop_pad_wake it).
 * The frames so far (0: none came), their caps into @info. */
guint kling_loop_pad_wait (KlingLoopPad * loop, gboolean whole,
    GCancellable * cancellable, GstVideoInfo * info);
/* The frames so far, and frame @index (a ref). */
guint kling_loop_pad_n_frames (KlingLoopPad * loop);
GstBuffer *kling_loop_pad_get (KlingLoopPad * loop, guint index);
/* A waiter is woken with kling_still_pad_wake (&loop->still). */
/* The loop's frames as the portraits of a KlingHead, user_data the
 * KlingLoopPad: the head crops each as it first needs it, also while the
 * loop is still coming. */
extern const KlingHeadSource kling_loop_pad_head_source;

G_END_DECLS

#endif
