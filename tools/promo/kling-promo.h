/* gst-kling: a product photo becomes a short vertical promo video
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_PROMO_H__
#define __KLING_PROMO_H__

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define KLING_PROMO_ERROR (kling_promo_error_quark ())
GQuark kling_promo_error_quark (void);

typedef enum
{
  KLING_PROMO_ERROR_OPTION,     /* an option out of range or malformed */
  KLING_PROMO_ERROR_INPUT,      /* the photo cannot be read or cut out */
  KLING_PROMO_ERROR_OUTPUT,     /* the output cannot be written */
  KLING_PROMO_ERROR_STAGE,      /* a stage's pipeline failed */
  KLING_PROMO_ERROR_CANCELLED
} KlingPromoError;

#define KLING_PROMO_MIN_DURATION 10.0
#define KLING_PROMO_MAX_DURATION 30.0
#define KLING_PROMO_DEFAULT_DURATION 15.0
#define KLING_PROMO_FPS 30
/* the end card (name, price) closes every promo */
#define KLING_PROMO_END_CARD_SECONDS 2.0
/* cross-fade between two shots */
#define KLING_PROMO_TRANSITION_SECONDS 0.5

typedef enum
{
  KLING_PROMO_LANG_ZH,
  KLING_PROMO_LANG_EN
} KlingPromoLang;

typedef struct
{
  gchar *input;                 /* the product photo */
  gchar *output;                /* the MP4 */
  gchar *mask;                  /* optional 8-bit mask, white: product */
  gchar *music;                 /* optional background music */
  gchar *hls_dir;               /* optional HLS output */
  gchar *name, *price;          /* the end card */
  gchar **styles;               /* one scene each */
  gchar **copy;                 /* copy lines given by the user, or NULL */
  KlingPromoLang lang;
  gint kind;                    /* KlingPromoKind index, -1: detect it */
  gchar *detect_model;          /* the detector for the kind, NULL: shipped */
  gdouble duration;             /* seconds */
  gint width, height;
  guint64 seed;
  gchar *video_model, *poster_model, *copy_model, *speech_model;
  gchar *dump_dir;              /* frames before encoding, PPM, for checks */
  gint threads;                 /* model threads, 0: one per core */
} KlingPromoOptions;

void kling_promo_options_init (KlingPromoOptions * options);
void kling_promo_options_clear (KlingPromoOptions * options);

/* --duration: seconds within [10, 30] */
gboolean kling_promo_parse_duration (const gchar * text, gdouble * duration,
    GError ** error);
/* --aspect 9:16|16:9|1:1: the long side stays 1920 */
gboolean kling_promo_parse_aspect (const gchar * text, gint * width,
    gint * height, GError ** error);
/* --size WxH (even, 64..3840) */
gboolean kling_promo_parse_size (const gchar * text, gint * width,
    gint * height, GError ** error);
/* --style a,b,c (ASCII or full-width commas): 1 to 8 non-empty styles */
gchar **kling_promo_parse_styles (const gchar * text, GError ** error);
/* the styles used when none is given and the kind is not known */
gchar **kling_promo_default_styles (KlingPromoLang lang);

/* Product kinds: the labels of the shipped detector and copywriter, in
 * their order (the copywriter's label index). */
#define KLING_PROMO_N_KINDS 6
const gchar *kling_promo_kind_name (gint kind);
/* the kind called @name, or -1 */
gint kling_promo_kind_from_name (const gchar * name);
/* the scenes that suit @kind (-1: kling_promo_default_styles) */
gchar **kling_promo_kind_styles (gint kind, KlingPromoLang lang);
/* the detector's confidence threshold when its manifest gives none */
#define KLING_PROMO_DETECT_THRESHOLD 0.35

typedef struct
{
  guint64 start;                /* first frame */
  guint64 frames;               /* frames of its own, before the fade */
} KlingPromoShot;

/* Splits @total_frames at @fps: @n_shots shots, then an end card of
 * @end_frames; shots overlap by @fade_frames.  Every frame is covered once:
 * the last frame of shot i + 1's fade-in is start(i+1) + fade - 1. */
gboolean kling_promo_plan_shots (guint64 total_frames, guint n_shots,
    guint64 end_frames, guint64 fade_frames, KlingPromoShot * shots,
    GError ** error);

typedef struct
{
  gchar *text;
  GstClockTime start, end;
} KlingPromoCue;

typedef struct
{
  const gchar *text;
  GstClockTime start, duration;
} KlingPromoWord;

/* Subtitle cues from spoken words: each copy line in @lines becomes one
 * cue, from its first word's start to its last word's end (words are
 * matched to lines in order, by their text).  A line none of whose words
 * was heard gets no cue.  Returns a GPtrArray of KlingPromoCue. */
GPtrArray *kling_promo_cues_from_words (gchar ** lines,
    const KlingPromoWord * words, guint n_words);
void kling_promo_cue_free (KlingPromoCue * cue);

typedef enum
{
  KLING_PROMO_STAGE_CUTOUT,
  KLING_PROMO_STAGE_COPY,
  KLING_PROMO_STAGE_VOICE,
  KLING_PROMO_STAGE_SHOTS,
  KLING_PROMO_STAGE_ENCODE,
  KLING_PROMO_N_STAGES
} KlingPromoStage;

const gchar *kling_promo_stage_name (KlingPromoStage stage);

/* @fraction: of the stage, 0..1; @overall: of the whole run, 0..1 */
typedef void (*KlingPromoProgress) (KlingPromoStage stage, gdouble fraction,
    gdouble overall, gpointer user_data);

/* Overall progress from a stage and its fraction (fixed weights). */
gdouble kling_promo_overall (KlingPromoStage stage, gdouble fraction);

/* What a run did, for the caller to show or check. */
typedef struct
{
  gchar **copy;                 /* the copy lines spoken and subtitled */
  gchar **styles;               /* the scenes, one per shot */
  guint n_cues;                 /* subtitle cues */
  gint product_x, product_y, product_w, product_h;           /* where the product stands, output pixels */
  /* the product kind used for the copy and the scenes (-1: none known),
   * where it came from, and the detector's best score (-1: not run) */
  gint kind;
  gboolean kind_detected;
  gdouble kind_score, kind_threshold;
  gchar *kind_note;             /* why no kind was detected, or NULL */
  /* seconds spent: generation (posters, klinggen), composition (the
   * shadow and the product put back over GES's frames; GES's own scaling
   * and fades run inside the pipeline, in the total), the whole run */
  gdouble generation_seconds, composition_seconds, total_seconds;
  /* --hls: seconds from the start to the first finished segment (-1: none)
   * and how many shots had been generated by then */
  gdouble first_segment_seconds;
  guint shots_at_first_segment, n_shots;
  /* the GES timeline, one line a clip: "layer 1: KlingFeedClip shot-3,
   * 5.000-8.000 s, alpha 0.06 at 5.000 s, 1.00 at 5.500 s, 1.00 at
   * 8.000 s" (its keyframes as GES holds them) */
  gchar **timeline;
} KlingPromoReport;

void kling_promo_report_clear (KlingPromoReport * report);

/* Makes the promo: writes @options->output (through a temporary file in the
 * same directory, renamed at the end: a failure leaves no file).  @report
 * may be NULL. */
gboolean kling_promo_run (const KlingPromoOptions * options,
    KlingPromoProgress progress, gpointer user_data,
    GCancellable * cancellable, KlingPromoReport * report, GError ** error);

G_END_DECLS

#endif
