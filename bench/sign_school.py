#!/usr/bin/env python3
"""Sign a whole school through ``hocba.signing.service.hocba_sign`` and time the
same documents with the raw libraries (no ORM) in the same run.  See README.md."""

import argparse
import base64
import collections
import datetime
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc

from bench_school import PIN, build_school, fill_and_submit, register_certificates

os.environ["TZ"] = "UTC"  # what the odoo launcher does before anything reads the clock
time.tzset()
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIERS = ("subject_teacher", "homeroom_teacher", "principal", "seal")


def database_arguments(parser):
    """The options every bench shares: the database it drops and re-creates, the
    school's size, keeping the database."""
    env = os.environ.get
    parser.add_argument("--db", default="hocba_bench")
    parser.add_argument(
        "--allow-drop", action="store_true", help="accept a --db name not starting with hocba_bench (it is dropped)"
    )
    parser.add_argument("--db-host", default=env("DB_HOST") or env("PGHOST"))
    parser.add_argument("--db-port", default=env("DB_PORT") or env("PGPORT") or "5432")
    parser.add_argument("--db-user", default=env("DB_USER") or env("HOCBA_DB_USER") or "odoo")
    parser.add_argument("--db-password", default=env("DB_PASSWORD"))
    parser.add_argument("--data-dir", default=os.path.expanduser("~/.local/share/hocba-odoo"))
    parser.add_argument("--http-port", default="8185", help="of the installing launcher")
    parser.add_argument("--pupils", type=int, default=850)
    parser.add_argument("--class-size", type=int, default=34)
    parser.add_argument("--keep", action="store_true", help="keep the database")


def checked(parser):
    args = parser.parse_args()
    if not args.db.startswith("hocba_bench") and not args.allow_drop:
        parser.error("--db must start with hocba_bench (the database is dropped and re-created), or give --allow-drop")
    return args


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    database_arguments(p)
    p.add_argument("--batch", type=int, default=10, help="transcripts per hocba_sign call")
    p.add_argument("--probe", type=int, default=200, help="the large batch of the probe")
    p.add_argument("--repeat", type=int, default=5, help="runs of each raw primitive")
    p.add_argument(
        "--tracemalloc", action="store_true", help="trace Python allocations in the main stages too (slows them)"
    )
    p.add_argument("--top-queries", type=int, default=6, help="most frequent SQL statements to show per stage")
    return checked(p)


def odoo_args(args):
    finder = os.path.join(REPO, "tools", "find-odoo")
    addons = subprocess.run([finder, "--addons"], check=True, capture_output=True, text=True).stdout.strip()
    out = [
        "--addons-path=%s,%s" % (addons, REPO),
        "--data-dir=%s" % args.data_dir,
        "--db_port=%s" % args.db_port,
        "--db_user=%s" % args.db_user,
        "--http-port=%s" % args.http_port,
        "--workers=0",
        "--max-cron-threads=0",
        "--log-level=warn",
    ]
    if args.db_host:
        out.append("--db_host=%s" % args.db_host)
    if args.db_password:
        out.append("--db_password=%s" % args.db_password)
    return out


