/* gst-kling: the pure parts of gst-kling-promo (options, plan, cues)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "kling-promo.h"

G_DEFINE_QUARK (kling - promo - error - quark, kling_promo_error);

void
kling_promo_options_init (KlingPromoOptions * o)
{
  memset (o, 0, sizeof (*o));
  o->lang = KLING_PROMO_LANG_ZH;
  o->kind = -1;
  o->duration = KLING_PROMO_DEFAULT_DURATION;
  o->width = 1080;
  o->height = 1920;
}

void
kling_promo_options_clear (KlingPromoOptions * o)
{
  g_free (o->input);
  g_free (o->output);
  g_free (o->mask);
  g_free (o->music);
  g_free (o->hls_dir);
  g_free (o->name);
  g_free (o->price);
  g_strfreev (o->styles);
  g_strfreev (o->copy);
  g_free (o->video_model);
  g_free (o->poster_model);
  g_free (o->copy_model);
  g_free (o->speech_model);
  g_free (o->dump_dir);
  g_free (o->detect_model);
  kling_promo_options_init (o);
}

gboolean
kling_promo_parse_duration (const gchar * text, gdouble * duration,
    GError ** error)
{
  gchar *end = NULL;
  gdouble d;

  if (text == NULL || *text == '\0')
    goto bad;
  d = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || d != d)
    goto bad;
  if (d < KLING_PROMO_MIN_DURATION || d > KLING_PROMO_MAX_DURATION) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
        "--duration %s is out of range: a promo lasts %g to %g seconds",
        text, KLING_PROMO_MIN_DURATION, KLING_PROMO_MAX_DURATION);
    return FALSE;
  }
  *duration = d;
  return TRUE;

bad:
  g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
      "--duration '%s' is not a number of seconds (e.g. --duration 15)",
      text ? text : "");
  return FALSE;
}

gboolean
kling_promo_parse_aspect (const gchar * text, gint * width, gint * height,
    GError ** error)
{
  if (g_strcmp0 (text, "9:16") == 0) {
    *width = 1080;
    *height = 1920;
  } else if (g_strcmp0 (text, "16:9") == 0) {
    *width = 1920;
    *height = 1080;
  } else if (g_strcmp0 (text, "1:1") == 0) {
    *width = 1080;
    *height = 1080;
  } else {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
        "--aspect '%s' is not supported: use 9:16 (1080x1920), 16:9 "
        "(1920x1080) or 1:1 (1080x1080)", text ? text : "");
    return FALSE;
  }
  return TRUE;
}

gboolean
kling_promo_parse_size (const gchar * text, gint * width, gint * height,
    GError ** error)
{
  gchar *end = NULL;
  gint64 w, h;

  if (text == NULL)
    goto bad;
  w = g_ascii_strtoll (text, &end, 10);
  if (end == text || (*end != 'x' && *end != 'X'))
    goto bad;
  text = end + 1;
  h = g_ascii_strtoll (text, &end, 10);
  if (end == text || *end != '\0')
    goto bad;
  if (w < 64 || h < 64 || w > 3840 || h > 3840 || w % 2 || h % 2) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
        "--size %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " is not possible: "
        "width and height must be even and within 64..3840", w, h);
    return FALSE;
  }
  *width = (gint) w;
  *height = (gint) h;
  return TRUE;

bad:
  g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
      "--size must be WIDTHxHEIGHT, e.g. --size 540x960");
  return FALSE;
}

gchar **
kling_promo_parse_styles (const gchar * text, GError ** error)
{
  GPtrArray *out = g_ptr_array_new ();
  gchar *norm, **parts;
  guint i;

  if (text == NULL)
    text = "";
  /* full-width and ideographic commas separate too */
  norm = g_strdup (text);
  {
    GString *s = g_string_new (norm);
    g_string_replace (s, "，", ",", 0);
    g_string_replace (s, "、", ",", 0);
    g_free (norm);
    norm = g_string_free (s, FALSE);
  }
  parts = g_strsplit (norm, ",", -1);
  g_free (norm);
  for (i = 0; parts[i]; i++) {
    gchar *p = g_strstrip (parts[i]);
    if (*p == '\0')
      continue;
    if (!g_utf8_validate (p, -1, NULL)) {
      g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
          "--style: style %u is not valid UTF-8", i + 1);
      goto fail;
    }
    g_ptr_array_add (out, g_strdup (p));
  }
  if (out->len == 0 || out->len > 8) {
    g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
        "--style '%s' gives %u scenes: give 1 to 8 styles separated by "
        "commas, e.g. --style 夏日海灘,marble,studio", text, out->len);
    goto fail;
  }
  g_strfreev (parts);
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);

fail:
  g_strfreev (parts);
  g_ptr_array_set_free_func (out, g_free);
  g_ptr_array_free (out, TRUE);
  return NULL;
}

gchar **
kling_promo_default_styles (KlingPromoLang lang)
{
  static const gchar *zh[] = { "夏日海灘", "雪地", "草地", NULL };
  static const gchar *en[] = { "summer beach", "snow", "grass", NULL };
  return g_strdupv ((gchar **) (lang == KLING_PROMO_LANG_EN ? en : zh));
}

static const gchar *const kinds[KLING_PROMO_N_KINDS] = {
  "bottle", "can", "box", "cup", "bag", "shoe"
};

const gchar *
kling_promo_kind_name (gint kind)
{
  return kind >= 0 && kind < KLING_PROMO_N_KINDS ? kinds[kind] : NULL;
}

