"""Reading the QR codes of a Memvid V1 video (needs the ``v1`` extra: PyAV and zxing-cpp).

V1 writes one frame per chunk: a QR code (version 35 or more, error correction M) of
``json.dumps({"id", "text", "frame"})``, or of ``"GZ:" + base64(gzip(json))`` when that JSON
is longer than 100 characters, scaled down to 256x256 pixels. At that size a module is about
1.6 pixels wide and lossy video blurs it, so V1's own reader (OpenCV's ``QRCodeDetector``)
reads none of them. zxing-cpp reads most frames as decoded; those it misses are tried again
upscaled bicubically 3x and 4x, which restores enough of the module grid for the rest that
the codec did not destroy (measured rates: docs/import-v1.md).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from dataclasses import dataclass
from typing import Callable

from ..errors import CorruptFileError, UnsupportedError

UPSCALES = (1, 3, 4)
MAX_UPSCALED_PIXELS = 4096 * 4096  # V1 frames are 256x256; never upscale a large video frame
MAX_PAYLOAD_TEXT = 1 << 24


TAIL_ERROR = "undecodable video from here"


@dataclass(frozen=True)
class VideoFrame:
    frame: int                 # position in the video, from 0
    payload: dict | None       # {"id", "text", "frame"} when the QR code was read
    problem: str | None = None  # why not: "unreadable" or "not-v1"


def parse_payload(text: str) -> dict:
    """A V1 QR payload as the dict V1 encoded; ``ValueError`` if it is not one."""
    if text.startswith("GZ:"):
        try:
            raw = gzip.decompress(base64.b64decode(text[3:], validate=True))
        except (binascii.Error, OSError, EOFError, zlib.error):
            raise ValueError("GZ: payload is not base64 gzip") from None
        if len(raw) > MAX_PAYLOAD_TEXT:
            raise ValueError("payload too large")
        text = raw.decode("utf-8", errors="strict")
    doc = json.loads(text)
    if not isinstance(doc, dict) or set(doc) != {"id", "text", "frame"} or not isinstance(doc["text"], str) \
            or type(doc["id"]) is not int or type(doc["frame"]) is not int:
        raise ValueError("not a V1 chunk")
    return doc


def _decoders():
    try:
        import av
        import zxingcpp
    except ImportError as exc:
        raise UnsupportedError(f"reading a V1 video needs the v1 extra (pip install 'mv2[v1]'): {exc.name} is missing",
                               code="MV2-E-UNSUPPORTED") from None
    return av, zxingcpp


def decoder_available() -> bool:
    try:
        _decoders()
    except UnsupportedError:
        return False
    return True


def read_video(path: str, *, progress: Callable[[int, int | None], None] | None = None) -> list[VideoFrame]:
    """Every frame of the video, in order, with its QR payload where one could be read."""
    av, zxingcpp = _decoders()
    out: list[VideoFrame] = []
    try:
        container = av.open(path)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise CorruptFileError(f"{path} cannot be opened as a video (damaged, or not one): {exc}",
                               code="MV2-E-V1-FORMAT") from None
    with container:
        if not container.streams.video:
            raise CorruptFileError(f"{path}: the file has no video stream", code="MV2-E-V1-FORMAT")
        stream = container.streams.video[0]
        total = stream.frames or None
        try:
            for i, fr in enumerate(container.decode(stream)):
                out.append(_read_frame(i, fr, zxingcpp))
                if progress is not None:
                    progress(i + 1, total)
        except av.FFmpegError as exc:
            # A damaged tail: the frames decoded so far stand; this last entry, which is no
            # frame, says why the rest are absent (the import reports it).
            out.append(VideoFrame(len(out), None, f"{TAIL_ERROR}: {exc}"))
    return out


def _read_frame(i: int, fr, zxingcpp) -> VideoFrame:
    import numpy as np

    seen_qr = False
    for scale in UPSCALES:
        w, h = fr.width * scale, fr.height * scale
        if scale > 1 and w * h > MAX_UPSCALED_PIXELS:
            break
        img = fr.reformat(width=w, height=h, format="gray", interpolation="BICUBIC" if scale > 1 else None).to_ndarray()
        img = np.ascontiguousarray(img[:, :w])  # rows may carry alignment padding
        for res in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode):
            seen_qr = True
            try:
                return VideoFrame(i, parse_payload(res.text))
            except (ValueError, UnicodeDecodeError, RecursionError):
                continue
    return VideoFrame(i, None, "not-v1" if seen_qr else "unreadable")
