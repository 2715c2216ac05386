"""Fixtures of the resource-helper tests: a client for shop.example.com and a strict mock.

Kept in this directory: its `client` shadows pytest-django's test client, which these
Django-free tests never use.
"""

import pytest
import responses

from magento import IntegrationTokenAuth, MagentoClient
from tests.magento.resources.helpers import no_sleep


@pytest.fixture
def client():
    """A bearer-token client with no retries: every call reaches the mock exactly once."""
    with MagentoClient(
        "shop.example.com", IntegrationTokenAuth("test-token-1234"), max_retries=0, sleep=no_sleep
    ) as magento:
        yield magento


@pytest.fixture
def mock():
    """Strict `responses` mock: every registered answer must be asked for."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as requests_mock:
        yield requests_mock
