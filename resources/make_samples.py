#!/usr/bin/env python3
"""Regenerate the bundled sample inputs and the app icon (developer tool).

Needs PySide6 and ffmpeg on the developer's machine; users never run it, the
outputs are committed:

    resources/samples/character.png   the demo's character picture (768x1152 PNG)
    resources/samples/motion.mp4      the demo's motion clip (5 s, 24 fps, 540x960,
                                      H.264 yuv420p + AAC, faststart)
    resources/samples/result.mp4      the demo's result: the character dancing the
                                      motion (same format, the motion clip's sound)
    resources/icons/app.svg           the app icon, and app-<N>.png renders

Usage: python resources/make_samples.py [--only character|motion|result|icons]
       python resources/make_samples.py --frames DIR   (also dump a few motion frames)
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QRadialGradient,
)
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"
ICONS = HERE / "icons"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)

# Motion clip format (see shared/API.md: 3..10 s, each side 340..3850 px).
FPS = 24
SECONDS = 5.0
VIDEO_W, VIDEO_H = 540, 960
BPM = 120.0


# --------------------------------------------------------------------------- rig

@dataclass(frozen=True)
class Palette:
    skin: str
    skin_shade: str
    hair: str
    hair_light: str
    top: str
    top_shade: str
    trim: str
    pants: str
    pants_shade: str
    shoe: str
    sole: str
    eye: str
    blush: str
    bun: bool = True
    hood: bool = True


CHARACTER = Palette(
    skin="#F6CFAE", skin_shade="#E9B08C", hair="#4A2E5C", hair_light="#6A4A80",
    top="#FF7F6E", top_shade="#E9665A", trim="#FFE2B8", pants="#2F5D7C",
    pants_shade="#254B66", shoe="#FFFFFF", sole="#F2A541", eye="#2B2138",
    blush="#FF8F8F",
)

DANCER = Palette(
    skin="#E2B48F", skin_shade="#CE9B76", hair="#2E2A33", hair_light="#47424F",
    top="#3FA7A0", top_shade="#318A84", trim="#EAF7F5", pants="#3D3F58",
    pants_shade="#30324A", shoe="#F4F4F4", sole="#8D91A8", eye="#23202A",
    blush="#E89A8C", bun=False, hood=False,
)


@dataclass(frozen=True)
class Pose:
    """Angles in degrees. Arms: 0 = hanging down, positive = swung outward/up.

    "left"/"right" are as the viewer sees them. The feet stay planted; the pelvis
    moves (sway, dip) and the legs follow by two-bone IK.
    """

    hip_dx: float = 0.0
    hip_dip: float = 0.0
    lean: float = 0.0
    head_tilt: float = 0.0
    l_shoulder: float = 14.0
    l_elbow: float = 8.0
    r_shoulder: float = 14.0
    r_elbow: float = 8.0
    stance: float = 64.0  # half the distance between the feet


# Body proportions in model units; the feet stand on y = 0, up is negative y.
HIP_Y = -455.0
TORSO = 300.0
NECK = 34.0
HEAD_R = 122.0
UPPER_ARM = 172.0
FOREARM = 168.0
THIGH = 202.0
SHIN = 197.0
ANKLE_Y = -60.0
SHOULDER_HALF = 92.0
HIP_HALF = 52.0


Point = tuple[float, float]


def _rot(x: float, y: float, deg: float) -> Point:
    """Rotate (x, y) clockwise on screen (Qt's direction) by deg."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return (x * c - y * s, x * s + y * c)


def _add(p: Point, q: Point) -> Point:
    return (p[0] + q[0], p[1] + q[1])


def _pt(p: Point) -> QPointF:
    return QPointF(p[0], p[1])


def _ik_knee(
    hip: Point, foot: Point, outward: float
) -> Point:
    dx, dy = foot[0] - hip[0], foot[1] - hip[1]
    d = max(1e-6, min(math.hypot(dx, dy), THIGH + SHIN - 1e-3))
    cos_a = (THIGH * THIGH + d * d - SHIN * SHIN) / (2 * THIGH * d)
    a = math.degrees(math.acos(max(-1.0, min(1.0, cos_a))))
    ux, uy = dx / d, dy / d
    # Knees bend outward (a plié seen from the front): sign picks the side.
    kx, ky = _rot(ux * THIGH, uy * THIGH, a if outward < 0 else -a)
    return (hip[0] + kx, hip[1] + ky)


def _pen(color: str, width: float) -> QPen:
    pen = QPen(QColor(color), width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _limb(p: QPainter, points: Iterable[Point], color: str, width: float) -> None:
    path = QPainterPath()
    pts = list(points)
    path.moveTo(_pt(pts[0]))
    for q in pts[1:]:
        path.lineTo(_pt(q))
    p.strokePath(path, _pen(color, width))


def arm_chain(pose: Pose, side: float) -> tuple[Point, Point, Point, float]:
    """Shoulder, elbow, wrist (model units) and forearm angle of one arm (side -1 = left)."""
    pelvis = (pose.hip_dx, HIP_Y + pose.hip_dip)
    sh = _add(pelvis, _rot(side * (SHOULDER_HALF - 10), -TORSO + 26, pose.lean))
    sh_angle, el_angle = (
        (pose.l_shoulder, pose.l_elbow) if side < 0 else (pose.r_shoulder, pose.r_elbow)
    )
    # positive angle = outward: clockwise on screen for the viewer's left arm
    a1 = -side * sh_angle + pose.lean
    a2 = a1 - side * el_angle
    elbow = _add(sh, _rot(0.0, UPPER_ARM, a1))
    wrist = _add(elbow, _rot(0.0, FOREARM, a2))
    return sh, elbow, wrist, a2


def draw_figure(p: QPainter, pose: Pose, pal: Palette) -> None:
    """Draw a front-facing figure in model units (feet on y=0, centred on x=0)."""
    p.setPen(Qt.PenStyle.NoPen)
    pelvis = (pose.hip_dx, HIP_Y + pose.hip_dip)

    # --- legs (planted feet, IK knees)
    for side in (-1.0, 1.0):
        hip = _add(pelvis, _rot(side * HIP_HALF, 0.0, pose.lean * 0.35))
        ankle = (side * pose.stance, ANKLE_Y)
        knee = _ik_knee(hip, ankle, side)
        _limb(p, [hip, knee, ankle], pal.pants, 86.0)
        # inner shade stripe gives the legs a little form
        _limb(p, [_add(hip, (side * 18, 10)), _add(knee, (side * 16, 0))], pal.pants_shade, 10.0)
        # sneaker: a rounded shape pointing slightly outward
        shoe = QPainterPath()
        fx = side * pose.stance
        shoe.addRoundedRect(QRectF(fx - 52 + side * 8, -66, 104, 62), 30, 30)
        p.fillPath(shoe, QColor(pal.shoe))
        sole = QPainterPath()
        sole.addRoundedRect(QRectF(fx - 54 + side * 8, -18, 108, 18), 9, 9)
        p.fillPath(sole, QColor(pal.sole))

    # --- torso (rotates about the pelvis)
    p.save()
    p.translate(_pt(pelvis))
    p.rotate(pose.lean)
    sh_y = -TORSO
    torso = QPainterPath()
    torso.moveTo(-SHOULDER_HALF - 8, sh_y + 40)
    torso.cubicTo(-SHOULDER_HALF - 10, sh_y - 6, -SHOULDER_HALF + 30, sh_y - 14, -40, sh_y - 14)
    torso.lineTo(40, sh_y - 14)
    torso.cubicTo(SHOULDER_HALF - 30, sh_y - 14, SHOULDER_HALF + 10, sh_y - 6, SHOULDER_HALF + 8,
                  sh_y + 40)
    torso.cubicTo(SHOULDER_HALF + 4, -120, HIP_HALF + 40, -60, HIP_HALF + 38, 14)
    torso.quadTo(0, 34, -HIP_HALF - 38, 14)
    torso.cubicTo(-HIP_HALF - 40, -60, -SHOULDER_HALF - 4, -120, -SHOULDER_HALF - 8, sh_y + 40)
    torso.closeSubpath()
    p.fillPath(torso, QColor(pal.top))
    # hem band
    p.save()
    p.setClipPath(torso)
    p.fillRect(QRectF(-200, -18, 400, 60), QColor(pal.top_shade))
    p.restore()
    if pal.hood:
        # hood collar behind the neck, kangaroo pocket, drawstrings
        collar = QPainterPath()
        collar.moveTo(-70, sh_y - 10)
        collar.quadTo(0, sh_y + 70, 70, sh_y - 10)
        collar.quadTo(0, sh_y + 22, -70, sh_y - 10)
        p.fillPath(collar, QColor(pal.top_shade))
        pocket = QPainterPath()
        pocket.moveTo(-70, -40)
        pocket.lineTo(-48, -125)
        pocket.lineTo(48, -125)
        pocket.lineTo(70, -40)
        pocket.closeSubpath()
        p.fillPath(pocket, QColor(pal.top_shade))
        for sx in (-22, 22):
            _limb(p, [(sx, sh_y + 30), (sx * 1.1, sh_y + 100)], pal.trim, 9)
            p.setBrush(QColor(pal.trim))
            p.drawEllipse(QPointF(sx * 1.1, sh_y + 104), 8, 8)
    else:
        # t-shirt: a simple round neckline and a chest stripe
        p.save()
        p.setClipPath(torso)
        p.fillRect(QRectF(-200, sh_y + 92, 400, 26), QColor(pal.trim))
        p.restore()
    p.restore()
    nb = _add(pelvis, _rot(0.0, sh_y, pose.lean))

    # --- arms (forward kinematics from the shoulders)
    for side in (-1.0, 1.0):
        sh, elbow, wrist, a2 = arm_chain(pose, side)
        cuff_a = _add(elbow, _rot(0.0, FOREARM * 0.64, a2))
        cuff_b = _add(elbow, _rot(0.0, FOREARM * 0.8, a2))
        _limb(p, [wrist, cuff_b], pal.skin, 36.0)
        _limb(p, [sh, elbow, cuff_a], pal.top, 60.0)
        band = _pen(pal.top_shade, 58.0)
        band.setCapStyle(Qt.PenCapStyle.FlatCap)
        p.setPen(band)
        p.drawLine(_pt(cuff_a), _pt(cuff_b))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(pal.skin))
        p.drawEllipse(_pt(_add(wrist, _rot(0.0, 10.0, a2))), 31, 31)

    # --- neck and head
    p.setBrush(QColor(pal.skin_shade))
    _limb(p, [nb, _add(nb, _rot(0.0, -NECK - 20, pose.lean * 0.5))], pal.skin_shade, 50.0)
    head_c = _add(nb, _rot(0.0, -NECK - HEAD_R + 14, pose.lean * 0.6))
    p.save()
    p.translate(_pt(head_c))
    p.rotate(pose.lean * 0.4 + pose.head_tilt)
    draw_head(p, pal)
    p.restore()


def draw_head(p: QPainter, pal: Palette) -> None:
    r = HEAD_R
    p.setPen(Qt.PenStyle.NoPen)
    hair = QColor(pal.hair)
    # back hair volume
    back = QPainterPath()
    back.addRoundedRect(QRectF(-r * 1.12, -r * 1.1, r * 2.24, r * 1.75), r * 0.9, r * 0.8)
    p.fillPath(back, hair)
    if pal.bun:
        p.setBrush(hair)
        p.drawEllipse(QPointF(0, -r * 1.12), r * 0.46, r * 0.42)
        p.setBrush(QColor(pal.hair_light))
        p.drawEllipse(QPointF(-r * 0.12, -r * 1.22), r * 0.14, r * 0.09)
    # ears
    p.setBrush(QColor(pal.skin_shade))
    for sx in (-1, 1):
        p.drawEllipse(QPointF(sx * r * 0.95, r * 0.12), r * 0.17, r * 0.21)
    # face
    p.setBrush(QColor(pal.skin))
    p.drawEllipse(QPointF(0, r * 0.04), r * 0.93, r * 0.96)
    # fringe: a cap with a soft swoop across the forehead
    fringe = QPainterPath()
    fringe.moveTo(-r * 0.98, r * 0.05)
    fringe.cubicTo(-r * 1.05, -r * 0.9, -r * 0.4, -r * 1.08, 0, -r * 1.05)
    fringe.cubicTo(r * 0.55, -r * 1.05, r * 1.06, -r * 0.75, r * 0.98, r * 0.05)
    fringe.cubicTo(r * 0.86, -r * 0.3, r * 0.6, -r * 0.42, r * 0.3, -r * 0.42)
    fringe.cubicTo(r * 0.05, -r * 0.42, -r * 0.2, -r * 0.55, -r * 0.32, -r * 0.72)
    fringe.cubicTo(-r * 0.45, -r * 0.45, -r * 0.75, -r * 0.35, -r * 0.98, r * 0.05)
    fringe.closeSubpath()
    p.fillPath(fringe, hair)
    shine = QPainterPath()
    shine.moveTo(r * 0.25, -r * 0.9)
    shine.quadTo(r * 0.6, -r * 0.88, r * 0.78, -r * 0.6)
    p.strokePath(shine, _pen(pal.hair_light, r * 0.09))
    # eyes with highlights
    for sx in (-1, 1):
        p.setBrush(QColor(pal.eye))
        p.drawEllipse(QPointF(sx * r * 0.37, r * 0.12), r * 0.1, r * 0.14)
        p.setBrush(QColor("#FFFFFF"))
        p.drawEllipse(QPointF(sx * r * 0.37 + r * 0.035, r * 0.065), r * 0.04, r * 0.045)
        # brows
        brow = QPainterPath()
        brow.moveTo(sx * r * 0.25, -r * 0.13)
        brow.quadTo(sx * r * 0.38, -r * 0.2, sx * r * 0.5, -r * 0.12)
        p.strokePath(brow, _pen(pal.hair, r * 0.055))
    # cheeks
    blush = QColor(pal.blush)
    blush.setAlphaF(0.45)
    p.setBrush(blush)
    for sx in (-1, 1):
        p.drawEllipse(QPointF(sx * r * 0.58, r * 0.4), r * 0.15, r * 0.09)
    # smile
    smile = QPainterPath()
    smile.moveTo(-r * 0.16, r * 0.4)
    smile.quadTo(0, r * 0.58, r * 0.16, r * 0.4)
    p.strokePath(smile, _pen(pal.eye, r * 0.055))


def _ground_shadow(p: QPainter, cx: float, cy: float, rx: float, ry: float, alpha: float) -> None:
    g = QRadialGradient(QPointF(cx, cy), rx)
    c = QColor(40, 30, 70)
    c.setAlphaF(alpha)
    g.setColorAt(0.0, c)
    c2 = QColor(40, 30, 70)
    c2.setAlphaF(0.0)
    g.setColorAt(1.0, c2)
    p.save()
    p.translate(cx, cy)
    p.scale(1.0, ry / rx)
    p.translate(-cx, -cy)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(g))
    p.drawEllipse(QPointF(cx, cy), rx, rx)
    p.restore()


