/* gst-kling: a GES clip whose pictures or sound the program hands over
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __KLING_PROMO_FEED_H__
#define __KLING_PROMO_FEED_H__

#include <ges/ges.h>

G_BEGIN_DECLS

/* Gives the buffer that starts at @position (the clip's own time, from 0)
 * with PTS and DURATION set, and its caps in @caps (transfer full).  NULL
 * and no @error: the clip's content ends there; NULL and @error: it failed.
 * Runs in the clip's streaming thread, so it may take its time (a shot is
 * generated when GES first asks for its frames). */
typedef GstBuffer *(*KlingFeedFunc) (GstClockTime position, GstCaps ** caps,
    gpointer user_data, GError ** error);

/* A clip GES places, trims, scales, cross-fades and mixes like any other,
 * but whose content comes from @func through an appsrc (GESSourceClass's
 * create_source): the shots need not exist as files before the timeline
 * plays.  It has one track type, @type (video or audio). */
#define KLING_TYPE_FEED_CLIP (kling_feed_clip_get_type ())
G_DECLARE_FINAL_TYPE (KlingFeedClip, kling_feed_clip, KLING, FEED_CLIP,
    GESSourceClip)

KlingFeedClip *kling_feed_clip_new (GESTrackType type, KlingFeedFunc func,
    gpointer user_data);

G_END_DECLS

#endif
