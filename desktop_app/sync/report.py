"""What one sync run did, for the clerk (Vietnamese errors), the technician (counts) and
`motcua sync --once` (its exit code)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SyncReport:
    online: bool = False
    server_time: str = ""
    clock_skew_s: float | None = None
    files_uploaded: int = 0
    files_already_there: int = 0
    bytes_sent: int = 0
    dossiers_sent: int = 0
    events_sent: int = 0
    refused: int = 0
    retry_later: int = 0
    changes_pulled: int = 0
    catalog_updated: bool = False
    calendar_updated: bool = False
    clerks_updated: int = 0
    settings_updated: bool = False  # a new version of the province's settings applied
    auth_failed: bool = False
    errors: list[str] = field(default_factory=list)  # Vietnamese, for the clerk
    # Vietnamese, for the technician: a local setting the province's settings overrode
    notices: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def pushed(self) -> int:
        return self.files_uploaded + self.dossiers_sent + self.events_sent
