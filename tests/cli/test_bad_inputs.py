"""Bad input of every kind an operator or a shop's export produces, table-driven.

Each case asserts: the documented exit code, a message naming the place (file,
row, column, key path, setting), no traceback in the output, and a database
exactly as it was (a full dump compared).
"""

from __future__ import annotations

import json
import sqlite3
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from channelsync.sdk.plugins import make_manager
from channelsync.sim import fake

CONFIG = """
[store]
path = "cs.db"
[daemon]
http_port = 0
[warehouses]
main = "Main"
[channels.a]
plugin = "fake"
[channels.a.settings]
platform = "bad-inputs-a"
token = { env = "FAKE_TOKEN" }
"""
BASE = ("product_code,sku_code,price,stock:main,bundle\n"
        "TEA,TEA-01,39.90,10,\nTEA,TEA-02,59.90,4,\nBOX,BOX-1,89.00,,TEA-01*2\n")
HEADER = "product_code,sku_code,price,stock:main"


def csv_case(body: str | bytes, header: str = HEADER) -> bytes:
    data = body if isinstance(body, bytes) else (header + "\n" + body).encode()
    return data


@dataclass
class Case:
    id: str
    args: list[str]
    code: int
    says: list[str]
    files: dict[str, bytes | str] = field(default_factory=dict)
    config: str | None = None  # replaces CONFIG
    before: Callable[[Path], None] | None = None


def imp(id: str, body, says, header: str = HEADER, code: int = 2) -> Case:
    return Case(id, ["catalog", "import", "{tmp}/in.csv"], code, ["in.csv"] + says,
                files={"in.csv": csv_case(body, header)})


def mixed_encoding() -> bytes:
    rows = "".join(f"P,S-{i:06d},1.00,1\n" for i in range(20000))  # > the 256 KiB sniffed
    return (HEADER + "\n" + rows).encode() + "P,茶-1,1.00,1\n".encode("gb18030")


