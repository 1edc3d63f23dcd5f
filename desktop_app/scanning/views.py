"""Downscaled views of encoded pages for the studio's viewer: never decode an A0 page at
full resolution just to look at it (JPEG ``draft`` scales inside the decoder)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from desktop_app.domain.errors import DomainError


class ViewError(DomainError):
    pass


@dataclass(frozen=True)
class RawView:
    width: int
    height: int
    rgb: bytes  # width * height * 3 bytes, RGB888


def load_scaled(path: Path, max_side: int) -> RawView:
    try:
        with Image.open(path) as im:
            scale = max(im.width, im.height) / max_side
            if scale > 1:
                size = (max(1, round(im.width / scale)), max(1, round(im.height / scale)))
                im.draft("RGB", size)  # JPEG: decoded at 1/2, 1/4 or 1/8 directly
                if max(im.width, im.height) > max_side:
                    reduced = im.reduce(max(1, int(max(im.width, im.height) / max_side)))
                    reduced.thumbnail((max_side, max_side))
                    view = reduced.convert("RGB")
                else:
                    view = im.convert("RGB")
            else:
                view = im.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ViewError("Không mở được ảnh trang để xem.", f"view {path}: {exc!r}") from exc
    return RawView(view.width, view.height, view.tobytes())
