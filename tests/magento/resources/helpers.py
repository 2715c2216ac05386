"""Small helpers shared by the resource-helper tests."""

import json
from urllib.parse import parse_qsl, urlsplit

ALL = "https://shop.example.com/rest/all/V1"
F = "searchCriteria[filter_groups]"


def query_of(call):
    """The query string of a recorded call as (name, value) pairs, blanks kept."""
    return parse_qsl(urlsplit(call.request.url).query, keep_blank_values=True)


def body_of(call):
    """The JSON body of a recorded call."""
    return json.loads(call.request.body)
