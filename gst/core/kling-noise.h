/* gst-kling: seeded Gaussian noise, the same on every machine and run
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_NOISE_H__
#define __KLING_NOISE_H__

#include <glib.h>

G_BEGIN_DECLS

/* PCG32 (O'Neill) streams: the n-th value depends only on the seed and the
 * stream, never on threads or libraries, so a seed gives byte-identical
 * latents everywhere.  Normals by Box-Muller in double precision. */
typedef struct
{
  guint64 state;
  guint64 inc;
  gboolean have_spare;
  gdouble spare;
} KlingNoise;

void kling_noise_init (KlingNoise * noise, guint64 seed, guint64 stream);
guint32 kling_noise_next_u32 (KlingNoise * noise);
/* uniform in (0, 1) */
gdouble kling_noise_next_uniform (KlingNoise * noise);
void kling_noise_fill_normal (KlingNoise * noise, gfloat * out, gsize n);

G_END_DECLS

#endif
