#!/usr/bin/env bash
# The test oracles, installed once into ${CDC_MERGE_CACHE:-~/.cache/cdc-merge} (idempotent; fast
# when present): the Python environment with delta-rs, pyarrow and moto, pinned by
# oracles/requirements.txt and rebuilt when that file changes, the throwaway Kafka broker's jars
# (oracles/kafka/fetch.sh), and the throwaway Kafka Connect worker's jars with the Debezium
# PostgreSQL connector plug-in (oracles/kafka/connect/fetch.sh). Needs python3 with venv, and
# Java 17+ with Maven for the jars.
# `.ci/run` and the tests' global setup (test/global-setup.ts) run it.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${CDC_MERGE_CACHE:-$HOME/.cache/cdc-merge}"
venv="$cache/venv-oracles"
if [ -z "${CDC_MERGE_ORACLES_PYTHON:-}" ] && ! cmp -s oracles/requirements.txt "$venv/requirements.txt" 2>/dev/null; then
  echo "oracles: creating the Python environment in $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r oracles/requirements.txt
  cp oracles/requirements.txt "$venv/requirements.txt"
fi
bash oracles/kafka/fetch.sh
bash oracles/kafka/connect/fetch.sh
