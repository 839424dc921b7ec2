#!/usr/bin/python3
"""Writes the published conformance page of the peer matrix.

  publish.py DIR [--peers a,b,...] [--title TEXT]

DIR holds, per peer, the runner's report DIR/<peer>/ (index.json in
Autobahn's layout, index.html) and optionally DIR/<peer>.meta.json (written
by `peers.py run --meta`: status, reason, version, run time, golden
comparison). Writes DIR/index.html (one self-contained page: peers as
columns, categories as rows, counts per verdict, each peer linking to its
detailed report) and DIR/summary.json (the same numbers for machines).
A peer with neither an index.json nor a meta file is left out; one with a
meta file but no report shows why (skipped, error). Stdlib only.
"""

import argparse
import datetime
import html
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers as registry  # noqa: E402

# Autobahn's category titles (12/13 for when permessage-deflate lands).
CATEGORY_TITLES = {
    "1": "Framing", "2": "Pings/Pongs", "3": "Reserved Bits",
    "4": "Opcodes", "5": "Fragmentation", "6": "UTF-8 Handling",
    "7": "Close Handling", "9": "Limits/Performance", "10": "Misc",
    "12": "WebSocket Compression (different payloads)",
    "13": "WebSocket Compression (different parameters)",
}
BEHAVIORS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
CLOSES = ["OK", "INFORMATIONAL", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT",
          "FAILED"]
# CSS class per verdict: green, amber, blue, grey, red.
CLASS = {"OK": "ok", "NON-STRICT": "ns", "INFORMATIONAL": "info",
         "UNIMPLEMENTED": "unimpl", "FAILED": "fail", "WRONG CODE": "warn",
         "UNCLEAN": "warn", "FAILED BY CLIENT": "warn"}
LEGEND = [
    ("OK", "behaved as RFC 6455 requires"),
    ("NON-STRICT", "acceptable, but not fail-fast (Autobahn's 14 lenient "
                   "paths)"),
    ("INFORMATIONAL", "no verdict by design (7.1.6, 7.13.x)"),
    ("UNIMPLEMENTED", "an optional feature is absent"),
    ("FAILED", "a violation, or no answer within the case's time"),
    ("WRONG CODE / UNCLEAN / FAILED BY CLIENT",
     "closing-handshake verdicts (behaviorClose)"),
]


def case_key(cid):
    return tuple(int(x) for x in cid.split("."))


def passes(c):
    """Autobahn's pass rule as `wsspec run` applies it."""
    return (c["behavior"] in ("OK", "NON-STRICT", "INFORMATIONAL",
                              "UNIMPLEMENTED")
            and c["behaviorClose"] in ("OK", "INFORMATIONAL"))


def count(cases):
    """{behavior: {verdict: n}, behaviorClose: {...}, cases, passed}."""
    out = {"cases": len(cases), "passed": 0, "behavior": {},
           "behaviorClose": {}}
    for c in cases:
        for k in ("behavior", "behaviorClose"):
            out[k][c[k]] = out[k].get(c[k], 0) + 1
        out["passed"] += passes(c)
    return out


def load_peer(root, name):
    """The facts of one peer, or None when DIR has nothing about it."""
    meta_path = os.path.join(root, name + ".meta.json")
    index_path = os.path.join(root, name, "index.json")
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path) as fh:
            meta = json.load(fh)
    if not meta and not os.path.exists(index_path):
        return None
    p = registry.BY_NAME.get(name)
    peer = {
        "name": name,
        "title": meta.get("title") or (p.title if p else name),
        "version": meta.get("version"),
        "about": meta.get("about") or (p.about if p else ""),
        "status": meta.get("status", "ran"),
        "reason": meta.get("reason"),
        "seconds": meta.get("seconds"),
        "jobs": meta.get("jobs") or (p.jobs if p else None),
        "golden": meta.get("golden"),
        "expect": meta.get("expect"),
        "differences": meta.get("differences") or [],
        "rc": meta.get("rc"),
        "report": None,
        "counts": None,
        "categories": {},
    }
    if peer["status"] == "ran" and os.path.exists(index_path):
        with open(index_path) as fh:
            index = json.load(fh)
        results = {}
        for agent_cases in index.values():
            results.update(agent_cases)
        peer["agent"] = next(iter(index), None)
        peer["report"] = name + "/index.html"
        peer["counts"] = count(list(results.values()))
        by_cat = {}
        for cid, c in results.items():
            by_cat.setdefault(cid.split(".")[0], []).append(c)
        peer["categories"] = {k: count(v) for k, v in by_cat.items()}
    elif peer["status"] == "ran":
        peer.update(status="error", reason="no index.json in the report")
    return peer