CASES = [
    # --- the file itself -----------------------------------------------------------------------
    imp("empty-file", b"", ["the file is empty"]),
    imp("only-a-bom", b"\xef\xbb\xbf", ["the file is empty"]),
    imp("blank-first-line", b"\n\nproduct_code,sku_code,price\n", ["empty", "first line is blank"]),
    imp("binary-png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", ["binary file", "utf-8, gb18030, utf-16"]),
    imp("undecodable-bytes", b"\x81\xff\x80\xfe,\xff\xff\n", ["not text in any encoding", "utf-8, gb18030, utf-16"]),
    imp("utf16-without-bom", (HEADER + "\nTEA,T-9,1.00,1\n").encode("utf-16-le"),
        ["UTF-16 without a byte-order mark"]),
    imp("mixed-encodings", mixed_encoding(), ["line 20002", "not utf-8", "tried utf-8, gb18030, utf-16"]),
    imp("unclosed-quote", 'TEA,"T-9,1.00,1\n', ["row", "not valid CSV", "quote"]),
    imp("field-too-large", "TEA,T-9,1.00,1," + "x" * 200_000 + "\n", ["row 2", "not valid CSV"],
        header=HEADER + ",description"),
    Case("file-not-found", ["catalog", "import", "{tmp}/nope.csv"], 2, ["nope.csv", "No such file or directory"]),
    Case("file-is-a-directory", ["catalog", "import", "{tmp}"], 2, ["CSV_FILE", "Is a directory"]),
    # --- the header ----------------------------------------------------------------------------
    imp("missing-price-column", "TEA,T-9,1\n", ["header: missing column 'price'"],
        header="product_code,sku_code,stock:main"),
    imp("duplicate-column", "TEA,T-9,1.00,2.00\n", ["header: column 'price' appears 2 times (columns 3 and 4)"],
        header="product_code,sku_code,price,Price"),
    imp("duplicate-after-spaces", "TEA,T-9,1.00,1,2\n", ["'sku_code' appears 2 times"],
        header="product_code,sku_code,price,stock:main, SKU Code"),
    imp("unknown-column-typo", "TEA,T-9,1.00\n", ["header: unknown column 'prize'", "did you mean 'price'"],
        header="product_code,sku_code,prize,price"),
    imp("unknown-warehouse-column", "TEA,T-9,1.00,1\n", ["column 'stock:nowhere' names unknown warehouse"],
        header="product_code,sku_code,price,stock:nowhere"),
    imp("nameless-column-with-value", "TEA,T-9,1.00,1,oops\n", ["row 2, column 5", "no name"],
        header=HEADER + ","),
    # --- codes ---------------------------------------------------------------------------------
    imp("extra-fields", "TEA,T-9,1.00,1,x,y\n", ["row 2, column (extra): 2 more field(s)"]),
    imp("empty-sku-code", "TEA,,1.00,1\n", ["row 2, column sku_code: is empty"]),
    imp("empty-product-code", ",T-9,1.00,1\n", ["row 2, column product_code: is empty"]),
    imp("sku-code-too-long", f"TEA,{'S' * 101},1.00,1\n", ["row 2, column sku_code", "at most 100"]),
    imp("sku-code-control-char", "TEA,T\x019,1.00,1\n", ["row 2, column sku_code", "control character"]),
    imp("duplicate-sku", "TEA,T-9,1.00,1\nTEA,T-9,2.00,1\n", ["row 3, column sku_code: 'T-9' already appears on row 2"]),
    # --- prices --------------------------------------------------------------------------------
    imp("price-exponent", "TEA,T-9,1e3,1\n", ["row 2, column price", "no exponent"]),
    imp("price-1e20", "TEA,T-9,1e20,1\n", ["row 2, column price", "no exponent"]),
    imp("price-31-digits", f"TEA,T-9,{'9' * 31},1\n", ["row 2, column price", "too large"]),
    imp("price-int64-max-fen", "TEA,T-9,92233720368547758.07,1\n", ["row 2, column price", "too large"]),
    imp("price-negative", "TEA,T-9,-5.00,1\n", ["row 2, column price", "not a price"]),
    imp("price-three-decimals", "TEA,T-9,12.345,1\n", ["row 2, column price", "more than 2 decimals"]),
    imp("price-words", "TEA,T-9,cheap,1\n", ["row 2, column price", "not a price"]),
    imp("price-thousands", 'TEA,T-9,"1,299.00",1\n', ["row 2, column price", "thousands separator"]),
    imp("price-empty", "TEA,T-9,,1\n", ["row 2, column price: is empty"]),
    imp("price-nan", "TEA,T-9,NaN,1\n", ["row 2, column price", "not a price"]),
    imp("price-infinity", "TEA,T-9,Infinity,1\n", ["row 2, column price", "not a price"]),
    imp("cost-exponent", "TEA,T-9,1.00,1e3\n", ["row 2, column cost", "no exponent"],
        header="product_code,sku_code,price,cost"),
    # --- stock ---------------------------------------------------------------------------------
    imp("stock-negative", "TEA,T-9,1.00,-1\n", ["row 2, column stock:main", "cannot be negative"]),
    imp("stock-fraction", "TEA,T-9,1.00,1.5\n", ["row 2, column stock:main", "not a whole number"]),
    imp("stock-20-digits", "TEA,T-9,1.00,99999999999999999999\n", ["row 2, column stock:main", "too large"]),
    imp("stock-over-bound", "TEA,T-9,1.00,1000000001\n", ["row 2, column stock:main", "at most 1,000,000,000"]),
    imp("stock-exponent", "TEA,T-9,1.00,1e3\n", ["row 2, column stock:main", "not a whole number"]),
    # --- other columns -------------------------------------------------------------------------
    imp("status-unknown", "TEA,T-9,1.00,sold\n", ["row 2, column status", "'sold' is not one of"],
        header="product_code,sku_code,price,status"),
    imp("attributes-not-kv", "TEA,T-9,1.00,colour\n", ["row 2, column attributes", "is not key=value"],
        header="product_code,sku_code,price,attributes"),
    # --- bundles -------------------------------------------------------------------------------
    imp("bundle-qty-not-number", "TEA,B-9,1.00,TEA-01*x\n", ["row 2, column bundle", "is not CODE*QTY"],
        header="product_code,sku_code,price,bundle"),
    imp("bundle-qty-zero", "TEA,B-9,1.00,TEA-01*0\n", ["row 2, column bundle", "1 to 10,000"],
        header="product_code,sku_code,price,bundle"),
    imp("bundle-qty-too-large", "TEA,B-9,1.00,TEA-01*10001\n", ["row 2, column bundle", "1 to 10,000"],
        header="product_code,sku_code,price,bundle"),
    imp("bundle-contains-itself", "TEA,B-9,1.00,B-9*1\n", ["row 2, column bundle", "cannot contain itself"],
        header="product_code,sku_code,price,bundle"),
    imp("bundle-component-twice", "TEA,B-9,1.00,TEA-01*1+TEA-01*2\n", ["row 2, column bundle", "named twice"],
        header="product_code,sku_code,price,bundle"),
    imp("bundle-unknown-component", "TEA,B-9,1.00,NOPE*1\n", ["row 2, column bundle: unknown component SKU 'NOPE'"],
        header="product_code,sku_code,price,bundle"),
    imp("bundle-cycle-in-file", "P,A,1.00,B*1\nP,B,1.00,A*1\n", ["row 2, column bundle: bundle cycle A -> B -> A"],
        header="product_code,sku_code,price,bundle"),
    imp("bundle-three-cycle-in-file", "P,A,1.00,B*1\nP,B,1.00,C*1\nP,C,1.00,A*2\n",
        ["column bundle: bundle cycle A -> B -> C -> A"], header="product_code,sku_code,price,bundle"),
    imp("bundle-cycle-against-database", "TEA,TEA-01,39.90,BOX-1*1\n",
        ["row 2, column bundle: bundle cycle", "TEA-01 -> BOX-1 -> TEA-01"],
        header="product_code,sku_code,price,bundle"),
    imp("bundle-with-stock", "TEA,B-9,1.00,TEA-01*1,5\n", ["row 2, column stock:main", "no stock of its own"],
        header="product_code,sku_code,price,bundle,stock:main"),
    # --- stock commands ------------------------------------------------------------------------
    Case("stock-set-20-digits", ["stock", "set", "TEA-01", "99999999999999999999"], 2,
         ["stock set TEA-01", "too large", "1,000,000,000"]),
    Case("stock-set-over-bound", ["stock", "set", "TEA-01", "1000000001"], 2, ["stock set TEA-01", "at most"]),
    Case("stock-set-not-a-number", ["stock", "set", "TEA-01", "ten"], 2, ["QUANTITY", "not a valid integer"]),
    Case("stock-set-unknown-sku", ["stock", "set", "NOPE", "5"], 2, ["unknown SKU 'NOPE'"]),
    Case("stock-set-a-bundle", ["stock", "set", "BOX-1", "5"], 2, ["'BOX-1' is a bundle"]),
    Case("stock-set-unknown-warehouse", ["stock", "set", "TEA-01", "5", "-w", "nowhere"], 2,
         ["unknown warehouse 'nowhere'"]),
    Case("stock-adjust-below-zero", ["stock", "adjust", "TEA-01", "-999"], 2, ["TEA-01 in main", "below 0"]),
    Case("stock-adjust-too-large", ["stock", "adjust", "TEA-01", "99999999999"], 2, ["stock adjust TEA-01",
                                                                                     "too large"]),
    Case("stock-adjust-over-bound-total", ["stock", "adjust", "TEA-01", "1000000000"], 2,
         ["TEA-01 in main", "would exceed 1,000,000,000"]),
    Case("stock-show-unknown-sku", ["stock", "show", "NOPE"], 2, ["unknown SKU 'NOPE'"]),
    # --- other commands ------------------------------------------------------------------------
    Case("orders-show-unknown", ["orders", "show", "a:NOPE"], 2, ["NOPE"]),
    Case("orders-list-bad-status", ["orders", "list", "--status", "lost"], 2, ["--status", "'lost'"]),
    Case("orders-list-bad-limit", ["orders", "list", "--limit", "many"], 2, ["--limit", "'many'"]),
    Case("orders-list-negative-limit", ["orders", "list", "--limit", "-1"], 2, ["--limit", "-1", "1<=x<=100000"]),
    Case("ship-unknown-order", ["ship", "a:NOPE", "--carrier", "SF", "--tracking", "X1"], 2, ["NOPE"]),
    Case("resync-unknown-channel", ["resync", "--channel", "nope"], 2, ["unknown channel 'nope'"]),
    Case("status-unknown-channel", ["status", "--channel", "nope"], 2, ["unknown channel 'nope'"]),
    Case("unknown-command", ["frobnicate"], 2, ["No such command 'frobnicate'"]),
    Case("export-to-missing-folder", ["catalog", "export", "-o", "{tmp}/no/such/dir/out.csv"], 2,
         ["out.csv", "No such file or directory"]),
    # --- config --------------------------------------------------------------------------------
    Case("config-not-found", ["--config", "{tmp}/missing.toml", "status"], 2, ["missing.toml", "not found"]),
    Case("config-syntax-error", ["status"], 2, ["channelsync.toml", "TOML syntax error", "line 1, column 7"], config="[store\npath = 3\n"),
    Case("config-unknown-key", ["status"], 2, ["daemon.http_prot: unknown key"],
         config=CONFIG.replace("http_port = 0", "http_prot = 0")),
    Case("config-bad-policy", ["status"], 2, ["daemon.unhealthy_when", "one of: all_failing"],
         config=CONFIG.replace("http_port = 0", 'http_port = 0\nunhealthy_when = "sometimes"')),
    Case("config-lock-timeout-negative", ["status"], 2, ["store.lock_timeout", "between 0 and 86400"],
         config=CONFIG.replace('path = "cs.db"', 'path = "cs.db"\nlock_timeout = -1')),
    Case("config-store-key-too-short", ["status"], 2, ["store.key", "too short"],
         config=CONFIG.replace('path = "cs.db"', 'path = "cs.db"\nkey = { file = "short.key" }'),
         files={"short.key": "abc\n"}),
    Case("config-store-key-missing-file", ["status"], 2, ["store.key", "cannot read secret file"],
         config=CONFIG.replace('path = "cs.db"', 'path = "cs.db"\nkey = { file = "none.key" }')),
    Case("config-store-key-literal", ["status"], 2, ["store.key", "must be a reference"],
         config=CONFIG.replace('path = "cs.db"', 'path = "cs.db"\nkey = "' + "k" * 40 + '"')),
    Case("config-not-utf8", ["status"], 2, ["not a UTF-8 text file"], config=None,
         files={"channelsync.toml": b"\xff\xfe\x00[store]"}),
    Case("store-path-under-a-file", ["check", "--offline"], 2, ["store.path", "is not a directory"],
         config=CONFIG.replace('path = "cs.db"', 'path = "in.csv/cs.db"'), files={"in.csv": "x"}),
    Case("store-path-is-a-directory", ["check", "--offline"], 2, ["store.path", "is a directory"],
         config=CONFIG.replace('path = "cs.db"', 'path = "adir"'), files={"adir/keep": "x"}),
    Case("write-command-store-under-a-file", ["stock", "set", "TEA-01", "1"], 2,
         ["cannot create the database", "store.path"],
         config=CONFIG.replace('path = "cs.db"', 'path = "in.csv/cs.db"'), files={"in.csv": "x"}),
]


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()