# ------------------------------------------------------------------ character.png

CHARACTER_W, CHARACTER_H = 768, 1152


def draw_character_backdrop(p: QPainter, w: float, h: float) -> None:
    """The character picture's scene (768x1152 design units): warm gradient, a soft
    disc, calm confetti and a floor hill. Drawn with the painter's current transform."""
    bg = QLinearGradient(0, 0, 0, h)
    bg.setColorAt(0.0, QColor("#FFF4E8"))
    bg.setColorAt(0.55, QColor("#FCE6EC"))
    bg.setColorAt(1.0, QColor("#EDE7FB"))
    p.fillRect(QRectF(0, 0, w, h), QBrush(bg))
    # big soft disc behind the upper body, and a few calm confetti shapes
    p.setPen(Qt.PenStyle.NoPen)
    disc = QColor("#FFFFFF")
    disc.setAlphaF(0.55)
    p.setBrush(disc)
    p.drawEllipse(QPointF(w / 2, h * 0.36), 300, 300)
    confetti = [
        (110, 210, 14, "#FFB38A"), (655, 170, 10, "#B9A7F5"), (640, 560, 16, "#FFD37A"),
        (120, 640, 10, "#8FD3C8"), (90, 420, 7, "#F59BB5"), (690, 380, 7, "#8FD3C8"),
    ]
    for x, y, r, col in confetti:
        c = QColor(col)
        c.setAlphaF(0.8)
        p.setBrush(c)
        p.drawEllipse(QPointF(x, y), r, r)
    # floor: a gentle hill of colour
    floor = QPainterPath()
    floor.moveTo(0, h * 0.86)
    floor.quadTo(w / 2, h * 0.82, w, h * 0.86)
    floor.lineTo(w, h)
    floor.lineTo(0, h)
    floor.closeSubpath()
    p.fillPath(floor, QColor("#E3DAF7"))


