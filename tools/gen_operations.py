#!/usr/bin/env python3
"""Generate lua/dynamo/operations.lua from botocore's DynamoDB API model.

For every operation it records the wire name, the snake_case method name, a
one-line summary, the required input members, and two "value maps": trees
that mark where AttributeValues sit in the request and in the response, so
the C codec converts exactly those places and nothing else.

Value map format: "V" marks an AttributeValue; {Member = sub} a structure;
{["[]"] = sub} a list's elements; {["{}"] = sub} a map's values.

Run: python3 tools/gen_operations.py  (needs botocore, which ships the model)
"""
import gzip
import html
import json
import os
import re
import sys

import botocore

MODEL = os.path.join(os.path.dirname(botocore.__file__),
                     "data", "dynamodb", "2012-08-10", "service-2.json.gz")
OUT = os.path.join(os.path.dirname(__file__), "..", "lua", "dynamo", "operations.lua")


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def summary(doc):
    text = html.unescape(re.sub(r"<[^>]+>", " ", doc or ""))
    text = re.sub(r"\s+", " ", text).strip()
    m = re.match(r"(.+?[.])(\s|$)", text)
    return (m.group(1) if m else text)[:300]


# Lua types each wire type accepts, checked for top-level arguments.
LUA_TYPES = {
    "string": "string", "blob": "string", "boolean": "boolean",
    "integer": "integer", "long": "integer", "double": "number", "float": "number",
    "timestamp": "number", "structure": "table", "list": "table", "map": "table",
}


def member_types(shapes, name):
    shape = shapes[name]
    return {m: LUA_TYPES[shapes[ref["shape"]]["type"]]
            for m, ref in shape.get("members", {}).items()}


def error_value_map(model):
    """Where AttributeValues sit in any error body (e.g. the items in
    TransactionCanceledException's CancellationReasons)."""
    shapes = model["shapes"]
    merged = {}
    for name, shape in shapes.items():
        if shape.get("exception"):
            sub = value_map(shapes, name)
            if sub:
                merged.update(sub)
    return merged or None


def value_map(shapes, name, stack=()):
    if name == "AttributeValue":
        return "V"
    if name in stack:
        return None
    shape = shapes[name]
    kind = shape["type"]
    stack = stack + (name,)
    if kind == "structure":
        members = {}
        for member, ref in shape.get("members", {}).items():
            sub = value_map(shapes, ref["shape"], stack)
            if sub is not None:
                members[member] = sub
        return members or None
    if kind == "list":
        sub = value_map(shapes, shape["member"]["shape"], stack)
        return {"[]": sub} if sub is not None else None
    if kind == "map":
        sub = value_map(shapes, shape["value"]["shape"], stack)
        return {"{}": sub} if sub is not None else None
    return None


class Emitter:
    """Writes value maps as Lua, naming each subtree used more than once."""

    def __init__(self):
        self.names = {}
        self.defs = []

    def key(self, tree):
        return json.dumps(tree, sort_keys=True)

    def count(self, tree, counts):
        if isinstance(tree, dict):
            k = self.key(tree)
            counts[k] = counts.get(k, 0) + 1
            for sub in tree.values():
                self.count(sub, counts)

    def expr(self, tree, shared):
        if tree is None:
            return "nil"
        if tree == "V":
            return "V"
        k = self.key(tree)
        if k in self.names:
            return self.names[k]
        fields = ", ".join("[%s] = %s" % (lua_str(m), self.expr(sub, shared))
                           for m, sub in sorted(tree.items()))
        text = "{ %s }" % fields
        if k in shared:
            name = "S%d" % (len(self.defs) + 1)
            self.defs.append("local %s = %s" % (name, text))
            self.names[k] = name
            return name
        return text


def lua_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def main():
    model = json.load(gzip.open(MODEL))
    shapes = model["shapes"]
    ops = []
    for name in sorted(model["operations"]):
        op = model["operations"][name]
        inp = op.get("input", {}).get("shape")
        out = op.get("output", {}).get("shape")
        ops.append({
            "name": name,
            "method": snake(name),
            "summary": summary(op.get("documentation")),
            "required": shapes[inp].get("required", []) if inp else [],
            "members": member_types(shapes, inp) if inp else {},
            "input": value_map(shapes, inp) if inp else None,
            "output": value_map(shapes, out) if out else None,
        })

    errors_map = error_value_map(model)
    em = Emitter()
    counts = {}
    for op in ops:
        em.count(op["input"], counts)
        em.count(op["output"], counts)
    shared = {k for k, n in counts.items() if n > 1}
    rows = []
    for op in ops:
        rows.append(
            "  {\n    name = %s,\n    method = %s,\n    summary = %s,\n"
            "    required = { %s },\n    members = { %s },\n"
            "    input = %s,\n    output = %s,\n  },"
            % (lua_str(op["name"]), lua_str(op["method"]), lua_str(op["summary"]),
               ", ".join(lua_str(r) for r in op["required"]),
               ", ".join("%s = %s" % (m, lua_str(t)) for m, t in sorted(op["members"].items())),
               em.expr(op["input"], shared), em.expr(op["output"], shared)))

    meta = model["metadata"]
    with open(OUT, "w") as f:
        f.write("-- Generated by tools/gen_operations.py from botocore's DynamoDB model\n")
        f.write("-- (API version %s, botocore %s). Do not edit by hand.\n"
                % (meta["apiVersion"], botocore.__version__))
        f.write("-- Value maps mark AttributeValues: \"V\" a value, {Member = ...} a structure,\n")
        f.write("-- {[\"[]\"] = ...} list elements, {[\"{}\"] = ...} map values.\n\n")
        f.write("local V = \"V\"\n")
        for d in em.defs:
            f.write(d + "\n")
        f.write("\nreturn {\n  api_version = %s,\n  target_prefix = %s,\n  service = %s,\n"
                % (lua_str(meta["apiVersion"]), lua_str(meta["targetPrefix"]),
                   lua_str(meta["endpointPrefix"])))
        f.write("  json_version = %s,\n" % lua_str(meta["jsonVersion"]))
        f.write("  error_values = %s,\n" % em.expr(errors_map, shared))
        f.write("  operations = {\n")
        for r in rows:
            f.write("  " + r.replace("\n", "\n  ") + "\n")
        f.write("  },\n}\n")
    print("wrote %d operations to %s" % (len(ops), os.path.normpath(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
