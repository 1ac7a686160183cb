"""Image uploads (covers, logos): checked, stripped of metadata, stored by content hash."""

import hashlib
import io
from pathlib import Path

from flask import abort, current_app, send_from_directory
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from legami.validation import Invalid

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 40_000_000


def init_app(app) -> None:
    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)
    app.add_url_rule("/uploads/<name>", "uploads.serve", serve)


def serve(name: str):
    if "/" in name or name.startswith("."):
        abort(404)
    response = send_from_directory(current_app.config["UPLOAD_FOLDER"], name, max_age=31536000)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def save_image(storage, field: str) -> str:
    """Validate an uploaded image and store it; returns the stored name. Raises Invalid."""
    data = storage.read(current_app.config["MAX_IMAGE_BYTES"] + 1)
    if len(data) > current_app.config["MAX_IMAGE_BYTES"]:
        limit = current_app.config["MAX_IMAGE_BYTES"] // (1024 * 1024)
        raise Invalid({field: _l("The image is larger than %(limit)s MB.", limit=limit)})
    try:
        image = Image.open(io.BytesIO(data))
        image_format = image.format
        if image_format not in FORMATS or image.width * image.height > MAX_PIXELS:
            raise Invalid({field: _l("Upload a JPEG, PNG or WebP image.")})
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Invalid({field: _l("Upload a JPEG, PNG or WebP image.")}) from exc
    # Re-encoding drops EXIF (camera, GPS position) that a photo of a pact could reveal.
    out = io.BytesIO()
    if image_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, format=image_format, quality=88)
    clean = out.getvalue()
    name = f"{hashlib.sha256(clean).hexdigest()[:32]}.{FORMATS[image_format]}"
    path = Path(current_app.config["UPLOAD_FOLDER"]) / name
    if not path.exists():
        path.write_bytes(clean)
    return name
