"""The client's methods and params against the protocol's JSON Schema (schemas/json/)."""

import json
import os
import unittest

from threadx_client import METHOD_PARAMS, PROTOCOL_VERSION

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SCHEMAS = os.path.join(ROOT, "schemas", "json")


def schema(method: str) -> dict:
    with open(os.path.join(SCHEMAS, method.replace("/", ".") + ".json"), encoding="utf-8") as f:
        return json.load(f)


def params_object(method: str) -> dict:
    p = schema(method)["$defs"]["params"]
    # Some params are nullable or wrapped (`anyOf`); the object branch holds the properties.
    for branch in p.get("anyOf", [p]):
        if branch.get("type") == "object":
            return branch
    return p


class SchemaTest(unittest.TestCase):
    def test_every_method_exists_with_the_protocol_version(self) -> None:
        with open(os.path.join(SCHEMAS, "index.json"), encoding="utf-8") as f:
            index = json.dumps(json.load(f))
        for method in METHOD_PARAMS:
            with self.subTest(method=method):
                s = schema(method)
                self.assertEqual(s["title"], method)
                self.assertEqual(s["x-threadx"]["kind"], "request")
                self.assertEqual(s["x-threadx"]["protocolVersion"], PROTOCOL_VERSION)
                self.assertIn(method, index)

    def test_params_the_client_sends_are_in_the_schema_and_cover_the_required(self) -> None:
        for method, sent in METHOD_PARAMS.items():
            with self.subTest(method=method):
                obj = params_object(method)
                props = set(obj.get("properties", {}))
                unknown = set(sent) - props
                self.assertFalse(unknown, f"{method}: the schema has no {sorted(unknown)}")
                missing = set(obj.get("required", [])) - set(sent)
                self.assertFalse(missing, f"{method}: the client never sends {sorted(missing)}")

    def test_export_formats_match(self) -> None:
        fmt = params_object("data/export")["properties"]["format"]
        self.assertEqual(sorted(fmt["enum"]), ["csv", "parquet", "xlsx"])


if __name__ == "__main__":
    unittest.main()
