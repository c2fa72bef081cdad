/* gst-kling: gst-kling-live's pure parts (kling-live-plan.h)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <json-glib/json-glib.h>

#include "kling-live-plan.h"

GQuark
kling_live_error_quark (void)
{
  return g_quark_from_static_string ("kling-live-error-quark");
}

/* English words (whole words) and Chinese characters per kind.  "can"
 * alone is not there: "can you show me…" is not about a can. */
static const struct
{
  const gchar *name;
  const gchar *words[8];
  const gchar *zh[4];
} kinds[KLING_LIVE_N_KINDS] = {
  {"bottle", {"bottle", "bottles", "flask", NULL}, {"瓶", "壶", NULL}},
  {"can", {"cans", "tin", "tins", "soda", NULL}, {"罐", NULL}},
  {"box", {"box", "boxes", "carton", "package", NULL}, {"盒", "箱", NULL}},
  {"cup", {"cup", "cups", "mug", "mugs", "tumbler", NULL}, {"杯", NULL}},
  {"bag", {"bag", "bags", "handbag", "backpack", "tote", NULL},
      {"包", "袋", NULL}},
  {"shoe", {"shoe", "shoes", "sneaker", "sneakers", "boot", "boots", NULL},
      {"鞋", "靴", NULL}},
};

const gchar *
kling_live_kind_name (KlingLiveKind kind)
{
  if (kind < 0 || kind >= KLING_LIVE_N_KINDS)
    return "none";
  return kinds[kind].name;
}

void
kling_live_product_free (KlingLiveProduct * p)
{
  if (p == NULL)
    return;
  g_free (p->photo);
  g_free (p->name);
  g_free (p->price);
  g_free (p->notes);
  g_strfreev (p->written);
  g_free (p);
}

/* lower-cased ASCII words of @text (other bytes split them), NULL ended */
static gchar **
ascii_words (const gchar * text)
{
  GPtrArray *words = g_ptr_array_new ();
  const gchar *s = text, *start;

  while (*s) {
    while (*s && !g_ascii_isalnum (*s))
      s++;
    start = s;
    while (*s && g_ascii_isalnum (*s))
      s++;
    if (s > start)
      g_ptr_array_add (words, g_ascii_strdown (start, s - start));
  }
  g_ptr_array_add (words, NULL);
  return (gchar **) g_ptr_array_free (words, FALSE);
}

static gboolean
has_cjk (const gchar * text)
{
  const gchar *s;

  for (s = text; *s; s = g_utf8_next_char (s)) {
    gunichar c = g_utf8_get_char (s);
    if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf))
      return TRUE;
  }
  return FALSE;
}

/* the kind @text speaks of (the first in the table), or NONE */
static KlingLiveKind
kind_in (const gchar * text)
{
  gchar **words = ascii_words (text);
  gint k, found = KLING_LIVE_KIND_NONE;
  guint i, j;

  for (k = 0; k < KLING_LIVE_N_KINDS && found < 0; k++) {
    for (i = 0; kinds[k].zh[i] && found < 0; i++)
      if (strstr (text, kinds[k].zh[i]))
        found = k;
    for (i = 0; words[i] && found < 0; i++)
      for (j = 0; kinds[k].words[j]; j++)
        if (strcmp (words[i], kinds[k].words[j]) == 0)
          found = k;
  }
  g_strfreev (words);
  return found;
}

static KlingLiveKind kind_from_name (const gchar * name);

KlingLiveKind
kling_live_kind_from_label (const gchar * label)
{
  return label ? kind_from_name (label) : KLING_LIVE_KIND_NONE;
}

void
kling_live_camera_init (KlingLiveCamera * camera)
{
  camera->candidate = camera->shown = KLING_LIVE_KIND_NONE;
  camera->since = 0;
}

KlingLiveKind
kling_live_camera_seen (KlingLiveCamera * camera, gint64 now,
    KlingLiveKind kind)
{
  if (kind != camera->candidate) {
    camera->candidate = kind;
    camera->since = now;
    return KLING_LIVE_KIND_NONE;
  }
  if (now - camera->since < KLING_LIVE_CAMERA_HOLD_US
      || kind == camera->shown)
    return KLING_LIVE_KIND_NONE;
  /* held long enough: due once; NONE held as long forgets the last kind,
   * so the same product shown again switches again */
  camera->shown = kind;
  return kind;
}

