"""A small admin page for trainers (dossiers, status buttons) and the faults endpoint.

Authentication: the admin token as HTTP Basic password, as a bearer token (CLI), or a
cookie set by the login form. Form posts carry a CSRF token derived from the admin token."""

from __future__ import annotations

import hashlib
import hmac
import html
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from provincial_gateway import admin_ops, fleet, fleet_page
from provincial_gateway.auth import ADMIN_COOKIE, is_admin
from provincial_gateway.dossiers import StatusError
from provincial_gateway.faults import FaultPlan
from provincial_gateway.state import fault_plan, gateway_state
from provincial_gateway.statuses import STATUS_LABELS

router = APIRouter(prefix="/admin", include_in_schema=False)

STYLE = """body{font-family:"Liberation Sans",Arial,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;padding-top:.2em}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eef}.msg{background:#efe;padding:.5em;border:1px solid #9c9}
tr.flagged td{background:#fff4e5}.flag{color:#a30;font-weight:bold}
.err{background:#fee;border-color:#c99}form.inline{display:flex;gap:.3em;flex-wrap:wrap}"""


def _csrf(request: Request) -> str:
    key = gateway_state(request).admin_token.encode()
    return hmac.new(key, b"admin-form", hashlib.sha256).hexdigest()[:32]


def _page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None,
          ) -> HTMLResponse:
    doc = (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
           f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
           f"<body>{body}</body></html>")
    return HTMLResponse(doc, status_code=status, headers=headers)


def _login_page(status: int = 401, error: str = "") -> HTMLResponse:
    err = f'<p class="msg err">{html.escape(error)}</p>' if error else ""
    body = (f"<h1>Cổng tỉnh — quản trị</h1>{err}"
            '<form method="post" action="/admin/login">'
            '<label>Mã quản trị <input type="password" name="token" autofocus></label> '
            "<button>Đăng nhập</button></form>")
    return _page("Đăng nhập quản trị", body, status,
                 {"WWW-Authenticate": 'Basic realm="provincial-gateway-admin", charset="UTF-8"'})


async def _form(request: Request) -> dict[str, str]:
    # No python-multipart dependency: the forms are urlencoded.
    raw = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


@router.get("", response_class=HTMLResponse)
async def admin_home(request: Request, msg: str = "", err: str = "") -> HTMLResponse:
    if not is_admin(request):
        return _login_page()
    state = gateway_state(request)
    rows = await run_in_threadpool(admin_ops.list_dossiers, state)
    stations = await run_in_threadpool(admin_ops.list_stations, state)
    esc = html.escape
    csrf = _csrf(request)
    options = "".join(f'<option value="{k}">{k} — {esc(v)}</option>'
                      for k, v in STATUS_LABELS.items())
    lines = []
    for d in rows:
        key = d.ma_ho_so or d.client_id
        lines.append(
            f"<tr><td>{esc(d.ma_ho_so or '(không có mã)')}</td><td>{esc(d.agency_code)}</td>"
            f"<td>{esc(d.procedure_name or d.procedure_code)}</td><td>{esc(d.received_at)}"
            + "".join(f"<br><strong>⚠ {esc(label)}</strong>" for label in d.flag_labels)
            + "</td>"
            f"<td>{d.revision}</td><td>{d.status} — {esc(d.status_label)}</td><td>"
            f'<form class="inline" method="post" action="/admin/status">'
            f'<input type="hidden" name="csrf" value="{csrf}">'
            f'<input type="hidden" name="key" value="{esc(key)}">'
            f'<select name="status" aria-label="Trạng thái mới">{options}</select>'
            f'<input name="note" placeholder="Nội dung xử lý" aria-label="Nội dung xử lý">'
            f'<input name="by" placeholder="Người xử lý" maxlength="50" aria-label="Người xử lý">'
            f"<button>Cập nhật</button></form></td></tr>")
    table = ("<table><tr><th>Mã hồ sơ</th><th>Đơn vị</th><th>Thủ tục</th><th>Ngày tiếp nhận</th>"
             "<th>Phiên bản</th><th>Trạng thái</th><th>Chuyển trạng thái</th></tr>"
             + "".join(lines) + "</table>") if lines else "<p>Chưa có hồ sơ nào.</p>"
    station_list = "".join(
        f"<li>{esc(s.agency_code)} / quầy {s.station_digit}: {esc(s.name)}"
        f"{'' if s.active else ' (đã thu hồi)'}</li>" for s in stations) or "<li>Chưa có.</li>"
    rules = fault_plan(request).rules
    fault_list = "".join(f"<li>{esc(r.kind)} {esc(r.method)} {esc(r.path)}</li>"
                         for r in rules) or "<li>Không có.</li>"
    notice = (f'<p class="msg">{esc(msg)}</p>' if msg else "") + (
        f'<p class="msg err">{esc(err)}</p>' if err else "")
    body = (f"<h1>Cổng tỉnh — hồ sơ đã nhận</h1>{notice}{table}"
            f'<h2>Máy trạm</h2><p><a href="/admin/fleet">Tình trạng các quầy</a></p>'
            f"<ul>{station_list}</ul>"
            f"<h2>Lỗi giả lập đang bật</h2><ul>{fault_list}</ul>"
            '<form method="post" action="/admin/logout">'
            f'<input type="hidden" name="csrf" value="{csrf}"><button>Đăng xuất</button></form>')
    return _page("Cổng tỉnh — quản trị", body)


