#!/bin/bash
# One-shot topic setup for docker-compose (runs in the apache/kafka image, which has no TOML
# reader): creates every topic of services.toml that is missing. The list below is a copy of
# services.toml's [kafka] topics that tenor-platform's unit tests compare with the manifest.
set -euo pipefail
BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
TOPICS_BIN=/opt/kafka/bin/kafka-topics.sh

# BEGIN topics from services.toml (a test checks it; TENOR_BLESS=1 cargo test -p tenor-platform manifest)
TOPICS=(
    auth.events:3
    auth.events.dlq:1
    user.events:3
    user.events.dlq:1
    kyc.events:3
    kyc.events.dlq:1
    loan.events:3
    loan.events.dlq:1
    credit.events:3
    credit.events.dlq:1
    risk.events:3
    risk.events.dlq:1
    notification.events:3
    notification.events.dlq:1
)
# END topics

existing="$("$TOPICS_BIN" --bootstrap-server "$BOOTSTRAP" --list)"
for spec in "${TOPICS[@]}"; do
    topic="${spec%%:*}"
    if grep -qxF "$topic" <<<"$existing"; then
        echo "exists: $topic"
    else
        "$TOPICS_BIN" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
            --topic "$topic" --partitions "${spec##*:}" --replication-factor 1
    fi
done
