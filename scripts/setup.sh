#!/usr/bin/env bash
# README's first command: everything a working pipeline needs, from a clean clone.
# Installs dependencies, builds the CLI, brings up PostgreSQL, Redis and Kafka, migrates the
# database and creates the topics. Safe to run again (each step is idempotent and quick when done).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing dependencies"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
else
  echo "node_modules is up to date" >&2
fi

step "building the CLI"
npm run --silent build

step "starting PostgreSQL, Redis and Kafka"
services_env=$(bash scripts/services.sh up) # a failed start stops the script here (set -e)
eval "$services_env"

step "migrating the database ($DATABASE_URL)"
node bin/run.js db migrate

step "creating Kafka topics"
node bin/run.js kafka topics

cat >&2 <<MSG

Ready. The pipeline uses the local services; in another shell you may want:
  eval "\$(scripts/services.sh env)"
Next: npx commerce demo
MSG
