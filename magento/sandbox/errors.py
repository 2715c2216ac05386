"""Errors the sandbox answers with, shaped exactly like Magento's web API error bodies.

Magento renders an exception as {"message": <raw phrase with placeholders>, "parameters": ...}:
named placeholders (%fieldName) give an object, positional ones (%1) a list, and an aggregated
input exception adds an "errors" list. The HTTP status follows the exception class
(NoSuchEntity 404, Authorization 401, other localized errors 400).
"""

from __future__ import annotations

import secrets
from typing import Any

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
SIGNIN_INCORRECT = (
    "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
)
REQUIRED_FIELD = '"%fieldName" is required. Enter and try again.'
NOT_SUPPORTED_FIELD = '"%fieldName" is not supported. Correct the field name and try again.'
INPUT_EXCEPTIONS = "One or more input exceptions have occurred."
INVALID_TYPE = (
    'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.'
)
FIELD_PROCESSING = 'Error occurred during "%field_name" processing. %details'
NO_ROUTE = "Request does not match any route."
NO_SUCH_ENTITY_FIELD = "No such entity with %fieldName = %fieldValue"
ENTITY_NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
# OrderRepository::get refuses an empty id (0) before it loads anything.
ID_NEEDED = "An ID is needed. Set the ID and try again."
PRODUCT_NOT_FOUND = (
    "The product that was requested doesn't exist. Verify the product and try again."
)
DUPLICATE_EMAIL = "A customer with the same email address already exists in an associated website."
MAX_PAGE_SIZE = "Maximum SearchCriteria pageSize is %max"
TWO_FACTOR_ENDPOINTS = "Please use the 2fa provider-specific endpoints to obtain a token."
TWO_FACTOR_CONFIGURE_PERSONAL = (
    "You are required to configure personal Two-Factor Authorization in order to login. "
    "Please check your email."
)
PROVIDER_NOT_CONFIGURED = "Provider is not configured."
SHIPMENT_VALIDATION = "Shipment Document Validation Error(s):\n"
INTERNAL_ERROR = "Internal Error. Details are available in Magento log file. Report ID: webapi-%s"


class MagentoErrorResponse(Exception):
    """An error answer: HTTP status plus the JSON body Magento would send."""

    def __init__(
        self,
        status: int,
        message: str,
        parameters: dict | list | None = None,
        *,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body, with only the keys Magento includes for this error."""
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def render(message: str, parameters: dict | list | None) -> str:
    """Fill %name / %1 placeholders the way Magento's Phrase renderer does."""
    if isinstance(parameters, dict):
        for key in sorted(parameters, key=len, reverse=True):
            message = message.replace(f"%{key}", str(parameters[key]))
    elif isinstance(parameters, list):
        for index in range(len(parameters), 0, -1):
            message = message.replace(f"%{index}", str(parameters[index - 1]))
    return message


def not_authorized(resources: list[str]) -> MagentoErrorResponse:
    """The generic 401 for a missing/invalid token or a missing ACL grant."""
    return MagentoErrorResponse(401, NOT_AUTHORIZED, {"resources": ", ".join(resources)})


def signin_incorrect() -> MagentoErrorResponse:
    """Wrong admin password or a locked account: Magento does not say which."""
    return MagentoErrorResponse(401, SIGNIN_INCORRECT)


def no_route() -> MagentoErrorResponse:
    """Unknown path, wrong HTTP method on a known path, or an unknown store code."""
    return MagentoErrorResponse(404, NO_ROUTE)


def internal_error() -> MagentoErrorResponse:
    """The production-mode 500 with a fresh report id (uniqid-like: 13 hex digits)."""
    return MagentoErrorResponse(500, INTERNAL_ERROR % secrets.token_hex(7)[:13])


def input_errors(errors: list[tuple[str, dict | list | None]]) -> MagentoErrorResponse:
    """One error becomes the message itself; several become the aggregated input exception."""
    if len(errors) == 1:
        message, parameters = errors[0]
        return MagentoErrorResponse(400, message, parameters)
    return MagentoErrorResponse(
        400,
        INPUT_EXCEPTIONS,
        errors=[
            # PHP's json_encode writes an empty parameter array as [].
            {"message": message, "parameters": parameters or []}
            for message, parameters in errors
        ],
    )


def required(*field_names: str) -> MagentoErrorResponse:
    """'"%fieldName" is required' for each missing field, aggregated like InputException."""
    return input_errors([(REQUIRED_FIELD, {"fieldName": name}) for name in field_names])