def golden_state(peer):
    """('match'|'differ'|'none'|'skipped'|'error', short text)."""
    if peer["status"] == "skipped":
        return "skipped", "skipped"
    if peer["status"] != "ran":
        return "error", "error"
    if not peer["golden"]:
        return "none", "no golden file"
    n = len(peer["differences"])
    if n == 0 and peer["rc"] in (0, None):
        return "match", "matches golden"
    return "differ", "%d difference%s" % (n, "" if n == 1 else "s")


def summarize(root, names, title):
    peers = [x for x in (load_peer(root, n) for n in names) if x]
    cats = {}
    for p in peers:
        for k, v in p["categories"].items():
            cats[k] = max(cats.get(k, 0), v["cases"])
    categories = [{"id": k, "title": CATEGORY_TITLES.get(k, "Category " + k),
                   "cases": cats[k]} for k in sorted(cats, key=int)]
    for p in peers:
        p["goldenState"], _ = golden_state(p)
    return {
        "title": title,
        "generated": datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wsspec": next((p["version"] for p in peers
                        if p["name"] == "wsspec" and p["version"]), None),
        "categories": categories,
        "peers": peers,
    }


# ------------------------------------------------------------------ HTML

CSS = """
:root { --ok:#1a7f37; --ok-bg:#dafbe1; --ns:#9a6700; --ns-bg:#fff8c5;
  --info:#0550ae; --info-bg:#ddf4ff; --fail:#cf222e; --fail-bg:#ffebe9;
  --warn:#bc4c00; --warn-bg:#fff1e5; --unimpl:#57606a; --unimpl-bg:#eaeef2;
  --line:#d0d7de; --muted:#57606a; --head:#f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; padding: 28px 32px 40px; color: #1f2328;
  font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: var(--muted); margin: 0 0 18px; }
.wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 8px 10px;
  vertical-align: top; text-align: left; }
thead th { background: var(--head); position: sticky; top: 0;
  border-bottom: 2px solid var(--line); min-width: 118px; }
tbody th { background: #fbfcfd; white-space: nowrap; font-weight: 600; }
th .n, thead .meta { color: var(--muted); font-weight: 400;
  font-size: 12px; display: block; }
td + td, th + td, th + th { border-left: 1px solid #eaeef2; }
tfoot td, tfoot th { background: var(--head); font-weight: 600;
  border-bottom: 0; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
.peer { font-size: 15px; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.v { display: inline-block; border-radius: 10px; padding: 1px 8px;
  font-size: 12px; white-space: nowrap; border: 1px solid transparent; }
.v b { font-variant-numeric: tabular-nums; }
.v.ok { color: var(--ok); background: var(--ok-bg); }
.v.ns { color: var(--ns); background: var(--ns-bg); }
.v.info { color: var(--info); background: var(--info-bg); }
.v.unimpl { color: var(--unimpl); background: var(--unimpl-bg); }
.v.fail { color: var(--fail); background: var(--fail-bg); }
.v.warn { color: var(--warn); background: var(--warn-bg); }
.v.close { background: #fff; border-color: currentColor; }
.close-row { margin-top: 4px; }
.bar { display: flex; height: 5px; border-radius: 3px; overflow: hidden;
  margin-top: 6px; background: var(--unimpl-bg); }
.bar span { display: block; height: 100%; }
.bar .ok { background: var(--ok); } .bar .ns { background: #d4a72c; }
.bar .info { background: #54aeff; } .bar .fail { background: var(--fail); }
.bar .unimpl { background: #8c959f; }
.badge { display: inline-block; margin-top: 4px; font-size: 11px;
  border-radius: 4px; padding: 0 6px; font-weight: 600; }
.badge.match { color: var(--ok); background: var(--ok-bg); }
.badge.differ, .badge.error { color: var(--fail); background: var(--fail-bg); }
.badge.skipped, .badge.none { color: var(--unimpl);
  background: var(--unimpl-bg); }
.some { display: block; margin-top: 4px; color: var(--muted);
  font-size: 11px; }
td.absent { color: var(--muted); font-style: italic; font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 8px 18px; margin: 18px 0 0;
  color: var(--muted); font-size: 12px; }
.notes { margin-top: 22px; font-size: 13px; }
.notes h2 { font-size: 15px; margin: 0 0 6px; }
.notes li { margin: 2px 0; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
  font-size: 12px; }
"""


