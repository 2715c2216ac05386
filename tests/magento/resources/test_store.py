"""client.store: the calls that verify a connection."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from magento import (
    AuthenticationError,
    UnexpectedResponseError,
)
from tests.magento.resources.helpers import ALL
from tests.shared_data import load_error

# Field names as in the schema's store-data-store-config-interface / store-data-store-interface.
CONFIG = {
    "id": 1,
    "code": "default",
    "website_id": 1,
    "locale": "en_US",
    "base_currency_code": "USD",
    "default_display_currency_code": "USD",
    "timezone": "America/Chicago",
    "weight_unit": "lbs",
    "base_url": "https://shop.example.com/",
    "secure_base_url": "https://shop.example.com/",
}
VIEW = {"code": "default", "name": "Default Store View", "store_group_id": 1, "is_active": 1}
VIEWS = [
    {
        "id": 0,
        "code": "admin",
        "name": "Admin",
        "website_id": 0,
        "store_group_id": 0,
        "is_active": 1,
    },
    dict(VIEW, id=1, website_id=1),
]


def test_configs_lists_store_configurations(client, mock):
    mock.get(f"{ALL}/store/storeConfigs", json=[CONFIG])
    assert client.store.configs() == [CONFIG]
    assert urlsplit(mock.calls[0].request.url).query == ""


def test_configs_for_chosen_store_codes(client, mock):
    mock.get(f"{ALL}/store/storeConfigs", json=[CONFIG])
    client.store.configs(["default", "de"])
    query = parse_qsl(urlsplit(mock.calls[0].request.url).query)
    assert query == [("storeCodes[]", "default"), ("storeCodes[]", "de")]


@pytest.mark.parametrize("codes", ["default", [""], [None]])
def test_configs_refuses_bad_store_codes(client, mock, codes):
    with pytest.raises(ValueError, match="store_codes"):
        client.store.configs(codes)


def test_views_lists_store_views(client, mock):
    mock.get(f"{ALL}/store/storeViews", json=VIEWS)
    assert client.store.views() == VIEWS


def test_unauthorized_token_raises_authentication_error_naming_the_resource(client, mock):
    status, body = load_error("unauthorized_consumer")
    mock.get(f"{ALL}/store/storeConfigs", status=status, json=body)
    with pytest.raises(AuthenticationError) as caught:
        client.store.configs()
    assert caught.value.resources == "Magento_Backend::store"


@pytest.mark.parametrize("answer", [{"code": "default"}, ["default"], "ok"])
def test_answer_that_is_not_a_list_of_objects_is_unexpected(client, mock, answer):
    mock.get(f"{ALL}/store/storeViews", json=answer)
    with pytest.raises(UnexpectedResponseError, match="list of objects"):
        client.store.views()