@pytest.fixture(scope="module")
def pm():
    return make_manager(extra=[fake])


@pytest.fixture
def shop(tmp_path, monkeypatch, pm, invoke_cli):
    monkeypatch.setenv("FAKE_TOKEN", "fake-token-bad-inputs-1234")
    monkeypatch.setenv("CHANNELSYNC_LOG_DIR", str(tmp_path / "logs"))
    fake.FakePlatform("bad-inputs-a", token="fake-token-bad-inputs-1234")
    (tmp_path / "channelsync.toml").write_text(CONFIG)
    (tmp_path / "base.csv").write_text(BASE)

    def run(*args: str):
        argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
        if not any(a == "--config" for a in argv):
            argv = ["--config", str(tmp_path / "channelsync.toml"), *argv]
        return invoke_cli(pm, argv)

    result = run("catalog", "import", str(tmp_path / "base.csv"))
    assert result.exit_code == 0, result.output
    return tmp_path, run


def _write_files(tmp: Path, case: Case) -> None:
    for name, content in case.files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if case.config is not None:
        (tmp / "channelsync.toml").write_text(case.config)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(shop, case: Case):
    tmp, run = shop
    before = _dump(tmp / "cs.db")
    _write_files(tmp, case)
    result = run(*case.args)
    out = result.output
    assert result.exit_code == case.code, out
    for words in case.says:
        assert words in out, f"{words!r} not in:\n{out}"
    assert "Traceback" not in out and result.exception is None or isinstance(result.exception, SystemExit), out
    assert len(out.strip().splitlines()) <= 12 or "problem(s)" in out, "one message, not a dump"
    assert _dump(tmp / "cs.db") == before, "the database changed"


