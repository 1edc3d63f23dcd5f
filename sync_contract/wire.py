"""Wire contract v1.1 between a counter station and the provincial gateway.

With `bundle_codec`, this is the only code the station (`desktop_app.sync`) and the
reference gateway (`provincial_gateway`) share. It holds the paths, headers and JSON
bodies (the dossier document included); the gateway renders them into
`docs/api/openapi.json`.

Rules every endpoint follows:
- JSON bodies are UTF-8, `Content-Type: application/json`. A response counts as an
  answer only with that content type and a body that validates against the model below
  (a captive portal's `200 text/html` page is not an answer).
- Every request except `GET /health` carries `Authorization: Bearer <station token>`.
  401 means the token is unknown or revoked: the station stops the run and tells the clerk.
- Errors use `ErrorBody` with a stable machine `code` and a Vietnamese `message`.
- Dossiers are upserted by the station's UUID (`ClientId`) with a `PhienBan` (revision)
  the station increments on every change; every acknowledgement is HTTP 200 with a
  `DossierAck`: new → `created`; same revision + same body → `unchanged`; higher
  revision → `updated`; lower revision → `stale` (already superseded; the ack carries
  the stored, newer `PhienBan`). Same revision + different body → 409 `conflict`, never
  overwritten. A status sent by the station never undoes the processing side's progress.
- Files travel before the dossier by tus 1.0 (core + creation + checksum + termination)
  under `/api/v1/files/`; `Upload-Metadata` carries `sha256` (hex), `filename`,
  `media_type`. The gateway checks the whole file's SHA-256 on completion and discards a
  mismatching upload (460); that upload URL is then gone (404) and the station creates a
  new one. An upload left untouched for a week expires (tus expiration, `Upload-Expires`)
  with the same 404. A chunk whose `Upload-Checksum` does not match is not applied (460). A
  dossier that references a file the gateway lacks gets 422 `missing_blobs` with the
  list.
- A dossier belongs to the station that first sent it (by its token, never by a field of
  the body). `MaHoSo` must be the sending station's own code space,
  `{its agency}-{YYMMDD}-{its digit}NNN`; another station's dossier or code gets 403
  `not_owner`, one answer whether or not that dossier or code exists. A revision may be
  at most `MAX_REVISION_STEP` above the stored one (the first at most that much above 0):
  else 409 `revision_jump`, so nobody can push a dossier to a revision its station never
  reaches.
- Strings follow `text_rules`: a length per field, no control characters (tab and line
  feed only in free text), no bidirectional overrides, no lone surrogates; else 422
  `invalid` naming the field. The station fits its documents to these rules before sending.
- An acknowledgement may carry `warnings` (machine words, e.g. `received_in_future`):
  the dossier was stored, and the province was shown the warning.
- The change feed is ordered by a gateway sequence; the station stores `cursor` durably
  and asks again with `since=cursor` until `more` is false.
- Once per sync run, a station whose gateway lists `station_heartbeat` in `/health`
  `features` posts a `StationHeartbeat` (versions, queue, free disk, last doctor verdict,
  clock offset; no personal data); the gateway keeps the latest per station. A station
  never lets this fail or hold up its sync.

Versions: the major version is in every path (`/api/v1`); minor versions only add (a new
route, a new optional field), so a station of any 1.x works against any 1.y gateway.
`GET /health` tells the gateway's minor version (`api_minor`, absent = 0) and its batch
limits; the station uses an addition only when the gateway announces it.
- 1.1: `POST /dossiers/batch` upserts up to `dossier_batch_max_items` dossier documents
  (at most `dossier_batch_max_bytes` of request body) in one request, each under exactly
  the rules of `PUT /dossiers/{client_id}`, all or nothing per document, in the order
  sent.
  The answer is 200 with one `DossierBatchItem` per document, in the same order: `status`
  is what the single PUT would have answered, with its `ack` (200; `TaiLieuNop` left out,
  the station sent it) or its `error` (4xx, or 500 for an item the gateway failed on), so
  one refused dossier never fails the others. A station facing a 1.0 gateway (no
  `api_minor`, or 404/405 on the route) sends one PUT per dossier as before.
- 1.2: a change may carry `DanhSachGiayToKetQua`, the result documents the processing
  side attached (name, number, signer, date, SHA-256 and size of the file). Only the
  station owning the dossier may download those files (`GET /blobs/{sha256}`); it checks
  each file's SHA-256 and size. Older stations ignore the field.
- 1.3 (feature `citizen_documents`): `GET /citizens/{id_number}/documents` (9 or 12
  digits, else 422) lists the documents already digitized for that citizen in received
  dossiers of the token's agency only: per document kind (`sync_contract.document_kinds`)
  the files of the newest dossier holding one, with the source `MaHoSo`, received date,
  SHA-256, size, media type and the `GET /blobs/{sha256}` path. Each look-up is recorded
  by the gateway (station, count, source codes; never the ID number).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from sync_contract import text_rules

API_VERSION = 1
# Minor version of this contract (additions only); see the module docstring.
API_MINOR = 3
DOSSIER_BATCH_MINOR = 1  # the first minor version with POST /dossiers/batch
PREFIX = "/api/v1"

HEALTH = f"{PREFIX}/health"
CATALOG = f"{PREFIX}/catalog"
CALENDAR = f"{PREFIX}/calendar"
CLERKS = f"{PREFIX}/clerks"
# The settings the province owns (scan profiles, upload limit, fee schedules, signer
# blocks): one versioned document, served with an ETag like the catalog.
PROVINCE_SETTINGS = f"{PREFIX}/province-settings"
BLOBS_MISSING = f"{PREFIX}/blobs/missing"
BLOB = PREFIX + "/blobs/{sha256}"
FILES = f"{PREFIX}/files/"
DOSSIER = PREFIX + "/dossiers/{client_id}"
DOSSIER_BATCH = f"{PREFIX}/dossiers/batch"  # POST, contract 1.1
EVENTS = f"{PREFIX}/events"
CHANGES = f"{PREFIX}/changes"
BUNDLES = f"{PREFIX}/bundles"
STATION = f"{PREFIX}/station"  # whose token is this (provisioning checks the digit)
ENROL = f"{PREFIX}/enrol"  # a one-time enrolment code -> the station token
KEY_ESCROW = f"{PREFIX}/station/key-escrow"  # the data key wrapped under the recovery code

# The station's audit-chain head, sent on every authenticated request of a sync run
# (optional): "<chain>;<seq>;<sha256 hex>". With it, "<seq>;<sha256 hex>": the station's
# hash today at the seq of the last head the gateway acknowledged, so the gateway can
# tell a chain that grew from one that was rewritten. The dossier routes answer with the
# gateway's verdict on that head: accepted, rewound, forked or rewritten.
AUDIT_HEAD_HEADER = "X-Audit-Head"
AUDIT_ANCHOR_HEADER = "X-Audit-Anchor"
AUDIT_VERDICT_HEADER = "X-Audit-Head-Verdict"
# The station registers the public key that signs its USB bundles and learns the
# province's age recipient its bundles are sealed to.
BUNDLE_KEY = f"{PREFIX}/station/bundle-key"
# Once per sync run the station says how it is (version, queue, disk, doctor, clock), so
# the province sees its fleet. Only sent to a gateway whose /health lists
# FEATURE_HEARTBEAT; an older gateway never hears of it.
STATION_HEARTBEAT = f"{PREFIX}/station/heartbeat"
FEATURE_HEARTBEAT = "station_heartbeat"
# A citizen's documents on file at the province (contract 1.3), for reuse at intake.
CITIZEN_DOCUMENTS = PREFIX + "/citizens/{id_number}/documents"
FEATURE_CITIZEN_DOCUMENTS = "citizen_documents"
CITIZEN_DOCUMENTS_MINOR = 3

TUS_VERSION = "1.0.0"
TUS_CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
MAX_FILE_BYTES = 512 * 1024 * 1024
# One USB bundle carries at most this many member bytes (files, dossier and event lists),
# and its dossier and event lists at most BUNDLE_PART_JSON_BYTES: a file under FAT32's
# 4 GiB limit (most sticks) with room for age's overhead, and within the gateway's
# default caps. The station splits a larger export into parts.
BUNDLE_PART_BYTES = 3584 * 1024 * 1024
BUNDLE_PART_JSON_BYTES = 48 * 1024 * 1024

# Error codes (ErrorBody.code).
E_AUTH = "auth"
E_AGENCY = "agency_mismatch"
E_CONFLICT = "conflict"
E_MISSING_BLOBS = "missing_blobs"
E_UNKNOWN_DOSSIER = "unknown_dossier"
E_INVALID = "invalid"
E_CHECKSUM = "checksum_mismatch"
E_TOO_LARGE = "too_large"
E_BUNDLE = "bad_bundle"  # malformed manifest, damaged or truncated bundle, member mismatch
E_BUNDLE_OLD = "bundle_old_format"  # unsigned v1 bundle: the station exports it again
E_BUNDLE_SIGNATURE = "bundle_signature"  # unknown station or key, or a wrong signature
E_BUNDLE_PROVINCE = "bundle_other_province"  # sealed to another gateway's key
E_ENROL = "enrolment_refused"
E_NOT_OWNER = "not_owner"  # another station's dossier or dossier code (403)
E_REVISION_JUMP = "revision_jump"  # PhienBan too far above the stored revision (409)

# Revisions: a JSON integer the gateway can store and compare (signed 64-bit), and at
# most this step above the stored one. The station adds 1 per change; a dossier rarely
# sees more than a few dozen changes between two sends even after weeks offline, so
# 1000 leaves ample room while a revision pushed to 2**62 (which would make every real
# revision "stale") is refused.
MAX_REVISION = 2**63 - 1
MAX_CURSOR = 2**63 - 1  # `since` of the change feed: a signed 64-bit sequence
MAX_REVISION_STEP = 1000

# A dossier batch (contract 1.1): the gateway's defaults. 100 documents of ~2 KB are
# ~200 KB, six seconds on a 256 kbit/s link; the byte cap is twice the cap of one PUT's
# body (2 MiB), so any dossier one PUT takes also travels as a batch of one. A gateway
# may announce lower limits in /health; the station keeps within what it announces.
DOSSIER_BATCH_MAX_ITEMS = 100
DOSSIER_BATCH_MAX_BYTES = 4 * 1024 * 1024

# Warnings in a DossierAck (the dossier was stored).
W_RECEIVED_IN_FUTURE = "received_in_future"  # NgayTiepNhan after the gateway's clock


class WireModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ErrorBody(WireModel):
    code: str
    message: str
    missing: list[str] = Field(default_factory=list)


class Health(WireModel):
    status: Literal["ok"]
    api_version: int
    server_time: str  # ISO 8601 with offset, e.g. 2026-11-23T13:05:00+07:00
    gateway: str = "provincial_gateway"
    # Optional endpoints this gateway serves (FEATURE_*); absent from older gateways.
    features: list[str] = Field(default_factory=list)
    # Added in 1.1 (a 1.0 gateway sends neither: 0 means "no batches").
    api_minor: int = 0
    dossier_batch_max_items: int = 0
    dossier_batch_max_bytes: int = 0


class Catalog(WireModel):
    """Same shape as resources/catalog/procedures.json; served with an ETag."""

    catalog_version: str
    province: str = ""
    procedures: list[dict]


class CalendarOverride(WireModel):
    day: str  # YYYY-MM-DD
    kind: Literal["off", "work"]
    note: str = ""


class CalendarBody(WireModel):
    version: str
    overrides: list[CalendarOverride]


class ClerkAccount(WireModel):
    username: str
    full_name: str
    role: Literal["clerk", "scanner", "supervisor", "technician"]
    # argon2id PHC string as desktop_app.passwords writes (older: scrypt$N$r$p$salt$digest);
    # "" for an inactive account
    password_hash: str
    active: bool = True


class ClerksBody(WireModel):
    version: str
    clerks: list[ClerkAccount]


class ProvinceSettings(WireModel):
    """The province's settings document (`sync_contract.settings_rules` holds its rules,
    which both sides check). A part left out (null) is the commune's own; `version` is
    "" while the province has published none. Kept loose here on purpose: a station
    checks a document field by field and refuses it whole, with the reasons, rather than
    taking a malformed one as a broken answer."""

    version: str
    published_at: str = Field("", description="ISO 8601 with offset")
    upload_limit_bytes: Any = Field(
        None, description="integer: the most one file sent to the province may weigh; "
                          "a station's own limit may only be lower")
    scan_profiles: Any = Field(
        None, description="list of {name, label_vi, dpi, mode, page_size, paper, duplex, "
                          "drop_blank, deskew, crop_borders, jpeg_quality, ocr}; locked at "
                          "the stations")
    fee_schedules: Any = Field(
        None, description="{procedure code: [fee lines as in the catalog: code, name, "
                          "kind, basis, amount, later_from_page, later_amount, "
                          "cap_per_copy, note]}")
    signers: Any = Field(
        None, description='{"04"|"05": {authority, delegation, title, name}}; name may be '
                          "left to the commune")


class StationIdentity(WireModel):
    """Answer to GET /station: the station the bearer token was issued to."""

    agency_code: str
    station_digit: int
    name: str = ""


class EnrolRequest(WireModel):
    """POST /enrol, without a bearer token: a one-time code the province issued for this
    agency and station digit. Wrong, expired, used or locked codes all get the same 403
    `enrolment_refused`; five wrong tries lock the code."""

    agency_code: str = Field(max_length=40)
    station_digit: int = Field(ge=1, le=9)
    enrolment_code: str = Field(min_length=1, max_length=64)
    # Hex Ed25519 public key that will sign this station's USB bundles (optional).
    bundle_signing_key: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")


class EnrolResponse(WireModel):
    """The station token (shown once; the gateway keeps only its hash)."""

    token: str
    agency_code: str
    station_digit: int
    name: str = ""
    bundle_recipient: str = ""  # the province's age public key for USB bundles


class BundleKeyRequest(WireModel):
    """PUT /station/bundle-key: the station's Ed25519 public key (hex) for USB bundles.
    Registering the same key again changes nothing; earlier keys stay valid, so bundles
    signed before a reinstall still import."""

    public_key: str = Field(pattern=r"^[0-9a-f]{64}$")


class BundleKeyResponse(WireModel):
    bundle_recipient: str  # age X25519 recipient ("age1…") to seal bundles to


class MissingBlobsRequest(WireModel):
    sha256: list[str] = Field(max_length=1000)


class MissingBlobsResponse(WireModel):
    missing: list[str]


def _text(name: str, **kw: Any) -> Any:
    """A string field with the length `text_rules` gives it (in the OpenAPI schema too)."""
    return Field(max_length=text_rules.field_max(name), **kw)


# yyyyMMddHHmmss in Asia/Ho_Chi_Minh, or empty where the time is not known.
NationalTime = Annotated[str, Field(pattern=r"^(\d{14})?$", max_length=14)]


class TextChecked(BaseModel):
    """Checks every string of the incoming object, added fields included, by the rules of
    `text_rules`; an error is located at the field (e.g. TaiLieuNop.0.TenThanhPhan)."""

    @model_validator(mode="before")
    @classmethod
    def _strings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            try:
                text_rules.check_document(data)
            except text_rules.TextRuleError as exc:
                raise ValidationError.from_exception_data(cls.__name__, [InitErrorDetails(
                    type=PydanticCustomError(exc.kind, "{detail}", {"detail": str(exc)}),
                    loc=exc.loc, input="")]) from None
        return data


class TaiLieuNopItem(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    TepDinhKemSha256: str | None = Field(
        default="", max_length=64,
        description="SHA-256 (hex) of the digitized file, uploaded first by tus")


class CounterResultItem(BaseModel):
    """A paper result digitized at the counter, listed by the station in its dossier
    document (DanhSachGiayToKetQua, added field): its file is uploaded first by tus."""

    model_config = ConfigDict(extra="allow", strict=True)

    GiayToId: str = Field(min_length=1, max_length=100)
    TenGiayTo: str = Field(min_length=1, max_length=500)
    MaGiayToKetQua: str = Field(default="", max_length=60)
    NgayKy: NationalTime = ""
    TepSha256: str = Field(min_length=64, max_length=64)
    KichThuoc: int = Field(default=0, ge=0)


class DossierDocument(TextChecked):
    """PUT /dossiers/{client_id} body: the national one-stop dossier document. Fields not
    declared here travel as sent (national vocabulary, added fields); every string, declared
    or not, follows `text_rules`."""

    model_config = ConfigDict(extra="allow", strict=True)

    ClientId: str = Field(min_length=1, max_length=64, description="The station's dossier UUID")
    MaDonVi: str = Field(min_length=1, max_length=40, description="Receiving agency code")
    MaHoSo: str = Field(max_length=60, description="Dossier code; empty for a refusal")
    PhienBan: int = Field(ge=0, le=MAX_REVISION,
                          description="Revision, incremented by the station on each change")
    TrangThaiHoSo: int = Field(default=2, ge=1, le=10)
    NgayTiepNhan: NationalTime = Field(default="",
                                       description="yyyyMMddHHmmss, Asia/Ho_Chi_Minh")
    MaTTHC: str = _text("MaTTHC", default="")
    TenTTHC: str = _text("TenTTHC", default="")
    # Declared for the schema; null stays accepted as before.
    ChuHoSo: str | None = _text("ChuHoSo", default="")
    TrichYeuHoSo: str | None = _text("TrichYeuHoSo", default="")
    GhiChu: str | None = _text("GhiChu", default="")
    NgayHenTra: NationalTime | None = ""
    NgayTuChoi: NationalTime | None = ""
    TaiLieuNop: list[TaiLieuNopItem] = Field(default_factory=list,
                                             max_length=text_rules.MAX_ITEMS)
    # Results digitized at the counter; absent from most documents.
    DanhSachGiayToKetQua: list[CounterResultItem] = Field(
        default_factory=list, max_length=text_rules.MAX_ITEMS)


class DossierAck(WireModel):
    """Answer to PUT /dossiers/{client_id}."""

    ClientId: str
    MaHoSo: str
    PhienBan: int
    result: Literal["created", "updated", "unchanged", "stale"]
    TrangThaiHoSo: int
    TaiLieuNop: list[dict] = Field(default_factory=list)  # with DuongDanTaiTepTin URLs
    # Added: what the gateway noticed about the stored dossier (W_* words).
    warnings: list[str] = Field(default_factory=list)


class DossierBatch(WireModel):
    """POST /dossiers/batch body (1.1). Each document is checked on its own, exactly as a
    PUT body (a `DossierDocument`): one that does not validate gets its own 422 in the
    answer and the others are stored."""

    dossiers: list[Any] = Field(
        min_length=1, max_length=DOSSIER_BATCH_MAX_ITEMS,
        description="DossierDocument bodies, each upserted by its ClientId in this order")


class DossierBatchItem(WireModel):
    """The outcome of one document of a batch: what PUT /dossiers/{ClientId} would have
    answered, status included."""

    ClientId: str  # as sent ("" when the document carried none)
    status: int
    ack: DossierAck | None = None  # status 200 (TaiLieuNop left out)
    error: ErrorBody | None = None  # any other status


class DossierBatchResult(WireModel):
    results: list[DossierBatchItem]  # one per document, in the order sent


class EventIn(TextChecked, WireModel):
    """A lifecycle event (progress record) of a dossier, idempotent by EventId; its
    strings, ChiTiet included, follow `text_rules`."""

    EventId: str = Field(min_length=1, max_length=100)
    ClientId: str = Field(max_length=64)
    MaHoSo: str = Field(max_length=60)
    Loai: str = _text("Loai")  # received, supplement_requested, supplement_received, ...
    ThoiDiem: str = Field(max_length=14)  # yyyyMMddHHmmss, national format
    NguoiXuLy: str = Field(default="", max_length=50)
    NoiDung: str = _text("NoiDung", default="")
    TrangThaiHoSo: int | None = None
    ChiTiet: dict = Field(default_factory=dict)


class EventAck(WireModel):
    EventId: str
    result: Literal["created", "unchanged"]


class ResultDocument(WireModel):
    """One result document of a processed dossier (DanhSachGiayToKetQua, contract 1.2).
    The file is downloaded from `DuongDanTepTinKetQua` (the blob route, Range supported)
    by the station that owns the dossier, and checked against `TepSha256` and
    `KichThuoc`."""

    GiayToId: str = Field(max_length=64)  # the gateway's id of this document
    TenGiayTo: str = Field(max_length=300)
    MaThanhPhanHoSo: str = Field(default="", max_length=60)
    MaGiayToKetQua: str = Field(default="", max_length=100)  # its number, e.g. 123/GKS
    DuongDanTepTinKetQua: str = Field(max_length=200)  # /api/v1/blobs/{sha256}
    TepSha256: str = Field(min_length=64, max_length=64)
    KichThuoc: int = Field(ge=0)
    LoaiTep: str = Field(default="application/pdf", max_length=120)
    NguoiKy: str = Field(default="", max_length=200)
    NgayKy: str = Field(default="", max_length=14)  # yyyyMMddHHmmss


class Change(WireModel):
    seq: int
    ClientId: str
    MaHoSo: str
    TrangThaiHoSo: int
    ThoiDiem: str  # yyyyMMddHHmmss
    NoiDungXuLy: str = ""
    NguoiXuLy: str = ""
    NgayCoKetQua: str = ""  # set when the result is ready for return
    NgayHenTraMoi: str = ""  # a new appointment set by the processing agency
    # 1.2: the result documents attached with this change (older stations ignore it).
    DanhSachGiayToKetQua: list[ResultDocument] = Field(default_factory=list)


class ChangesBody(WireModel):
    changes: list[Change]
    cursor: int
    more: bool


class BundleReceipt(WireModel):
    bundle_id: str
    dossiers: int
    created: int
    unchanged: int
    files: int
    conflicts: list[str] = Field(default_factory=list)


class KeyEscrowUpload(WireModel):
    """The station's data key wrapped under a key derived from its recovery code (a JSON
    envelope the gateway stores as is and cannot open)."""

    wrapped: str = Field(min_length=1, max_length=4096)


class KeyEscrowList(WireModel):
    escrows: list[KeyEscrowUpload]  # newest first


# A version as a station writes it (PEP 440: 1.4.2, 1.5.0rc1, 0.0.0+source).
_VERSION = r"^[0-9A-Za-z][0-9A-Za-z.+!_-]{0,39}$"
_CHECK_ID = r"^[a-z0-9][a-z0-9_.-]{0,39}$"


class StationHeartbeat(TextChecked):
    """POST /station/heartbeat: how the station is, once per sync run. Nothing in it
    names a person (no host or user name, no dossier): counts, sizes, versions and the
    doctor's check ids. ``agency_code`` and ``station_digit``, when given, must be the
    token's (403 `not_owner` otherwise): a station reports only for itself. Fields added
    later are ignored by this gateway, so a newer station is never refused for them."""

    model_config = ConfigDict(extra="ignore")

    agency_code: str = Field(default="", max_length=40)
    station_digit: int | None = Field(default=None, ge=1, le=9)
    app_version: str = Field(pattern=_VERSION, max_length=40)
    schema_revision: str = Field(default="", pattern=r"^[0-9A-Za-z_.-]{0,64}$")
    queue_size: int = Field(ge=0, le=10**9)  # items waiting to be sent
    queue_refused: int = Field(default=0, ge=0, le=10**9)  # refused, a supervisor looks
    oldest_unsynced_s: int | None = Field(default=None, ge=0, le=10**10)
    free_disk_bytes: int | None = Field(default=None, ge=0, le=2**62)
    doctor_status: Literal["ok", "warn", "fail", ""] = ""  # "": never run on this PC
    doctor_failing: list[Annotated[str, Field(pattern=_CHECK_ID)]] = Field(
        default_factory=list, max_length=40)
    doctor_warnings: list[Annotated[str, Field(pattern=_CHECK_ID)]] = Field(
        default_factory=list, max_length=40)
    doctor_at: str = Field(default="", max_length=32)  # station's clock, ISO 8601
    # This PC minus the gateway, as last measured: positive when the PC is ahead.
    clock_offset_s: float | None = Field(default=None, ge=-1e10, le=1e10)
    platform: str = Field(default="", max_length=200)  # OS and Python, one line
    install_id: str = Field(default="", pattern=r"^[0-9a-fA-F-]{0,36}$")
    # The update channel on this PC: "" (a station before it), none, downloading, ready
    # (verified, waiting to be installed) or refused, and the last release it refused
    # (bad signature or hash): the province learns a tampered or mis-signed installer.
    update_state: Literal["none", "downloading", "ready", "refused", ""] = ""
    update_version: str = Field(default="", pattern=r"^$|" + _VERSION, max_length=40)
    update_refused_version: str = Field(default="", pattern=r"^$|" + _VERSION,
                                        max_length=40)
    update_refused_reason: Literal["signature", "hash", ""] = ""


class HeartbeatAck(WireModel):
    station: str  # "<agency>/<digit>", the token's
    received_at: str  # the gateway's time, ISO 8601 with offset


class CitizenDocument(WireModel):
    """One file of a document already digitized for the citizen (contract 1.3)."""

    kind: str  # sync_contract.document_kinds.document_kind of the component name
    name: str  # TenThanhPhan as received
    file_name: str = ""
    ma_ho_so: str  # the source dossier (MaKetQuaThayThe when reused)
    received_at: str  # NgayTiepNhan, yyyyMMddHHmmss
    sha256: str
    size: int
    media_type: str = "application/octet-stream"
    download_path: str  # GET /blobs/{sha256}


class CitizenDocuments(WireModel):
    documents: list[CitizenDocument] = Field(default_factory=list)