gint
kling_promo_kind_from_name (const gchar * name)
{
  gint i;

  for (i = 0; name && i < KLING_PROMO_N_KINDS; i++)
    if (g_ascii_strcasecmp (kinds[i], name) == 0)
      return i;
  return -1;
}

gchar **
kling_promo_kind_styles (gint kind, KlingPromoLang lang)
{
  /* three scenes per kind, where such a product is bought or used */
  static const gchar *zh[KLING_PROMO_N_KINDS][4] = {
    {"夏日海灘", "雪地", "草地", NULL},
    {"夏日海灘", "冰塊", "派對", NULL},
    {"大理石桌面", "客廳", "禮物", NULL},
    {"咖啡館", "木桌", "清晨窗邊", NULL},
    {"城市街道", "時裝店", "咖啡館", NULL},
    {"跑道", "城市街道", "山路", NULL},
  };
  static const gchar *en[KLING_PROMO_N_KINDS][4] = {
    {"summer beach", "snow", "grass", NULL},
    {"summer beach", "ice cubes", "party", NULL},
    {"marble table", "living room", "gifts", NULL},
    {"cafe", "wooden table", "morning window", NULL},
    {"city street", "boutique", "cafe", NULL},
    {"running track", "city street", "mountain trail", NULL},
  };

  if (kind < 0 || kind >= KLING_PROMO_N_KINDS)
    return kling_promo_default_styles (lang);
  return g_strdupv ((gchar **) (lang == KLING_PROMO_LANG_EN ? en[kind] :
          zh[kind]));
}

gboolean
kling_promo_plan_shots (guint64 total_frames, guint n_shots,
    guint64 end_frames, guint64 fade_frames, KlingPromoShot * shots,
    GError ** error)
{
  guint64 content, sum, each, rest, start = 0;
  guint i;

  if (n_shots == 0 || end_frames >= total_frames)
    goto too_short;
  content = total_frames - end_frames;
  /* shots overlap by fade_frames: their frames add up to more */
  sum = content + (guint64) (n_shots - 1) * fade_frames;
  each = sum / n_shots;
  rest = sum % n_shots;
  /* a shot is at least its fade in, its fade out and one frame alone */
  if (each < 2 * fade_frames + 1)
    goto too_short;
  for (i = 0; i < n_shots; i++) {
    shots[i].start = start;
    shots[i].frames = each + (i < rest ? 1 : 0);
    start += shots[i].frames - fade_frames;
  }
  return TRUE;

too_short:
  g_set_error (error, KLING_PROMO_ERROR, KLING_PROMO_ERROR_OPTION,
      "%u scenes do not fit in %" G_GUINT64_FORMAT " frames: give fewer "
      "styles or a longer --duration", n_shots, total_frames);
  return FALSE;
}

void
kling_promo_report_clear (KlingPromoReport * report)
{
  g_strfreev (report->copy);
  g_strfreev (report->styles);
  g_free (report->kind_note);
  g_strfreev (report->timeline);
  memset (report, 0, sizeof (*report));
}

void
kling_promo_cue_free (KlingPromoCue * cue)
{
  if (cue == NULL)
    return;
  g_free (cue->text);
  g_free (cue);
}

GPtrArray *
kling_promo_cues_from_words (gchar ** lines, const KlingPromoWord * words,
    guint n_words)
{
  GPtrArray *cues =
      g_ptr_array_new_with_free_func ((GDestroyNotify) kling_promo_cue_free);
  guint line = 0, w = 0, n_lines = lines ? g_strv_length (lines) : 0;

  while (line < n_lines && w < n_words) {
    const gchar *pos = lines[line];
    KlingPromoCue *cue = NULL;

    /* the words of this line, in order */
    while (w < n_words) {
      gchar *word = g_strstrip (g_strdup (words[w].text));
      const gchar *hit = *word ? strstr (pos, word) : pos;

      if (hit == NULL) {
        g_free (word);
        break;
      }
      pos = hit + strlen (word);
      g_free (word);
      if (cue == NULL) {
        cue = g_new0 (KlingPromoCue, 1);
        cue->text = g_strdup (lines[line]);
        cue->start = words[w].start;
      }
      cue->end = words[w].start + words[w].duration;
      w++;
    }
    if (cue)
      g_ptr_array_add (cues, cue);
    else if (w < n_words && line + 1 >= n_lines)
      w++;                      /* a word of no line: skip it */
    line++;
  }
  return cues;
}

static const gchar *stage_names[KLING_PROMO_N_STAGES] = {
  "cut-out", "copy", "voice", "shots", "encode"
};

/* rough shares of the run's time on the 2-core development machine */
static const gdouble stage_weights[KLING_PROMO_N_STAGES] = {
  0.02, 0.03, 0.05, 0.45, 0.45
};

const gchar *
kling_promo_stage_name (KlingPromoStage stage)
{
  g_return_val_if_fail (stage < KLING_PROMO_N_STAGES, "?");
  return stage_names[stage];
}

gdouble
kling_promo_overall (KlingPromoStage stage, gdouble fraction)
{
  gdouble done = 0;
  guint i;

  g_return_val_if_fail (stage < KLING_PROMO_N_STAGES, 1.0);
  for (i = 0; i < stage; i++)
    done += stage_weights[i];
  return done + stage_weights[stage] * CLAMP (fraction, 0.0, 1.0);
}
