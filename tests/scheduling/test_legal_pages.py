"""Each clinic's privacy notice, legal notice and terms (issue 13): edited in the admin,
shown escaped at stable addresses, linked from every page's footer and the profile form;
and the header that names the clinic, or the deployment when there are several."""

import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from scheduling.models import LegalDocument
from tests.factories import log_in, make_clinic, make_patient, make_staff

pytestmark = pytest.mark.django_db


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def header(html: str) -> str:
    return html[html.index('<header class="site-header">') : html.index("</header>")]


def footer(html: str) -> str:
    return html[html.index('<footer class="site-footer">') : html.index("</footer>")]


def test_the_privacy_notice_shows_the_clinics_text_in_paragraphs(client):
    clinic = make_clinic(name="Praxis Lindenhof")
    LegalDocument.objects.create(
        clinic=clinic, kind="privacy", body="We keep your data.\n\nFor seven years."
    )

    html = page(client, "/privacy/")

    assert "<p>We keep your data.</p>" in html
    assert "<p>For seven years.</p>" in html


def test_the_stable_addresses_are_privacy_imprint_and_terms():
    assert reverse("legal:privacy") == "/privacy/"
    assert reverse("legal:imprint") == "/imprint/"
    assert reverse("legal:terms") == "/terms/"
    assert reverse("legal:terms-clinic", args=["lindenhof"]) == "/terms/lindenhof/"


def test_html_typed_into_a_legal_text_is_shown_not_run(client):
    clinic = make_clinic()
    LegalDocument.objects.create(
        clinic=clinic, kind="imprint", body='<script>alert(1)</script><a href="x">link</a>'
    )

    html = page(client, "/imprint/")

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="x">' not in html


def test_with_several_clinics_each_has_its_section_and_its_own_page(client):
    north = make_clinic(name="North Clinic", slug="north")
    south = make_clinic(name="South Clinic", slug="south")
    LegalDocument.objects.create(clinic=north, kind="terms", body="North's terms.")
    LegalDocument.objects.create(clinic=south, kind="terms", body="South's terms.")

    both = page(client, "/terms/")
    only_south = page(client, "/terms/south/")

    assert 'id="clinic-north"' in both
    assert 'id="clinic-south"' in both
    assert "North&#x27;s terms." in both
    assert "South&#x27;s terms." in both
    assert "South&#x27;s terms." in only_south
    assert "North&#x27;s terms." not in only_south


def test_a_clinic_without_the_text_says_so(client):
    make_clinic(name="New Clinic")

    assert "has not published this text here yet" in page(client, "/privacy/")


def test_an_unknown_clinic_is_a_404(client):
    make_clinic(slug="north")

    assert client.get("/privacy/nowhere/").status_code == 404


def test_a_clinic_has_one_text_of_each_kind():
    clinic = make_clinic()
    LegalDocument.objects.create(clinic=clinic, kind="privacy", body="One.")

    with pytest.raises(IntegrityError):
        LegalDocument.objects.create(clinic=clinic, kind="privacy", body="Two.")


@pytest.mark.parametrize("path", ["/", "/doctors/", "/login/", "/staff/login/", "/nowhere/"])
def test_every_page_links_the_three_texts_in_its_footer(client, path):
    make_clinic()

    html = client.get(path).content.decode()

    links = footer(html)
    for address in ("/privacy/", "/imprint/", "/terms/"):
        assert f'href="{address}"' in links


def test_the_profile_form_says_why_it_asks_and_links_the_privacy_notice(client):
    make_clinic()
    log_in(client, make_patient())

    html = page(client, reverse("accounts:profile"))

    start = html.index('id="why-we-ask"')
    why = html[start : html.index("</p>", start)]
    assert "date of birth" in why
    assert "phone number" in why
    assert 'href="/privacy/"' in why


def test_with_one_clinic_every_header_names_it(client):
    make_clinic(name="Praxis Lindenhof")

    for path in ("/", "/doctors/", "/login/", "/privacy/", "/nowhere/"):
        assert "Praxis Lindenhof" in header(client.get(path).content.decode()), path


def test_the_staff_header_names_the_clinic_too(client):
    make_clinic(name="Praxis Lindenhof")

    assert "Praxis Lindenhof · staff" in header(page(client, "/staff/login/"))


def test_with_several_clinics_the_header_names_the_deployment(client, settings):
    settings.SITE_NAME = "Health Group Berlin"
    make_clinic(name="North Clinic", slug="north")
    make_clinic(name="South Clinic", slug="south")

    top = header(page(client, "/doctors/"))

    assert "Health Group Berlin" in top
    assert "North Clinic" not in top


def test_without_a_site_name_several_clinics_show_the_default_name(client):
    make_clinic(slug="north")
    make_clinic(slug="south")

    assert "Clinic appointments" in header(page(client, "/"))


def test_every_page_and_the_staff_pages_have_the_favicon(client):
    make_clinic()
    staff = make_staff()
    client.force_login(staff)

    for path in ("/", "/staff/login/"):
        html = client.get(path).content.decode()
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
