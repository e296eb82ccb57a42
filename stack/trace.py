#!/usr/bin/env python3
"""One request's trace from Jaeger's query API, as an indented span tree (./dev trace ID).

    python3 stack/trace.py QUERY_URL ID

ID is a trace id (32 hex digits) or the request id the router returned in `x-request-id`. The
router's own spans do not carry the request id, but every subgraph's request span does
(`request_id`), so a request id is looked up in each `tenor-*` service until a trace has it.

Each line: start offset from the trace's first span, duration, service, operation; spans whose
parent is not in the trace (a hop that exported nothing) are printed as further roots.
Standard library only.
"""
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

LOOKBACK_SECONDS = 7 * 24 * 3600


def get(base, path, params=None):
    url = base.rstrip("/") + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return {"data": []}
        raise


def traces_of_request(base, request_id):
    now = int(time.time() * 1_000_000)
    services = [s for s in get(base, "/api/services").get("data") or [] if s.startswith("tenor-")]
    found = {}
    for service in sorted(services):
        answer = get(base, "/api/traces", {
            "service": service,
            "tags": json.dumps({"request_id": request_id}),
            "start": now - LOOKBACK_SECONDS * 1_000_000,
            "end": now,
            "limit": 20,
        })
        for trace in answer.get("data") or []:
            found.setdefault(trace["traceID"], trace["traceID"])
    # The search answers only the matching service's spans: fetch each whole trace.
    return [whole for trace_id in found for whole in get(base, f"/api/traces/{trace_id}").get("data") or []]


def tags(span):
    return {t["key"]: t.get("value") for t in span.get("tags") or []}


def parent_of(span, ids):
    for ref in span.get("references") or []:
        if ref.get("spanID") in ids and ref.get("refType") in ("CHILD_OF", "FOLLOWS_FROM"):
            return ref["spanID"]
    return None


def print_trace(trace):
    spans = trace.get("spans") or []
    processes = trace.get("processes") or {}
    ids = {s["spanID"] for s in spans}
    children = {}
    roots = []
    for span in spans:
        parent = parent_of(span, ids)
        if parent is None:
            roots.append(span)
        else:
            children.setdefault(parent, []).append(span)
    start = min((s["startTime"] for s in spans), default=0)
    end = max((s["startTime"] + s["duration"] for s in spans), default=0)
    services = sorted({processes.get(s["processID"], {}).get("serviceName", "?") for s in spans})
    request_ids = sorted({tags(s).get("request_id") for s in spans} - {None, ""})
    print(f"trace {trace['traceID']}  {len(spans)} spans, {(end - start) / 1000:.1f} ms"
          + (f", request {', '.join(request_ids)}" if request_ids else ""))
    print(f"services: {', '.join(services)}")
    print(f"{'start':>9} {'duration':>10}  span")

    def show(span, depth):
        service = processes.get(span["processID"], {}).get("serviceName", "?")
        flag = " !" if tags(span).get("error") in (True, "true") else ""
        print(f"{(span['startTime'] - start) / 1000:>7.1f}ms {span['duration'] / 1000:>8.1f}ms  "
              f"{'  ' * depth}{service}: {span['operationName']}{flag}")
        for child in sorted(children.get(span["spanID"], []), key=lambda s: s["startTime"]):
            show(child, depth + 1)

    for root in sorted(roots, key=lambda s: s["startTime"]):
        show(root, 0)


def main(base, wanted):
    wanted = wanted.strip()
    try:
        if re.fullmatch(r"[0-9a-fA-F]{32}", wanted):
            traces = get(base, f"/api/traces/{wanted.lower()}").get("data") or []
        else:
            traces = traces_of_request(base, wanted)
    except (urllib.error.URLError, OSError) as error:
        sys.exit(f"Jaeger's query API at {base} did not answer: {error}")
    if not traces:
        sys.exit(f"no trace found for {wanted} (spans reach Jaeger about a second after a request; "
                 "services export only with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set)")
    for i, trace in enumerate(traces):
        if i:
            print()
        print_trace(trace)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: trace.py QUERY_URL <request-id or trace-id>")
    main(sys.argv[1], sys.argv[2])
