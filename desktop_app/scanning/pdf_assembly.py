"""Assemble encoded pages into one PDF, atomically.

img2pdf embeds each JPEG as a DCTDecode stream and each single-strip G4 TIFF as a
CCITTFaxDecode stream, byte for byte (no generational loss, no decoding of A0 pixels),
with the page size taken from the image's dpi so the PDF prints at 100 % scale. pikepdf
then adds the metadata (document info and XMP) and each page's /Rotate, and writes the
final file. Writing goes to a temporary file in the destination directory, is fsynced and
renamed over the target: after a power cut the target is either the old file or the new
one, never half a PDF."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import img2pdf
import pikepdf
from pikepdf.models.metadata import encode_pdf_date

from desktop_app.domain.errors import DomainError
from desktop_app.files import replacing, sha256_and_size, temp_path
from desktop_app.scanning.model import CancelToken, PdfMetadata, ProcessedPage, check_cancelled

PRODUCER = "Một Cửa Offline"
XMP_NAMESPACE = "https://motcua-offline.vn/ns/xmp/1.0/"  # dossier code and component


class PdfAssemblyError(DomainError):
    pass


@dataclass(frozen=True)
class WrittenPdf:
    path: Path
    pages: int
    bytes: int
    sha256: str


def write_pdf(pages: Sequence[ProcessedPage], out_path: Path, meta: PdfMetadata,
              cancel: CancelToken | None = None) -> WrittenPdf:
    """Write ``pages`` (in order) to ``out_path`` with ``meta``; returns size and SHA-256."""
    if not pages:
        raise PdfAssemblyError("Không có trang nào để tạo tệp PDF.", f"{out_path}: no pages")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    raw = temp_path(out_path, ".img2pdf.tmp")
    # A rewritten PDF keeps its mode; a new one is an ordinary document for the clerk.
    mode = out_path.stat().st_mode & 0o777 if out_path.exists() else 0o644
    try:
        check_cancelled(cancel)
        with raw.open("wb") as f:
            # Rotation.none: pages are already upright; the clerk's rotation is /Rotate.
            img2pdf.convert([str(p.image_path) for p in pages], outputstream=f,
                            rotation=img2pdf.Rotation.none, nodate=True)
        check_cancelled(cancel)
        with pikepdf.open(raw) as pdf:
            if len(pdf.pages) != len(pages):
                raise PdfAssemblyError("Tạo tệp PDF bị lỗi: số trang không khớp.",
                                       f"{len(pdf.pages)} PDF pages for {len(pages)} images")
            for pdf_page, page in zip(pdf.pages, pages, strict=True):
                if page.rotation % 360:
                    pdf_page.obj.Rotate = page.rotation % 360
            _set_metadata(pdf, meta)
            with replacing(out_path, suffix=".pdf.tmp", mode=mode) as final_tmp:
                # Streams are copied as they are: JPEG and CCITT data are never decoded.
                pdf.save(final_tmp, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                         object_stream_mode=pikepdf.ObjectStreamMode.generate,
                         recompress_flate=False)
                digest, size = sha256_and_size(final_tmp)
                check_cancelled(cancel)
        return WrittenPdf(out_path, len(pages), size, digest)
    except (OSError, img2pdf.ImageOpenError, img2pdf.PdfTooLargeError, ValueError,
            pikepdf.PdfError) as exc:
        raise PdfAssemblyError(f"Không ghi được tệp PDF {out_path.name}: {exc}.",
                               f"{out_path}: {type(exc).__name__}: {exc}") from exc
    finally:
        raw.unlink(missing_ok=True)


def _nfc(text: str | None) -> str | None:
    return unicodedata.normalize("NFC", text).strip() if text else None


def _created(meta: PdfMetadata) -> datetime:
    if meta.created_at_iso:
        try:
            moment = datetime.fromisoformat(meta.created_at_iso)
        except ValueError as exc:
            raise PdfAssemblyError("Thời điểm tạo tài liệu không hợp lệ.",
                                   f"created_at_iso {meta.created_at_iso!r}") from exc
    else:
        moment = datetime.now()
    return moment if moment.tzinfo else moment.astimezone()


def describe(meta: PdfMetadata) -> str:
    """The subject line: what the file is, for readers that show document properties."""
    parts = [f"Hồ sơ {meta.dossier_code}" if meta.dossier_code else None,
             f"thành phần: {meta.component}" if meta.component else None,
             meta.agency]
    return " — ".join(_nfc(p) or "" for p in parts if p) or "Tài liệu số hóa"


def _set_metadata(pdf: pikepdf.Pdf, meta: PdfMetadata) -> None:
    created = _created(meta)
    title = _nfc(meta.title) or "Tài liệu số hóa"
    subject = describe(meta)
    keywords = ", ".join(v for v in (_nfc(meta.dossier_code), _nfc(meta.component)) if v)
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
        xmp.register_xml_namespace(XMP_NAMESPACE, "motcua")
        xmp["dc:title"] = title
        xmp["dc:description"] = subject
        if meta.clerk:
            xmp["dc:creator"] = [_nfc(meta.clerk)]
        if meta.dossier_code:
            xmp["dc:identifier"] = _nfc(meta.dossier_code)
            xmp[f"{{{XMP_NAMESPACE}}}dossierCode"] = _nfc(meta.dossier_code)
        if meta.component:
            xmp[f"{{{XMP_NAMESPACE}}}component"] = _nfc(meta.component)
        if meta.agency:
            xmp[f"{{{XMP_NAMESPACE}}}agency"] = _nfc(meta.agency)
        if keywords:
            xmp["pdf:Keywords"] = keywords
        xmp["pdf:Producer"] = PRODUCER
        xmp["xmp:CreatorTool"] = PRODUCER
        xmp["xmp:CreateDate"] = created.isoformat()
        xmp["xmp:ModifyDate"] = created.isoformat()
        xmp["xmp:MetadataDate"] = created.isoformat()
    info = pdf.docinfo
    info["/Title"] = title
    info["/Subject"] = subject
    if meta.clerk:
        info["/Author"] = _nfc(meta.clerk)
    if keywords:
        info["/Keywords"] = keywords
    info["/Creator"] = PRODUCER
    info["/Producer"] = PRODUCER
    info["/CreationDate"] = encode_pdf_date(created)
    info["/ModDate"] = encode_pdf_date(created)
