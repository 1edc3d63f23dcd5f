"""The trainer's schedule: how the simulated province moves the dossiers it receives.

A schedule is a list of plans, each a list of steps "N minutes after the province first
saw the dossier → status X, with this note". The dossiers received at the counter take the
plans in turn (the first dossier the first plan, the second the second, … then round
again), so a class that receives a few dossiers gets a result to hand over, a supplement
to take in and a refusal to explain. The dossiers the training data starts with (received
weeks ago, already late) follow ``seeded_plan``.

Stored as JSON in the training folder (``schedule.json``, edited in the trainer's dialog
or by hand); what has been applied is in ``schedule-state.json``, so a restart of the
program neither repeats nor forgets a step. The clock is passed in: tests run a two-hour
schedule in milliseconds."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from desktop_app.domain.errors import DomainError
from desktop_app.files import write_atomically

log = logging.getLogger(__name__)

RECEIVED = 2
# Nothing follows these at the province (refused at the counter, withdrawn, returned).
FINAL = frozenset({3, 7, 10})
STATUS_NAMES = {
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung hồ sơ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    8: "Dừng xử lý (từ chối giải quyết)",
    9: "Đã có kết quả",
}
SEEDED = "seeded"


class ScheduleError(DomainError):
    pass


@dataclass(frozen=True)
class Step:
    after_minutes: float
    status: int
    note: str = ""


@dataclass(frozen=True)
class Plan:
    name: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Schedule:
    title: str
    plans: tuple[Plan, ...]
    seeded_plan: Plan | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    def describe(self) -> list[str]:
        """One line per plan, for the trainer's dialog and the checklist."""
        lines = []
        for i, plan in enumerate(self.plans, 1):
            steps = ", ".join(f"sau {_minutes(s.after_minutes)} → {STATUS_NAMES[s.status]}"
                              for s in plan.steps)
            lines.append(f"Hồ sơ thứ {i}, {i + len(self.plans)}, …: {plan.name} ({steps})")
        if self.seeded_plan is not None:
            steps = ", ".join(f"sau {_minutes(s.after_minutes)} → {STATUS_NAMES[s.status]}"
                              for s in self.seeded_plan.steps)
            lines.append(f"Hồ sơ có sẵn (đã trễ hạn): {self.seeded_plan.name} ({steps})")
        return lines


def _minutes(value: float) -> str:
    return f"{value:g} phút"


def default_schedule() -> Schedule:
    """For a two-hour class: within half an hour of receiving its first three dossiers
    the class has a result to return (F7), a supplement to take in and a refusal to hand
    over; the late dossiers of the starting data get their result after 45 minutes, to be
    returned with an apology (F8)."""
    return Schedule(
        title="Buổi tập huấn 2 giờ (mặc định)",
        plans=(
            Plan("Có kết quả để trả", (
                Step(2, 4, "Chuyên viên đang thẩm định hồ sơ."),
                Step(10, 9, "Đã có kết quả, mời công dân đến nhận tại Bộ phận Một cửa."))),
            Plan("Yêu cầu bổ sung", (
                Step(5, 5, "Đề nghị bổ sung bản sao giấy tờ còn thiếu theo quy định."),)),
            Plan("Từ chối giải quyết", (
                Step(3, 4, "Chuyên viên đang thẩm định hồ sơ."),
                Step(8, 8, "Không đủ điều kiện giải quyết: thông tin trên tờ khai không "
                           "khớp với cơ sở dữ liệu dân cư."))),
        ),
        seeded_plan=Plan("Trễ hạn — xin lỗi rồi trả", (
            Step(1, 4, "Hồ sơ đã quá hạn giải quyết, đang chờ ý kiến lãnh đạo."),
            Step(45, 9, "Đã có kết quả (trễ hạn), mời công dân đến nhận."))),
    )


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise ScheduleError(f"{where}: mỗi bước phải có after_minutes và status.",
                            f"{where}: step not an object")
    try:
        after = float(raw["after_minutes"])
        status = int(raw["status"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ScheduleError(f"{where}: mỗi bước phải có after_minutes (số phút) và status "
                            "(mã trạng thái).", f"{where}: {exc!r}") from exc
    if not 0 <= after <= 7 * 24 * 60:
        raise ScheduleError(f"{where}: số phút phải từ 0 đến 10080 (một tuần).",
                            f"{where}: after_minutes {after}")
    if status not in STATUS_NAMES:
        allowed = ", ".join(f"{k} ({v})" for k, v in STATUS_NAMES.items())
        raise ScheduleError(f"{where}: trạng thái {status} không dùng được; chọn một trong: "
                            f"{allowed}.", f"{where}: status {status}")
    return Step(after, status, str(raw.get("note", "")).strip()[:500])


def _plan(raw: Any, where: str) -> Plan:
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), list) or not raw["steps"]:
        raise ScheduleError(f"{where}: cần tên (name) và ít nhất một bước (steps).",
                            f"{where}: bad plan")
    steps = tuple(_step(s, f"{where}, bước {j}") for j, s in enumerate(raw["steps"], 1))
    if any(b.after_minutes < a.after_minutes for a, b in itertools.pairwise(steps)):
        raise ScheduleError(f"{where}: các bước phải theo thứ tự thời gian.",
                            f"{where}: steps out of order")
    return Plan(str(raw.get("name", "")).strip() or "Kịch bản", steps)


