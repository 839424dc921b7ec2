#!/usr/bin/python3
"""Generate conformance/autobahn/cat06_utf8_vectors.c: Autobahn cases
6.5.1-6.23.7, the UTF-8 test vectors (after Markus Kuhn's UTF-8 decoder
stress test, as Autobahn|Testsuite groups them).

Each vector becomes one case: the runner sends it as one text frame; a
valid vector must be echoed unchanged, an invalid one must make the peer
fail the connection with 1007 (and carries the closedByWrongEndpointIsFatal
flag). Validity is decided by Python's strict UTF-8 decoder (RFC 3629: no
overlongs, no surrogates, nothing above U+10FFFF; noncharacters are valid),
which is what RFC 6455 Section 8.1 requires.

Standard library only. Usage, from the repository root:

    /usr/bin/python3 conformance/gen/gen_utf8_vectors.py            # write
    /usr/bin/python3 conformance/gen/gen_utf8_vectors.py --check    # diff
    /usr/bin/python3 conformance/gen/gen_utf8_vectors.py --tsv PATH # verify
                                          # against autobahn_cases.tsv too

The output is deterministic; --check exits 1 when the committed file
differs from what this script would write.
"""

import argparse
import csv
import os
import sys
import textwrap

OUT = "conformance/autobahn/cat06_utf8_vectors.c"

KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # "κόσμε"


def enc(cp):
    """UTF-8 of a code point, surrogates included (for the invalid ones)."""
    return chr(cp).encode("utf-8", "surrogatepass")