JSON_CASES = [c for c in CASES if c.id in ("price-exponent", "duplicate-column", "config-unknown-key",
                                            "stock-set-20-digits", "bundle-cycle-in-file", "unknown-command",
                                            "empty-file")]


@pytest.mark.parametrize("case", JSON_CASES, ids=[c.id for c in JSON_CASES])
def test_bad_input_with_json_is_a_json_list_of_problems(shop, case: Case):
    tmp, run = shop
    before = _dump(tmp / "cs.db")
    _write_files(tmp, case)
    result = run("--json", *case.args)
    assert result.exit_code == case.code
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["exit_code"] == case.code and doc["problems"]
    text = json.dumps(doc, ensure_ascii=False)
    assert all(isinstance(p["message"], str) and "location" in p for p in doc["problems"])
    assert any(words in text for words in case.says[1:] or case.says)
    assert "Traceback" not in result.output
    assert _dump(tmp / "cs.db") == before


def test_a_json_csv_problem_names_file_row_and_column(shop):
    tmp, run = shop
    (tmp / "in.csv").write_text(HEADER + "\nTEA,T-9,1e3,1\nTEA,T-8,1.00,-2\n")
    doc = json.loads(run("--json", "catalog", "import", str(tmp / "in.csv")).stdout)
    assert [p["location"] for p in doc["problems"]] == ["row 2, column price", "row 3, column stock:main"]
    assert all(p["file"].endswith("in.csv") for p in doc["problems"])


