#!/usr/bin/env bash
# Copies the throwaway Kafka broker's jars (oracles/kafka/pom.xml) from Maven Central into a
# cache folder, once: the folder's name carries the Kafka version and a hash of the pom, so a
# changed pom fetches again and an unchanged one returns at once. src/testing/throwaway-kafka.ts
# computes the same folder. CDC_KAFKA_LIBS names another folder of jars to use instead (then
# nothing is fetched); XDG_CACHE_HOME moves the cache root (default ~/.cache).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/pom.xml"

if [ -n "${CDC_KAFKA_LIBS:-}" ]; then
  echo "CDC_KAFKA_LIBS is set: using the jars in $CDC_KAFKA_LIBS, fetching nothing"
  exit 0
fi

version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
hash="$(sha256sum "$pom" | cut -c1-12)"
home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
dest="${XDG_CACHE_HOME:-$home/.cache}/cdc-merge/kafka-$version-$hash"
if [ -f "$dest/complete" ]; then
  echo "Kafka $version jars already in $dest"
  exit 0
fi

# Copy into a scratch folder and rename it when complete, so an interrupted fetch is never taken
# for a finished one.
partial="$dest.partial"
rm -rf "$partial"
mkdir -p "$partial"
mvn -q -B -Dstyle.color=never -f "$pom" org.apache.maven.plugins:maven-dependency-plugin:3.11.0:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$partial/libs"
touch "$partial/complete"
rm -rf "$dest"
mv "$partial" "$dest"
echo "Kafka $version jars fetched into $dest"
