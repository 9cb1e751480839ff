"""Phone numbers in one spelling (E.164), found through a keyed hash."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts import phones
from accounts.services import update_patient_profile
from tests.factories import make_patient

SPELLINGS = [
    "+4915575151122",
    "015575151122",
    "0155 75151122",
    "+49 155 75151122",
    "0155/751-511 22",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_a_german_number_is_one_e164_number(spelling):
    assert phones.normalise(spelling, "DE") == "+4915575151122"


def test_a_number_without_a_country_code_is_read_in_the_region_given():
    assert phones.normalise("020 7946 0321", "GB") == "+442079460321"
    assert phones.normalise("(212) 555-0142", "US") == "+12125550142"


def test_the_default_region_is_the_settings(settings):
    settings.PHONE_DEFAULT_REGION = "AT"

    assert phones.normalise("0664 1234567") == "+436641234567"


@pytest.mark.parametrize("text", ["12", "call me", "+49 1", "0155 7515112299999999"])
def test_what_is_not_a_phone_number_is_refused(text):
    with pytest.raises(ValidationError) as raised:
        phones.normalise(text, "DE")

    assert raised.value.code == "invalid_phone"


def test_the_lookup_hash_is_keyed(settings):
    first = phones.lookup_hash("+4915575151122")
    settings.PHONE_LOOKUP_KEY = "another-key-of-at-least-thirty-two-characters"

    assert phones.lookup_hash("+4915575151122") != first
    assert len(first) == 64
    assert "4915575151122" not in first


def test_it_shows_an_e164_number_grouped():
    assert phones.display("+4915575151122") == "+49 15575 151122"  # libphonenumber's grouping
    assert phones.display("+49301234567") == "+49 30 1234567"


def test_names_are_folded_without_case_or_accents():
    assert phones.fold_name("  Jürgen   MÜLLER-Lüdenscheidt ") == "jurgen muller-ludenscheidt"
    assert phones.fold_name("José Ñúñez") == "jose nunez"


@pytest.mark.django_db
def test_saving_a_patient_keeps_the_search_keys(settings):
    patient = make_patient(full_name="Zoë Weiß", phone="+49 155 75151122")

    assert patient.phone_lookup == phones.lookup_hash("+4915575151122")
    assert patient.name_search == "zoe weiss"


@pytest.mark.django_db
def test_the_profile_stores_the_patients_own_number_in_e164():
    patient = make_patient(phone="")

    update_patient_profile(
        patient=patient,
        full_name="Leon Wolf",
        phone="0155 75151122",
        date_of_birth=dt.date(1990, 2, 14),
    )

    patient.refresh_from_db()
    assert patient.phone == "+4915575151122"
    assert patient.phone_lookup == phones.lookup_hash("+4915575151122")


@pytest.mark.django_db
def test_rehashing_after_a_key_change_makes_the_numbers_findable_again(settings):
    from io import StringIO

    from django.core.management import call_command

    patient = make_patient(phone="+49 155 75151122")
    settings.PHONE_LOOKUP_KEY = "a-new-key-of-at-least-thirty-two-characters!"
    out = StringIO()

    call_command("rehash_phone_lookups", "--dry-run", stdout=out)
    patient.refresh_from_db()
    assert patient.phone_lookup != phones.lookup_hash("+4915575151122")
    call_command("rehash_phone_lookups", stdout=out)

    patient.refresh_from_db()
    assert patient.phone_lookup == phones.lookup_hash("+4915575151122")
    assert "search keys changed for 1" in out.getvalue()
