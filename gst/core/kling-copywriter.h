/* gst-kling: a copywriter model (encode + decoding loop) over the backend
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_COPYWRITER_H__
#define __KLING_COPYWRITER_H__

#include <gst/video/video.h>
#include "kling-backend.h"
#include "kling-detections.h"
#include "kling-manifest.h"
#include "kling-textgen.h"

G_BEGIN_DECLS

/* Longest line a copywriter may write, whatever its manifest says. */
#define KLING_COPYWRITER_MAX_TOKENS 512

typedef struct _KlingCopywriter KlingCopywriter;

/* Opens a `copywrite` package and checks that `encode` takes (image,
 * label) or (image, label, language). */
KlingCopywriter *kling_copywriter_load (const gchar * path,
    const KlingLoadOptions * options, GError ** error);
void kling_copywriter_free (KlingCopywriter * copywriter);

const KlingManifest *kling_copywriter_get_manifest (const KlingCopywriter *
    copywriter);

/* Writes one line about the product in @box of @frame: the crop goes to
 * `encode` with @label and @language, then the decoding loop calls
 * `decode_step` token by token (kling_textgen_run, seeded by @seed).
 * Returns valid, non-empty UTF-8, or NULL with @error:
 * KLING_TEXTGEN_ERROR_NO_TOKEN when the model's logits allowed no token
 * (NaN), a KLING_BACKEND_ERROR for a failed call or a wrong output. */
gchar *kling_copywriter_write (KlingCopywriter * copywriter,
    const GstVideoFrame * frame, const GstVideoRectangle * box, gint label,
    gint language, guint32 seed, GCancellable * cancellable,
    GError ** error);

/* Up to @n_lines different non-empty lines about the product in @box of a
 * still RGBA picture (@width x @height, rows packed), seeds @seed, @seed+1,
 * ... for at most 4 x @n_lines tries, fewer when three tries in a row
 * write nothing new (a greedy model writes the same line for every seed).
 * Returns a NULL-terminated array of at least one line, or NULL with
 * @error (a failed call, or every line empty:
 * KLING_TEXTGEN_ERROR_NO_TOKEN).  What gst-kling-promo and gst-kling-live
 * both write for a product photo. */
gchar **kling_copywriter_write_lines (KlingCopywriter * copywriter,
    const guint8 * rgba, gint width, gint height,
    const GstVideoRectangle * box, gint label, gint language, guint32 seed,
    guint n_lines, GCancellable * cancellable, GError ** error);

/* Which product gets copy: the best detection whose label has had none
 * for an interval of running time. */
typedef struct _KlingCopyPlan KlingCopyPlan;

KlingCopyPlan *kling_copy_plan_new (void);
void kling_copy_plan_free (KlingCopyPlan * plan);
void kling_copy_plan_reset (KlingCopyPlan * plan);
/* Index into @dets (best first) of the first whose label got no copy in
 * the @interval before @running_time, or -1.  An invalid @running_time
 * makes every label due. */
gint kling_copy_plan_pick (const KlingCopyPlan * plan,
    const KlingDetection * dets, guint n_dets, GstClockTime running_time,
    GstClockTime interval);
/* Records that @label got copy (or a try at it) at @running_time. */
void kling_copy_plan_mark (KlingCopyPlan * plan, gint label,
    GstClockTime running_time);

G_END_DECLS

#endif