def parse_schedule(text: str) -> Schedule:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ScheduleError("Tệp lịch tập huấn không phải JSON hợp lệ.", str(exc)) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("plans"), list) or not raw["plans"]:
        raise ScheduleError("Lịch tập huấn cần ít nhất một kịch bản (plans).", "no plans")
    plans = tuple(_plan(p, f"Kịch bản {i}") for i, p in enumerate(raw["plans"], 1))
    seeded = raw.get("seeded_plan")
    return Schedule(str(raw.get("title", "")).strip() or "Lịch tập huấn", plans,
                    _plan(seeded, "Kịch bản hồ sơ có sẵn") if seeded else None)


def load_schedule(path: Path) -> Schedule:
    """The schedule in ``path``, or the default one when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return default_schedule()
    return parse_schedule(text)


def save_schedule(path: Path, schedule: Schedule) -> None:
    write_atomically(path, schedule.to_json())


# --- applying it ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvinceDossier:
    key: str  # MaHoSo, or the client id of a slip without a code
    status: int


class Province(Protocol):
    """What the scheduler needs of the simulated province."""

    def dossiers(self) -> list[ProvinceDossier]: ...  # in the order they arrived

    def set_status(self, key: str, status: int, note: str) -> None: ...


@dataclass(frozen=True)
class Applied:
    key: str
    plan: str
    status: int
    at: datetime


@dataclass
class _Tracked:
    first_seen: str
    plan: int | str | None  # index into plans, SEEDED, or None (not scheduled)
    done: int = 0


@dataclass
class _State:
    dossiers: dict[str, _Tracked] = field(default_factory=dict)
    arrivals: int = 0  # dossiers given a plan so far (which plan the next one takes)
    seeded: list[str] = field(default_factory=list)


def _load_state(path: Path) -> _State:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return _State()
    return _State({k: _Tracked(**v) for k, v in raw.get("dossiers", {}).items()},
                  int(raw.get("arrivals", 0)), list(raw.get("seeded", [])))


def _save_state(path: Path, state: _State) -> None:
    write_atomically(path, json.dumps({"dossiers": {k: asdict(v) for k, v in
                                                    state.dossiers.items()},
                                       "arrivals": state.arrivals, "seeded": state.seeded},
                                      ensure_ascii=False, indent=1))


def mark_seeded(state_file: Path, codes: list[str]) -> None:
    """The dossiers the training data starts with follow the schedule's seeded plan."""
    state = _load_state(state_file)
    state.seeded = sorted(set(state.seeded) | set(codes))
    _save_state(state_file, state)


class Scheduler:
    def __init__(self, schedule: Schedule, province: Province, state_file: Path,
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self.schedule = schedule
        self.province = province
        self.state_file = state_file
        self.clock = clock

    def _plan(self, tracked: _Tracked) -> Plan | None:
        if tracked.plan == SEEDED:
            return self.schedule.seeded_plan
        if isinstance(tracked.plan, int) and self.schedule.plans:
            return self.schedule.plans[tracked.plan % len(self.schedule.plans)]
        return None

    def tick(self, now: datetime | None = None) -> list[Applied]:
        """Note the dossiers the province got since the last tick and apply every step
        that is due; returns what was applied."""
        now = now or self.clock()
        state = _load_state(self.state_file)
        applied: list[Applied] = []
        for d in self.province.dossiers():
            tracked = state.dossiers.get(d.key)
            if tracked is None:
                if d.key in state.seeded:
                    plan: int | str | None = SEEDED
                elif d.status == RECEIVED:
                    plan = state.arrivals
                    state.arrivals += 1
                else:
                    plan = None  # a supplement request or a refusal made at the counter
                tracked = _Tracked(now.isoformat(timespec="seconds"), plan)
                state.dossiers[d.key] = tracked
            chosen = self._plan(tracked)
            if chosen is None:
                continue
            seen = datetime.fromisoformat(tracked.first_seen)
            status = d.status
            while tracked.done < len(chosen.steps):
                step = chosen.steps[tracked.done]
                if status in FINAL or seen + timedelta(minutes=step.after_minutes) > now:
                    break
                if step.status != status:
                    self.province.set_status(d.key, step.status,
                                             step.note or STATUS_NAMES[step.status])
                    applied.append(Applied(d.key, chosen.name, step.status, now))
                    status = step.status
                tracked.done += 1
        _save_state(self.state_file, state)
        for a in applied:
            log.info("training province: %s -> status %d (%s)", a.key, a.status, a.plan)
        return applied

    def progress(self) -> list[tuple[str, str, int, int]]:
        """(dossier, plan, steps done, steps) of each scheduled dossier, for the trainer."""
        state = _load_state(self.state_file)
        out = []
        for key, tracked in state.dossiers.items():
            plan = self._plan(tracked)
            if plan is not None:
                out.append((key, plan.name, tracked.done, len(plan.steps)))
        return out
