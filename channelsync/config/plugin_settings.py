"""The ``[channels.NAME.settings]`` table: a plugin's own settings, checked against its
schema, with secrets resolved from the environment or a file (never echoed)."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from typing import Any

from channelsync.sdk.channel import Setting

_SECRET_FORM = 'a secret must be a reference like { env = "VAR" } or { file = "PATH" }, not a literal value'
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               dict: "a table", list: "an array"}


def show(value: Any) -> str:
    """A TOML value as the operator wrote it (strings quoted, tables named, not dumped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


class PluginSettings:
    """Mixed into the loader's checker: it provides ``err``, ``table``, ``file`` and ``environ``."""

    def settings(self, path: tuple, raw: Any, schema: dict[str, Setting], known_plugin: bool) -> dict[str, Any]:
        if not known_plugin:
            # no schema to check against; the plugin error already says what is wrong
            return dict(raw) if isinstance(raw, dict) else {}
        raw = self.table(path, raw, schema)
        out: dict[str, Any] = {}
        for key, spec in schema.items():
            if key not in raw:
                if spec.required:
                    kind = _TYPE_NAMES.get(spec.type, spec.type.__name__)
                    self.err(path + (key,), f"missing required setting (expected {kind}"
                                            f"{': ' + spec.help if spec.help else ''})")
                out[key] = copy.deepcopy(spec.default)  # a dict default must not be shared
                continue
            if spec.secret:
                out[key] = self.secret(path + (key,), raw[key], spec)
            else:
                out[key] = self.setting(path + (key,), raw[key], spec)
        return out

    def setting(self, path: tuple, value: Any, spec: Setting, secret: bool = False) -> Any:
        kind = spec.type
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # `timeout = 3` for a float setting is what people type
        got = "" if secret else f", got {show(value)}"  # never echo a secret
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            self.err(path, f"expected {_TYPE_NAMES.get(kind, kind.__name__)}{got}")
            return None
        if spec.choices and value not in spec.choices:
            self.err(path, f"expected one of: {', '.join(map(str, spec.choices))}{got}")
            return None
        return value

    def secret(self, path: tuple, ref: Any, spec: Setting) -> Any:
        """Resolve ``{ env = "VAR" }`` / ``{ file = "PATH" }``; a literal is refused unseen."""
        if not isinstance(ref, dict) or len(ref) != 1 or next(iter(ref)) not in ("env", "file"):
            self.err(path, _SECRET_FORM)
            return None
        (how, where), = ref.items()
        if not isinstance(where, str) or not where:
            what = "an environment variable name" if how == "env" else "a file path"
            self.err(path + (how,), f"expected {what}, got {show(where)}")
            return None
        if how == "env":
            value = self.environ.get(where)
            if value is None:
                self.err(path, f"environment variable {where} is not set")
                return None
            if value == "":
                self.err(path, f"environment variable {where} is empty (expected the secret)")
                return None
        else:
            file = self.file(where)
            try:
                value = file.read_text(encoding="utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                self.err(path, f"secret file {file} is not UTF-8 text")
                return None
            except OSError as exc:
                self.err(path, f"cannot read secret file {file}: {exc.strerror or type(exc).__name__}")
                return None
            if value == "":
                self.err(path, f"secret file {file} is empty (expected the secret)")
                return None
        return self.setting(path, value, spec, secret=True)

