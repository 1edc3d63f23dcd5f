"""The admin page's fleet view (`/admin/fleet`): the table of `motcua gateway fleet`,
server-rendered, every value escaped (a station's name is typed by a person)."""

from __future__ import annotations

import html
from urllib.parse import urlencode

from provincial_gateway import fleet

esc = html.escape
VERSION_COLUMN = fleet.HEADERS_VI.index("Phiên bản")


def _filters(result: fleet.Fleet) -> str:
    p = result.policy
    return ('<form class="inline" method="get" action="/admin/fleet">'
            '<label>Phiên bản tối thiểu <input name="min_version" maxlength="40" '
            f'value="{esc(p.min_version)}" placeholder="{esc(result.newest_version)}"></label>'
            '<label>Im lặng quá (ngày) <input name="silent_days" size="4" '
            f'value="{p.silent_days:g}"></label>'
            '<label>Đĩa trống tối thiểu (GB) <input name="min_free_gb" size="4" '
            f'value="{p.min_free_gb:g}"></label><button>Xem</button></form>')


def render(result: fleet.Fleet) -> str:
    """The body of the fleet page."""
    lines = []
    for r in result.rows:
        cells = fleet.cells_vi(r, result.now)
        tds = []
        for i, c in enumerate(cells):
            attrs = ""
            if i == VERSION_COLUMN and r.platform:
                attrs = f' title="{esc(r.platform)}"'  # the OS, on hover
            elif i == len(cells) - 1:
                attrs = ' class="flag"'
            tds.append(f"<td{attrs}>{esc(c)}</td>")
        lines.append(f'<tr class="{"flagged" if r.flags else "ok"}">{"".join(tds)}</tr>')
    head = "".join(f"<th>{esc(h)}</th>" for h in fleet.HEADERS_VI)
    table = (f"<table><tr>{head}</tr>{''.join(lines)}</table>" if lines
             else "<p>Chưa có máy trạm nào.</p>")
    as_json = "/admin/fleet.json?" + urlencode({
        "min_version": result.policy.min_version, "silent_days": result.policy.silent_days,
        "min_free_gb": result.policy.min_free_gb})
    return (f'<h1>Cổng tỉnh — tình trạng các quầy</h1><p><a href="/admin">← Hồ sơ</a> · '
            f'<a href="{esc(as_json)}">JSON</a></p>{_filters(result)}'
            f'<p class="msg{" err" if result.flagged else ""}">'
            f"{esc(fleet.summary_vi(result))}</p>{table}"
            "<p>Phiên bản mới nhất trong tỉnh: "
            f"{esc(result.newest_version or 'chưa có quầy nào báo')}. Giờ hiển thị theo giờ "
            "Việt Nam; “Lần cuối” là lúc cổng nhận nhịp báo gần nhất của quầy.</p>")
