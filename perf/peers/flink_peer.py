#!/usr/bin/env python3
"""Apache Flink (PyFlink Table API / SQL, in-JVM generator) running the peer jobs.

The events come from Flink's `datagen` connector: a bounded `sequence` field i = 0..N-1 and computed
columns that apply the formula (see common.py); event time is TO_TIMESTAMP_LTZ(ts, 3) with a
watermark equal to it (the data are in order). The session time zone is UTC so that the tumbling
windows are aligned to epoch multiples. No Python code runs per event: the whole job is Flink SQL
compiled to JVM code inside the local mini-cluster that PyFlink starts.

    python flink_peer.py --job window --events 20000000 --parallelism 2
"""

import datetime
import os

import common as c

DDL = """
CREATE TEMPORARY TABLE events (
  i BIGINT,
  tenant AS CONCAT('tenant', LPAD(CAST(MOD(i * {tm}, {tn}) AS STRING), 2, '0')),
  ts AS {base} + i,
  responseTime AS MOD(i * {rtm}, {rtmod}),
  et AS TO_TIMESTAMP_LTZ({base} + i, 3),
  WATERMARK FOR et AS et
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '{rps}',
  'fields.i.kind' = 'sequence',
  'fields.i.start' = '0',
  'fields.i.end' = '{last}'
)
"""

WINDOW_SQL = """
SELECT window_start, tenant, COUNT(*) AS cnt, AVG(CAST(responseTime AS DOUBLE)) AS avg_rt
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(et), INTERVAL '{secs}' SECOND(7)))
GROUP BY window_start, window_end, tenant
"""

FILTER_SINK_DDL = """
CREATE TEMPORARY TABLE filtered (tenant STRING, ts BIGINT, responseTime BIGINT)
WITH ('connector' = 'blackhole')
"""

FILTER_SQL = "INSERT INTO filtered SELECT tenant, ts, responseTime FROM events WHERE responseTime > {thr}"

# The check run for the filter job: the same filtered rows, counted and summed per window inside
# Flink (a handful of rows come back), because the blackhole sink of the timed run keeps nothing.
FILTER_CHECK_SQL = """
SELECT window_start, COUNT(*) AS cnt, SUM(responseTime) AS sum_rt
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(et), INTERVAL '{secs}' SECOND(7)))
WHERE responseTime > {thr}
GROUP BY window_start, window_end
"""

# --source sequence: the same columns over Flink's NumberSequenceSource (the FLIP-27 source behind
# env.from_sequence), turned into a table with computed columns and the same watermark.
SEQ_COLUMNS = [
    ("tenant", "CONCAT('tenant', LPAD(CAST(MOD(f0 * {tm}, {tn}) AS STRING), 2, '0'))"),
    ("ts", "{base} + f0"),
    ("responseTime", "MOD(f0 * {rtm}, {rtmod})"),
    ("et", "TO_TIMESTAMP_LTZ({base} + f0, 3)"),
]

EPOCH = datetime.datetime(1970, 1, 1)


def epoch_ms(dt):
    if dt.tzinfo is not None:
        dt = dt.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return (dt - EPOCH) // datetime.timedelta(milliseconds=1)


SOURCE_NOTE = {
    "datagen": "the datagen connector (sequence field + computed columns)",
    "sequence": "NumberSequenceSource + computed columns",
}


TIMING_NOTE = ("seconds = the job's net runtime as Flink reports it (job start to finish in the "
               "mini-cluster: task deployment, generation, processing); wallSeconds adds SQL planning, "
               "code generation and submission; JVM start (jvmStartSeconds) excluded from both; "
               "timing says which one seconds is (wall only if Flink gave no net runtime)")


def net_runtime_ms(table_result):
    try:
        client = table_result.get_job_client()
        return client.get_job_execution_result().result().get_net_runtime()
    except Exception:  # noqa: the wall-clock figure is the one reported
        return None


