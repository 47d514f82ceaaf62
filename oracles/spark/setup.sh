#!/usr/bin/env bash
# The Spark oracle (oracles/spark_delta_read.py), installed once into
# ${CDC_MERGE_CACHE:-~/.cache/cdc-merge}/spark-oracle: a Python virtual environment with pyspark
# and delta-spark (requirements.txt beside this file; pyspark carries Spark's own jars) and
# Delta's jars from Maven Central (pom.xml beside this file) in jars/, which the oracle passes as
# spark.jars so that no reading resolves packages at run time. Rebuilt when either file changes
# (their copy in the folder is the stamp); returns at once when present. About 600 MB; needs
# python3 with venv, Java 17+ and Maven. Optional: the default oracles (oracles/setup.sh) do not
# include it; `.ci/run` runs it, and test/delta-spark.pg.test.ts says to when it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${CDC_MERGE_CACHE:-$HOME/.cache/cdc-merge}"
dest="$cache/spark-oracle"
stamp="$(cat "$here/requirements.txt" "$here/pom.xml")"
if [ -f "$dest/stamp" ] && [ "$(cat "$dest/stamp")" = "$stamp" ]; then
  echo "spark oracle: already in $dest" >&2
  exit 0
fi

# Build into a scratch folder and rename it when complete, so an interrupted install is never
# taken for a finished one.
echo "spark oracle: installing pyspark, delta-spark and Delta's jars into $dest" >&2
partial="$dest.partial"
rm -rf "$partial"
mkdir -p "$partial"
python3 -m venv "$partial/venv"
"$partial/venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
# Only Delta's own jars: what else they name (Hadoop, Parquet, Jackson, Scala) Spark has, newer.
mvn -q -B -Dstyle.color=never -f "$here/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.11.0:copy-dependencies \
  -DincludeScope=runtime -DincludeGroupIds=io.delta -DoutputDirectory="$partial/jars"
printf '%s' "$stamp" > "$partial/stamp"
# A venv's scripts name the folder it was made in: the oracle calls venv/bin/python by its path,
# which finds its environment wherever the folder lies, and never those scripts.
rm -rf "$dest"
mv "$partial" "$dest"
echo "spark oracle: installed in $dest" >&2
