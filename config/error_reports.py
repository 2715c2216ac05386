"""Error reports never show a credential, also with DJANGO_DEBUG=true."""

from django.views.debug import SafeExceptionReporterFilter


class CredentialsAlwaysHiddenFilter(SafeExceptionReporterFilter):
    """Django's filter (sensitive_post_parameters, sensitive_variables), always on.

    Django switches its filter off while DEBUG is on, so the debug 500 page would list the
    store credentials a form posted. Hiding them costs a developer nothing they need.
    """

    def is_active(self, request):
        return True
