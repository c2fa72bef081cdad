/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef __KLING_ELEMENTS_H__
#define __KLING_ELEMENTS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE (aiproductdetect);
GST_ELEMENT_REGISTER_DECLARE (klinggen);
GST_ELEMENT_REGISTER_DECLARE (ketuposter);
GST_ELEMENT_REGISTER_DECLARE (klinghost);

G_END_DECLS

#endif
