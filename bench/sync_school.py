#!/usr/bin/env python3
"""Send every issued transcript of a generated school to a local transcript store
through the sync cron's real code path, and time the raw primitive (a plain requests
POST of the same packages to the same sandbox) in the same run.  See README.md."""

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

from bench_school import build_school, fill_and_submit, register_certificates
from sign_school import checked, close_database, database_arguments, open_database, plan
from sign_school import run as sign_run

os.environ["TZ"] = "UTC"
time.tzset()
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "bench-token"
TIERS = ("subject_teacher", "homeroom_teacher", "principal", "seal")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    database_arguments(p)
    p.add_argument("--fault-rate", type=float, default=0.05)
    p.add_argument(
        "--read-timeout", type=float, default=5.0, help="the client's read timeout (a 'timeout' fault waits longer)"
    )
    p.add_argument("--raw-check", type=int, default=50, help="packages checked + posted by the library alone (no ORM)")
    p.add_argument("--tracemalloc", action="store_true", help="trace the Python heap (slower)")
    return checked(p)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def issue_school(registry, args):
    """A school with every transcript issued through the signing service (as in
    sign_school.py, without its probes)."""
    from odoo import SUPERUSER_ID, api

    rng = random.Random(20201217)
    with registry.cursor() as cr:
        env, classes, users = build_school(api.Environment(cr, SUPERUSER_ID, {}), args, rng)
        fill_and_submit(env, classes, users, rng)
        register_certificates(env, users)
        _homerooms, calls = plan(env, users, 10)
    for tier in TIERS:
        stage = sign_run(registry, calls[tier], False)
        print("  signed %s: %d signatures in %.0f s" % (tier, stage["items"], stage["seconds"]), flush=True)


def due_count(registry):
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        return api.Environment(cr, SUPERUSER_ID, {})["hocba.exchange.service"]._hocba_due_count()


def states(registry):
    with registry.cursor() as cr:
        cr.execute("SELECT state, count(*) FROM hocba_exchange GROUP BY state")
        return dict(cr.fetchall())


def reset(registry, recheck):
    """Every package pending again (and, with ``recheck``, to be checked again)."""
    with registry.cursor() as cr:
        cr.execute(
            """UPDATE hocba_exchange SET state = 'pending', attempts = 0, receiver_ref = NULL,
                      next_attempt_at = NULL, acknowledged_at = NULL, duplicate_count = 0,
                      last_error = NULL %s"""
            % (", package_sha256 = NULL" if recheck else "")
        )


def sync_pass(registry, sandbox, trace, wait_for_backoff=False):
    """The cron's job, run after run (each in its own cursor, as the cron runner does)
    until every package is acknowledged; with ``wait_for_backoff``, sleeping until the
    next package is due, as the cron would be triggered."""
    import odoo.sql_db
    from odoo import SUPERUSER_ID, api

    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    q0, c0, t0 = odoo.sql_db.sql_counter, cpu_seconds(), time.perf_counter()
    runs, seconds_sending = 0, 0.0
    while True:
        t_run = time.perf_counter()
        with registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["hocba.exchange.service"]._cron_hocba_send()
        seconds_sending += time.perf_counter() - t_run
        runs += 1
        if due_count(registry):
            continue
        left = states(registry)
        if set(left) <= {"acknowledged"} or not wait_for_backoff:
            break
        with registry.cursor() as cr:
            cr.execute(
                "SELECT min(next_attempt_at) - now() at time zone 'UTC' FROM hocba_exchange "
                "WHERE state != 'acknowledged'"
            )
            wait = cr.fetchone()[0]
        time.sleep(max(0.5, wait.total_seconds() + 0.5) if wait else 0.5)
    result = {
        "seconds": time.perf_counter() - t0,
        "sending": seconds_sending,
        "cpu": cpu_seconds() - c0,
        "queries": odoo.sql_db.sql_counter - q0,
        "runs": runs,
        "states": states(registry),
        "rss": rss_mb(),
        "heap": tracemalloc.get_traced_memory()[1] if trace else None,
        "records": len(sandbox.receiver.records()),
        "receipts": sum(sandbox.receiver.receipts().values()),
        "injected": dict(sandbox.faults.injected),
    }
    if trace:
        tracemalloc.stop()
    return result


def raw_primitives(registry, sandbox, args):
    """Per package ms: a plain requests POST of the package (Session, keep-alive), and
    the library alone (build + check + POST), to the same sandbox under fresh keys."""
    import requests

    from odoo import SUPERUSER_ID, api

    from odoo.addons.hocba_digital.lib.exchange import package as ep

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        exchanges = env["hocba.exchange"].search([], order="id")
        data = env["hocba.exchange.service"]._hocba_package_data(exchanges)
        roots = env.company.hocba_trusted_roots_pem
    packages = [ep.build(d) for d in data.values()]
    session = requests.Session()
    headers = {"Authorization": "Bearer " + TOKEN, "Content-Type": ep.MEDIA_TYPE}
    post_ms = []
    for i, package in enumerate(packages):
        t0 = time.perf_counter()
        answer = session.post(
            sandbox.url + "/packages",
            data=package.body,
            timeout=30,
            headers=dict(headers, **{"Idempotency-Key": "raw-post-%06d" % i}),
        )
        post_ms.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 201, answer.text
    lib_ms = []
    for i, item in enumerate(list(data.values())[: args.raw_check]):
        t0 = time.perf_counter()
        assert not ep.validate(item, roots)
        package = ep.build(item)
        answer = session.post(
            sandbox.url + "/packages",
            data=package.body,
            timeout=30,
            headers=dict(headers, **{"Idempotency-Key": "raw-lib-%06d" % i}),
        )
        lib_ms.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 201, answer.text
    session.close()
    sizes = [len(p.body) for p in packages]
    return {
        "post": statistics.median(post_ms),
        "post_mean": statistics.mean(post_ms),
        "lib": statistics.median(lib_ms),
        "size": statistics.median(sizes),
        "rss": rss_mb(),
    }


