"""Template tags of the history lists (see automations.history_admin)."""

from django import template

from automations.history_admin import date_hierarchy_choices

register = template.Library()


@register.inclusion_tag("admin/date_hierarchy.html")
def history_date_hierarchy(cl):
    """The date hierarchy without aggregating over the whole list."""
    return date_hierarchy_choices(cl)