gint
kling_live_product_of_kind (GPtrArray * products, KlingLiveKind kind)
{
  guint i;

  for (i = 0; kind != KLING_LIVE_KIND_NONE && i < products->len; i++)
    if (((KlingLiveProduct *) products->pdata[i])->kind == kind)
      return i;
  return -1;
}

static KlingLiveKind
kind_from_name (const gchar * name)
{
  gint k;
  guint j;

  for (k = 0; k < KLING_LIVE_N_KINDS; k++) {
    if (g_ascii_strcasecmp (name, kinds[k].name) == 0)
      return k;
    for (j = 0; kinds[k].zh[j]; j++)
      if (strcmp (name, kinds[k].zh[j]) == 0)
        return k;
  }
  return KLING_LIVE_KIND_NONE;
}

/* a string member, or NULL; FALSE when it is there but not a string */
static gboolean
get_string (JsonObject * o, const gchar * key, gchar ** out)
{
  JsonNode *n = json_object_get_member (o, key);

  *out = NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING) {
    const gchar *s = json_node_get_string (n);
    gchar *t = g_strstrip (g_strdup (s));
    if (*t == '\0')
      g_free (t);
    else
      *out = t;
    return TRUE;
  }
  return FALSE;
}

GPtrArray *
kling_live_products_parse (const gchar * json, gssize length,
    const gchar * base_dir, GError ** error)
{
  JsonParser *parser = json_parser_new ();
  GPtrArray *out = NULL;
  GError *err = NULL;
  JsonNode *root;
  JsonArray *arr;
  guint i, n;

  if (length < 0)
    length = strlen (json);
  if (!g_utf8_validate (json, length, NULL)) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
        "the products file is not UTF-8 text");
    goto done;
  }
  if (!json_parser_load_from_data (parser, json, length, &err)) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
        "the products file is not JSON: %s", err->message);
    g_clear_error (&err);
    goto done;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root)) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
        "the products file must be a JSON array of "
        "{\"photo\": …, \"name\": …, \"price\": …, \"notes\": …}");
    goto done;
  }
  arr = json_node_get_array (root);
  n = json_array_get_length (arr);
  if (n == 0) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
        "the products file lists no product");
    goto done;
  }
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      kling_live_product_free);
  for (i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element (arr, i);
    KlingLiveProduct *p;
    JsonObject *o;
    gchar *kind = NULL;

    if (!JSON_NODE_HOLDS_OBJECT (e)) {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
          "product %u is not a JSON object", i + 1);
      goto fail;
    }
    o = json_node_get_object (e);
    p = g_new0 (KlingLiveProduct, 1);
    g_ptr_array_add (out, p);
    if (!get_string (o, "photo", &p->photo) || !get_string (o, "name",
            &p->name) || !get_string (o, "notes", &p->notes)
        || !get_string (o, "kind", &kind)) {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
          "product %u: photo, name, notes and kind must be text", i + 1);
      g_free (kind);
      goto fail;
    }
    if (!get_string (o, "price", &p->price)) {
      /* a number for a price is common: take it as text */
      JsonNode *pr = json_object_get_member (o, "price");
      GType t = JSON_NODE_HOLDS_VALUE (pr) ?
          json_node_get_value_type (pr) : G_TYPE_INVALID;
      if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE) {
        p->price = g_strdup_printf ("%g", json_node_get_double (pr));
      } else {
        g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
            "product %u: price must be text or a number", i + 1);
        g_free (kind);
        goto fail;
      }
    }
    if (p->name == NULL || p->photo == NULL) {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
          "product %u has no %s", i + 1, p->name ? "photo" : "name");
      g_free (kind);
      goto fail;
    }
    if (base_dir && !g_path_is_absolute (p->photo)) {
      gchar *abs = g_build_filename (base_dir, p->photo, NULL);
      g_free (p->photo);
      p->photo = abs;
    }
    if (kind) {
      p->kind = kind_from_name (kind);
      if (p->kind == KLING_LIVE_KIND_NONE) {
        g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
            "product %u: kind \"%s\": use bottle, can, box, cup, bag or "
            "shoe", i + 1, kind);
        g_free (kind);
        goto fail;
      }
      g_free (kind);
    } else {
      p->kind = kind_in (p->name);
      if (p->kind == KLING_LIVE_KIND_NONE && p->notes)
        p->kind = kind_in (p->notes);
    }
  }
  goto done;

fail:
  g_clear_pointer (&out, g_ptr_array_unref);