def groups():
    """The 19 subcategories 6.5-6.23: (title, [payload, ...])."""
    g = []
    # 6.5: Kuhn 1.
    g.append(("Some valid UTF-8 sequences",
              [b"hello\x24world", b"hello\xc2\xa2world",
               b"hello\xe2\x82\xacworld", b"hello\xf0\xa4\xad\xa2world",
               KOSME]))
    # 6.6: every prefix of KOSME, the cut ones invalid.
    g.append(("All prefixes of a valid UTF-8 string that contains "
              "multi-byte code points",
              [KOSME[:i] for i in range(1, len(KOSME) + 1)]))
    # 6.7-6.11: Kuhn 2 (boundary conditions).
    g.append(("First possible sequence of a certain length",
              [enc(0x0000), enc(0x0080), enc(0x0800), enc(0x10000)]))
    g.append(("First possible sequence length 5/6 (invalid codepoints)",
              [b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80"]))
    g.append(("Last possible sequence of a certain length",
              [enc(0x7f), enc(0x7ff), enc(0xffff), enc(0x10ffff)]))
    g.append(("Last possible sequence length 4/5/6 (invalid codepoints)",
              [b"\xf7\xbf\xbf\xbf", b"\xfb\xbf\xbf\xbf\xbf",
               b"\xfd\xbf\xbf\xbf\xbf\xbf"]))
    g.append(("Other boundary conditions",
              [enc(0xd7ff), enc(0xe000), enc(0xfffd), enc(0x10ffff),
               b"\xf4\x90\x80\x80"]))
    # 6.12-6.16: Kuhn 3 (malformed sequences). Autobahn's ranges stop one
    # short of Kuhn's (0x80..0xbe, 0xc0..0xde, 0xe0..0xee): kept as is.
    cont = b"\x80\xbf\x80\xbf\x80\xbf"
    g.append(("Unexpected continuation bytes",
              [b"\x80", b"\xbf"] + [cont[:n] for n in range(2, 7)] +
              [bytes(range(0x80, 0xbf))]))
    g.append(("Lonely start characters",
              [b"".join(bytes([b, 0x20]) for b in range(lo, hi))
               for lo, hi in ((0xc0, 0xdf), (0xe0, 0xef), (0xf0, 0xf7),
                              (0xf8, 0xfb), (0xfc, 0xfd))]))
    missing = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80",
               b"\xfc\x80\x80\x80\x80", b"\xdf", b"\xef\xbf",
               b"\xf7\xbf\xbf", b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    g.append(("Sequences with last continuation byte missing", missing))
    g.append(("Concatenation of incomplete sequences", [b"".join(missing)]))
    g.append(("Impossible bytes", [b"\xfe", b"\xff", b"\xfe\xfe\xff\xff"]))
    # 6.17-6.19: Kuhn 4 (overlong sequences).
    g.append(("Examples of an overlong ASCII character",
              [b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
               b"\xf8\x80\x80\x80\xaf", b"\xfc\x80\x80\x80\x80\xaf"]))
    g.append(("Maximum overlong sequences",
              [b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf",
               b"\xf8\x87\xbf\xbf\xbf", b"\xfc\x83\xbf\xbf\xbf\xbf"]))
    g.append(("Overlong representation of the NUL character",
              [b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80",
               b"\xf8\x80\x80\x80\x80", b"\xfc\x80\x80\x80\x80\x80"]))
    # 6.20-6.23: Kuhn 5 (illegal code positions; noncharacters are valid).
    singles = [0xd800, 0xdb7f, 0xdb80, 0xdbff, 0xdc00, 0xdf80, 0xdfff]
    g.append(("Single UTF-16 surrogates", [enc(s) for s in singles]))
    g.append(("Paired UTF-16 surrogates",
              [enc(hi) + enc(lo) for hi in (0xd800, 0xdb7f, 0xdb80, 0xdbff)
               for lo in (0xdc00, 0xdfff)]))
    nonchars = [0xfffe, 0xffff]
    for plane in range(1, 17):
        nonchars += [plane * 0x10000 + 0xfffe, plane * 0x10000 + 0xffff]
    g.append(("Non-character code points (valid UTF-8)",
              [enc(c) for c in nonchars]))
    g.append(("Unicode specials (i.e. replacement char)",
              [enc(c) for c in range(0xfff9, 0x10000)]))
    return g


def is_valid(b):
    try:
        b.decode("utf-8", "strict")
        return True
    except UnicodeDecodeError:
        return False


def cases():
    """[(id, subcategory title, payload, valid)] in Autobahn order."""
    out = []
    for gi, (title, vectors) in enumerate(groups()):
        for vi, v in enumerate(vectors):
            out.append(("6.%d.%d" % (gi + 5, vi + 1), title, v, is_valid(v)))
    return out


def description(payload, valid):
    return "Send one text frame with %s UTF-8 payload 0x%s (%d octets)" % (
        "VALID" if valid else "INVALID", payload.hex(), len(payload))


VALID_EXPECTATION = "Echo it unchanged"
INVALID_EXPECTATION = "Fail with Close 1007 (or drop TCP); do not echo"


def c_bytes(payload, indent):
    """The payload as C string pieces of 16 octets, every octet escaped."""
    pieces = ['"%s"' % "".join("\\x%02x" % c for c in payload[i:i + 14])
              for i in range(0, len(payload), 14)] or ['""']
    return ("\n" + " " * indent).join(pieces)


def c_text(field, text, indent=5, width=79):
    """|text| as adjacent C string literals, wrapped at spaces."""
    head = " " * indent + "." + field + " = "
    lines, cur = [], ""
    for word in text.split(" "):
        cand = cur + " " + word if cur else word
        limit = width - (len(head) if not lines else indent + 4) - 3
        if cur and len(cand) > limit:
            lines.append(cur + " ")
            cur = word
        else:
            cur = cand
        # A word longer than a line (a long hex string) is cut anywhere:
        # adjacent literals join without a separator.
        while len(cur) > width - indent - 7:
            lines.append(cur[:width - indent - 7])
            cur = cur[width - indent - 7:]
    lines.append(cur)
    return head + ("\n" + " " * (indent + 4)).join(
        '"%s"' % s for s in lines) + ","


def macro(w, lines):
    """A multi-line #define with the backslashes in column 78."""
    for line in lines[:-1]:
        w(line.ljust(77) + "\\")
    w(lines[-1])


def render():
    out = []
    w = out.append
    w("/*")
    w(" * cat06_utf8_vectors.c: Autobahn category 6, UTF-8 Handling, "
      "6.5-6.23: the")
    w(" * UTF-8 test vectors. GENERATED by conformance/gen/"
      "gen_utf8_vectors.py; do")
    w(" * not edit, change the script and run it again.")
    w(" *")
    w(" * Each vector goes out as one text frame. RFC 6455 Section 8.1: "
      "a valid one")
    w(" * must be echoed unchanged; on an invalid one the peer MUST fail "
      "the")
    w(" * connection (1007, or a TCP drop), and the case fails when the "
      "runner's")
    w(" * timer had to close instead (WS_CASE_F_FATAL).")
    w(" */")
    w('#include "conformance/ws_case_data.h"')
    w("")
    w('#define VALID "%s"' % VALID_EXPECTATION)
    w('#define INVALID "%s"' % INVALID_EXPECTATION)
    w("")
    w("/* A valid vector: echoed unchanged, then the runner closes. */")
    macro(w, ["#define ECHOED(...)",
              "  .section = \"8.1\", .expectation = VALID,",
              "  EXPECT(E_TEXT(BYTES(__VA_ARGS__))), CLOSE_RULE_NORMAL,",
              "  ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, BYTES(__VA_ARGS__)), "
              "KILL_AFTER(500))"])
    w("/* An invalid vector: the peer must fail with 1007. */")
    macro(w, ["#define REJECTED(...)",
              "  .section = \"8.1\", .expectation = INVALID, "
              ".flags = WS_CASE_F_FATAL,",
              "  EXPECT_NOTHING, CLOSE_RULE_PEER_FAILS(1007),",
              "  ACTIONS(FRAME(WS_OP_TEXT, FIN, 0, BYTES(__VA_ARGS__)), "
              "KILL_AFTER(500))"])
    w("")
    w("static const struct ws_case cases[] = {")
    last = None
    for cid, title, payload, valid in cases():
        sub = ".".join(cid.split(".")[:2])
        if sub != last:
            if last is not None:
                w("")
            head = textwrap.wrap("---- %s %s ----" % (sub, title), 70)
            w("    /* " + "\n     * ".join(head) + " */")
            last = sub
        w('    {.id = "%s", .category = WS_CAT_UTF8,' % cid)
        w(c_text("subcategory", title))
        w(c_text("description", description(payload, valid)))
        w("     %s(%s)}," % ("ECHOED" if valid else "REJECTED",
                              c_bytes(payload, 13)))
    w("};")
    w("")
    w("CASE_TABLE(ws__autobahn_cat06_vectors, cases);")
    return "\n".join(out) + "\n"


def check_tsv(path):
    """Every id, subcategory, description (hence payload hex and validity)
    and expectation against the reference TSV."""
    rows = {}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows[r["case_id"]] = r
    want = [k for k in rows if k.startswith("6.")
            and int(k.split(".")[1]) >= 5]
    got = cases()
    errors = []
    if sorted(want) != sorted(c[0] for c in got):
        errors.append("id sets differ")
    for cid, title, payload, valid in got:
        r = rows.get(cid)
        if r is None:
            continue
        sub = "%s %s" % (".".join(cid.split(".")[:2]), title)
        exp = VALID_EXPECTATION if valid else INVALID_EXPECTATION
        for name, mine, theirs in (
                ("subcategory", sub, r["subcategory"]),
                ("description", description(payload, valid),
                 r["description"]),
                ("expectation", exp, r["expected_behaviour"])):
            if mine != theirs:
                errors.append("%s %s: %r != %r" % (cid, name, mine, theirs))
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed file, write nothing")
    ap.add_argument("--tsv", help="verify against autobahn_cases.tsv")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    path = os.path.join(root, OUT)
    text = render()
    status = 0
    if args.tsv:
        errors = check_tsv(args.tsv)
        for e in errors:
            print("tsv: " + e, file=sys.stderr)
        if errors:
            status = 1
        else:
            print("tsv: %d vectors match" % len(cases()))
    if args.check:
        with open(path, encoding="utf-8") as f:
            if f.read() != text:
                print("%s is stale: run %s" % (OUT, sys.argv[0]),
                      file=sys.stderr)
                status = 1
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
