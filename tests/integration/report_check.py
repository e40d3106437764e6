#!/usr/bin/python3
"""Checks what `glci report`, `glci export --format xlsx` and `glci template`
wrote, against the real glci's JSON output. Run with Debian's /usr/bin/python3
(python3-openpyxl); only the standard library otherwise.

  report_check.py browser  --glci BIN --store DIR --report DIR [--shots DIR]
                           [--synthetic yes|no]
      Renders every page of the site in headless Chromium (the DevTools
      protocol over --remote-debugging-pipe): no console error, no failed or
      non-local request, every chart image loaded with its alt text, a
      screenshot that is not blank; the numbers on each page equal
      `glci rank/show --format json`, its lights `show`'s, its trend
      classes `glci trend`'s and its peers `glci peers`'s; sorting and the
      country filter work.
  report_check.py layout --glci BIN --store DIR --report DIR
      Every page of the site in headless Chromium at 1280 px: no heading,
      caption or paragraph runs past its box or the window, no table cell
      lies outside the window or the table's scroll box, so a city's name
      of any length (without spaces too) leaves every column in sight.
  report_check.py pdf FILE --glci BIN --store DIR --city ID [--synthetic yes|no]
                       [--missing-cut yes|no]
      Two A4 pages (pdfinfo), each rendered to PNG by pdftoppm and not
      blank; the city's name, index, area scores and peers are in its text
      (pdftotext), and what is missing for the round as `glci show` has it
      (every id, or whole ids then "… and N more."; --missing-cut: which).
  report_check.py pdf-text FILE --glci BIN --store DIR --city ID
                            [--edition NAME | --as-of TIME] [--peers-whole]
      The profile's text as pdftotext -layout reads it: page 1's title is
      the city's name whole, in the order it is stored (bidi marks aside);
      each page's footer names the table (the edition, its period and
      time, or the as-of time) and the framework whole; --peers-whole: each
      leading city's line holds whole indicators only, the first ones of
      `glci peers`, each with its value and this city's, then "and N more"
      for the rest.
  report_check.py xlsx FILE --glci BIN --store DIR [--period P | --all-periods]
                        [--edition NAME | --as-of TIME]
      The workbook read back with openpyxl equals `glci export --format json`
      with the same options (scores: only its period, or every period with
      --all-periods; the about sheet names its period rule, edition and
      as-of time), `glci history` (values: those that can count for the
      period, received by the table's time, current as of then; with
      --as-of now the time the workbook names, which must not be after
      the JSON's now) and `glci framework` (framework).
  report_check.py template-xlsx FILE --glci BIN --store DIR --period P [--city ID]
      The entry sheet has the agent's columns, one row per indicator, a
      decimal validation of each value with the indicator's range; the guide
      sheet names each indicator and its last value.
  report_check.py xlsx-to-csv FILE OUT [--excel] [--delete-empty [--fill ID]...]
      Saves the entry sheet as CSV the way a spreadsheet does (numbers to at
      most 15 significant digits, as Excel shows them), after filling each
      empty value with the middle of its valid range (from the guide).
      --delete-empty: the rows with an empty value are deleted instead, but
      for those named by --fill, as staff reporting only some values do.
      --excel: as a spreadsheet in a decimal-comma locale saves "CSV UTF-8":
      a byte-order mark, ';' between fields, ',' as the decimal mark.

Exit status 0 when everything holds; otherwise each problem on stderr, then 1.
A missing tool (chromium, pdfinfo, pdftoppm, pdftotext, openpyxl) is a
failure naming the package: deploy/setup-deps.sh installs them all.
"""
import argparse
import base64
import csv
import glob
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

PROBLEMS = []
DEADLINE_S = 120  # an upper bound per browser answer, never a speed check


def problem(text):
    PROBLEMS.append(text)
    print("FAIL: " + text, file=sys.stderr)


def need(tool, package):
    if shutil.which(tool) is None:
        print(f"FAIL: {tool} is not installed (package {package}; "
              "deploy/setup-deps.sh installs it)", file=sys.stderr)
        sys.exit(1)


def glci_json(args, *cmd):
    out = subprocess.run([args.glci, "--store", args.store, "--format", "json", *cmd],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"FAIL: glci {' '.join(cmd)}: {out.stderr.strip()}")
    return json.loads(out.stdout)


# ---- PNG ------------------------------------------------------------------

