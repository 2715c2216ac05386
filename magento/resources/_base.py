"""What every resource helper shares: the client, input checks, and search plumbing."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from ..client import CLIENT_STORE_CODE
from ..errors import AmbiguousMatchError, NotFoundError, UnexpectedResponseError
from ..jsontext import DecodedAnswer, decode_keeping_item_texts
from ..search import (
    DEFAULT_PAGE_SIZE,
    KeysetPage,
    KeysetPosition,
    SearchCriteria,
    SearchResult,
    int_from_digits,
    is_int,
    iter_by_id,
    iter_keyset,
    iter_pages,
)

# Deliberately loose: one "@", something on each side, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL_LENGTH = 254


def store_code_kwargs(store_code: Any) -> dict[str, Any]:
    """`{"store_code": ...}` for client.request, or nothing to keep the client's default (so a
    stand-in client with its own default works too)."""
    return {} if store_code is CLIENT_STORE_CODE else {"store_code": store_code}


def checked_fields(fields: object) -> str:
    """A `?fields=` selection: non-empty text without spaces or '&'."""
    if not isinstance(fields, str) or not fields.strip():
        raise ValueError("fields must be a non-empty selection such as 'items[sku,name]'")
    if any(ch.isspace() or ch == "&" for ch in fields):
        raise ValueError(f"fields selection {fields!r} must not contain spaces or '&'")
    return fields


class RequestClient(Protocol):
    """The part of MagentoClient the resources use (a test double only needs this)."""

    def request(self, method: str, path: str, **kwargs: Any) -> Any: ...


def positive_id(value: object, what: str) -> int:
    """An entity id as a positive int; digit strings (from forms) are accepted."""
    if isinstance(value, str) and int_from_digits(value.strip()) is not None:
        value = int(value.strip())
    if not is_int(value):
        raise ValueError(f"{what} must be an integer id, got {value!r}")
    if value <= 0:
        raise ValueError(f"{what} must be a positive id, got {value}")
    return value


def checked_email(email: object) -> str:
    """A plausible e-mail address, stripped; Magento does the full validation."""
    if not isinstance(email, str):
        raise ValueError(f"e-mail address must be a string, got {type(email).__name__}")
    email = email.strip()
    if not email:
        raise ValueError("e-mail address is empty")
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValueError(f"{email!r} is not a valid e-mail address")
    return email


def checked_mapping(value: object, what: str) -> dict[str, Any]:
    """A shallow copy of a caller-given dict, so our changes never leak back to the caller."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a dict, got {type(value).__name__}")
    return dict(value)


def expect_object(body: object, method: str, path: str, what: str) -> dict[str, Any]:
    """The decoded answer if it is a JSON object, else UnexpectedResponseError."""
    if not isinstance(body, dict):
        raise UnexpectedResponseError(
            f"The store answered {what} with {type(body).__name__} instead of an object.",
            method=method,
            path=path,
        )
    return body


def expect_list_of_objects(body: object, method: str, path: str, what: str) -> list[dict]:
    """The decoded answer if it is a JSON list of objects, else UnexpectedResponseError."""
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise UnexpectedResponseError(
            f"The store answered {what} with something other than a list of objects.",
            method=method,
            path=path,
        )
    return body


class ClientHelper:
    """Base of every resource helper: holds the client."""

    def __init__(self, client: RequestClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.client!r}>"


class Resource(ClientHelper):
    """Base of the helpers of one searchable endpoint (`search_path`)."""

    search_path: str = ""
    # Field name used in filters/sorting, and the key carrying the id in each returned item.
    id_field: str = "entity_id"
    id_key: str = "id"

    def search(
        self,
        criteria: SearchCriteria | None = None,
        *,
        fields: str | None = None,
        keep_texts: bool = False,
    ) -> SearchResult:
        """One page of results for `criteria` (all matches if it sets no page size).

        `fields` trims the answer the way Magento's `?fields=` does, e.g.
        "items[entity_id,updated_at],total_count" (leave out total_count and it is None).
        `keep_texts` keeps each item's JSON text as the store sent it (`item_texts`).
        """
        criteria = criteria if criteria is not None else SearchCriteria()
        if not isinstance(criteria, SearchCriteria):
            raise ValueError(f"criteria must be a SearchCriteria, got {type(criteria).__name__}")
        params = criteria.to_query()
        if fields is not None:
            params.append(("fields", checked_fields(fields)))
        texts = None
        if keep_texts:
            body = self.client.request(
                "GET", self.search_path, params=params, decode=decode_keeping_item_texts
            )
            if isinstance(body, DecodedAnswer):  # a stand-in client may decode by itself
                body, texts = body.body, body.item_texts
        else:
            body = self.client.request("GET", self.search_path, params=params)
        try:
            return SearchResult.from_response(body, texts)
        except ValueError as error:
            raise UnexpectedResponseError(
                f"The store's search answer is not a Magento search result: {error}.",
                method="GET",
                path=self.search_path,
            ) from None

    def iter_all(
        self,
        criteria: SearchCriteria | None = None,
        *,
        after_id: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
        fields: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every match in ascending id order, walking by id (see `magento.search.iter_by_id`).

        With `fields`, keep the id key in the items (e.g. "items[entity_id,updated_at]").
        """
        return iter_by_id(
            self._searcher(fields),
            criteria,
            id_field=self.id_field,
            id_key=self.id_key,
            after_id=after_id,
            page_size=page_size,
        )

    def iter_pages(
        self,
        criteria: SearchCriteria | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        fields: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every match in the criteria's sort order, page by page (see `magento.search`).

        With `fields`, keep the id key in the items and add ",total_count".
        """
        return iter_pages(
            self._searcher(fields),
            criteria,
            id_field=self.id_field,
            id_key=self.id_key,
            page_size=page_size,
        )

    def iter_since(
        self,
        timestamp_field: str,
        criteria: SearchCriteria | None = None,
        *,
        after: KeysetPosition | None = None,
        since: dt.datetime | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[KeysetPage]:
        """Pages of matches oldest first by (`timestamp_field`, id): "created_at" or
        "updated_at" (see `magento.search.iter_keyset`). One request per page, made lazily.
        The pages carry each record's JSON text as the store sent it (`record_texts`)."""
        return iter_keyset(
            functools.partial(self.search, keep_texts=True),
            criteria,
            timestamp_field=timestamp_field,
            id_field=self.id_field,
            id_key=self.id_key,
            after=after,
            since=since,
            page_size=page_size,
        )

    def _searcher(self, fields: str | None) -> Callable[[SearchCriteria], SearchResult]:
        return functools.partial(self.search, fields=fields)

    def _exactly_one(
        self, matches: list[dict[str, Any]], what: str, describe: Callable[[list[dict]], str]
    ) -> dict[str, Any]:
        """The single match; NotFoundError for none, AmbiguousMatchError (saying which) for more."""
        if not matches:
            raise NotFoundError(f"The store has no {what}.", method="GET", path=self.search_path)
        if len(matches) > 1:
            raise AmbiguousMatchError(
                f"The store has {len(matches)} matches for {what}: {describe(matches)}.",
                method="GET",
                path=self.search_path,
            )
        return matches[0]
