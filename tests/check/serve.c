/* gst-kling: gst-kling-serve end to end: the server on free loopback
 * ports, clients through rtspsrc and raw RTSP requests, the status JSON
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KLING_SERVE: the gst-kling-serve program; KLING_TEST_MODELS: the test
 * models (video-colour.pt: 16x16 at 8 fps, chunks of 3 new frames).
 */
#include <gst/check/gstcheck.h>
#include <gst/rtsp/rtsp.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define FPS 8
#define WAIT_S 60

typedef struct
{
  GSubprocess *proc;
  gint rtsp_port, status_port;
  gchar *log;
} Server;

static Server *
server_start (const gchar * first_arg, ...)
{
  const gchar *exe = g_getenv ("KLING_SERVE");
  gchar *model = g_build_filename (g_getenv ("KLING_TEST_MODELS"),
      "video-colour.pt", NULL);
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  GSubprocessLauncher *l;
  Server *s = g_new0 (Server, 1);
  GDataInputStream *in;
  GError *error = NULL;
  gchar *line, *p;
  const gchar *a;
  va_list args;
  gint fd;

  fail_unless (exe != NULL, "KLING_SERVE is not set");
  g_ptr_array_add (argv, g_strdup (exe));
  g_ptr_array_add (argv, g_strdup ("--port=0"));
  g_ptr_array_add (argv, g_strdup ("--status-port=0"));
  g_ptr_array_add (argv, g_strdup_printf ("--model=%s", model));
  g_ptr_array_add (argv, g_strdup ("--threads=1"));
  va_start (args, first_arg);
  for (a = first_arg; a; a = va_arg (args, const gchar *))
      g_ptr_array_add (argv, g_strdup (a));
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_free (model);

  fd = g_file_open_tmp ("kling-serve-XXXXXX.log", &s->log, NULL);
  close (fd);
  l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* the backend logs each real model load: one copy means one line */
  g_subprocess_launcher_setenv (l, "GST_DEBUG",
      "klingbackend:4,klingserve:4,GST_TRACER:7", TRUE);
  /* the server's own leaks too: reported at its gst_deinit() */
  g_subprocess_launcher_setenv (l, "GST_TRACERS", "leaks", TRUE);
  g_subprocess_launcher_set_stderr_file_path (l, s->log);
  s->proc = g_subprocess_launcher_spawnv (l,
      (const gchar * const *) argv->pdata, &error);
  fail_unless (s->proc != NULL, "%s", error ? error->message : "");
  g_object_unref (l);
  g_ptr_array_unref (argv);

  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (s->proc));
  line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &error);
  fail_unless (line != NULL, "the server printed nothing");
  p = strstr (line, "rtsp-port=");
  fail_unless (p != NULL, "%s", line);
  s->rtsp_port = atoi (p + strlen ("rtsp-port="));
  p = strstr (line, "status-port=");
  s->status_port = atoi (p + strlen ("status-port="));
  fail_unless (s->rtsp_port > 0 && s->status_port > 0, "%s", line);
  g_free (line);
  g_object_unref (in);
  return s;
}

static gchar *
server_log (Server * s)
{
  gchar *text = NULL;

  g_file_get_contents (s->log, &text, NULL, NULL);
  return text ? text : g_strdup ("");
}

/* the line of @log holding @what (points into @log; NUL-terminated in
 * place), or "" */
static const gchar *
log_line (gchar * log, const gchar * what)
{
  gchar *p = strstr (log, what), *start, *end;

  if (p == NULL)
    return "";
  for (start = p; start > log && start[-1] != '\n'; start--);
  end = strchr (p, '\n');
  if (end)
    *end = '\0';
  return start;
}

/* SIGTERM, and a clean exit */
static void
server_stop (Server * s)
{
  GError *error = NULL;
  gchar *log;

  g_subprocess_send_signal (s->proc, SIGTERM);
  fail_unless (g_subprocess_wait (s->proc, NULL, &error));
  log = server_log (s);
  fail_unless (g_subprocess_get_if_exited (s->proc)
      && g_subprocess_get_exit_status (s->proc) == 0,
      "the server did not exit cleanly on SIGTERM: %s", log_line (log,
          "ERROR"));
  /* a leak: the leaks tracer's "WARNING **: Leaks detected" at the
   * server's gst_deinit() */
  fail_if (strstr (log, "CRITICAL") || strstr (log, "WARNING **"),
      "the server complained: %s", log_line (log, strstr (log, "CRITICAL") ?
          "CRITICAL" : "WARNING **"));
  g_free (log);
  g_object_unref (s->proc);
  g_unlink (s->log);
  g_free (s->log);
  g_free (s);
}

