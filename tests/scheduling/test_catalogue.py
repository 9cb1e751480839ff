"""What the search forms offer, kept by each process (scheduling/selectors.py catalogue):
read once, read again after any change to a clinic, doctor or type in this process, within
``CATALOGUE_CHECK_SECONDS`` after another process announced one, and after
``CATALOGUE_SECONDS`` whatever happened in others."""

import time

import pytest
from django.test import Client
from django.utils import translation

from scheduling import selectors
from scheduling.models import Doctor
from tests.factories import make_clinic, make_doctor, make_type

pytestmark = pytest.mark.django_db


def test_the_catalogue_is_read_once_while_it_is_fresh(django_assert_num_queries):
    make_doctor(make_clinic(), specialty="Dermatology")
    assert selectors.specialties() == ["Dermatology"]
    with django_assert_num_queries(0):
        assert selectors.specialties() == ["Dermatology"]
        assert selectors.appointment_type_names() == ["Consultation"]
        assert len(selectors.clinics()) == 1


def test_a_new_specialty_is_offered_by_the_next_page_of_the_process_that_saved_it():
    clinic = make_clinic()
    make_doctor(clinic, specialty="Dermatology")
    client = Client()
    assert "Cardiology" not in client.get("/doctors/").text
    make_doctor(clinic, specialty="Cardiology")
    assert "<option>Cardiology</option>" in client.get("/doctors/").text


def test_a_new_type_name_and_a_renamed_clinic_are_seen_at_once_too():
    clinic = make_clinic(name="Praxis Mitte")
    doctor = make_doctor(clinic)
    assert selectors.appointment_type_names() == ["Consultation"]
    make_type(doctor, 15, "Vaccination")
    assert selectors.appointment_type_names() == ["Consultation", "Vaccination"]
    clinic.name = "Praxis am Park"
    clinic.save()
    assert selectors.clinic_names() == ["Praxis am Park"]


def test_a_change_no_signal_told_of_is_seen_once_the_copy_is_too_old(monkeypatch):
    clinic = make_clinic()
    make_doctor(clinic, specialty="Dermatology")
    assert selectors.specialties() == ["Dermatology"]
    # As another process would save it: this process hears nothing.
    Doctor.objects.filter(clinic=clinic).update(specialty="Neurology")
    assert selectors.specialties() == ["Dermatology"]
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + selectors.CATALOGUE_SECONDS + 1)
    assert selectors.specialties() == ["Neurology"]


def later(monkeypatch, seconds: float) -> None:
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + seconds)


def test_another_processs_change_is_seen_within_the_check_interval(settings, monkeypatch):
    settings.CATALOGUE_CHECK_SECONDS = 1
    clinic = make_clinic()
    make_doctor(clinic, specialty="Dermatology")
    assert selectors.specialties() == ["Dermatology"]
    # As another process saves it: the rows change, and its commit announces a change in
    # the shared cache (this process's own signals hear nothing).
    Doctor.objects.filter(clinic=clinic).update(specialty="Neurology")
    selectors._announce_catalogue_change()

    assert selectors.specialties() == ["Dermatology"]  # not asked again yet
    later(monkeypatch, 1.5)
    assert selectors.specialties() == ["Neurology"]


def test_without_an_announced_change_the_copy_is_kept_and_asked_for_once_a_second(
    settings, monkeypatch, django_assert_num_queries
):
    settings.CATALOGUE_CHECK_SECONDS = 1
    make_doctor(make_clinic(), specialty="Dermatology")
    assert selectors.specialties() == ["Dermatology"]
    later(monkeypatch, 1.5)

    with django_assert_num_queries(1):  # the shared version (a table in the tests), no rows
        assert selectors.specialties() == ["Dermatology"]
        assert selectors.specialties() == ["Dermatology"]


def test_a_save_announces_the_change_to_the_other_processes_after_its_commit(
    settings, django_capture_on_commit_callbacks
):
    settings.CATALOGUE_CHECK_SECONDS = 1
    from django.core.cache import cache

    before = cache.get(selectors.CATALOGUE_VERSION_KEY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_clinic(name="Praxis Nord")
        assert cache.get(selectors.CATALOGUE_VERSION_KEY) == before  # not before the commit
    for callback in callbacks:
        callback()

    assert cache.get(selectors.CATALOGUE_VERSION_KEY) not in (None, before)


def test_control_without_the_check_another_processs_change_waits_for_the_copy_to_age(
    settings, monkeypatch
):
    settings.CATALOGUE_CHECK_SECONDS = 0
    clinic = make_clinic()
    make_doctor(clinic, specialty="Dermatology")
    assert selectors.specialties() == ["Dermatology"]
    Doctor.objects.filter(clinic=clinic).update(specialty="Neurology")
    selectors._announce_catalogue_change()
    later(monkeypatch, 1.5)

    assert selectors.specialties() == ["Dermatology"]


def test_the_languages_spoken_are_sorted_by_their_names_in_each_language_and_follow_changes():
    clinic = make_clinic()
    make_doctor(clinic, languages="de,el,en")

    with translation.override("en"):
        assert [code for code, _name in selectors.spoken_languages()] == ["en", "de", "el"]
    with translation.override("de"):
        assert [code for code, _name in selectors.spoken_languages()] == ["de", "en", "el"]
        assert [str(name) for _code, name in selectors.spoken_languages()] == [
            "Deutsch",
            "Englisch",
            "Griechisch",
        ]
    with translation.override("en"):
        assert [code for code, _name in selectors.spoken_languages()] == ["en", "de", "el"]
        make_doctor(clinic, languages="fr")  # a save drops this process's catalogue
        assert [code for code, _name in selectors.spoken_languages()] == ["en", "fr", "de", "el"]
