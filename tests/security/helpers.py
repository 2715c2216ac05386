"""The access walk: every URL of the portal, filled with real rows, and what each role must get.

Pages come from the URL configuration itself (get_resolver(), through every include, which
holds the admin site's get_urls() and each registered ModelAdmin's), so a page added later is
walked without touching these tests. What a user must get is derived:
- anonymous and non-staff users: the login page, except for the few PUBLIC pages;
- a ModelAdmin's own pages (list, add, change, delete, history): from has_*_permission;
- every other page (Django's site pages, custom admin views, the portal's own pages): from
  DECLARED, one line each. A page missing there, or a path parameter nobody fills, fails the
  walk with a message saying what to add.
"""

from __future__ import annotations

import itertools
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import quote, unquote
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import models
from django.test import Client, RequestFactory
from django.urls import (
    Resolver404,
    URLResolver,
    get_resolver,
    include,
    path,
    resolve,
    reverse,
)
from django.urls.resolvers import RoutePattern
from django.views.generic import RedirectView

from connections.models import Connection
from tests.security.objects import PortalObjects

# -- the pages ------------------------------------------------------------------------------------

# Kinds of a ModelAdmin's own pages (the suffix of their URL names), and its "<pk>/" redirect.
MODEL_PAGES = ("changelist", "add", "change", "delete", "history")
OBJECT_REDIRECT = "object"
OTHER = "other"
# Path parameters that name the object of the ModelAdmin a page belongs to.
OBJECT_PARAMETERS = ("object_id", "id", "pk")

# Path parameters of pages outside one model's admin: parameter name -> values to walk.
PARAMETER_FILLERS: dict[str, Callable[[PortalObjects], list[str]]] = {
    "app_label": lambda objects: sorted({m._meta.app_label for m in admin.site._registry}),
    "url": lambda objects: ["no-such-page/"],
}
# Pages whose parameters only make sense together: URL name -> list of parameter dicts.
PAGE_FILLERS: dict[str, Callable[[PortalObjects], list[dict[str, str]]]] = {
    "admin:view_on_site": lambda objects: [
        {
            "content_type_id": str(ContentType.objects.get_for_model(Connection).pk),
            "object_id": str(objects.row(Connection).pk),
        }
    ],
}


@dataclass(frozen=True)
class Route:
    """One URL pattern of the configuration, before its parameters are filled."""

    parts: tuple  # the patterns from the root to this one
    key: str  # "namespace:name", or "/<route>" for a pattern without a name
    callback: Callable
    model_admin: admin.ModelAdmin | None
    kind: str
    parameters: tuple[str, ...]

    @property
    def route(self) -> str:
        return "/" + "".join(str(part).lstrip("^") for part in self.parts)


@dataclass(frozen=True)
class Page:
    """A walkable URL: a route with its parameters filled."""

    route: Route
    url: str
    kwargs: dict = field(default_factory=dict)
    obj: models.Model | None = None

    @property
    def key(self) -> str:
        return self.route.key

    @property
    def kind(self) -> str:
        return self.route.kind

    @property
    def model_admin(self) -> admin.ModelAdmin | None:
        return self.route.model_admin

    def __str__(self) -> str:
        return f"{self.url} ({self.key})"


def routes(urlconf=None) -> list[Route]:
    """Every URL pattern, found recursively through includes (the admin site's among them)."""
    model_admins = {
        f"{model._meta.app_label}/{model._meta.model_name}/": model_admin
        for model, model_admin in admin.site._registry.items()
    }
    found: list[Route] = []

    def visit(resolver, parts, namespaces, model_admin):
        for entry in resolver.url_patterns:
            here = (*parts, entry.pattern)
            if isinstance(entry, URLResolver):
                inner = [*namespaces, entry.namespace] if entry.namespace else namespaces
                owner = model_admin
                if inner[-1:] == [admin.site.name] and str(entry.pattern) in model_admins:
                    owner = model_admins[str(entry.pattern)]
                visit(entry, here, inner, owner)
                continue
            route_text = "/" + "".join(str(part).lstrip("^") for part in here)
            key = ":".join([*namespaces, entry.name]) if entry.name else route_text
            parameters = tuple(
                name
                for part in here
                for name, _ in sorted(part.regex.groupindex.items(), key=lambda item: item[1])
            )
            found.append(
                Route(
                    parts=here,
                    key=key,
                    callback=entry.callback,
                    model_admin=model_admin,
                    kind=_kind(entry, model_admin),
                    parameters=parameters,
                )
            )

    visit(get_resolver(urlconf), (), [], None)
    return found


