"""The API's ``?language=`` filter (scheduling/api.py ``LanguageField``): a choice of the
ISO 639-1 codes whose ~190 choices every query serializer's copy of the field shares
instead of re-making them per request; each copy is bound on its own."""

import pytest
from django.http import QueryDict

from appointments.api import SlotSearchQuerySerializer
from scheduling.api import DoctorQuerySerializer
from tests.factories import make_clinic, make_doctor


@pytest.mark.parametrize("serializer", [DoctorQuerySerializer, SlotSearchQuerySerializer])
def test_each_query_serializer_shares_the_choices_but_binds_its_own_field(serializer):
    first = serializer(data=QueryDict("language=de"))
    second = serializer(data=QueryDict("language=xx"))

    one, other = first.fields["language"], second.fields["language"]
    assert one is not other
    assert one.choices is other.choices
    assert (one.parent, other.parent) == (first, second)
    assert one.field_name == other.field_name == "language"
    assert first.is_valid()
    assert first.validated_data["language"] == "de"
    assert not second.is_valid()
    assert second.errors == {"language": ['"xx" is not a valid choice.']}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/doctors", "/api/v1/slots"])
def test_an_unknown_language_is_a_400_and_a_known_one_filters(client, path):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Deutsch", languages="de")
    make_doctor(clinic, name="Dr. English", languages="en")

    refused = client.get(f"{path}?language=xx")
    german = client.get(f"{path}?language=de")

    assert refused.status_code == 400
    assert "is not a valid choice" in refused.text
    assert german.status_code == 200
    assert "Dr. English" not in german.text
    if path == "/api/v1/doctors":
        assert [row["name"] for row in german.json()["results"]] == ["Dr. Deutsch"]
