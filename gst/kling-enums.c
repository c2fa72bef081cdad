/* gst-kling: enums the elements share, registered once
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "kling-enums.h"

GType
kling_enum_register_once (gsize * type, const gchar * name,
    const GEnumValue * values)
{
  if (g_once_init_enter (type)) {
    GType t = g_enum_register_static (name, values);

    gst_type_mark_as_plugin_api (t, 0);
    g_once_init_leave (type, t);
  }
  return (GType) * type;
}

GType
gst_kling_sampler_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_KLING_SAMPLER_AUTO, "The model's recommended sampler", "auto"},
    {GST_KLING_SAMPLER_EULER, "Euler (first order)", "euler"},
    {GST_KLING_SAMPLER_DDIM, "DDIM (deterministic)", "ddim"},
    {GST_KLING_SAMPLER_DPMPP_2M, "DPM-Solver++ (2M, second order)",
        "dpmpp-2m"},
    {0, NULL, NULL}
  };

  return kling_enum_register_once (&type, "GstKlingGenSampler", values);
}

KlingSamplerType
gst_kling_sampler_resolve (GstKlingSampler sampler,
    KlingSamplerType model_default)
{
  switch (sampler) {
    case GST_KLING_SAMPLER_EULER:
      return KLING_SAMPLER_EULER;
    case GST_KLING_SAMPLER_DDIM:
      return KLING_SAMPLER_DDIM;
    case GST_KLING_SAMPLER_DPMPP_2M:
      return KLING_SAMPLER_DPMPP_2M;
    case GST_KLING_SAMPLER_AUTO:
    default:
      return model_default;
  }
}
