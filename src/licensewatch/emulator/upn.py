"""userPrincipalNames as Entra allows them: ASCII, while display names keep their accents."""

from __future__ import annotations

import unicodedata

# Letters that NFKD does not split into an ASCII base letter plus combining marks.
_ASCII_LETTERS = str.maketrans(
    {
        "Æ": "Ae",
        "æ": "ae",
        "Ø": "O",
        "ø": "o",
        "Ł": "L",
        "ł": "l",
        "ß": "ss",
        "Œ": "Oe",
        "œ": "oe",
        "Đ": "D",
        "đ": "d",
        "Þ": "Th",
        "þ": "th",
    }
)
# What Entra accepts besides ASCII letters and digits; accented letters are refused (Graph's user
# resource, userPrincipalName: https://learn.microsoft.com/graph/api/resources/user, and
# https://learn.microsoft.com/entra/identity/authentication/concept-sspr-policy#userprincipalname-policies-that-apply-to-all-user-accounts).
_ALLOWED_PUNCTUATION = frozenset("'.-_!#^~")


def upn_local(name: str) -> str:
    """The part before @ for a person's name: "Zoë.Müller" signs in as zoe.muller@..."""
    plain = unicodedata.normalize("NFKD", name.translate(_ASCII_LETTERS))
    kept = "".join(c for c in plain if c.isascii() and (c.isalnum() or c in _ALLOWED_PUNCTUATION))
    return kept.lower() or "user"
