/* gst-kling: enums the elements share, registered once
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_ENUMS_H__
#define __KLING_ENUMS_H__

#include <gst/gst.h>
#include "kling-sampler.h"

G_BEGIN_DECLS

/* The `sampler` property of the generating elements. */
typedef enum
{
  GST_KLING_SAMPLER_AUTO,
  GST_KLING_SAMPLER_EULER,
  GST_KLING_SAMPLER_DDIM,
  GST_KLING_SAMPLER_DPMPP_2M
} GstKlingSampler;

#define GST_TYPE_KLING_SAMPLER (gst_kling_sampler_get_type ())
/* Registered once (as "GstKlingGenSampler") and marked as plugin API. */
GType gst_kling_sampler_get_type (void);

/* Registers the enum @name with @values (a static table ending in
 * {0, NULL, NULL}) the first time, in @type (a static gsize, 0 before),
 * and marks it as plugin API so gst-inspect-1.0 documents it. */
GType kling_enum_register_once (gsize * type, const gchar * name,
    const GEnumValue * values);

/* The sampler to run: @sampler, or the model's own choice for AUTO. */
KlingSamplerType gst_kling_sampler_resolve (GstKlingSampler sampler,
    KlingSamplerType model_default);

G_END_DECLS

#endif