def png_pixels(data):
    """Decodes an 8-bit, non-interlaced PNG: (width, height, channels, rows)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, colour, _, _, interlace = hdr
    if depth != 8 or interlace != 0 or colour not in (0, 2, 4, 6):
        raise ValueError(f"PNG kind not handled (depth {depth}, colour {colour})")
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b = prev[x]
            c = prev[x - ch] if x >= ch else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, ch, rows


def png_not_blank(data, what):
    """The image has ink: some share of non-white pixels and several colours."""
    w, h, ch, rows = png_pixels(data)
    inked, colours = 0, set()
    for y in range(0, h, 2):
        row = rows[y]
        for x in range(0, w, 2):
            px = row[x * ch:x * ch + min(ch, 3)]
            if min(px) < 200:
                inked += 1
            if len(colours) < 64:
                colours.add(bytes(px))
    share = inked / max(1, (w // 2) * (h // 2))
    if share < 0.005 or len(colours) < 3:
        problem(f"{what}: looks blank ({share:.2%} inked, {len(colours)} colours)")
    return w, h


# ---- the browser ----------------------------------------------------------

class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe."""

    def __init__(self):
        need("chromium", "chromium")
        self.profile = tempfile.mkdtemp(prefix="glci-chromium-")
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()

        def fds():
            # the browser reads commands on fd 3 and answers on fd 4
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--hide-scrollbars",
             "--user-data-dir=" + self.profile, "--remote-debugging-pipe", "about:blank"],
            preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf, self.next_id, self.events = b"", 0, []

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:  # noqa: BLE001 - it is going anyway
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child_w)
        os.close(self._from_child_r)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _message(self):
        while b"\0" not in self.buf:
            ready, _, _ = select.select([self._from_child_r], [], [], DEADLINE_S)
            if not ready:
                raise SystemExit(f"FAIL: the browser did not answer within {DEADLINE_S} s")
            data = os.read(self._from_child_r, 1 << 20)
            if not data:
                raise SystemExit("FAIL: the browser closed its pipe")
            self.buf += data
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child_w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise SystemExit(f"FAIL: {method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name, session):
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == name and e.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._message())

    def page(self):
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable", session)
        self.call("Emulation.setDeviceMetricsOverride", session, width=1280, height=900,
                  deviceScaleFactor=1, mobile=False)
        return target, session

    def evaluate(self, session, expr):
        r = self.call("Runtime.evaluate", session, expression=expr, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise SystemExit(f"FAIL: script error: {r['exceptionDetails']}")
        return r["result"].get("value")


PAGE_FACTS = r"""
(() => {
  const num = el => (el === null ? undefined : (el.dataset.value === '' ? null : Number(el.dataset.value)));
  const word = el => (el === null ? undefined : (el.dataset.value === '' ? null : el.dataset.value));
  const one = sel => document.querySelector(sel);
  const facts = {
    title: document.title,
    synthetic: one('#synthetic') !== null,
    images: [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0, alt: i.alt})),
    text: document.body.innerText,
  };
  if (one('#league')) {
    facts.rows = [...document.querySelectorAll('#league tbody tr')].map(r => ({
      city: r.dataset.city, country: r.dataset.country,
      rank: num(r.querySelector('[data-key=rank]')),
      index: num(r.querySelector('[data-key=index]')),
      index_text: r.querySelector('[data-key=index]').textContent,
      coverage: num(r.querySelector('[data-key=coverage]')),
      areas: Object.fromEntries([...r.querySelectorAll('[data-key^="area:"]')].map(
        c => [c.dataset.key.slice(5), num(c)])),
    }));
  } else {
    facts.index = num(one('dd[data-key=index]'));
    facts.index_text = one('dd[data-key=index]').textContent;
    facts.coverage = num(one('dd[data-key=coverage]'));
    facts.rank = num(one('dd[data-key=rank]'));
    facts.focus = Object.fromEntries([...document.querySelectorAll('#data-focus tbody tr')].map(
      r => [r.dataset.focus, num(r.querySelector('[data-key=score]'))]));
    facts.areas = Object.fromEntries([...document.querySelectorAll('#data-areas tbody tr')]
      .filter(r => r.dataset.area).map(r => [r.dataset.area, num(r.querySelector('[data-key=score]'))]));
    facts.trend = Object.fromEntries([...document.querySelectorAll('#data-trend tbody tr')].map(
      r => [r.dataset.period, num(r.querySelector('[data-key=index]'))]));
    facts.trend_rows = Object.fromEntries([...document.querySelectorAll('#data-trend tbody tr')].map(
      r => [r.dataset.period, {round: r.dataset.round === 'true', trend: word(r.querySelector('[data-key=trend]')),
                               previous: num(r.querySelector('[data-key=previous]')),
                               per_year: num(r.querySelector('[data-key=per_year]'))}]));
    const trends = one('#data-trends');
    facts.trends = trends === null ? null : {round: Number(trends.dataset.round),
      rows: Object.fromEntries([...trends.querySelectorAll('tbody tr')].map(r => [r.dataset.node, {
        score: num(r.querySelector('[data-key=score]')), previous: num(r.querySelector('[data-key=previous]')),
        per_year: num(r.querySelector('[data-key=per_year]')), trend: word(r.querySelector('[data-key=trend]'))}]))};
    facts.has_trends = one('#trends') !== null;
    facts.no_rounds = one('#no-rounds') !== null;
    facts.has_lights = one('#indicators [data-key=light]') !== null;
    facts.indicators = Object.fromEntries([...document.querySelectorAll('#indicators tr[data-ind]')].map(r => [
      r.dataset.ind, {value: num(r.querySelector('[data-key=value]')),
                      period: num(r.querySelector('[data-key=period]')),
                      carried: r.dataset.carried === 'true',
                      score: num(r.querySelector('[data-key=score]')),
                      score_text: r.querySelector('[data-key=score]').textContent,
                      value_text: r.querySelector('[data-key=value]').textContent,
                      light: word(r.querySelector('[data-key=light]'))}]));
    facts.missing = [...document.querySelectorAll('#missing li[data-ind]')].map(l => l.dataset.ind);
    const peers = one('#peers');
    facts.peers = peers === null ? null : {
      no_weak: one('#no-weak') !== null, no_peers: one('#no-peers') !== null,
      text: peers.innerText,
      focus: [...peers.querySelectorAll('article.peer-focus')].map(a => ({
        id: a.dataset.focus, score: Number(a.dataset.score), median: Number(a.dataset.median),
        cities: Number(a.dataset.cities),
        peers: [...a.querySelectorAll('tbody.peer')].map(b => ({
          city: b.dataset.city, score: Number(b.dataset.score), rank: Number(b.dataset.rank),
          indicators: [...b.querySelectorAll('tr[data-ind]')].map(t => ({
            id: t.dataset.ind, value: num(t.querySelector('[data-key=value]')),
            score: num(t.querySelector('[data-key=score]')), light: word(t.querySelector('[data-key=light]')),
            city_absent: t.querySelector('[data-key=city_value]').dataset.value === '',
            city_value_text: t.querySelector('[data-key=city_value]').textContent,
            city_score_text: t.querySelector('[data-key=city_score]').textContent,
            gap_text: t.querySelector('[data-key=gap]').textContent}))}))}))};
  }
  return facts;
})()
"""


def same(a, b):
    """Numbers equal exactly (the page carries round-trip text), or both absent."""
    if a is None or b is None:
        return a is None and b is None
    return float(a) == float(b)


def check_index_page(facts, rank_json, show):
    rows = facts["rows"]
    ranked = {r["city"]: r for r in rank_json["rows"]}
    if [r["city"] for r in rows[:len(rank_json["rows"])]] != [r["city"] for r in rank_json["rows"]]:
        problem("index.html: the league table's order differs from glci rank")
    for row in rows:
        city = row["city"]
        j = ranked.get(city)
        if j:
            if not same(row["rank"], j["rank"]):
                problem(f"index.html {city}: rank {row['rank']} != {j['rank']}")
            if not same(row["index"], j["index"]):
                problem(f"index.html {city}: index {row['index']} != {j['index']}")
            if row["index_text"] != f"{j['index']:.1f}":
                problem(f"index.html {city}: index shown {row['index_text']!r}, "
                        f"expected {j['index']:.1f}")
        elif row["rank"] is not None:
            problem(f"index.html {city}: ranked on the page but not by glci rank")
        s = show.get(city)
        if s is None:
            if row["index"] is not None or row["coverage"] is not None:
                problem(f"index.html {city}: numbers for a city without a result")
            continue
        if not same(row["coverage"], s["coverage"]):
            problem(f"index.html {city}: coverage {row['coverage']} != {s['coverage']}")
        for a in s["areas"]:
            if not same(row["areas"].get(a["id"]), a["score"]):
                problem(f"index.html {city}: area {a['id']} {row['areas'].get(a['id'])} "
                        f"!= {a['score']}")


def check_city_page(city, facts, show, rank_json, period, history_index):
    where = f"city-{city}.html"
    ranked = {r["city"]: r for r in rank_json["rows"]}
    want_rank = ranked[city]["rank"] if city in ranked else None
    if not same(facts["rank"], want_rank):
        problem(f"{where}: rank {facts['rank']} != {want_rank}")
    if show is None:
        if facts["index"] is not None or facts["indicators"] and any(
                v["value"] is not None for v in facts["indicators"].values()):
            problem(f"{where}: values shown for a city without a result")
        return
    if not same(facts["index"], show["index"]):
        problem(f"{where}: index {facts['index']} != {show['index']}")
    if show["index"] is not None and facts["index_text"] != f"{show['index']:.1f}":
        problem(f"{where}: index shown {facts['index_text']!r}")
    if not same(facts["coverage"], show["coverage"]):
        problem(f"{where}: coverage {facts['coverage']} != {show['coverage']}")
    missing = []
    for area in show["areas"]:
        if not same(facts["areas"].get(area["id"]), area["score"]):
            problem(f"{where}: area {area['id']} {facts['areas'].get(area['id'])} != {area['score']}")
        for fo in area["focus"]:
            if not same(facts["focus"].get(fo["id"]), fo["score"]):
                problem(f"{where}: focus {fo['id']} {facts['focus'].get(fo['id'])} != {fo['score']}")
            for ind in fo["indicators"]:
                got = facts["indicators"].get(ind["id"])
                if got is None:
                    problem(f"{where}: indicator {ind['id']} is not on the page")
                    continue
                for key in ("value", "period", "score"):
                    if not same(got[key], ind[key]):
                        problem(f"{where}: {ind['id']} {key} {got[key]} != {ind[key]}")
                if bool(got["carried"]) != bool(ind["carried"]):
                    problem(f"{where}: {ind['id']} carried {got['carried']} != {ind['carried']}")
                if ind["score"] is not None and got["score_text"] != f"{ind['score']:.1f}":
                    problem(f"{where}: {ind['id']} score shown {got['score_text']!r}")
                if got["light"] != ind["light"]:
                    problem(f"{where}: {ind['id']} light {got['light']!r} != show's "
                            f"{ind['light']!r}")
                if ind["value"] is None or ind["carried"]:
                    missing.append(ind["id"])
    if facts["missing"] != missing:
        problem(f"{where}: missing for the round {facts['missing']} != {missing}")
    for p, v in history_index.items():
        if not same(facts["trend"].get(str(p)), v):
            problem(f"{where}: index of {p} {facts['trend'].get(str(p))} != {v}")


def same_trend(where, got, want):
    """A trend cell of the page against one of `glci trend --format json`."""
    for key in ("previous", "per_year"):
        if not same(got[key], want[key]):
            problem(f"{where}: {key} {got[key]} != glci trend's {want[key]}")
    if got["trend"] != want["trend"]:
        problem(f"{where}: trend {got['trend']!r} != glci trend's {want['trend']!r}")


def check_trends(city, facts, trend_json, period):
    """The index's class per round next to the index over time, and every
    score's class at the latest round up to the period, as `glci trend`."""
    where = f"city-{city}.html"
    rounds = [r for r in (trend_json or {}).get("periods", []) if r["period"] <= period]
    if not facts["has_trends"]:
        problem(f"{where}: no trends section")
        return
    by_period = {r["period"]: r for r in rounds}
    for p, row in facts["trend_rows"].items():
        want = by_period.get(int(p))
        if row["round"] != (want is not None):
            problem(f"{where}: {p} marked {'a' if row['round'] else 'no'} round, glci trend "
                    f"says {'it is' if want else 'it is not'}")
        elif want:
            same_trend(f"{where} index {p}", row, want["index"])
    if not rounds:
        if not facts["no_rounds"] or facts["trends"] is not None:
            problem(f"{where}: no reporting round, and the page does not say so")
        return
    last = rounds[-1]
    t = facts["trends"]
    if t is None or t["round"] != last["period"]:
        problem(f"{where}: trends of round {t and t['round']}, glci trend's latest is "
                f"{last['period']}")
        return
    want = {"index": last["index"]}
    for a in last["areas"]:
        want["area:" + a["id"]] = a
        for fo in a["focus"]:
            want["focus:" + fo["id"]] = fo
    if sorted(t["rows"]) != sorted(want):
        problem(f"{where}: trend rows {sorted(t['rows'])} != {sorted(want)}")
    for node, w in want.items():
        got = t["rows"].get(node)
        if got is None:
            continue
        if not same(got["score"], w["score"]):
            problem(f"{where} trend {node}: score {got['score']} != {w['score']}")
        same_trend(f"{where} trend {node}", got, w)


def check_peer_indicators(where, got, want, facts, show):
    """A leading city's indicators: id, value, score and light exact; this
    city's value and score, which the page carries exactly in its indicator
    table only, are that table's (and `glci peers`' are `show`'s), the gap
    is shown as `glci peers`' rounded."""
    if [i["id"] for i in got] != [i["id"] for i in want]:
        problem(f"{where}: indicators {[i['id'] for i in got]} != glci peers' "
                f"{[i['id'] for i in want]}")
        return
    mine = {i["id"]: i for a in show["areas"] for f in a["focus"] for i in f["indicators"]}
    for g, w in zip(got, want):
        at = f"{where} {w['id']}"
        if not same(g["value"], w["value"]) or not same(g["score"], w["score"]) \
                or g["light"] != w["light"]:
            problem(f"{at}: value {g['value']} score {g['score']} light {g['light']!r} != "
                    f"glci peers' {w['value']} {w['score']} {w['light']!r}")
        if w["city_value"] is None:
            if not g["city_absent"] or g["city_score_text"] != "\u2013" \
                    or g["gap_text"] != "\u2013":
                problem(f"{at}: the city has no value, the page shows "
                        f"{g['city_value_text']!r} {g['city_score_text']!r} {g['gap_text']!r}")
            continue
        table = facts["indicators"].get(w["id"], {})
        if not same(w["city_value"], mine[w["id"]]["value"]) or \
                not same(w["city_score"], mine[w["id"]]["score"]):
            problem(f"{at}: glci peers' city value/score differ from glci show's")
        if g["city_absent"] or g["city_value_text"].split(" ", 1)[0] != table.get("value_text"):
            problem(f"{at}: this city's value {g['city_value_text']!r}, the indicator table "
                    f"shows {table.get('value_text')!r}")
        if g["city_score_text"] != f"{w['city_score']:.1f}" or \
                g["city_score_text"] != table.get("score_text"):
            problem(f"{at}: this city's score {g['city_score_text']!r} != {w['city_score']:.1f}")
        if g["gap_text"] != f"{w['gap']:.1f}":
            problem(f"{at}: gap {g['gap_text']!r} != glci peers' {w['gap']:.1f}")


def check_peers(city, facts, peers_json, show):
    """The peers section against `glci peers CITY --period P --format json`
    (None: the city has no result for the period)."""
    where = f"city-{city}.html"
    got = facts["peers"]
    if got is None:
        problem(f"{where}: no peers section")
        return
    if peers_json is None:
        if not got["no_peers"] or got["focus"]:
            problem(f"{where}: a city without a result, and its peers do not say so")
        return
    if not peers_json["focus"]:
        if not got["no_weak"] or got["focus"] or "No focus area below" not in got["text"]:
            problem(f"{where}: no weak focus area, and the page does not say so")
        return
    if got["no_weak"] or got["no_peers"]:
        problem(f"{where}: says it has no peers, glci peers has {len(peers_json['focus'])} "
                "focus areas")
    if [f["id"] for f in got["focus"]] != [f["id"] for f in peers_json["focus"]]:
        problem(f"{where}: weak focus areas {[f['id'] for f in got['focus']]} != glci peers' "
                f"{[f['id'] for f in peers_json['focus']]}")
        return
    for gf, wf in zip(got["focus"], peers_json["focus"]):
        w = f"{where} peers {wf['id']}"
        for key in ("score", "median", "cities"):
            if not same(gf[key], wf[key]):
                problem(f"{w}: {key} {gf[key]} != {wf[key]}")
        if [p["city"] for p in gf["peers"]] != [p["city"] for p in wf["peers"]]:
            problem(f"{w}: peers {[p['city'] for p in gf['peers']]} != "
                    f"{[p['city'] for p in wf['peers']]}")
            continue
        for gp, wp in zip(gf["peers"], wf["peers"]):
            if not same(gp["score"], wp["score"]) or gp["rank"] != wp["rank"]:
                problem(f"{w} {wp['city']}: score {gp['score']} rank {gp['rank']} != "
                        f"{wp['score']} {wp['rank']}")
            check_peer_indicators(f"{w} {wp['city']}", gp["indicators"], wp["indicators"],
                                  facts, show)


def cmd_browser(args):
    rank_json = glci_json(args, "rank", "--period", str(args.period)) if args.period else \
        glci_json(args, "rank")
    period = rank_json["period"]
    pages = sorted(glob.glob(os.path.join(args.report, "city-*.html")))
    if not pages:
        problem(f"{args.report}: no city pages")
    cities = [os.path.basename(p)[5:-5] for p in pages]
    show, trend, trends, peers = {}, {}, {}, {}
    status = glci_json(args, "status")
    first = status.get("first_period") or period
    for city in cities:
        r = subprocess.run([args.glci, "--store", args.store, "--format", "json", "show", city,
                            "--period", str(period)], capture_output=True, text=True)
        show[city] = json.loads(r.stdout) if r.returncode == 0 else None
        r = subprocess.run([args.glci, "--store", args.store, "--format", "json", "trend", city],
                           capture_output=True, text=True)
        trends[city] = json.loads(r.stdout) if r.returncode == 0 else None
        peers[city] = glci_json(args, "peers", city, "--period", str(period)) \
            if show[city] is not None else None
        trend[city] = {}
        for p in range(first, period + 1):
            r = subprocess.run([args.glci, "--store", args.store, "--format", "json", "show",
                                city, "--period", str(p)], capture_output=True, text=True)
            trend[city][p] = json.loads(r.stdout)["index"] if r.returncode == 0 else None

    browser = Browser()
    shots = {}
    try:
        for path in [os.path.join(args.report, "index.html")] + pages:
            name = os.path.basename(path)
            target, session = browser.page()
            browser.call("Page.navigate", session, url="file://" + os.path.abspath(path))
            browser.wait_event("Page.loadEventFired", session)
            facts = browser.evaluate(session, PAGE_FACTS)
            if name == "index.html":
                check_index_page(facts, rank_json, show)
                check_sorting(browser, session, facts)
            else:
                city = name[5:-5]
                check_city_page(city, facts, show[city], rank_json, period, trend[city])
                if show[city] is not None and not facts["has_lights"]:
                    problem(f"{name}: no lights")
                check_trends(city, facts, trends[city], period)
                check_peers(city, facts, peers[city], show[city])
            if (args.synthetic == "yes") != facts["synthetic"]:
                problem(f"{name}: synthetic label {'missing' if args.synthetic == 'yes' else 'shown'}")
            for img in facts["images"]:
                if not img["ok"]:
                    problem(f"{name}: image {img['src']} did not load")
                if not img["alt"]:
                    problem(f"{name}: image {img['src']} has no alt text")
            height = min(int(browser.evaluate(session,
                                              "document.documentElement.scrollHeight")), 4000)
            # a small screenshot of the whole page to see it is not blank (decoding
            # in pure Python is slow), a full-size one only to keep
            for scale in (0.25, 1) if args.shots else (0.25,):
                shot = browser.call("Page.captureScreenshot", session, format="png",
                                    captureBeyondViewport=True,
                                    clip={"x": 0, "y": 0, "width": 1280, "height": height,
                                          "scale": scale})
                png = base64.b64decode(shot["data"])
                if scale < 1:
                    png_not_blank(png, name + " screenshot")
                else:
                    shots[name] = png
            for e in browser.events:
                if e.get("sessionId") != session:
                    continue
                m, p = e.get("method"), e.get("params", {})
                if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert",
                                                                         "warning"):
                    problem(f"{name}: console {p['type']}: {p.get('args')}")
                elif m == "Runtime.exceptionThrown":
                    problem(f"{name}: exception: {p.get('exceptionDetails', {}).get('text')}")
                elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                    problem(f"{name}: {p['entry']['level']}: {p['entry']['text']}")
                elif m == "Network.requestWillBeSent":
                    url = p["request"]["url"]
                    if not (url.startswith("file://") or url.startswith("data:")):
                        problem(f"{name}: a request to the network: {url}")
                elif m == "Network.loadingFailed":
                    problem(f"{name}: a load failed: {p.get('errorText')}")
            browser.events = [e for e in browser.events if e.get("sessionId") != session]
            browser.call("Target.closeTarget", targetId=target)
    finally:
        browser.close()
    if args.shots:
        os.makedirs(args.shots, exist_ok=True)
        for name, png in shots.items():
            with open(os.path.join(args.shots, name[:-5] + ".png"), "wb") as f:
                f.write(png)
    weak = sum(1 for p in peers.values() if p and p["focus"])
    print(f"browser: {len(pages) + 1} pages checked against glci show/rank/trend/peers, period "
          f"{period}; {weak} cities with weak focus areas, "
          f"{sum(1 for p in peers.values() if p and not p['focus'])} without")


