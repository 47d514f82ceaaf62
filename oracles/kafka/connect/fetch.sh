#!/usr/bin/env bash
# Copies the throwaway Kafka Connect worker's jars (oracles/kafka/connect/pom.xml) and the
# Debezium PostgreSQL connector plug-in (oracles/kafka/connect/debezium-postgres/pom.xml) from
# Maven Central into a cache folder, once: <cache>/cdc-merge/connect-<kafka version>-<hash of both
# poms>/ with libs/ (the worker's class path) and plugins/debezium-connector-postgres/ (a folder of
# plugin.path). A changed pom fetches again; an unchanged one returns at once.
# src/testing/throwaway-connect.ts computes the same folder. CDC_CONNECT_HOME names another folder
# with the same layout to use instead (then nothing is fetched); XDG_CACHE_HOME moves the cache
# root (default ~/.cache).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/pom.xml"
plugin_pom="$here/debezium-postgres/pom.xml"

if [ -n "${CDC_CONNECT_HOME:-}" ]; then
  echo "CDC_CONNECT_HOME is set: using the jars in $CDC_CONNECT_HOME, fetching nothing"
  exit 0
fi

version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
hash="$(cat "$pom" "$plugin_pom" | sha256sum | cut -c1-12)"
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
dest="${XDG_CACHE_HOME:-$home/.cache}/cdc-merge/connect-$version-$hash"
if [ -f "$dest/complete" ]; then
  echo "Kafka Connect $version and Debezium jars already in $dest"
  exit 0
fi

# Copy into a scratch folder and rename it when complete, so an interrupted fetch is never taken
# for a finished one.
partial="$dest.partial"
rm -rf "$partial"
mkdir -p "$partial"
copy() {
  mvn -q -B -Dstyle.color=never -f "$1" org.apache.maven.plugins:maven-dependency-plugin:3.11.0:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$2"
}
copy "$pom" "$partial/libs"
copy "$plugin_pom" "$partial/plugins/debezium-connector-postgres"
touch "$partial/complete"
rm -rf "$dest"
mv "$partial" "$dest"
echo "Kafka Connect $version and Debezium jars fetched into $dest"
