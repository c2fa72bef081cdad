/* gst-kling: generative and vision-language models in GStreamer pipelines
 * Copyright (C) 2026 gst-kling contributors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "kling-elements.h"

/* Registration only: no model or inference runtime is touched here, so a
 * registry scan or gst-inspect-1.0 stays light.  Models load in start(). */
static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (aiproductdetect, plugin);
  ret |= GST_ELEMENT_REGISTER (klinggen, plugin);
  ret |= GST_ELEMENT_REGISTER (ketuposter, plugin);
  ret |= GST_ELEMENT_REGISTER (klinghost, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, kling,
    "Generative and vision-language models as pipeline elements: video "
    "generation, poster generation, product detection and copywriting",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