def render_character(path: Path) -> None:
    w, h = CHARACTER_W, CHARACTER_H
    img = QImage(w, h, QImage.Format.Format_RGB32)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw_character_backdrop(p, w, h)

    scale = 0.84
    ground_y = h * 0.905
    _ground_shadow(p, w / 2, ground_y, 170, 26, 0.28)
    p.save()
    p.translate(w / 2, ground_y)
    p.scale(scale, scale)
    draw_figure(p, Pose(l_shoulder=16, r_shoulder=16, l_elbow=10, r_elbow=10, head_tilt=-4),
                CHARACTER)
    p.restore()
    p.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not img.save(str(path)):
        raise SystemExit(f"could not write {path}")


# ------------------------------------------------------------------- motion.mp4

def _ease(x: float) -> float:
    x = max(0.0, min(1.0, x))
    return x * x * (3 - 2 * x)


def _lerp(a: float, b: float, k: float) -> float:
    return a + (b - a) * k


def dance_pose(t: float) -> Pose:
    """A simple, readable groove at 120 BPM, kept inside a portrait frame.

    The dancer sways once per two beats and dips on every beat. The arms rise
    (elbows bent, so the hands never swing wide), wave overhead together like
    windscreen wipers, then pump up in alternation for the second half.
    """
    beat = BPM / 60.0
    rise = _ease(t / 0.7)  # from standing to dancing
    sway = math.sin(math.pi * beat * t)  # one side-to-side per two beats
    dip = 0.5 - 0.5 * math.cos(2 * math.pi * beat * t)  # down on every beat
    pulse = math.sin(2 * math.pi * beat * t)
    second = _ease((t - 2.4) / 0.6)  # wipers -> pumps
    pump = math.sin(math.pi * beat * t + 0.5)

    rest = Pose()
    l_target = _lerp(150 - 24 * sway, 134 + 28 * pump, second)
    r_target = _lerp(150 + 24 * sway, 134 - 28 * pump, second)
    l_el_target = _lerp(8 + 10 * pulse, 12 + 72 * (0.5 - 0.5 * pump), second)
    r_el_target = _lerp(8 - 10 * pulse, 12 + 72 * (0.5 + 0.5 * pump), second)
    # Going up, the forearms rise first ("hands up", elbows low), then the
    # shoulders: the hands stay close to the body and inside the frame.
    fore = _ease(t / 0.45)
    l_sh = _lerp(rest.l_shoulder, l_target, _ease((t - 0.15) / 0.6))
    r_sh = _lerp(rest.r_shoulder, r_target, _ease((t - 0.15) / 0.6))
    return replace(
        rest,
        hip_dx=44 * sway * rise,
        hip_dip=32 * dip * rise,
        lean=7 * sway * rise,
        head_tilt=-6 * sway * rise,
        l_shoulder=l_sh,
        r_shoulder=r_sh,
        l_elbow=_lerp(rest.l_shoulder + rest.l_elbow, l_target + l_el_target, fore) - l_sh,
        r_elbow=_lerp(rest.r_shoulder + rest.r_elbow, r_target + r_el_target, fore) - r_sh,
    )


