"""Search answers decoded once, keeping each item's JSON text as the store sent it
(magento.jsontext), and the keyset walk handing those texts on with its records."""

from __future__ import annotations

import json

import pytest

from magento import IntegrationTokenAuth, MagentoClient, OAuth1Auth
from magento.errors import UnexpectedResponseError
from magento.jsontext import decode_keeping_item_texts

STORE = "https://shop.example.com"
ORDERS_URL = f"{STORE}/rest/all/V1/orders"

# PHP's json_encode escapes slashes and non-ASCII; a store may also send raw UTF-8 and spacing.
ITEM_A = (
    '{"entity_id":1,"created_at":"2024-05-01 10:00:00","url":"https:\\/\\/shop.example.com\\/a",'
    '"name":"Zo\\u00eb \\ud83d\\ude00","quote":"say \\"hi\\"\\n","total":10.50,"lines":[]}'
)
ITEM_B = (
    '{ "entity_id" : 2 , "created_at" : "2024-05-01 10:00:00" , "name" : "Zoë 😀 — Ünïcode" ,\n'
    '  "nested" : { "a" : [ 1 , 2.0 , -3e2 , null , true , false ] } , "entity_id" : 2 }'
)


def answer(*items: str, total: int | None = None, spacing: str = "") -> str:
    total = len(items) if total is None else total
    joined = f",{spacing}".join(items)
    return (
        f'{spacing}{{{spacing}"items"{spacing}:{spacing}[{spacing}{joined}{spacing}]{spacing},'
        f'{spacing}"search_criteria":{{"page_size":100}},"total_count":{total}{spacing}}}{spacing}'
    )


@pytest.mark.parametrize("spacing", ["", " ", "\n\t ", "\r\n"])
def test_the_answer_is_what_json_loads_gives_and_each_text_is_its_item_as_sent(spacing):
    text = answer(ITEM_A, ITEM_B, spacing=spacing)
    decoded = decode_keeping_item_texts(text.encode("utf-8"))
    assert decoded.body == json.loads(text)
    assert decoded.item_texts == [ITEM_A, ITEM_B]
    for item, item_text in zip(decoded.body["items"], decoded.item_texts, strict=True):
        assert json.loads(item_text) == item
        assert item_text in text


def test_escaped_slashes_and_unicode_escapes_stay_as_sent_and_decode_to_the_same_item():
    decoded = decode_keeping_item_texts(answer(ITEM_A).encode())
    (item,) = decoded.body["items"]
    assert item["url"] == "https://shop.example.com/a"
    assert item["name"] == "Zoë 😀"
    assert "\\/" in decoded.item_texts[0] and "\\u00eb" in decoded.item_texts[0]


@pytest.mark.parametrize(
    "text",
    [
        '{"items":[]}',
        '{"items":null,"total_count":0}',
        "{}",
        " { } ",
        '{"total_count":3}',
        '{"items":{"0":{"id":1}}}',
        '{"items":[{"id":1}],"items":7}',  # the last "items" counts, as in json.loads
        "[1, 2]",
        '"text"',
        "null",
        '{"items":[1,"two",[3]]}',
    ],
)
def test_any_json_answer_decodes_as_json_loads_decodes_it(text):
    decoded = decode_keeping_item_texts(text.encode())
    assert decoded.body == json.loads(text)
    items = decoded.body.get("items") if isinstance(decoded.body, dict) else None
    if isinstance(items, list):
        assert [json.loads(t) for t in decoded.item_texts] == items
    else:
        assert decoded.item_texts is None


def test_a_repeated_items_key_keeps_the_texts_of_the_one_json_loads_keeps():
    text = '{"items":[{"id":1}],"total_count":1,"items":[{"id":2}, {"id":3}]}'
    decoded = decode_keeping_item_texts(text)
    assert decoded.body["items"] == [{"id": 2}, {"id": 3}]
    assert decoded.item_texts == ['{"id":2}', '{"id":3}']


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-32"])
def test_bytes_are_read_in_the_encoding_json_loads_finds(encoding):
    text = answer(ITEM_B)
    decoded = decode_keeping_item_texts(text.encode(encoding))
    assert decoded.body == json.loads(text.encode(encoding))
    assert decoded.item_texts == [ITEM_B]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"items":[{"id":1},]}',
        '{"items":[{"id":1}] "total_count":1}',
        '{"items":[{"id":1}]} trailing',
        '{"items" [1]}',
        "{'items': []}",
        '{"items":[{"id":1}',
        "<html>Service Unavailable</html>",
    ],
)
def test_an_answer_that_is_not_json_fails_as_json_loads_fails(text):
    with pytest.raises(ValueError) as expected:
        json.loads(text)
    with pytest.raises(ValueError) as raised:
        decode_keeping_item_texts(text.encode())
    assert str(raised.value) == str(expected.value)


def test_bytes_that_are_not_utf8_give_no_texts_rather_than_texts_that_cannot_be_stored():
    content = b'{"items":[{"id":1,"name":"\xed\xa0\x80"}]}'  # an encoded lone surrogate
    decoded = decode_keeping_item_texts(content)
    assert decoded.body == json.loads(content)
    assert decoded.item_texts is None


@pytest.fixture
def client():
    with MagentoClient(STORE, IntegrationTokenAuth("t" * 32), max_retries=0) as m:
        yield m


def test_the_walk_hands_on_each_records_text_in_the_order_of_its_records(store_mock, client):
    # The store answers out of order, repeats a record and sends one from before the position:
    # the texts follow the records the walk keeps.
    late = ITEM_A.replace('"entity_id":1,', '"entity_id":5,').replace("10:00:00", "10:00:02")
    early = ITEM_B.replace(" : 2 ", " : 3 ")
    store_mock.get(ORDERS_URL, body=answer(late, ITEM_A, early, ITEM_A, total=4))
    (page,) = client.orders.iter_since("created_at", page_size=100)
    assert [item["entity_id"] for _, item in page.records] == [1, 3, 5]
    assert page.record_texts == [ITEM_A, early, late]
    for (_, item), text in zip(page.records, page.record_texts, strict=True):
        assert json.loads(text) == item


def test_a_search_answer_that_is_no_json_is_still_the_stores_fault(store_mock, client):
    store_mock.get(ORDERS_URL, body="<html>Service Unavailable</html>", status=200)
    with pytest.raises(UnexpectedResponseError):
        next(client.orders.iter_since("created_at", page_size=100))


def test_a_stand_in_client_that_decodes_by_itself_gives_pages_without_texts():
    class StandIn:
        def request(self, method, path, **kwargs):
            return json.loads(answer(ITEM_A))

    from magento.resources.orders import Orders

    (page,) = Orders(StandIn()).iter_since("created_at", page_size=100)
    assert page.record_texts is None
    assert [item["entity_id"] for _, item in page.records] == [1]


def test_a_walk_over_http_keeps_the_sandbox_stores_texts(sandbox_store):
    c = sandbox_store.credentials
    auth = OAuth1Auth(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
    with MagentoClient(sandbox_store.url, auth, allow_private_network=True) as sandbox_client:
        pages = list(sandbox_client.orders.iter_since("created_at", page_size=7))
    records = [item for page in pages for _, item in page.records]
    texts = [text for page in pages for text in page.record_texts]
    assert records and len(texts) == len(records)
    assert [json.loads(text) for text in texts] == records
