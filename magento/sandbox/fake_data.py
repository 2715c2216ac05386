"""Plausible shop data for seeding and the activity simulation (names, streets, products)."""

from __future__ import annotations

import random

FIRST_NAMES = [
    "Jane",
    "John",
    "Veronica",
    "Ahmed",
    "Mei",
    "Lukas",
    "Sofia",
    "Oliver",
    "Amara",
    "Diego",
    "Hannah",
    "Kenji",
    "Priya",
    "Noah",
    "Elena",
    "Mateo",
    "Chloe",
    "Ibrahim",
    "Freya",
    "Tomasz",
    "Aisha",
    "Leo",
    "Nora",
    "Samuel",
    "Yuki",
    "Clara",
    "Omar",
    "Isla",
    "Felix",
    "Zara",
]
LAST_NAMES = [
    "Doe",
    "Costello",
    "Smith",
    "Nguyen",
    "Garcia",
    "Müller",
    "Rossi",
    "Kowalski",
    "Okafor",
    "Tanaka",
    "Patel",
    "Johansson",
    "Silva",
    "Dubois",
    "Novak",
    "Haddad",
    "Murphy",
    "Fischer",
    "Kim",
    "Moreau",
    "Jensen",
    "Ivanova",
    "Costa",
    "Brown",
    "Lopez",
]
CITIES = (
    ("Purchase", "NY", "New York", 43, "10577"),
    ("Mineola", "NY", "New York", 43, "11501"),
    ("Calder", "MI", "Michigan", 33, "49628-7978"),
    ("Austin", "TX", "Texas", 57, "73301"),
    ("Portland", "OR", "Oregon", 49, "97201"),
    ("Denver", "CO", "Colorado", 13, "80202"),
)
STREETS = ("Oak Ave", "1st St.", "Honey Bluff Parkway", "Market St", "Maple Drive", "Elm Court")
PRODUCT_WORDS = [
    "Radiant Tee",
    "Champ Tee",
    "Breathe-Easy Tank",
    "Stellar Solar Jacket",
    "Hero Hoodie",
    "Zing Jump Rope",
    "Sprite Yoga Strap",
    "Fusion Backpack",
    "Push It Messenger Bag",
    "Affirm Water Bottle",
    "Dual Handle Cardio Ball",
    "Overnight Duffle",
    "Compete Track Tote",
    "Quest Lumaflex Band",
    "Aim Analog Watch",
]
SIZES = ("XS", "S", "M", "L", "XL")
COLORS = ("Orange", "Blue", "Black", "Green", "Purple")


def person(rng: random.Random, number: int) -> dict:
    """A customer's identity: names and a unique e-mail address."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    local = f"{first}.{last}".lower().replace("ü", "ue")
    return {"firstname": first, "lastname": last, "email": f"{local}.{number}@example.com"}


def address(rng: random.Random, first: str, last: str) -> dict:
    """A customer address in the request shape of POST /V1/customers."""
    city, code, region, region_id, postcode = rng.choice(CITIES)
    return {
        "region": {"region_code": code, "region": region, "region_id": region_id},
        "region_id": region_id,
        "country_id": "US",
        "street": [f"{rng.randint(1, 999)} {rng.choice(STREETS)}"],
        "telephone": f"512-555-{rng.randint(1000, 9999)}",
        "postcode": postcode,
        "city": city,
        "firstname": first,
        "lastname": last,
        "default_shipping": True,
        "default_billing": True,
    }


def product(rng: random.Random, number: int) -> dict:
    """A simple product in the request shape of POST /V1/products."""
    base = rng.choice(PRODUCT_WORDS)
    size = rng.choice(SIZES)
    color = rng.choice(COLORS)
    sku_stem = "".join(word[0] for word in base.split()).upper()
    return {
        "sku": f"{sku_stem}{number:05d}-{size}-{color}",
        "name": f"{base}-{size}-{color}",
        "price": rng.choice((12, 19.5, 22, 25, 29, 32.5, 45, 54, 62, 99)),
        "weight": rng.choice((0.5, 1, 1.5, 2)),
        "extension_attributes": {"stock_item": {"qty": rng.randint(0, 500), "is_in_stock": True}},
    }
