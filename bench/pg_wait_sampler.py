"""Sample what every busy backend of one database waits on, every 100 ms, from a connection of
its own (issue #23 (2)'s diagnosis): pg_stat_activity's state and wait event, pg_blocking_pids,
and the locks a waiting backend asks for. Prints one line per busy backend per sample and, at
the end (Ctrl-C or --seconds), a summary of the wait events seen per kind of statement.

    python bench/pg_wait_sampler.py --database credence_bench_scoring --seconds 300 > waits.log
"""

import argparse
import collections
import sys
import time

import psycopg

SAMPLE = """
SELECT a.pid, a.state, coalesce(a.wait_event_type, ''), coalesce(a.wait_event, ''),
       pg_blocking_pids(a.pid), extract(epoch FROM now() - a.xact_start),
       left(regexp_replace(a.query, '\\s+', ' ', 'g'), 140),
       (SELECT string_agg(l.locktype || ':' || l.mode || coalesce(':' || l.relation::regclass::text,
                          ':' || l.objid::text, ''), ',')
          FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted)
  FROM pg_stat_activity a
 WHERE a.datname = %s AND a.pid <> pg_backend_pid() AND a.state <> 'idle'
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--dsn", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()
    summary = collections.Counter()
    end = time.monotonic() + args.seconds
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        try:
            while time.monotonic() < end:
                t = time.time()
                for pid, state, wtype, wevent, blockers, xact, query, waiting in conn.execute(
                    SAMPLE, [args.database]
                ).fetchall():
                    print(
                        f"{t:.1f} pid={pid} {state} wait={wtype}:{wevent} "
                        f"blocked_by={blockers} xact={xact or 0:.2f}s "
                        f"lock={waiting or '-'} q={query}",
                        flush=True,
                    )
                    summary[(wtype or "CPU/none", wevent, query[:60])] += 1
                time.sleep(args.interval)
        except KeyboardInterrupt:
            pass
    print("--- summary: samples per (wait type, wait event, statement) ---")
    for (wtype, wevent, query), n in summary.most_common(25):
        print(f"{n:6d}  {wtype}:{wevent}  {query}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