LAYOUT_PROBLEMS = r"""
(() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  const what = el => el.tagName.toLowerCase() + ' "' + el.textContent.trim().slice(0, 40) + '"';
  if (document.documentElement.scrollWidth > vw)
    out.push('the page is ' + document.documentElement.scrollWidth + ' px wide in ' + vw + ' px');
  for (const el of document.querySelectorAll('h1, h2, h3, p, caption, figcaption, dd')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0)
      continue;   /* not rendered (closed details) */
    if (el.scrollWidth > el.clientWidth + 1 || r.right > vw + 0.5)
      out.push(what(el) + ' runs past its box (' + el.scrollWidth + ' px in ' + el.clientWidth + ')');
  }
  for (const t of document.querySelectorAll('table')) {
    const box = t.closest('.scroll');
    const right = Math.min(box ? box.getBoundingClientRect().right : vw, vw);
    for (const c of t.querySelectorAll('th, td')) {
      const r = c.getBoundingClientRect();
      if (r.width > 0 && r.right > right + 0.5) {
        out.push('table ' + (t.id || t.className) + ': ' + what(c) + ' ends at ' +
                 Math.round(r.right) + ' px, out of sight right of ' + Math.round(right) + ' px');
        break;
      }
    }
  }
  return out;
})()
"""