def _number(raw: str, default: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if 0 <= value < 1e6 else default


def _fleet_policy(min_version: str, silent_days: str, min_free_gb: str) -> fleet.FleetPolicy:
    """Thresholds from the query; an unreadable one is the default."""
    wanted = min_version.strip()[:40]
    if wanted and fleet.version_key(wanted) is None:
        wanted = ""
    return fleet.FleetPolicy(wanted, _number(silent_days, fleet.DEFAULT_SILENT_DAYS),
                             _number(min_free_gb, fleet.DEFAULT_MIN_FREE_GB))


@router.get("/fleet", response_class=HTMLResponse)
async def admin_fleet(request: Request, min_version: str = "", silent_days: str = "",
                      min_free_gb: str = "") -> HTMLResponse:
    """The counters with their latest heartbeat and the flags of `motcua gateway fleet`."""
    if not is_admin(request):
        return _login_page()
    policy = _fleet_policy(min_version, silent_days, min_free_gb)
    result = await run_in_threadpool(fleet.fleet, gateway_state(request), policy)
    return _page("Cổng tỉnh — tình trạng các quầy", fleet_page.render(result))


@router.get("/fleet.json")
async def admin_fleet_json(request: Request, min_version: str = "", silent_days: str = "",
                           min_free_gb: str = "") -> Response:
    """The same for a province's monitoring (admin token as a bearer token)."""
    if (refused := _require_admin_json(request)) is not None:
        return refused
    policy = _fleet_policy(min_version, silent_days, min_free_gb)
    result = await run_in_threadpool(fleet.fleet, gateway_state(request), policy)
    return JSONResponse(result.to_dict())


@router.post("/login")
async def admin_login(request: Request) -> Response:
    token = (await _form(request)).get("token", "")
    expected = gateway_state(request).admin_token
    if not hmac.compare_digest(token.encode(), expected.encode()):
        return _login_page(error="Mã quản trị không đúng.")
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(ADMIN_COOKIE, token, httponly=True, samesite="strict", path="/admin",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout")
async def admin_logout(request: Request) -> Response:
    response = RedirectResponse("/admin", status_code=303)
    response.delete_cookie(ADMIN_COOKIE, path="/admin")
    return response


@router.post("/status")
async def admin_status(request: Request) -> Response:
    if not is_admin(request):
        return _login_page()
    form = await _form(request)
    if not hmac.compare_digest(form.get("csrf", "").encode(), _csrf(request).encode()):
        return _page("Lỗi", "<p>Phiên làm việc không hợp lệ; hãy tải lại trang.</p>", 403)
    try:
        status = int(form.get("status", ""))
        change = await run_in_threadpool(
            lambda: admin_ops.set_status(gateway_state(request), form.get("key", ""), status,
                                         note=form.get("note", ""), actor=form.get("by", "")))
    except ValueError as exc:
        message = str(exc) if isinstance(exc, StatusError) else "Trạng thái phải là số từ 1 đến 10."
        return RedirectResponse(f"/admin?err={quote(message)}", status_code=303)
    message = (f"Hồ sơ {change.MaHoSo or change.ClientId}: "
               f"{STATUS_LABELS[change.TrangThaiHoSo]} (thứ tự {change.seq}).")
    return RedirectResponse(f"/admin?msg={quote(message)}", status_code=303)


def _require_admin_json(request: Request) -> JSONResponse | None:
    if is_admin(request):
        return None
    return JSONResponse({"code": "auth", "message": "Cần mã quản trị.", "missing": []},
                        status_code=401, headers={"WWW-Authenticate": "Bearer"})


@router.get("/faults")
def get_faults(request: Request) -> Response:
    return _require_admin_json(request) or JSONResponse(fault_plan(request).to_dict())


@router.post("/faults")
async def set_faults(request: Request) -> Response:
    """Body: {"rules": [FaultRule…], "seed": 0, "append": false}. JSON only, which a
    cross-site form cannot send."""
    if (refused := _require_admin_json(request)) is not None:
        return refused
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return JSONResponse({"code": "invalid", "message": "Cần JSON.", "missing": []}, 415)
    try:
        data: Any = await request.json()
        new = FaultPlan.from_dict(data)
    except (ValueError, TypeError, AttributeError) as exc:
        return JSONResponse({"code": "invalid", "message": f"Luật lỗi không hợp lệ: {exc}",
                             "missing": []}, 422)
    plan = fault_plan(request)
    rules = (plan.rules if data.get("append") else []) + new.rules
    plan.replace(rules, seed=new.seed if "seed" in data else None)
    return JSONResponse(plan.to_dict())


@router.delete("/faults")
def clear_faults(request: Request) -> Response:
    if (refused := _require_admin_json(request)) is not None:
        return refused
    fault_plan(request).clear()
    return JSONResponse(fault_plan(request).to_dict())
