"""The page shell rendered once per process (clinic/templatetags/memo.py): each request
still gets its own CSRF token, and the header follows the visitor, the language, the
address and the clinic's name."""

import re

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse

from clinic.templatetags import memo
from scheduling.selectors import clinic_names
from tests.factories import log_in, make_clinic, make_doctor, make_patient, make_staff

pytestmark = pytest.mark.django_db


def csrf_tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))


def test_two_visitors_shown_the_same_shell_each_get_their_own_csrf_token_that_works():
    make_clinic(name="Praxis Mitte")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_tokens = csrf_tokens(first.get("/").content.decode())
    second_tokens = csrf_tokens(second.get("/").content.decode())
    assert first_tokens
    assert second_tokens
    assert memo.CSRF_PLACEHOLDER not in first.get("/").content.decode()
    # Masked tokens differ on every page; what matters is that each one is its visitor's:
    # the language form posts with it.
    for client, tokens in ((first, first_tokens), (second, second_tokens)):
        form = {"language": "de", "csrfmiddlewaretoken": tokens.pop()}
        answer = client.post(reverse("accounts:set-language"), form)
        assert answer.status_code in (302, 303), answer.status_code
    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/")
    form = {"language": "de", "csrfmiddlewaretoken": memo.CSRF_PLACEHOLDER}
    refused = stranger.post(reverse("accounts:set-language"), form)
    assert refused.status_code == 403


def test_the_htmx_header_carries_the_requests_own_token_too():
    make_clinic()
    html = Client().get("/").content.decode()
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert header_token
    assert header_token.group(1) not in ("", memo.CSRF_PLACEHOLDER)


def test_the_header_follows_who_is_signed_in():
    clinic = make_clinic()
    make_doctor(clinic)
    client = Client()
    assert "Sign in" in client.get("/doctors/").content.decode()
    log_in(client, make_patient())
    page = client.get("/doctors/").content.decode()
    assert "My appointments" in page
    assert "Sign out" in page
    staff = Client()
    staff.force_login(make_staff(clinics=(clinic,)))
    staff_page = staff.get("/doctors/").content.decode()
    assert "Staff" in staff_page
    assert "My appointments" not in staff_page


def test_the_header_marks_the_page_the_visitor_is_on():
    make_clinic()
    client = Client()
    assert '<a href="/doctors/" aria-current="page">' in client.get("/doctors/").content.decode()
    home = client.get("/").content.decode()
    assert '<a href="/doctors/" aria-current="page">' not in home
    assert '<a href="/" aria-current="page">' in home


def test_the_header_and_footer_follow_the_language():
    make_clinic()
    client = Client()
    assert "Privacy notice" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    german = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Datenschutzerklärung" in german
    assert "Privacy notice" not in german


def test_a_renamed_clinic_is_in_the_next_header_of_the_process_that_renamed_it():
    clinic = make_clinic(name="Praxis Mitte")
    client = Client()
    assert "Praxis Mitte" in client.get("/").content.decode()
    clinic.name = "Praxis am Park"
    clinic.save()
    page = client.get("/").content.decode()
    assert "Praxis am Park" in page
    assert "Praxis Mitte" not in page


def test_the_clinic_names_are_read_once_while_they_are_fresh(django_assert_num_queries):
    make_clinic(name="Praxis Mitte")
    assert clinic_names() == ["Praxis Mitte"]
    with django_assert_num_queries(0):
        assert clinic_names() == ["Praxis Mitte"]


def test_a_stretch_is_rendered_once_for_the_same_parts_and_again_for_others():
    renders = []

    class Counted:
        def __str__(self) -> str:
            renders.append(1)
            return "x"

    template = Template("{% load memo %}{% memo part kind %}{{ counted }}{% endmemo %}")
    for kind in ("a", "a", "b", "a"):
        template.render(Context({"kind": kind, "counted": Counted()}))
    assert len(renders) == 2


def test_a_process_keeps_at_most_its_bound_of_stretches(monkeypatch):
    monkeypatch.setattr(memo, "MEMO_ENTRIES", 3)
    template = Template("{% load memo %}{% memo part kind %}{{ kind }}{% endmemo %}")
    for kind in range(10):
        assert template.render(Context({"kind": kind})) == str(kind)
    assert len(memo._entries) == 3