done:
  g_object_unref (parser);
  return out;
}

GPtrArray *
kling_live_products_load (const gchar * path, GError ** error)
{
  gchar *text = NULL, *dir;
  gsize len = 0;
  GError *err = NULL;
  GPtrArray *out;

  if (!g_file_get_contents (path, &text, &len, &err)) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
        "--products %s: %s", path, err->message);
    g_clear_error (&err);
    return NULL;
  }
  dir = g_path_get_dirname (path);
  out = kling_live_products_parse (text, len, dir, &err);
  if (out == NULL) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_PRODUCTS,
        "--products %s: %s", path, err->message);
    g_clear_error (&err);
  }
  g_free (dir);
  g_free (text);
  return out;
}

gboolean
kling_live_parse_output (const gchar * where, KlingLiveOutput * kind,
    GError ** error)
{
  gchar *low;
  gboolean ok = TRUE;

  if (where == NULL || *where == '\0') {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "give -o rtmp://HOST/APP/STREAM, srt://HOST:PORT or a .flv, .ts "
        "or .mp4 file");
    return FALSE;
  }
  low = g_ascii_strdown (where, -1);
  if (g_str_has_prefix (low, "rtmp://") || g_str_has_prefix (low, "rtmps://")) {
    /* rtmp2sink wants rtmp://host[:port]/app/stream */
    const gchar *path = strchr (low + strlen ("rtmp://") + 1, '/');
    if (path == NULL || strchr (path + 1, '/') == NULL || path[1] == '/') {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
          "-o %s: an RTMP address is rtmp://HOST[:PORT]/APP/STREAM", where);
      ok = FALSE;
    }
    *kind = KLING_LIVE_OUT_RTMP;
  } else if (g_str_has_prefix (low, "srt://")) {
    if (strchr (low + 6, ':') == NULL) {
      g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
          "-o %s: an SRT address is srt://HOST:PORT", where);
      ok = FALSE;
    }
    *kind = KLING_LIVE_OUT_SRT;
  } else if (strstr (low, "://")) {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "-o %s: only rtmp:// and srt:// addresses (or a file)", where);
    ok = FALSE;
  } else if (g_str_has_suffix (low, ".flv")) {
    *kind = KLING_LIVE_OUT_FLV;
  } else if (g_str_has_suffix (low, ".ts")) {
    *kind = KLING_LIVE_OUT_TS;
  } else if (g_str_has_suffix (low, ".mp4")) {
    *kind = KLING_LIVE_OUT_MP4;
  } else {
    g_set_error (error, KLING_LIVE_ERROR, KLING_LIVE_ERROR_OPTION,
        "-o %s: a file must end in .flv, .ts or .mp4", where);
    ok = FALSE;
  }
  g_free (low);
  return ok;
}

gboolean
kling_live_output_is_network (KlingLiveOutput kind)
{
  return kind == KLING_LIVE_OUT_RTMP || kind == KLING_LIVE_OUT_SRT;
}

void
kling_live_command_clear (KlingLiveCommand * cmd)
{
  g_clear_pointer (&cmd->text, g_free);
  cmd->type = KLING_LIVE_CMD_NONE;
  cmd->product = -1;
}

/* how strongly @text names @p: 3 the whole name, 2 a word of it (ASCII, 3
 * letters or more) or two Chinese characters of it in a row, 1 its kind */
static gint
name_score (const KlingLiveProduct * p, const gchar * text,
    const gchar * folded, gchar ** words)
{
  gchar *name = g_utf8_casefold (p->name, -1);
  gchar **nw;
  gint score = 0;
  guint i, j;

  if (strstr (folded, name))
    score = 3;
  nw = ascii_words (name);
  for (i = 0; score < 2 && nw[i]; i++)
    for (j = 0; words[j]; j++)
      if (strlen (nw[i]) >= 3 && strcmp (nw[i], words[j]) == 0)
        score = 2;
  g_strfreev (nw);
  if (score < 2) {
    const gchar *s;
    for (s = name; *s && score < 2; s = g_utf8_next_char (s)) {
      const gchar *e = g_utf8_next_char (s);
      gchar *pair;
      if (*e == '\0')
        break;
      e = g_utf8_next_char (e);
      pair = g_strndup (s, e - s);
      if (has_cjk (pair) && g_utf8_strlen (pair, -1) == 2
          && strstr (folded, pair))
        score = 2;
      g_free (pair);
    }
  }
  if (score == 0 && p->kind != KLING_LIVE_KIND_NONE && kind_in (text)
      == p->kind)
    score = 1;
  g_free (name);
  return score;
}

