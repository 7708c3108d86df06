"""Table and time helpers: columns line up with Chinese names, ages read at a glance."""

from datetime import UTC, datetime, timedelta

from channelsync.cli import table

NOW = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)


def test_columns_line_up_with_wide_characters_and_colour_codes():
    out = table.render(["channel", "sales"], [["天猫旗舰店", "1.00"], ["jd", "22.50"], [table.paint("ok", True), "3"]],
                       right=(1,))
    lines = out.splitlines()
    assert lines[0] == "channel     sales"
    assert {table.width(line) for line in lines} == {17}  # 天猫旗舰店 takes 10 cells
    assert lines[2].endswith(" 1.00") and lines[3].endswith("22.50")


def test_an_empty_table_keeps_its_header_and_says_so():
    assert table.render(["a", "b"], [], empty="no orders").splitlines() == ["a  b", "-  -", "no orders"]


def test_ages():
    ago = lambda **kw: (NOW - timedelta(**kw)).isoformat()
    assert table.age(ago(seconds=12), NOW) == "12 s ago"
    assert table.age(ago(seconds=90), NOW) == "1 min ago"
    assert table.age(ago(hours=1, minutes=59), NOW) == "119 min ago"
    assert table.age(ago(hours=5), NOW) == "5 h ago"
    assert table.age(ago(days=3), NOW) == "3 d ago"
    assert table.age((NOW + timedelta(hours=20)).isoformat(), NOW) == "in 20 h"
    assert table.age(None) == "never"


def test_changes_and_rates():
    assert (table.change(150, 100), table.change(50, 100), table.change(5, 0), table.change(0, 0)) == (
        "+50.0%", "-50.0%", "new", "-")
    assert (table.percent(0.6918), table.percent(None)) == ("69.2%", "-")
    assert table.paint("failing", False) == "failing" and "\x1b[" in table.paint("failing", True)
