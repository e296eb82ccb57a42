#!/bin/bash
# One-shot topic setup for docker-compose (runs in the apache/kafka image).
# Creates <context>.events (3 partitions) and <context>.events.dlq (1 partition) when missing.
set -euo pipefail
BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
PARTITIONS="${KAFKA_EVENT_PARTITIONS:-3}"
TOPICS_BIN=/opt/kafka/bin/kafka-topics.sh

existing="$("$TOPICS_BIN" --bootstrap-server "$BOOTSTRAP" --list)"
for context in auth user kyc loan credit risk notification; do
    for spec in "$context.events:$PARTITIONS" "$context.events.dlq:1"; do
        topic="${spec%%:*}"
        if grep -qxF "$topic" <<<"$existing"; then
            echo "exists: $topic"
        else
            "$TOPICS_BIN" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
                --topic "$topic" --partitions "${spec##*:}" --replication-factor 1
        fi
    done
done