gint
kling_live_match_product (GPtrArray * products, const gchar * text)
{
  gchar *folded = g_utf8_casefold (text, -1);
  gchar **words = ascii_words (folded);
  gint best = -1, best_score = 0;
  guint i;

  for (i = 0; products && i < products->len; i++) {
    gint s = name_score (g_ptr_array_index (products, i), folded, folded,
        words);
    if (s > best_score) {
      best_score = s;
      best = i;
    }
  }
  g_strfreev (words);
  g_free (folded);
  return best;
}

void
kling_live_command_parse (const gchar * line, GPtrArray * products,
    KlingLiveCommand * cmd)
{
  gchar *t = g_strstrip (g_strdup (line ? line : ""));
  gchar *word, *rest;

  cmd->type = KLING_LIVE_CMD_NONE;
  cmd->text = NULL;
  cmd->product = -1;
  if (*t == '\0' || *t == '#' || !g_utf8_validate (t, -1, NULL)) {
    if (*t && *t != '#') {
      cmd->type = KLING_LIVE_CMD_UNKNOWN;
      cmd->text = g_strdup ("(not UTF-8)");
    }
    g_free (t);
    return;
  }
  rest = t;
  while (*rest && !g_ascii_isspace (*rest))
    rest++;
  word = g_ascii_strdown (t, rest - t);
  while (g_ascii_isspace (*rest))
    rest++;
  if (strcmp (word, "next") == 0 && *rest == '\0')
    cmd->type = KLING_LIVE_CMD_NEXT;
  else if ((strcmp (word, "prev") == 0 || strcmp (word, "previous") == 0)
      && *rest == '\0')
    cmd->type = KLING_LIVE_CMD_PREV;
  else if (strcmp (word, "pause") == 0 && *rest == '\0')
    cmd->type = KLING_LIVE_CMD_PAUSE;
  else if (strcmp (word, "say") == 0 && *rest) {
    cmd->type = KLING_LIVE_CMD_SAY;
    cmd->text = g_strdup (rest);
  } else {
    cmd->product = kling_live_match_product (products, t);
    cmd->type = cmd->product >= 0 ? KLING_LIVE_CMD_QUESTION :
        KLING_LIVE_CMD_UNKNOWN;
    cmd->text = g_strdup (t);
  }
  g_free (word);
  g_free (t);
}

/* sentences of @notes: split after 。！？!?. and ； */
static void
add_sentences (GPtrArray * lines, const gchar * notes)
{
  const gchar *s = notes, *start = notes;

  while (*s) {
    gunichar c = g_utf8_get_char (s);
    s = g_utf8_next_char (s);
    if (c == 0x3002 || c == 0xff01 || c == 0xff1f || c == 0xff1b
        || c == '!' || c == '?' || c == ';' || (c == '.' && (*s == ' '
                || *s == '\0')) || *s == '\0') {
      gchar *l = g_strstrip (g_strndup (start, s - start));
      if (*l && g_utf8_strlen (l, -1) > 1)
        g_ptr_array_add (lines, l);
      else
        g_free (l);
      start = s;
    }
  }
}

gboolean
kling_live_product_is_chinese (const KlingLiveProduct * p)
{
  return has_cjk (p->name);
}

gchar **
kling_live_copy_lines (const KlingLiveProduct * p)
{
  GPtrArray *lines = g_ptr_array_new ();
  GPtrArray *notes = g_ptr_array_new_with_free_func (g_free);
  gboolean zh = has_cjk (p->name);
  guint n_written = p->written ? g_strv_length (p->written) : 0;
  guint i;

  if (zh)
    g_ptr_array_add (lines, p->price ?
        g_strdup_printf ("来看这款%s，现在只要%s！", p->name,
            p->price) : g_strdup_printf ("来看这款%s！", p->name));
  else
    g_ptr_array_add (lines, p->price ?
        g_strdup_printf ("Here is the %s, now only %s.", p->name, p->price) :
        g_strdup_printf ("Here is the %s.", p->name));
  if (p->notes)
    add_sentences (notes, p->notes);
  /* the copywriter's lines and the merchant's notes in turn, so neither
   * voice dominates a product's minute */
  for (i = 0; i < MAX (n_written, notes->len); i++) {
    if (i < n_written)
      g_ptr_array_add (lines, g_strdup (p->written[i]));
    if (i < notes->len)
      g_ptr_array_add (lines, g_strdup (notes->pdata[i]));
  }
  g_ptr_array_unref (notes);
  g_ptr_array_add (lines,
      g_strdup (zh ? "喜欢就点击下方链接下单吧！" :
          "Ask me anything about it, or tap the link to order."));
  g_ptr_array_add (lines, NULL);
  return (gchar **) g_ptr_array_free (lines, FALSE);
}

