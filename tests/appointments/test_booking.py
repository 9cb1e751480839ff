import datetime as dt

import pytest

from appointments.exceptions import (
    IdempotencyKeyReused,
    NotBookable,
    PatientOverlap,
    ProfileIncomplete,
    SlotUnavailable,
    TooFarAhead,
    TooManyUpcoming,
    TooSoon,
)
from appointments.models import Appointment, Status
from appointments.services import book_appointment, cancel_appointment
from scheduling.models import TimeOff
from tests.factories import (
    book,
    consultation,
    local,
    make_clinic,
    make_doctor,
    make_patient,
    make_type,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

# Now is Wed 2026-03-04 09:00 Berlin; Monday 9 March is comfortably bookable.
MONDAY = (2026, 3, 9)


@pytest.fixture
def doctor():
    return make_doctor()


@pytest.fixture
def patient():
    return make_patient()


def at(doctor, hour, minute=0):
    return local(doctor.clinic, *MONDAY, hour, minute)


def test_a_start_far_beyond_the_horizon_is_too_far_ahead_not_an_overflow(doctor, patient):
    with pytest.raises(TooFarAhead):
        book(patient, doctor, dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC))


def test_it_books_a_free_slot(doctor, patient):
    appointment = book(patient, doctor, at(doctor, 10), reason="Cough")

    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert appointment.starts_at == at(doctor, 10)
    assert appointment.ends_at == at(doctor, 10, 30)
    assert appointment.reason == "Cough"
    assert appointment.booked_by == patient.user


@pytest.mark.parametrize("missing", ["full_name", "phone", "date_of_birth"])
def test_it_refuses_a_patient_whose_profile_is_incomplete(doctor, missing):
    patient = make_patient(**{missing: None if missing == "date_of_birth" else ""})

    with pytest.raises(ProfileIncomplete):
        book(patient, doctor, at(doctor, 10))
    assert not Appointment.objects.exists()


def test_it_rejects_a_taken_slot(doctor, patient):
    book(patient, doctor, at(doctor, 10))

    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor, at(doctor, 10))
    assert Appointment.objects.count() == 1


def test_it_rejects_a_partial_overlap(doctor, patient):
    long_visit = make_type(doctor, 45, "Check-up")
    long_visit.slot_step = dt.timedelta(minutes=15)
    long_visit.save()
    book(patient, doctor, at(doctor, 10), long_visit)  # 10:00-10:45

    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor, at(doctor, 10, 30))  # 10:30-11:00


def test_it_accepts_an_adjacent_slot(doctor, patient):
    book(patient, doctor, at(doctor, 10))

    second = book(make_patient(), doctor, at(doctor, 10, 30))

    assert second.starts_at == at(doctor, 10, 30)
    assert Appointment.objects.active().count() == 2


def test_it_rebooks_a_cancelled_slot(doctor, patient):
    first = book(patient, doctor, at(doctor, 10))
    cancel_appointment(appointment=first, cancelled_by=patient.user)

    again = book(make_patient(), doctor, at(doctor, 10))

    assert again.pk != first.pk
    assert Appointment.objects.active().get() == again


def test_it_rejects_a_different_type_overlapping(doctor, patient):
    follow_up = make_type(doctor, 15, "Follow-up")
    book(patient, doctor, at(doctor, 10))  # 30-min consultation

    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor, at(doctor, 10), follow_up)


def test_it_allows_the_same_time_with_another_doctor(doctor, patient):
    other = make_doctor(doctor.clinic)
    book(patient, doctor, at(doctor, 10))

    book(make_patient(), other, at(other, 10))

    assert Appointment.objects.active().count() == 2


@pytest.mark.parametrize(
    ("when", "error"),
    [
        pytest.param((2026, 3, 8, 3, 0), SlotUnavailable, id="3 a.m. on a Sunday"),
        pytest.param((2026, 3, 9, 18, 0), SlotUnavailable, id="after hours"),
        pytest.param((2026, 3, 9, 10, 10), SlotUnavailable, id="off the grid"),
        pytest.param((2026, 3, 3, 10, 0), TooSoon, id="in the past"),
        pytest.param((2026, 3, 4, 10, 30), TooSoon, id="inside the two-hour notice"),
        pytest.param((2026, 6, 10, 10, 0), TooFarAhead, id="beyond the 90-day horizon"),
    ],
)
def test_it_only_books_times_the_doctor_offers(doctor, patient, when, error):
    with pytest.raises(error):
        book(patient, doctor, local(doctor.clinic, *when))
    assert not Appointment.objects.exists()