def report(args, n, passes, raw, setup):
    def git(*args):
        return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True).stdout.strip()

    print(
        "\n== %d CPUs, load average now %.1f; %d pupils, %d packages =="
        % (os.cpu_count(), os.getloadavg()[0], args.pupils, n)
    )
    print(
        "addon at commit %s, %d paths changed or new in the work tree"
        % (git("rev-parse", "--short", "HEAD"), len(git("status", "--porcelain").splitlines()))
    )
    print("setup: " + ", ".join("%s %.0f s" % kv for kv in setup.items()))
    print(
        "\nraw primitives, median ms per package (package %.0f KB): plain POST %.1f (mean %.1f), "
        "library build + check + POST %.1f" % (raw["size"] / 1024, raw["post"], raw["post_mean"], raw["lib"])
    )
    head = ("pass", "runs", "wall s", "cpu s", "pkg/s", "ms/pkg", "xPOST", "xlib", "q/pkg", "stored", "receipts")
    line = "%-30s %5s %7s %7s %6s %7s %7s %5s %6s %7s %8s"
    print("\n" + line % head)
    for name, p in passes.items():
        per = 1000 * p["sending"] / n
        print(
            line
            % (
                name,
                p["runs"],
                "%.1f" % p["seconds"],
                "%.1f" % p["cpu"],
                "%.1f" % (n / p["sending"]),
                "%.1f" % per,
                "%.1f" % (per / raw["post"]),
                "%.1f" % (per / raw["lib"]),
                "%.1f" % (p["queries"] / n),
                p["records"],
                p["receipts"],
            )
        )
    print(
        "\nmemory, in the order things ran: ru_maxrss so far (MB)%s"
        % ("; heap: tracemalloc peak of the pass" if args.tracemalloc else "")
    )
    timeline = list(passes.items())
    timeline.insert(1, ("raw primitives (all packages in memory)", {"rss": raw["rss"], "heap": None}))
    for name, p in timeline:
        print("  %-40s %5.0f%s" % (name, p["rss"], ", heap %.0f MB" % (p["heap"] / 2**20) if p["heap"] else ""))
    faulty = passes["faults: check + send"]
    print(
        "\nwith %.0f %% faults: full acknowledgement after %.1f s (%d runs, %.1f s of them "
        "sending, the rest waiting for the backoff); faults injected: %s; final states %s"
        % (
            100 * args.fault_rate,
            faulty["seconds"],
            faulty["runs"],
            faulty["sending"],
            faulty["injected"],
            faulty["states"],
        )
    )


def main():
    args = parse_args()
    registry, setup = open_database(args)
    from odoo import SUPERUSER_ID, api

    from odoo.addons.hocba_digital.lib.sandbox.exchange_sandbox import ExchangeSandbox
    from odoo.addons.hocba_digital.lib.sandbox.faults import FaultPlan

    sandbox = ExchangeSandbox(TOKEN, timeout_delay=args.read_timeout + 1).start()
    try:
        t0 = time.perf_counter()
        issue_school(registry, args)
        setup["school + signing"] = time.perf_counter() - t0
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.company.write({"hocba_exchange_url": sandbox.url, "hocba_exchange_token": TOKEN})
            env["ir.config_parameter"].set_param("hocba_digital.exchange_read_timeout", str(args.read_timeout))
            n = env["hocba.exchange"].search_count([])
        print("%d packages to send" % n, flush=True)
        passes = {}
        passes["clean: check + send"] = sync_pass(registry, sandbox, args.tracemalloc)
        print("clean pass: %.1f s" % passes["clean: check + send"]["seconds"], flush=True)
        assert passes["clean: check + send"]["states"] == {"acknowledged": n}
        raw = raw_primitives(registry, sandbox, args)
        sandbox.reset()
        reset(registry, recheck=False)
        passes["clean: send (checked before)"] = sync_pass(registry, sandbox, args.tracemalloc)
        sandbox.reset()
        reset(registry, recheck=True)
        sandbox.faults = FaultPlan(args.fault_rate, seed=5)
        passes["faults: check + send"] = sync_pass(registry, sandbox, args.tracemalloc, wait_for_backoff=True)
        faulty = passes["faults: check + send"]
        assert faulty["states"] == {"acknowledged": n}, faulty["states"]
        assert faulty["records"] == n  # exactly once
        report(args, n, passes, raw, setup)
    finally:
        sandbox.stop()
        close_database(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
