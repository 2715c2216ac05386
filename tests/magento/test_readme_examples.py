"""The README's examples for the Magento client run, as printed, against the sandbox store.

The examples are taken from README.md (the "The Magento client" section, up to the next
second-level heading) and run with their Store Domain pointed at a sandbox store and the
integration's four values bound to the sandbox's credentials; nothing else is changed.
"""

import re
from pathlib import Path

import pytest

import magento
from magento import MagentoClient, OAuth1Auth

README = Path(__file__).resolve().parents[2] / "README.md"


def client_examples():
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## The Magento client\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_client_section_has_examples():
    examples = client_examples()
    assert len(examples) >= 2
    assert all('MagentoClient("shop.example.com"' in example for example in examples)


@pytest.fixture
def readme_namespace(sandbox_store, monkeypatch):
    credentials = sandbox_store.credentials

    class SandboxClient(MagentoClient):
        # The only change to the examples: "shop.example.com" is the sandbox on 127.0.0.1.
        def __init__(self, store_domain, auth, **options):
            assert store_domain == "shop.example.com"
            super().__init__(sandbox_store.url, auth, allow_private_network=True, **options)

    monkeypatch.setattr(magento, "MagentoClient", SandboxClient)
    four = (
        credentials.consumer_key,
        credentials.consumer_secret,
        credentials.access_token,
        credentials.access_token_secret,
    )
    names = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    namespace = dict(zip(names, four, strict=True))
    namespace.update(zip(("ck", "cs", "at", "ats"), four, strict=True))
    with SandboxClient("shop.example.com", OAuth1Auth(*four)) as client:
        # What the second example expects to find in a shop.
        client.customers.create(
            {"email": "jane@example.com", "firstname": "Jane", "lastname": "Doe"}
        )
        client.products.create(
            {
                "sku": "MS-Champ-S",
                "name": "Champ Tee Small",
                "attribute_set_id": 4,
                "price": 25,
                "type_id": "simple",
            }
        )
        sandbox_store.store.order_create(state="processing")
        processing = [
            order["entity_id"]
            for order in client.orders.iter_all()
            if order["status"] == "processing"
        ]
    assert processing
    namespace["_client"] = lambda: SandboxClient("shop.example.com", OAuth1Auth(*four))
    namespace["_processing"] = processing
    return namespace


def test_first_example_prints_what_its_comment_says(readme_namespace, capsys):
    example = client_examples()[0]
    exec(compile(example, "README.md (client example)", "exec"), readme_namespace)
    printed = capsys.readouterr().out.strip()
    promised = re.search(r"print\(error\)\s+#\s*(.+)", example).group(1).strip()
    assert printed == promised


def test_resource_example_changes_the_shop_as_its_comments_say(readme_namespace):
    example = client_examples()[1]
    exec(compile(example, "README.md (resources example)", "exec"), readme_namespace)
    with readme_namespace["_client"]() as client:
        jane = client.customers.get_by_email("jane@example.com")
        assert (jane["firstname"], jane["lastname"]) == ("Jane", "Smith")
        assert client.products.get("MS-Champ-S")["price"] == 19.9
        last = client.shipments.get(readme_namespace["shipment_id"])
        assert last["order_id"] == readme_namespace["_processing"][-1]
        assert [track["track_number"] for track in last["tracks"]] == ["1Z999"]
        for order_id in readme_namespace["_processing"]:
            assert client.orders.get(order_id)["status"] == "complete"
