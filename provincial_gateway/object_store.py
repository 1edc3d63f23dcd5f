"""Blobs and tus upload segments in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW…),
so that gateway replicas on several machines share them.

Keys: `<prefix>blobs/ab/cdef…` and `<prefix>uploads/<upload id>/<segment name>`. The
bucket must exist (it is never created here: a typo must not silently start an empty
store). Endpoint, region and credentials come from the standard AWS environment
variables (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, `AWS_DEFAULT_REGION`,
`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`), which botocore reads itself: never from
the command line, where `ps` would show a secret.

boto3 is the `s3` extra: imported only when a store is opened, so a gateway installed
without it starts on the local store as before."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provincial_gateway.blobstore import READ_CHUNK, SEGMENT_NAME, BlobStore, LocalBlobStore

if TYPE_CHECKING:
    from provincial_gateway.config import GatewayConfig

log = logging.getLogger("provincial_gateway")

S3_EXTRA = "motcua-offline[s3]"
S3_SCHEME = "s3://"
# S3's rules: every part of a multipart upload but the last is at least 5 MiB; one
# UploadPartCopy copies at most 5 GiB.
PART_MIN = 5 * 1024 * 1024
COPY_PART_MAX = 5 * 1024 * 1024 * 1024
# Parts built from small segments are assembled in memory up to this size: the memory a
# compose needs, whatever the blob's size.
PART_SIZE = 8 * 1024 * 1024
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}


class ObjectStoreError(Exception):
    """The object store is unreachable, too slow, or refused a request. `message` is
    Vietnamese (for the technician or the station), `detail` English (for the log)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class ObjectStoreNotInstalled(Exception):
    """`s3://…` was asked for in an install without boto3 (the `s3` extra)."""

    def __init__(self, module: str) -> None:
        super().__init__(f"Kho tệp S3 cần gói “{module}”, bản cài này chưa có. "
                         f"Cài thêm: pip install '{S3_EXTRA}'")


