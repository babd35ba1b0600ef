#!/usr/bin/env bash
# The benchmark, as README gives it: `npm run bench [-- --quick] [-- --only relay,api]`.
# Uses the services named by DATABASE_URL, REDIS_URL and KAFKA_BROKERS when all three are set;
# otherwise scripts/services.sh brings up local PostgreSQL, Redis and Kafka.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_URL:-}" || -z "${KAFKA_BROKERS:-}" ]]; then
  eval "$(bash scripts/services.sh up)"
fi
# The aggregate stage runs the built CLI, exactly as operators do.
npm run --silent build
exec npx tsx bench/run.ts "$@"
