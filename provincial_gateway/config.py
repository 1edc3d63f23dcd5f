"""Gateway settings: where the data lives, which database, which catalog to serve."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from provincial_gateway.tokens import new_token
from sync_contract import wire

# The repository's sample catalog; an installed gateway is given its province's file.
DEFAULT_CATALOG = Path(__file__).resolve().parents[1] / "resources" / "catalog" / "procedures.json"
DEFAULT_PORT = 8765
ADMIN_TOKEN_FILE = "admin-token"
ENV_DATA_DIR = "MOTCUA_GATEWAY_DATA"
ENV_DB_URL = "MOTCUA_GATEWAY_DB_URL"
ENV_ADMIN_TOKEN = "MOTCUA_GATEWAY_ADMIN_TOKEN"
ENV_DOCS = "MOTCUA_GATEWAY_DOCS"  # "1": serve /docs, /redoc and /openapi.json
ENV_BLOB_STORE = "MOTCUA_GATEWAY_BLOB_STORE"
DB_URL_FILE = "db_url"
BLOB_STORE_FILE = "blob_store"
LOCAL_BLOB_STORE = "local"


def default_data_dir() -> Path:
    """`$MOTCUA_GATEWAY_DATA`, else the per-user data directory of the OS."""
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("MotCuaGateway", appauthor=False))


@dataclass
class GatewayConfig:
    data_dir: Path
    db_url: str | None = None  # None: SQLite file `gateway.db` in data_dir
    catalog_file: Path | None = None  # imported at start-up when given
    admin_token: str | None = None  # None: read or create data_dir/admin-token
    public_url: str | None = None  # base URL behind a reverse proxy; None: from the request
    max_file_bytes: int = wire.MAX_FILE_BYTES
    # USB bundles: the sum of the members a manifest declares (files are also held to
    # max_file_bytes each; the dossiers and events lists, parsed in memory, to the third).
    max_bundle_bytes: int = wire.BUNDLE_PART_BYTES
    # Any other body a station sends (a dossier document, an event, a list of SHA-256):
    # read whole into memory and parsed, so it gets a cap of its own.
    max_json_bytes: int = 2 * 1024 * 1024
    # The interactive API pages describe every route to whoever asks; off unless a
    # technician turns them on (`serve --docs` or MOTCUA_GATEWAY_DOCS=1).
    serve_docs: bool | None = None  # None: from the environment
    max_bundle_json_bytes: int = 64 * 1024 * 1024
    # The age identity ("AGE-SECRET-KEY-1…") bundles are sealed to; None: environment,
    # else data_dir/bundle-identity.txt made on first start (0600).
    bundle_identity: str | None = None
    # An upload nobody touched for this long is discarded with its partial file (tus
    # expiration); a station that comes back later gets 404 and starts a new upload. A
    # week, because a mountain commune's link can be down for days.
    upload_expiry_hours: int = 7 * 24
    # Stations' heartbeats (`fleet`): advertised in /health and stored. Off, the gateway
    # behaves as one older than the feature (no advertisement, 404 on the route).
    accept_heartbeats: bool = True
    # The contract minor version this gateway speaks (wire.API_MINOR). A lower one makes
    # it behave as a gateway of that version (no batch route, /health without batch
    # limits): how a province running an older gateway is reproduced in tests.
    contract_minor: int = wire.API_MINOR
    # POST /dossiers/batch: documents per request (at most wire.DOSSIER_BATCH_MAX_ITEMS)
    # and request body bytes (at least max_json_bytes, so a dossier one PUT takes also
    # travels as a batch of one). Both announced in /health.
    max_batch_items: int = wire.DOSSIER_BATCH_MAX_ITEMS
    max_batch_bytes: int = wire.DOSSIER_BATCH_MAX_BYTES
    # PostgreSQL connections each process keeps (and twice as many more under load).
    db_pool_size: int = 20
    # Where file bytes live (provincial_gateway.object_store): None or "" the environment,
    # else the store this data directory was last served with, else the data directory;
    # "local" the data directory; "s3://bucket/optional/prefix" a bucket shared by replicas.
    blob_store: str | None = None

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if self.catalog_file is not None:
            self.catalog_file = Path(self.catalog_file)

    @property
    def docs_enabled(self) -> bool:
        if self.serve_docs is not None:
            return self.serve_docs
        return os.environ.get(ENV_DOCS, "").strip().lower() in ("1", "true", "yes", "on")

    @property
    def database_url(self) -> str:
        """Explicit, else the environment, else the URL this data directory was last
        served with (so `add-station --data DIR` reaches the PostgreSQL database that
        `serve --data DIR --db …` uses, not a new empty SQLite file), else SQLite."""
        if self.db_url:
            return self.db_url
        env = os.environ.get(ENV_DB_URL)
        if env:
            return env
        try:
            remembered = (self.data_dir / DB_URL_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            remembered = ""
        return remembered or f"sqlite:///{self.data_dir / 'gateway.db'}"

    @property
    def blob_store_url(self) -> str:
        """Empty for the local store, else "s3://…": explicit, else the environment, else
        what this data directory was last served with (so `publish-update --data DIR`
        stores the installer where `serve --data DIR --blob-store …` serves it from)."""
        chosen = (self.blob_store or "").strip() or os.environ.get(ENV_BLOB_STORE, "").strip()
        if not chosen:
            try:
                chosen = (self.data_dir / BLOB_STORE_FILE).read_text(encoding="utf-8").strip()
            except OSError:
                chosen = ""
        return "" if chosen == LOCAL_BLOB_STORE else chosen

    def remember_blob_store(self) -> None:
        """Record an explicit store choice in the data directory ("local" forgets one)."""
        chosen = (self.blob_store or "").strip()
        path = self.data_dir / BLOB_STORE_FILE
        if chosen == LOCAL_BLOB_STORE:
            path.unlink(missing_ok=True)
            return
        if not chosen:
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_text(chosen + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def remember_database(self) -> None:
        """Record an explicit non-default database URL in the data directory (0600: it
        may hold a password)."""
        if not self.db_url or self.db_url.startswith("sqlite"):
            return
        path = self.data_dir / DB_URL_FILE
        try:
            if path.read_text(encoding="utf-8").strip() == self.db_url:
                return
        except OSError:
            pass
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.db_url + "\n")
        os.replace(tmp, path)

    def resolve_admin_token(self) -> str:
        """The admin token: explicit, from the environment, or a file made on first use."""
        if self.admin_token:
            return self.admin_token
        env = os.environ.get(ENV_ADMIN_TOKEN)
        if env:
            return env
        path = self.data_dir / ADMIN_TOKEN_FILE
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        token = new_token(24)
        # Created 0600 so other local users cannot read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(token + "\n")
        return token