def cmd_layout(args):
    pages = [os.path.join(args.report, "index.html")] + \
        sorted(glob.glob(os.path.join(args.report, "city-*.html")))
    browser = Browser()
    try:
        for path in pages:
            target, session = browser.page()
            browser.call("Page.navigate", session, url="file://" + os.path.abspath(path))
            browser.wait_event("Page.loadEventFired", session)
            for p in browser.evaluate(session, LAYOUT_PROBLEMS):
                problem(f"{os.path.basename(path)}: {p}")
            browser.events = [e for e in browser.events if e.get("sessionId") != session]
            browser.call("Target.closeTarget", targetId=target)
    finally:
        browser.close()
    print(f"layout: {len(pages)} pages checked at 1280 px")


def check_sorting(browser, session, facts):
    """Index heading: highest first, then lowest first; country filter."""
    def order():
        return browser.evaluate(session, "[...document.querySelectorAll('#league tbody tr')]"
                                ".filter(r => !r.hidden).map(r => r.dataset.city)")
    index_of = {r["city"]: r["index"] for r in facts["rows"]}
    browser.evaluate(session, "[...document.querySelectorAll('#league thead button')]"
                     ".find(b => b.textContent === 'Index').click()")
    got = [index_of[c] for c in order()]
    scored = [v for v in got if v is not None]
    if scored != sorted(scored, reverse=True) or got[:len(scored)] != scored:
        problem(f"index.html: sorting by index (first click) gave {got}")
    browser.evaluate(session, "[...document.querySelectorAll('#league thead button')]"
                     ".find(b => b.textContent === 'Index').click()")
    got = [index_of[c] for c in order()]
    scored = [v for v in got if v is not None]
    if scored != sorted(scored) or got[:len(scored)] != scored:
        problem(f"index.html: sorting by index (second click) gave {got}")
    country = facts["rows"][0]["country"]
    browser.evaluate(session, "(() => {const s = document.getElementById('country');"
                     f"s.value = {json.dumps(country)}; s.dispatchEvent(new Event('change'));}})()")
    shown = order()
    want = sorted(r["city"] for r in facts["rows"] if r["country"] == country)
    if sorted(shown) != want:
        problem(f"index.html: filter {country} shows {shown}, expected {want}")


