"""Pure-Python client for the Magento 2 REST API (no Django here).

from magento import MagentoClient, OAuth1Auth

with MagentoClient("shop.example.com", OAuth1Auth(ck, cs, at, ats)) as client:
    configs = client.request("GET", "/V1/store/storeConfigs")
"""

from .auth import (
    AdminSessionAuth,
    InMemoryTokenCache,
    IntegrationTokenAuth,
    MagentoAuth,
    OAuth1Auth,
    RefusalMemory,
    TokenCache,
)
from .client import USER_AGENT, MagentoClient
from .errors import (
    AmbiguousMatchError,
    AuthenticationError,
    BlockedAddressError,
    InvalidCredentialsError,
    InvalidTwoFactorCodeError,
    MagentoError,
    MaintenanceError,
    NameNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RedirectedError,
    RequestTimeoutError,
    RouteNotFoundError,
    SignInWithheldError,
    StoreUnavailableError,
    TLSError,
    TransportError,
    TwoFactorRequiredError,
    TwoFactorUnavailableError,
    UnexpectedResponseError,
    UnknownOutcomeError,
    ValidationError,
    is_transient,
    retry_after,
)
from .netguard import check_target_host
from .search import Filter, SearchCriteria, SearchResult, SortOrder, iter_by_id, iter_pages
from .store_domain import InvalidStoreDomain, StoreAddress, encode_query, parse_store_domain
from .version import __version__

__all__ = [
    "USER_AGENT",
    "AdminSessionAuth",
    "AmbiguousMatchError",
    "AuthenticationError",
    "BlockedAddressError",
    "Filter",
    "InMemoryTokenCache",
    "IntegrationTokenAuth",
    "InvalidCredentialsError",
    "InvalidStoreDomain",
    "InvalidTwoFactorCodeError",
    "MagentoAuth",
    "MagentoClient",
    "MagentoError",
    "MaintenanceError",
    "NameNotFoundError",
    "NotFoundError",
    "OAuth1Auth",
    "PermissionDeniedError",
    "RateLimitedError",
    "RedirectedError",
    "RefusalMemory",
    "RequestTimeoutError",
    "RouteNotFoundError",
    "SearchCriteria",
    "SearchResult",
    "SignInWithheldError",
    "SortOrder",
    "StoreAddress",
    "StoreUnavailableError",
    "TLSError",
    "TokenCache",
    "TransportError",
    "TwoFactorRequiredError",
    "TwoFactorUnavailableError",
    "UnexpectedResponseError",
    "UnknownOutcomeError",
    "ValidationError",
    "__version__",
    "check_target_host",
    "encode_query",
    "is_transient",
    "iter_by_id",
    "iter_pages",
    "parse_store_domain",
    "retry_after",
]