MOTION_SCALE = 0.62
MOTION_GROUND = 0.88


def check_motion_framing(margin: float = 24.0) -> None:
    """The whole dancer (hands, head) must stay inside the frame in every frame."""
    for i in range(round(SECONDS * FPS)):
        pose = dance_pose(i / FPS)
        for side in (-1.0, 1.0):
            wrist = arm_chain(pose, side)[2]
            x = VIDEO_W / 2 + wrist[0] * MOTION_SCALE
            y = VIDEO_H * MOTION_GROUND + wrist[1] * MOTION_SCALE
            reach = 45 * MOTION_SCALE  # hand radius and a little
            if not (margin + reach <= x <= VIDEO_W - margin - reach and y >= margin + reach):
                raise SystemExit(f"frame {i}: a hand leaves the picture at ({x:.0f}, {y:.0f})")


def render_motion_frame(t: float) -> QImage:
    w, h = VIDEO_W, VIDEO_H
    img = QImage(w, h, QImage.Format.Format_RGBA8888)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    wall = QLinearGradient(0, 0, 0, h)
    wall.setColorAt(0.0, QColor("#EEF1F5"))
    wall.setColorAt(0.78, QColor("#E2E7EE"))
    p.fillRect(0, 0, w, h, QBrush(wall))
    floor_y = h * 0.80
    p.fillRect(QRectF(0, floor_y, w, h - floor_y), QColor("#CFD6E0"))
    p.fillRect(QRectF(0, floor_y - 3, w, 6), QColor("#BCC5D2"))
    pose = dance_pose(t)
    scale, ground_y = MOTION_SCALE, h * MOTION_GROUND
    _ground_shadow(p, w / 2 + pose.hip_dx * scale * 0.5, ground_y, 135, 18, 0.3)
    p.save()
    p.translate(w / 2, ground_y)
    p.scale(scale, scale)
    draw_figure(p, pose, DANCER)
    p.restore()
    p.end()
    return img


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if not exe:
        raise SystemExit("ffmpeg is needed to encode the motion clip (apt install ffmpeg)")
    return exe


