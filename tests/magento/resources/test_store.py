"""client.store: the calls that verify a connection."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from magento import (
    AuthenticationError,
    UnexpectedResponseError,
)
from tests.helpers import store_configs
from tests.magento.resources.helpers import ALL
from tests.shared_data import load_error

CONFIGS = store_configs()
# Field names as in the schema's store-data-store-interface.
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


def test_configs_lists_store_configurations(client, store_mock):
    store_mock.get(f"{ALL}/store/storeConfigs", json=CONFIGS)
    assert client.store.configs() == CONFIGS
    assert urlsplit(store_mock.calls[0].request.url).query == ""


def test_configs_for_chosen_store_codes(client, store_mock):
    store_mock.get(f"{ALL}/store/storeConfigs", json=CONFIGS)
    client.store.configs(["default", "de"])
    query = parse_qsl(urlsplit(store_mock.calls[0].request.url).query)
    assert query == [("storeCodes[]", "default"), ("storeCodes[]", "de")]


@pytest.mark.parametrize("codes", ["default", [""], [None]])
def test_configs_refuses_bad_store_codes(client, store_mock, codes):
    with pytest.raises(ValueError, match="store_codes"):
        client.store.configs(codes)


def test_views_lists_store_views(client, store_mock):
    store_mock.get(f"{ALL}/store/storeViews", json=VIEWS)
    assert client.store.views() == VIEWS


def test_unauthorized_token_raises_authentication_error_naming_the_resource(client, store_mock):
    status, body = load_error("unauthorized_consumer")
    store_mock.get(f"{ALL}/store/storeConfigs", status=status, json=body)
    with pytest.raises(AuthenticationError) as caught:
        client.store.configs()
    assert caught.value.resources == "Magento_Backend::store"


@pytest.mark.parametrize("answer", [{"code": "default"}, ["default"], "ok"])
def test_answer_that_is_not_a_list_of_objects_is_unexpected(client, store_mock, answer):
    store_mock.get(f"{ALL}/store/storeViews", json=answer)
    with pytest.raises(UnexpectedResponseError, match="list of objects"):
        client.store.views()
