"""The doctor's look at the settings the province owns: which version applies, a
document this station refused, and the last local setting the province's overrode."""

from __future__ import annotations

from desktop_app.context import AppContext
from desktop_app.province_settings import ProvinceSettingsService
from desktop_app.setup.doctor_report import OK, WARN, Check

TITLE = "Cài đặt do tỉnh quản lý"


def check_province_settings(ctx: AppContext) -> Check:
    status = ProvinceSettingsService(ctx).status()
    detail = {"version": status.version, "published_at": status.published_at,
              "refused_version": status.refused.get("version", ""),
              "notices": len(status.notices)}
    current = (f"phiên bản {status.version} (công bố {status.published_at})"
               if status.version else "tỉnh chưa công bố cài đặt nào")
    if status.refused:
        problems = status.refused.get("problems") or ["?"]
        return Check("province_settings", TITLE, WARN,
                     f"tỉnh gửi phiên bản {status.refused.get('version') or '?'} nhưng máy này "
                     f"không áp dụng được ({problems[0]}); đang dùng {current}. Hãy báo tỉnh "
                     "công bố lại.", detail)
    message = f"đang dùng {current}"
    if status.notices:
        last = status.notices[-1]
        message += f"; lần gần nhất tỉnh thay cài đặt của máy ({last['at']}): {last['text']}"
    return Check("province_settings", TITLE, OK, message, detail)