def test_a_json_decoding_problem_names_file_and_line(shop):
    tmp, run = shop
    (tmp / "in.csv").write_bytes(mixed_encoding())
    doc = json.loads(run("--json", "catalog", "import", str(tmp / "in.csv")).stdout)
    assert doc["problems"][0]["location"] == "line 20002" and doc["problems"][0]["file"].endswith("in.csv")
    (tmp / "in.csv").write_bytes(b"")
    doc = json.loads(run("--json", "catalog", "import", str(tmp / "in.csv")).stdout)
    assert doc["problems"][0]["location"] is None and doc["problems"][0]["message"].startswith("the file is empty")


def test_a_json_config_problem_names_the_key_path(shop):
    tmp, run = shop
    (tmp / "channelsync.toml").write_text(CONFIG.replace("http_port = 0", "http_port = 70000"))
    doc = json.loads(run("--json", "status").stdout)
    assert doc["problems"][0]["location"] == "daemon.http_port"
    assert "between 0 and 65535" in doc["problems"][0]["message"]


def test_case_count():
    assert len(CASES) + len(JSON_CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)


def test_health_port_in_use_is_one_message_and_changes_nothing(shop):
    tmp, run = shop
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        (tmp / "channelsync.toml").write_text(CONFIG.replace("http_port = 0", f"http_port = {port}"))
        before = _dump(tmp / "cs.db")
        result = run("run")
    assert result.exit_code == 2, result.output
    assert f"127.0.0.1:{port} is already in use" in result.output and "daemon.http_port" in result.output
    assert "Traceback" not in result.output and _dump(tmp / "cs.db") == before


