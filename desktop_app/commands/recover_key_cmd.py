"""`motcua recover-key`: put the station's data key back into this PC's key store with
the recovery code written down at enrolment, after a reinstall, a new Windows account
or a move of the data directory to a replacement PC.

The wrapped key comes from ``secrets/data.key.escrow`` in the data directory or, when it
is missing (or belongs to another key), from the provincial gateway: give its address,
the station's agency and digit and a new enrolment code from the province (the code is
exchanged for the station's token, which is kept), or set MOTCUA_STATION_TOKEN.
The recovery code is read from the keyboard, never from the command line.

Exit codes: 0 key restored; 2 not restored (wrong code, nothing to recover from, the
gateway refused or could not be reached)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "recover-key", help="khôi phục khóa giải mã dữ liệu bằng mã khôi phục",
        description="Khôi phục khóa mã hóa dữ liệu của máy từ bản dự phòng (trong thư mục "
        "dữ liệu hoặc do tỉnh giữ) bằng mã khôi phục đã ghi khi đăng ký máy.")
    p.add_argument("--data-dir", type=Path, default=None, help="thư mục dữ liệu")
    p.add_argument("--gateway", default="", metavar="URL",
                   help="địa chỉ hệ thống một cửa của tỉnh (lấy bản khóa tỉnh giữ)")
    p.add_argument("--ca-bundle", default="", help="chứng chỉ CA của tỉnh (nếu có)")
    p.add_argument("--agency", default="", help="mã cơ quan của quầy")
    p.add_argument("--digit", type=int, default=0, help="số quầy")
    p.add_argument("--enrolment-code", default="",
                   help="mã đăng ký mới do tỉnh cấp (đổi lấy mã xác thực của quầy)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from desktop_app.domain.errors import DomainError
    from desktop_app.key_escrow import recover_key
    from desktop_app.paths import DataPaths, default_data_dir

    paths = DataPaths(args.data_dir or default_data_dir())
    print("Nhập mã khôi phục (6 nhóm, mỗi nhóm 5 ký tự; có thể gõ liền hoặc có dấu "
          "gạch ngang):")
    code = sys.stdin.readline().strip()
    fetch = _gateway_fetch(args, paths.root) if args.gateway else None
    try:
        where = recover_key(paths.root, code, paths.database, fetch)
    except DomainError as exc:
        log.error("recover-key: %s", exc.detail)
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return 2
    print("Đã khôi phục khóa giải mã dữ liệu "
          f"({'vào kho khóa của Windows' if where == 'keyring' else 'vào tệp khóa của máy'}"
          "). Có thể mở lại ứng dụng.")
    return 0


def _gateway_fetch(args: argparse.Namespace, root: Path):  # type: ignore[no-untyped-def]
    """A function fetching the gateway's copies with the station's token (a new one
    from the enrolment code, which is then stored for the station to sync with)."""
    from desktop_app.domain.errors import DomainError
    from desktop_app.sync.client import GatewayClient
    from desktop_app.sync.credentials import TOKEN_ENV, TokenStore

    def fetch() -> list[str]:
        agency = args.agency.strip().upper()
        token = ""
        client = GatewayClient(args.gateway, "", args.ca_bundle)
        try:
            if args.enrolment_code:
                if not agency or not args.digit:
                    raise DomainError("Cần --agency và --digit đi cùng --enrolment-code.",
                                      "recover-key: enrolment without agency/digit")
                answer = client.enrol(agency, args.digit, args.enrolment_code)
                token = answer.token
                TokenStore(root, f"{answer.agency_code}-{answer.station_digit}").set(token)
            else:
                token = os.environ.get(TOKEN_ENV, "").strip()
            if not token:
                raise DomainError(
                    "Cần mã đăng ký mới do tỉnh cấp (--enrolment-code) để lấy bản khóa "
                    "tỉnh giữ.", "recover-key: no token and no enrolment code")
            client.use_token(token)
            return client.key_escrows()  # its errors are DomainErrors with Vietnamese text
        finally:
            client.close()

    return fetch
