"""{service}/{env}/{target} filled into PromQL as data, never as query text."""

from __future__ import annotations

import pytest

from cfgctl.analyze.placeholders import fill_promql, unknown_placeholders
from cfgctl.errors import InputError

HOSTILE = 'a"} or vector(1) #\\'


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ('x{s="{service}"}', {"service": "payments"}, 'x{s="payments"}'),
        ('x{s="{service}"}', {"service": HOSTILE}, 'x{s="a\\"} or vector(1) #\\\\"}'),
        ("x{s='{service}'}", {"service": "it's"}, "x{s='it\\'s'}"),
        ("x{s='{service}'}", {"service": 'a"b'}, "x{s='a\"b'}"),  # " needs no escape in '...'
        ("x{s={service}}", {"service": HOSTILE}, 'x{s="a\\"} or vector(1) #\\\\"}'),
        ('x{s=~"{service}"}', {"service": "a|.*"}, 'x{s=~"a\\\\|\\\\.\\\\*"}'),
        ("x{s=~{service}}", {"service": "a.b"}, 'x{s=~"a\\\\.b"}'),
        ('x{s!~ "{service}-.*"}', {"service": "a+"}, 'x{s!~ "a\\\\+-.*"}'),
        ("x{s=`{service}`}", {"service": 'a"\\'}, 'x{s=`a"\\`}'),
        (
            'x{s="{service}", e="{env}"}',
            {"service": "p", "env": "line\nbreak"},
            'x{s="p", e="line\\x0abreak"}',
        ),
        ('x{s="\\"{service}"}', {"service": "p"}, 'x{s="\\"p"}'),  # an escaped quote stays inside
        ("x # {service} isn't", {}, "x # {service} isn't"),  # a comment is left alone
        ('x{s="{other}"}', {}, 'x{s="{other}"}'),
    ],
)
def test_fill_promql(template: str, values: dict[str, str], expected: str) -> None:
    assert fill_promql(template, values) == expected


def test_a_backtick_in_a_raw_string_is_refused() -> None:
    with pytest.raises(InputError, match="backtick"):
        fill_promql("x{s=`{service}`}", {"service": "a`b"})


def test_a_placeholder_without_a_value() -> None:
    with pytest.raises(InputError, match=r"needs \{target\}"):
        fill_promql('x{t="{target}"}', {"service": "p"})


def test_unknown_placeholders() -> None:
    assert unknown_placeholders('x{s={service}, e="{enviroment}"}{job="a"}') == ["enviroment"]
