"""The intake wizard's fields as a draft and back, exactly as typed: what the autosave
keeps and what a resumed draft fills in (a birth date typed halfway included), and the
one hook that hears every edit."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QRadioButton, QSpinBox

from desktop_app.domain.dates import parse_birth_date
from desktop_app.domain.errors import DomainError
from desktop_app.intake.drafts import Delivery, IntakeDraft, PersonInfo, SavedIntake
from ui.intake_steps import ApplicantStep, ComponentsStep, DeliveryStep, PersonForm


def person_typed(form: PersonForm) -> tuple[PersonInfo, str]:
    """The person as typed, and the birth date text when it is not a date (yet)."""
    text = form.birth_date.text()
    try:
        birth, typed = parse_birth_date(text), ""
    except DomainError:
        birth, typed = None, text
    return PersonInfo(full_name=form.full_name.text(), id_number=form.id_number.text(),
                      birth_date=birth, sex=form.sex.currentText(),
                      address=form.address.text(), phone=form.phone.text(),
                      email=form.email.text()), typed


def fill_person(form: PersonForm, person: PersonInfo, typed_birth: str) -> None:
    form.full_name.setText(person.full_name)
    form.id_number.setText(person.id_number)
    form.birth_date.setText(typed_birth or (f"{person.birth_date:%d/%m/%Y}"
                                            if person.birth_date else ""))
    form.sex.setCurrentText(person.sex)
    form.address.setText(person.address)
    form.phone.setText(person.phone)
    form.email.setText(person.email)


def collect(procedure_code: str, applicant: ApplicantStep, components: ComponentsStep,
            delivery: DeliveryStep) -> tuple[IntakeDraft, str, str]:
    """The draft as typed, never refused, and the birth dates typed that are not dates."""
    owner, owner_typed = person_typed(applicant.owner)
    submitter, submitter_typed = (person_typed(applicant.submitter)
                                  if applicant.proxy.isChecked() else (None, ""))
    draft = IntakeDraft(
        procedure_code=procedure_code,
        owner=owner,
        submitter=submitter,
        components=components.collect(),
        set_count=delivery.set_count.value(),
        delivery=Delivery.POST if delivery.by_post.isChecked() else Delivery.COUNTER,
        delivery_address=delivery.address.text(),
        note=delivery.note.toPlainText(),
        fee_counts=delivery.fees.counts(),
        payment=delivery.fees.payment.entry(),
    )
    return draft, owner_typed, submitter_typed


def fill(saved: SavedIntake, applicant: ApplicantStep, delivery: DeliveryStep) -> None:
    """The applicant and delivery steps from a saved draft (the components table is
    loaded by the wizard, which knows the procedure)."""
    d = saved.draft
    fill_person(applicant.owner, d.owner, saved.owner_birth_text)
    applicant.proxy.setChecked(d.submitter is not None)
    if d.submitter is not None:
        fill_person(applicant.submitter, d.submitter, saved.submitter_birth_text)
    delivery.set_count.setValue(d.set_count)
    (delivery.by_post if d.delivery is Delivery.POST else delivery.at_counter).setChecked(True)
    delivery.address.setText(d.delivery_address)
    delivery.note.setPlainText(d.note)


def fill_fees(d: IntakeDraft, delivery: DeliveryStep) -> None:
    """The counts and the payment of a saved draft (once the procedure's lines exist)."""
    delivery.fees.set_counts(d.fee_counts)
    delivery.fees.payment.fill(d.payment)


def watch_edits(applicant: ApplicantStep, components: ComponentsStep, delivery: DeliveryStep,
                edited: Callable[[], None]) -> None:
    """Call ``edited`` on any change of a field (the components' count boxes are made
    anew with each procedure: ``watch_counts`` after loading them)."""
    for edit in applicant.findChildren(QLineEdit) + delivery.findChildren(QLineEdit):
        edit.textChanged.connect(edited)
    for combo in applicant.findChildren(QComboBox):
        combo.currentIndexChanged.connect(edited)
    for box in applicant.findChildren(QCheckBox):
        box.toggled.connect(edited)
    for radio in delivery.findChildren(QRadioButton):
        radio.toggled.connect(edited)
    delivery.set_count.valueChanged.connect(edited)
    delivery.note.textChanged.connect(edited)
    delivery.fees.changed.connect(edited)
    components.table.itemChanged.connect(edited)


def watch_counts(components: ComponentsStep, edited: Callable[[], None]) -> None:
    for spin in components.table.findChildren(QSpinBox):
        spin.valueChanged.connect(edited)
