"""Google Authenticator (TOTP) secrets as Magento reads them, and the codes made from them.

Magento stores whatever `bin/magento security:tfa:google:set-secret USER SECRET` is given
(magento/security-package TwoFactorAuth/Command/GoogleSecret.php -> Google::setSharedSecret, no
check) and makes codes with OTPHP's `TOTP::create($secret)` (Model/Provider/Engine/Google/
TotpFactory.php): SHA-1, 6 digits, 30 seconds. OTPHP decodes the secret with paragonie's
`Base32::decodeUpper` without strict padding (OTPHP src/OTP.php getDecodedSecret): trailing "="
are dropped, every other character must be A-Z or 2-7, and there is no minimum length. So a
16-character secret such as JBSWY3DPEHPK3PXP (80 bits) works in Magento, while pyotp 2.12
refuses secrets under 112 bits; the key is therefore decoded here, the way Magento decodes it.
"""

from __future__ import annotations

import re

import pyotp

__all__ = ["MAX_SECRET_LENGTH", "TOTP", "InvalidTotpSecret", "normalise_secret", "secret_key"]

# Not Magento's limit (it has none) but the portal's input rule: Magento's own generated secrets
# are 212 characters (base32 of 4 + 128 random bytes, Model/Provider/Engine/Google.php
# generateSecret), so 256 leaves room and refuses pasted text that cannot be a secret.
MAX_SECRET_LENGTH = 256
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_VALUES = {char: value for value, char in enumerate(_ALPHABET)}
# Bytes that paragonie's decoder makes from a last group of 1..7 characters (it keeps a partial
# byte for 1, 3 and 6 characters, filled with zero bits).
_TAIL_BYTES = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 4, 7: 4}
_SEPARATORS = re.compile(r"[\s-]")


class InvalidTotpSecret(ValueError):
    """The two-factor secret is not one Magento can make codes from."""


def normalise_secret(value: str) -> str:
    """Upper-case, without spaces or dashes (authenticator apps show secrets in groups)."""
    return _SEPARATORS.sub("", value).upper()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret, decoded like Magento (OTPHP + paragonie Base32::decodeUpper)."""
    text = secret.rstrip("=")
    if not text:
        raise InvalidTotpSecret("The two-factor (TOTP) secret is empty.")
    if any(char not in _VALUES for char in text):
        raise InvalidTotpSecret(
            "The two-factor (TOTP) secret is not valid: it should be the base32 text (letters "
            "A-Z and digits 2-7) shown when Google Authenticator was set up."
        )
    key = bytearray()
    for start in range(0, len(text), 8):
        group = text[start : start + 8]
        bits = 0
        for char in group:
            bits = (bits << 5) | _VALUES[char]
        size = 5 if len(group) == 8 else _TAIL_BYTES[len(group)]
        spare = size * 8 - len(group) * 5
        bits = bits << spare if spare > 0 else bits >> -spare
        key += bits.to_bytes(size, "big")
    return bytes(key)


class TOTP(pyotp.TOTP):
    """pyotp's TOTP with Magento's reading of the secret (no 112-bit minimum)."""

    def byte_secret(self) -> bytes:
        return secret_key(self.secret)
