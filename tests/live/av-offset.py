#!/usr/bin/env python3
"""The host's mouth against the voice in a recording of gst-kling-live.

Usage: av-offset.py RECORDING [--size WxH]

Reads back what a viewer receives: the brightness of the host's mouth
region (the portrait is a square 2/5 of the height, top right, its face
box in the middle; the model redraws the box's lower half) frame by
frame, and the voice's loudness (RMS in dB over 50 ms) at each frame's
time; prints, as one JSON line, the lag (ms, audio after video positive)
at which they correlate best, that correlation, the one at 0, the
mouth's brightness range, and the share of frames with the voice loud
(speech; near 0, the clip has nothing to measure).  With a real host model an open mouth can be
darker or brighter than a closed one, so the best lag is the one of the
largest |r|, and r keeps its sign.  Used by tests/live/live-stream.sh
(on host-energy.pt's bright mouth) and tests/soak/soak-live.sh.
"""
import json
import math
import struct
import subprocess
import sys


def main(argv):
    args = argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    rec = args[0]
    width, height = 640, 360
    if len(args) == 3 and args[1] == "--size":
        width, height = (int(v) for v in args[2].split("x"))
    elif len(args) != 1:
        sys.exit(__doc__)

    # the mouth: for 640x360 the portrait is 144x144 at 480,18 and the
    # crop 52x24 at 526,96; other sizes scale with the portrait
    pip = (height * 2 // 5) & ~1
    px, py = width - pip - width // 40, height // 20
    k = pip / 144.0
    crop = "crop=%d:%d:%d:%d" % (round(52 * k), round(24 * k),
                                 px + round(46 * k), py + round(78 * k))

    def run(cmd):
        return subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout

    frames = run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                  "-show_entries", "frame=pts_time", "-of", "csv=p=0",
                  rec]).decode().split()
    vt = [float(f.strip(",")) for f in frames if f.strip(",") not in ("", "N/A")]
    mouth = list(run(["ffmpeg", "-v", "fatal", "-i", rec, "-an",
                      "-vf", crop + ",scale=1:1:flags=area", "-fps_mode",
                      "passthrough", "-f", "rawvideo", "-pix_fmt", "gray",
                      "-"]))
    pcm = run(["ffmpeg", "-v", "fatal", "-i", rec, "-vn", "-ac", "1", "-ar",
               "16000", "-f", "s16le", "-"])
    a_start = json.loads(run(["ffprobe", "-v", "error", "-select_streams",
                              "a:0", "-show_entries", "stream=start_time",
                              "-of", "json", rec]))["streams"][0]["start_time"]
    samples = struct.unpack("<%dh" % (len(pcm) // 2), pcm)
    a0 = float(a_start)
    n = min(len(vt), len(mouth))
    vt, mouth = vt[:n], mouth[:n]
    if n < 25:
        sys.exit("av-offset.py: %d frames in %s" % (n, rec))

    def energy(t):
        c = int((t - a0) * 16000)
        w = samples[max(0, c - 400):max(0, c + 400)]
        if len(w) < 400:
            return None
        rms = math.sqrt(sum(x * x for x in w) / len(w))
        return 20 * math.log10(rms + 1.0)

    def corr(lag):
        pairs = [(m, energy(t + lag)) for m, t in zip(mouth, vt)]
        pairs = [(m, e) for m, e in pairs if e is not None]
        if len(pairs) < 2:
            return 0.0
        mx = sum(p[0] for p in pairs) / len(pairs)
        my = sum(p[1] for p in pairs) / len(pairs)
        sxy = sum((p[0] - mx) * (p[1] - my) for p in pairs)
        sx = math.sqrt(sum((p[0] - mx) ** 2 for p in pairs))
        sy = math.sqrt(sum((p[1] - my) ** 2 for p in pairs))
        return sxy / (sx * sy) if sx > 0 and sy > 0 else 0.0

    # a clip where the host says nothing has no offset to measure
    loud = [e for e in (energy(t) for t in vt) if e is not None and e > 50]
    speech = len(loud) / n
    lags = [l / 1000 for l in range(-300, 301, 10)]
    cs = [corr(l) for l in lags]
    best = max(range(len(lags)), key=lambda j: abs(cs[j]))
    print(json.dumps({"lag_ms": round(lags[best] * 1000),
                      "r": round(cs[best], 3),
                      "r_at_0": round(cs[lags.index(0.0)], 3), "frames": n,
                      "mouth_min": min(mouth), "mouth_max": max(mouth),
                      "speech": round(speech, 3)}))


if __name__ == "__main__":
    main(sys.argv)
