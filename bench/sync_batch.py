#!/usr/bin/env python3
"""One batch of the sync cron against the library alone, back to back, in a fresh
process, on a database `sync_school.py --keep` left (every package already issued).
Separates what the cron path adds from what the check costs, without the state a
long bench process carries.  See README.md."""

import argparse
import logging
import os
import sys
import time

from sign_school import odoo_args

os.environ["TZ"] = "UTC"
time.tzset()
TOKEN = "bench-token"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    env = os.environ.get
    p.add_argument("--db", default="hocba_bench_sync", help="a database sync_school.py kept")
    p.add_argument("--db-host", default=env("DB_HOST") or env("PGHOST"))
    p.add_argument("--db-port", default=env("DB_PORT") or env("PGPORT") or "5432")
    p.add_argument("--db-user", default=env("DB_USER") or env("HOCBA_DB_USER") or "odoo")
    p.add_argument("--db-password", default=env("DB_PASSWORD"))
    p.add_argument("--data-dir", default=os.path.expanduser("~/.local/share/hocba-odoo"))
    p.add_argument("--http-port", default="8185")
    p.add_argument("--batch", type=int, default=50, help="packages per measurement")
    p.add_argument("--rounds", type=int, default=2)
    return p.parse_args()


def main():
    args = parse_args()
    from odoo.tools import config

    config.parse_config(odoo_args(args))
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    import requests

    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    from odoo.addons.hocba_digital.lib.exchange import package as ep
    from odoo.addons.hocba_digital.lib.sandbox.exchange_sandbox import ExchangeSandbox

    registry = Registry(args.db)
    session = requests.Session()
    headers = {"Authorization": "Bearer " + TOKEN, "Content-Type": ep.MEDIA_TYPE}
    sandbox = ExchangeSandbox(TOKEN).start()
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.company.write({"hocba_exchange_url": sandbox.url, "hocba_exchange_token": TOKEN})
            first = env["hocba.exchange"].search([], order="id", limit=args.batch)
            cr.execute(
                "UPDATE hocba_exchange SET next_attempt_at = now() + interval '1 day', "
                "state = 'pending' WHERE id != ALL(%s)",
                [first.ids],
            )
        print(
            "%d packages per measurement, %d CPUs, load average %.1f" % (len(first), os.cpu_count(), os.getloadavg()[0])
        )
        for round_ in range(args.rounds):
            for what in ("cron", "library"):  # library: check + build + POST, no ORM
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    if what == "cron":
                        cr.execute(
                            """UPDATE hocba_exchange SET state = 'pending', attempts = 0,
                            receiver_ref = NULL, next_attempt_at = NULL, acknowledged_at = NULL,
                            duplicate_count = 0, last_error = NULL, package_sha256 = NULL
                            WHERE id = ANY(%s)""",
                            [first.ids],
                        )
                        cr.commit()
                        sandbox.reset()
                        wall, cpu = time.perf_counter(), time.process_time()
                        env["hocba.exchange.service"]._cron_hocba_send()
                    else:
                        exchanges = env["hocba.exchange"].browse(first.ids)
                        data = env["hocba.exchange.service"]._hocba_package_data(exchanges)
                        roots = env.company.hocba_trusted_roots_pem
                        wall, cpu = time.perf_counter(), time.process_time()
                        for i, item in enumerate(data.values()):
                            assert not ep.validate(item, roots)
                            package = ep.build(item)
                            answer = session.post(
                                sandbox.url + "/packages",
                                data=package.body,
                                timeout=30,
                                headers=dict(headers, **{"Idempotency-Key": "raw-post-%d-%04d" % (round_, i)}),
                            )
                            assert answer.status_code == 201, answer.text
                    n = len(first)
                    print(
                        "round %d  %-8s %6.0f ms/pkg wall %6.0f ms/pkg cpu"
                        % (
                            round_ + 1,
                            what,
                            1000 * (time.perf_counter() - wall) / n,
                            1000 * (time.process_time() - cpu) / n,
                        ),
                        flush=True,
                    )
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
