/* gst-kling-serve: a generation request from an RTSP URL's query
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure GLib, unit-tested (tests/check/servecore.c).  The query is what
 * follows '?' in rtsp://HOST:PORT/generate?prompt=…&seed=…&duration=…
 * &size=WxH: percent-encoded UTF-8 ('+' is a space, as web forms send
 * it).  Anything wrong gives a reason fit for an RTSP status line.
 */
#ifndef __KLING_SERVE_QUERY_H__
#define __KLING_SERVE_QUERY_H__

#include <glib.h>

G_BEGIN_DECLS

#define KLING_SERVE_PROMPT_MAX_BYTES 1024
#define KLING_SERVE_DEFAULT_DURATION 4.0
#define KLING_SERVE_DEFAULT_SEED 0
#define KLING_SERVE_MIN_SIZE 16
#define KLING_SERVE_MAX_SIZE 1920
#define KLING_SERVE_QUERY_MAX_BYTES 8192

typedef struct
{
  gdouble max_duration;         /* seconds; a duration must be in (0, max] */
} KlingServeLimits;

typedef struct
{
  gchar *prompt;                /* valid UTF-8, no control characters */
  guint64 seed;
  gdouble duration;             /* seconds */
  gint width, height;           /* 0: the model's size */
} KlingServeRequest;

/* Parses @query (may be NULL: no prompt).  Returns NULL and sets @reason
 * (ASCII, no line breaks; free it) when the request is bad. */
KlingServeRequest *kling_serve_request_parse (const gchar * query,
    const KlingServeLimits * limits, gchar ** reason);
void kling_serve_request_free (KlingServeRequest * req);

/* The same string for the same clip however the query was written
 * (parameter order, encoding, defaults left out). */
gchar *kling_serve_request_key (const KlingServeRequest * req);

/* Decodes one percent-encoded component; NULL (and @reason) on a broken
 * escape, %00 or bytes that are not UTF-8. */
gchar *kling_serve_percent_decode (const gchar * text, gssize len,
    const gchar * what, gchar ** reason);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KlingServeRequest, kling_serve_request_free);

G_END_DECLS

#endif
