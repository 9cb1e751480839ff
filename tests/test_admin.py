import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from appointments.admin import ADMIN_CANCELLATION_REASON
from appointments.models import Appointment, Status
from appointments.services import cancel_appointment
from scheduling.models import Clinic, Doctor, ExtraHours, TimeOff, WeeklyAvailability
from tests.factories import (
    book,
    consultation,
    local,
    log_in_staff,
    make_clinic,
    make_dependant,
    make_doctor,
    make_patient,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> User:
    return make_user("boss@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin(client, superuser):
    log_in_staff(client, superuser)
    return client


@pytest.fixture
def appointment(frozen_now) -> Appointment:
    doctor = make_doctor(name="Dr. Ada Lovelace")
    patient = make_patient("grace@example.com", full_name="Grace Hopper")
    return book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))


@pytest.fixture
def one_of_each(appointment: Appointment) -> dict[str, object]:
    doctor = appointment.doctor
    return {
        "accounts.user": appointment.patient.user,
        "accounts.patient": appointment.patient,
        "accounts.dependant": make_dependant(appointment.patient, "Ada Hopper"),
        "scheduling.clinic": doctor.clinic,
        "scheduling.doctor": doctor,
        "scheduling.appointmenttype": consultation(doctor),
        "scheduling.weeklyavailability": doctor.weekly_rules.first(),
        "scheduling.timeoff": TimeOff.objects.create(
            doctor=doctor, start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 4, 3)
        ),
        "scheduling.extrahours": ExtraHours.objects.create(
            doctor=doctor, date=dt.date(2026, 3, 14), start_time=dt.time(9), end_time=dt.time(12)
        ),
        "appointments.appointment": appointment,
    }


def admin_url(label: str, view: str, *args: object) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_{view}", args=args)


MODELS = [
    "accounts.user",
    "accounts.patient",
    "accounts.dependant",
    "scheduling.clinic",
    "scheduling.doctor",
    "scheduling.appointmenttype",
    "scheduling.weeklyavailability",
    "scheduling.timeoff",
    "scheduling.extrahours",
    "appointments.appointment",
]
WITH_HISTORY = [
    "scheduling.weeklyavailability",
    "scheduling.timeoff",
    "scheduling.extrahours",
    "appointments.appointment",
]