def test_it_rejects_a_visit_that_would_end_after_hours(doctor, patient):
    check_up = make_type(doctor, 45, "Check-up")
    check_up.slot_step = dt.timedelta(minutes=15)
    check_up.save()
    assert book(patient, doctor, at(doctor, 16, 15), check_up).pk  # ends 17:00

    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor, at(doctor, 16, 30), check_up)  # would end 17:15


def test_it_accepts_the_first_time_past_the_notice(doctor, patient):
    # Now is 09:00 local; two hours' notice makes 11:00 today the first bookable time.
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 4, 11))

    assert appointment.pk


def test_it_rejects_a_slot_during_time_off(doctor, patient):
    TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(*MONDAY), end_date=dt.date(*MONDAY), reason="Course"
    )

    with pytest.raises(SlotUnavailable):
        book(patient, doctor, at(doctor, 10))


def test_it_rejects_an_inactive_doctor(doctor, patient):
    doctor.is_active = False
    doctor.save()

    with pytest.raises(NotBookable):
        book(patient, doctor, at(doctor, 10))


def test_it_rejects_another_doctors_appointment_type(doctor, patient):
    other = make_doctor(doctor.clinic)

    with pytest.raises(NotBookable):
        book(patient, doctor, at(doctor, 10), consultation(other))


def test_it_rejects_an_inactive_appointment_type(doctor, patient):
    visit = consultation(doctor)
    visit.is_active = False
    visit.save()

    with pytest.raises(NotBookable):
        book(patient, doctor, at(doctor, 10), visit)


def test_it_rejects_a_naive_start_time(doctor, patient):
    with pytest.raises(ValueError, match="aware"):
        book(patient, doctor, dt.datetime(2026, 3, 9, 10))


def test_it_stops_a_patient_holding_two_overlapping_appointments(doctor, patient):
    other = make_doctor(doctor.clinic)
    book(patient, doctor, at(doctor, 10))

    with pytest.raises(PatientOverlap):
        book(patient, other, at(other, 10))


def test_it_caps_a_patients_upcoming_appointments(doctor, patient):
    for hour in range(9, 14):
        book(patient, doctor, at(doctor, hour))

    with pytest.raises(TooManyUpcoming):
        book(patient, doctor, at(doctor, 15))


def test_cancelled_appointments_do_not_count_towards_the_cap(doctor, patient):
    appointments = [book(patient, doctor, at(doctor, hour)) for hour in range(9, 14)]
    cancel_appointment(appointment=appointments[0], cancelled_by=patient.user)

    assert book(patient, doctor, at(doctor, 15)).pk


def test_the_cap_is_set_per_clinic(patient):
    clinic = make_clinic(max_upcoming_per_patient=1)
    doctor = make_doctor(clinic)
    book(patient, doctor, at(doctor, 9))

    with pytest.raises(TooManyUpcoming):
        book(patient, doctor, at(doctor, 11))


def test_a_retried_booking_with_the_same_key_returns_the_first_appointment(doctor, patient):
    first = book(patient, doctor, at(doctor, 10), booking_key="form-123")

    retry = book(patient, doctor, at(doctor, 10), booking_key="form-123")

    assert retry.pk == first.pk
    assert Appointment.objects.count() == 1


def test_a_retry_after_cancelling_returns_the_cancelled_appointment(doctor, patient):
    first = book(patient, doctor, at(doctor, 10), booking_key="form-123")
    cancel_appointment(appointment=first, cancelled_by=patient.user)

    retry = book(patient, doctor, at(doctor, 10), booking_key="form-123")

    assert retry.pk == first.pk
    assert retry.status == Status.CANCELLED_BY_PATIENT


def test_a_key_reused_for_a_different_booking_is_refused(doctor, patient):
    book(patient, doctor, at(doctor, 10), booking_key="form-123")

    with pytest.raises(IdempotencyKeyReused):
        book(patient, doctor, at(doctor, 11), booking_key="form-123")


def test_booking_keys_belong_to_one_patient(doctor, patient):
    book(patient, doctor, at(doctor, 10), booking_key="same")

    other = book(make_patient(), doctor, at(doctor, 11), booking_key="same")

    assert other.starts_at == at(doctor, 11)


def test_staff_can_book_on_behalf_of_a_patient(doctor, patient):
    receptionist = make_patient().user

    appointment = book_appointment(
        patient=patient,
        doctor=doctor,
        appointment_type=consultation(doctor),
        starts_at=at(doctor, 10),
        booked_by=receptionist,
    )

    assert appointment.booked_by == receptionist
    assert appointment.history.get().history_user == receptionist