# A soft 120 BPM groove: a round kick on each beat, a quiet shaker on the
# off-beats and a gentle Cmaj7 pad; faded in and out.
_KICK = "0.5*sin(2*PI*(48*mod(t,0.5)+3.2*(1-exp(-25*mod(t,0.5)))))*exp(-9*mod(t,0.5))"
_SHAKER = "0.035*(2*random(0)-1)*exp(-45*mod(t+0.25,0.5))"
_PAD = ("0.035*(sin(2*PI*261.63*t)+sin(2*PI*329.63*t)+sin(2*PI*392*t)+sin(2*PI*493.88*t))"
        "*(0.75+0.25*sin(2*PI*0.5*t))")
AUDIO_EXPR = f"{_KICK}+{_SHAKER}+{_PAD}"


def _encode(path: Path, frame: Callable[[float], QImage], audio: list[str], title: str) -> None:
    """Pipe SECONDS of ``frame(t)`` (RGBA, VIDEO_W x VIDEO_H) through ffmpeg to an MP4:
    H.264 yuv420p + AAC, faststart. ``audio``: ffmpeg input arguments of the sound."""
    frames = round(SECONDS * FPS)
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        _ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{VIDEO_W}x{VIDEO_H}",
        "-framerate", str(FPS), "-i", "-",
        *audio,
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "slow", "-crf", "21", "-tune", "animation",
        "-profile:v", "high", "-pix_fmt", "yuv420p", "-g", str(FPS * 2),
        "-c:a", "aac", "-b:a", "96k", "-ac", "2",
        "-t", f"{SECONDS}", "-movflags", "+faststart", "-map_metadata", "-1",
        "-metadata", f"title={title}",
        str(path),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for i in range(frames):
            img = frame(i / FPS)
            proc.stdin.write(bytes(img.constBits()))
    finally:
        proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit(f"ffmpeg failed ({proc.returncode}) writing {path}")


