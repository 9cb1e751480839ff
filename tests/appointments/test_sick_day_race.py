"""A booking racing a sick-day cancel never survives inside the closed hours.

Twenty patients book Dr. Weber's Monday while staff close that Monday (time off that
cancels the booked appointments inside it), each on its own PostgreSQL connection, all
released at one barrier. Whatever the order, no booked appointment is left inside the
closed hours: a booking that committed first is cancelled by the close, one that waited
for the doctor's lock finds the hours closed. The control removes the close's locks and
widens its window: the harness must then see a booking survive.
"""

import datetime as dt
import time

import pytest

from appointments import services, staff_selectors
from appointments.exceptions import BookingError
from appointments.models import Appointment, Status
from clinic.errors import DomainError
from scheduling import services as scheduling_services
from scheduling.models import Doctor
from tests.concurrency import run_together
from tests.factories import consultation, local, make_doctor, make_patient, make_staff

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.xdist_group("postgres_races"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_now"),
]

BOOKERS = 20
MONDAY = dt.date(2026, 3, 9)


@pytest.fixture
def doctor():
    return make_doctor(name="Dr. Anna Weber")


def attempts(doctor):
    staff = make_staff(clinics=(doctor.clinic,))
    patients = [make_patient() for _ in range(BOOKERS)]
    kind = consultation(doctor)

    def book(patient, minutes):
        def attempt():
            try:
                services.book_appointment(
                    patient=patient,
                    doctor=doctor,
                    appointment_type=kind,
                    starts_at=local(doctor.clinic, 2026, 3, 9, 9) + dt.timedelta(minutes=minutes),
                    booked_by=patient.user,
                )
                return "booked"
            except BookingError as error:
                return error.code
            except DomainError as error:  # Busy: the lock was not granted in time
                return error.code

        return attempt

    def close():
        services.close_doctor_time(
            doctor=doctor,
            start_date=MONDAY,
            end_date=MONDAY,
            start_time=None,
            end_time=None,
            reason="Dr. Weber is ill",
            cancel_booked=True,
            changed_by=staff,
        )
        return "closed"

    bookers = [book(patient, 30 * (n % 16)) for n, patient in enumerate(patients)]
    return [close, *bookers]


def booked_on_monday(doctor):
    return Appointment.objects.filter(
        doctor=doctor, status=Status.BOOKED, starts_at__date=MONDAY
    ).count()


def test_no_booking_survives_inside_the_closed_hours(doctor):
    outcomes = run_together(attempts(doctor))

    assert outcomes[0] == "closed"
    assert booked_on_monday(doctor) == 0
    assert Appointment.objects.filter(doctor=doctor, status=Status.BOOKED).count() == 0
    # The bookings that got in first were cancelled for the clinic, not lost.
    assert Appointment.objects.filter(doctor=doctor).count() == outcomes.count("booked")


@pytest.fixture
def without_the_close_taking_the_doctors_lock(monkeypatch):
    """The close takes no lock (neither its own nor scheduling's), and waits between
    listing the appointments to cancel and committing; bookings wait between their
    check and their write."""
    booked_during = staff_selectors.booked_during
    check_slot = services._check_slot

    def slow_booked_during(**kwargs):
        found = booked_during(**kwargs)
        list(found)
        time.sleep(1.0)
        return found

    def slow_check_slot(**kwargs):
        check_slot(**kwargs)
        time.sleep(0.3)

    monkeypatch.setattr(services, "lock_doctor", lambda doctor_id: None)
    monkeypatch.setattr(
        scheduling_services,
        "_lock_doctor",
        lambda doctor: Doctor.objects.select_related("clinic").get(pk=doctor.pk),
    )
    monkeypatch.setattr(staff_selectors, "booked_during", slow_booked_during)
    monkeypatch.setattr(services, "_check_slot", slow_check_slot)


def test_control_without_the_lock_the_harness_sees_a_booking_survive(
    doctor, without_the_close_taking_the_doctors_lock
):
    outcomes = run_together(attempts(doctor))

    assert outcomes[0] == "closed"
    assert booked_on_monday(doctor) > 0