static gchar *
url (Server * s, const gchar * query)
{
  return g_strdup_printf ("rtsp://127.0.0.1:%d/generate%s%s", s->rtsp_port,
      query ? "?" : "", query ? query : "");
}

/* ---- status ---- */

static JsonObject *
status (Server * s)
{
  SoupSession *session = soup_session_new ();
  gchar *uri = g_strdup_printf ("http://127.0.0.1:%d/status",
      s->status_port);
  SoupMessage *msg = soup_message_new ("GET", uri);
  GBytes *body;
  JsonParser *parser = json_parser_new ();
  JsonObject *obj;
  GError *error = NULL;

  body = soup_session_send_and_read (session, msg, NULL, &error);
  fail_unless (body != NULL, "status: %s", error ? error->message : "");
  fail_unless_equals_int (soup_message_get_status (msg), 200);
  fail_unless (json_parser_load_from_data (parser, g_bytes_get_data (body,
              NULL), g_bytes_get_size (body), &error), "%s", error->message);
  obj = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
  g_bytes_unref (body);
  g_object_unref (parser);
  g_object_unref (msg);
  g_object_unref (session);
  g_free (uri);
  return obj;
}

static gint64
status_int (Server * s, const gchar * member)
{
  JsonObject *o = status (s);
  gint64 v = json_object_get_int_member (o, member);

  json_object_unref (o);
  return v;
}

/* the newest job with @prompt (a new reference), or NULL */
static JsonObject *
find_job (JsonObject * st, const gchar * prompt)
{
  JsonArray *jobs = json_object_get_array_member (st, "jobs");
  JsonObject *best = NULL;
  guint i;

  for (i = 0; i < json_array_get_length (jobs); i++) {
    JsonObject *j = json_array_get_object_element (jobs, i);

    if (strcmp (json_object_get_string_member (j, "prompt"), prompt) == 0
        && (best == NULL || json_object_get_int_member (j, "id") >
            json_object_get_int_member (best, "id")))
      best = j;
  }
  return best ? json_object_ref (best) : NULL;
}

/* waits (polling) until the job of @prompt is in @state */
static JsonObject *
wait_job_state (Server * s, const gchar * prompt, const gchar * state)
{
  gchar *last = NULL;
  gint i;

  for (i = 0; i < WAIT_S * 10; i++) {
    JsonObject *st = status (s), *j = find_job (st, prompt);

    g_free (last);
    last = json_to_string (json_object_get_member (st, "jobs"), TRUE);
    json_object_unref (st);
    if (j && strcmp (json_object_get_string_member (j, "state"), state) == 0) {
      g_free (last);
      return j;
    }
    if (j)
      json_object_unref (j);
    g_usleep (G_USEC_PER_SEC / 10);
  }
  fail ("the job of '%s' never got to %s: %s", prompt, state, last);
  return NULL;
}

/* ---- raw RTSP ---- */

/* connects to the host and port of @uri (its query is not looked at: a
 * broken one is what some tests send) */
static GstRTSPConnection *
rtsp_connect (const gchar * uri)
{
  GstRTSPUrl *u = NULL;
  GstRTSPConnection *conn = NULL;
  gchar *base = g_strndup (uri, strcspn (uri, "?"));

  fail_unless_equals_int (gst_rtsp_url_parse (base, &u), GST_RTSP_OK);
  g_free (base);
  fail_unless_equals_int (gst_rtsp_connection_create (u, &conn), GST_RTSP_OK);
  gst_rtsp_url_free (u);
  fail_unless_equals_int (gst_rtsp_connection_connect_usec (conn,
          10 * G_USEC_PER_SEC), GST_RTSP_OK);
  return conn;
}

