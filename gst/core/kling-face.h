/* gst-kling: the face of a talking head: crop, model input, paste back
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Task `talking-head` (docs/models.md): the face box of a portrait is
 * resized to the model's face size; the model takes it with its lower part
 * masked, stacked with a reference crop ([6, H, W], RGB in [0, 1]), and
 * returns the face ([3, H, W]).  The result is resized back into the box
 * and blended in with a feathered seam; pixels outside the box are never
 * written, so they stay bit-exact.
 */
#ifndef __KLING_FACE_H__
#define __KLING_FACE_H__

#include <gst/gst.h>
#include <gst/video/video.h>

#include "kling-manifest.h"
#include "kling-mel.h"

G_BEGIN_DECLS
/* The formats kling-face works on: 8 bits per component. */
#define KLING_FACE_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, " \
    "BGRA, ARGB, ABGR, I420, NV12 }"
/* What a `talking-head` manifest says, its defaults filled in. */
    typedef struct
{
  KlingMelParams mel;
  gint face_width, face_height; /* the model's face size */
  gdouble mask;                 /* rows from mask × height down are masked */
  gboolean has_box;
  gdouble box[4];               /* default box: x, y, w, h, fractions */
  gint batch;                   /* frames per call */
} KlingHeadSpec;

/* Reads a manifest that kling_manifest_check_task (…"talking-head"…)
 * accepted. */
void kling_head_spec_from_manifest (KlingHeadSpec * spec,
    const KlingManifest * manifest);

typedef struct
{
  gint x, y, width, height;
} KlingFaceBox;

/* "x,y,width,height" in pixels (spaces allowed); FALSE if malformed or
 * width/height not above 0.  The empty string is no box (FALSE). */
gboolean kling_face_box_parse (const gchar * text, KlingFaceBox * box);

/* The box @fractions (x, y, w, h of the frame) of a @width x @height
 * frame, rounded to pixels. */
void kling_face_box_from_fractions (const gdouble * fractions, gint width,
    gint height, KlingFaceBox * box);

/* The face box of portrait @buffer (@width x @height): @box_prop when not
 * NULL, else the buffer's `face` region-of-interest meta (a face detector
 * upstream attaches one), else @spec's default; FALSE when none. */
gboolean kling_face_box_choose (const KlingHeadSpec * spec,
    GstBuffer * buffer, gint width, gint height,
    const KlingFaceBox * box_prop, KlingFaceBox * box);

typedef struct _KlingFace KlingFace;

/* For portraits laid out as @portrait (one of KLING_FACE_FORMATS), the
 * box @box (clipped to the frame and aligned to the format's chroma
 * subsampling), a model face of @face_width x @face_height with rows from
 * @mask of the height masked, a seam @feather pixels wide (< 0: an eighth
 * of the box's smaller side).  NULL with @error when the format is not
 * one kling-face handles or the box leaves less than 2x2 pixels. */
KlingFace *kling_face_new (const GstVideoInfo * portrait,
    const KlingFaceBox * box, gint face_width, gint face_height,
    gdouble mask, gint feather, GError ** error);
void kling_face_free (KlingFace * face);
/* The box as used (clipped and aligned). */
const KlingFaceBox *kling_face_get_box (const KlingFace * face);

/* The box of @portrait resized to the face size: [3, H, W] RGB in [0, 1],
 * planar. */
gboolean kling_face_crop (KlingFace * face, GstBuffer * portrait, gfloat * chw);

/* The model input [6, H, W]: @crop with its masked rows zero, then @ref. */
void kling_face_make_input (const KlingFace * face, const gfloat * crop,
    const gfloat * ref, gfloat * out);

/* Blends the generated face @gen ([3, H, W] RGB, values clamped to
 * [0, 1]) into @frame, which holds the portrait (same layout), inside the
 * box only. */
gboolean kling_face_paste (KlingFace * face, const gfloat * gen,
    GstBuffer * frame);

G_END_DECLS
#endif
