/*
 * bench_handshake.c: the server side of the opening handshake.
 *
 *   handshake_parse_validate  parse + RFC 6455 Section 4.2.1 check of a
 *                             browser-like ~500-byte Upgrade request, vs
 *                             http-parser 2.9.4 parsing the same bytes
 *   handshake_parse           the parse alone, vs the same http-parser run
 *   handshake_parse_cookie4k  a request with a 4 KiB Cookie (the vector
 *                             scanners' case), vs http-parser
 *   handshake_accept_key      Sec-WebSocket-Accept with a prefetched EVP
 *                             digest, vs OpenSSL's low-level SHA1_Init/
 *                             Update/Final + EVP_EncodeBlock
 *   handshake_accept_oneshot  the same without a struct ws_sha1 (one-shot
 *                             EVP), vs one-shot SHA1() + EVP_EncodeBlock
 *   handshake_build_101       the whole 101 response (accept included), vs
 *                             the low-level accept key alone
 *
 * http-parser is linked when HAVE_HTTP_PARSER is defined (bench/
 * CMakeLists.txt does it when libhttp-parser-dev is installed); otherwise
 * its lines print ratio=0 vs=none.
 */
#include "bench_util.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "handshake_samples.h"
#include "http/ws_handshake.h"

#ifdef HAVE_HTTP_PARSER
#include <http_parser.h>
#endif

static const char BROWSER[] = SAMPLE_BROWSER_REQUEST;

static const char KEY[] = "dGhlIHNhbXBsZSBub25jZQ==";

struct input {
  const char *buf;
  size_t len;
};

/* ------------------------------------------------------------ ours */

struct ours {
  struct input in;
  struct ws_http_header h[WS_HTTP_DEFAULT_MAX_HEADERS];
  struct ws_handshake_request r;
  struct ws_handshake_failure f;
};

static void ours_parse(void *arg) {
  struct ours *o = arg;
  struct ws_http_parser p;
  ws_http_parser_init(&p, WS_HTTP_REQUEST, o->h, WS_HTTP_DEFAULT_MAX_HEADERS,
                      0);
  if (ws_http_parse(&p, o->in.buf, o->in.len) != WS_HTTP_COMPLETE)
    abort();
  bench_keep(&p);
}

static void ours_parse_validate(void *arg) {
  struct ours *o = arg;
  struct ws_http_parser p;
  ws_http_parser_init(&p, WS_HTTP_REQUEST, o->h, WS_HTTP_DEFAULT_MAX_HEADERS,
                      0);
  if (ws_http_parse(&p, o->in.buf, o->in.len) != WS_HTTP_COMPLETE ||
      ws_handshake_server_check(&p, &o->r, &o->f) != WS_OK)
    abort();
  bench_keep(&o->r);
}

/* ---------------------------------------------------- http-parser 2.9.4 */

#ifdef HAVE_HTTP_PARSER
/* The callbacks record spans, the work our header array does. */
struct hp {
  struct input in;
  const char *spans[2 * WS_HTTP_DEFAULT_MAX_HEADERS + 2];
  size_t n;
};

static int hp_span(http_parser *p, const char *at, size_t len) {
  struct hp *h = p->data;
  (void)len;
  if (h->n < sizeof(h->spans) / sizeof(h->spans[0]))
    h->spans[h->n++] = at;
  return 0;
}

static http_parser_settings hp_settings;

static void hp_parse(void *arg) {
  struct hp *h = arg;
  http_parser p;
  http_parser_init(&p, HTTP_REQUEST);
  p.data = h;
  h->n = 0;
  size_t n = http_parser_execute(&p, &hp_settings, h->in.buf, h->in.len);
  if (n != h->in.len || !p.upgrade)
    abort();
  bench_keep(h);
}

static double hp_rate(struct input in, long inner) {
  static struct hp h;
  hp_settings.on_url = hp_span;
  hp_settings.on_header_field = hp_span;
  hp_settings.on_header_value = hp_span;
  h.in = in;
  return bench_best_rate(hp_parse, &h, inner, 1, 9);
}
#define HP_NAME "http-parser-2.9.4"
#else
static double hp_rate(struct input in, long inner) {
  (void)in;
  (void)inner;
  return 0;
}
#define HP_NAME "none"
#endif

/* ---------------------------------------------------------- accept key */

struct acc {
  struct ws_sha1 *h;
  char out[WS_ACCEPT_LEN + 1];
  char resp[256];
};

static void ours_accept(void *arg) {
  struct acc *a = arg;
  if (ws_handshake_accept(a->h, KEY, 24, a->out) != WS_OK)
    abort();
  bench_keep(a->out);
}

