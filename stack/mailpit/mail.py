#!/usr/bin/env python3
"""Print the most recent emails Mailpit caught, for `./dev mail [N] [QUERY]`.

Mailpit built from its Go module serves no web UI, so this reads its HTTP API instead:
GET /api/v1/messages (or /api/v1/search?query=…) for the newest messages, then
GET /api/v1/message/{ID} for each one's text body. Standard library only.

usage: mail.py API_URL COUNT [QUERY]
"""

import json
import signal
import sys
import textwrap
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime

BODY_LINES = 6
NOTIFICATION_HEADER = "X-Tenor-Notification-Id"
WIDTH = 100


def get(api, path):
    with urllib.request.urlopen(api.rstrip("/") + path, timeout=5) as response:
        return json.load(response)


def addresses(people):
    return ", ".join(p.get("Address", "") for p in people or []) or "-"


def notification_id(api, message_id):
    """The X-Tenor-Notification-Id header the notification service puts on every email."""
    try:
        headers = get(api, "/api/v1/message/" + urllib.parse.quote(message_id) + "/headers")
    except (urllib.error.URLError, OSError):
        return None
    values = headers.get(NOTIFICATION_HEADER) or []
    return values[0] if values else None


def local_time(created):
    # Mailpit answers RFC 3339 in UTC with a Z, which fromisoformat takes only from Python 3.11.
    try:
        return datetime.fromisoformat(created.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    except ValueError:
        return created


def first_lines(text):
    lines = [line.rstrip() for line in (text or "").strip().splitlines()]
    shown = [l for l in lines if l][:BODY_LINES]
    out = []
    for line in shown:
        out.extend(textwrap.wrap(line, WIDTH - 4) or [""])
    if len([l for l in lines if l]) > BODY_LINES:
        out.append("…")
    return out


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `./dev mail | head` ends quietly
    api, count, query = sys.argv[1], int(sys.argv[2]), (sys.argv[3] if len(sys.argv) > 3 else "").strip()
    params = {"limit": str(count)}
    if query:
        params["query"] = query
        path = "/api/v1/search?" + urllib.parse.urlencode(params)
    else:
        path = "/api/v1/messages?" + urllib.parse.urlencode(params)
    try:
        listing = get(api, path)
    except (urllib.error.URLError, OSError) as e:
        sys.exit(f"error: cannot read Mailpit's API at {api}: {e}")
    messages = listing.get("messages") or []
    total = listing.get("messages_count", listing.get("total", len(messages)))
    if not messages:
        print("no messages" + (f" matching {query!r}" if query else "") + f" (Mailpit API {api})")
        return
    for summary in messages:
        try:
            full = get(api, "/api/v1/message/" + urllib.parse.quote(summary["ID"]))
        except (urllib.error.URLError, OSError):
            full = {}
        print(f"── {local_time(summary.get('Created', ''))}  to {addresses(summary.get('To'))}")
        print(f"   Subject: {summary.get('Subject', '')}")
        notification = notification_id(api, summary["ID"])
        if notification:
            print(f"   Notification: {notification}")
        for line in first_lines(full.get("Text") or summary.get("Snippet", "")):
            print(f"   │ {line}")
    print(f"({len(messages)} of {total}; newest first; API {api})")


if __name__ == "__main__":
    main()