def _kind(entry, model_admin) -> str:
    if model_admin is None:
        return OTHER
    opts = model_admin.model._meta
    prefix = f"{opts.app_label}_{opts.model_name}_"
    if entry.name and entry.name.startswith(prefix) and entry.name[len(prefix) :] in MODEL_PAGES:
        return entry.name[len(prefix) :]
    if entry.name is None and getattr(entry.callback, "view_class", None) is RedirectView:
        return OBJECT_REDIRECT
    return OTHER


class Unfillable(Exception):
    pass


def pages(objects: PortalObjects, urlconf=None) -> list[Page]:
    """Every route with its parameters filled; fails the test if one cannot be filled."""
    import pytest

    walked, problems = [], []
    for route in routes(urlconf):
        try:
            walked += _fill(route, objects, urlconf)
        except Unfillable as error:
            problems.append(str(error))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
    return walked


def _fill(route: Route, objects: PortalObjects, urlconf) -> list[Page]:
    obj = None
    if route.key in PAGE_FILLERS:
        choices = PAGE_FILLERS[route.key](objects)
    else:
        values = []
        for name in route.parameters:
            if route.model_admin is not None and name in OBJECT_PARAMETERS:
                obj = objects.row(route.model_admin.model)
                values.append([quote(obj.pk)])
            elif name in PARAMETER_FILLERS:
                values.append(PARAMETER_FILLERS[name](objects))
            else:
                raise Unfillable(
                    f"The access walk cannot fill the path parameter '{name}' of "
                    f"{route.route} ({route.key}). Add a filler for it to PARAMETER_FILLERS "
                    "(by parameter name) or PAGE_FILLERS (by URL name) in "
                    "tests/security/helpers.py, and say who may open the page in DECLARED. "
                    "(Pages of a model's admin take their object from tests/security/objects.py.)"
                )
        choices = [
            dict(zip(route.parameters, combo, strict=True)) for combo in itertools.product(*values)
        ]
    filled = []
    for kwargs in choices:
        url = "/" + "".join(_fill_part(part, kwargs) for part in route.parts)
        try:
            match = resolve(url, urlconf)
        except Resolver404:
            match = None
        if match is None or match.func is not route.callback:
            raise Unfillable(
                f"The access walk filled {route.route} ({route.key}) as {url}, but that URL "
                "leads to another view: give it a filler in PAGE_FILLERS that resolves."
            )
        filled.append(Page(route=route, url=url, kwargs=match.kwargs, obj=obj))
    return filled


def _fill_part(part, kwargs) -> str:
    text = str(part)
    if isinstance(part, RoutePattern):  # a path() route: <converter:name>
        return re.sub(
            r"<(?:[^>:]+:)?([^>]+)>",
            lambda m: str(part.converters[m[1]].to_url(kwargs[m[1]])),
            text,
        )
    # A re_path() regex: replace each named group (balanced parentheses) by its value.
    out, i = [], 0
    while i < len(text):
        start = text.find("(?P<", i)
        if start < 0:
            out.append(text[i:])
            break
        out.append(text[i:start])
        name = text[start + 4 : text.index(">", start)]
        depth, j = 0, start
        while True:
            depth += {"(": 1, ")": -1}.get(text[j], 0) if text[j - 1 : j] != "\\" else 0
            j += 1
            if depth == 0:
                break
        out.append(str(kwargs[name]))
        i = j
    return "".join(out).lstrip("^").rstrip("$")


