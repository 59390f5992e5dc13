#!/usr/bin/env python3
"""Regenerate schemas/cloudflare/provider-v5.schema.json from the cloudflare provider's docs.

Usage
-----
    git clone https://github.com/cloudflare/terraform-provider-cloudflare tpc
    python3 scripts/import_cloudflare_schema.py tpc v5.22.0 > schemas/cloudflare/provider-v5.schema.json

The provider's generated documentation (``docs/resources/<type>.md`` and
``docs/data-sources/<type>.md``, written by tfplugindocs from the provider's own
schema) lists every attribute with its type, whether it is Required, Optional or
Read-Only, nested attribute schemas and, for enumerations, "Available values".
This script turns the resource and data-source types portalgen renders (RESOURCES
and DATA_SOURCES below) into one JSON Schema (draft 2020-12) for Terraform JSON
files (``*.tf.json``):

* every object has ``additionalProperties: false``: an unknown attribute is an error;
* Read-Only attributes are left out: setting one in configuration is an error too;
* Required attributes are required; "Available values" become enums;
* any string, number or boolean may instead be a Terraform interpolation
  (``"${var.x}"``), which Terraform resolves before the provider sees it.

The top level allows the Terraform JSON blocks portalgen uses: terraform,
provider, variable, locals, resource, data, output.
"""

import json
import re
import subprocess
import sys

RESOURCES = [
    "dns_record",
    "ruleset",
    "zone_setting",
    "load_balancer",
    "load_balancer_pool",
    "load_balancer_monitor",
]
DATA_SOURCES = ["load_balancer_pools"]

INTERP = {"type": "string", "pattern": "^\\$\\{.*\\}$"}
ATTR = re.compile(r"^- `([a-z0-9_]+)` \(([^)]+)\)(.*)$")
NESTED_LINK = re.compile(r"\(see \[below for nested schema\]\(#([a-z0-9_-]+)\)\)")
ANCHOR = re.compile(r'^<a id="([a-z0-9_-]+)"></a>')
VALUES = re.compile(r"^Available values: (.*)$")


def git_show(repo, rev, path):
    return subprocess.run(
        ["git", "-C", repo, "show", f"{rev}:{path}"], check=True, capture_output=True, text=True
    ).stdout


def parse(markdown):
    """Sections of a doc page: {anchor-or-'root': [(name, type, section, nested_anchor, enum)]}."""
    body = markdown.split("## Schema", 1)[1].split("\n## ", 1)[0]
    sections = {"root": []}
    current, kind, last = "root", None, None
    for line in body.splitlines():
        m = ANCHOR.match(line)
        if m:
            current, kind, last = m.group(1), None, None
            sections[current] = []
            continue
        stripped = line.strip().rstrip(":")
        if stripped in ("### Required", "Required"):
            kind = "required"
            continue
        if stripped in ("### Optional", "Optional"):
            kind = "optional"
            continue
        if stripped in ("### Read-Only", "Read-Only"):
            kind = "readonly"
            continue
        m = ATTR.match(line)
        if m and kind:
            link = NESTED_LINK.search(m.group(3))
            last = [m.group(1), m.group(2), kind, link.group(1) if link else None, None]
            sections[current].append(last)
            continue
        link = NESTED_LINK.search(line)
        if link and last is not None and last[3] is None:
            # A description over several lines names its nested schema at its end.
            last[3] = link.group(1)
        m = VALUES.match(line)
        if m and last is not None:
            last[4] = re.findall(r'"([^"]*)"', m.group(1))
    return sections


def scalar(t, enum=None):
    if t == "String":
        if enum:
            return {"anyOf": [{"enum": enum}, INTERP]}
        return {"type": "string"}
    if t == "Number":
        return {"anyOf": [{"type": "number"}, INTERP]}
    if t == "Boolean":
        return {"anyOf": [{"type": "boolean"}, INTERP]}
    if t == "Dynamic":
        return {}
    raise ValueError(t)


