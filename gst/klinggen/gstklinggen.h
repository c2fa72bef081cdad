/* gst-kling: klinggen
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_KLING_GEN_H__
#define __GST_KLING_GEN_H__

#include <gst/base/gstpushsrc.h>
#include "kling-sampler.h"

G_BEGIN_DECLS

#define GST_TYPE_KLING_GEN (gst_kling_gen_get_type ())
G_DECLARE_FINAL_TYPE (GstKlingGen, gst_kling_gen, GST, KLING_GEN, GstPushSrc);

#define GST_TYPE_KLING_GEN_SAMPLER (gst_kling_gen_sampler_get_type ())
GType gst_kling_gen_sampler_get_type (void);

typedef enum
{
  GST_KLING_GEN_SAMPLER_AUTO,
  GST_KLING_GEN_SAMPLER_EULER,
  GST_KLING_GEN_SAMPLER_DDIM,
  GST_KLING_GEN_SAMPLER_DPMPP_2M
} GstKlingGenSampler;

/* The sampler to run: @sampler, or the model's own choice for AUTO.
 * Shared with ketuposter, which offers the same property. */
KlingSamplerType gst_kling_gen_sampler_resolve (GstKlingGenSampler sampler,
    KlingSamplerType model_default);

GST_ELEMENT_REGISTER_DECLARE (klinggen);

G_END_DECLS

#endif