def extra_urls(monkeypatch, settings, *patterns) -> None:
    """Make the root URL configuration the portal's plus `patterns` (tests of the walk)."""
    module = types.ModuleType("tests.security._extra_urls")
    module.urlpatterns = [*patterns, path("", include("config.urls"))]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    settings.ROOT_URLCONF = module.__name__


class PageIndex:
    """Finds the walked route of any path of the portal (for links and buttons on a page)."""

    def __init__(self, walked: list[Page]):
        self._routes = {id(page.route.callback): page.route for page in walked}

    def page_for(self, path: str) -> Page | None:
        try:
            match = resolve(path)
        except Resolver404:
            return None
        route = self._routes.get(id(match.func))
        if route is None:
            return None
        obj = None
        if route.model_admin is not None:
            for name in OBJECT_PARAMETERS:
                if name in match.kwargs:
                    manager = route.model_admin.model._default_manager
                    obj = manager.filter(pk=unquote(str(match.kwargs[name]))).first()
        return Page(route=route, url=path, kwargs=match.kwargs, obj=obj)


# -- what each user must get --------------------------------------------------------------------

DENIED = frozenset({403, 404, 405})


@dataclass(frozen=True)
class Expect:
    statuses: frozenset[int]
    location: str | None = None  # where a redirect must lead (a path)
    to_login: bool = False  # a redirect to the login page

    @property
    def allowed(self) -> bool:
        """Whether this is something the user may use (a page to see, a button to press)."""
        return not self.to_login and not (self.statuses & DENIED)


Rule = Callable[[Page, object, str], Expect]


def answer(get: int, post: int, *, to: str | None = None) -> Rule:
    """The same answer for every staff user; `to` names where a redirect leads."""

    def rule(page, user, method):
        status = get if method == "GET" else post
        return Expect(frozenset({status}), location=reverse(to) if to and status == 302 else None)

    return rule


def needs(*perms: str, get: int, post: int) -> Rule:
    """Any of `perms` lets the user in (then `get`/`post`); otherwise 403. 405 means the
    method is refused to everyone, before any permission is looked at."""

    def rule(page, user, method):
        status = get if method == "GET" else post
        if status != 405 and not any(user.has_perm(perm) for perm in perms):
            status = 403
        return Expect(frozenset({status}))

    return rule


def app_index(page, user, method) -> Expect:
    """An app's index lists what the user may see there; with nothing to list it is a 404."""
    shown = admin.site.get_app_list(admin_request(user, method), page.kwargs["app_label"])
    return Expect(frozenset({200 if shown else 404}))


# Open to anonymous and non-staff users; every other page sends them to the login page.
PUBLIC: dict[str, Rule] = {
    "admin:login": answer(200, 200),
    "admin:logout": answer(302, 302, to="admin:index"),
    "/": answer(302, 302, to="admin:index"),
    "healthz": answer(200, 200),
    # The browser's icon request: a redirect to the static file, for everyone.
    "favicon": answer(302, 302),
}

# What staff users get on every page that is not a ModelAdmin's own (those follow its
# has_*_permission): Django's site pages, custom admin views and the portal's own pages.
DECLARED: dict[str, Rule] = {
    # The admin site.
    "admin:index": answer(200, 200),
    "admin:login": answer(302, 200, to="admin:index"),
    "admin:logout": answer(405, 200),
    "admin:password_change": answer(200, 200),
    "admin:password_change_done": answer(200, 405),
    "admin:autocomplete": answer(403, 405),  # only with the parameters of a search field
    "admin:jsi18n": answer(200, 405),
    "admin:view_on_site": answer(404, 404),  # no model has a page outside the admin
    "admin:app_list": app_index,
    "/admin/(?P<url>.*)$": answer(404, 404),
    "admin:auth_user_password_change": needs("auth.change_user", get=200, post=200),
    # The portal's own admin views.
    "admin:connections_connection_test": needs(
        "connections.change_connection", "connections.verify_connection", get=405, post=302
    ),
    "admin:automations_actionrun_run_action": needs(
        "automations.execute_action", get=200, post=200
    ),
    "automations_dashboard": needs("automations.view_actionrun", get=200, post=405),
    "admin:automations_actionrun_export": needs("automations.view_actionrun", get=200, post=405),
    "admin:automations_triggerevent_export": needs(
        "automations.view_triggerevent", get=200, post=405
    ),
    "admin:automations_actionrun_retry": needs("automations.execute_action", get=405, post=302),
    # JSON for the automation form's picker; without ?trigger= there is no such trigger.
    "admin:automations_automation_sample_fields": needs(
        "automations.add_automation", "automations.change_automation", get=404, post=405
    ),
    "admin:automations_automation_test": needs("automations.test_automation", get=405, post=200),
    "admin:automations_triggerevent_replay": needs("automations.execute_action", get=405, post=302),
    # Each staff user's own alert e-mails.
    "automations_alerts": answer(200, 302),
    # Pages outside the admin.
    "/": answer(302, 302, to="admin:index"),
    "healthz": answer(200, 200),
    "favicon": answer(302, 302),
    "connections:guide": answer(200, 200),
    "connections:guide_integration_token": answer(200, 200),
    "connections:guide_session": answer(200, 200),
}

