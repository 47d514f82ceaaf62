"""Reads Delta tables with Apache Spark and delta-spark, Delta's reference implementation,
independently of cdc-merge's writer and of delta-rs, and prints JSON.

Usage: spark_delta_read.py --jars DIR [--cdf STARTING_VERSION] [--cdf-of PATH=VERSION|none]... <table path>...

Spark starts slowly (seconds), so one session reads every table named. Prints one JSON object
keyed by each path as given: the table's version, protocol (minimum versions and table
features), metadata configuration, partition columns, schema (Spark's type names), the
snapshot's rows (sorted by their JSON text), the number of data files and, with --cdf, the
change data feed from that version (each row with _change_type and _commit_version; --cdf-of
sets another starting version, or none, for one table). What Spark
refuses is reported, not raised: `error` when it cannot read the table, `cdfError` when it reads
the snapshot but not the change feed, each with Spark's message. A feed refused across a rename
or drop of a column-mapped table (DELTA_CHANGE_DATA_FEED_INCOMPATIBLE_SCHEMA_CHANGE, Delta's
rule for batch reads) is read again as of the latest schema, and `cdfLatestSchema` says so. Values take the JSON forms of
oracles/delta_read.py: decimals and 64-bit integers beyond 2^53 as strings, bytes as hex, dates
and timestamps as ISO-8601 text (timestamps with microseconds; those with a time zone in UTC
ending in 'Z').

The session is small: local[1], 512 MB for the driver, no UI, on loopback only, an in-memory
catalog; the jars of
DIR (oracles/spark/setup.sh fetches Delta's) go in as spark.jars, so nothing is resolved at run
time.
"""
import argparse
import datetime
import decimal
import glob
import json
import os
import shutil
import sys
import tempfile
import time

# PySpark turns TimestampType values into naive datetimes in the process's local time zone.
os.environ["TZ"] = "UTC"
time.tzset()
# Spark binds its driver to the host's address unless told: this machine's tests stay on loopback.
os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"

from pyspark.sql import SparkSession  # noqa: E402  (after the time zone is set)
from pyspark.sql import types as T  # noqa: E402


def plain(value, data_type):
    """A value of Spark type `data_type` in the oracles' JSON form."""
    if value is None:
        return None
    if isinstance(data_type, T.ArrayType):
        return [plain(v, data_type.elementType) for v in value]
    if isinstance(data_type, T.MapType):
        return {str(plain(k, data_type.keyType)): plain(v, data_type.valueType) for k, v in value.items()}
    if isinstance(data_type, T.StructType):
        return {f.name: plain(value[f.name], f.dataType) for f in data_type.fields}
    if isinstance(data_type, T.DecimalType):
        # Fixed-point at the column's scale, as PostgreSQL prints it: str() of a Decimal from
        # Spark can be '1.00E-10'.
        with decimal.localcontext(decimal.Context(prec=100)):
            return format(value.quantize(decimal.Decimal(1).scaleb(-data_type.scale)), "f")
    if isinstance(data_type, T.TimestampType):
        # The process runs in UTC (above): the naive value is the UTC time.
        return value.isoformat(timespec="microseconds") + "Z"
    if isinstance(data_type, T.TimestampNTZType):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value) if abs(value) > 2**53 else value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def rows_of(df, drop=()):
    fields = [f for f in df.schema.fields if f.name not in drop]
    rows = [{f.name: plain(r[f.name], f.dataType) for f in fields} for r in df.collect()]
    rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
    return rows


def message(error):
    """Spark's message without the JVM stack trace."""
    text = str(error).strip()
    return text.split("\n\tat ")[0].split("\nJVM stacktrace:")[0].strip()


def read_table(spark, path, cdf_from):
    from delta.tables import DeltaTable

    table = DeltaTable.forPath(spark, path)
    detail = table.detail().collect()[0]
    version = table.history(1).collect()[0]["version"]
    snapshot = spark.read.format("delta").load(path)
    out = {
        "version": version,
        "protocol": {
            "minReaderVersion": detail["minReaderVersion"],
            "minWriterVersion": detail["minWriterVersion"],
            "tableFeatures": sorted(detail["tableFeatures"] or []),
        },
        "configuration": dict(detail["properties"] or {}),
        "partitionColumns": list(detail["partitionColumns"] or []),
        "schema": [{"name": f.name, "type": f.dataType.simpleString()} for f in snapshot.schema.fields],
        "rows": rows_of(snapshot),
        "files": detail["numFiles"],
    }
    if cdf_from is not None:
        try:
            out["cdf"] = read_change_feed(spark, path, cdf_from)
        except Exception as error:  # noqa: BLE001 — a refusal is the finding, reported as such
            out["cdfError"] = message(error)
            if INCOMPATIBLE_SCHEMA_CHANGE in out["cdfError"]:
                # Delta refuses a batch read of the feed across a rename or drop under column
                # mapping; read as of the latest schema, its columns found by physical name.
                spark.conf.set(UNSAFE_READ, "true")
                try:
                    out["cdf"] = read_change_feed(spark, path, cdf_from)
                    out["cdfLatestSchema"] = True
                finally:
                    spark.conf.unset(UNSAFE_READ)
    return out


INCOMPATIBLE_SCHEMA_CHANGE = "DELTA_CHANGE_DATA_FEED_INCOMPATIBLE_SCHEMA_CHANGE"
UNSAFE_READ = "spark.databricks.delta.changeDataFeed.unsafeBatchReadOnIncompatibleSchemaChanges.enabled"


def read_change_feed(spark, path, cdf_from):
    cdf = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", cdf_from).load(path)
    return rows_of(cdf, drop=("_commit_timestamp",))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jars", required=True)
    parser.add_argument("--cdf", type=int, default=None)
    parser.add_argument("--cdf-of", action="append", default=[], metavar="PATH=VERSION")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    cdf_of = {}
    for spec in args.cdf_of:
        path, _, version = spec.rpartition("=")
        cdf_of[path] = None if version == "none" else int(version)
    jars = sorted(glob.glob(os.path.join(args.jars, "*.jar")))
    if not jars:
        sys.exit(f"no jars in {args.jars}: run bash oracles/spark/setup.sh")
    scratch = tempfile.mkdtemp(prefix="cdc-spark-")
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("cdc-merge spark oracle")
        .config("spark.jars", ",".join(jars))
        .config("spark.driver.memory", "512m")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC -XX:+UseSerialGC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        # Delta replays the log into 50 partitions by default: 50 tasks a table on one core.
        .config("spark.databricks.delta.snapshotPartitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse"))
        .config("spark.local.dir", scratch)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    out = {}
    try:
        for path in args.paths:
            try:
                out[path] = read_table(spark, path, cdf_of.get(path, args.cdf))
            except Exception as error:  # noqa: BLE001 — a refusal is the finding, reported as such
                out[path] = {"error": message(error)}
    finally:
        spark.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