class BlobStoreSettingError(ValueError):
    """A blob-store setting that is neither empty, `local` nor `s3://bucket/prefix`."""


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/optional/prefix` → ("bucket", "optional/prefix/") (prefix "" or
    ending in "/")."""
    if not url.startswith(S3_SCHEME):
        raise BlobStoreSettingError(
            f"Kho tệp “{url}” không hợp lệ: dùng s3://tên-bucket/tiền-tố-tùy-chọn "
            "hoặc để trống (lưu trong thư mục dữ liệu).")
    bucket, _, prefix = url[len(S3_SCHEME):].partition("/")
    prefix = prefix.strip("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise BlobStoreSettingError(f"Tên bucket “{bucket}” không hợp lệ trong {url}.")
    return bucket, f"{prefix}/" if prefix else ""


def open_blob_store(config: GatewayConfig) -> BlobStore:
    """The store the configuration names: local under the data directory, or S3 (the
    bucket checked: it must exist and answer)."""
    url = config.blob_store_url
    if not url:
        return LocalBlobStore(config.data_dir)
    bucket, prefix = parse_s3_url(url)
    for module in ("boto3", "botocore", "s3transfer"):
        try:
            __import__(module)
        except ImportError:
            raise ObjectStoreNotInstalled(module) from None
    store = S3BlobStore(bucket, prefix, scratch=config.data_dir / "scratch")
    store.check_bucket()
    log.info("blob store: s3://%s/%s", bucket, prefix)
    return store


def _custom_endpoint() -> bool:
    return bool(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))


def make_client(*, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                max_attempts: int = 4) -> Any:
    """An S3 client from the environment, with standard retries and bounded timeouts (a
    dead endpoint costs seconds, not the default minute per attempt)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout, read_timeout=read_timeout,
        retries={"mode": "standard", "max_attempts": max_attempts},
        # S3-compatible servers on a custom endpoint (MinIO, Ceph) are usually reached by
        # path; AWS itself by virtual host.
        s3={"addressing_style": "path"} if _custom_endpoint() else None)
    return boto3.session.Session().client("s3", config=config)


class S3BlobStore(BlobStore):
    """Blobs and segments as objects of one bucket under `prefix`; `scratch` is local."""

    def __init__(self, bucket: str, prefix: str = "", *, scratch: Path,
                 client: Any = None, part_size: int = PART_SIZE) -> None:
        from boto3.s3.transfer import TransferConfig

        if part_size < PART_MIN:
            raise ValueError("part_size below S3's 5 MiB minimum")
        self.bucket = bucket
        self.prefix = prefix
        self.scratch = Path(scratch)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.client = client if client is not None else make_client()
        self.part_size = part_size
        # Multipart above one part, two parts in flight: memory stays a few parts.
        self.transfer = TransferConfig(multipart_threshold=part_size,
                                       multipart_chunksize=part_size, max_concurrency=2)

    def close(self) -> None:
        self.client.close()

    # --- keys ---------------------------------------------------------------------------
    def blob_key(self, sha256: str) -> str:
        return f"{self.prefix}blobs/{sha256[:2]}/{sha256[2:]}"

    def upload_prefix(self, upload_id: str) -> str:
        if not UPLOAD_ID.match(upload_id):
            raise ValueError(f"unsafe upload id {upload_id!r}")
        return f"{self.prefix}uploads/{upload_id}/"

    def segment_key(self, upload_id: str, name: str) -> str:
        if not SEGMENT_NAME.match(name):
            raise ValueError(f"unsafe segment name {name!r}")
        return self.upload_prefix(upload_id) + name

    # --- errors -------------------------------------------------------------------------
    @contextmanager
    def _calls(self, what: str) -> Iterator[None]:
        """S3 failures (after botocore's retries) as ObjectStoreError with one log line."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            detail = f"{what}: HTTP {status} {err.get('Code')}: {err.get('Message')}"
            log.error("object store s3://%s: %s", self.bucket, detail)
            raise ObjectStoreError("Kho tệp S3 từ chối yêu cầu; hãy thử lại sau.", detail
                                   ) from exc
        except (BotoCoreError, Boto3Error) as exc:
            detail = f"{what}: {type(exc).__name__}: {exc}"
            log.error("object store s3://%s: %s", self.bucket, detail)
            raise ObjectStoreError("Không kết nối được kho tệp S3; hãy thử lại sau.", detail
                                   ) from exc

    @staticmethod
    def _is_not_found(exc: Exception) -> bool:
        from botocore.exceptions import ClientError

        return isinstance(exc, ClientError) and str(
            exc.response.get("Error", {}).get("Code")) in NOT_FOUND_CODES

    def check_bucket(self) -> None:
        """At start: the bucket exists and answers (HeadBucket)."""
        from botocore.exceptions import ClientError

        try:
            with self._calls(f"HeadBucket {self.bucket}"):
                self.client.head_bucket(Bucket=self.bucket)
        except ObjectStoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and str(cause.response.get("Error", {}).get(
                    "Code")) in NOT_FOUND_CODES | {"NoSuchBucket"}:
                raise ObjectStoreError(
                    f"Không có bucket “{self.bucket}” trên kho tệp S3. Hãy tạo bucket trước "
                    "(cổng không tự tạo) hoặc sửa --blob-store.",
                    f"bucket {self.bucket} does not exist") from cause
            raise ObjectStoreError(
                f"Không mở được bucket “{self.bucket}” trên kho tệp S3 ({exc.detail}). Kiểm "
                "tra AWS_ENDPOINT_URL_S3 và khóa truy cập AWS_ACCESS_KEY_ID.", exc.detail
            ) from cause

    # --- finished blobs ---------------------------------------------------------------------
    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        with self._calls(f"HeadObject {key}"):
            try:
                return dict(self.client.head_object(Bucket=self.bucket, Key=key))
            except ClientError as exc:
                if self._is_not_found(exc):
                    return None
                raise

    def exists(self, sha256: str) -> bool:
        return self._head(self.blob_key(sha256)) is not None

    def size(self, sha256: str) -> int | None:
        head = self._head(self.blob_key(sha256))
        return None if head is None else int(head["ContentLength"])

    def _upload(self, src: Path, key: str) -> None:
        with self._calls(f"upload {key}"):
            self.client.upload_file(str(src), self.bucket, key, Config=self.transfer,
                                    ExtraArgs={"ContentType": "application/octet-stream"})
        src.unlink(missing_ok=True)

    def put_file(self, src: Path, sha256: str) -> None:
        if self.exists(sha256):
            src.unlink(missing_ok=True)
            return
        self._upload(src, self.blob_key(sha256))

    def _iter_object(self, key: str, start: int = 0, end: int | None = None
                     ) -> Iterator[bytes]:
        """Bytes `start` … `end` (exclusive) of an object by one ranged GET, streamed in
        chunks; empty past the end (as a local file reads)."""
        from botocore.exceptions import ClientError

        if end is not None and end <= start:
            return
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start > 0 or end is not None:
            args["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        with self._calls(f"GetObject {key}"):
            try:
                body = self.client.get_object(**args)["Body"]
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code")) == "InvalidRange":
                    return
                if self._is_not_found(exc):
                    raise FileNotFoundError(key) from None
                raise
        try:
            while True:
                with self._calls(f"GetObject {key} body"):
                    chunk = body.read(READ_CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    def iter_range(self, sha256: str, start: int = 0, end: int | None = None
                   ) -> Iterator[bytes]:
        return self._iter_object(self.blob_key(sha256), start, end)

    # --- tus upload segments ----------------------------------------------------------------
    def put_segment(self, upload_id: str, name: str, src: Path) -> None:
        # S3 acknowledges a PUT only once the object is durable.
        self._upload(src, self.segment_key(upload_id, name))

    def iter_segment(self, upload_id: str, name: str) -> Iterator[bytes]:
        return self._iter_object(self.segment_key(upload_id, name))

    def compose(self, upload_id: str, names: list[str], sha256: str) -> None:
        if self.exists(sha256):
            return
        dest = self.blob_key(sha256)
        if len(names) == 1:  # the usual case, one PATCH: a server-side copy
            key = self.segment_key(upload_id, names[0])
            with self._calls(f"copy {key} -> {dest}"):
                self.client.copy({"Bucket": self.bucket, "Key": key}, self.bucket, dest,
                                 Config=self.transfer)
            self.drop_segment(upload_id, names[0])
            return
        sizes = []
        for name in names:
            head = self._head(self.segment_key(upload_id, name))
            if head is None:
                raise FileNotFoundError(self.segment_key(upload_id, name))
            sizes.append(int(head["ContentLength"]))
        if sum(sizes) == 0:
            with self._calls(f"PutObject {dest}"):
                self.client.put_object(Bucket=self.bucket, Key=dest, Body=b"",
                                       ContentType="application/octet-stream")
            return
        self._compose_multipart(upload_id, list(zip(names, sizes, strict=True)), dest)

    def _compose_multipart(self, upload_id: str, segments: list[tuple[str, int]],
                           dest: str) -> None:
        """One multipart upload: a segment reached at a part boundary with at least 5 MiB
        left is copied server-side (UploadPartCopy); smaller runs of bytes are gathered
        into parts of `part_size` (the last may be short). Aborted on any failure, so no
        hidden, billed parts stay behind."""
        with self._calls(f"CreateMultipartUpload {dest}"):
            mpu = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=dest, ContentType="application/octet-stream")
        mpu_id = mpu["UploadId"]
        parts: list[dict[str, Any]] = []
        buf = bytearray()

        def flush() -> None:
            number = len(parts) + 1
            with self._calls(f"UploadPart {dest} #{number}"):
                resp = self.client.upload_part(Bucket=self.bucket, Key=dest, UploadId=mpu_id,
                                               PartNumber=number, Body=bytes(buf))
            parts.append({"PartNumber": number, "ETag": resp["ETag"]})
            buf.clear()

        try:
            for name, size in segments:
                key = self.segment_key(upload_id, name)
                pos = 0
                while pos < size:
                    if not buf and size - pos >= PART_MIN:
                        n = min(size - pos, COPY_PART_MAX)
                        number = len(parts) + 1
                        with self._calls(f"UploadPartCopy {key} -> {dest} #{number}"):
                            resp = self.client.upload_part_copy(
                                Bucket=self.bucket, Key=dest, UploadId=mpu_id,
                                PartNumber=number, CopySource={"Bucket": self.bucket, "Key": key},
                                CopySourceRange=f"bytes={pos}-{pos + n - 1}")
                        parts.append({"PartNumber": number,
                                      "ETag": resp["CopyPartResult"]["ETag"]})
                        pos += n
                        continue
                    want = min(size - pos, self.part_size - len(buf))
                    for chunk in self._iter_object(key, pos, pos + want):
                        buf += chunk
                        pos += len(chunk)
                    if len(buf) < want:  # pragma: no cover - the store lost bytes
                        raise ObjectStoreError("Kho tệp S3 trả thiếu dữ liệu.",
                                               f"short read of {key} at {pos}")
                    if len(buf) >= self.part_size:
                        flush()
            if buf:
                flush()
            with self._calls(f"CompleteMultipartUpload {dest}"):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=dest, UploadId=mpu_id,
                    MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=dest,
                                                   UploadId=mpu_id)
            except Exception as exc:  # the original error matters more
                log.warning("object store s3://%s: could not abort multipart upload of %s: %s",
                            self.bucket, dest, exc)
            raise

    def drop_segment(self, upload_id: str, name: str) -> None:
        key = self.segment_key(upload_id, name)
        with self._calls(f"DeleteObject {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def drop_segments(self, upload_id: str) -> None:
        prefix = self.upload_prefix(upload_id)
        with self._calls(f"delete {prefix}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": DELETE_BATCH})
            for page in pages:
                keys = [{"Key": obj["Key"]} for obj in page.get("Contents", ())]
                if not keys:
                    continue
                resp = self.client.delete_objects(Bucket=self.bucket,
                                                  Delete={"Objects": keys, "Quiet": True})
                if resp.get("Errors"):
                    first = resp["Errors"][0]
                    raise ObjectStoreError(
                        "Kho tệp S3 không xóa được một số phần tải lên.",
                        f"DeleteObjects under {prefix}: {len(resp['Errors'])} failed, first "
                        f"{first.get('Key')}: {first.get('Code')}")