# Admin actions that only read (an export, say): Auditors may be offered them. Actions declared
# with permissions=["view"] count as read-only without being listed here.
READ_ONLY_ACTIONS: set[str] = set()


class Undeclared(Exception):
    pass


def admin_request(user, method: str = "GET"):
    request = RequestFactory().generic(method, "/")
    request.user = user
    return request


def expect(page: Page, user, method: str) -> Expect:
    """What `user` (None: anonymous) must get for `method` on `page`."""
    if user is None or not (user.is_active and user.is_staff):
        rule = PUBLIC.get(page.key)
        return rule(page, user, method) if rule else Expect(frozenset({302}), to_login=True)
    if page.kind in MODEL_PAGES or page.kind == OBJECT_REDIRECT:
        return _model_page(page, user, method)
    rule = DECLARED.get(page.key)
    if rule is None:
        raise Undeclared(
            f"{page}: the access walk does not know who may use this page. Add one line for "
            f'"{page.key}" to DECLARED in tests/security/helpers.py, for example '
            'needs("app.some_permission", get=200, post=302).'
        )
    return rule(page, user, method)


def _model_page(page: Page, user, method: str) -> Expect:
    model_admin, obj = page.model_admin, page.obj
    if page.kind == OBJECT_REDIRECT:
        opts = model_admin.model._meta
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
        return Expect(frozenset({302}), location=change)
    request = admin_request(user, method)
    if page.kind == "changelist":
        permitted = model_admin.has_view_or_change_permission(request)
    elif page.kind == "history":
        permitted = model_admin.has_view_or_change_permission(request, obj)
    elif page.kind == "add":
        permitted = model_admin.has_add_permission(request)
    elif page.kind == "change" and method == "GET":
        permitted = model_admin.has_view_or_change_permission(request, obj)
    elif page.kind == "change":
        permitted = model_admin.has_change_permission(request, obj)
    else:
        permitted = model_admin.has_delete_permission(request, obj)
    if not permitted:
        return Expect(frozenset({403}))
    if method == "POST" and page.kind in ("add", "change"):
        # The walk posts no values: the form comes back with errors, or a form without
        # required fields saves and redirects.
        return Expect(frozenset({200, 302}))
    return Expect(frozenset({200}))


# -- the walk -----------------------------------------------------------------------------------

# The CSRF secret the walk's browser holds (Django accepts the unmasked secret as the token).
CSRF_SECRET = "a" * 32

# What a user without the right posts: the delete confirmation, a save, a changed name.
ATTEMPT = {"post": "yes", "_save": "Save", "name": "Changed by the access walk"}


# Columns that logging in and out write: the walk logs in again after the logout page.
LOGIN_COLUMNS = {"auth.User": {"last_login"}, "axes.AccessLog": {"logout_time"}}
# A user's own preferences, which every staff user may set (their alert e-mails): not portal data.
PERSONAL_TABLES = {"automations.AlertSubscription"}


