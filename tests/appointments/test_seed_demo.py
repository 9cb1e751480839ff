import datetime as dt
import itertools
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Dependant, Patient, User
from appointments.models import ACTIVE_STATUSES, Appointment, Status
from scheduling.models import Clinic, Doctor, TimeOff, WeeklyAvailability
from scheduling.selectors import active_types, bookable_doctors, staff_clinics
from tests.factories import book, local, make_doctor, make_patient, make_user

pytestmark = pytest.mark.django_db

SMALL = {"patients": 50, "doctors": 3, "weeks": 1}


@pytest.fixture(autouse=True)
def demo_settings(settings, frozen_now):
    # The command refuses to create its public passwords with DEBUG off, as tests run.
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed_demo(**options: object) -> str:
    out = StringIO()
    call_command("seed_demo", **(SMALL | options), stdout=out)
    return out.getvalue()


def overlapping_pairs(key: str) -> list[tuple[Appointment, Appointment]]:
    active = Appointment.objects.filter(status__in=ACTIVE_STATUSES).order_by(key, "starts_at")
    pairs = []
    for _, group in itertools.groupby(active, key=lambda a: getattr(a, key)):
        rows = list(group)
        pairs += [(a, b) for a, b in itertools.pairwise(rows) if b.starts_at < a.ends_at]
    return pairs


def test_it_creates_a_clinic_with_doctors_patients_and_appointments():
    output = seed_demo()

    clinic = Clinic.objects.get()
    assert clinic.slug == "demo-berlin"
    assert clinic.timezone == "Europe/Berlin"
    assert clinic.address
    assert clinic.phone
    assert Doctor.objects.filter(clinic=clinic).count() == 3
    assert Patient.objects.filter(user__email__endswith="@demo.example.com").count() == 50
    assert Appointment.objects.count() > 50
    assert "Seeded 1 clinic, 3 doctors, 50 patients and" in output


def test_every_doctor_can_be_booked():
    seed_demo()

    for doctor in Doctor.objects.all():
        assert doctor.specialty
        assert doctor.bio
        assert 1 <= doctor.appointment_types.count() <= 3
        assert doctor.weekly_rules.exists()


def test_every_doctor_has_one_first_visit_type_offered_by_default():
    seed_demo()

    for doctor in bookable_doctors():
        types = active_types(doctor)
        assert [kind.name for kind in types if kind.is_first_visit] == ["Consultation"]
        assert types[0].is_first_visit


def test_no_doctor_and_no_patient_is_booked_twice_at_once():
    seed_demo(doctors=6, patients=20, weeks=2)

    assert overlapping_pairs("doctor_id") == []
    assert overlapping_pairs("patient_id") == []


def test_past_appointments_are_completed_missed_or_cancelled():
    seed_demo()
    now = timezone.now()

    past = Appointment.objects.filter(ends_at__lte=now)
    upcoming = Appointment.objects.filter(starts_at__gt=now)

    assert past.exists()
    assert not past.filter(status=Status.BOOKED).exists()
    assert upcoming.filter(status=Status.BOOKED).exists()
    assert not upcoming.filter(status__in=[Status.COMPLETED, Status.NO_SHOW]).exists()


def test_the_coming_week_is_fuller_than_the_weeks_after():
    # From the frozen 4 March 2026 four weeks ahead crosses both DST changes (New York
    # 8 March, Berlin 29 March).
    seed_demo(weeks=4, doctors=4, clinics=2)
    now = timezone.now()
    week = dt.timedelta(weeks=1)

    def booked_in(start_week: int) -> int:
        start = now + start_week * week
        return Appointment.objects.filter(starts_at__gte=start, starts_at__lt=start + week).count()

    assert booked_in(0) > booked_in(3)


def test_every_appointment_has_its_audit_record():
    seed_demo()

    appointments = Appointment.objects.all()
    assert Appointment.history.count() == appointments.count()
    booked = Appointment.objects.filter(status=Status.BOOKED).earliest("pk")
    assert booked.history.get().history_change_reason == "booked (demo data)"
    completed = Appointment.objects.filter(status=Status.COMPLETED).earliest("pk")
    assert completed.history.get().history_change_reason == "completed (demo data)"
    assert WeeklyAvailability.history.count() == WeeklyAvailability.objects.count()


def test_it_spreads_doctors_over_clinics_in_their_own_time_zones():
    seed_demo(clinics=3, doctors=6)

    zones = dict(Clinic.objects.values_list("slug", "timezone"))
    assert zones == {
        "demo-berlin": "Europe/Berlin",
        "demo-new-york": "America/New_York",
        "demo-tokyo": "Asia/Tokyo",
    }
    for clinic in Clinic.objects.all():
        assert clinic.doctors.count() == 2