@pytest.mark.parametrize("label", MODELS)
def test_the_list_and_the_change_page_of_every_model_load(admin, one_of_each, label):
    obj = one_of_each[label]

    assert admin.get(admin_url(label, "changelist")).status_code == 200
    assert admin.get(admin_url(label, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize(
    "label", [label for label in MODELS if label != "appointments.appointment"]
)
def test_the_add_page_of_every_model_but_appointments_loads(admin, label):
    assert admin.get(admin_url(label, "add")).status_code == 200


@pytest.mark.parametrize("label", WITH_HISTORY)
def test_models_with_an_audit_trail_show_their_history(admin, one_of_each, label):
    obj = one_of_each[label]

    response = admin.get(admin_url(label, "history", obj.pk))

    assert response.status_code == 200


def test_the_admins_own_history_of_a_model_without_an_audit_trail_loads(admin, one_of_each):
    # Dependant has no django-simple-history: the admin's change log is its history.
    person = one_of_each["accounts.dependant"]
    response = admin.get(admin_url("accounts.dependant", "history", person.pk))

    assert response.status_code == 200


def test_the_admin_searches_each_list(admin, one_of_each):
    for label in MODELS:
        response = admin.get(admin_url(label, "changelist"), {"q": "grace"})
        assert response.status_code == 200, label


# --- Users -------------------------------------------------------------------------------


def test_a_user_is_added_with_an_email_and_no_username(admin):
    response = admin.post(
        admin_url("accounts.user", "add"),
        {
            "email": " New.Person@Example.com ",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password("a-long-enough-passphrase")


def test_it_refuses_an_email_that_differs_only_in_case(admin):
    make_user("taken@example.com")

    response = admin.post(
        admin_url("accounts.user", "add"),
        {"email": "Taken@Example.com", "usable_password": "false", "_save": "Save"},
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


# --- A new clinic and its first doctor ---------------------------------------------------


def inline_forms(prefix: str, rows: list[dict[str, str]], initial: int = 0) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data |= {f"{prefix}-{index}-{name}": value for name, value in row.items()}
    return data


def doctor_form(
    clinic: Clinic,
    types: list[dict[str, str]],
    weekly: list[dict[str, str]],
) -> dict[str, str]:
    return {
        "clinic": str(clinic.pk),
        "name": "Dr. Jane Doe",
        "specialty": "Dermatology",
        "bio": "",
        "is_active": "on",
        "user": "",
        **inline_forms("appointment_types", types),
        **inline_forms("weekly_rules", weekly),
        **inline_forms("time_off", []),
        **inline_forms("extra_hours", []),
        "_save": "Save",
    }


CONSULTATION = {"name": "Consultation", "duration": "00:30:00", "slot_step": "", "is_active": "on"}


def test_a_new_clinic_and_its_first_doctor_are_set_up_entirely_in_the_admin(admin):
    response = admin.post(
        admin_url("scheduling.clinic", "add"),
        {
            "name": "Westend Practice",
            "slug": "westend",
            "timezone": "Europe/Berlin",
            "country": "DE",
            "address": "Kantstraße 1, Berlin",
            "phone": "+49 30 000000",
            "email": "",
            "min_notice": "02:00:00",
            "booking_horizon": "90 00:00:00",
            "max_upcoming_per_patient": "5",
            "cancellation_cutoff": "02:00:00",
            # The clinic's legal texts (none yet): an inline on the same page.
            "legal_documents-TOTAL_FORMS": "0",
            "legal_documents-INITIAL_FORMS": "0",
            "_save": "Save",
        },
        follow=True,
    )
    clinic = Clinic.objects.get(slug="westend")
    add_doctor = f"{reverse('admin:scheduling_doctor_add')}?clinic={clinic.pk}"
    assert add_doctor in response.content.decode()

    response = admin.post(
        reverse("admin:scheduling_doctor_add"),
        doctor_form(
            clinic,
            types=[CONSULTATION],
            weekly=[
                {"weekday": "0", "start_time": "09:00", "end_time": "12:00"},
                {"weekday": "0", "start_time": "13:00", "end_time": "17:00"},
            ],
        ),
    )

    assert response.status_code == 302
    doctor = Doctor.objects.get(clinic=clinic)
    assert [str(kind) for kind in doctor.appointment_types.all()] == ["Consultation, 30 min"]
    assert doctor.weekly_rules.count() == 2
    assert WeeklyAvailability.history.filter(doctor_id=doctor.pk).count() == 2


def test_a_doctor_cannot_be_saved_without_an_appointment_type(admin):
    clinic = make_clinic()

    response = admin.post(
        reverse("admin:scheduling_doctor_add"), doctor_form(clinic, types=[], weekly=[])
    )

    assert response.status_code == 200
    assert "Please submit at least 1 form." in response.content.decode()
    assert not Doctor.objects.exists()


def test_overlapping_hours_entered_together_are_refused(admin):
    clinic = make_clinic()

    response = admin.post(
        reverse("admin:scheduling_doctor_add"),
        doctor_form(
            clinic,
            types=[CONSULTATION],
            weekly=[
                {"weekday": "2", "start_time": "09:00", "end_time": "13:00"},
                {"weekday": "2", "start_time": "12:00", "end_time": "17:00"},
            ],
        ),
    )

    assert response.status_code == 200
    assert "Two intervals on Wednesday overlap" in response.content.decode()
    assert not Doctor.objects.exists()


def test_time_off_longer_than_a_year_is_refused(admin):
    doctor = make_doctor()

    response = admin.post(
        reverse("admin:scheduling_timeoff_add"),
        {
            "doctor": str(doctor.pk),
            "start_date": "2026-03-09",
            "end_date": "2028-03-09",
            "start_time": "",
            "end_time": "",
            "reason": "Typo for 2026",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert "Time off can last a year at most" in response.content.decode()
    assert not TimeOff.objects.exists()


def test_an_interval_overlapping_a_saved_one_is_refused(admin):
    doctor = make_doctor()  # Monday to Friday, 9:00-17:00

    response = admin.post(
        reverse("admin:scheduling_weeklyavailability_add"),
        {
            "doctor": str(doctor.pk),
            "weekday": "0",
            "start_time": "16:00",
            "end_time": "18:00",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert "This interval overlaps another one on the same weekday." in response.content.decode()
    assert doctor.weekly_rules.filter(weekday=0).count() == 1


# --- Appointments ------------------------------------------------------------------------


def test_appointments_cannot_be_deleted_from_the_admin(admin, appointment):
    url = admin_url("appointments.appointment", "delete", appointment.pk)

    assert admin.get(url).status_code == 403
    assert admin.post(url, {"post": "yes"}).status_code == 403
    assert Appointment.objects.filter(pk=appointment.pk).exists()


def test_the_appointment_list_offers_cancelling_but_not_deleting(admin, appointment):
    response = admin.get(admin_url("appointments.appointment", "changelist"))

    actions = dict(response.context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    assert actions["cancel_by_clinic"] == "Cancel selected appointments (by clinic)"


def test_a_delete_action_posted_anyway_deletes_nothing(admin, appointment):
    admin.post(
        admin_url("appointments.appointment", "changelist"),
        {"action": "delete_selected", "_selected_action": [appointment.pk], "post": "yes"},
    )

    assert Appointment.objects.filter(pk=appointment.pk).exists()


def test_appointments_cannot_be_added_from_the_admin(admin):
    assert admin.get(admin_url("appointments.appointment", "add")).status_code == 403


def test_the_cancel_action_cancels_through_the_service_and_records_who_and_why(
    admin, superuser, appointment
):
    response = admin.post(
        admin_url("appointments.appointment", "changelist"),
        {"action": "cancel_by_clinic", "_selected_action": [appointment.pk]},
        follow=True,
    )

    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED_BY_CLINIC
    assert appointment.cancellation_reason == ADMIN_CANCELLATION_REASON
    latest = appointment.history.latest()
    assert latest.history_user == superuser
    assert latest.history_change_reason == f"cancelled by clinic: {ADMIN_CANCELLATION_REASON}"
    assert "Cancelled 1 appointment." in response.content.decode()


def test_an_appointment_can_be_cancelled_from_its_own_page(admin, appointment):
    url = admin_url("appointments.appointment", "change", appointment.pk)
    assert "Cancel this appointment (by clinic)" in admin.get(url).content.decode()

    admin.post(
        url, {"CHANGE_FORM-action": "cancel_by_clinic", "_selected_action": [appointment.pk]}
    )

    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED_BY_CLINIC


def test_the_history_page_shows_who_changed_what_and_why(admin, appointment):
    admin.post(
        admin_url("appointments.appointment", "changelist"),
        {"action": "cancel_by_clinic", "_selected_action": [appointment.pk]},
    )

    page = admin.get(admin_url("appointments.appointment", "history", appointment.pk))

    content = page.content.decode()
    assert "booked" in content
    assert f"cancelled by clinic: {ADMIN_CANCELLATION_REASON}" in content
    assert "boss@example.com" in content


def test_the_cancel_action_reports_what_it_could_not_cancel(admin, appointment):
    cancel_appointment(
        appointment=appointment, cancelled_by=None, by_clinic=True, reason="Doctor is ill"
    )
    completed = Appointment.objects.create(
        patient=appointment.patient,
        doctor=appointment.doctor,
        appointment_type=appointment.appointment_type,
        starts_at=appointment.starts_at - dt.timedelta(days=7),
        ends_at=appointment.ends_at - dt.timedelta(days=7),
        status=Status.COMPLETED,
    )

    response = admin.post(
        admin_url("appointments.appointment", "changelist"),
        {"action": "cancel_by_clinic", "_selected_action": [appointment.pk, completed.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "Cancelled 0 appointments." in page
    assert "1 appointment already cancelled." in page
    assert "1 appointment could not be cancelled" in page
    completed.refresh_from_db()
    assert completed.status == Status.COMPLETED


def test_status_times_doctor_and_patient_cannot_be_edited(admin, appointment):
    other_patient = make_patient()
    url = admin_url("appointments.appointment", "change", appointment.pk)

    response = admin.post(
        url,
        {
            "reason": "Knee pain",
            "status": Status.CANCELLED_BY_CLINIC,
            "starts_at_0": "2026-03-10",
            "starts_at_1": "08:00:00",
            "patient": str(other_patient.pk),
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    saved = Appointment.objects.get(pk=appointment.pk)
    assert saved.reason == "Knee pain"
    assert saved.status == Status.BOOKED
    assert saved.starts_at == appointment.starts_at
    assert saved.patient_id == appointment.patient_id


def test_an_old_version_cannot_be_posted_back_over_the_appointment(admin, appointment):
    booked_version = appointment.history.earliest()
    cancel_appointment(
        appointment=appointment, cancelled_by=None, by_clinic=True, reason="Doctor is ill"
    )
    url = reverse(
        "admin:appointments_appointment_simple_history",
        args=[appointment.pk, booked_version.history_id],
    )

    assert admin.get(url).status_code == 200
    assert admin.post(url, {"reason": "", "_save": "Save"}).status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED_BY_CLINIC


def test_the_list_shows_the_start_in_utc_and_on_the_clinics_clock(admin, appointment):
    response = admin.get(admin_url("appointments.appointment", "changelist"))

    page = response.content.decode()
    assert "2026-03-09 09:00 UTC" in page
    assert "Mon 9 Mar 2026, 10:00 CET" in page


def test_the_list_shows_a_new_york_clinic_in_its_own_zone(admin, frozen_now):
    clinic = make_clinic(timezone="America/New_York")
    doctor = make_doctor(clinic)
    book(make_patient(), doctor, local(clinic, 2026, 3, 9, 10))

    response = admin.get(admin_url("appointments.appointment", "changelist"))

    assert "Mon 9 Mar 2026, 10:00 EDT" in response.content.decode()


def test_the_appointment_list_needs_no_more_queries_for_more_rows(admin, appointment):
    url = admin_url("appointments.appointment", "changelist")
    with CaptureQueriesContext(connection) as one_row:
        admin.get(url)
    for hour in (11, 12, 13):
        book(make_patient(), make_doctor(), local(appointment.doctor.clinic, 2026, 3, 9, hour))

    with CaptureQueriesContext(connection) as four_rows:
        admin.get(url)

    assert len(four_rows) == len(one_row)


def test_it_finds_appointments_by_patient_email_and_doctor_name(admin, appointment):
    url = admin_url("appointments.appointment", "changelist")

    assert admin.get(url, {"q": "grace@example"}).context["cl"].result_count == 1
    assert admin.get(url, {"q": "Lovelace"}).context["cl"].result_count == 1
    assert admin.get(url, {"q": "nobody"}).context["cl"].result_count == 0


def test_a_patients_appointments_link_lists_only_theirs(admin, appointment):
    book(make_patient(), appointment.doctor, local(appointment.doctor.clinic, 2026, 3, 9, 11))
    url = admin_url("appointments.appointment", "changelist")

    response = admin.get(url, {"patient__id__exact": appointment.patient_id})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [appointment]


def test_the_patient_admin_finds_a_phone_number_however_it_is_typed(admin):
    patient = make_patient("leon@example.com", phone="+4915575151122")
    make_patient("other@example.com", phone="+4930111222")

    response = admin.get(reverse("admin:accounts_patient_changelist"), {"q": "0155 75151122"})

    assert patient.user.email in response.content.decode()
    assert "other@example.com" not in response.content.decode()


def test_hours_changed_in_the_admin_make_the_cached_free_times_stale(admin):
    doctor = make_doctor()
    before = Doctor.objects.get(pk=doctor.pk).availability_version

    response = admin.post(
        reverse("admin:scheduling_timeoff_add"),
        {"doctor": doctor.pk, "start_date": "2026-04-01", "end_date": "2026-04-03", "reason": ""},
    )
    assert response.status_code == 302
    added = Doctor.objects.get(pk=doctor.pk).availability_version
    admin.post(
        reverse("admin:scheduling_timeoff_delete", args=[TimeOff.objects.get().pk]), {"post": "yes"}
    )

    assert before < added < Doctor.objects.get(pk=doctor.pk).availability_version


# --- The people patients book for ---------------------------------------------------------


@pytest.fixture
def leon():
    return make_patient("leon@example.com", full_name="Leon Wolf")


def test_the_family_members_list_shows_who_books_for_them(admin, leon):
    make_dependant(leon, "Mia Wolf", date_of_birth=dt.date(2019, 6, 1))

    page = admin.get(admin_url("accounts.dependant", "changelist")).content.decode()

    assert "Mia Wolf" in page
    assert "1 June 2019" in page  # decrypted for the page
    assert reverse("admin:accounts_patient_change", args=[leon.pk]) in page
    assert "Leon Wolf" in page


@pytest.mark.parametrize("query", ["mia", "Leon Wolf", "leon@example"])
def test_family_members_are_found_by_their_name_or_the_account_holders(admin, leon, query):
    make_dependant(leon, "Mia Wolf")
    make_dependant(make_patient(full_name="Eva Fremd"), "Tim Fremd")

    response = admin.get(admin_url("accounts.dependant", "changelist"), {"q": query})

    assert [person.full_name for person in response.context["cl"].result_list] == ["Mia Wolf"]


def test_family_members_are_filtered_by_relationship_and_erasure(admin, leon):
    make_dependant(leon, "Mia Wolf", relationship="child")
    make_dependant(leon, "Oma Wolf", relationship="relative")
    make_dependant(leon, "Gone Wolf", erased_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    url = admin_url("accounts.dependant", "changelist")

    def names(query):
        result = admin.get(url, query).context["cl"].result_list
        return sorted(person.full_name for person in result)

    assert names({"relationship__exact": "relative"}) == ["Oma Wolf"]
    assert names({"erased": "no"}) == ["Mia Wolf", "Oma Wolf"]
    assert names({"erased": "yes"}) == ["Gone Wolf"]


def test_the_date_of_birth_column_cannot_be_sorted_as_it_is_ciphertext(admin, leon):
    make_dependant(leon, "Mia Wolf")

    page = admin.get(admin_url("accounts.dependant", "changelist")).content.decode()

    assert "column-born" in page
    assert 'class="sortable column-born' not in page


def test_the_patients_page_lists_and_adds_the_people_they_book_for(admin, leon):
    make_dependant(leon, "Mia Wolf")
    url = admin_url("accounts.patient", "change", leon.pk)
    assert "Mia Wolf" in admin.get(url).content.decode()
    mia = leon.dependants.get()

    response = admin.post(
        url,
        {
            "full_name": "Leon Wolf",
            "phone": "+49 170 0000000",
            "date_of_birth": "1980-01-01",
            "created_at": "",
            **inline_forms(
                "dependants",
                [
                    {
                        "id": str(mia.pk),
                        "patient": str(leon.pk),
                        "full_name": "Mia Wolf",
                        "date_of_birth": "2019-06-01",
                        "relationship": "child",
                    },
                    {
                        "patient": str(leon.pk),
                        "full_name": "Oma Wolf",
                        "date_of_birth": "1948-02-03",
                        "relationship": "relative",
                    },
                ],
                initial=1,
            ),
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.context["errors"]
    oma = leon.dependants.get(full_name="Oma Wolf")
    assert oma.date_of_birth == dt.date(1948, 2, 3)
    with connection.cursor() as cursor:
        cursor.execute("SELECT date_of_birth FROM accounts_dependant WHERE id = %s", [oma.pk])
        assert cursor.fetchone()[0].startswith("gAAAAA")  # encrypted at rest


def test_a_family_member_with_appointments_cannot_be_deleted(admin, leon, frozen_now):
    mia = make_dependant(leon, "Mia Wolf")
    doctor = make_doctor()
    book(leon, doctor, local(doctor.clinic, 2026, 3, 9, 10), dependant=mia)

    response = admin.post(admin_url("accounts.dependant", "delete", mia.pk), {"post": "yes"})

    assert response.status_code == 200  # the page that names what protects them
    assert "Cannot delete" in response.content.decode() or "would require deleting" in (
        response.content.decode()
    )
    assert leon.dependants.filter(pk=mia.pk).exists()


def test_a_family_members_account_holder_cannot_be_changed(admin, leon):
    mia = make_dependant(leon, "Mia Wolf")
    other = make_patient()

    admin.post(
        admin_url("accounts.dependant", "change", mia.pk),
        {
            "patient": str(other.pk),
            "full_name": "Mia Wolf",
            "date_of_birth": "2019-06-01",
            "relationship": "child",
        },
    )

    mia.refresh_from_db()
    assert mia.patient == leon


# --- German and English -------------------------------------------------------------------

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"}
OUR_APPS = ("accounts", "scheduling", "appointments")


def test_the_admin_speaks_german_to_a_german_browser(admin, one_of_each):
    index = admin.get(reverse("admin:index"), **GERMAN).content.decode()
    changelist = admin.get(admin_url("appointments.appointment", "changelist"), **GERMAN)
    clinic_form = admin.get(admin_url("scheduling.clinic", "add"), **GERMAN).content.decode()

    assert "Terminplanung" in index  # the scheduling app
    assert "Ärzte" in index
    assert "Personen, für die gebucht wird" in index
    assert "Termin zur Änderung auswählen" in changelist.content.decode()
    assert "Beginn (UTC)" in changelist.content.decode()
    assert "Ausgewählte Termine absagen (durch die Praxis)" in changelist.content.decode()
    assert "Zeitzone" in clinic_form
    assert "Mindestvorlauf" in clinic_form
    assert "Buchungsregeln" in clinic_form  # a fieldset


def test_the_admin_stays_english_for_an_english_browser(admin, one_of_each):
    index = admin.get(reverse("admin:index")).content.decode()
    changelist = admin.get(admin_url("appointments.appointment", "changelist")).content.decode()
    clinic_form = admin.get(admin_url("scheduling.clinic", "add")).content.decode()

    assert "Scheduling" in index
    assert "Doctors" in index
    assert "People booked for" in index
    assert "Select appointment to change" in changelist
    assert "Starts (UTC)" in changelist
    assert "Time zone" in clinic_form
    assert "Minimum notice" in clinic_form
    assert "Booking policy" in clinic_form


def test_the_third_party_entries_speak_german_too(admin, appointment):
    """django-otp's email devices (the addresses patients get sign-in codes at) and
    django-q's tasks: named in German on the index, their list and their form."""
    from django_otp.plugins.otp_email.models import EmailDevice

    device = EmailDevice.objects.create(user=appointment.patient.user, name="email")
    index = admin.get(reverse("admin:index"), **GERMAN).content.decode()
    changelist = admin.get(admin_url("otp_email.emaildevice", "changelist"), **GERMAN)
    form = admin.get(admin_url("otp_email.emaildevice", "change", device.pk), **GERMAN)

    assert "Anmeldung per E-Mail" in index  # the app
    assert "E-Mail-Adressen für Anmeldecodes" in index
    assert "Otp_Email" not in index
    assert "Email devices" not in index
    assert "Geplante Aufgaben" in index  # django-q's own catalogue
    changelist_html = changelist.content.decode()
    assert "E-Mail-Adresse für Anmeldecodes zur Änderung auswählen" in changelist_html
    assert "zuletzt verwendet" in changelist_html  # a column and a filter
    assert "Last used at" not in changelist_html
    form_html = form.content.decode()
    assert "Wohin die Codes gehen" in form_html  # a section, "Configuration" before
    assert "Configuration" not in form_html
    assert "Timestamps" not in form_html


def test_the_third_party_entries_stay_english_for_an_english_browser(admin, appointment):
    index = admin.get(reverse("admin:index")).content.decode()

    assert "Sign-in by email" in index
    assert "Email addresses for sign-in codes" in index


def test_every_name_a_registered_model_has_in_the_admin_is_german(superuser):
    """Every app and model on the admin's index, ours and the packages', has a German
    name (a name the catalogues leave English is one that was missed)."""
    from django.apps import apps
    from django.contrib import admin as django_admin

    english = []
    with translation.override("de"):
        for model in django_admin.site._registry:
            app = apps.get_app_config(model._meta.app_label)
            with translation.override("en"):
                names_in_english = (
                    str(app.verbose_name),
                    str(model._meta.verbose_name),
                    str(model._meta.verbose_name_plural),
                )
            names = (
                str(app.verbose_name),
                str(model._meta.verbose_name),
                str(model._meta.verbose_name_plural),
            )
            # "Django Q" is a name, the same in German.
            english += [
                f"{model.__name__}: {name!r}"
                for name, in_english in zip(names, names_in_english, strict=True)
                if name == in_english and name not in {"Django Q", "API-Token"}
            ]
    assert english == []


def _label_of(name: object, model: Any, model_admin: object) -> object:
    """What the admin names a column, field or filter after: a model field's verbose_name
    (following ``a__b`` to the related model), a callable's description, a filter's title."""
    from django.contrib.admin import ListFilter
    from django.core.exceptions import FieldDoesNotExist

    if isinstance(name, (tuple, list)):
        name = name[0]
    if isinstance(name, type) and issubclass(name, ListFilter):
        return name.title
    assert isinstance(name, str)
    *path, last = name.split("__")
    for step in path:
        model = model._meta.get_field(step).related_model
    try:
        field = model._meta.get_field(last)
        if field.auto_created and not field.concrete:
            raise FieldDoesNotExist  # a reverse relation: the admin takes the callable
        return field.verbose_name
    except FieldDoesNotExist:
        attr = getattr(model_admin, last, None) or getattr(model, last)
        return getattr(attr, "short_description", None) or getattr(
            getattr(attr, "fget", None), "short_description", None
        )


def test_every_name_the_admin_shows_of_our_models_is_marked_for_translation(superuser, rf):
    """Models, fields, columns, filters, fieldsets and actions: each a lazy translation,
    whose German tests/clinic/test_translations.py requires."""
    from django.contrib import admin as django_admin
    from django.utils.functional import Promise

    request = rf.get("/admin/")
    request.user = superuser
    untranslated = []
    for model, model_admin in django_admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        for meta_name in ("verbose_name", "verbose_name_plural"):
            if not isinstance(getattr(model._meta, meta_name), Promise):
                untranslated.append(f"{model.__name__}.{meta_name}")
        shown: list[tuple[type, object, object]] = []
        names = [*model_admin.get_list_display(request), *model_admin.get_list_filter(request)]
        for title, options in model_admin.get_fieldsets(request, model()):
            if title is not None and not isinstance(title, Promise):
                untranslated.append(f"{model.__name__} fieldset {title}")
            names += list(options["fields"])
        shown += [(model, model_admin, name) for name in names if name != "__str__"]
        for inline in model_admin.get_inline_instances(request, model()):
            for meta_name in ("verbose_name", "verbose_name_plural"):
                if not isinstance(getattr(inline.model._meta, meta_name), Promise):
                    untranslated.append(f"{inline.model.__name__}.{meta_name}")
            for _title, options in inline.get_fieldsets(request):
                shown += [(inline.model, inline, name) for name in options["fields"]]
        for target, owner, name in shown:
            if not isinstance(_label_of(name, target, owner), Promise):
                untranslated.append(f"{target.__name__}.{name}")
        for action in model_admin.get_actions(request).values():
            assert action is not None
            if not isinstance(action.description, Promise):
                untranslated.append(f"{model.__name__} action {action.name}")

    assert untranslated == []
