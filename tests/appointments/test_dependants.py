"""Booking for the people a patient books for (their dependants): the rules per person."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts import services as account_services
from accounts.models import Dependant
from appointments.exceptions import (
    IdempotencyKeyReused,
    NotYourDependant,
    PatientOverlap,
    TooManyUpcoming,
)
from appointments.models import Appointment
from appointments.services import cancel_appointment, reschedule_appointment
from tests.factories import book, local, make_dependant, make_doctor, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

MONDAY = (2026, 3, 9)


@pytest.fixture
def doctor():
    return make_doctor()


@pytest.fixture
def leon():
    return make_patient(full_name="Leon Wolf")


@pytest.fixture
def mia(leon):
    return make_dependant(leon, "Mia Wolf")


def at(doctor, hour, minute=0):
    return local(doctor.clinic, *MONDAY, hour, minute)


def test_a_patient_books_for_their_child_and_the_appointment_names_her(doctor, leon, mia):
    appointment = book(leon, doctor, at(doctor, 10), dependant=mia)

    appointment.refresh_from_db()
    assert appointment.patient == leon
    assert appointment.dependant == mia


def test_the_parent_and_the_child_may_be_seen_at_the_same_time(leon, mia):
    first, second = make_doctor(), make_doctor()

    book(leon, first, at(first, 10))
    book(leon, second, at(second, 10), dependant=mia)

    assert Appointment.objects.filter(patient=leon).count() == 2


def test_two_children_may_be_seen_at_the_same_time(leon, mia):
    ben = make_dependant(leon, "Ben Wolf")
    first, second = make_doctor(), make_doctor()

    book(leon, first, at(first, 10), dependant=mia)
    book(leon, second, at(second, 10), dependant=ben)

    assert Appointment.objects.filter(dependant__isnull=False).count() == 2


def test_the_child_cannot_be_booked_twice_at_the_same_time(leon, mia):
    first, second = make_doctor(), make_doctor()
    book(leon, first, at(first, 10), dependant=mia)

    with pytest.raises(PatientOverlap, match="Mia Wolf already has an appointment"):
        book(leon, second, at(second, 10), dependant=mia)


def test_the_parent_overlap_rule_still_holds_for_the_parent(leon, mia):
    first, second = make_doctor(), make_doctor()
    book(leon, first, at(first, 10))

    with pytest.raises(PatientOverlap, match="You already have"):
        book(leon, second, at(second, 10))


def test_moving_the_childs_appointment_onto_her_other_one_is_refused(leon, mia):
    first, second = make_doctor(), make_doctor()
    book(leon, first, at(first, 10), dependant=mia)
    later = book(leon, second, at(second, 12), dependant=mia)

    with pytest.raises(PatientOverlap):
        reschedule_appointment(appointment=later, starts_at=at(second, 10), rescheduled_by=None)


def test_moving_the_childs_appointment_onto_her_parents_time_is_allowed(leon, mia):
    first, second = make_doctor(), make_doctor()
    book(leon, first, at(first, 10))
    hers = book(leon, second, at(second, 12), dependant=mia)

    moved = reschedule_appointment(appointment=hers, starts_at=at(second, 10), rescheduled_by=None)

    assert moved.starts_at == at(second, 10)


def test_the_upcoming_cap_counts_each_person_separately(doctor, leon, mia):
    doctor.clinic.max_upcoming_per_patient = 1
    doctor.clinic.save()
    book(leon, doctor, at(doctor, 9))

    book(leon, doctor, at(doctor, 10), dependant=mia)

    with pytest.raises(TooManyUpcoming, match="Mia Wolf already has the maximum"):
        book(leon, doctor, at(doctor, 11), dependant=mia)
    with pytest.raises(TooManyUpcoming, match="You already have the maximum"):
        book(leon, doctor, at(doctor, 12))


def test_a_patient_cannot_book_for_someone_elses_dependant(doctor, mia):
    stranger = make_patient()

    with pytest.raises(NotYourDependant):
        book(stranger, doctor, at(doctor, 10), dependant=mia)

    assert not Appointment.objects.exists()


def test_an_erased_dependant_cannot_be_booked(doctor, leon, mia):
    mia.erased_at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    mia.save()

    with pytest.raises(NotYourDependant):
        book(leon, doctor, at(doctor, 10), dependant=mia)


def test_a_retried_booking_for_another_person_with_the_same_key_is_refused(doctor, leon, mia):
    book(leon, doctor, at(doctor, 10), booking_key="k1")

    with pytest.raises(IdempotencyKeyReused):
        book(leon, doctor, at(doctor, 10), booking_key="k1", dependant=mia)


def test_a_retried_booking_for_the_same_person_returns_the_first(doctor, leon, mia):
    first = book(leon, doctor, at(doctor, 10), booking_key="k1", dependant=mia)

    assert book(leon, doctor, at(doctor, 10), booking_key="k1", dependant=mia) == first


def test_cancelling_the_childs_appointment_frees_her_time(leon, mia):
    first, second = make_doctor(), make_doctor()
    hers = book(leon, first, at(first, 10), dependant=mia)
    cancel_appointment(appointment=hers, cancelled_by=leon.user)

    book(leon, second, at(second, 10), dependant=mia)


def test_adding_a_dependant_checks_the_name_like_the_patients_own(leon):
    with pytest.raises(ValidationError):
        account_services.add_dependant(
            patient=leon, full_name="Mia\r\nBcc: x@example.com", date_of_birth=dt.date(2019, 1, 1)
        )
    with pytest.raises(ValidationError):
        account_services.add_dependant(
            patient=leon, full_name="Mia", date_of_birth=dt.date(2099, 1, 1)
        )
    assert not Dependant.objects.exists()


def test_a_dependant_without_appointments_can_be_removed(leon, mia):
    account_services.remove_dependant(dependant=mia)

    assert not Dependant.objects.exists()


def test_a_dependant_with_appointments_stays(doctor, leon, mia):
    appointment = book(leon, doctor, at(doctor, 10), dependant=mia)
    cancel_appointment(appointment=appointment, cancelled_by=leon.user)

    with pytest.raises(account_services.DependantHasAppointments):
        account_services.remove_dependant(dependant=mia)

    assert Dependant.objects.filter(pk=mia.pk).exists()


def test_the_dependants_date_of_birth_is_encrypted_at_rest(mia):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT date_of_birth FROM accounts_dependant WHERE id = %s", [mia.pk])
        (stored,) = cursor.fetchone()

    assert "2019" not in stored
    mia.refresh_from_db()
    assert mia.date_of_birth == dt.date(2019, 6, 1)


def test_erasing_the_patient_erases_the_people_they_booked_for_and_keeps_the_records(
    doctor, leon, mia
):
    from appointments.erasure import ERASED_NAME, erase_patient

    appointment = book(leon, doctor, at(doctor, 10), dependant=mia)
    cancel_appointment(appointment=appointment, cancelled_by=leon.user)

    erase_patient(patient=leon, erased_by=None)

    mia.refresh_from_db()
    assert (mia.full_name, mia.date_of_birth) == (ERASED_NAME, None)
    assert mia.erased_at is not None
    appointment.refresh_from_db()
    assert appointment.dependant == mia
