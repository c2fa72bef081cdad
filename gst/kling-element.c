/* gst-kling: helpers the elements share
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-element.h"

gboolean
kling_element_setup_mutable (GstElement * element, GParamSpec * pspec)
{
  GstState state = GST_STATE (element);

  if (state == GST_STATE_NULL || state == GST_STATE_READY)
    return TRUE;
  g_warning ("%s: changing \"%s\" takes effect only in NULL or READY state",
      GST_ELEMENT_NAME (element), pspec->name);
  return FALSE;
}