# ---- PDF ------------------------------------------------------------------

def cmd_pdf(args):
    for tool in ("pdfinfo", "pdftoppm", "pdftotext"):
        need(tool, "poppler-utils")
    info = subprocess.run(["pdfinfo", args.file], capture_output=True, text=True)
    if info.returncode != 0:
        problem(f"{args.file}: pdfinfo: {info.stderr.strip()}")
        return
    fields = dict(line.split(":", 1) for line in info.stdout.splitlines() if ":" in line)
    if fields.get("Pages", "").strip() != "2":
        problem(f"{args.file}: {fields.get('Pages', '?').strip()} pages, expected 2")
    size = fields.get("Page size", "")
    if "595.276 x 841.89" not in size:
        problem(f"{args.file}: page size {size.strip()}, expected A4 (595.276 x 841.89 pts)")
    work = tempfile.mkdtemp(prefix="glci-pdf-")
    try:
        subprocess.run(["pdftoppm", "-r", "40", "-png", args.file, os.path.join(work, "page")],
                       check=True)
        pngs = sorted(glob.glob(os.path.join(work, "page*.png")))
        if len(pngs) != 2:
            problem(f"{args.file}: pdftoppm made {len(pngs)} images, expected 2")
        for k, path in enumerate(pngs, 1):
            with open(path, "rb") as f:
                w, h = png_not_blank(f.read(), f"{args.file} page {k}")
            if abs(h / w - 841.89 / 595.276) > 0.01:
                problem(f"{args.file} page {k}: {w}x{h} is not A4-shaped")
        if args.png:
            shutil.copy(pngs[0], args.png)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = subprocess.run(["pdftotext", "-layout", args.file, "-"], capture_output=True,
                          text=True).stdout
    period = args.period or glci_json(args, "rank")["period"]
    r = subprocess.run([args.glci, "--store", args.store, "--format", "json", "show", args.city,
                        "--period", str(period)], capture_output=True, text=True)
    if r.returncode != 0:
        # a city without a result for the period: its profile says so
        if "No result for" not in text:
            problem(f"{args.file}: a city without data, and the profile does not say so")
        fw = glci_json(args, "framework")
        missing = [i["id"] for a in fw["areas"] for f in a["focus"] for i in f["indicators"]]
        check_pdf_missing(args, " ".join(text.split()), period, missing)
    else:
        show = json.loads(r.stdout)
        if " ".join(show["name"].split()) not in " ".join(text.split()):
            problem(f"{args.file}: the city's name {show['name']!r} is not in the text")
        if show["index"] is not None and f"{show['index']:.1f}" not in text:
            problem(f"{args.file}: the index {show['index']:.1f} is not in the text")
        for area in show["areas"]:
            if area["score"] is not None and f"{area['score']:.1f}" not in text:
                problem(f"{args.file}: area {area['id']} {area['score']:.1f} is not in the text")
        check_pdf_peers(args, " ".join(text.split()), period)
        missing = [i["id"] for a in show["areas"] for f in a["focus"] for i in f["indicators"]
                   if i["value"] is None or i["carried"]]
        check_pdf_missing(args, " ".join(text.split()), period, missing)
    if (args.synthetic == "yes") != ("SYNTHETIC DATA" in text):
        problem(f"{args.file}: synthetic label {'missing' if args.synthetic == 'yes' else 'shown'}")
    print(f"pdf: {args.file} checked")


def check_pdf_missing(args, text, period, missing):
    """What is missing for the round, as `glci show` has it: the whole
    sentence when nothing is, else the ids in framework order, every one
    or a first few whole ones and "… and N more." with N the rest.
    --missing-cut yes|no: whether the list must have been cut."""
    head = f"Missing for the {period} round: "
    at = text.find(head)
    if at < 0:
        problem(f"{args.file}: no {head!r} in the text")
        return
    rest = text[at + len(head):]
    if not missing:
        want = f"nothing, every indicator has a value for {period}."
        if not rest.startswith(want):
            problem(f"{args.file}: {head + rest[:len(want) + 10]!r}, expected {head + want!r}")
        return
    listed, _, _ = rest.partition(".")
    more = 0
    if " \u2026 and " in listed:
        listed, _, count = listed.partition(" \u2026 and ")
        if not count.endswith(" more") or not count[:-5].isdigit():
            problem(f"{args.file}: the missing list ends {count!r}, not 'N more'")
            return
        more = int(count[:-5])
    shown = [s.strip() for s in listed.split(",")] if listed.strip() else []
    if shown != missing[:len(shown)]:
        problem(f"{args.file}: missing ids {shown}, glci show has {missing}")
    elif len(shown) + more != len(missing):
        problem(f"{args.file}: {len(shown)} missing ids and {more} more, glci show has "
                f"{len(missing)}")
    print(f"pdf: {args.file}: {len(shown)} of {len(missing)} missing ids shown")
    if args.missing_cut and (more > 0) != (args.missing_cut == "yes"):
        problem(f"{args.file}: the missing list was {'not ' if more == 0 else ''}cut "
                f"({len(shown)} of {len(missing)} shown)")


def check_pdf_peers(args, text, period):
    """Whom to learn from, as `glci peers`: each weak focus area with its
    score and median, each leading city with its score and rank and the
    indicator that makes the most difference."""
    peers = glci_json(args, "peers", args.city, "--period", str(period))
    if not peers["focus"]:
        if "no focus area below the network's median" not in text:
            problem(f"{args.file}: no weak focus area, and the profile does not say so")
        return
    names = {i["id"]: i["name"] for a in glci_json(args, "framework")["areas"]
             for f in a["focus"] for i in f["indicators"]}
    if "Whom to learn from" not in text:
        problem(f"{args.file}: no 'Whom to learn from' in the text")
    for f in peers["focus"]:
        line = f"{' '.join(f['name'].split())}: {f['score']:.1f}, network median {f['median']:.1f}"
        if line not in text:
            problem(f"{args.file}: peers: {line!r} is not in the text")
        for p in f["peers"]:
            want = f"{' '.join(p['name'].split())} {p['score']:.1f} (rank {p['rank']})"
            if p["indicators"]:
                want += f": {' '.join(names[p['indicators'][0]['id']].split())}"
            if want not in text:
                problem(f"{args.file}: peers: {want!r} is not in the text")