gchar *
kling_live_lower_third (const KlingLiveProduct * p, const gchar * line)
{
  GString *s = g_string_new (p->name);

  if (p->price)
    g_string_append_printf (s, "  %s", p->price);
  if (line && *line)
    g_string_append_printf (s, "\n%s", line);
  return g_string_free (s, FALSE);
}

typedef enum
{
  VOICE_IDLE,
  VOICE_SENT,                   /* sent, not heard yet */
  VOICE_SPEAKING,
} VoiceState;

struct _KlingLiveVoice
{
  GQueue lines;
  gchar *current;
  VoiceState state;
  gint64 sent, last_loud;
};

KlingLiveVoice *
kling_live_voice_new (void)
{
  KlingLiveVoice *v = g_new0 (KlingLiveVoice, 1);

  g_queue_init (&v->lines);
  return v;
}

void
kling_live_voice_free (KlingLiveVoice * v)
{
  if (v == NULL)
    return;
  kling_live_voice_reset (v);
  g_free (v);
}

void
kling_live_voice_push (KlingLiveVoice * v, const gchar * line)
{
  if (line && *line)
    g_queue_push_tail (&v->lines, g_strdup (line));
}

void
kling_live_voice_push_front (KlingLiveVoice * v, const gchar * line)
{
  if (line && *line)
    g_queue_push_head (&v->lines, g_strdup (line));
}

void
kling_live_voice_clear (KlingLiveVoice * v)
{
  g_queue_clear_full (&v->lines, g_free);
}

void
kling_live_voice_reset (KlingLiveVoice * v)
{
  kling_live_voice_clear (v);
  g_clear_pointer (&v->current, g_free);
  v->state = VOICE_IDLE;
}

guint
kling_live_voice_waiting (KlingLiveVoice * v)
{
  return g_queue_get_length (&v->lines);
}

gboolean
kling_live_voice_busy (KlingLiveVoice * v)
{
  return v->state != VOICE_IDLE;
}

const gchar *
kling_live_voice_current (KlingLiveVoice * v)
{
  return v->current;
}

static gboolean
timed_out (KlingLiveVoice * v, gint64 now)
{
  if (v->state == VOICE_SENT && now - v->sent >= KLING_LIVE_VOICE_TIMEOUT_US) {
    v->state = VOICE_IDLE;
    g_clear_pointer (&v->current, g_free);
    return TRUE;
  }
  return FALSE;
}

gchar *
kling_live_voice_next (KlingLiveVoice * v, gint64 now)
{
  timed_out (v, now);
  if (v->state != VOICE_IDLE || g_queue_is_empty (&v->lines))
    return NULL;
  g_free (v->current);
  v->current = g_queue_pop_head (&v->lines);
  v->state = VOICE_SENT;
  v->sent = now;
  return g_strdup (v->current);
}

KlingLiveVoiceEvent
kling_live_voice_audio (KlingLiveVoice * v, gint64 now, gboolean loud)
{
  switch (v->state) {
    case VOICE_IDLE:
      return KLING_LIVE_VOICE_NOTHING;
    case VOICE_SENT:
      if (loud) {
        v->state = VOICE_SPEAKING;
        v->last_loud = now;
        return KLING_LIVE_VOICE_STARTED;
      }
      return timed_out (v, now) ? KLING_LIVE_VOICE_FINISHED :
          KLING_LIVE_VOICE_NOTHING;
    case VOICE_SPEAKING:
      if (loud) {
        v->last_loud = now;
      } else if (now - v->last_loud >= KLING_LIVE_VOICE_GAP_US) {
        v->state = VOICE_IDLE;
        g_clear_pointer (&v->current, g_free);
        return KLING_LIVE_VOICE_FINISHED;
      }
      return KLING_LIVE_VOICE_NOTHING;
  }
  return KLING_LIVE_VOICE_NOTHING;
}
