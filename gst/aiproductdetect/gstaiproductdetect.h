/* gst-kling: aiproductdetect
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_AI_PRODUCT_DETECT_H__
#define __GST_AI_PRODUCT_DETECT_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_AI_PRODUCT_DETECT (gst_ai_product_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstAiProductDetect, gst_ai_product_detect,
    GST, AI_PRODUCT_DETECT, GstElement);

#define GST_TYPE_AI_PRODUCT_DETECT_LANGUAGE \
    (gst_ai_product_detect_language_get_type ())
GType gst_ai_product_detect_language_get_type (void);

typedef enum
{
  GST_AI_PRODUCT_DETECT_LANGUAGE_ZH,
  GST_AI_PRODUCT_DETECT_LANGUAGE_EN
} GstAiProductDetectLanguage;

GST_ELEMENT_REGISTER_DECLARE (aiproductdetect);

G_END_DECLS

#endif
