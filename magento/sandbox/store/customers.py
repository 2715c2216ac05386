"""The sandbox store's customers: GET, POST and PUT /V1/customers, validated like Magento."""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

from ..errors import (
    DUPLICATE_EMAIL,
    NO_SUCH_ENTITY_FIELD,
    MagentoErrorResponse,
    required,
)
from ..inputs import CUSTOMER, scalar_fields
from ..table import Table

INVALID_FIELD_VALUE = 'Invalid value of "%value" provided for the %fieldName field.'
PASSWORD_LENGTH = "The password needs at least %1 characters. Create a new password and try again."
PASSWORD_CLASSES = (
    "Minimum of different classes of characters in password is %1. Classes of characters: "
    "Lower Case, Upper Case, Digits, Special Characters."
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ADDRESS_REQUIRED = (
    "firstname",
    "lastname",
    "street",
    "city",
    "country_id",
    "telephone",
    "postcode",
)


class CustomerRecords:
    """The customers part of SandboxStore (customers table, e-mail index, address ids)."""

    lock: threading.RLock  # SandboxStore's; every public method holds it
    customers: Table

    def _init_customers(self) -> None:
        self._customer_fields = scalar_fields(CUSTOMER)
        self.customers = Table()
        self._emails: dict[tuple[int, str], int] = {}
        self._next_address_id = 1

    def customer_get(self, customer_id: int) -> dict:
        """GET /V1/customers/{id}: the customer, or Magento's 404."""
        with self.lock:
            row = self.customers.rows.get(customer_id)
            if row is None:
                raise _customer_not_found(customer_id)
            return copy.deepcopy(row)

    def customer_create(self, customer: dict, password: str | None = None) -> dict:
        """POST /V1/customers: validate and save a new customer (ids and dates assigned)."""
        with self.lock:
            self._validate_customer(customer)
            if password is not None:
                _check_password(password)
            website_id = customer.get("website_id") or 1
            if (website_id, customer["email"].lower()) in self._emails:
                raise MagentoErrorResponse(400, DUPLICATE_EMAIL)
            customer_id = self.customers.next_id
            now = self.now()
            row = self._customer_row(
                customer_id, customer, created_at=now, updated_at=now, previous=None
            )
            self.customers.add(customer_id, row)
            self._emails[(row["website_id"], row["email"].lower())] = customer_id
            return copy.deepcopy(row)

    def customer_replace(self, customer_id: int, customer: dict) -> dict:
        """PUT /V1/customers/{id}: a full save; addresses kept when omitted, replaced when sent."""
        with self.lock:
            previous = self.customers.rows.get(customer_id)
            if previous is None:
                raise _customer_not_found(customer_id)
            self._validate_customer(customer)
            website_id = customer.get("website_id") or previous["website_id"]
            owner = self._emails.get((website_id, customer["email"].lower()))
            if owner is not None and owner != customer_id:
                raise MagentoErrorResponse(400, DUPLICATE_EMAIL)
            row = self._customer_row(
                customer_id,
                customer,
                created_at=previous["created_at"],
                updated_at=self.now(),
                previous=previous,
            )
            del self._emails[(previous["website_id"], previous["email"].lower())]
            self._emails[(row["website_id"], row["email"].lower())] = customer_id
            self.customers.rows[customer_id] = row
            self.customers.touch(customer_id, previous["updated_at"], row["updated_at"])
            return copy.deepcopy(row)

    def _validate_customer(self, customer: dict) -> None:
        missing = [
            name
            for name in ("email", "firstname", "lastname")
            if not str(customer.get(name) or "").strip()
        ]
        if missing:
            raise required(*missing)
        if not _EMAIL.match(customer["email"]):
            raise MagentoErrorResponse(
                400, INVALID_FIELD_VALUE, {"fieldName": "email", "value": customer["email"]}
            )
        problems = []
        for address in customer.get("addresses") or []:
            for name in _ADDRESS_REQUIRED:
                value = address.get(name)
                if value in (None, "", []):
                    problems.append(name)
        if problems:
            raise required(*problems)

    def _customer_row(
        self,
        customer_id: int,
        data: dict,
        *,
        created_at: str,
        updated_at: str,
        previous: dict | None,
    ) -> dict:
        keep = previous or {}
        row: dict[str, Any] = {
            "id": customer_id,
            "group_id": data.get("group_id", keep.get("group_id", 1)),
        }
        addresses = data.get("addresses")
        if addresses is None and previous is not None:
            addresses_out = copy.deepcopy(previous.get("addresses", []))
            default_billing = previous.get("default_billing")
            default_shipping = previous.get("default_shipping")
        else:
            addresses_out, default_billing, default_shipping = self._addresses(
                customer_id, addresses or [], previous
            )
        if default_billing is not None:
            row["default_billing"] = default_billing
        if default_shipping is not None:
            row["default_shipping"] = default_shipping
        row["created_at"] = created_at
        row["updated_at"] = updated_at
        row["created_in"] = keep.get("created_in", "Default Store View")
        for name in ("confirmation", "dob"):
            if data.get(name) is not None:
                row[name] = data[name]
        row["email"] = data["email"]
        row["firstname"] = data["firstname"]
        row["lastname"] = data["lastname"]
        for name in ("middlename", "prefix", "suffix", "gender", "taxvat"):
            if data.get(name) is not None:
                row[name] = data[name]
        row["store_id"] = data.get("store_id") or keep.get("store_id", 1)
        row["website_id"] = data.get("website_id") or keep.get("website_id", 1)
        row["addresses"] = addresses_out
        row["disable_auto_group_change"] = data.get(
            "disable_auto_group_change", keep.get("disable_auto_group_change", 0)
        )
        extension = dict(keep.get("extension_attributes") or {"is_subscribed": False})
        extension.update(data.get("extension_attributes") or {})
        row["extension_attributes"] = extension
        if data.get("custom_attributes"):
            row["custom_attributes"] = data["custom_attributes"]
        return row

    def _addresses(self, customer_id: int, addresses: list[dict], previous: dict | None):
        existing_ids = {a["id"] for a in (previous or {}).get("addresses", [])}
        result = []
        default_billing = default_shipping = None
        for given in addresses:
            address = dict(given)
            if address.get("id") not in existing_ids:
                address["id"] = self._next_address_id
                self._next_address_id += 1
            ordered = {"id": address["id"], "customer_id": customer_id}
            region = address.get("region")
            if region:
                ordered["region"] = region
                if address.get("region_id") is None and region.get("region_id") is not None:
                    address["region_id"] = region["region_id"]
            for key, value in address.items():
                if (
                    key not in ordered
                    and value is not None
                    and key not in ("default_billing", "default_shipping", "customer_id")
                ):
                    ordered[key] = value
            if address.get("default_shipping"):
                ordered["default_shipping"] = True
                default_shipping = str(address["id"])
            if address.get("default_billing"):
                ordered["default_billing"] = True
                default_billing = str(address["id"])
            result.append(ordered)
        return result, default_billing, default_shipping

    def _customer_value(self, row: dict, name: str) -> Any:
        return row.get(name)


def _customer_not_found(customer_id: int) -> MagentoErrorResponse:
    """NoSuchEntityException::singleField("customerId", id): Magento's 404 for a customer."""
    return MagentoErrorResponse(
        404, NO_SUCH_ENTITY_FIELD, {"fieldName": "customerId", "fieldValue": customer_id}
    )


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise MagentoErrorResponse(400, PASSWORD_LENGTH, [8])
    classes = sum(
        bool(re.search(pattern, password))
        for pattern in (r"[a-z]", r"[A-Z]", r"\d", r"[^a-zA-Z\d]")
    )
    if classes < 3:
        raise MagentoErrorResponse(400, PASSWORD_CLASSES, [3])