/* DESCRIBE @uri on @conn: the status code, and its reason phrase */
static GstRTSPStatusCode
rtsp_describe (GstRTSPConnection * conn, const gchar * uri, gchar ** reason)
{
  GstRTSPMessage *req = NULL, *resp = NULL;
  GstRTSPStatusCode code = 0;
  const gchar *r = NULL;

  gst_rtsp_message_new_request (&req, GST_RTSP_DESCRIBE, uri);
  gst_rtsp_message_add_header (req, GST_RTSP_HDR_CSEQ, "1");
  gst_rtsp_message_add_header (req, GST_RTSP_HDR_ACCEPT, "application/sdp");
  fail_unless_equals_int (gst_rtsp_connection_send_usec (conn, req,
          WAIT_S * G_USEC_PER_SEC), GST_RTSP_OK);
  gst_rtsp_message_new (&resp);
  fail_unless_equals_int (gst_rtsp_connection_receive_usec (conn, resp,
          WAIT_S * G_USEC_PER_SEC), GST_RTSP_OK);
  gst_rtsp_message_parse_response (resp, &code, &r, NULL);
  if (reason)
    *reason = g_strdup (r);
  gst_rtsp_message_free (req);
  gst_rtsp_message_free (resp);
  return code;
}

static GstRTSPStatusCode
describe_once (const gchar * uri, gchar ** reason, const gchar * user,
    const gchar * pass)
{
  GstRTSPConnection *conn = rtsp_connect (uri);
  GstRTSPStatusCode code;

  if (user)
    gst_rtsp_connection_set_auth (conn, GST_RTSP_AUTH_BASIC, user, pass);
  code = rtsp_describe (conn, uri, reason);
  gst_rtsp_connection_close (conn);
  gst_rtsp_connection_free (conn);
  return code;
}

/* ---- clients: rtspsrc ! depay ! decoder ! RGB ---- */

typedef struct
{
  GstElement *pipe;
  gchar *prompt;
  gint frames;                  /* atomic */
  gint64 first_frame;           /* monotonic µs */
  guint64 sum[3];               /* R, G and B of all frames */
  guint64 bytes;
  gint width, height;
  GMutex lock;
} Client;

static void
on_frame (GstElement * sink, GstBuffer * buf, GstPad * pad, Client * c)
{
  GstMapInfo map;
  gsize i;
  guint64 sum[3] = { 0, 0, 0 };

  if (g_atomic_int_add (&c->frames, 1) == 0) {
    GstCaps *caps = gst_pad_get_current_caps (pad);
    GstStructure *st = gst_caps_get_structure (caps, 0);

    c->first_frame = g_get_monotonic_time ();
    gst_structure_get_int (st, "width", &c->width);
    gst_structure_get_int (st, "height", &c->height);
    gst_caps_unref (caps);
  }
  gst_buffer_map (buf, &map, GST_MAP_READ);
  /* RGB caps at an even width: rows are packed, bytes go R, G, B */
  for (i = 0; i < map.size; i++)
    sum[i % 3] += map.data[i];
  g_mutex_lock (&c->lock);
  for (i = 0; i < 3; i++)
    c->sum[i] += sum[i];
  c->bytes += map.size;
  g_mutex_unlock (&c->lock);
  gst_buffer_unmap (buf, &map);
}

