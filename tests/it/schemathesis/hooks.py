"""Values for the formats Roster's OpenAPI document names and JSON Schema does not know.

Only a parser tells these apart from other strings: a phone number is one the phone number
metadata knows, a cursor is one Roster made. Loaded by tests/it/api/contract.rs through
SCHEMATHESIS_HOOKS.
"""

import base64

import schemathesis
from hypothesis import strategies as st

# Mobile numbers the metadata knows, and "" (no number).
schemathesis.openapi.format(
    "phone", st.sampled_from(["", "+46701234567", "+31612345678", "+46 70 765 43 21"])
)

# A number to connect to a user: one the metadata knows, never empty.
schemathesis.openapi.format(
    "number", st.sampled_from(["+46701234567", "+31612345678", "+46 70 765 43 21"])
)


def _cursor(pair):
    user, key = pair
    return base64.urlsafe_b64encode(f"{user}|{key}".encode()).decode().rstrip("=")


# A page cursor: base64url without padding of "<user id>|<sort key>"; "" for the first page.
schemathesis.openapi.format(
    "cursor",
    st.one_of(
        st.just(""),
        st.tuples(
            st.uuids(),
            st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=24),
        ).map(_cursor),
    ),
)
