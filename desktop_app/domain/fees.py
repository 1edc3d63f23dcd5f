"""Fees (phí, lệ phí): how a schedule line is charged, and what a dossier owes.

A catalog line is charged once per case ("trường hợp", the default), per copy issued
(e.g. 8.000 đồng per copy of an extract), or per page of each copy with a lower rate
from a given page and a cap per copy (certified copies: 2.000 đồng/trang, from the third
page 1.000 đồng/trang, at most 200.000 đồng/bản — Circular 226/2016/TT-BTC). The clerk
enters what the citizen asks for (pages and copies of each document); the amount
follows from the schedule and nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from desktop_app.domain.text import vnd


class FeeBasis(StrEnum):
    CASE = "case"  # one amount per dossier
    COPY = "copy"  # amount × copies
    PAGE = "page"  # per page of each copy, tiered and capped per copy

    @property
    def unit_vi(self) -> str:
        return {FeeBasis.CASE: "trường hợp", FeeBasis.COPY: "bản",
                FeeBasis.PAGE: "trang"}[self]


class PaymentMethod(StrEnum):
    CASH = "cash"
    TRANSFER = "transfer"
    CARD = "card"
    ONLINE = "online"

    @property
    def label_vi(self) -> str:
        return {PaymentMethod.CASH: "Tiền mặt", PaymentMethod.TRANSFER: "Chuyển khoản",
                PaymentMethod.CARD: "Thẻ (máy POS)",
                PaymentMethod.ONLINE: "Trực tuyến (Cổng Dịch vụ công)"}[self]


@dataclass(frozen=True)
class FeeRule:
    """One line of a procedure's fee schedule."""

    code: str
    name: str
    amount: int  # per case, per copy, or per page (the first pages for PAGE)
    kind: str = "lệ phí"
    basis: FeeBasis = FeeBasis.CASE
    later_from_page: int = 0  # PAGE: from this page on each page costs ``later_amount``
    later_amount: int = 0
    cap_per_copy: int = 0  # PAGE: at most this per copy (0 = no cap)
    note: str = ""

    @property
    def counted(self) -> bool:
        """The clerk must say how many (copies, pages) before the amount is known."""
        return self.basis is not FeeBasis.CASE and self.amount > 0

    def per_copy(self, pages: int) -> int:
        """What one copy of a ``pages``-page document costs (PAGE basis)."""
        pages = max(pages, 0)
        if self.later_from_page > 1 and pages >= self.later_from_page:
            first = self.later_from_page - 1
            total = first * self.amount + (pages - first) * self.later_amount
        else:
            total = pages * self.amount
        return min(total, self.cap_per_copy) if self.cap_per_copy > 0 else total

    def rate_text(self) -> str:
        """The schedule in words, e.g. "2.000 đồng/trang; từ trang thứ 3 trở đi 1.000
        đồng/trang; tối đa 200.000 đồng/bản"."""
        if self.amount <= 0:
            return "Không thu"
        text = f"{vnd(self.amount)}/{self.basis.unit_vi}"
        if self.basis is FeeBasis.PAGE:
            if self.later_from_page > 1:
                text += (f"; từ trang thứ {self.later_from_page} trở đi "
                         f"{vnd(self.later_amount)}/trang")
            if self.cap_per_copy > 0:
                text += f"; tối đa {vnd(self.cap_per_copy)}/bản"
        return text


@dataclass(frozen=True)
class FeeCount:
    """One document the citizen asks for: ``copies`` copies of ``pages`` pages each
    (``pages`` is ignored unless the line is charged per page)."""

    copies: int = 1
    pages: int = 1


@dataclass(frozen=True)
class AssessedFee:
    """A schedule line applied to what the citizen asked for: the amount owed."""

    rule: FeeRule
    counts: tuple[FeeCount, ...]
    amount: int

    @property
    def quantity_text(self) -> str:
        """What was counted, e.g. "2 bản × 5 trang; 1 bản × 1 trang" ("" for a case)."""
        if self.rule.basis is FeeBasis.CASE or not self.counts:
            return ""
        if self.rule.basis is FeeBasis.COPY:
            return f"{sum(c.copies for c in self.counts)} bản"
        return "; ".join(f"{c.copies} bản × {c.pages} trang" for c in self.counts)


class FeeCountError(ValueError):
    pass


def assess(rule: FeeRule, counts: Sequence[FeeCount] = ()) -> AssessedFee:
    """The amount owed for ``rule``. A per-copy or per-page line needs at least one count
    (without one nothing is owed yet: the clerk has not said what is asked for)."""
    for c in counts:
        if c.copies < 0 or c.pages < 0 or c.copies > 999 or c.pages > 9999:
            raise FeeCountError(f"bad fee count {c}")
    kept = tuple(c for c in counts if c.copies > 0 and
                 (rule.basis is not FeeBasis.PAGE or c.pages > 0))
    if rule.basis is FeeBasis.CASE:
        return AssessedFee(rule, (), max(rule.amount, 0))
    if rule.basis is FeeBasis.COPY:
        return AssessedFee(rule, kept, max(rule.amount, 0) * sum(c.copies for c in kept))
    return AssessedFee(rule, kept, sum(rule.per_copy(c.pages) * c.copies for c in kept))


def total(assessed: Sequence[AssessedFee]) -> int:
    return sum(a.amount for a in assessed)


@dataclass(frozen=True)
class PaymentEntry:
    """Money the clerk says was collected (before it is recorded)."""

    amount: int
    receipt_number: str = ""  # the fee receipt (biên lai) or the transfer's reference
    method: PaymentMethod = PaymentMethod.CASH
    payer_name: str = ""  # "" = whoever stands at the counter
    reason: str = ""  # required when the amount differs from what is owed
