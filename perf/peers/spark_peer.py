#!/usr/bin/env python3
"""Apache Spark Structured Streaming (pyspark, local[2]) running the peer jobs over Parquet.

The events are written once (numpy + pyarrow, the formula of common.py) to Parquet files of 250,000 rows
under .data/parquet-N/ and read back as a stream: readStream.schema(...).parquet(dir) with
maxFilesPerTrigger and trigger(availableNow=True), so the query runs micro-batch after micro-batch
over the files and stops when they are all read. Timed: query start to its end (the Spark session's
start and the Parquet generation are not).

window: event time = timestamp_millis(ts), watermark 0 s, groupBy(window(et, 1000 s), tenant) with
count and avg, output mode `update` into foreachBatch, which keeps the latest row per
(window, tenant): update mode gives the final value of every window, the last one included (append
mode would hold back the windows that the watermark has not passed when the input ends).
filter: where responseTime > 500, select tenant, ts, responseTime; foreachBatch aggregates every
selected column of the micro-batch (count, sum(responseTime), max(ts), sum(length(tenant))), so
Spark cannot prune the projection.

    python spark_peer.py --job window --events 20000000
"""

import math
import os
import shutil
import tempfile

import common as c

ROWS_PER_FILE = 250_000



def timed_query(writer, checkpoint):
    """Runs a streaming query over all available input to its end; returns its seconds."""
    sw = c.Stopwatch()
    writer.option("checkpointLocation", checkpoint).trigger(availableNow=True).start().awaitTermination()
    return sw.seconds()

def parquet_dir(n):
    return os.path.join(c.DATA_DIR, "parquet-%d-per%d" % (n, ROWS_PER_FILE))


def ensure_parquet(n):
    """Writes the N events as Parquet files of ROWS_PER_FILE rows once; later runs reuse them."""
    d = parquet_dir(n)
    stamp = os.path.join(d, "_COMPLETE")
    if os.path.exists(stamp):
        return d, False
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    names = np.array([c.tenant_name(t) for t in range(c.TENANTS)], dtype=object)
    nfiles = math.ceil(n / ROWS_PER_FILE)
    for f in range(nfiles):
        i = np.arange(f * ROWS_PER_FILE, min(n, (f + 1) * ROWS_PER_FILE), dtype=np.int64)
        table = pa.table({
            "tenant": pa.array(names[(i * c.TENANT_MULT) % c.TENANTS], type=pa.string()),
            "ts": pa.array(c.BASE_TS + i, type=pa.int64()),
            "responseTime": pa.array((i * c.RT_MULT) % c.RT_MOD, type=pa.int64()),
        })
        pq.write_table(table, os.path.join(d, "part-%05d.parquet" % f))
    open(stamp, "w").close()
    return d, True