def esc(s):
    return html.escape(str(s), quote=True)


def chips(counts, kind, order):
    """Verdict chips for one cell; behaviorClose shows only non-OK ones."""
    out = []
    keys = [k for k in order if k in counts] + sorted(
        k for k in counts if k not in order)
    for v in keys:
        if kind == "behaviorClose" and v in ("OK", "INFORMATIONAL"):
            continue
        label = v if kind == "behavior" else "close: " + v
        out.append('<span class="v %s%s" data-kind="%s" data-verdict="%s" '
                   'data-count="%d" title="%s %s">%s <b>%d</b></span>' % (
                       CLASS.get(v, "fail"),
                       " close" if kind == "behaviorClose" else "",
                       kind, esc(v), counts[v], kind, esc(v), esc(label),
                       counts[v]))
    return "".join(out)


def bar(c):
    total = c["cases"] or 1
    parts = []
    for v in BEHAVIORS:
        n = c["behavior"].get(v, 0)
        if n:
            parts.append('<span class="%s" style="width:%.2f%%"></span>' % (
                CLASS[v], 100.0 * n / total))
    return '<div class="bar" aria-hidden="true">%s</div>' % "".join(parts)


def cell(p, c, cat, total=None):
    if p["status"] != "ran":
        return ('<td class="absent" data-peer="%s" data-category="%s">'
                '&mdash;</td>' % (esc(p["name"]), esc(cat)))
    if c is None:
        return ('<td class="absent" data-peer="%s" data-category="%s" '
                'data-cases="0">not run</td>' % (esc(p["name"]), esc(cat)))
    close = chips(c["behaviorClose"], "behaviorClose", CLOSES)
    # Cases a peer does not run (its documented exclusions) are said, not
    # hidden.
    some = ('<span class="some">%d of %d run</span>' % (c["cases"], total)
            if total is not None and c["cases"] < total else "")
    return ('<td data-peer="%s" data-category="%s" data-cases="%d" '
            'data-passed="%d"><div class="chips">%s</div>%s%s%s</td>' % (
                esc(p["name"]), esc(cat), c["cases"], c["passed"],
                chips(c["behavior"], "behavior", BEHAVIORS),
                '<div class="chips close-row">%s</div>' % close if close
                else "", bar(c), some))


def head(p):
    state, text = golden_state(p)
    if p["report"]:
        name = '<a class="peer" href="%s">%s</a>' % (esc(p["report"]),
                                                     esc(p["name"]))
    else:
        name = '<span class="peer">%s</span>' % esc(p["name"])
    meta = [esc(p["title"])] if p["title"] != p["name"] else []
    if p["version"]:
        meta.append(esc(p["version"]))
    if p["seconds"] is not None:
        meta.append("%.1f s, --jobs %s" % (p["seconds"], p["jobs"]))
    if p["status"] != "ran" and p["reason"]:
        meta.append(esc(p["reason"]))
    return ('<th scope="col" data-peer="%s" data-status="%s" '
            'data-golden="%s">%s<span class="meta">%s</span>'
            '<span class="badge %s">%s</span></th>' % (
                esc(p["name"]), esc(p["status"]), state, name,
                "<br>".join(meta), state, esc(text)))


