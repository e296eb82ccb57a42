#!/usr/bin/env python3
"""services.toml as bash declarations, for ./dev:  eval "$(python3 stack/manifest.py ROOT)"

SERVICES        every service whose folder exists (subgraphs/<name>/ or router/), in start order;
                planned services are skipped until their folder lands
SERVICE_PORTS   name -> port, for every service of the manifest (planned ones too)
PG_DATABASES    service=database for the PostgreSQL-backed services (planned ones too)
KAFKA_TOPICS    name:partitions, every topic
Warnings (a subgraphs/ folder the manifest does not list) go to stderr. Standard library only
(tomllib: Python 3.11+).
"""
import os
import shlex
import sys
import tomllib


def main(root):
    with open(os.path.join(root, "services.toml"), "rb") as f:
        manifest = tomllib.load(f)
    services = manifest["service"]
    listed = {s["name"] for s in services if s["kind"] == "subgraph"}
    for name in sorted(os.listdir(os.path.join(root, "subgraphs"))):
        if name not in listed:
            print(f"warning: subgraphs/{name} is not in services.toml; not started", file=sys.stderr)

    def present(s):
        folder = s["name"] if s["kind"] == "router" else f"subgraphs/{s['name']}"
        return os.path.isfile(os.path.join(root, folder, "Cargo.toml"))

    def array(name, items):
        print(f"{name}=({' '.join(shlex.quote(str(i)) for i in items)})")

    array("SERVICES", [s["name"] for s in services if present(s)])
    print("declare -gA SERVICE_PORTS=(" + " ".join(f"[{s['name']}]={int(s['port'])}" for s in services) + ")")
    array("PG_DATABASES", [f"{s['name']}={s['database']}" for s in services if s["store"] == "postgres"])
    array("KAFKA_TOPICS", [f"{t['name']}:{int(t['partitions'])}" for t in manifest["kafka"]["topics"]])


if __name__ == "__main__":
    main(sys.argv[1])