def install(args, base):
    """A fresh database with the addon and no demo data, by the launcher itself."""
    import odoo.service.db

    if odoo.service.db.exp_db_exist(args.db):
        odoo.service.db.exp_drop(args.db)
    launcher = subprocess.run(
        [os.path.join(REPO, "tools", "find-odoo")], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(
        [launcher, *base, "-d", args.db, "-i", "hocba_digital", "--without-demo=all", "--stop-after-init"], check=True
    )


# ---------------------------------------------------------------- signing
def chunks(ids, size):
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def plan(env, users, batch):
    """hocba_sign calls ``(uid, purpose, transcript ids)`` per stage, by class, in
    chunks of ``batch``; homeroom teachers sign their own subjects in the subject stage
    (their homeroom item is then refused: the specialists have not signed yet)."""
    env.cr.execute("""SELECT s.user_id, r.class_id, array_agg(DISTINCT r.transcript_id)
                        FROM hocba_subject_result r JOIN hocba_entry_sheet s ON s.id = r.sheet_id
                       WHERE r.period = 'end_year' GROUP BY 1, 2 ORDER BY 2, 1""")
    subject_rows = env.cr.fetchall()
    classes = env["school.class"].search([], order="grade, name")
    by_class = {c.id: sorted(c.transcript_ids.ids) for c in classes}
    homerooms = {c.homeroom_user_id.id for c in classes}
    subject = [
        (u, "personal", part)
        for first in (True, False)
        for u, _c, ids in subject_rows
        if (u in homerooms) == first
        for part in chunks(sorted(ids), batch)
    ]

    def per_class(uid, purpose):
        return [(uid, purpose, part) for ids in by_class.values() for part in chunks(ids, batch)]

    return homerooms, {
        "subject_teacher": subject,
        "homeroom_teacher": [
            (c.homeroom_user_id.id, "personal", part) for c in classes for part in chunks(by_class[c.id], batch)
        ],
        "principal": per_class(users["hieutruong"].id, "personal"),
        "seal": per_class(users["vanthu"].id, "seal"),
    }


def split_probe(calls, sets, batch, skip=()):
    """Fresh sets of transcripts, ``[(batch size, count)]``, each signed one call per
    batch, and the stage's calls without them.  In the subject stage each set is another
    specialist's (same work: one subject block per transcript, where a homeroom teacher
    signs several); the principal, alone in his stage, gives consecutive slices."""
    mine = collections.defaultdict(list)
    for uid, purpose, ids in calls:
        mine[uid, purpose].extend(ids)
    users = sorted((k for k in mine if k[0] not in skip), key=lambda k: -len(mine[k]))
    users = users[: len(sets)] if len(users) >= len(sets) else users[:1] * len(sets)
    taken, probes = collections.Counter(), []
    for (size, count), key in zip(sets, users):
        ids = mine[key][taken[key] : taken[key] + count]
        taken[key] += count
        probes.append([(*key, part) for part in chunks(ids, size)])
    rest = [(*key, part) for key in taken for part in chunks(mine[key][taken[key] :], batch)]
    return probes, [c for c in calls if (c[0], c[1]) not in taken] + rest


def signatures_by_tier(registry):
    with registry.cursor() as cr:
        cr.execute("SELECT tier, count(*) FROM hocba_signature GROUP BY tier")
        return collections.Counter(dict(cr.fetchall()))


def run(registry, calls, trace):
    """Each call in its own transaction, as the signing dialog makes them."""
    import odoo.sql_db
    from odoo import SUPERUSER_ID, api

    before = signatures_by_tier(registry)
    statements = collections.Counter()
    threading.current_thread().query_hooks = [
        lambda _cr, query, *_a: statements.update([" ".join(str(query).split())[:110]])
    ]
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    seconds, cpu, queries, failed, transcripts = 0.0, 0.0, 0, collections.Counter(), set()
    for uid, purpose, ids in calls:
        q0, t0, c0 = odoo.sql_db.sql_counter, time.perf_counter(), cpu_seconds()
        with registry.cursor() as cr:
            result = (
                api.Environment(cr, SUPERUSER_ID, {})["hocba.signing.service"]
                .with_user(uid)
                .hocba_sign(ids, PIN, purpose)
            )
        seconds += time.perf_counter() - t0
        cpu += cpu_seconds() - c0
        queries += odoo.sql_db.sql_counter - q0
        transcripts.update(ids)
        for failure in result["failed"]:
            failed[failure["reason"].replace(failure["transcript"], "<t>")[:90]] += 1
    threading.current_thread().query_hooks = []
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    made = signatures_by_tier(registry) - before
    return {
        "seconds": seconds,
        "cpu": cpu,
        "queries": queries,
        "calls": calls,
        "failed": failed,
        "transcripts": len(transcripts),
        "made": made,
        "items": sum(made.values()),
        "py_peak": peak,
        "rss": rss_mb(),
        "statements": statements,
    }


def cpu_seconds():
    """CPU of this process and of its finished children (wkhtmltopdf): on a shared box
    it moves less than wall time (PostgreSQL's own CPU is not in it)."""
    return sum(
        u.ru_utime + u.ru_stime
        for u in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def rss_mb():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# ---------------------------------------------------------------- raw primitives
def documents(registry, pki):
    """What the primitives work on, read once through the ORM (not timed) once the
    subjects are signed: the XML as the subject and homeroom tiers sign it, the HTML the
    homeroom signature renders, a sealed key."""
    from odoo import SUPERUSER_ID, api

    from odoo.addons.hocba_digital.lib.documents import xml_profile
    from odoo.addons.hocba_digital.lib.signing.xades import KeySigner

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        transcript = env["hocba.transcript"].search([], order="grade desc, id", limit=1)
        version, mapping = transcript.current_version_id, env["hocba.xml.mapping"]
        valid = version._hocba_valid_signatures()
        subjects = valid.filtered(lambda s: s.tier == "subject_teacher")
        data = mapping._hocba_data(transcript, version, subjects)
        doc = dict(
            xml_profile.parse(xml_profile.build(data)),
            verify_url="https://bench.invalid/hocba/verify/x",
            subject_signers={s.subject_id.code: s.signer_name for s in subjects},
        )
        report = env.ref("hocba_digital.action_report_transcript_document")
        html, _kind = report._render_qweb_html(report.report_name, transcript.ids, data={"documents": [doc]})
        paper = report.paperformat_id
        user = transcript.class_id.homeroom_user_id
        certificate = env["hocba.certificate"]._hocba_for(user, "homeroom_teacher")
        issued = pki._lookup(user.login)
        return {
            "data": data,
            "empty": mapping._hocba_data(transcript, version, []),
            "subject": subjects[:1].subject_id.code,
            "earlier": subjects.mapped("wrapper_id"),
            "html": html,
            "paper": dict(
                page_size=paper.format or "A4",
                dpi=paper.dpi or 96,
                margins_mm=(paper.margin_top, paper.margin_right, paper.margin_bottom, paper.margin_left),
            ),
            "signer": KeySigner(issued.key, issued.cert, [pki.intermediate.cert]),
            "sealed": base64.b64decode(certificate.sudo().sealed_key),
            "binding": certificate._hocba_key_binding(),
            "pupil": transcript.display_name,
        }


def primitives(docs):
    """The library calls one signature makes, on the same documents, without the ORM."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    from odoo.addons.hocba_digital.lib.documents import html_pdf, transcript_layout, xml_profile
    from odoo.addons.hocba_digital.lib.documents.xml_profile.hocba_1_0 import NS_1_0
    from odoo.addons.hocba_digital.lib.signing import chain as sc
    from odoo.addons.hocba_digital.lib.signing import pades, xades
    from odoo.addons.hocba_digital.lib.signing.keys import key_vault

    signer, now = docs["signer"], datetime.datetime.now(datetime.timezone.utc)

    def sign_xml(base, tier, subject=None, earlier=()):
        return xades.sign_tier(
            base,
            signer,
            sc.references(tier, subject, earlier),
            parent="{%s}Signatures" % NS_1_0,
            wrapper_tag="{%s}Signature" % NS_1_0,
            wrapper_id=sc.wrapper_id(tier, subject),
            tier=tier,
            claimed_role=sc.CLAIMED_ROLES[tier],
            signing_time=now,
        )

    base_subject, base_home = xml_profile.build(docs["empty"]), xml_profile.build(docs["data"])
    pdf = html_pdf.html_to_pdf(docs["html"], **docs["paper"])
    attach = [{"name": "hocba.xml", "data": base_home, "description": "bench"}]
    prepared = pades.prepare(pdf, transcript_layout.SIGNATURE_FIELDS, attachments=attach)
    calls = {
        "xml build": lambda: xml_profile.build(docs["data"]),
        "xml validate": lambda: xml_profile.validate(base_home),
        "XAdES subject": lambda: sign_xml(base_subject, sc.SUBJECT, docs["subject"]),
        "XAdES homeroom": lambda: sign_xml(base_home, sc.HOMEROOM, None, docs["earlier"]),
        "PDF render": lambda: html_pdf.html_to_pdf(docs["html"], **docs["paper"]),
        "PAdES prepare": lambda: pades.prepare(pdf, transcript_layout.SIGNATURE_FIELDS, attachments=attach),
        "PAdES sign": lambda: pades.sign(prepared, "sig_homeroom", signer, reason="bench", location="bench"),
        "PIN unseal": lambda: key_vault.unseal(docs["sealed"], PIN, docs["binding"]),
    }
    pages = int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])
    return calls, pages, (len(base_home), len(pdf))


def sample(calls, repeat, samples):
    """``repeat`` timed runs (ms) of each call after one untimed (warm caches)."""
    for name, call in calls.items():
        call()
        for _i in range(repeat):
            t0 = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - t0) * 1000)


# ---------------------------------------------------------------- report
RAW = {  # (the one primitive the ratio is against, the library work one item does)
    "subject_teacher": (["XAdES subject"], ["xml build", "xml validate", "XAdES subject"]),
    "homeroom_teacher": (
        ["PDF render", "XAdES homeroom", "PAdES sign"],
        ["xml build", "xml validate", "XAdES homeroom", "xml build", "PDF render", "PAdES prepare", "PAdES sign"],
    ),
    "principal": (["XAdES homeroom", "PAdES sign"], ["xml validate", "XAdES homeroom", "xml build", "PAdES sign"]),
    "seal": (["XAdES homeroom", "PAdES sign"], ["xml validate", "XAdES homeroom", "xml build", "PAdES sign"]),
}


def report(args, stages, probes, timeline, samples, pages, sizes, setup, sanity):
    timings = {name: statistics.median(runs) for name, runs in samples.items()}

    def git(*args):
        return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True).stdout.strip()

    print(
        "\n== %d CPUs, %.1f GiB RAM, load average now %.1f; %d pupils, batch %d =="
        % (
            os.cpu_count(),
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            os.getloadavg()[0],
            args.pupils,
            args.batch,
        )
    )
    print(
        "addon at commit %s, %d paths changed or new in the work tree"
        % (git("rev-parse", "--short", "HEAD"), len(git("status", "--porcelain").splitlines()))
    )
    print("setup: " + ", ".join("%s %.0f s" % kv for kv in setup.items()))
    print(
        "\nraw primitives, ms: median of %d runs after each stage (min-max); XML %d bytes,"
        " PDF %d bytes, %d page(s)" % (args.repeat, sizes[0], sizes[1], pages)
    )
    for name, ms in timings.items():
        print("  %-15s %7.1f  (%.1f-%.1f)" % (name, ms, min(samples[name]), max(samples[name])))
    head = (
        "stage",
        "items",
        "trans",
        "wall s",
        "cpu s",
        "ms/item",
        "raw ms",
        "xraw",
        "lib ms",
        "xlib",
        "q/tr",
        "q/item",
    )
    line = "%-16s %6s %6s %7s %7s %8s %7s %5s %7s %5s %6s %6s"
    print("\n" + line % head)
    for tier, s in stages.items():
        raw, lib = (sum(timings[n] for n in names) for names in RAW[tier])
        per = 1000 * s["seconds"] / max(s["items"], 1)
        print(
            line
            % (
                tier,
                s["items"],
                s["transcripts"],
                "%.1f" % s["seconds"],
                "%.1f" % s["cpu"],
                "%.1f" % per,
                "%.1f" % raw,
                "%.1f" % (per / raw),
                "%.1f" % lib,
                "%.1f" % (per / lib),
                "%.1f" % (s["queries"] / max(s["transcripts"], 1)),
                "%.1f" % (s["queries"] / max(s["items"], 1)),
            )
        )
    print(
        "\npeak memory, in the order things ran (ru_maxrss so far, MB; wkhtmltopdf: its "
        "largest run; heap: tracemalloc peak of that run)"
    )
    for label, rss, peak in timeline:
        heap = ", heap %.0f MB" % (peak / 2**20) if peak else ""
        print("  %-33s odoo %5.0f, wkhtmltopdf %4.0f%s" % (label, *rss, heap))
    print("\nbatch probe: fresh transcripts, one call per batch, under tracemalloc")
    for tier, runs in probes.items():
        q = [s["queries"] / max(s["transcripts"], 1) for s in runs]
        for s, per in zip(runs, q):
            print(
                "  %-16s batch %3d: %4d transcripts, %4d items, %6.1f s, %5.1f queries"
                "/transcript, heap peak %4.0f MB"
                % (
                    tier,
                    max(len(ids) for _u, _p, ids in s["calls"]),
                    s["transcripts"],
                    s["items"],
                    s["seconds"],
                    per,
                    s["py_peak"] / 2**20,
                )
            )
        print(
            "  %-16s -> batch %d vs %d: %s (x%.2f)"
            % (
                "",
                args.batch,
                max(len(ids) for _u, _p, ids in runs[2]["calls"]),
                "GROWS with the batch" if q[2] > q[1] * 1.05 + 0.5 else "does not grow",
                q[2] / q[1],
            )
        )
    for tier, s in stages.items():
        print("\nmost frequent statements in %s (count per transcript):" % tier)
        for statement, n in s["statements"].most_common(args.top_queries):
            print("  %5.1f  %s" % (n / max(s["transcripts"], 1), statement))
    runs = list(stages.items()) + [(t + " probe", s) for t, runs in probes.items() for s in runs]
    for tier, s in runs:
        for reason, n in s["failed"].most_common():
            print("refused in %s: %d x %s" % (tier, n, reason))
    print("\nsanity: " + sanity)


def open_database(args):
    """Odoo configured for the bench, the database installed afresh: its registry and
    the seconds the install took."""
    base = odoo_args(args)
    from odoo.tools import config

    config.parse_config(base)
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    from odoo.modules.registry import Registry

    t0 = time.perf_counter()
    install(args, base)
    return Registry(args.db), {"install": time.perf_counter() - t0}


def close_database(args):
    import odoo
    from odoo.modules.registry import Registry

    Registry.delete(args.db)
    if not args.keep:
        odoo.sql_db.close_db(args.db)
        odoo.service.db.exp_drop(args.db)


def main():
    args = parse_args()
    registry, setup = open_database(args)
    from odoo import SUPERUSER_ID, api

    rng = random.Random(20201217)
    try:
        with registry.cursor() as cr:
            t0 = time.perf_counter()
            env, classes, users = build_school(api.Environment(cr, SUPERUSER_ID, {}), args, rng)
            setup["school"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            fill_and_submit(env, classes, users, rng)
            setup["fill+submit+approve"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            pki = register_certificates(env, users)
            setup["certificates"] = time.perf_counter() - t0
            homerooms, calls = plan(env, users, args.batch)
        stages, probes, samples, timeline = {}, {}, collections.defaultdict(list), []
        for tier in TIERS:
            if tier in ("subject_teacher", "principal"):
                most = max(collections.Counter(u for u, _p, ids in calls[tier] for _t in ids).values())
                size = min(args.probe, most if tier == "subject_teacher" else most // 4)
                sets = [(1, min(20, size // 2)), (args.batch, size), (size, size)]
                sets, calls[tier] = split_probe(calls[tier], sets, args.batch, homerooms)
            stages[tier] = run(registry, calls[tier], args.tracemalloc)
            timeline.append((tier, stages[tier]["rss"], stages[tier]["py_peak"]))
            print("%s: %d signatures in %.0f s" % (tier, stages[tier]["items"], stages[tier]["seconds"]), flush=True)
            if tier in ("subject_teacher", "principal"):
                # after the stage: the homeroom teachers' calls above must still find
                # specialists' subjects unsigned, as in a school where they sign first
                probes[tier] = [run(registry, probe, True) for probe in sets]
                timeline += [
                    ("%s probe, batch %d" % (tier, max(len(c[2]) for c in p["calls"])), p["rss"], p["py_peak"])
                    for p in probes[tier]
                ]
            if tier == "subject_teacher":  # the documents exist from here on
                raw, pages, sizes = primitives(documents(registry, pki))
            sample(raw, args.repeat, samples)  # once per stage: the box's load varies
            timeline.append(("raw primitives", rss_mb(), None))
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            issued = env["hocba.version"].search([("state", "=", "issued")])
            from odoo.addons.hocba_digital.lib.signing import pades_verify

            verdict = pades_verify.verify(base64.b64decode(issued[:1].pdf_file), [pki.root_pem])
            sanity = "%d of %d transcripts issued; PAdES verdict of %s: %s" % (
                len(issued),
                env["hocba.transcript"].search_count([]),
                issued[:1].display_name,
                verdict["verdict"],
            )
        report(args, stages, probes, timeline, samples, pages, sizes, setup, sanity)
    finally:
        close_database(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
