"""Validation of pasted identifiers: GUIDs, tenants, client IDs, secret values and tenant names."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensewatch.domain.identifiers import (
    InvalidInput,
    check_secret_value,
    is_domain,
    is_guid,
    parse_client_id,
    parse_guid,
    parse_https_url,
    parse_tenant,
    parse_tenant_name,
)

labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
domains = st.builds(
    lambda parts, tld: ".".join([*parts, tld]),
    st.lists(labels, min_size=1, max_size=4),
    st.from_regex(r"[a-z]{2,10}", fullmatch=True),
)


@given(st.uuids())
def test_any_uuid_in_any_case_or_braces_parses_to_canonical_form(value: uuid.UUID) -> None:
    text = str(value)
    assert parse_guid(text.upper()) == text
    assert parse_guid("{" + text + "}") == text
    assert parse_guid(f"  {text}\u200b\n") == text
    assert parse_tenant(text.upper()) == text
    assert parse_client_id(text) == text


@given(domains)
def test_dns_domains_are_tenants(domain: str) -> None:
    assert is_domain(domain)
    assert parse_tenant(domain.upper()) == domain


@given(st.text(max_size=40))
def test_parse_tenant_either_accepts_or_raises_invalid_input(text: str) -> None:
    message = ""
    try:
        result = parse_tenant(text)
    except InvalidInput as error:
        message = str(error)
    else:
        assert is_guid(result) or is_domain(result)
    assert "\n" not in message


@given(st.uuids())
def test_a_guid_shaped_secret_is_recognised_as_the_secret_id(value: uuid.UUID) -> None:
    with pytest.raises(InvalidInput, match=r"Secret ID.*copy the \*Value\* column instead"):
        check_secret_value(str(value) + "\n")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("abc def", "whitespace"),
        ("abcdéfghijk", "non-ASCII"),
    ],
)
def test_bad_secret_values(value: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        check_secret_value(value)


def test_a_secret_value_loses_only_the_line_ending() -> None:
    assert check_secret_value("abC8Q~x.y_z-0123456789abcdefghijklmnopqr\r\n") == (
        "abC8Q~x.y_z-0123456789abcdefghijklmnopqr"
    )


@pytest.mark.parametrize("alias", ["common", "Organizations", "consumers"])
def test_multi_tenant_aliases_are_refused(alias: str) -> None:
    with pytest.raises(InvalidInput, match="multi-tenant alias"):
        parse_tenant(alias)


def test_an_en_dash_in_a_guid_is_named() -> None:
    pasted = "72f988bf\u201386f1\u201341af\u201391ab\u20132d7cd011db47"
    with pytest.raises(InvalidInput, match=r"U\+2013 \(EN DASH\) at position 9"):
        parse_tenant(pasted)
    with pytest.raises(InvalidInput, match="U\\+2013"):
        parse_client_id(pasted)


def test_client_id_must_be_a_guid() -> None:
    with pytest.raises(InvalidInput, match="Application \\(client\\) ID"):
        parse_client_id("my-licensewatch-app")


@pytest.mark.parametrize(
    "value", ["https://login.example.com/tenant", "contoso", "a..b.com", "-x.com", "1.2.3.4"]
)
def test_not_tenants(value: str) -> None:
    with pytest.raises(InvalidInput):
        parse_tenant(value)


def test_internationalised_domains_become_punycode() -> None:
    assert parse_tenant("bücher.example") == "xn--bcher-kva.example"


@pytest.mark.parametrize("name", ["contoso", "Contoso EU", "a", "x" * 64, "Zürich_2.prod", "東京"])
def test_good_tenant_names(name: str) -> None:
    assert parse_tenant_name(f" {name} ") == name


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "a/b", "semi;colon", "tab\tname", "emoji🙂"])
def test_bad_tenant_names(name: str) -> None:
    with pytest.raises(InvalidInput):
        parse_tenant_name(name)


def test_tenant_names_are_nfc_normalised() -> None:
    assert parse_tenant_name("Zu\u0308rich") == "Zürich"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://127.0.0.1:8443/", True),
        ("https://login.example.com", True),
        ("http://login.example.com", False),
        ("https://user:pw@login.example.com", False),
        ("https://login.example.com/?x=1", False),
        ("login.example.com", False),
    ],
)
def test_https_urls(value: str, ok: bool) -> None:
    if ok:
        assert parse_https_url(value) == value.rstrip("/")
    else:
        with pytest.raises(InvalidInput):
            parse_https_url(value)
