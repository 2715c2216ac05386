"""Inputs and body building shared by the customer actions (not an action: name starts with _)."""

from __future__ import annotations

from typing import Any

from automations.actions._base import ActionInput, ActionInputError

ADDRESS = "Address"
GENDERS = (("1", "Male"), ("2", "Female"), ("3", "Not specified"))

WEBSITE_ID = ActionInput(
    "website_id",
    "Website ID",
    "integer",
    help_text="The website the account belongs to (1 on a single-website store). Leave empty "
    "for the store's default website.",
)

PROFILE_INPUTS = (
    ActionInput("group_id", "Customer group ID", "integer", help_text="1 = General by default."),
    ActionInput("store_id", "Store view ID", "integer", help_text="The store view it was made in."),
    ActionInput("dob", "Date of birth", "date", help_text="YYYY-MM-DD."),
    ActionInput("gender", "Gender", "choice", choices=GENDERS),
    ActionInput("taxvat", "Tax/VAT number"),
    ActionInput("prefix", "Name prefix"),
    ActionInput("middlename", "Middle name"),
    ActionInput("suffix", "Name suffix"),
)

ADDRESS_INPUTS = (
    ActionInput("street", "Street", "lines", group=ADDRESS, help_text="One line per street line."),
    ActionInput("city", "City", group=ADDRESS),
    ActionInput(
        "region",
        "Region / state",
        group=ADDRESS,
        help_text="The region's name (New York), or its Magento region ID (43).",
    ),
    ActionInput("postcode", "Postcode", group=ADDRESS),
    ActionInput(
        "country_id", "Country", group=ADDRESS, help_text="Two-letter country code: US, DE, FR."
    ),
    ActionInput("telephone", "Telephone", group=ADDRESS),
    ActionInput(
        "default_billing",
        "Default billing address",
        "boolean",
        group=ADDRESS,
        help_text="Yes by default when an address is given.",
    ),
    ActionInput(
        "default_shipping",
        "Default shipping address",
        "boolean",
        group=ADDRESS,
        help_text="Yes by default when an address is given.",
    ),
)
ADDRESS_FIELDS = tuple(item.name for item in ADDRESS_INPUTS)

CUSTOM_ATTRIBUTES = ActionInput(
    "custom_attributes",
    "Custom attributes",
    "json",
    help_text='An object of attribute codes and values, e.g. {"loyalty_tier": "gold"}, or '
    'Magento\'s list [{"attribute_code": "loyalty_tier", "value": "gold"}].',
)


def custom_attribute_list(value: Any) -> list[dict[str, Any]]:
    """Magento's [{"attribute_code", "value"}] from an object or such a list."""
    if isinstance(value, dict):
        return [{"attribute_code": str(code), "value": item} for code, item in value.items()]
    checked = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("attribute_code"), str):
            raise ActionInputError(
                {"custom_attributes": "Each entry needs an attribute_code and a value."}
            )
        extra = set(item) - {"attribute_code", "value"}
        if extra:
            raise ActionInputError(
                {
                    "custom_attributes": "Entries take attribute_code and value only, not "
                    f"{sorted(extra)}."
                }
            )
        checked.append({"attribute_code": item["attribute_code"], "value": item.get("value")})
    return checked


def has_address(values: dict[str, Any]) -> bool:
    return any(name in values for name in ADDRESS_FIELDS[:6])


def check_address(values: dict[str, Any], *, complete: bool) -> None:
    """A new address needs street, city, country and telephone (Magento's required fields)."""
    if not complete or not has_address(values):
        return
    missing = {
        name: "Needed for an address."
        for name in ("street", "city", "country_id", "telephone")
        if name not in values
    }
    if missing:
        raise ActionInputError(missing)


def address_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The address fields given, in Magento's customer address shape."""
    address: dict[str, Any] = {}
    for name in ("street", "city", "postcode", "country_id", "telephone"):
        if name in values:
            address[name] = values[name]
    if "region" in values:
        region = str(values["region"]).strip()
        address["region"] = {"region_id": int(region)} if region.isdigit() else {"region": region}
        if region.isdigit():
            address["region_id"] = int(region)
    for name in ("default_billing", "default_shipping"):
        if name in values:
            address[name] = values[name]
    return address


def profile_fields(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The customer fields among `names` that were given, typed as Magento takes them."""
    fields: dict[str, Any] = {}
    for name in names:
        if name in values:
            fields[name] = int(values[name]) if name == "gender" else values[name]
    if "custom_attributes" in values:
        fields["custom_attributes"] = custom_attribute_list(values["custom_attributes"])
    return fields


PROFILE_FIELDS = ("firstname", "lastname", "website_id", *(i.name for i in PROFILE_INPUTS))

# What later steps usually take from a customer output ({{ steps.N.email }}).
CUSTOMER_OUTPUT_FIELDS = (
    "id",
    "email",
    "firstname",
    "lastname",
    "group_id",
    "website_id",
    "store_id",
    "dob",
    "addresses",
)
