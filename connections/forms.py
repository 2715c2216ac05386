"""The connection form: the chosen method's fields only, write-only secrets, verify on save."""

from __future__ import annotations

from django import forms
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from connections import diagnosis as dx
from connections.models import (
    DEFAULT_STORE_CODE,
    DEFAULT_TIMEOUT_SECONDS,
    EDITABLE_FIELDS,
    MAX_TIMEOUT_SECONDS,
    MIN_TIMEOUT_SECONDS,
    OAUTH_FIELDS,
    SECRET_FIELDS,
    Connection,
)
from connections.validation import connection_problems, timeout_problem
from connections.verification import VerificationResult, connection_check

SECRET_HELP = {
    "access_token": "From the integration's details (System > Extensions > Integrations).",
    "consumer_key": "Optional: only if the store does not allow standalone Bearer tokens.",
    "consumer_secret": "Optional, with the other OAuth 1.0a values.",
    "access_token_secret": "Optional, with the other OAuth 1.0a values.",
    "admin_password": "The password of the Magento admin user.",
    "totp_secret": "Optional: the Google Authenticator key, if this admin user has 2FA.",
}

DIAGNOSIS_TEMPLATE = "admin/connections/connection/diagnosis.html"

# The field a shop owner changes to fix a diagnosis: it is marked, and a collapsed section
# holding it (Advanced) opens. TLS is left out on purpose: the fix is the store's certificate.
DIAGNOSIS_FIELDS = {
    dx.PRIVATE_ADDRESS: "store_domain",
    dx.DNS_FAILED: "store_domain",
    dx.CONNECTION_FAILED: "store_domain",
    dx.NOT_MAGENTO: "store_domain",
    dx.REDIRECTED: "store_domain",
    dx.PLAIN_HTTP: "allow_plain_http",
    dx.TIMEOUT: "timeout_seconds",
    dx.STORE_CODE_UNKNOWN: "store_code",
    dx.TOKEN_REJECTED: "access_token",
    dx.OAUTH_REJECTED: "consumer_key",
    dx.ADMIN_SIGNIN_REJECTED: "admin_password",
    dx.ADMIN_LOCKED: "admin_password",
    dx.TWO_FACTOR_REQUIRED: "totp_secret",
    dx.TWO_FACTOR_CODE_REJECTED: "totp_secret",
    dx.TWO_FACTOR_NOT_CONFIGURED: "totp_secret",
    dx.TWO_FACTOR_NOT_USED: "totp_secret",
}