# bidi marks, embeddings and isolates: pdftotext puts embeddings round a
# right-to-left line; they are not text
BIDI_MARKS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def pdf_pages(path):
    """Each page's text, pdftotext -layout (it joins no hyphenated words),
    bidi marks taken out."""
    pages = []
    for k in (1, 2):
        out = subprocess.run(["pdftotext", "-layout", "-f", str(k), "-l", str(k), path, "-"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            problem(f"{path}: pdftotext page {k}: {out.stderr.strip()}")
        pages.append(out.stdout.translate(BIDI_MARKS))
    return pages


def cmd_pdf_text(args):
    need("pdftotext", "poppler-utils")
    pages = pdf_pages(args.file)
    show = glci_json(args, "show", args.city)
    # the title: the lines between the page's head and "Country"
    lines = [ln.strip() for ln in pages[0].splitlines()]
    head = next((k for k, ln in enumerate(lines) if "CITY PROFILE" in ln), None)
    end = next((k for k, ln in enumerate(lines) if ln.startswith("Country ")), None)
    if head is None or end is None or end <= head:
        problem(f"{args.file}: page 1 has no title between its head and 'Country'")
    else:
        title = "".join("".join(lines[head + 1:end]).split())
        if title != "".join(show["name"].split()):
            problem(f"{args.file}: page 1's title reads {' '.join(lines[head + 1:end])!r}, "
                    f"the city's name is {show['name']!r}")
    # the footer of each page
    fw = glci_json(args, "framework")
    want = [f"framework {fw['id']} {fw['version']} (SHA-256 {fw['hash'][:12]}"]
    if args.edition:
        ed = next((e for e in glci_json(args, "edition", "list")["editions"]
                   if e["name"] == args.edition), None)
        if ed is None:
            problem(f"{args.file}: no edition {args.edition} in glci edition list")
        else:
            want.append(f"edition {ed['name']} of period {ed['period']}, as published "
                        f"(the store as of {ed['as_of']})")
    if args.as_of:
        want.append(f"as of {args.as_of} (recomputed from the values received by then)")
    for k, page in enumerate(pages, 1):
        at = page.find("Generated ")
        # the page number stands right of the footer's first line
        foot = " ".join(page[at:].replace(f"page {k} of 2", "").split()) if at >= 0 else ""
        for w in want:
            if w not in foot:
                problem(f"{args.file} page {k}: the footer {foot!r} does not name {w!r}")
    if args.peers_whole:
        check_pdf_peers_whole(args, pages[1])
    print(f"pdf-text: {args.file} checked")


def check_pdf_peers_whole(args, page):
    """Each leading city's line: ": " then the first indicators of `glci
    peers`, whole ("NAME VALUE UNIT (this city: VALUE)"), joined by "; ",
    then "and N more" with N the rest; or "N indicators where it does
    better" when none fits."""
    peers = glci_json(args, "peers", args.city)
    fw = glci_json(args, "framework")
    ind = {i["id"]: i for a in fw["areas"] for f in a["focus"] for i in f["indicators"]}
    leaders = [p for f in peers["focus"] for p in f["peers"]]
    lines = [ln for ln in page.splitlines() if re.search(r"\(rank \d+\)", ln)]
    if len(lines) != len(leaders):
        problem(f"{args.file}: {len(lines)} leading cities' lines, glci peers has {len(leaders)}")
        return
    number = r"-?\d+(?:\.\d+)?"
    cut = 0
    for line, p in zip(lines, leaders):
        m = re.search(r"\(rank (\d+)\)(.*)$", line)
        rest = m.group(2).strip()
        if int(m.group(1)) != p["rank"] or not rest.startswith(": "):
            problem(f"{args.file}: {line.strip()!r} is not rank {p['rank']} with its indicators")
            continue
        rest = rest[2:]
        n = len(p["indicators"])
        m = re.fullmatch(r"(\d+) indicators where it does better", rest)
        if m:
            if int(m.group(1)) != n:
                problem(f"{args.file}: {line.strip()!r}: glci peers has {n} indicators")
            cut += 1
            continue
        parts = rest.split("; ")
        more = re.fullmatch(r"and (\d+) more", parts[-1])
        shown = parts[:-1] if more else parts
        if len(shown) + (int(more.group(1)) if more else 0) != n or not shown:
            problem(f"{args.file}: {line.strip()!r}: {len(shown)} indicators and "
                    f"{more.group(1) if more else 0} more, glci peers has {n}")
            continue
        cut += more is not None
        for part, d in zip(shown, p["indicators"]):
            i = ind[d["id"]]
            m = re.fullmatch(re.escape(" ".join(i["name"].split())) + rf" ({number}) "
                             + re.escape(i["unit"]) + rf" \(this city: ({number}|no value)\)",
                             " ".join(part.split()))
            if not m:
                problem(f"{args.file}: {part!r} is not {i['name']!r} whole with its value "
                        "and this city's")
                continue
            if abs(float(m.group(1)) - d["value"]) > 0.0051:
                problem(f"{args.file}: {part!r}: glci peers has the value {d['value']}")
            mine = d.get("city_value")
            if (m.group(2) == "no value") != (mine is None) or (
                    mine is not None and abs(float(m.group(2)) - mine) > 0.0051):
                problem(f"{args.file}: {part!r}: glci peers has this city's value {mine}")
    if cut == 0:
        problem(f"{args.file}: no leading city's line is too long to hold every indicator; "
                "the check needs one that is")
    print(f"pdf-text: {args.file}: {len(lines)} leading cities' lines whole, {cut} shortened")


# ---- xlsx -----------------------------------------------------------------

def load_workbook(path):
    try:
        import openpyxl  # noqa: PLC0415 - only the xlsx checks need it
    except ImportError:
        print("FAIL: python3-openpyxl is not installed (deploy/setup-deps.sh installs it; "
              "run with /usr/bin/python3)", file=sys.stderr)
        sys.exit(1)
    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def near(a, b):
    """Equal to the 16 significant digits a workbook holds."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    return abs(float(a) - float(b)) <= 1e-15 * max(1.0, abs(float(b)))


def sheet_rows(wb, name):
    rows = []
    for ws_name in wb.sheetnames:
        if ws_name == name or ws_name.startswith(name + " ("):
            it = wb[ws_name].iter_rows(values_only=True)
            header = next(it)
            rows += [dict(zip(header, r)) for r in it]
    return rows


def cmd_xlsx(args):
    wb = load_workbook(args.file)
    want_sheets = ["index", "areas", "focus areas", "indicators", "values", "framework", "about"]
    if wb.sheetnames != want_sheets:
        problem(f"{args.file}: sheets {wb.sheetnames}, expected {want_sheets}")
    opts = ["--period", str(args.period)] if args.period else []
    opts += ["--all-periods"] if args.all_periods else []
    opts += ["--edition", args.edition] if args.edition else []
    opts += ["--as-of", args.as_of] if args.as_of else []
    export = glci_json(args, "export", *opts)
    rows = export["rows"]
    period = None if args.all_periods else export["period"]
    as_of = None if args.all_periods else export["as_of"]
    if period is not None and any(j["period"] != period for j in rows):
        problem(f"{args.file}: glci export {' '.join(opts)} has rows of other periods")
    about = {r["key"]: r["value"] for r in sheet_rows(wb, "about")}
    if args.as_of == "now" and about.get("as_of") and about["as_of"] <= as_of:
        # the workbook's now came first: the values are those received by then
        as_of = about["as_of"]
    if period is not None:
        want_about = {"exported_first_period": period, "exported_last_period": period,
                      "period_rule": export["period_rule"], "period_note": export["period_note"]}
        if export["edition"] is not None:
            want_about["edition"] = export["edition"]
        if as_of is not None:
            want_about["as_of"] = as_of
        for key, v in want_about.items():
            if about.get(key) != v:
                problem(f"{args.file} about: {key} {about.get(key)!r}, glci export says {v!r}")
    if ("edition" in about) != bool(args.edition) or ("as_of" in about) != (as_of is not None):
        problem(f"{args.file} about: names an edition or as-of time it should not: {about}")
    index = sheet_rows(wb, "index")
    areas = sheet_rows(wb, "areas")
    focus = sheet_rows(wb, "focus areas")
    inds = sheet_rows(wb, "indicators")
    if len(index) != len(rows) or len(areas) != len(rows) or len(focus) != len(rows):
        problem(f"{args.file}: {len(index)} index rows for {len(rows)} results")
    ind_rows = {}
    for r in inds:
        ind_rows[(r["city"], int(r["period"]), r["indicator"])] = r
    for k, j in enumerate(rows):
        if k >= len(index):
            break
        x, a, f = index[k], areas[k], focus[k]
        for sheet in (x, a, f):
            if sheet["city"] != j["city"] or int(sheet["period"]) != j["period"]:
                problem(f"{args.file}: row {k + 2} is {sheet['city']} {sheet['period']}, "
                        f"expected {j['city']} {j['period']}")
        for key in ("rank", "index", "coverage"):
            if not near(x[key], j[key]):
                problem(f"{args.file} index {j['city']} {j['period']}: {key} {x[key]} != {j[key]}")
        for aid, v in j["areas"].items():
            if not near(a.get(aid), v):
                problem(f"{args.file} areas {j['city']} {j['period']} {aid}: {a.get(aid)} != {v}")
        for fid, v in j["focus"].items():
            if not near(f.get(fid), v):
                problem(f"{args.file} focus {j['city']} {j['period']} {fid}: {f.get(fid)} != {v}")
        for iid, v in j["indicators"].items():
            r = ind_rows.get((j["city"], j["period"], iid))
            if r is None:
                problem(f"{args.file} indicators: no row {j['city']} {j['period']} {iid}")
                continue
            for key, col in (("value", "value"), ("period", "value_period"), ("score", "score")):
                if not near(r[col], v[key]):
                    problem(f"{args.file} indicators {j['city']} {j['period']} {iid} {key}: "
                            f"{r[col]} != {v[key]}")
            if v["period"] is not None and r["carried"] != (v["period"] < j["period"]):
                problem(f"{args.file} indicators {j['city']} {iid}: carried {r['carried']}")
    if len(inds) != sum(len(j["indicators"]) for j in rows):
        problem(f"{args.file}: {len(inds)} indicator rows")
    # numbers are number cells, not text
    for r in index[:5]:
        if r["index"] is not None and not isinstance(r["index"], (int, float)):
            problem(f"{args.file}: index {r['index']!r} is not a number cell")

    fw = glci_json(args, "framework")
    # the about sheet holds the framework's own settings under its keys
    for key in ("id", "version", "hash", "first_period", "last_period", "cadence", "due",
                "future_periods", "min_coverage", "carry_forward", "aggregation"):
        got = about.get("framework" if key == "id" else key)
        if not (near(got, fw[key]) if isinstance(fw[key], (int, float)) else got == fw[key]):
            problem(f"{args.file} about: {key} {got!r}, glci framework says {fw[key]!r}")
    for key in ("exported_first_period", "exported_last_period"):
        if not isinstance(about.get(key), (int, float)):
            problem(f"{args.file} about: {key} is {about.get(key)!r}, not a period")
    values = sheet_rows(wb, "values")
    want, carry = [], fw["carry_forward"]
    cities = [c["id"] for c in glci_json(args, "city", "list")["cities"]]
    ids = [i["id"] for a in fw["areas"] for f in a["focus"] for i in f["indicators"]]
    order = {i["id"]: n for n, i in enumerate(
        i for a in fw["areas"] for f in a["focus"] for i in f["indicators"])}
    for city in cities:
        for iid in sorted(ids, key=order.get):
            h = glci_json(args, "history", city, iid)
            kept = [r for r in h["rows"]
                    if (period is None or period - carry <= r["period"] <= period)
                    and (as_of is None or r["received"] <= as_of)]
            for k, r in enumerate(kept):
                if as_of is not None:
                    # current then: a value no later row of its period replaced by then
                    later = any(q["period"] == r["period"] for q in kept[k + 1:])
                    r = dict(r, current=r["kind"] == "value" and not later)
                want.append((city, iid, r))
    if len(values) != len(want):
        problem(f"{args.file}: {len(values)} value rows, glci history has {len(want)}")
    for got, (city, iid, r) in zip(values, want):
        if (got["city"], got["indicator"], int(got["period"])) != (city, iid, r["period"]):
            problem(f"{args.file} values: {got['city']} {got['indicator']} {got['period']} "
                    f"!= {city} {iid} {r['period']}")
            break
        if not near(got["value"], r["value"]) or got["current"] != r["current"]:
            problem(f"{args.file} values {city} {iid} {r['period']}: {got['value']} != {r['value']}")
        received = got["received"].strftime("%Y-%m-%dT%H:%M:%SZ")
        if received != r["received"]:
            problem(f"{args.file} values {city} {iid}: received {received} != {r['received']}")
        if (got["source"] or "") != (r.get("source") or ""):
            problem(f"{args.file} values {city} {iid}: source {got['source']!r}")
    frame = sheet_rows(wb, "framework")
    want_frame = []
    for a in fw["areas"]:
        want_frame.append(("area", a["id"], a["name"]))
        for f in a["focus"]:
            want_frame.append(("focus", f["id"], f["name"]))
            for i in f["indicators"]:
                want_frame.append(("indicator", i["id"], i["name"]))
    if [(r["level"], r["id"], r["name"]) for r in frame] != want_frame:
        problem(f"{args.file}: the framework sheet differs from glci framework")
    inds_fw = {i["id"]: i for a in fw["areas"] for f in a["focus"] for i in f["indicators"]}
    for r in frame:
        if r["level"] == "indicator":
            i = inds_fw[r["id"]]
            for key in ("lower", "upper", "min", "max", "weight", "green", "red"):
                if not near(r[key], i[key]):
                    problem(f"{args.file} framework {r['id']}: {key} {r[key]} != {i[key]}")
    print(f"xlsx: {args.file}: {len(rows)} results, {len(values)} values checked")


# The template's entry sheet: the agent's columns, then the informational
# ones it ignores (common/glci_spool_csv.h).
ENTRY_COLUMNS = ["indicator", "period", "value", "source", "name", "unit", "min", "max",
                 "last_value", "last_period"]


def format_value(v):
    """glci_format_value: at most two decimals, trailing zeros dropped."""
    a = abs(v)
    if a != 0 and (a < 0.01 or a >= 1e9):
        return f"{v:.4g}"
    t = f"{v:.2f}"
    if "." in t:
        t = t.rstrip("0").rstrip(".")
    return "0" if t == "-0" else t


def last_of(args, ind):
    """The city's current value of the latest period up to the round
    (`glci history`), or None (no --city, or no value)."""
    if not args.city:
        return None
    h = glci_json(args, "history", args.city, ind)
    cur = [r for r in h["rows"] if r["current"] and r["period"] <= args.period]
    return max(cur, key=lambda r: r["period"]) if cur else None


def check_input_message(args, cell, prompt, ind, last):
    """At most 255 characters (Excel's limit): the name, or as many of its
    whole words as leave room, then "…"; the unit, the range and the last
    value always whole."""
    tail = f" ({ind['unit']}): a number from {format_value(ind['min'])} to " \
           f"{format_value(ind['max'])}."
    if last:
        tail += f" Last value: {format_value(last['value'])} ({last['period']})."
    if len(prompt) > 255:
        problem(f"{args.file}: {cell} input message has {len(prompt)} characters, Excel takes 255")
    if not prompt.endswith(tail):
        problem(f"{args.file}: {cell} input message {prompt!r} does not end {tail!r}")
        return
    name = prompt[:-len(tail)]
    kept = name[:-1]
    after = ind["name"][len(kept):len(kept) + 1]
    # whole words, or part of a first word too long for the message alone
    if name != ind["name"] and not (
            name.endswith("\u2026") and kept and ind["name"].startswith(kept) and
            (after in (" ", ",") or " " not in kept)):
        problem(f"{args.file}: {cell} input message names {name!r}, not {ind['name']!r} or "
                "its first whole words and '…'")


def cmd_template_xlsx(args):
    import openpyxl  # noqa: PLC0415
    wb = openpyxl.load_workbook(args.file)  # not read-only: validations are needed
    if wb.sheetnames[:2] != ["entry", "guide"] or wb.active.title != "entry":
        problem(f"{args.file}: sheets {wb.sheetnames}, active {wb.active.title}")
    fw = glci_json(args, "framework")
    inds = [i for a in fw["areas"] for f in a["focus"] for i in f["indicators"]]
    entry = wb["entry"]
    rows = list(entry.iter_rows(values_only=True))
    if list(rows[0]) != ENTRY_COLUMNS:
        problem(f"{args.file}: entry header {rows[0]}")
    if [r[0] for r in rows[1:]] != [i["id"] for i in inds]:
        problem(f"{args.file}: entry rows are not the framework's indicators")
    if any(r[1] != args.period for r in rows[1:]):
        problem(f"{args.file}: a period other than {args.period}")
    ranges = {}
    for dv in entry.data_validations.dataValidation:
        for cell in str(dv.sqref).split():
            ranges[cell] = dv
    for n, i in enumerate(inds, start=2):
        dv = ranges.get(f"C{n}")
        if dv is None:
            problem(f"{args.file}: no validation on C{n} ({i['id']})")
            continue
        if dv.type != "decimal" or float(dv.formula1) != i["min"] or float(dv.formula2) != i["max"]:
            problem(f"{args.file}: C{n} validation {dv.type} {dv.formula1}..{dv.formula2}, "
                    f"expected decimal {i['min']}..{i['max']}")
        check_input_message(args, f"C{n}", dv.prompt or "", i, last_of(args, i["id"]))
    guide = list(wb["guide"].iter_rows(values_only=True))
    header = guide[0]
    for n, i in enumerate(inds, start=1):
        g = dict(zip(header, guide[n]))
        if (g["indicator"], g["name"], g["unit"]) != (i["id"], i["name"], i["unit"]):
            problem(f"{args.file}: guide row {n + 1} is {g['indicator']}")
        if g["valid min"] != i["min"] or g["valid max"] != i["max"]:
            problem(f"{args.file}: guide {i['id']} range {g['valid min']}..{g['valid max']}")
        e = dict(zip(ENTRY_COLUMNS, rows[n]))
        if (e["name"], e["unit"], e["min"], e["max"]) != (i["name"], i["unit"], i["min"],
                                                          i["max"]):
            problem(f"{args.file}: entry {i['id']} says {e}")
        if (e["last_value"], e["last_period"]) != (g["last value"], g["last period"]):
            problem(f"{args.file}: entry {i['id']} last {e['last_value']} "
                    f"({e['last_period']}), guide {g['last value']} ({g['last period']})")
        if args.city:
            last = last_of(args, i["id"])
            if (last is None) != (g["last value"] is None) or (
                    last and (not near(g["last value"], last["value"]) or
                              g["last period"] != last["period"])):
                problem(f"{args.file}: guide {i['id']} last {g['last value']} "
                        f"({g['last period']}), history says {last}")
        # value and source start empty, the city's value for the round too
        # (last_value shows it): a spreadsheet saves a number cell as CSV to
        # at most 15 digits, so an untouched value would come back changed
        if rows[n][2] is not None or rows[n][3] is not None:
            problem(f"{args.file}: entry {i['id']} starts with value {rows[n][2]!r}, source "
                    f"{rows[n][3]!r}; both start empty")
    print(f"template-xlsx: {args.file}: {len(inds)} indicators checked")


def cmd_xlsx_to_csv(args):
    wb = load_workbook(args.file)
    guide = {r[0]: r for r in list(wb["guide"].iter_rows(values_only=True))[1:]}
    rows = list(wb["entry"].iter_rows(values_only=True))
    encoding = "utf-8-sig" if args.excel else "utf-8"
    with open(args.out, "w", newline="", encoding=encoding) as f:
        # what "Save as CSV" gives: comma (or ';'), CRLF, quotes when needed
        w = csv.writer(f, delimiter=";" if args.excel else ",")
        w.writerow(rows[0])
        for row in rows[1:]:
            ind, period, value, source = row[:4]
            if value is None and args.delete_empty and ind not in args.fill:
                continue        # "delete the rows you have no value for"
            if value is None:
                lo, hi = guide[ind][6], guide[ind][7]
                value = lo + (hi - lo) / 2
            # every number as the sheet shows it (Excel: at most 15
            # significant digits), in the locale's decimal mark
            cells = [ind, period, float(value), source] + list(row[4:])
            texts = [f"{c:.15g}" if isinstance(c, float) else "" if c is None else str(c)
                     for c in cells]
            if args.excel:
                texts = [t.replace(".", ",") if isinstance(c, float) else t
                         for c, t in zip(cells, texts)]
            w.writerow(texts)
    print(f"xlsx-to-csv: {args.out}: {len(rows) - 1} rows")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("browser", "layout", "pdf", "pdf-text", "xlsx", "template-xlsx",
                 "xlsx-to-csv"):
        p = sub.add_parser(name)
        if name not in ("browser", "layout"):
            p.add_argument("file")
        if name == "xlsx-to-csv":
            p.add_argument("out")
            p.add_argument("--excel", action="store_true")
            p.add_argument("--delete-empty", action="store_true")
            p.add_argument("--fill", action="append", default=[])
            continue
        p.add_argument("--glci", required=True)
        p.add_argument("--store", required=True)
        p.add_argument("--period", type=int)
        if name == "xlsx":
            p.add_argument("--all-periods", action="store_true")
        if name in ("xlsx", "pdf-text"):
            p.add_argument("--edition")
            p.add_argument("--as-of")
        if name == "pdf-text":
            p.add_argument("--peers-whole", action="store_true")
        p.add_argument("--synthetic", choices=("yes", "no"), default="no")
        p.add_argument("--city")
        if name in ("browser", "layout"):
            p.add_argument("--report", required=True)
        if name == "browser":
            p.add_argument("--shots")
        if name == "pdf":
            p.add_argument("--png")
            p.add_argument("--missing-cut", choices=("yes", "no"))
    args = ap.parse_args()
    {"browser": cmd_browser, "layout": cmd_layout, "pdf": cmd_pdf, "pdf-text": cmd_pdf_text, "xlsx": cmd_xlsx,
     "template-xlsx": cmd_template_xlsx, "xlsx-to-csv": cmd_xlsx_to_csv}[args.cmd](args)
    if PROBLEMS:
        print(f"{len(PROBLEMS)} problem(s)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
