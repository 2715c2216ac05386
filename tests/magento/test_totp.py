"""Two-factor secrets read the way Magento reads them (OTPHP + paragonie Base32::decodeUpper)."""

import base64

import pytest

from magento.totp import TOTP, InvalidTotpSecret, normalise_secret, secret_key


def test_rfc_6238_test_vector():
    # RFC 6238 appendix B: the ASCII key "12345678901234567890" at 59 s gives 94287082 (8 digits).
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert TOTP(secret).at(59) == "287082"
    assert TOTP(secret, digits=8).at(59) == "94287082"


def test_an_80_bit_secret_makes_codes():
    # bin/magento security:tfa:google:set-secret accepts it; pyotp 2.12 alone refuses < 112 bits.
    assert secret_key("JBSWY3DPEHPK3PXP") == b"Hello!\xde\xad\xbe\xef"
    code = TOTP("JBSWY3DPEHPK3PXP").at(1_700_000_000)
    assert len(code) == 6 and code.isdigit()
    assert TOTP("JBSWY3DPEHPK3PXP").verify(code, for_time=1_700_000_000)


@pytest.mark.parametrize("size", range(1, 41))
def test_padded_and_unpadded_secrets_decode_like_base32(size):
    raw = bytes(range(7, 7 + size))
    encoded = base64.b32encode(raw).decode()
    assert secret_key(encoded) == raw
    assert secret_key(encoded.rstrip("=")) == raw


@pytest.mark.parametrize(
    ("secret", "key"),
    [
        # Lengths RFC 4648 has no padding for: paragonie keeps a partial byte (zero-filled).
        ("A", b"\x00"),
        ("B", b"\x08"),
        ("AAB", b"\x00\x02"),
        ("AAAAAB", b"\x00\x00\x00\x04"),
        # Other tails: the leftover bits are dropped.
        ("AB", b"\x00"),
        ("ABCD", b"\x00\x44"),
    ],
)
def test_odd_lengths_decode_like_magento(secret, key):
    assert secret_key(secret) == key


@pytest.mark.parametrize(
    "secret", ["", "====", "JBSWY3DPEHPK3PX1", "JBSW=Y3DP", "jbswy3dp", "ÄBCD"]
)
def test_what_magento_cannot_decode_is_refused(secret):
    with pytest.raises(InvalidTotpSecret):
        secret_key(secret)


def test_normalise_removes_groups_and_upper_cases():
    assert normalise_secret(" jbsw y3dp-ehpk\t3pxp\n") == "JBSWY3DPEHPK3PXP"
