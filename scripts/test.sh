#!/usr/bin/env bash
# The test suite, as README gives it: `npm test`.
# Uses the services named by DATABASE_URL, REDIS_URL and KAFKA_BROKERS when all three are set.
# Otherwise, with a Docker engine, the test setup starts them with testcontainers; without one,
# scripts/services.sh brings up local PostgreSQL, Redis and Kafka (fast when they are already up).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_URL:-}" || -z "${KAFKA_BROKERS:-}" ]]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    echo "[test] no service variables set: testcontainers will start PostgreSQL, Redis and Kafka" >&2
  else
    services_env=$(bash scripts/services.sh up) # a failed start stops the script here (set -e)
    eval "$services_env"
  fi
fi

# promtool and prometheus (Debian's package) for the alert rules' tests; quick when already there.
bash scripts/services.sh prometheus

# Integration tests run the built CLI, exactly as operators do.
npm run --silent build
exec npx vitest run "$@"
