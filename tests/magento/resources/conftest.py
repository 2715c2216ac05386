"""Fixture of the resource-helper tests: a client for shop.example.com (the strict `store_mock`
is in tests/conftest.py).

Kept in this directory: its `client` shadows pytest-django's test client, which these
Django-free tests never use.
"""

import pytest

from magento import IntegrationTokenAuth, MagentoClient
from tests.helpers import no_sleep


@pytest.fixture
def client():
    """A bearer-token client with no retries: every call reaches the mock exactly once."""
    with MagentoClient(
        "shop.example.com", IntegrationTokenAuth("test-token-1234"), max_retries=0, sleep=no_sleep
    ) as magento:
        yield magento
