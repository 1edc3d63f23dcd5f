"""The keys of this station's USB bundles: its own Ed25519 signing key (private part in
the OS keyring, else a file readable only by the account running the app) and the
province's age recipient the bundles are sealed to.

The public key is registered with the gateway on the first online contact (the answer
carries the recipient), so a station enrolled before signed bundles existed gets both
then. Nothing here derives from the station token: a re-issued token changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from desktop_app.context import AppContext
from desktop_app.machine_station import is_machine_station
from desktop_app.os_keyring import SecretSlot
from desktop_app.station import StationInfo, StationService
from local_db import outbox
from sync_contract import bundle_codec, wire

log = logging.getLogger(__name__)

RECIPIENT_STATE = "bundle_recipient"  # the province's, the same for every counter


def registered_state(station: StationInfo) -> str:
    """Sync-state key holding the public key the gateway has for this counter."""
    return f"bundle_key_registered.{station.station_digit}"


class SigningKeyStore:
    def __init__(self, data_dir: Path, station: StationInfo) -> None:
        self.account = f"{station.agency_code}-{station.station_digit}.bundle-signing"
        self.file = data_dir / "secrets" / f"{self.account}.key"
        self._slot = SecretSlot(self.account, self.file, "bundle signing key",
                                machine=is_machine_station(data_dir))

    def get_or_create(self) -> Ed25519PrivateKey:
        value, _ = self._slot.read()
        if value:
            return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(value))
        key = Ed25519PrivateKey.generate()
        self._slot.write(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex())
        log.info("new USB bundle signing key made")
        return key


def signing_key(ctx: AppContext, station: StationInfo) -> Ed25519PrivateKey:
    return SigningKeyStore(ctx.paths.root, station).get_or_create()


def recipient(ctx: AppContext) -> str:
    with ctx.db.read() as s:
        return outbox.get_state(s, RECIPIENT_STATE)


def is_registered(ctx: AppContext, station: StationInfo) -> bool:
    public = bundle_codec.public_key_hex(signing_key(ctx, station))
    with ctx.db.read() as s:
        return (outbox.get_state(s, registered_state(station)) == public
                and bool(outbox.get_state(s, RECIPIENT_STATE)))


def remember(ctx: AppContext, station: StationInfo, public_key: str, answer_recipient: str
             ) -> None:
    now = ctx.clock.now()
    with ctx.db.write() as s:
        outbox.set_state(s, registered_state(station), public_key, now)
        outbox.set_state(s, RECIPIENT_STATE, answer_recipient, now)


def ensure_registered(ctx: AppContext,
                      register: Callable[[str], wire.BundleKeyResponse]) -> bool:
    """Register this counter's public key once (``register`` is the client's
    ``register_bundle_key``); True when a request was made."""
    station = StationService(ctx).require()
    if is_registered(ctx, station):
        return False
    public = bundle_codec.public_key_hex(signing_key(ctx, station))
    answer = register(public)
    remember(ctx, station, public, answer.bundle_recipient)
    log.info("USB bundle signing key registered with the gateway")
    return True