def render_motion(path: Path) -> None:
    check_motion_framing()
    audio = (f"aevalsrc='{AUDIO_EXPR}':s=44100:d={SECONDS},"
             f"afade=t=in:d=0.15,afade=t=out:st={SECONDS - 0.6}:d=0.6,lowpass=f=6000")
    _encode(path, render_motion_frame, ["-f", "lavfi", "-i", audio],
            "Kling Motion Studio sample motion")


# -------------------------------------------------------------------- result.mp4

def render_result_frame(t: float) -> QImage:
    """The demo's "generated" video: the character of character.png, in its own scene,
    dancing the motion clip's dance (same rig, pose, framing and timing)."""
    w, h = VIDEO_W, VIDEO_H
    img = QImage(w, h, QImage.Format.Format_RGBA8888)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    # The picture's scene, scaled to the frame's height and centred: a portrait crop.
    cover = h / CHARACTER_H
    p.save()
    p.translate((w - CHARACTER_W * cover) / 2, 0)
    p.scale(cover, cover)
    draw_character_backdrop(p, CHARACTER_W, CHARACTER_H)
    p.restore()
    pose = dance_pose(t)
    scale, ground_y = MOTION_SCALE, h * MOTION_GROUND
    _ground_shadow(p, w / 2 + pose.hip_dx * scale * 0.5, ground_y, 135, 18, 0.28)
    p.save()
    p.translate(w / 2, ground_y)
    p.scale(scale, scale)
    draw_figure(p, pose, CHARACTER)
    p.restore()
    p.end()
    return img