def _secret_field(name: str, *, strip: bool = True) -> forms.CharField:
    return forms.CharField(
        label=Connection.label(name),
        required=False,
        strip=strip,
        # Never sent back to the browser: a saved secret is shown only as "set".
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class ConnectionForm(forms.ModelForm):
    """Add or change a connection; saving calls the store unless 'save anyway' is ticked."""

    access_token = _secret_field("access_token")
    consumer_key = _secret_field("consumer_key")
    consumer_secret = _secret_field("consumer_secret")
    access_token_secret = _secret_field("access_token_secret")
    # A password may begin or end with a space: it is kept exactly as typed.
    admin_password = _secret_field("admin_password", strip=False)
    totp_secret = _secret_field("totp_secret")
    timeout_seconds = forms.IntegerField(
        label=Connection.label("timeout_seconds"),
        initial=DEFAULT_TIMEOUT_SECONDS,
        help_text=f"How long to wait for the store ({MIN_TIMEOUT_SECONDS} to "
        f"{MAX_TIMEOUT_SECONDS} seconds).",
        widget=forms.NumberInput(attrs={"min": MIN_TIMEOUT_SECONDS, "max": MAX_TIMEOUT_SECONDS}),
    )
    forget_oauth = forms.BooleanField(
        label="Remove the saved OAuth 1.0a credentials", required=False
    )
    forget_totp = forms.BooleanField(label="Remove the saved 2FA secret", required=False)
    save_anyway = forms.BooleanField(
        label="Save anyway, without a working connection",
        required=False,
        help_text="The connection is then saved marked Failed, with the problem shown, until "
        "a test succeeds.",
    )

    class Meta:
        model = Connection
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "auth_method": forms.RadioSelect,
            "store_domain": forms.TextInput(
                attrs={"placeholder": "https://shop.example.com", "class": "vTextField"}
            ),
        }
        help_texts = {
            "store_code": "'all' (the default) works with every store view.",
            "allow_plain_http": "Only for stores without https://: credentials travel unencrypted.",
            "verify_tls": "Switch off only for a test store with a self-signed certificate.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.verification: VerificationResult | None = None
        # Set when the store refused the verification: that is then the form's only error.
        self.verification_refused = False
        self.diagnosis_field: str | None = None
        for name in ("name", "store_domain", "store_code", "admin_username", "timeout_seconds"):
            if name in self.fields:
                self.fields[name].required = False  # our own messages say what to type
        for name in SECRET_FIELDS:
            # has_changed compares with the initial value: keep the secret out of it.
            self.initial[name] = ""
            is_set = bool(self.instance.pk and getattr(self.instance, name))
            help_text = SECRET_HELP[name]
            if self.instance.credentials_unreadable:
                help_text = f"The saved value cannot be decrypted: enter it again. {help_text}"
            elif is_set:
                help_text = f"Set. Leave blank to keep it. {help_text}"
                self.fields[name].widget.attrs["placeholder"] = "set (hidden)"
            self.fields[name].help_text = help_text
        if "store_domain" in self.fields:
            self.fields["store_domain"].help_text = format_html(
                'The store\'s address, for example https://shop.example.com (<a href="{}">what '
                "to type</a>).",
                reverse("connections:guide") + "#store-domain",
            )
        for switch in ("forget_oauth", "forget_totp"):
            if switch not in forget_switches(self.instance):
                del self.fields[switch]

    def clean_timeout_seconds(self):
        # The connection rule, asked before the model's own range checks answer in their words.
        value = self.cleaned_data.get("timeout_seconds")
        if value is not None and (problem := timeout_problem(value)):
            raise forms.ValidationError(problem)
        return value

    def clean(self):
        cleaned = super().clean()
        editing = bool(self.instance.pk)
        for name in SECRET_FIELDS:
            if editing and not cleaned.get(name):
                # Blank keeps the saved value: leave it out so the instance is not touched.
                cleaned.pop(name, None)
        if cleaned.get("forget_oauth"):
            for name in OAUTH_FIELDS:
                cleaned[name] = ""
        if cleaned.get("forget_totp"):
            cleaned["totp_secret"] = ""
        if cleaned.get("store_code") in (None, "") and "store_code" not in self.errors:
            cleaned["store_code"] = DEFAULT_STORE_CODE
        if cleaned.get("timeout_seconds") is None and "timeout_seconds" not in self.errors:
            cleaned["timeout_seconds"] = DEFAULT_TIMEOUT_SECONDS
        return cleaned

    def validate_unique(self):
        # Names are checked case-insensitively by connection_problems (with a plainer message).
        pass

    def _post_clean(self):
        super()._post_clean()
        for field, messages in connection_problems(self.instance).items():
            if field in self.errors:
                continue  # the field's own check already said what is wrong
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        if self.errors:
            return
        self.verification = connection_check(connection=self.instance)
        if not self.verification.ok and not self.cleaned_data.get("save_anyway"):
            # Said once: at the field to change, or (no field fixes it) above the form.
            diagnosis = self.verification.diagnosis
            field = DIAGNOSIS_FIELDS.get(diagnosis.code)
            self.diagnosis_field = field if field in self.fields else None
            self.verification_refused = True
            self.add_error(
                self.diagnosis_field,
                render_to_string(DIAGNOSIS_TEMPLATE, {"diagnosis": diagnosis}),
            )

    @property
    def typed_secrets(self) -> bool:
        """True when the submitted form carried a secret (it is not sent back to the browser)."""
        return self.is_bound and any(self.data.get(name) for name in SECRET_FIELDS)

    @property
    def diagnosis(self):
        """The last verification's diagnosis, for the template (None before verifying)."""
        return self.verification.diagnosis if self.verification else None


def forget_switches(connection: Connection | None) -> set[str]:
    """The "remove saved ..." checkboxes that make sense for this connection."""
    switches: set[str] = set()
    if connection is None or not connection.pk:
        return switches
    if any(getattr(connection, name) for name in OAUTH_FIELDS):
        switches.add("forget_oauth")
    if connection.totp_secret:
        switches.add("forget_totp")
    return switches