static Client *
client_start (Server * s, const gchar * prompt, const gchar * query)
{
  Client *c = g_new0 (Client, 1);
  GError *error = NULL;
  GstElement *src, *sink;
  gchar *uri = url (s, query);

  g_mutex_init (&c->lock);
  c->prompt = g_strdup (prompt);
  c->pipe = gst_parse_launch ("rtspsrc name=src protocols=tcp latency=0 ! "
      "rtph264depay ! avdec_h264 max-threads=1 ! videoconvert ! "
      "video/x-raw,format=RGB ! "
      "fakesink name=sink sync=false signal-handoffs=true", &error);
  fail_unless (c->pipe != NULL, "%s", error ? error->message : "");
  src = gst_bin_get_by_name (GST_BIN (c->pipe), "src");
  g_object_set (src, "location", uri, NULL);
  gst_object_unref (src);
  sink = gst_bin_get_by_name (GST_BIN (c->pipe), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_frame), c);
  gst_object_unref (sink);
  fail_if (gst_element_set_state (c->pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  g_free (uri);
  return c;
}

/* waits for EOS (the server's BYE at the end of the clip) */
static void
client_wait_eos (Client * c)
{
  GstBus *bus = gst_element_get_bus (c->pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, WAIT_S * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  fail_unless (msg != NULL, "no EOS for '%s' after %d s", c->prompt, WAIT_S);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *error;
    gchar *dbg;

    gst_message_parse_error (msg, &error, &dbg);
    fail ("client '%s': %s (%s)", c->prompt, error->message, dbg);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
}

static void
client_free (Client * c)
{
  gst_element_set_state (c->pipe, GST_STATE_NULL);
  gst_object_unref (c->pipe);
  g_mutex_clear (&c->lock);
  g_free (c->prompt);
  g_free (c);
}

/* how far apart two clips' mean colours are: the largest channel gap */
static gdouble
client_distance (Client * a, Client * b)
{
  gdouble d = 0;
  gint i;

  fail_unless (a->bytes > 0 && b->bytes > 0);
  for (i = 0; i < 3; i++)
    d = MAX (d, ABS (3.0 * a->sum[i] / a->bytes - 3.0 * b->sum[i] / b->bytes));
  return d;
}

static gchar *
encode (const gchar * prompt, const gchar * rest)
{
  gchar *e = g_uri_escape_string (prompt, NULL, FALSE);
  gchar *q = g_strdup_printf ("prompt=%s%s", e, rest);

  g_free (e);
  return q;
}

static gint
count_lines (const gchar * text, const gchar * what)
{
  gint n = 0;
  const gchar *p;

  for (p = text; (p = strstr (p, what)); p++)
    n++;
  return n;
}

/* ---------------------------------------------------------------------- */

GST_START_TEST (test_four_clients)
{
  const gchar *prompts[4] =
      { "夏日海邊視頻", "a red ball rolls on the beach",
    "城市夜景，霓虹燈", "green field"
  };
  Server *s = server_start ("--max-jobs=4", NULL);
  Client *c[4];
  JsonObject *st;
  gchar *log;
  gint i, k;

  for (i = 0; i < 4; i++) {
    gchar *q = encode (prompts[i], "&duration=2&size=64x48");

    c[i] = client_start (s, prompts[i], q);
    g_free (q);
  }
  for (i = 0; i < 4; i++) {
    client_wait_eos (c[i]);
    /* the server sees its pipeline's EOS just after the client's */
    json_object_unref (wait_job_state (s, prompts[i], "done"));
  }

  st = status (s);
  for (i = 0; i < 4; i++) {
    JsonObject *j = find_job (st, prompts[i]);
    gint64 generated;

    fail_unless (j != NULL, "no job for '%s'", prompts[i]);
    fail_unless_equals_string (json_object_get_string_member (j, "state"),
        "done");
    /* 2 s at 8 fps, every frame there, at the size asked for */
    fail_unless_equals_int (g_atomic_int_get (&c[i]->frames), 2 * FPS);
    fail_unless_equals_int (json_object_get_int_member (j, "frames"), 2 * FPS);
    fail_unless_equals_int (c[i]->width, 64);
    fail_unless_equals_int (c[i]->height, 48);
    /* the first frame was on the client before the generation finished */
    generated = json_object_get_int_member (j, "generated_us");
    GST_INFO ("'%s': first frame at the client %.3f s before the last chunk "
        "was made", prompts[i], (generated - c[i]->first_frame) / 1e6);
    fail_unless (c[i]->first_frame < generated, "'%s': first frame at %"
        G_GINT64_FORMAT ", generation finished at %" G_GINT64_FORMAT,
        prompts[i], c[i]->first_frame, generated);
    fail_unless (json_object_get_int_member (j, "chunks_done") ==
        json_object_get_int_member (j, "chunks"));
    json_object_unref (j);
  }
  fail_unless_equals_int (json_object_get_int_member (st, "generations"), 4);
  json_object_unref (st);
  /* the clips differ by prompt */
  for (i = 0; i < 4; i++)
    for (k = i + 1; k < 4; k++)
      fail_unless (client_distance (c[i], c[k]) > 4.0,
          "'%s' and '%s' look alike (%f apart)", prompts[i], prompts[k],
          client_distance (c[i], c[k]));
  for (i = 0; i < 4; i++)
    client_free (c[i]);

  /* four generations, one model in memory */
  log = server_log (s);
  fail_unless_equals_int (count_lines (log, "loading "), 1);
  g_free (log);
  server_stop (s);
}

GST_END_TEST;

GST_START_TEST (test_same_request_shared)
{
  Server *s = server_start ("--max-jobs=4", NULL);
  const gchar *prompt = "two viewers, one clip";
  gchar *q = encode (prompt, "&duration=3&seed=7");
  Client *a, *b;
  JsonObject *st, *j;

  a = client_start (s, prompt, q);
  b = client_start (s, prompt, q);
  client_wait_eos (a);
  client_wait_eos (b);
  json_object_unref (wait_job_state (s, prompt, "done"));
  fail_unless (g_atomic_int_get (&a->frames) > 0);
  fail_unless (g_atomic_int_get (&b->frames) > 0);

  st = status (s);
  fail_unless_equals_int (json_object_get_int_member (st, "generations"), 1);
  fail_unless_equals_int (json_object_get_int_member (st, "shared_joins"), 1);
  j = find_job (st, prompt);
  fail_unless_equals_int (json_object_get_int_member (j, "clients"), 2);
  fail_unless_equals_string (json_object_get_string_member (j, "state"),
      "done");
  json_object_unref (j);
  json_object_unref (st);
  client_free (a);
  client_free (b);
  g_free (q);
  server_stop (s);
}

GST_END_TEST;

GST_START_TEST (test_disconnect_cancels)
{
  Server *s = server_start (NULL);
  const gchar *prompt = "a long clip nobody watches to the end";
  gchar *q = encode (prompt, "&duration=30");
  Client *c = client_start (s, prompt, q);
  JsonObject *j;
  gint i;

  for (i = 0; i < WAIT_S * 100 && g_atomic_int_get (&c->frames) == 0; i++)
    g_usleep (G_USEC_PER_SEC / 100);
  fail_unless (g_atomic_int_get (&c->frames) > 0, "no frame came");
  j = wait_job_state (s, prompt, "running");
  json_object_unref (j);

  /* TEARDOWN: the media is unprepared, klinggen stops */
  gst_element_set_state (c->pipe, GST_STATE_NULL);
  j = wait_job_state (s, prompt, "cancelled");
  fail_unless (json_object_get_int_member (j, "chunks") > 0);
  fail_unless (json_object_get_int_member (j, "chunks_done") <
      json_object_get_int_member (j, "chunks"));
  fail_unless (json_object_get_int_member (j, "frames") < 30 * FPS);
  json_object_unref (j);
  fail_unless_equals_int (status_int (s, "running"), 0);
  client_free (c);
  g_free (q);
  server_stop (s);
}

GST_END_TEST;

/* a client killed without TEARDOWN: its connection closes, the job stops */
GST_START_TEST (test_client_killed)
{
  Server *s = server_start (NULL);
  const gchar *prompt = "a client that crashes";
  gchar *q = encode (prompt, "&duration=30");
  gchar *u = url (s, q), *loc = g_strdup_printf ("location=%s", u);
  GSubprocess *client;
  GError *error = NULL;
  JsonObject *j = NULL;
  gint i;

  client = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
      G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, "gst-launch-1.0", "-q",
      "rtspsrc", loc, "protocols=tcp", "!", "rtph264depay", "!", "fakesink",
      NULL);
  fail_unless (client != NULL, "%s", error ? error->message : "");
  /* until frames went out */
  for (i = 0; i < WAIT_S * 10; i++) {
    JsonObject *st = status (s);

    j = find_job (st, prompt);
    json_object_unref (st);
    if (j && json_object_get_int_member (j, "frames") > 2 * FPS)
      break;
    g_clear_pointer (&j, json_object_unref);
    g_usleep (G_USEC_PER_SEC / 10);
  }
  fail_unless (j != NULL, "the killed client's clip never started");
  fail_unless_equals_string (json_object_get_string_member (j, "state"),
      "running");
  json_object_unref (j);
  g_subprocess_force_exit (client);
  g_subprocess_wait (client, NULL, NULL);
  j = wait_job_state (s, prompt, "cancelled");
  fail_unless (json_object_get_int_member (j, "chunks_done") <
      json_object_get_int_member (j, "chunks"));
  json_object_unref (j);
  g_object_unref (client);
  g_free (loc);
  g_free (u);
  g_free (q);
  server_stop (s);
}

GST_END_TEST;

GST_START_TEST (test_busy_503)
{
  Server *s = server_start ("--max-jobs=2", NULL);
  GstRTSPConnection *held[2];
  gchar *u, *reason = NULL;
  gint i;

  /* two DESCRIBEs hold both slots while their connections stay open */
  for (i = 0; i < 2; i++) {
    gchar *p = g_strdup_printf ("held+%d", i);
    gchar *qq = g_strdup_printf ("prompt=%s&duration=30", p);

    u = url (s, qq);
    held[i] = rtsp_connect (u);
    fail_unless_equals_int (rtsp_describe (held[i], u, NULL), 200);
    g_free (u);
    g_free (qq);
    g_free (p);
  }
  fail_unless_equals_int (status_int (s, "running"), 2);

  u = url (s, "prompt=one+too+many&duration=2");
  fail_unless_equals_int (describe_once (u, &reason, NULL, NULL), 503);
  fail_unless (strstr (reason, "busy") != NULL, "%s", reason);
  g_free (reason);
  fail_unless_equals_int (status_int (s, "rejected_busy"), 1);

  /* the same request as a running one needs no slot */
  g_free (u);
  u = url (s, "prompt=held+0&duration=30");
  fail_unless_equals_int (describe_once (u, NULL, NULL, NULL), 200);
  g_free (u);

  /* the held clients leave: their slots come back */
  for (i = 0; i < 2; i++) {
    gst_rtsp_connection_close (held[i]);
    gst_rtsp_connection_free (held[i]);
  }
  for (i = 0; i < WAIT_S * 10 && status_int (s, "running") > 0; i++)
    g_usleep (G_USEC_PER_SEC / 10);
  fail_unless_equals_int (status_int (s, "running"), 0);
  u = url (s, "prompt=one+too+many&duration=2");
  fail_unless_equals_int (describe_once (u, NULL, NULL, NULL), 200);
  g_free (u);
  server_stop (s);
}

GST_END_TEST;

GST_START_TEST (test_bad_requests)
{
  const gchar *cases[][2] = {
    {NULL, "no prompt"},
    {"duration=2", "no prompt"},
    {"prompt=", "no prompt"},
    {"prompt=%ZZ", "broken percent-encoding"},
    {"prompt=%E5%A4", "not valid UTF-8"},
    {"prompt=%FF", "not valid UTF-8"},
    {"prompt=a&duration=0", "\"duration\" is out of range"},
    {"prompt=a&duration=31", "\"duration\" is out of range"},
    {"prompt=a&duration=abc", "number of seconds"},
    {"prompt=a&size=8x8", "\"size\" is out of range"},
    {"prompt=a&size=4000x240", "\"size\" is out of range"},
    {"prompt=a&size=big", "WIDTHxHEIGHT"},
    {"prompt=a&seed=-3", "whole number"},
    {"prompt=a&steps=50", "unknown parameter \"steps\""},
  };
  Server *s = server_start ("--max-duration=30", NULL);
  guint i;
  gchar *u;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *reason = NULL;

    u = url (s, cases[i][0]);
    fail_unless_equals_int (describe_once (u, &reason, NULL, NULL), 400);
    fail_unless (g_str_has_prefix (reason, "Bad Request"), "%s", reason);
    fail_unless (strstr (reason, cases[i][1]) != NULL, "%s: '%s' lacks '%s'",
        u, reason, cases[i][1]);
    g_free (reason);
    g_free (u);
  }
  fail_unless_equals_int (status_int (s, "bad_requests"), G_N_ELEMENTS (cases));
  fail_unless_equals_int (status_int (s, "generations"), 0);
  /* another path is not found */
  u = g_strdup_printf ("rtsp://127.0.0.1:%d/other?prompt=a", s->rtsp_port);
  fail_unless_equals_int (describe_once (u, NULL, NULL, NULL), 404);
  g_free (u);
  server_stop (s);
}