def attr_schema(t, enum, nested, sections):
    if t.startswith("Attributes"):
        obj = object_schema(sections, nested)
        if t == "Attributes":
            return obj
        if t in ("Attributes List", "Attributes Set"):
            return {"anyOf": [{"type": "array", "items": obj}, INTERP]}
        if t == "Attributes Map":
            return {"anyOf": [{"type": "object", "additionalProperties": obj}, INTERP]}
        raise ValueError(t)
    m = re.match(r"^(List|Set|Map) of (.*)$", t)
    if m:
        inner = attr_schema(m.group(2), enum, nested, sections)
        if m.group(1) == "Map":
            return {"anyOf": [{"type": "object", "additionalProperties": inner}, INTERP]}
        return {"anyOf": [{"type": "array", "items": inner}, INTERP]}
    return scalar(t, enum)


def object_schema(sections, anchor):
    props, required = {}, []
    for name, t, kind, nested, enum in sections[anchor]:
        if kind == "readonly":
            continue
        props[name] = attr_schema(t, enum, nested, sections)
        if kind == "required":
            required.append(name)
    out = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        out["required"] = required
    return out


META = {
    "count": {"anyOf": [{"type": "integer"}, INTERP]},
    "for_each": {},
    "depends_on": {"type": "array", "items": {"type": "string"}},
    "provider": {"type": "string"},
    "lifecycle": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "create_before_destroy": {"type": "boolean"},
            "prevent_destroy": {"type": "boolean"},
            "ignore_changes": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def block_of(defs, prefix, names):
    props = {}
    for n in names:
        props[f"cloudflare_{n}"] = {
            "type": "object",
            "propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_-]*$"},
            "additionalProperties": {"$ref": f"#/$defs/{prefix}_cloudflare_{n}"},
        }
    return {"type": "object", "additionalProperties": False, "properties": props}


def main():
    repo, rev = sys.argv[1], sys.argv[2]
    commit = subprocess.run(
        ["git", "-C", repo, "rev-parse", rev + "^{commit}"], check=True, capture_output=True, text=True
    ).stdout.strip()
    defs = {}
    for prefix, folder, names in (("resource", "resources", RESOURCES), ("data", "data-sources", DATA_SOURCES)):
        for n in names:
            sections = parse(git_show(repo, rev, f"docs/{folder}/{n}.md"))
            obj = object_schema(sections, "root")
            obj["properties"].update(META)
            defs[f"{prefix}_cloudflare_{n}"] = obj
    any_map = {"type": "object"}
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://portalgen.dev/schemas/cloudflare/provider-v5.schema.json",
        "$comment": (
            f"Terraform JSON for the cloudflare/cloudflare provider {rev} (major version 5), "
            f"generated by scripts/import_cloudflare_schema.py from docs/resources/*.md and "
            f"docs/data-sources/*.md of github.com/cloudflare/terraform-provider-cloudflare at "
            f"commit {commit}. Read-only attributes are left out and unknown attributes are errors."
        ),
        "title": "portalgen CloudFlare Terraform JSON",
        "x-provider": {"source": "cloudflare/cloudflare", "version": rev.lstrip("v")},
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "terraform": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "required_version": {"type": "string"},
                    "required_providers": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["source", "version"],
                            "properties": {"source": {"type": "string"}, "version": {"type": "string"}},
                        },
                    },
                },
            },
            "provider": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "cloudflare": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"api_token": INTERP},
                    }
                },
            },
            "variable": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "type": {"type": "string"},
                        "description": {"type": "string"},
                        "sensitive": {"type": "boolean"},
                        "nullable": {"type": "boolean"},
                        "default": {},
                    },
                },
            },
            "locals": any_map,
            "output": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["value"],
                    "properties": {
                        "value": {},
                        "description": {"type": "string"},
                        "sensitive": {"type": "boolean"},
                    },
                },
            },
            "resource": block_of(defs, "resource", RESOURCES),
            "data": block_of(defs, "data", DATA_SOURCES),
        },
        "$defs": defs,
    }
    json.dump(schema, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