def main():
    def extra(ap):
        ap.add_argument("--parallelism", type=int, default=1)
        ap.add_argument("--heap", default=os.environ.get("PEERS_FLINK_HEAP", "3g"))
        ap.add_argument("--no-check", action="store_true", help="filter job: skip the check run")
        ap.add_argument("--source", choices=["datagen", "sequence"], default="datagen",
                        help="datagen: the SQL datagen connector (legacy SourceFunction); sequence: "
                             "NumberSequenceSource via the DataStream API")

    a = c.parse_args(extra)
    config = "parallelism=%d,source=%s" % (a.parallelism, a.source)
    # The JVM that PyFlink starts hosts the whole local mini-cluster (job manager and task slots).
    os.environ["JVM_ARGS"] = ("-Xms{h} -Xmx{h} " + os.environ.get("JVM_ARGS", "")).format(h=a.heap)
    try:
        import pyflink
        from pyflink.table import EnvironmentSettings, TableEnvironment

        version = pyflink.version.__version__
    except Exception as e:  # noqa
        c.emit_error("flink", config, a.job, a.events, "import pyflink: %s" % e)
        return

    try:
        sw = c.Stopwatch()
        fmt = dict(tm=c.TENANT_MULT, tn=c.TENANTS, base=c.BASE_TS, rtm=c.RT_MULT, rtmod=c.RT_MOD)
        if a.source == "datagen":
            t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
        else:
            from pyflink.datastream import StreamExecutionEnvironment
            from pyflink.table import StreamTableEnvironment

            s_env = StreamExecutionEnvironment.get_execution_environment()
            s_env.set_parallelism(a.parallelism)
            t_env = StreamTableEnvironment.create(s_env)
        conf = t_env.get_config()
        conf.set("parallelism.default", str(a.parallelism))
        conf.set("table.local-time-zone", "UTC")
        conf.set("pipeline.name", "sluice-peer-%s" % a.job)
        jvm_start = sw.seconds()
        if a.source == "datagen":
            # rows-per-second: the connector's throttle, set out of reach.
            t_env.execute_sql(DDL.format(rps=10**15, last=a.events - 1, **fmt))
        else:
            from pyflink.common import WatermarkStrategy
            from pyflink.datastream.connectors.number_seq import NumberSequenceSource
            from pyflink.table import DataTypes, Schema

            ds = s_env.from_source(NumberSequenceSource(0, a.events - 1),
                                   WatermarkStrategy.no_watermarks(), "sequence")
            b = Schema.new_builder().column("f0", DataTypes.BIGINT())
            for name, expr in SEQ_COLUMNS:
                b = b.column_by_expression(name, expr.format(**fmt))
            t_env.create_temporary_view("events", t_env.from_data_stream(ds, b.watermark("et", "et").build()))
        secs = c.WINDOW_MS // 1000
        if a.job == "window":
            sw = c.Stopwatch()
            res = t_env.sql_query(WINDOW_SQL.format(secs=secs)).execute()
            rows = []
            with res.collect() as it:
                for r in it:
                    rows.append((epoch_ms(r[0]), r[1], r[2], r[3]))
            wall = sw.seconds()
            net = net_runtime_ms(res)
            c.emit("flink", config, "window", a.events, net / 1000 if net else wall,
                   c.canonical_window(rows), version,
                   note="Flink SQL TUMBLE window TVF over " + SOURCE_NOTE[a.source] + ", "
                        "watermark = event time; the small result collected to Python; " + TIMING_NOTE,
                   jvmStartSeconds=round(jvm_start, 3), wallSeconds=round(wall, 3),
                   timing="netRuntime" if net else "wall", heap=a.heap)
        else:
            t_env.execute_sql(FILTER_SINK_DDL)
            sw = c.Stopwatch()
            res = t_env.execute_sql(FILTER_SQL.format(thr=c.FILTER_THRESHOLD))
            res.wait()
            wall = sw.seconds()
            net = net_runtime_ms(res)
            result = None
            check_seconds = None
            if not a.no_check:
                sw = c.Stopwatch()
                cres = t_env.sql_query(
                    FILTER_CHECK_SQL.format(secs=secs, thr=c.FILTER_THRESHOLD)).execute()
                n = s = 0
                with cres.collect() as it:
                    for r in it:
                        n += r[1]
                        s += r[2]
                check_seconds = sw.seconds()
                result = c.canonical_filter(n, s)
            c.emit("flink", config, "filter", a.events, net / 1000 if net else wall, result, version,
                   note="timed run: INSERT INTO a blackhole sink of (tenant, ts, responseTime) WHERE "
                        "responseTime > 500, every filtered row produced and handed to the sink; "
                        "result from a second, untimed run over the same source counting and "
                        "summing the filtered rows per window in Flink; source: " + SOURCE_NOTE[a.source]
                        + "; " + TIMING_NOTE,
                   jvmStartSeconds=round(jvm_start, 3), wallSeconds=round(wall, 3),
                   timing="netRuntime" if net else "wall",
                   checkSeconds=None if check_seconds is None else round(check_seconds, 3),
                   heap=a.heap)
    except Exception as e:  # noqa
        c.emit_error("flink", config, a.job, a.events, "%s: %s" % (type(e).__name__, e), version)


if __name__ == "__main__":
    main()