def database_state() -> dict[str, list[dict]]:
    """Every row of every table but sessions, without the columns logging in and out write."""
    state = {}
    for model in apps.get_models():
        if model._meta.proxy or model is Session or model._meta.label in PERSONAL_TABLES:
            continue
        rows = list(model._base_manager.order_by("pk").values())
        ignored = LOGIN_COLUMNS.get(model._meta.label, set())
        state[model._meta.label] = [
            {k: v for k, v in row.items() if k not in ignored} for row in rows
        ]
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))


class Walker:
    """Walks pages as one user and collects every departure from what the user must get."""

    def __init__(
        self,
        user,
        walked: list[Page],
        *,
        read_only: bool,
        outbound: list[str],
        enforce_csrf: bool = False,
    ):
        self.user = user
        self.walked = walked
        self.index = PageIndex(walked)
        self.read_only = read_only
        self.outbound = outbound
        self.problems: list[str] = []
        self.client = Client(enforce_csrf_checks=enforce_csrf)
        self._log_in()

    def _log_in(self) -> None:
        if self.user is not None:
            self.client.force_login(self.user)
        # The browser's CSRF cookie; a form that has the token posts it back.
        self.client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
        # Logging in writes an access log row: the baseline is taken after it.
        self.state = database_state() if self.read_only else None

    def request(
        self, page: Page, method: str, data: dict | None = None, *, label: str = "", **headers
    ):
        call = self.client.get if method == "GET" else self.client.post
        response = call(page.url, data or {}, **headers)
        what = f"{method} {page}{label}"
        if self.read_only:
            after = database_state()
            if after != self.state:
                self.problems.append(
                    f"{what} changed {', '.join(changed_tables(self.state, after))}"
                )
                self.state = after
        if self.outbound and self.read_only:
            self.problems.append(f"{what} sent {self.outbound} to a store")
        self.outbound.clear()
        if self.user is not None and "_auth_user_id" not in self.client.session:
            self._log_in()  # it was the logout page
        return response

    def check(self, page: Page, method: str, response, expected: Expect) -> None:
        status = response.status_code
        what = f"{method} {page}"
        if status not in expected.statuses:
            self.problems.append(f"{what}: got {status}, expected {sorted(expected.statuses)}")
            return
        location = urlsplit(response.get("Location", ""))
        login = reverse("admin:login")
        if expected.to_login and not (location.path == login and "next=" in location.query):
            self.problems.append(f"{what}: redirects to {location.geturl()!r}, not to the login")
        if expected.location and location.path != expected.location:
            self.problems.append(
                f"{what}: redirects to {location.path!r}, expected {expected.location!r}"
            )

    def walk(self) -> list[str]:
        for page in self.walked:
            for method in ("GET", "POST"):
                try:
                    expected = expect(page, self.user, method)
                except Undeclared as error:
                    self.problems.append(str(error))
                    break
                response = self.request(page, method, {} if expected.allowed else ATTEMPT)
                self.check(page, method, response, expected)
                if (
                    method == "GET"
                    and response.status_code == 200
                    and self.user is not None
                    and self.user.is_staff
                    and response.get("Content-Type", "").startswith("text/html")
                ):
                    self.problems += control_problems(
                        page, response.content.decode(), self.user, self.index
                    )
        return self.problems

    def try_every_action(self) -> list[str]:
        """Post every action of every list (delete confirmed) on the page's row."""
        for page in self.walked:
            if page.kind != "changelist":
                continue
            model_admin = page.model_admin
            row = model_admin.model._default_manager.order_by("pk").first()
            for _func, name, _description in model_admin._get_base_actions():
                data = {"action": name, ACTION_CHECKBOX_NAME: [str(row.pk)], "index": "0"}
                response = self.request(page, "POST", {**data, "post": "yes"}, label=f" {name}")
                if response.status_code >= 500:
                    self.problems.append(f"POST {page} action {name}: {response.status_code}")
        return self.problems

    def try_posts_without_csrf_token(self) -> list[str]:
        """POST every page without a CSRF token (403, nothing changes), then, where the user
        may post, with the token (the answer the access walk expects)."""
        for page in self.walked:
            before = database_state()
            response = self.request(page, "POST", ATTEMPT, label=" without a CSRF token")
            if response.status_code != 403 or b"CSRF verification failed" not in response.content:
                self.problems.append(
                    f"POST {page} without a CSRF token: got {response.status_code}, not the "
                    "CSRF failure page"
                )
            after = database_state()
            if not self.read_only and after != before:
                self.problems.append(
                    f"POST {page} without a CSRF token changed "
                    f"{', '.join(changed_tables(before, after))}"
                )
            expected = expect(page, self.user, "POST")
            if expected.allowed:
                # In the header, so the body stays as empty as the access walk's.
                response = self.request(page, "POST", HTTP_X_CSRFTOKEN=CSRF_SECRET)
                self.check(page, "POST", response, expected)
        return self.problems


