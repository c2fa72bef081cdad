/* gst-kling-serve: a generation request from an RTSP URL's query
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <math.h>
#include "kling-serve-query.h"

/* " \"name\"" when @name is safe to quote in a status line, else "". */
static gchar *
quote_name (const gchar * name, gsize len)
{
  gsize i;

  if (len == 0 || len > 32)
    return g_strdup ("");
  for (i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '_' && name[i] != '-')
      return g_strdup ("");
  return g_strdup_printf (" \"%.*s\"", (int) len, name);
}

gchar *
kling_serve_percent_decode (const gchar * text, gssize len,
    const gchar * what, gchar ** reason)
{
  GString *out;
  gsize i, n = len < 0 ? strlen (text) : (gsize) len;
  const gchar *end;

  out = g_string_sized_new (n);
  for (i = 0; i < n; i++) {
    gchar c = text[i];

    if (c == '+') {
      g_string_append_c (out, ' ');
    } else if (c == '%') {
      gint hi, lo;

      if (i + 2 >= n || (hi = g_ascii_xdigit_value (text[i + 1])) < 0
          || (lo = g_ascii_xdigit_value (text[i + 2])) < 0) {
        *reason = g_strdup_printf ("broken percent-encoding in %s: '%%' "
            "must be followed by two hex digits", what);
        g_string_free (out, TRUE);
        return NULL;
      }
      if (hi == 0 && lo == 0) {
        *reason = g_strdup_printf ("%s contains %%00 (a NUL byte)", what);
        g_string_free (out, TRUE);
        return NULL;
      }
      g_string_append_c (out, (gchar) (hi << 4 | lo));
      i += 2;
    } else {
      g_string_append_c (out, c);
    }
  }
  if (!g_utf8_validate (out->str, out->len, &end)) {
    *reason = g_strdup_printf ("%s is not valid UTF-8 (byte %" G_GSIZE_FORMAT
        " after decoding)", what, (gsize) (end - out->str));
    g_string_free (out, TRUE);
    return NULL;
  }
  return g_string_free (out, FALSE);
}

static gboolean
parse_u64 (const gchar * s, guint64 * v)
{
  gchar *end;

  if (*s == '\0' || !g_ascii_isdigit (*s) || strlen (s) > 20)
    return FALSE;
  errno = 0;
  *v = g_ascii_strtoull (s, &end, 10);
  return errno == 0 && *end == '\0';
}

static gboolean
parse_double (const gchar * s, gdouble * v)
{
  gchar *end;

  if (*s == '\0' || strlen (s) > 32)
    return FALSE;
  errno = 0;
  *v = g_ascii_strtod (s, &end);
  return errno == 0 && *end == '\0' && isfinite (*v);
}

static gboolean
parse_size (const gchar * s, gint * w, gint * h)
{
  gchar **parts = g_strsplit (s, "x", -1);
  guint64 a, b;
  gboolean ok = g_strv_length (parts) == 2 && parse_u64 (parts[0], &a)
      && parse_u64 (parts[1], &b) && a <= G_MAXINT && b <= G_MAXINT;

  g_strfreev (parts);
  if (ok) {
    *w = (gint) a;
    *h = (gint) b;
  }
  return ok;
}

static gboolean
has_control (const gchar * s)
{
  for (; *s; s = g_utf8_next_char (s)) {
    gunichar c = g_utf8_get_char (s);

    if (g_unichar_iscntrl (c))
      return TRUE;
  }
  return FALSE;
}