@pytest.mark.parametrize("encoding, delimiter, bom", [
    ("utf-8", ",", False), ("utf-8", ",", True), ("gb18030", ",", False), ("gbk", "\t", False),
    ("utf-16", "\t", True), ("utf-8", ";", False),
])
def test_merchants_files_import(shop, encoding, delimiter, bom):
    tmp, run = shop
    text = delimiter.join(["Product Code", " SKU_Code ", "PRICE", "Product Title", "stock:MAIN"]) + "\n" + \
        delimiter.join(["CHA", "CHA-龙井", "129.90", "西湖龙井 明前特级", "7"]) + "\n"
    data = (b"\xef\xbb\xbf" if bom and encoding == "utf-8" else b"") + text.encode(encoding)
    (tmp / "m.csv").write_bytes(data)
    result = run("catalog", "import", str(tmp / "m.csv"))
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output
    shown = run("--json", "stock", "show", "CHA-龙井")
    assert json.loads(shown.stdout)["on_hand"]["main"] == 7
    exported = run("catalog", "export").stdout
    assert "西湖龙井 明前特级" in exported and "129.90" in exported


def test_an_unexpected_error_is_one_line_and_a_log_pointer(shop, monkeypatch):
    tmp, run = shop
    from channelsync.engine import catalog

    def broken(*a, **k):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(catalog, "stock_report", broken)
    result = run("stock", "show", "TEA-01")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("internal error: RuntimeError: something nobody expected")
    log_file = tmp / "logs" / "cli-errors.log"
    assert str(log_file) in lines[0] and "Traceback" not in result.output
    assert "Traceback" in log_file.read_text() and oct(log_file.stat().st_mode & 0o777) == "0o600"


def test_check_warns_about_what_is_valid_but_almost_certainly_a_mistake(shop):
    tmp, run = shop
    (tmp / "channelsync.toml").write_text(CONFIG.replace("http_port = 0", 'http_port = 9999\nhttp_host = "0.0.0.0"')
                                          + '[channels.a.overrides."TEA-O1"]\nbuffer = 2\n'
                                          + '[channels.a.overrides."TEA-01"]\nbuffer = 1\n')
    result = run("check", "--offline")
    assert result.exit_code == 0, result.output
    assert 'warning: daemon.http_host: "0.0.0.0" serves /healthz and /metrics on every network interface' \
        in result.output
    assert "channels.a.overrides.\"TEA-O1\": no SKU 'TEA-O1' in the catalog" in result.output
    assert "TEA-01\": no SKU" not in result.output
    doc = json.loads(run("--json", "check", "--offline").stdout)
    assert len(doc["warnings"]) == 2


def test_the_progress_bars_show_on_a_terminal_only(shop, monkeypatch):
    import io
    import sys

    from channelsync.cli.progress import file_progress
    from channelsync.engine import catalog
    from channelsync.engine.csvfile import CsvFile
    from channelsync.store import Store

    tmp, run = shop

    class Tty(io.StringIO):
        def isatty(self):
            return True

    config = __import__("channelsync.config", fromlist=["load"]).load(tmp / "channelsync.toml", {"fake": fake.FakeChannel})
    for n, (tty, expect_bar) in enumerate(((Tty(), True), (io.StringIO(), False))):
        data = (HEADER + "\n" + "".join(f"P,S{n}-{i},1.00,1\n" for i in range(5000))).encode()
        monkeypatch.setattr(sys, "stderr", tty)
        store = Store(tmp / "cs.db")
        with file_progress("big.csv") as progress:
            assert (progress is not None) == expect_bar
            catalog.import_csv(store, config, CsvFile(io.BytesIO(data), "big.csv", size=len(data)),
                               progress=progress)
        store.close()
        shown = tty.getvalue()
        assert ("reading big.csv (bytes)" in shown and "writing big.csv" in shown and "5000/5000" in shown) \
            == expect_bar, shown[-500:]