# -- controls on a rendered page ----------------------------------------------------------------


class _Controls(HTMLParser):
    """Links, forms that post (with a button to press), and the options of the action menu."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.posts: list[str] = []
        self.actions: list[str] = []
        self._forms: list[dict] = []
        self._in_action_menu = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            method = (attrs.get("method") or "get").lower()
            self._forms.append({"post": method == "post", "action": attrs.get("action") or ""})
        elif (tag == "button" and (attrs.get("type") or "submit") == "submit") or (
            tag == "input" and attrs.get("type") in ("submit", "image")
        ):
            if self._forms:
                self._forms[-1]["submit"] = True
        elif tag == "select" and attrs.get("name") == "action":
            self._in_action_menu = True
        elif tag == "option" and self._in_action_menu and attrs.get("value"):
            self.actions.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form" and self._forms:
            form = self._forms.pop()
            if form["post"] and form.get("submit"):
                self.posts.append(form["action"])
        elif tag == "select":
            self._in_action_menu = False


# Pages a link to is a control (to add, delete, test or run something); a link to a page the
# user may not see is only a dead end (Django links a read-only foreign key whatever the
# permissions).
CONTROLS = ("add", "delete", OTHER)


def control_problems(page: Page, html: str, user, index: PageIndex) -> list[str]:
    """Links and buttons on `page` that lead to something `user` may not do, and actions
    offered to a read-only user that change or run something."""
    parser = _Controls()
    parser.feed(html)
    problems = []
    for method, targets in (("GET", parser.links), ("POST", parser.posts)):
        for target in targets:
            parts = urlsplit(urljoin(page.url, target))
            if parts.netloc or parts.path.startswith(settings.STATIC_URL) or not parts.path:
                continue
            target_page = index.page_for(parts.path)
            if target_page is None or (method == "GET" and target_page.kind not in CONTROLS):
                continue
            if not expect(target_page, user, method).allowed:
                control = "a link" if method == "GET" else "a button"
                problems.append(
                    f"{page} shows {user} {control} to {method} {target} they cannot use"
                )
    if page.kind == "changelist" and parser.actions and not can_change_anything(user):
        model_admin = page.model_admin
        offered = model_admin.get_actions(admin_request(user))
        for name in parser.actions:
            if name not in offered or not is_read_only_action(offered[name][0], name):
                problems.append(f"{page} offers {user} the action {name!r}")
    return problems


def is_read_only_action(func, name: str) -> bool:
    permissions = set(getattr(func, "allowed_permissions", ()))
    return name in READ_ONLY_ACTIONS or (bool(permissions) and permissions <= {"view"})


def unsafe_actions(model_admin: admin.ModelAdmin, user) -> list[str]:
    """Actions `model_admin` offers `user` that are not read-only."""
    offered = model_admin.get_actions(admin_request(user))
    return sorted(
        name for name, (func, _, _) in offered.items() if not is_read_only_action(func, name)
    )


def can_change_anything(user) -> bool:
    """Editors and superusers; Auditors and staff without a role only look."""
    return user.is_superuser or any(
        perm.split(".", 1)[1].startswith(("add_", "change_", "delete_"))
        for perm in user.get_all_permissions()
    )
