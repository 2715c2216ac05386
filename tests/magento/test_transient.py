"""is_transient: the one place that says whether trying a failed call again can help."""

from __future__ import annotations

import pytest
import requests
import responses

from magento import errors
from magento.auth import IntegrationTokenAuth
from magento.client import MagentoClient
from magento.responses import error_from_response

STORE = "https://shop.example.com"


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (errors.RateLimitedError(retry_after=5), True),
        (errors.StoreUnavailableError(), True),
        (errors.MaintenanceError(), True),
        (errors.RequestTimeoutError(), True),
        (errors.TransportError(), True),
        (errors.NameNotFoundError(), True),
        (errors.UnexpectedResponseError(), True),
        (errors.TLSError(), False),
        (errors.BlockedAddressError(), False),
        (errors.RedirectedError(location="https://shop.example.com/rest"), False),
        (errors.AuthenticationError(), False),
        (errors.InvalidCredentialsError(), False),
        (errors.SignInWithheldError(), False),
        (errors.TwoFactorRequiredError(), False),
        (errors.PermissionDeniedError(), False),
        (errors.NotFoundError(), False),
        (errors.RouteNotFoundError(), False),
        (errors.TwoFactorUnavailableError(), False),
        (errors.ValidationError(), False),
        (errors.UnknownOutcomeError(), False),
        (errors.AmbiguousMatchError(), False),
        (errors.MagentoError(), False),
        (ValueError("a bug"), False),
        (requests.ConnectionError("raw"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_which_errors_are_worth_retrying(error, transient):
    assert errors.is_transient(error) is transient


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retry_after_is_kept_on_every_retryable_answer(status):
    for body in (b'{"message": "busy"}', b"<html><title>busy</title></html>", b""):
        error = error_from_response(status, body, retry_after=7.0)
        assert errors.is_transient(error)
        assert errors.retry_after(error) == 7.0


def test_retry_after_is_none_when_not_given_or_not_usable():
    assert errors.retry_after(errors.RateLimitedError()) is None
    assert errors.retry_after(errors.RateLimitedError(retry_after=-1)) is None
    assert errors.retry_after(ValueError("x")) is None


def test_two_factor_refusals_say_which_one_they_are():
    code_needed = error_from_response(
        401, b'{"message": "Please use the 2fa provider-specific endpoints to obtain a token."}'
    )
    assert code_needed.reason == errors.TwoFactorRequiredError.CODE_NEEDED
    not_set_up = error_from_response(400, b'{"message": "Provider is not configured."}')
    assert not_set_up.reason == errors.TwoFactorRequiredError.NOT_CONFIGURED


def test_errors_keep_their_typed_facts_through_pickling():
    import pickle

    redirected = pickle.loads(pickle.dumps(errors.RedirectedError(location="https://a.example")))
    assert redirected.location == "https://a.example"
    refusal = pickle.loads(
        pickle.dumps(
            errors.TwoFactorRequiredError(reason=errors.TwoFactorRequiredError.NOT_CONFIGURED)
        )
    )
    assert refusal.reason == errors.TwoFactorRequiredError.NOT_CONFIGURED


@responses.activate
def test_a_redirect_is_a_redirected_error_with_its_location():
    responses.get(
        f"{STORE}/rest/all/V1/store/storeConfigs",
        status=301,
        headers={"Location": "https://www.shop.example.com/rest/all/V1/store/storeConfigs?x=1"},
    )
    client = MagentoClient(STORE, IntegrationTokenAuth("t" * 32), allow_private_network=True)
    with pytest.raises(errors.RedirectedError) as caught:
        client.request("GET", "/V1/store/storeConfigs")
    assert caught.value.location == "https://www.shop.example.com/rest/all/V1/store/storeConfigs"
    assert not errors.is_transient(caught.value)
