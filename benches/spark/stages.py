#!/usr/bin/env python3
"""One deja.spark job, timed per phase and per Spark stage (from Spark's event log).

  target/python-venv/bin/python benches/spark/stages.py CORPUS.jsonl [--partitions 16]

Runs the benchmark's deja job (local[2], 4 GB driver, run.py's settings) with
spark.eventLog.enabled and prints: the time to a SparkSession (JVM start), the time of
spark.read.json, the time of the job (pairs collected), then every stage: its tasks, wall time,
the tasks' summed run time, and input / shuffle bytes.
"""

import argparse
import glob
import json
import os
import sys
import tempfile
import time

t_start = time.perf_counter()
ap = argparse.ArgumentParser()
ap.add_argument("corpus")
ap.add_argument("--partitions", default="16", help="spark.sql.shuffle.partitions")
a = ap.parse_args()

from pyspark.sql import SparkSession

logs = tempfile.mkdtemp(prefix="deja-eventlog-")
spark = (
    SparkSession.builder.master("local[2]")
    .appName("deja-profile")
    .config("spark.driver.memory", "4g")
    .config("spark.sql.shuffle.partitions", a.partitions)
    .config("spark.ui.enabled", "false")
    .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    .config("spark.eventLog.enabled", "true")
    .config("spark.eventLog.dir", "file://" + logs)
    .config("spark.eventLog.compress", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
t_session = time.perf_counter()
df = spark.read.schema("id STRING, text STRING").json(a.corpus)
t_read = time.perf_counter()

import deja.spark

pairs = deja.spark.near_duplicates(df, threshold=0.8).select("a", "b").collect()
t_job = time.perf_counter()
spark.stop()
t_stop = time.perf_counter()

print(f"python start + SparkSession (JVM): {t_session - t_start:6.1f} s")
print(f"spark.read.json:                   {t_read - t_session:6.1f} s")
print(f"near_duplicates → collect:         {t_job - t_read:6.1f} s  ({len(pairs)} pairs)")
print(f"spark.stop:                        {t_stop - t_job:6.1f} s")

stages, jobs = {}, {}
for log in sorted(glob.glob(os.path.join(logs, "**", "events_*"), recursive=True)):
    with open(log, encoding="utf-8") as f:
        lines = f.readlines()
    for line in lines:
        ev = json.loads(line)
        kind = ev["Event"]
        if kind == "SparkListenerJobStart":
            jobs[ev["Job ID"]] = [ev["Submission Time"], None, ev["Stage IDs"]]
        elif kind == "SparkListenerJobEnd":
            jobs[ev["Job ID"]][1] = ev["Completion Time"]
        elif kind == "SparkListenerTaskEnd":
            st = stages.setdefault(ev["Stage ID"], {"run": 0, "in": 0, "sr": 0, "sw": 0})
            m = ev.get("Task Metrics") or {}
            st["run"] += m.get("Executor Run Time", 0)
            st["in"] += m.get("Input Metrics", {}).get("Bytes Read", 0)
            sr = m.get("Shuffle Read Metrics", {})
            st["sr"] += sr.get("Remote Bytes Read", 0) + sr.get("Local Bytes Read", 0)
            st["sw"] += m.get("Shuffle Write Metrics", {}).get("Shuffle Bytes Written", 0)
        elif kind == "SparkListenerStageCompleted":
            info = ev["Stage Info"]
            st = stages.setdefault(info["Stage ID"], {"run": 0, "in": 0, "sr": 0, "sw": 0})
            st["tasks"] = info["Number of Tasks"]
            st["wall"] = (info["Completion Time"] - info["Submission Time"]) / 1000
            st["name"] = info["Stage Name"].split(" at ")[0]
            st["start"] = info["Submission Time"]
t0 = min(j[0] for j in jobs.values())
print(f"\n{len(jobs)} jobs, {sum(1 for s in stages.values() if 'wall' in s)} stages run "
      f"(skipped stages not listed); job wall in Spark: "
      f"{(max(j[1] for j in jobs.values()) - t0) / 1000:.1f} s")
print(f"{'stage':>5} {'at s':>6} {'tasks':>5} {'wall s':>7} {'run s':>7} {'in MB':>7} "
      f"{'shuf r MB':>9} {'shuf w MB':>9}  name")
for sid, s in sorted(stages.items(), key=lambda kv: kv[1].get("start", 0)):
    if "wall" not in s:
        continue
    print(f"{sid:>5} {(s['start'] - t0) / 1000:>6.1f} {s['tasks']:>5} {s['wall']:>7.1f} "
          f"{s['run'] / 1000:>7.1f} {s['in'] / 1e6:>7.0f} {s['sr'] / 1e6:>9.1f} "
          f"{s['sw'] / 1e6:>9.1f}  {s['name']}")
sys.stdout.flush()