def main():
    def extra(ap):
        ap.add_argument("--master", default="local[2]")
        ap.add_argument("--batch-events", type=int, default=1_000_000,
                        help="events per micro-batch (maxFilesPerTrigger = this / %d); "
                             "0 = all files in one micro-batch" % ROWS_PER_FILE)
        ap.add_argument("--driver-memory", default=os.environ.get("PEERS_SPARK_MEMORY", "4g"))

    a = c.parse_args(extra)
    files_per_trigger = max(1, a.batch_events // ROWS_PER_FILE) if a.batch_events > 0 else 0
    config = "%s,microBatch=%s" % (a.master, "%d" % (files_per_trigger * ROWS_PER_FILE)
                                   if files_per_trigger else "all")
    try:
        import pyspark

        version = pyspark.__version__
    except Exception as e:  # noqa
        c.emit_error("spark", config, a.job, a.events, "import pyspark: %s" % e)
        return
    ckpt = None
    try:
        sw = c.Stopwatch()
        data, generated = ensure_parquet(a.events)
        gen_seconds = sw.seconds()

        from pyspark.sql import SparkSession
        from pyspark.sql import functions as F
        from pyspark.sql.types import LongType, StringType, StructField, StructType

        sw = c.Stopwatch()
        cores = a.master[a.master.find("[") + 1:-1] if "[" in a.master else "2"
        spark = (SparkSession.builder.master(a.master).appName("sluice-peer-" + a.job)
                 .config("spark.driver.memory", a.driver_memory)
                 .config("spark.sql.shuffle.partitions", cores)
                 .config("spark.default.parallelism", cores)
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false")
                 .config("spark.sql.streaming.stateStore.maintenanceInterval", "600s")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        jvm_start = sw.seconds()

        schema = StructType([StructField("tenant", StringType()), StructField("ts", LongType()),
                             StructField("responseTime", LongType())])
        reader = spark.readStream.schema(schema)
        if files_per_trigger:
            reader = reader.option("maxFilesPerTrigger", files_per_trigger)
        events = reader.parquet(data)
        os.makedirs(c.DATA_DIR, exist_ok=True)
        ckpt = tempfile.mkdtemp(prefix="spark-ckpt-", dir=c.DATA_DIR)
        batches = [0]

        if a.job == "window":
            latest = {}
            agg = (events.withColumn("et", F.timestamp_millis("ts"))
                   .withWatermark("et", "0 seconds")
                   .groupBy(F.window("et", "%d seconds" % (c.WINDOW_MS // 1000)), "tenant")
                   .agg(F.count(F.lit(1)).alias("cnt"), F.avg("responseTime").alias("avg_rt"))
                   .select(F.unix_millis(F.col("window.start")).alias("start"), "tenant", "cnt", "avg_rt"))

            def sink(df, _batch_id):
                batches[0] += 1
                for r in df.collect():
                    latest[(r["start"], r["tenant"])] = (r["cnt"], r["avg_rt"])

            seconds = timed_query(agg.writeStream.outputMode("update").foreachBatch(sink), ckpt)
            result = c.canonical_window([(w, t, n, avg) for (w, t), (n, avg) in latest.items()])
            note = ("Structured Streaming over Parquet (files of 250k rows), watermark 0 s, "
                    "window(et, 1000 s) x tenant count/avg, update mode into foreachBatch keeping the "
                    "latest row per key; seconds = query start to end")
        else:
            totals = [0, 0, 0, 0]
            filtered = events.where(F.col("responseTime") > c.FILTER_THRESHOLD) \
                .select("tenant", "ts", "responseTime")

            def sink(df, _batch_id):
                batches[0] += 1
                r = df.agg(F.count(F.lit(1)), F.sum("responseTime"), F.max("ts"),
                           F.sum(F.length("tenant"))).collect()[0]
                totals[0] += r[0]
                totals[1] += r[1] or 0
                totals[2] = max(totals[2], r[2] or 0)
                totals[3] += r[3] or 0

            seconds = timed_query(filtered.writeStream.outputMode("append").foreachBatch(sink), ckpt)
            result = c.canonical_filter(totals[0], totals[1])
            note = ("Structured Streaming over Parquet (files of 250k rows): where responseTime > 500, "
                    "select tenant, ts, responseTime; foreachBatch aggregates all three columns "
                    "(count, sum, max, sum of lengths) so every selected row and column is read; "
                    "seconds = query start to end")
        c.emit("spark", config, a.job, a.events, seconds, result, version, note=note,
               microBatches=batches[0], jvmStartSeconds=round(jvm_start, 3),
               parquetGeneratedSeconds=round(gen_seconds, 3) if generated else None,
               driverMemory=a.driver_memory)
        spark.stop()
    except Exception as e:  # noqa
        c.emit_error("spark", config, a.job, a.events, "%s: %s" % (type(e).__name__, e), version)
    finally:
        if ckpt:
            shutil.rmtree(ckpt, ignore_errors=True)


if __name__ == "__main__":
    main()
