#!/usr/bin/env bash
# The benchmark, as docs/performance.md gives it: `npm run bench [-- --quick] [-- --only relay,api]`.
# Uses the services named by DATABASE_URL, REDIS_URL and KAFKA_BROKERS when all three are set;
# otherwise scripts/services.sh brings up local PostgreSQL, Redis and Kafka.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_URL:-}" || -z "${KAFKA_BROKERS:-}" ]]; then
  services_env=$(bash scripts/services.sh up) # a failed start stops the script here (set -e)
  eval "$services_env"
fi
# The aggregate stage runs the built CLI, exactly as operators do.
npm run --silent build
exec npx tsx bench/run.ts "$@"