def render_result(path: Path, motion: Path) -> None:
    """The result, with the motion clip's own sound (copied, not re-made)."""
    if not motion.is_file():
        raise SystemExit(f"{motion} is needed for its sound: run with --only motion first")
    check_motion_framing()
    _encode(path, render_result_frame, ["-i", str(motion)],
            "Kling Motion Studio sample result")


def dump_frames(folder: Path, times: Iterable[float]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for t in times:
        render_motion_frame(t).save(str(folder / f"frame-{t:04.2f}.png"))


# ------------------------------------------------------------------------- icons

APP_SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
  <title>Kling Motion Studio</title>
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#7B5CFF"/>
      <stop offset="0.55" stop-color="#E956A8"/>
      <stop offset="1" stop-color="#FF8A5B"/>
    </linearGradient>
  </defs>
  <rect x="16" y="16" width="480" height="480" rx="112" fill="url(#bg)"/>
  <g fill="none" stroke="#FFFFFF" stroke-linecap="round" stroke-linejoin="round">
    <g stroke-opacity="0.6" stroke-width="30">
      <path d="M72 262 H130"/>
      <path d="M52 326 H116"/>
    </g>
    <g stroke-width="56">
      <path d="M266 216 L240 312"/>
      <path d="M262 230 L340 206 L386 132"/>
      <path d="M258 234 L184 226 L152 168"/>
      <path d="M240 312 L322 352 L314 436"/>
      <path d="M240 312 L198 384 L134 404"/>
    </g>
  </g>
  <circle cx="246" cy="120" r="50" fill="#FFFFFF"/>
</svg>
"""


def render_icons(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    svg_path = folder / "app.svg"
    svg_path.write_text(APP_SVG, encoding="utf-8")
    renderer = QSvgRenderer(QByteArray(APP_SVG.encode("utf-8")))
    if not renderer.isValid():
        raise SystemExit("the icon SVG did not parse")
    for size in ICON_SIZES:
        img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(p, QRectF(0, 0, size, size))
        p.end()
        out = folder / f"app-{size}.png"
        if not img.save(str(out)):
            raise SystemExit(f"could not write {out}")


# -------------------------------------------------------------------------- main

def refuse_broken_pyside() -> None:
    """Stop early on a PySide6 build that loses a reference to None per call.

    PySide6 6.12.0 under Python 3.11 decrements None's reference count on every
    call of a method returning nothing; after a few thousand calls Python aborts
    with "deallocating None". Python >= 3.12 is immune (None is immortal).
    """
    if sys.version_info >= (3, 12):
        return
    probe = QPointF()
    before = sys.getrefcount(None)
    for _ in range(200):
        probe.setX(1.0)
    if sys.getrefcount(None) < before - 100:
        import PySide6

        raise SystemExit(
            f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} loses a reference"
            " to None on every call and would crash while drawing. Use PySide6 < 6.12"
            " (pip install 'PySide6-Essentials<6.12') or Python >= 3.12."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", choices=("character", "motion", "result", "icons"),
                        action="append")
    parser.add_argument("--frames", type=Path, help="also save a few motion frames as PNG here")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    refuse_broken_pyside()
    wanted = set(args.only or ("character", "motion", "result", "icons"))
    if "character" in wanted:
        render_character(SAMPLES / "character.png")
        print(f"wrote {SAMPLES / 'character.png'}")
    if "motion" in wanted:
        render_motion(SAMPLES / "motion.mp4")
        print(f"wrote {SAMPLES / 'motion.mp4'}")
    if "result" in wanted:
        render_result(SAMPLES / "result.mp4", SAMPLES / "motion.mp4")
        print(f"wrote {SAMPLES / 'result.mp4'}")
    if "icons" in wanted:
        render_icons(ICONS)
        print(f"wrote {ICONS}/app.svg and app-{{{','.join(map(str, ICON_SIZES))}}}.png")
    if args.frames:
        dump_frames(args.frames, (0.0, 0.5, 1.0, 1.6, 2.25, 3.0, 3.6, 4.2, 4.9))
        print(f"wrote frames to {args.frames}")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
