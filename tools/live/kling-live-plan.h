/* gst-kling: gst-kling-live's pure parts: products, output, commands, the
 * copy and the voice queue (no GStreamer; GLib and json-glib only)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_LIVE_PLAN_H__
#define __KLING_LIVE_PLAN_H__

#include <glib.h>

G_BEGIN_DECLS

#define KLING_LIVE_ERROR (kling_live_error_quark ())
GQuark kling_live_error_quark (void);

typedef enum
{
  KLING_LIVE_ERROR_OPTION,      /* a bad option value */
  KLING_LIVE_ERROR_PRODUCTS,    /* the products file is unusable */
} KlingLiveError;

/* What a product is, for viewers' questions by kind ("the bottle", "那个杯子") */
typedef enum
{
  KLING_LIVE_KIND_NONE = -1,
  KLING_LIVE_KIND_BOTTLE,
  KLING_LIVE_KIND_CAN,
  KLING_LIVE_KIND_BOX,
  KLING_LIVE_KIND_CUP,
  KLING_LIVE_KIND_BAG,
  KLING_LIVE_KIND_SHOE,
  KLING_LIVE_N_KINDS
} KlingLiveKind;

const gchar *kling_live_kind_name (KlingLiveKind kind);
/* The kind a detector's label names ("bottle", "瓶", any case), or NONE */
KlingLiveKind kling_live_kind_from_label (const gchar * label);

typedef struct
{
  gchar *photo;                 /* path; relative ones resolved against the
                                 * products file's directory */
  gchar *name;
  gchar *price;                 /* or NULL */
  gchar *notes;                 /* or NULL */
  KlingLiveKind kind;           /* "kind" in the file, else guessed from name
                                 * and notes, else NONE */
  gchar **written;              /* the copywriter's lines about the photo,
                                 * or NULL: templated copy only */
} KlingLiveProduct;

void kling_live_product_free (KlingLiveProduct * product);

/* A JSON array of {"photo", "name", "price"?, "notes"?, "kind"?}.  Returns
 * a GPtrArray of KlingLiveProduct (owning them), at least one, or NULL
 * with @error (KLING_LIVE_ERROR_PRODUCTS) saying which entry is wrong. */
GPtrArray *kling_live_products_parse (const gchar * json, gssize length,
    const gchar * base_dir, GError ** error);
GPtrArray *kling_live_products_load (const gchar * path, GError ** error);

typedef enum
{
  KLING_LIVE_OUT_RTMP,          /* flvmux ! rtmp2sink */
  KLING_LIVE_OUT_SRT,           /* mpegtsmux ! srtsink */
  KLING_LIVE_OUT_FLV,           /* files */
  KLING_LIVE_OUT_TS,
  KLING_LIVE_OUT_MP4,
} KlingLiveOutput;

gboolean kling_live_parse_output (const gchar * where, KlingLiveOutput * kind,
    GError ** error);
gboolean kling_live_output_is_network (KlingLiveOutput kind);

typedef enum
{
  KLING_LIVE_CMD_NONE,          /* an empty line or a # comment */
  KLING_LIVE_CMD_NEXT,
  KLING_LIVE_CMD_PREV,
  KLING_LIVE_CMD_PAUSE,         /* toggles the rotation */
  KLING_LIVE_CMD_SAY,           /* text: what to say */
  KLING_LIVE_CMD_QUESTION,      /* product: the product asked about */
  KLING_LIVE_CMD_UNKNOWN,       /* a line naming no product */
} KlingLiveCommandType;

typedef struct
{
  KlingLiveCommandType type;
  gchar *text;                  /* SAY's text; UNKNOWN's line */
  gint product;                 /* QUESTION's product index */
} KlingLiveCommand;

void kling_live_command_clear (KlingLiveCommand * cmd);

/* One line of operator or viewer input.  Commands are the first word (any
 * case); any other line is a question, matched against the products by
 * name (the whole name, else a word of it) and then by kind, in English or
 * Chinese. */
void kling_live_command_parse (const gchar * line, GPtrArray * products,
    KlingLiveCommand * cmd);

/* The product a viewer's text is about: index, or -1 */
gint kling_live_match_product (GPtrArray * products, const gchar * text);

/* Whether the product's copy is Chinese (its name is), else English */
gboolean kling_live_product_is_chinese (const KlingLiveProduct * product);

/* Copy lines for a product: in Chinese when its name is, else English.
 * The name and price line first, then the copywriter's lines (@written)
 * and the notes' sentences taken in turn, then a call to order. */
gchar **kling_live_copy_lines (const KlingLiveProduct * product);

/* The camera's detections, for switching the show to the product shown to
 * it: a kind that is the best detection for KLING_LIVE_CAMERA_HOLD_US
 * becomes due once (until another kind, or none, has held as long). */
#define KLING_LIVE_CAMERA_HOLD_US (2 * 1000 * 1000)

typedef struct
{
  KlingLiveKind candidate, shown;
  gint64 since;
} KlingLiveCamera;

void kling_live_camera_init (KlingLiveCamera * camera);
/* The best detection's kind at @now (NONE: nothing, or no kind of ours).
 * Returns the kind to switch to, once, or NONE. */
KlingLiveKind kling_live_camera_seen (KlingLiveCamera * camera, gint64 now,
    KlingLiveKind kind);
/* The first product of @kind, or -1 */
gint kling_live_product_of_kind (GPtrArray * products, KlingLiveKind kind);

/* The lower third: "name  price" (and the line being spoken under it) */
gchar *kling_live_lower_third (const KlingLiveProduct * product,
    const gchar * line);

/* The voice queue: lines go to the speech engine one at a time, the next
 * only when the previous has been heard to its end (its audio loud, then
 * quiet for KLING_LIVE_VOICE_GAP_US), so copy never talks over itself.
 * Times are microseconds on any monotonic clock.  Not thread-safe. */
#define KLING_LIVE_VOICE_GAP_US (350 * 1000)
#define KLING_LIVE_VOICE_TIMEOUT_US (8 * 1000 * 1000)

typedef struct _KlingLiveVoice KlingLiveVoice;

typedef enum
{
  KLING_LIVE_VOICE_NOTHING,
  KLING_LIVE_VOICE_STARTED,     /* the line sent is being heard */
  KLING_LIVE_VOICE_FINISHED,    /* it ended (or never came: timeout) */
} KlingLiveVoiceEvent;

KlingLiveVoice *kling_live_voice_new (void);
void kling_live_voice_free (KlingLiveVoice * voice);
void kling_live_voice_push (KlingLiveVoice * voice, const gchar * line);
/* Puts @line first in the queue: said next, after the line in flight */
void kling_live_voice_push_front (KlingLiveVoice * voice, const gchar * line);
/* Drops the lines waiting; the one being spoken goes on to its end. */
void kling_live_voice_clear (KlingLiveVoice * voice);
/* Forgets everything, also the line in flight (a new pipeline). */
void kling_live_voice_reset (KlingLiveVoice * voice);
guint kling_live_voice_waiting (KlingLiveVoice * voice);
gboolean kling_live_voice_busy (KlingLiveVoice * voice);
/* The next line to send now (owned by the caller), or NULL: a line is in
 * flight or none waits. */
gchar *kling_live_voice_next (KlingLiveVoice * voice, gint64 now);
/* Audio heard at @now, loud or quiet: what happened to the line in flight */
KlingLiveVoiceEvent kling_live_voice_audio (KlingLiveVoice * voice,
    gint64 now, gboolean loud);
/* The line in flight, or NULL */
const gchar *kling_live_voice_current (KlingLiveVoice * voice);

G_END_DECLS

#endif