GST_END_TEST;

GST_START_TEST (test_cache_replay)
{
  gchar *dir = g_dir_make_tmp ("kling-serve-cache-XXXXXX", NULL);
  gchar *arg = g_strdup_printf ("--cache-dir=%s", dir);
  Server *s = server_start (arg, "--cache-size=16", NULL);
  const gchar *prompt = "replay me";
  gchar *q = encode (prompt, "&duration=2");
  Client *c, *orig;
  JsonObject *st, *cache;
  gint64 entries = 0;
  gint i;
  GDir *d;
  const gchar *name;

  orig = client_start (s, prompt, q);
  client_wait_eos (orig);
  fail_unless_equals_int (g_atomic_int_get (&orig->frames), 2 * FPS);
  json_object_unref (wait_job_state (s, prompt, "done"));
  /* stopped (TEARDOWN), its pipeline goes to NULL: the clip is kept, whole */
  gst_element_set_state (orig->pipe, GST_STATE_NULL);
  for (i = 0; i < WAIT_S * 10; i++) {
    st = status (s);
    cache = json_object_get_object_member (st, "cache");
    entries = json_object_get_int_member (cache, "entries");
    fail_unless_equals_int (json_object_get_int_member (cache, "hits"), 0);
    json_object_unref (st);
    if (entries == 1)
      break;
    g_usleep (G_USEC_PER_SEC / 10);
  }
  fail_unless_equals_int (entries, 1);

  /* the same request again: from the cache, no generation */
  c = client_start (s, prompt, q);
  client_wait_eos (c);
  fail_unless_equals_int (g_atomic_int_get (&c->frames), 2 * FPS);
  fail_unless (client_distance (c, orig) < 1.0);
  client_free (c);
  client_free (orig);
  st = status (s);
  cache = json_object_get_object_member (st, "cache");
  fail_unless_equals_int (json_object_get_int_member (cache, "hits"), 1);
  fail_unless_equals_int (json_object_get_int_member (st, "generations"), 1);
  json_object_unref (st);
  server_stop (s);

  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (dir, name, NULL);

    fail_unless (g_str_has_suffix (name, ".mkv"), "left in the cache: %s",
        name);
    g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (dir);
  g_free (q);
  g_free (arg);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_auth)
{
  gchar *pw_file = NULL;
  gint fd = g_file_open_tmp ("kling-serve-pw-XXXXXX", &pw_file, NULL);
  gchar *arg;
  Server *s;
  gchar *u;

  fail_unless (write (fd, "s3cret\n", 7) == 7);
  close (fd);
  arg = g_strdup_printf ("--password-file=%s", pw_file);
  s = server_start ("--user=viewer", arg, NULL);
  u = url (s, "prompt=private&duration=1");
  fail_unless_equals_int (describe_once (u, NULL, NULL, NULL), 401);
  fail_unless_equals_int (describe_once (u, NULL, "viewer", "wrong"), 401);
  /* refused clients take no slot */
  fail_unless_equals_int (status_int (s, "generations"), 0);
  fail_unless_equals_int (describe_once (u, NULL, "viewer", "s3cret"), 200);
  fail_unless_equals_int (status_int (s, "generations"), 1);
  g_free (u);
  server_stop (s);
  g_unlink (pw_file);
  g_free (pw_file);
  g_free (arg);
}