static void ours_build_101(void *arg) {
  struct acc *a = arg;
  if (ws_handshake_build_101(a->resp, sizeof(a->resp), a->h, KEY, 24, NULL,
                             NULL) <= 0)
    abort();
  bench_keep(a->resp);
}

/* The reference: OpenSSL 3's deprecated low-level calls, the fastest path
 * it offers, allowed here only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void ref_accept_lowlevel(void *arg) {
  struct acc *a = arg;
  unsigned char md[20];
  SHA_CTX c;
  SHA1_Init(&c);
  SHA1_Update(&c, KEY, 24);
  SHA1_Update(&c, WS_GUID, 36);
  SHA1_Final(md, &c);
  EVP_EncodeBlock((unsigned char *)a->out, md, 20);
  bench_keep(a->out);
}

static void ref_accept_oneshot(void *arg) {
  struct acc *a = arg;
  unsigned char buf[60], md[20];
  memcpy(buf, KEY, 24);
  memcpy(buf + 24, WS_GUID, 36);
  SHA1(buf, 60, md);
  EVP_EncodeBlock((unsigned char *)a->out, md, 20);
  bench_keep(a->out);
}
#pragma GCC diagnostic pop

static double mreq(double rate) { return rate / 1e6; }
static double ns(double rate) { return rate > 0 ? 1e9 / rate : 0; }

int main(void) {
  static struct ours o;
  struct input browser = {BROWSER, sizeof(BROWSER) - 1};
  const long inner = 100000;

  /* Parse + validate, and parse alone, against http-parser. */
  o.in = browser;
  /* The reference runs before and after ours and keeps its best, so a
   * burst of load on this shared machine cannot flatter the ratio. */
  double hp = hp_rate(browser, inner / 4);
  double pv = bench_best_rate(ours_parse_validate, &o, inner, 1, 9);
  double pa = bench_best_rate(ours_parse, &o, inner, 1, 9);
  double hp2 = hp_rate(browser, inner / 4);
  if (hp2 > hp)
    hp = hp2;
  bench_print("handshake_parse_validate", mreq(pv), "Mreq/s", mreq(hp),
              HP_NAME);
  bench_print("handshake_parse", mreq(pa), "Mreq/s", mreq(hp), HP_NAME);

  /* A 4 KiB cookie: long values, the vector scanners' case. */
  static char big[8192];
  int n = snprintf(big, sizeof(big), "%.*s", (int)(sizeof(BROWSER) - 3),
                   BROWSER);
  memcpy(big + n, "Cookie: ", 8);
  n += 8;
  for (int k = 0; k < 4096; k++)
    big[n++] = (char)('a' + k % 26);
  memcpy(big + n, "\r\n\r\n", 4);
  struct input cookie = {big, (size_t)n + 4};
  o.in = cookie;
  double hpc = hp_rate(cookie, inner / 20);
  double pc = bench_best_rate(ours_parse_validate, &o, inner / 5, 1, 9);
  bench_print("handshake_parse_cookie4k", mreq(pc), "Mreq/s", mreq(hpc),
              HP_NAME);

  /* Accept key and 101 response. */
  struct ws_sha1 h;
  static struct acc a;
  if (ws_sha1_init(&h) != WS_OK)
    return 1;
  a.h = &h;
  double ref = bench_best_rate(ref_accept_lowlevel, &a, inner, 1, 9);
  double ours = bench_best_rate(ours_accept, &a, inner, 1, 9);
  double ref2 = bench_best_rate(ref_accept_lowlevel, &a, inner, 1, 9);
  if (ref2 > ref)
    ref = ref2;
  bench_print("handshake_accept_key", ns(ours), "ns/key", ns(ref),
              "openssl-SHA1_Init/Update/Final+EVP_EncodeBlock");
  a.h = NULL;
  double ref1 = bench_best_rate(ref_accept_oneshot, &a, inner / 4, 1, 9);
  double ours1 = bench_best_rate(ours_accept, &a, inner / 4, 1, 9);
  bench_print("handshake_accept_oneshot", ns(ours1), "ns/key", ns(ref1),
              "openssl-SHA1()+EVP_EncodeBlock");
  a.h = &h;
  double b101 = bench_best_rate(ours_build_101, &a, inner, 1, 9);
  bench_print("handshake_build_101", ns(b101), "ns/resp", ns(ref),
              "openssl-SHA1_Init/Update/Final+EVP_EncodeBlock");
  ws_sha1_free(&h);
  return 0;
}
