/* gst-kling: seeded Gaussian noise
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include "kling-noise.h"

void
kling_noise_init (KlingNoise * noise, guint64 seed, guint64 stream)
{
  noise->state = 0;
  noise->inc = (stream << 1) | 1;
  kling_noise_next_u32 (noise);
  noise->state += seed;
  kling_noise_next_u32 (noise);
  noise->have_spare = FALSE;
}

guint32
kling_noise_next_u32 (KlingNoise * noise)
{
  guint64 old = noise->state;
  guint32 xorshifted, rot;

  noise->state = old * G_GUINT64_CONSTANT (6364136223846793005) + noise->inc;
  xorshifted = (guint32) (((old >> 18) ^ old) >> 27);
  rot = (guint32) (old >> 59);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

gdouble
kling_noise_next_uniform (KlingNoise * noise)
{
  /* 53 random bits, never 0 */
  guint64 hi = kling_noise_next_u32 (noise) >> 5;
  guint64 lo = kling_noise_next_u32 (noise) >> 6;
  return ((hi << 26 | lo) + 0.5) / 9007199254740992.0;
}

void
kling_noise_fill_normal (KlingNoise * noise, gfloat * out, gsize n)
{
  gsize i;

  for (i = 0; i < n; i++) {
    gdouble u1, u2, r;

    if (noise->have_spare) {
      out[i] = (gfloat) noise->spare;
      noise->have_spare = FALSE;
      continue;
    }
    u1 = kling_noise_next_uniform (noise);
    u2 = kling_noise_next_uniform (noise);
    r = sqrt (-2.0 * log (u1));
    out[i] = (gfloat) (r * cos (2.0 * G_PI * u2));
    noise->spare = r * sin (2.0 * G_PI * u2);
    noise->have_spare = TRUE;
  }
}