def test_it_creates_logins_to_try_and_prints_them():
    output = seed_demo()

    admin = User.objects.get(email="admin@example.com")
    assert admin.is_superuser
    assert admin.check_password("admin")
    staff = User.objects.get(email="staff@example.com")
    assert staff.is_staff
    assert not staff.is_superuser
    assert staff.check_password("staff")
    patient = Patient.objects.get(user__email="patient@example.com")
    assert patient.is_complete
    assert not patient.user.has_usable_password()  # patients sign in with emailed codes
    now = timezone.now()
    own = patient.appointments.filter(dependant__isnull=True)
    assert own.filter(starts_at__lt=now).count() == 2
    assert own.filter(starts_at__gt=now, status=Status.BOOKED).count() == 2
    assert "admin@example.com / admin" in output
    assert "staff@example.com / staff" in output


def test_the_demo_patient_books_for_her_son_and_her_mother():
    output = seed_demo()

    patient = Patient.objects.get(user__email="patient@example.com")
    family = {person.full_name: person for person in patient.dependants.all()}
    assert set(family) == {"Jonas Hoffmann", "Ingrid Hoffmann"}
    assert family["Jonas Hoffmann"].relationship == Dependant.Relationship.CHILD
    assert family["Ingrid Hoffmann"].relationship == Dependant.Relationship.RELATIVE
    assert all(person.date_of_birth for person in family.values())
    now = timezone.now()
    for person in family.values():
        upcoming = person.appointments.filter(starts_at__gt=now, status=Status.BOOKED)
        assert upcoming.count() == 1, person.full_name
        assert upcoming.get().patient == patient
    assert "also for her son and her mother" in output


def test_no_two_appointments_of_the_demo_family_overlap():
    seed_demo()

    family = Appointment.objects.filter(
        patient__user__email="patient@example.com", status__in=ACTIVE_STATUSES
    ).order_by("starts_at")
    assert family.count() == 6
    assert all(b.starts_at >= a.ends_at for a, b in itertools.pairwise(family))


def test_the_demo_family_is_made_once(settings):
    seed_demo()
    seed_demo(reset=True)

    patient = Patient.objects.get(user__email="patient@example.com")
    assert patient.dependants.count() == 2
    assert Appointment.objects.filter(dependant__isnull=False).count() == 2


def test_the_demo_staff_login_works_in_every_demo_clinic():
    seed_demo(clinics=2)

    staff = User.objects.get(email="staff@example.com")
    assert set(staff_clinics(staff)) == set(Clinic.objects.all())
    assert Clinic.objects.count() == 2


def test_it_leaves_an_existing_login_as_it_is():
    make_user("admin@example.com", password="a-real-secret")

    output = seed_demo()

    assert User.objects.get(email="admin@example.com").check_password("a-real-secret")
    assert "admin@example.com / admin" not in output


def test_running_it_again_changes_nothing():
    seed_demo()
    before = (Doctor.objects.count(), Patient.objects.count(), Appointment.objects.count())

    output = seed_demo()

    assert "already present" in output
    assert (Doctor.objects.count(), Patient.objects.count(), Appointment.objects.count()) == before


def test_reset_replaces_the_demo_data_and_its_history():
    seed_demo()
    first_ids = set(Appointment.objects.values_list("pk", flat=True))

    seed_demo(reset=True, doctors=2)

    assert Doctor.objects.count() == 2
    assert Clinic.objects.count() == 1
    assert Patient.objects.filter(user__email__endswith="@demo.example.com").count() == 50
    assert not first_ids & set(Appointment.objects.values_list("pk", flat=True))
    assert Appointment.history.count() == Appointment.objects.count()
    assert TimeOff.history.count() == TimeOff.objects.count()


def test_reset_leaves_other_clinics_and_their_bookings_alone():
    doctor = make_doctor()
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    seed_demo()

    seed_demo(reset=True)

    assert Appointment.objects.filter(pk=appointment.pk).exists()
    assert appointment.history.count() == 1
    assert Doctor.objects.filter(pk=doctor.pk).exists()


def test_a_dry_run_writes_nothing():
    output = seed_demo(dry_run=True)

    assert "Dry run" in output
    assert not Clinic.objects.exists()
    assert not User.objects.exists()
    assert not Appointment.objects.exists()
    assert not Appointment.history.exists()


def test_it_refuses_to_create_public_passwords_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        seed_demo()

    assert not User.objects.exists()


def test_it_runs_with_debug_off_when_told_to(settings):
    settings.DEBUG = False

    seed_demo(allow_without_debug=True)

    assert Clinic.objects.exists()


def test_it_refuses_more_clinics_than_doctors():
    with pytest.raises(CommandError, match="--doctors must be >= --clinics"):
        seed_demo(clinics=3, doctors=2)
