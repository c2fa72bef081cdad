# gst-kling per-pixel and per-element kernels.
# The pattern arrays a and b of the u8 -> f32 kernels hold one row of
# per-value factors (scale/std and -mean/std per channel, repeated over the
# row) and are passed with stride 0, so one call converts a whole frame while
# keeping its pixel-interleaved layout, whatever the channel count.

.function kling_orc_u8_to_f32_pattern
.flags 2d
.dest 4 d float
.source 1 s guint8
.source 4 a float
.source 4 b float
.temp 2 w
.temp 4 l
.temp 4 f

convubw w, s
convuwl l, w
convlf f, l
mulf f, f, a
addf d, f, b


.function kling_orc_u8_to_f32_scalar
.flags 2d
.dest 4 d float
.source 1 s guint8
.floatparam 4 a
.floatparam 4 b
.temp 2 w
.temp 4 l
.temp 4 f

convubw w, s
convuwl l, w
convlf f, l
mulf f, f, a
addf d, f, b


# d = clamp (s * a + b, 0, 255), truncated; callers fold the +0.5 of
# rounding into b.
.function kling_orc_f32_to_u8
.flags 2d
.dest 1 d guint8
.source 4 s float
.floatparam 4 a
.floatparam 4 b
.const 4 c0 0x00000000
.const 4 c255 0x437f0000
.temp 4 f
.temp 4 l
.temp 2 w

mulf f, s, a
addf f, f, b
maxf f, f, c0
minf f, f, c255
convfl l, f
convlw w, l
convwb d, w


.function kling_orc_axpby
.dest 4 x float
.source 4 y float
.floatparam 4 a
.floatparam 4 b
.temp 4 t
.temp 4 u

mulf t, x, a
mulf u, y, b
addf x, t, u
