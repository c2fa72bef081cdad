/* gst-kling: helpers the elements share
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_ELEMENT_H__
#define __KLING_ELEMENT_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* For set-up properties (model, device, threads…): TRUE in NULL or READY;
 * otherwise warns that the change needs those states and returns FALSE,
 * as filesrc does for its location.  Call with the object lock held. */
gboolean kling_element_setup_mutable (GstElement * element,
    GParamSpec * pspec);

G_END_DECLS

#endif