KlingServeRequest *
kling_serve_request_parse (const gchar * query,
    const KlingServeLimits * limits, gchar ** reason)
{
  g_autoptr (KlingServeRequest) req = g_new0 (KlingServeRequest, 1);
  gboolean have_seed = FALSE, have_duration = FALSE, have_size = FALSE;
  const gchar *p = query ? query : "";
  gchar *value = NULL;

  g_return_val_if_fail (reason != NULL && *reason == NULL, NULL);

  req->seed = KLING_SERVE_DEFAULT_SEED;
  req->duration = KLING_SERVE_DEFAULT_DURATION;
  if (strlen (p) > KLING_SERVE_QUERY_MAX_BYTES) {
    *reason = g_strdup_printf ("the query is longer than %d bytes",
        KLING_SERVE_QUERY_MAX_BYTES);
    return NULL;
  }

  while (*p) {
    const gchar *amp = strchr (p, '&'), *eq;
    gsize len = amp ? (gsize) (amp - p) : strlen (p), name_len;
    gchar *name;

    if (len == 0) {
      /* "a=1&&b=2", a trailing '&': nothing there */
      p += 1;
      continue;
    }
    eq = memchr (p, '=', len);
    name_len = eq ? (gsize) (eq - p) : len;
    name = kling_serve_percent_decode (p, name_len, "a parameter name", reason);
    if (name == NULL)
      return NULL;
    if (eq == NULL) {
      gchar *q = quote_name (name, strlen (name));

      *reason =
          g_strdup_printf ("a parameter%s has no value (write name=value)", q);
      g_free (q);
      g_free (name);
      return NULL;
    }
#define DECODE_VALUE(what) \
    value = kling_serve_percent_decode (eq + 1, len - name_len - 1, what, \
        reason); \
    if (value == NULL) { g_free (name); return NULL; }

    if (strcmp (name, "prompt") == 0) {
      if (req->prompt) {
        *reason = g_strdup ("\"prompt\" is given twice");
        g_free (name);
        return NULL;
      }
      DECODE_VALUE ("the prompt");
      g_strstrip (value);
      req->prompt = value;
      value = NULL;
    } else if (strcmp (name, "seed") == 0) {
      DECODE_VALUE ("the seed");
      if (have_seed || !parse_u64 (value, &req->seed)) {
        *reason = g_strdup (have_seed ? "\"seed\" is given twice" :
            "\"seed\" must be a whole number from 0 to 18446744073709551615");
        goto fail;
      }
      have_seed = TRUE;
    } else if (strcmp (name, "duration") == 0) {
      DECODE_VALUE ("the duration");
      if (have_duration || !parse_double (value, &req->duration)) {
        *reason = g_strdup (have_duration ? "\"duration\" is given twice" :
            "\"duration\" must be a number of seconds");
        goto fail;
      }
      if (req->duration <= 0 || req->duration > limits->max_duration) {
        *reason = g_strdup_printf ("\"duration\" is out of range: it must "
            "be more than 0 and at most %g seconds", limits->max_duration);
        goto fail;
      }
      have_duration = TRUE;
    } else if (strcmp (name, "size") == 0) {
      DECODE_VALUE ("the size");
      if (have_size || !parse_size (value, &req->width, &req->height)) {
        *reason = g_strdup (have_size ? "\"size\" is given twice" :
            "\"size\" must be WIDTHxHEIGHT, e.g. 320x240");
        goto fail;
      }
      if (req->width < KLING_SERVE_MIN_SIZE || req->width > KLING_SERVE_MAX_SIZE
          || req->height < KLING_SERVE_MIN_SIZE
          || req->height > KLING_SERVE_MAX_SIZE || req->width % 2
          || req->height % 2) {
        *reason = g_strdup_printf ("\"size\" is out of range: width and "
            "height must be even, from %d to %d", KLING_SERVE_MIN_SIZE,
            KLING_SERVE_MAX_SIZE);
        goto fail;
      }
      have_size = TRUE;
    } else {
      gchar *q = quote_name (name, strlen (name));

      *reason = g_strdup_printf ("unknown parameter%s: the parameters are "
          "prompt, seed, duration and size", q);
      g_free (q);
      g_free (name);
      return NULL;
    }
#undef DECODE_VALUE
    g_clear_pointer (&value, g_free);
    g_free (name);
    p += len;
    if (*p == '&')
      p++;
    continue;

  fail:
    g_free (value);
    g_free (name);
    return NULL;
  }

  if (req->prompt == NULL || *req->prompt == '\0') {
    *reason = g_strdup ("no prompt: add prompt=... (percent-encoded UTF-8)");
    return NULL;
  }
  if (strlen (req->prompt) > KLING_SERVE_PROMPT_MAX_BYTES) {
    *reason = g_strdup_printf ("the prompt is longer than %d bytes",
        KLING_SERVE_PROMPT_MAX_BYTES);
    return NULL;
  }
  if (has_control (req->prompt)) {
    *reason = g_strdup ("the prompt contains control characters");
    return NULL;
  }
  return g_steal_pointer (&req);
}

void
kling_serve_request_free (KlingServeRequest * req)
{
  if (req == NULL)
    return;
  g_free (req->prompt);
  g_free (req);
}

gchar *
kling_serve_request_key (const KlingServeRequest * req)
{
  gchar dur[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_dtostr (dur, sizeof (dur), req->duration);
  return g_strdup_printf ("seed=%" G_GUINT64_FORMAT "&duration=%s&size=%dx%d"
      "&prompt=%s", req->seed, dur, req->width, req->height, req->prompt);
}