def render(s):
    peers = s["peers"]
    rows = []
    for cat in s["categories"]:
        cells = "".join(cell(p, p["categories"].get(cat["id"]), cat["id"],
                             cat["cases"]) for p in peers)
        rows.append('<tr data-category="%s"><th scope="row">%s %s'
                    '<span class="n">%d cases</span></th>%s</tr>' % (
                        esc(cat["id"]), esc(cat["id"]), esc(cat["title"]),
                        cat["cases"], cells))
    total = sum(c["cases"] for c in s["categories"])
    foot = "".join(cell(p, p["counts"], "all", total) for p in peers)
    passed = "".join(
        '<td data-peer="%s" class="mono">%s</td>' % (
            esc(p["name"]), "%d / %d pass" % (p["counts"]["passed"],
                                              p["counts"]["cases"])
            if p["counts"] else "&mdash;") for p in peers)
    diffs = []
    for p in peers:
        if p["status"] != "ran":
            diffs.append("<li><b>%s</b>: %s &mdash; %s</li>" % (
                esc(p["name"]), esc(p["status"]), esc(p["reason"] or "")))
        elif p["differences"]:
            diffs.append("<li><b>%s</b> differs from %s:<ul>%s</ul></li>" % (
                esc(p["name"]), esc(p["golden"]), "".join(
                    '<li class="mono">%s</li>' % esc(d)
                    for d in p["differences"][:50])))
    legend = "".join('<span><span class="v %s">%s</span> %s</span>' % (
        CLASS.get(k.split(" /")[0], "warn"), esc(k), esc(t))
        for k, t in LEGEND)
    sub = "Generated %s%s. %d cases per peer (Autobahn|Testsuite categories " \
          "%s), each server with its library's defaults. Click a peer for " \
          "its case-by-case report." % (
              esc(s["generated"]),
              " by " + esc(s["wsspec"]) if s["wsspec"] else "", total,
              ", ".join(c["id"] for c in s["categories"]) or "-")
    return """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s</title><style>%(css)s</style></head>
<body>
<h1>%(title)s</h1>
<p class="sub">%(sub)s</p>
<div class="wrap"><table id="matrix">
<thead><tr><th scope="col">Category</th>%(heads)s</tr></thead>
<tbody>
%(rows)s
</tbody>
<tfoot><tr data-category="all"><th scope="row">All categories
<span class="n">%(total)d cases</span></th>%(foot)s</tr>
<tr data-category="pass"><th scope="row">Pass rule
<span class="n">behavior and behaviorClose</span></th>%(passed)s</tr>
</tfoot>
</table></div>
<div class="legend">%(legend)s</div>
%(diffs)s
</body></html>
""" % {"title": esc(s["title"]), "css": CSS, "sub": sub,
       "heads": "".join(head(p) for p in peers), "rows": "\n".join(rows),
       "total": total, "foot": foot, "passed": passed, "legend": legend,
       "diffs": ('<div class="notes"><h2>Not as expected</h2><ul>%s</ul>'
                 '</div>' % "".join(diffs)) if diffs else ""}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--peers", help="comma-separated (default: the "
                    "registry's order, then any other folder)")
    ap.add_argument("--title", default="WebSocket servers graded by wsspec")
    a = ap.parse_args(argv)
    if a.peers:
        names = [n for n in a.peers.split(",") if n]
    else:
        names = list(registry.NAMES)
        for d in sorted(os.listdir(a.dir)):
            if d not in names and os.path.exists(
                    os.path.join(a.dir, d, "index.json")):
                names.append(d)
    s = summarize(a.dir, names, a.title)
    if not s["peers"]:
        print("publish: nothing to publish in %s" % a.dir, file=sys.stderr)
        return 2
    with open(os.path.join(a.dir, "summary.json"), "w") as fh:
        json.dump(s, fh, indent=2, sort_keys=True)
        fh.write("\n")
    with open(os.path.join(a.dir, "index.html"), "w") as fh:
        fh.write(render(s))
    print("published %s (%d peers)" % (os.path.join(a.dir, "index.html"),
                                       len(s["peers"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