GST_END_TEST;

GST_START_TEST (test_sigterm_while_streaming)
{
  Server *s = server_start (NULL);
  const gchar *prompt = "stopped by SIGTERM";
  gchar *q = encode (prompt, "&duration=30");
  Client *c = client_start (s, prompt, q);
  gint i;

  for (i = 0; i < WAIT_S * 100 && g_atomic_int_get (&c->frames) == 0; i++)
    g_usleep (G_USEC_PER_SEC / 100);
  fail_unless (g_atomic_int_get (&c->frames) > 0);
  /* exits 0 with a client still connected */
  server_stop (s);
  client_free (c);
  g_free (q);
}

GST_END_TEST;

/* a model that cannot load stops the server at start, saying why */
GST_START_TEST (test_bad_model)
{
  GError *error = NULL;
  GSubprocess *p;
  gchar *err = NULL;

  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, g_getenv ("KLING_SERVE"),
      "--port=0", "--status-port=0", "--model=/nonexistent/video.pt", NULL);
  fail_unless (p != NULL, "%s", error ? error->message : "");
  fail_unless (g_subprocess_communicate_utf8 (p, NULL, NULL, NULL, &err,
          &error));
  fail_unless (g_subprocess_get_if_exited (p));
  fail_unless_equals_int (g_subprocess_get_exit_status (p), 1);
  fail_unless (strstr (err, "cannot use the model") != NULL
      && strstr (err, "/nonexistent/video.pt") != NULL, "%s", err);
  g_free (err);
  g_object_unref (p);
}

GST_END_TEST;

static Suite *
serve_suite (void)
{
  Suite *s = suite_create ("serve");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_four_clients);
  tcase_add_test (tc, test_same_request_shared);
  tcase_add_test (tc, test_disconnect_cancels);
  tcase_add_test (tc, test_client_killed);
  tcase_add_test (tc, test_busy_503);
  tcase_add_test (tc, test_bad_requests);
  tcase_add_test (tc, test_cache_replay);
  tcase_add_test (tc, test_auth);
  tcase_add_test (tc, test_sigterm_while_streaming);
  tcase_add_test (tc, test_bad_model);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (serve);
