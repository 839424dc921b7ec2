/*
 * test_session.c: the session policy (ws_session.h), driven with hand-built
 * wire bytes.
 *
 * Most scenarios go through check_splits() (support/session_harness.h): a
 * fresh session is fed the wire bytes whole, one byte at a time and split
 * at every position, each piece from its own exact-size guard-page buffer;
 * callbacks append to a text event log and the output is decoded with a
 * ws_decoder of the opposite role. All runs must give identical logs and
 * identical output bytes, and the whole run is also compared with a
 * hand-written expected log and output description.
 *
 * Frames for a server session are masked, built with ws_frame_encode and
 * the deterministic test_random.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_harness.h"
#include "test_support.h"
#include "ws/ws_frame.h"
#include "ws/ws_session.h"

/* ------------------------------------------------------------------ */
/* RFC 6455 Section 5.7 examples */

static void test_rfc_examples(void **state) {
  (void)state;
  struct session_cfg cs, cc;
  session_cfg_init(&cs, WS_ROLE_SERVER);
  session_cfg_init(&cc, WS_ROLE_CLIENT);
  struct wire w;
  struct outcome *o;

  /* A single-frame unmasked text message, to a client. */
  w_init(&w, 0);
  w_hex(&w, "81 05 48 65 6c 6c 6f");
  check_wire(&cc, &w, "msg TEXT 48656c6c6f\nstate OPEN read 1\naction 0\n",
             "TEXT 48656c6c6f\n");

  /* A single-frame masked text message, to a server: the echo is
   * unmasked, byte for byte the RFC's first example. */
  w_init(&w, 1);
  w_hex(&w, "81 85 37 fa 21 3d 7f 9f 4d 51 58");
  o = check_splits(&cs, w.p, w.len,
                   "msg TEXT 48656c6c6f\nstate OPEN read 1\naction 0\n",
                   "TEXT 48656c6c6f\n");
  assert_int_equal(o->outlen, 7);
  assert_memory_equal(o->out, "\x81\x05\x48\x65\x6c\x6c\x6f", 7);
  outcome_free(o);
  free(w.p);

  /* A fragmented unmasked text message, to a client. */
  w_init(&w, 0);
  w_hex(&w, "01 03 48 65 6c  80 02 6c 6f");
  check_wire(&cc, &w, "msg TEXT 48656c6c6f\nstate OPEN read 1\naction 0\n",
             "TEXT 48656c6c6f\n");

  /* Unmasked Ping to a client: the Pong carries "Hello", masked. */
  w_init(&w, 0);
  w_hex(&w, "89 05 48 65 6c 6c 6f");
  o = check_splits(&cc, w.p, w.len,
                   "ping 48656c6c6f\nstate OPEN read 1\naction 0\n",
                   "PONG 48656c6c6f\n");
  assert_int_equal(o->outlen, 11);
  assert_int_equal(o->out[0], 0x8a);
  assert_int_equal(o->out[1], 0x85);
  outcome_free(o);
  free(w.p);

  /* The RFC's masked Pong, to a server: an event, no reply. */
  w_init(&w, 1);
  w_hex(&w, "8a 85 37 fa 21 3d 7f 9f 4d 51 58");
  check_wire(&cs, &w, "pong 48656c6c6f\nstate OPEN read 1\naction 0\n", "");

  /* 256 bytes of binary in one unmasked frame (16-bit length), and 64 KiB
   * (64-bit length), to a client. */
  uint8_t *big = malloc(65536);
  for (size_t i = 0; i < 65536; i++)
    big[i] = (uint8_t)(i * 31 + 7);
  char want[256], wout[128];
  w_init(&w, 0);
  w_hex(&w, "82 7e 01 00");
  w_bytes(&w, big, 256);
  want_bytes(want, sizeof(want), "msg BINARY", big, 256);
  strcat(want, "state OPEN read 1\naction 0\n");
  want_bytes(wout, sizeof(wout), "BINARY", big, 256);
  check_wire(&cc, &w, want, wout);

  cc.echo = 0;
  w_init(&w, 0);
  w_hex(&w, "82 7f 00 00 00 00 00 01 00 00");
  w_bytes(&w, big, 65536);
  want_bytes(want, sizeof(want), "msg BINARY", big, 65536);
  strcat(want, "state OPEN read 1\naction 0\n");
  check_wire(&cc, &w, want, "");
  free(big);
}

/* ------------------------------------------------------------------ */
/* Message delivery */

static void test_echo_messages(void **state) {
  (void)state;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  struct wire w;
  w_init(&w, 1);
  w_str(&w, TXT, "Hello");
  w_frame(&w, BIN, "\x00\x01\x02\xff", 4);
  /* Fragmented, with control frames in between (Section 5.4). */
  w_str(&w, WS_OP_TEXT, "Hel");
  w_str(&w, PING, "p1");
  w_str(&w, WS_OP_CONTINUATION, "l");
  w_str(&w, PONG, "x");
  w_str(&w, CONT_FIN, "o");
  /* Empty messages, single and fragmented. */
  w_str(&w, TXT, "");
  w_str(&w, WS_OP_BINARY, "");
  w_str(&w, CONT_FIN, "");
  struct outcome *o = check_splits(&cf, w.p, w.len,
                                   "msg TEXT 48656c6c6f\n"
                                   "msg BINARY 000102ff\n"
                                   "ping 7031\n"
                                   "pong 78\n"
                                   "msg TEXT 48656c6c6f\n"
                                   "msg TEXT -\n"
                                   "msg BINARY -\n"
                                   "state OPEN read 1\n"
                                   "action 0\n",
                                   /* the Pong jumps ahead of the echoes */
                                   "PONG 7031\n"
                                   "TEXT 48656c6c6f\n"
                                   "BINARY 000102ff\n"
                                   "TEXT 48656c6c6f\n"
                                   "TEXT -\n"
                                   "BINARY -\n");
  /* Whole: the two unfragmented non-empty messages came zero-copy out of
   * the input buffer, the fragmented one from the assembly buffer. */
  assert_int_equal(o->zero_copy, 2);
  assert_int_equal(o->copied, 1);
  outcome_free(o);
  free(w.p);
}

static void test_zero_copy(void **state) {
  (void)state;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  struct wire w;
  w_init(&w, 1);
  w_str(&w, TXT, "zero copy");
  struct outcome o;
  session_run(&cf, w.p, w.len, NULL, 0, &o);
  assert_int_equal(o.zero_copy, 1);
  assert_int_equal(o.copied, 0);
  free(o.out);
  /* Split inside the payload: the first part must be copied before the
   * caller's buffer goes away. */
  size_t cut = w.len - 3;
  session_run(&cf, w.p, w.len, &cut, 1, &o);
  assert_int_equal(o.zero_copy, 0);
  assert_int_equal(o.copied, 1);
  assert_string_equal(o.log, "msg TEXT 7a65726f20636f7079\n"
                             "state OPEN read 1\naction 0\n");
  free(o.out);
  /* Split right after the header: nothing to copy, still zero copy. */
  cut = 6;
  session_run(&cf, w.p, w.len, &cut, 1, &o);
  assert_int_equal(o.zero_copy, 1);
  free(o.out);
  free(w.p);
}

static void test_auto_pong(void **state) {
  (void)state;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  uint8_t pl[125];
  for (size_t i = 0; i < sizeof(pl); i++)
    pl[i] = (uint8_t)(0xff - i);
  struct wire w;
  w_init(&w, 1);
  w_frame(&w, PING, pl, sizeof(pl));
  char want[512], wout[512];
  want_bytes(want, sizeof(want), "ping", pl, 125);
  strcat(want, "state OPEN read 1\naction 0\n");
  want_bytes(wout, sizeof(wout), "PONG", pl, 125);
  struct outcome *o = check_splits(&cf, w.p, w.len, want, wout);
  /* Exact bytes: FIN|PONG, unmasked length 125, the payload. */
  assert_int_equal(o->outlen, 127);
  assert_int_equal(o->out[0], 0x8a);
  assert_int_equal(o->out[1], 125);
  assert_memory_equal(o->out + 2, pl, 125);
  outcome_free(o);

  /* Two Pings before the output is drained: each one is answered, in
   * order (Autobahn 2.10 / 2.11 expect a Pong per Ping). */
  w_frame(&w, PING, "second", 6);
  want_bytes(want, sizeof(want), "ping", pl, 125);
  strcat(want, "ping 7365636f6e64\nstate OPEN read 1\naction 0\n");
  want_bytes(wout, sizeof(wout), "PONG", pl, 125);
  strcat(wout, "PONG 7365636f6e64\n");
  o = check_splits(&cf, w.p, w.len, want, wout);
  outcome_free(o);

  /* Off: the event only. */
  cf.opt.auto_pong = 0;
  check_wire(&cf, &w, NULL, "");

  /* Drained between Pings: each one answered. */
  struct session_ctx c;
  memset(&c, 0, sizeof(c));
  ws_session *s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, NULL, NULL);
  for (int i = 0; i < 3; i++) {
    w_init(&w, 1);
    uint8_t b = (uint8_t)('a' + i);
    w_frame(&w, PING, &b, 1);
    assert_int_equal(ws_session_recv(s, w.p, w.len), (ws_ssize)w.len);
    const uint8_t *p;
    assert_int_equal(ws_session_send(s, &p), 3);
    assert_memory_equal(p, "\x8a\x01", 2);
    assert_int_equal(p[2], b);
    assert_int_equal(ws_session_send(s, &p), 0);
    assert_null(p);
    free(w.p);
  }
  ws_session_del(s);
}

static void test_streaming(void **state) {
  (void)state;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  cf.cb = &session_stream_cb;
  cf.echo = 0;
  uint8_t big[300];
  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)i;
  struct wire w;
  w_init(&w, 1);
  w_str(&w, WS_OP_TEXT, "Hel");
  w_str(&w, PING, "p");
  w_str(&w, CONT_FIN, "lo");
  w_frame(&w, BIN, big, sizeof(big));
  w_str(&w, TXT, "");
  char want[512];
  want_bytes(want, sizeof(want),
             "begin TEXT\nping 70\nend 48656c6c6f\n"
             "begin BINARY\nend",
             big, sizeof(big));
  strcat(want, "begin TEXT\nend -\nstate OPEN read 1\naction 0\n");
  struct outcome *o = check_splits(&cf, w.p, w.len, want, "PONG 70\n");
  outcome_free(o);

  /* No allocation at all while streaming. */
  struct failing_mem fm;
  failing_mem_init(&fm, -1);
  struct session_ctx *c = calloc(1, sizeof(*c));
  ws_session *s =
      session_make(WS_ROLE_SERVER, &session_stream_cb, c, NULL, &fm.mem);
  long calls = fm.calls;
  for (size_t i = 0; i < w.len; i++)
    assert_int_equal(ws_session_recv(s, w.p + i, 1), 1);
  assert_int_equal(fm.calls, calls);
  assert_true(c->pieces > 3);
  ws_session_del(s);
  assert_int_equal(fm.live, 0);
  free(c);
  free(w.p);

  /* Fail fast while streaming: "ab" is delivered, then the violation, and
   * no end. */
  w_init(&w, 1);
  w_str(&w, WS_OP_TEXT, "ab");
  w_str(&w, CONT_FIN, "c\xff");
  check_wire(&cf, &w,
             "begin TEXT\n"
             "violation INVALID_UTF8 1007 8.1 @15\n"
             "ret -200\nagain -201\nstate FAILED read 0\naction 1\n",
             "CLOSE 1007 'text message is not valid UTF-8'\n");
}

/* ------------------------------------------------------------------ */
/* Violations */

static void test_violations_codec(void **state) {
  (void)state;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  struct wire w;
  const char *ok = "TEXT 6f6b\n";

  w_init_ok(&w, 1); /* RSV1 without an extension */
  w_str(&w, 0xc1, "x");
  expect_violation(&cf, &w, "", ok, WS_V_RSV_BITS, 1002, "5.2", 8);

  w_init_ok(&w, 1); /* opcode 3 */
  w_str(&w, 0x83, "x");
  expect_violation(&cf, &w, "", ok, WS_V_RESERVED_OPCODE, 1002, "5.2", 8);

  w_init_ok(&w, 1); /* opcode 11 */
  w_str(&w, 0x8b, "");
  expect_violation(&cf, &w, "", ok, WS_V_RESERVED_OPCODE, 1002, "5.2", 8);

  w_init_ok(&w, 1); /* Ping of 126 bytes */
  uint8_t p126[126];
  memset(p126, 'p', sizeof(p126));
  w_frame(&w, PING, p126, sizeof(p126));
  expect_violation(&cf, &w, "", ok, WS_V_CONTROL_TOO_LONG, 1002, "5.5", 9);

  w_init_ok(&w, 1); /* Ping with FIN = 0 */
  w_str(&w, WS_OP_PING, "x");
  expect_violation(&cf, &w, "", ok, WS_V_CONTROL_FRAGMENTED, 1002, "5.5", 8);

  w_init_ok(&w, 1); /* unmasked frame to a server */
  w.masked = 0;
  w_str(&w, TXT, "x");
  w.masked = 1;
  expect_violation(&cf, &w, "", ok, WS_V_UNMASKED_CLIENT_FRAME, 1002, "5.1", 9);

  w_init_ok(&w, 1); /* 64-bit length with the top bit set */
  w_head(&w, "82 ff 80 00 00 00 00 00 00 00");
  expect_violation(&cf, &w, "", ok, WS_V_LENGTH_MSB, 1002, "5.2", 10);

  w_init_ok(&w, 1); /* 16-bit form for 3 bytes */
  w_frame_form(&w, TXT, "abc", 3, 16);
  expect_violation(&cf, &w, "", ok, WS_V_LENGTH_NOT_MINIMAL, 1002, "5.2", 9);

  w_init_ok(&w, 1); /* 11 bytes over a 10-byte frame limit */
  struct session_cfg lim = cf;
  lim.opt.max_frame_size = 10;
  w_str(&w, TXT, "0123456789a");
  expect_violation(&lim, &w, "", ok, WS_V_FRAME_TOO_BIG, 1009, "7.4.1", 9);

  /* A client rejects masked frames; its echo and Close are masked. */
  struct session_cfg cc;
  session_cfg_init(&cc, WS_ROLE_CLIENT);
  w_init_ok(&w, 0);
  w.masked = 1;
  w_str(&w, TXT, "x");
  w.masked = 0;
  expect_violation(&cc, &w, "", ok, WS_V_MASKED_SERVER_FRAME, 1002, "5.1", 5);
}

static void test_violations_session(void **state) {
  (void)state;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  struct wire w;
  const char *ok = "TEXT 6f6b\n";

  w_init_ok(&w, 1); /* continuation, FIN = 1, nothing to continue */
  w_str(&w, CONT_FIN, "x");
  expect_violation(&cf, &w, "", ok, WS_V_CONTINUATION_WITHOUT_START, 1002,
                   "5.4", 8);

  w_init_ok(&w, 1); /* continuation, FIN = 0, nothing to continue */
  w_str(&w, WS_OP_CONTINUATION, "x");
  expect_violation(&cf, &w, "", ok, WS_V_CONTINUATION_WITHOUT_START, 1002,
                   "5.4", 8);

  w_init_ok(&w, 1); /* TEXT while a fragmented message is open: frame at 15 */
  w_str(&w, WS_OP_TEXT, "a");
  w_str(&w, TXT, "b");
  expect_violation(&cf, &w, "", ok, WS_V_DATA_DURING_FRAGMENTED, 1002, "5.4",
                   15);

  w_init_ok(&w, 1); /* BINARY while a fragmented message is open */
  w_str(&w, WS_OP_BINARY, "a");
  w_str(&w, PING, "");
  w_str(&w, WS_OP_BINARY, "b");
  expect_violation(&cf, &w, "ping -\n", "PONG -\nTEXT 6f6b\n",
                   WS_V_DATA_DURING_FRAGMENTED, 1002, "5.4", 21);

  w_init_ok(&w, 1); /* 0xff mid-frame: payload at 14, 0xff at 15 */
  w_str(&w, TXT,
        "a\xff"
        "b");
  expect_violation(&cf, &w, "", ok, WS_V_INVALID_UTF8, 1007, "8.1", 15);

  w_init_ok(&w, 1); /* CE then 41 across frames: 41 is at 21 */
  w_str(&w, WS_OP_TEXT, "\xce");
  w_str(&w, CONT_FIN, "A");
  expect_violation(&cf, &w, "", ok, WS_V_INVALID_UTF8, 1007, "8.1", 21);

  w_init_ok(&w, 1); /* a surrogate split over frames and a Ping: A0 at 27 */
  w_str(&w, WS_OP_TEXT, "\xed");
  w_str(&w, PING, "");
  w_str(&w, CONT_FIN, "\xa0\x80");
  expect_violation(&cf, &w, "ping -\n", "PONG -\nTEXT 6f6b\n",
                   WS_V_INVALID_UTF8, 1007, "8.1", 27);

  w_init_ok(&w, 1); /* truncated at FIN: payload 21..22, end 23 */
  w_str(&w, WS_OP_TEXT, "a");
  w_str(&w, CONT_FIN, "\xe2\x82");
  expect_violation(&cf, &w, "", ok, WS_V_INVALID_UTF8, 1007, "8.1", 23);

  w_init_ok(&w, 1); /* truncated, empty final frame: its payload starts at 21 */
  w_str(&w, WS_OP_TEXT, "\xe2");
  w_str(&w, CONT_FIN, "");
  expect_violation(&cf, &w, "", ok, WS_V_INVALID_UTF8, 1007, "8.1", 21);

  w_init_ok(&w, 1); /* invalid in an unfragmented frame that is the message */
  w_str(&w, TXT, "\xc0\xaf");
  expect_violation(&cf, &w, "", ok, WS_V_INVALID_UTF8, 1007, "8.1", 14);

  struct session_cfg lim = cf; /* 6 + 5 over a 10-byte message limit */
  lim.opt.max_message_size = 10;
  w_init_ok(&w, 1);
  w_str(&w, WS_OP_TEXT, "123456");
  w_str(&w, PING, "p");
  w_str(&w, CONT_FIN, "12345");
  expect_violation(&lim, &w, "ping 70\n", "PONG 70\nTEXT 6f6b\n",
                   WS_V_MESSAGE_TOO_BIG, 1009, "7.4.1", 28);

  w_init_ok(&w, 1); /* exactly at the limit is fine, one more is not */
  w_str(&w, WS_OP_TEXT, "12345");
  w_str(&w, CONT_FIN, "12345");
  w_str(&w, TXT, "0123456789a");
  expect_violation(&lim, &w, "msg TEXT 31323334353132333435\n",
                   "TEXT 6f6b\nTEXT 31323334353132333435\n",
                   WS_V_MESSAGE_TOO_BIG, 1009, "7.4.1", 31);

  w_init_ok(&w, 1); /* 2^63 - 1 announced, default 64 MiB limit */
  w_head(&w, "82 ff 7f ff ff ff ff ff ff ff");
  expect_violation(&cf, &w, "", ok, WS_V_MESSAGE_TOO_BIG, 1009, "7.4.1", 9);

  w_init_ok(&w, 1); /* 64 MiB + 1 announced */
  w_head(&w, "82 ff 00 00 00 00 04 00 00 01");
  expect_violation(&cf, &w, "", ok, WS_V_MESSAGE_TOO_BIG, 1009, "7.4.1", 9);
}

static void test_violations_close(void **state) {
  (void)state;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  struct wire w;
  const char *ok = "TEXT 6f6b\n";

  w_init_ok(&w, 1); /* 1-byte body: reported at the length byte */
  w_frame(&w, CLOSE, "\x03", 1);
  expect_violation(&cf, &w, "", ok, WS_V_CLOSE_PAYLOAD_1_BYTE, 1002, "5.5.1",
                   9);

  /* Invalid codes: body at 14; the offending code byte per ws_close.h. */
  static const struct {
    const char *code;
    uint64_t off;
  } bad[] = {{"\x03\xe7", 15}, {"\x00\x00", 14}, {"\x03\xed", 15},
             {"\x03\xee", 15}, {"\x03\xf7", 15}, {"\x03\xf8", 15},
             {"\x0b\xb7", 15}, {"\x13\x88", 15}, {"\xff\xff", 14},
             {"\x04\x00", 14}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    w_init_ok(&w, 1);
    w_frame(&w, CLOSE, bad[i].code, 2);
    expect_violation(&cf, &w, "", ok, WS_V_CLOSE_CODE_INVALID, 1002, "7.4",
                     bad[i].off);
  }

  w_init_ok(&w, 1); /* reason "a" 0xff: 0xff at 17 */
  w_frame(&w, CLOSE,
          "\x03\xe8"
          "a\xff",
          4);
  expect_violation(&cf, &w, "", ok, WS_V_CLOSE_REASON_UTF8, 1007, "5.5.1", 17);

  w_init_ok(&w, 1); /* reason ends inside a code point: end of body, 18 */
  w_frame(&w, CLOSE,
          "\x03\xe8"
          "\xe2\x82",
          4);
  expect_violation(&cf, &w, "", ok, WS_V_CLOSE_REASON_UTF8, 1007, "5.5.1", 18);

  w_init_ok(&w, 1); /* a bad code wins over a bad reason */
  w_frame(&w, CLOSE, "\x00\x01\xff", 3);
  expect_violation(&cf, &w, "", ok, WS_V_CLOSE_CODE_INVALID, 1002, "7.4", 14);
}

/* Fail fast: the violation fires on the recv call that brings the bad
 * byte, before the rest of the frame exists (Autobahn 6.4.1-6.4.4). */
static void test_fail_fast_mid_frame(void **state) {
  (void)state;
  static const char kosme[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
  uint8_t msg[21];
  memcpy(msg, kosme, 11);
  memcpy(msg + 11, "\xf4\x90\x80\x80", 4);
  memcpy(msg + 15, "edited", 6);

  /* 6.4.3: one frame, delivered in parts. Header 6 bytes. */
  struct wire w;
  w_init(&w, 1);
  w_frame(&w, TXT, msg, sizeof(msg));
  assert_int_equal(w.len, 27);
  struct session_ctx c;
  memset(&c, 0, sizeof(c));
  ws_session *s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, NULL, NULL);
  assert_int_equal(session_recv_guarded(s, w.p, 6 + 11), 17);
  assert_int_equal(c.n, 0);
  assert_int_equal(ws_session_want_write(s), 0);
  /* F4: still a valid prefix */
  assert_int_equal(session_recv_guarded(s, w.p + 17, 1), 1);
  assert_int_equal(c.n, 0);
  /* 90 80: 90 cannot follow F4 */
  assert_int_equal(session_recv_guarded(s, w.p + 18, 2), WS_EPROTO);
  assert_string_equal(c.log, "violation INVALID_UTF8 1007 8.1 @18\n");
  const struct ws_violation *v = ws_session_get_violation(s);
  assert_non_null(v);
  assert_int_equal(v->id, WS_V_INVALID_UTF8);
  assert_int_equal(v->close_code, 1007);
  assert_int_equal(v->offset, 18);
  assert_int_equal(ws_session_get_state(s), WS_SESSION_FAILED);
  assert_int_equal(ws_session_should_close(s), WS_SESSION_KEEP_OPEN);
  const uint8_t *p;
  ws_ssize n = ws_session_send(s, &p);
  assert_true(n > 4);
  char *d = describe_frames(p, (size_t)n, WS_ROLE_SERVER);
  assert_string_equal(d, "CLOSE 1007 'text message is not valid UTF-8'\n");
  free(d);
  assert_int_equal(ws_session_send(s, &p), 0);
  assert_int_equal(ws_session_should_close(s), WS_SESSION_CLOSE_NOW);
  assert_int_equal(session_recv_guarded(s, w.p + 20, 7), WS_ECLOSED);
  ws_session_del(s);
  free(w.p);

  /* 6.4.1: three frames; the second one's header and F4 are accepted, its
   * 90 fails (frame 1: 6 + 11 = 17 bytes, frame 2 header 6, F4 at 23). */
  w_init(&w, 1);
  w_frame(&w, WS_OP_TEXT, msg, 11);
  w_frame(&w, WS_OP_CONTINUATION, msg + 11, 4);
  w_frame(&w, CONT_FIN, msg + 15, 6);
  memset(&c, 0, sizeof(c));
  s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, NULL, NULL);
  assert_int_equal(session_recv_guarded(s, w.p, 24), 24);
  assert_int_equal(c.n, 0);
  assert_int_equal(session_recv_guarded(s, w.p + 24, 1), WS_EPROTO);
  assert_string_equal(c.log, "violation INVALID_UTF8 1007 8.1 @24\n");
  ws_session_del(s);
  free(w.p);
}

/* ------------------------------------------------------------------ */
/* Close handshake */

static void test_close_peer_initiated(void **state) {
  (void)state;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  struct wire w;

  /* Close 1000 "bye" after a message; the frame after it is not read:
   * "hi" is 8 bytes, the Close 6 + 5 = 11, so 19 are consumed. */
  w_init(&w, 1);
  w_str(&w, TXT, "hi");
  w_frame(&w, CLOSE,
          "\x03\xe8"
          "bye",
          5);
  w_str(&w, TXT, "zz");
  struct outcome *o = check_splits(&cf, w.p, w.len,
                                   "msg TEXT 6869\n"
                                   "close 1000 627965\n"
                                   "stop @19\nagain -201\n"
                                   "state CLOSED read 0\naction 1\n",
                                   "TEXT 6869\nCLOSE 1000 ''\n");
  /* The reply echoes the code only: 88 02 03 e8 after the echo. */
  assert_int_equal(o->outlen, 4 + 4);
  assert_memory_equal(o->out + 4, "\x88\x02\x03\xe8", 4);
  outcome_free(o);
  free(w.p);

  /* An empty Close: on_close gets 1005, the reply is empty too. */
  w_init(&w, 1);
  w_str(&w, CLOSE, "");
  o = check_splits(&cf, w.p, w.len,
                   "close 1005 -\nstate CLOSED read 0\naction 1\n",
                   "CLOSE empty\n");
  assert_int_equal(o->outlen, 2);
  assert_memory_equal(o->out, "\x88\x00", 2);
  outcome_free(o);
  free(w.p);

  /* Registered and private codes are echoed as received. */
  static const uint16_t codes[] = {1001, 1003, 1007, 1010,
                                   1011, 1014, 3000, 4999};
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    uint8_t b[3] = {(uint8_t)(codes[i] >> 8), (uint8_t)codes[i], 'r'};
    w_init(&w, 1);
    w_frame(&w, CLOSE, b, 3);
    char wl[128], wo[64];
    snprintf(wl, sizeof(wl), "close %u 72\nstate CLOSED read 0\naction 1\n",
             codes[i]);
    snprintf(wo, sizeof(wo), "CLOSE %u ''\n", codes[i]);
    check_wire(&cf, &w, wl, wo);
  }

  /* on_close replies itself: 1000 instead of the echo of 3000. */
  cf.reply_code = 1000;
  w_init(&w, 1);
  w_frame(&w, CLOSE, "\x0b\xb8", 2);
  check_wire(&cf, &w, "close 3000 -\nstate CLOSED read 0\naction 1\n",
             "CLOSE 1000 ''\n");

  /* A client completes the handshake too, then waits for the server to
   * drop TCP (action 2). */
  struct session_cfg cc;
  session_cfg_init(&cc, WS_ROLE_CLIENT);
  w_init(&w, 0);
  w_frame(&w, CLOSE, "\x03\xe9", 2);
  check_wire(&cc, &w, "close 1001 -\nstate CLOSED read 0\naction 2\n",
             "CLOSE 1001 ''\n");
}

static void test_close_self_initiated(void **state) {
  (void)state;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  cf.echo = 0;
  cf.pre_close = 1001;
  cf.pre_reason = "going";
  struct wire w;
  /* Section 5.5.1: the peer may still send until it sees our Close; its
   * messages are delivered, its Pings get no Pong after our Close. */
  w_init(&w, 1);
  w_str(&w, TXT, "late");
  w_str(&w, PING, "p");
  w_frame(&w, CLOSE, "\x03\xe9", 2);
  check_wire(&cf, &w,
             "msg TEXT 6c617465\nping 70\n"
             "close 1001 -\n"
             "state CLOSED read 0\naction 1\n",
             "CLOSE 1001 'going'\n");

  /* The peer answers with an empty Close. */
  w_init(&w, 1);
  w_str(&w, CLOSE, "");
  check_wire(&cf, &w, "close 1005 -\nstate CLOSED read 0\naction 1\n",
             "CLOSE 1001 'going'\n");

  /* Client: action 2 once closed. */
  struct session_cfg cc = cf;
  cc.role = WS_ROLE_CLIENT;
  w_init(&w, 0);
  w_str(&w, CLOSE, "");
  check_wire(&cc, &w, "close 1005 -\nstate CLOSED read 0\naction 2\n",
             "CLOSE 1001 'going'\n");

  /* A violation after our Close: reported once, no second Close. */
  w_init(&w, 1);
  w_str(&w, CONT_FIN, "x");
  check_wire(&cf, &w,
             "violation CONTINUATION_WITHOUT_START 1002 5.4 @0\n"
             "ret -200\nagain -201\nstate FAILED read 0\naction 1\n",
             "CLOSE 1001 'going'\n");

  /* Step by step: states, want_read/want_write, should_close. */
  struct session_ctx c;
  memset(&c, 0, sizeof(c));
  ws_session *s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, NULL, NULL);
  assert_int_equal(ws_session_want_read(s), 1);
  assert_int_equal(ws_session_want_write(s), 0);
  assert_int_equal(ws_session_queue_close(s, 1005, NULL, 0), 0);
  assert_int_equal(ws_session_get_state(s), WS_SESSION_CLOSE_SENT);
  assert_int_equal(ws_session_want_write(s), 1);
  assert_int_equal(ws_session_want_read(s), 1);
  /* Nothing may follow our Close. */
  assert_int_equal(
      ws_session_queue_message(s, WS_OP_TEXT, (const uint8_t *)"x", 1),
      WS_ESTATE);
  assert_int_equal(ws_session_queue_ping(s, NULL, 0), WS_ESTATE);
  assert_int_equal(ws_session_queue_pong(s, NULL, 0), WS_ESTATE);
  assert_int_equal(ws_session_queue_close(s, 1000, NULL, 0), WS_ESTATE);
  const uint8_t *p;
  assert_int_equal(ws_session_send(s, &p), 2);
  assert_memory_equal(p, "\x88\x00", 2);
  assert_int_equal(ws_session_should_close(s), WS_SESSION_KEEP_OPEN);
  w_init(&w, 1);
  w_frame(&w, CLOSE, "\x03\xe8", 2);
  assert_int_equal(ws_session_recv(s, w.p, w.len), (ws_ssize)w.len);
  assert_int_equal(ws_session_get_state(s), WS_SESSION_CLOSED);
  assert_int_equal(ws_session_want_write(s), 0);
  assert_int_equal(ws_session_want_read(s), 0);
  assert_int_equal(ws_session_should_close(s), WS_SESSION_CLOSE_NOW);
  assert_int_equal(ws_session_recv(s, w.p, w.len), WS_ECLOSED);
  assert_null(ws_session_get_violation(s));
  ws_session_del(s);
  free(w.p);
}

/* ------------------------------------------------------------------ */
/* Limits without allocation */

static void test_limits_no_allocation(void **state) {
  (void)state;
  struct failing_mem fm;
  struct ws_session_options opt;
  struct session_ctx c;
  ws_session *s;
  struct wire w;
  static const struct {
    const char *head;
    uint64_t max_frame, max_msg;
    enum ws_violation_id id;
  } cases[] = {
      {"82 ff 7f ff ff ff ff ff ff ff", 0, (uint64_t)64 << 20,
       WS_V_MESSAGE_TOO_BIG},
      {"82 ff 7f ff ff ff ff ff ff ff", 1000, 0, WS_V_FRAME_TOO_BIG},
      {"02 ff 7f ff ff ff ff ff ff ff", 0, 1, WS_V_MESSAGE_TOO_BIG},
      {"82 fe ff ff", 0, 65534, WS_V_MESSAGE_TOO_BIG},
      {"82 fe ff ff", 65534, 0, WS_V_FRAME_TOO_BIG},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    failing_mem_init(&fm, -1);
    ws_session_options_default(&opt);
    opt.max_frame_size = cases[i].max_frame;
    opt.max_message_size = cases[i].max_msg;
    memset(&c, 0, sizeof(c));
    s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, &opt, &fm.mem);
    long calls = fm.calls;
    w_init(&w, 0);
    w_hex(&w, cases[i].head);
    w_hex(&w, "0a0b0c0d");
    assert_int_equal(session_recv_guarded(s, w.p, w.len), WS_EPROTO);
    assert_int_equal(fm.calls, calls); /* not a single allocation */
    const struct ws_violation *v = ws_session_get_violation(s);
    assert_int_equal(v->id, cases[i].id);
    assert_int_equal(v->close_code, 1009);
    assert_int_equal(v->offset, 1);
    ws_session_del(s);
    assert_int_equal(fm.live, 0);
    free(w.p);
  }
  /* Announced at the limit, nothing arrived yet: no allocation either. */
  failing_mem_init(&fm, -1);
  memset(&c, 0, sizeof(c));
  s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, NULL, &fm.mem);
  long calls = fm.calls;
  w_init(&w, 0);
  w_hex(&w, "82 ff 00 00 00 00 04 00 00 00 0a0b0c0d");
  assert_int_equal(ws_session_recv(s, w.p, w.len), (ws_ssize)w.len);
  assert_int_equal(fm.calls, calls);
  assert_int_equal(ws_session_get_state(s), WS_SESSION_OPEN);
  ws_session_del(s);
  assert_int_equal(fm.live, 0);
  free(w.p);
}

/* ------------------------------------------------------------------ */
/* Split invariance over a long mixed sequence */

/* Frames of every kind, ending with a Close; masked when |masked|. */
static void mixed_wire(struct wire *w, int masked, uint8_t *big200,
                       uint8_t *e300) {
  w_init(w, masked);
  w_str(w, TXT, "Hello");
  w_frame(w, BIN, big200, 200); /* 16-bit length */
  /* κόσμε with code points cut across three frames and control frames in
   * between. */
  w_frame(w, WS_OP_TEXT, "\xce\xba\xe1", 3);
  w_str(w, PING, "ping!");
  w_frame(w, WS_OP_CONTINUATION, "\xbd\xb9\xcf", 3);
  w_str(w, PONG, "");
  w_frame(w, CONT_FIN, "\x83\xce\xbc\xce\xb5", 5);
  w_str(w, TXT, "");
  w_str(w, WS_OP_BINARY, "ab");
  w_str(w, WS_OP_CONTINUATION, "");
  w_str(w, CONT_FIN, "cd");
  w_str(w, PING, "");
  w_frame(w, TXT, e300, 300);
  w_frame(w, CLOSE,
          "\x03\xe8"
          "done",
          6);
}

static void test_split_invariance(void **state) {
  (void)state;
  uint8_t big200[200], e300[300];
  for (size_t i = 0; i < 200; i++)
    big200[i] = (uint8_t)(i * 7);
  for (size_t i = 0; i < 300; i += 2)
    memcpy(e300 + i, "\xc3\xa9", 2);
  char l200[128], l300[128], o200[128], o300[128];
  want_bytes(l200, sizeof(l200), "msg BINARY", big200, 200);
  want_bytes(l300, sizeof(l300), "msg TEXT", e300, 300);
  want_bytes(o200, sizeof(o200), "BINARY", big200, 200);
  want_bytes(o300, sizeof(o300), "TEXT", e300, 300);
  char want_log[2048], want_out[2048];
  snprintf(want_log, sizeof(want_log),
           "msg TEXT 48656c6c6f\n%s"
           "ping 70696e6721\npong -\n"
           "msg TEXT cebae1bdb9cf83cebcceb5\n"
           "msg TEXT -\nmsg BINARY 61626364\nping -\n%s"
           "close 1000 646f6e65\n",
           l200, l300);
  /* Both Pings answered, in order, ahead of the echoes. */
  snprintf(want_out, sizeof(want_out),
           "PONG 70696e6721\nPONG -\nTEXT 48656c6c6f\n%sTEXT cebae1bdb9cf83cebcceb5\n"
           "TEXT -\nBINARY 61626364\n%sCLOSE 1000 ''\n",
           o200, o300);
  char log_server[2100], log_client[2100];
  snprintf(log_server, sizeof(log_server), "%sstate CLOSED read 0\naction 1\n",
           want_log);
  snprintf(log_client, sizeof(log_client), "%sstate CLOSED read 0\naction 2\n",
           want_log);

  struct wire w;
  struct session_cfg cf;
  session_cfg_init(&cf, WS_ROLE_SERVER);
  mixed_wire(&w, 1, big200, e300);
  struct outcome *o = check_splits(&cf, w.p, w.len, log_server, want_out);
  outcome_free(o);
  /* Outgoing fragmentation and small send chunks change the bytes, not
   * their invariance. */
  cf.opt.fragment_size = 7;
  cf.opt.send_chunk_size = 10;
  check_wire(&cf, &w, log_server, NULL);

  struct session_cfg cc;
  session_cfg_init(&cc, WS_ROLE_CLIENT);
  mixed_wire(&w, 0, big200, e300);
  check_wire(&cc, &w, log_client, want_out);
}

/* ------------------------------------------------------------------ */
/* Client masking */

static void test_client_masking(void **state) {
  (void)state;
  struct ws_session_options opt;
  ws_session_options_default(&opt);
  uint64_t seed = 7;
  opt.random = test_random;
  opt.random_user = &seed;
  opt.fragment_size = 100;
  ws_session *s = session_make(WS_ROLE_CLIENT, NULL, NULL, &opt, NULL);
  uint8_t big[300];
  memset(big, 'b', sizeof(big));
  assert_int_equal(
      ws_session_queue_message(s, WS_OP_TEXT, (const uint8_t *)"abc", 3), 0);
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, big, 300), 0);
  assert_int_equal(ws_session_queue_ping(s, (const uint8_t *)"pi", 2), 0);
  assert_int_equal(ws_session_queue_pong(s, NULL, 0), 0);
  assert_int_equal(ws_session_queue_close(s, 1000, NULL, 0), 0);
  uint8_t out[1024];
  size_t n = 0;
  const uint8_t *p;
  ws_ssize m;
  while ((m = ws_session_send(s, &p)) > 0) {
    assert_true(n + (size_t)m <= sizeof(out));
    memcpy(out + n, p, (size_t)m);
    n += (size_t)m;
  }
  ws_session_del(s);

  /* Control frames first, then the data frames, the Close last. */
  char *d = describe_frames(out, n, WS_ROLE_CLIENT);
  char want[1024], b100[128];
  fmt_bytes(b100, sizeof(b100), big, 100);
  snprintf(want, sizeof(want),
           "PING 7069\nPONG -\nTEXT 616263\nBINARY+ %s\nCONT+ %s\nCONT %s\n"
           "CLOSE 1000 ''\n",
           b100, b100, b100);
  assert_string_equal(d, want);
  free(d);

  /* Every frame masked with its own key, the keys drawn in queue order
   * from the injected source (Section 5.3). */
  struct ws_decoder_config dc;
  ws_decoder_config_default(&dc, WS_ROLE_SERVER);
  dc.skip_unmask = 1;
  struct ws_decoder dec;
  ws_decoder_init(&dec, &dc);
  uint8_t keys[7][4];
  size_t nk = 0, off = 0;
  while (off < n) {
    struct ws_frame_chunk ch;
    size_t used;
    assert_int_equal(ws_decoder_decode(&dec, out + off, n - off, &used, &ch),
                     1);
    off += used;
    if (ch.first) {
      assert_int_equal(ch.header->masked, 1);
      assert_true(nk < 7);
      memcpy(keys[nk++], ch.header->mask, 4);
    }
  }
  assert_int_equal(nk, 7);
  /* Queue order: TEXT, 3 x BINARY, PING, PONG, CLOSE. */
  static const size_t queue_pos[7] = {4, 5, 0, 1, 2, 3, 6};
  uint64_t s2 = 7;
  uint8_t expect[7][4];
  for (size_t i = 0; i < 7; i++)
    test_random(expect[i], 4, &s2);
  for (size_t i = 0; i < 7; i++) {
    assert_memory_equal(keys[i], expect[queue_pos[i]], 4);
    for (size_t j = 0; j < i; j++)
      assert_memory_not_equal(keys[i], keys[j], 4);
  }
}

/* ------------------------------------------------------------------ */
/* Output queue shape */

static void test_fragment_and_chunks(void **state) {
  (void)state;
  struct ws_session_options opt;
  ws_session_options_default(&opt);
  opt.fragment_size = 4;
  ws_session *s = session_make(WS_ROLE_SERVER, NULL, NULL, &opt, NULL);
  assert_int_equal(ws_session_queue_message(s, WS_OP_TEXT,
                                            (const uint8_t *)"0123456789", 10),
                   0);
  uint8_t out[2048];
  size_t n = session_drain(s, out, sizeof(out), NULL, NULL);
  assert_int_equal(n, 16);
  assert_memory_equal(out,
                      "\x01\x04"
                      "0123"
                      "\x00\x04"
                      "4567"
                      "\x80\x02"
                      "89",
                      16);
  /* An empty message is one empty frame even when fragmenting. */
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, NULL, 0), 0);
  n = session_drain(s, out, sizeof(out), NULL, NULL);
  assert_int_equal(n, 2);
  assert_memory_equal(out, "\x82\x00", 2);
  ws_session_del(s);

  /* 300 bytes in frames of 100 (102 bytes encoded). Chunks of 150: one
   * frame per call, and a Ping queued meanwhile goes between frames. */
  uint8_t big[300];
  for (size_t i = 0; i < 300; i++)
    big[i] = (uint8_t)i;
  opt.fragment_size = 100;
  opt.send_chunk_size = 150;
  s = session_make(WS_ROLE_SERVER, NULL, NULL, &opt, NULL);
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, big, 300), 0);
  const uint8_t *p;
  assert_int_equal(ws_session_send(s, &p), 102);
  assert_int_equal(p[0], 0x02);
  assert_int_equal(ws_session_queue_ping(s, (const uint8_t *)"p", 1), 0);
  assert_int_equal(ws_session_send(s, &p), 3);
  assert_memory_equal(p, "\x89\x01p", 3);
  assert_int_equal(ws_session_send(s, &p), 102);
  assert_int_equal(p[0], 0x00);
  assert_int_equal(ws_session_send(s, &p), 102);
  assert_int_equal(p[0], 0x80);
  assert_int_equal(ws_session_send(s, &p), 0);
  ws_session_del(s);

  /* Chunks of 250: two whole frames, then one. */
  opt.send_chunk_size = 250;
  s = session_make(WS_ROLE_SERVER, NULL, NULL, &opt, NULL);
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, big, 300), 0);
  size_t sizes[16], ns;
  n = session_drain(s, out, sizeof(out), sizes, &ns);
  assert_int_equal(n, 306);
  assert_int_equal(ns, 2);
  assert_int_equal(sizes[0], 204);
  assert_int_equal(sizes[1], 102);
  ws_session_del(s);

  /* Chunks of 50: slices of a frame; a Ping queued mid-frame waits for
   * the frame boundary (control frames are never interleaved inside a
   * frame, Section 5.4). */
  opt.send_chunk_size = 50;
  s = session_make(WS_ROLE_SERVER, NULL, NULL, &opt, NULL);
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, big, 300), 0);
  n = 0;
  ws_ssize m = ws_session_send(s, &p);
  assert_int_equal(m, 50);
  memcpy(out, p, 50);
  n = 50;
  assert_int_equal(ws_session_queue_ping(s, (const uint8_t *)"p", 1), 0);
  n += session_drain(s, out + n, sizeof(out) - n, sizes, &ns);
  assert_int_equal(n, 309);
  size_t want_sizes[] = {50, 2, 3, 50, 50, 2, 50, 50, 2};
  assert_int_equal(ns, 9);
  for (size_t i = 0; i < ns; i++)
    assert_int_equal(sizes[i], want_sizes[i]);
  char *d = describe_frames(out, n, WS_ROLE_SERVER);
  char want[512], b[128];
  fmt_bytes(b, sizeof(b), big, 100);
  snprintf(want, sizeof(want), "BINARY+ %s\nPING 70\n", b);
  assert_true(strncmp(d, want, strlen(want)) == 0);
  free(d);
  ws_session_del(s);

  /* The same for an automatic Pong: a Ping arriving mid-frame is
   * answered at the next frame boundary. */
  s = session_make(WS_ROLE_SERVER, NULL, NULL, &opt, NULL);
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, big, 300), 0);
  assert_int_equal(ws_session_send(s, &p), 50);
  struct wire w;
  w_init(&w, 1);
  w_str(&w, PING, "q");
  assert_int_equal(ws_session_recv(s, w.p, w.len), (ws_ssize)w.len);
  free(w.p);
  assert_int_equal(ws_session_send(s, &p), 50);
  assert_int_equal(ws_session_send(s, &p), 2);
  assert_int_equal(ws_session_send(s, &p), 3);
  assert_memory_equal(p, "\x8a\x01q", 3);
  assert_int_equal(ws_session_send(s, &p), 50);
  assert_int_equal(p[0], 0x00);
  ws_session_del(s);

  /* Unlimited chunks: everything in one call. */
  opt.send_chunk_size = 0;
  s = session_make(WS_ROLE_SERVER, NULL, NULL, &opt, NULL);
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, big, 300), 0);
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, big, 300), 0);
  n = session_drain(s, out, sizeof(out), sizes, &ns);
  assert_int_equal(n, 612);
  assert_int_equal(ns, 1);
  ws_session_del(s);
}

/* ------------------------------------------------------------------ */
/* API errors and callbacks */

static int cb_reenter(ws_session *s, enum ws_opcode op, const uint8_t *d,
                      size_t n, void *u) {
  uint8_t b[1] = {0};
  *(int *)u = (int)ws_session_recv(s, b, 1);
  return 0;
}

static void test_api_errors(void **state) {
  (void)state;
  ws_session *s = NULL;
  struct ws_session_options opt;
  ws_session_options_default(&opt);
  assert_int_equal(ws_session_new(NULL, WS_ROLE_SERVER, NULL, NULL, NULL, NULL),
                   WS_EINVAL);
  assert_int_equal(ws_session_new(&s, (enum ws_role)2, NULL, NULL, NULL, NULL),
                   WS_EINVAL);
  opt.allowed_rsv = 0x08;
  assert_int_equal(ws_session_new(&s, WS_ROLE_SERVER, NULL, NULL, &opt, NULL),
                   WS_EINVAL);
  assert_null(s);
  ws_session_del(NULL);
  assert_int_equal(ws_session_recv(NULL, NULL, 0), WS_EINVAL);
  assert_int_equal(ws_session_send(NULL, NULL), WS_EINVAL);
  assert_int_equal(ws_session_should_close(NULL), WS_SESSION_KEEP_OPEN);

  s = session_make(WS_ROLE_SERVER, NULL, NULL, NULL, NULL);
  assert_int_equal(ws_session_recv(s, NULL, 1), WS_EINVAL);
  assert_int_equal(ws_session_recv(s, NULL, 0), 0);
  assert_int_equal(ws_session_send(s, NULL), WS_EINVAL);
  /* Invalid text is refused: the session never emits an invalid frame. */
  assert_int_equal(
      ws_session_queue_message(s, WS_OP_TEXT, (const uint8_t *)"a\xff", 2),
      WS_EINVAL);
  assert_int_equal(
      ws_session_queue_message(s, WS_OP_TEXT, (const uint8_t *)"\xe2\x82", 2),
      WS_EINVAL);
  assert_int_equal(
      ws_session_queue_message(s, WS_OP_PING, (const uint8_t *)"a", 1),
      WS_EINVAL);
  assert_int_equal(
      ws_session_queue_message(s, WS_OP_CONTINUATION, (const uint8_t *)"a", 1),
      WS_EINVAL);
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, NULL, 1),
                   WS_EINVAL);
  uint8_t p126[126] = {0};
  assert_int_equal(ws_session_queue_ping(s, p126, 126), WS_ETOOBIG);
  assert_int_equal(ws_session_queue_pong(s, p126, 126), WS_ETOOBIG);
  assert_int_equal(ws_session_queue_ping(s, NULL, 3), WS_EINVAL);
  uint8_t r124[124];
  memset(r124, 'r', sizeof(r124));
  assert_int_equal(ws_session_queue_close(s, 1000, r124, 124), WS_ETOOBIG);
  assert_int_equal(ws_session_queue_close(s, 1005, r124, 1), WS_EINVAL);
  assert_int_equal(ws_session_queue_close(s, 1006, NULL, 0), WS_EINVAL);
  assert_int_equal(ws_session_queue_close(s, 1015, NULL, 0), WS_EINVAL);
  assert_int_equal(ws_session_queue_close(s, 999, NULL, 0), WS_EINVAL);
  assert_int_equal(ws_session_queue_close(s, 5000, NULL, 0), WS_EINVAL);
  assert_int_equal(
      ws_session_queue_close(s, 1000, (const uint8_t *)"\xc0\xaf", 2),
      WS_EINVAL);
  /* None of that queued anything or changed the state. */
  assert_int_equal(ws_session_want_write(s), 0);
  assert_int_equal(ws_session_get_state(s), WS_SESSION_OPEN);
  /* The largest Close: 123-byte reason, 127 bytes on the wire. */
  assert_int_equal(ws_session_queue_close(s, 4000, r124, 123), 0);
  const uint8_t *p;
  assert_int_equal(ws_session_send(s, &p), 127);
  assert_memory_equal(p, "\x88\x7d\x0f\xa0", 4);
  ws_session_del(s);

  /* recv from inside a callback is refused. */
  int inner = 0;
  struct ws_session_callbacks cb = {.on_message = cb_reenter};
  s = session_make(WS_ROLE_SERVER, &cb, &inner, NULL, NULL);
  struct wire w;
  w_init(&w, 1);
  w_str(&w, TXT, "x");
  assert_int_equal(ws_session_recv(s, w.p, w.len), (ws_ssize)w.len);
  assert_int_equal(inner, WS_ESTATE);
  ws_session_del(s);
  free(w.p);
}

static void test_callback_failure(void **state) {
  (void)state;
  struct wire w;
  w_init(&w, 1);
  w_str(&w, TXT, "a");
  w_str(&w, TXT, "b");
  struct session_ctx c;
  memset(&c, 0, sizeof(c));
  c.echo = 1;
  c.fail_in = FAIL_MESSAGE;
  ws_session *s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, NULL, NULL);
  assert_int_equal(ws_session_recv(s, w.p, w.len), WS_ECALLBACK);
  assert_string_equal(c.log, "msg TEXT 61\n");
  /* The read side stopped; the write side still works. */
  assert_int_equal(ws_session_want_read(s), 0);
  assert_int_equal(ws_session_recv(s, w.p + 7, 7), WS_ECALLBACK);
  assert_int_equal(ws_session_queue_close(s, 1011, NULL, 0), 0);
  uint8_t out[64];
  size_t n = session_drain(s, out, sizeof(out), NULL, NULL);
  char *d = describe_frames(out, n, WS_ROLE_SERVER);
  assert_string_equal(d, "TEXT 61\nCLOSE 1011 ''\n");
  free(d);
  ws_session_del(s);
  free(w.p);

  /* on_violation failing: the violation is handled all the same. */
  w_init(&w, 1);
  w_str(&w, CONT_FIN, "x");
  memset(&c, 0, sizeof(c));
  c.fail_in = FAIL_VIOLATION;
  s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, NULL, NULL);
  assert_int_equal(ws_session_recv(s, w.p, w.len), WS_ECALLBACK);
  assert_int_equal(ws_session_get_state(s), WS_SESSION_FAILED);
  n = session_drain(s, out, sizeof(out), NULL, NULL);
  d = describe_frames(out, n, WS_ROLE_SERVER);
  assert_string_equal(
      d, "CLOSE 1002 'continuation frame without a message to continue'\n");
  free(d);
  assert_int_equal(ws_session_should_close(s), WS_SESSION_CLOSE_NOW);
  ws_session_del(s);
  free(w.p);

  /* on_close failing: the reply is still queued. */
  w_init(&w, 1);
  w_frame(&w, CLOSE, "\x03\xe8", 2);
  memset(&c, 0, sizeof(c));
  c.fail_in = FAIL_CLOSE;
  s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, NULL, NULL);
  assert_int_equal(ws_session_recv(s, w.p, w.len), WS_ECALLBACK);
  assert_int_equal(ws_session_get_state(s), WS_SESSION_CLOSED);
  n = session_drain(s, out, sizeof(out), NULL, NULL);
  assert_int_equal(n, 4);
  assert_memory_equal(out, "\x88\x02\x03\xe8", 4);
  ws_session_del(s);
  free(w.p);

  /* on_ping / on_pong failing. */
  for (int which = FAIL_PING; which <= FAIL_PONG; which++) {
    w_init(&w, 1);
    w_str(&w, which == FAIL_PING ? PING : PONG, "q");
    w_str(&w, TXT, "never");
    memset(&c, 0, sizeof(c));
    c.fail_in = which;
    s = session_make(WS_ROLE_SERVER, &session_log_cb, &c, NULL, NULL);
    assert_int_equal(ws_session_recv(s, w.p, w.len), WS_ECALLBACK);
    assert_string_equal(c.log, which == FAIL_PING ? "ping 71\n" : "pong 71\n");
    ws_session_del(s);
    free(w.p);
  }
}

/* Big buffers are given back once empty; partly sent output is moved to
 * the front when the queue must grow; 64-bit frames are walked. */
static void test_buffer_reuse(void **state) {
  (void)state;
  struct failing_mem fm;
  failing_mem_init(&fm, -1);
  struct ws_session_options opt;
  ws_session_options_default(&opt);
  opt.send_chunk_size = 50;
  struct session_ctx *c = calloc(1, sizeof(*c));
  ws_session *s =
      session_make(WS_ROLE_SERVER, &session_log_cb, c, &opt, &fm.mem);
  long base = fm.live;
  size_t big = (size_t)3 << 19; /* 1.5 MiB, over the trim size */
  uint8_t *data = malloc(big);
  memset(data, 'z', big);
  struct wire w;
  w_init(&w, 1);
  w_frame(&w, WS_OP_BINARY, data, big / 2);
  w_frame(&w, CONT_FIN, data, big / 2);
  assert_int_equal(ws_session_recv(s, w.p, w.len), (ws_ssize)w.len);
  free(w.p);
  assert_int_equal(fm.live, base); /* assembly buffer freed after use */
  assert_true(strncmp(c->log, "msg BINARY len=1572864", 22) == 0);
  /* 300 bytes queued, 50 sent, then 1.5 MiB more: the rest moves. */
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, data, 300), 0);
  const uint8_t *p;
  uint8_t head[50];
  assert_int_equal(ws_session_send(s, &p), 50);
  memcpy(head, p, 50);
  assert_int_equal(ws_session_queue_message(s, WS_OP_BINARY, data, big), 0);
  uint8_t *out = malloc(big + 400);
  memcpy(out, head, 50);
  size_t n = 50 + session_drain(s, out + 50, big + 350, NULL, NULL);
  assert_int_equal(n, 4 + 300 + 10 + big);
  assert_memory_equal(out, "\x82\x7e\x01\x2c", 4);
  assert_memory_equal(out + 304, "\x82\x7f\x00\x00\x00\x00\x00\x18\x00\x00",
                      10);
  assert_memory_equal(out + 314, data, big);
  assert_int_equal(fm.live, base); /* output buffer freed once drained */
  ws_session_del(s);
  assert_int_equal(fm.live, 0);
  free(out);
  free(data);
  free(c);
}

static int fail_stream(ws_session *s, const uint8_t *d, size_t n, void *u) {
  return 1;
}

static int fail_begin(ws_session *s, enum ws_opcode op, void *u) { return 1; }

/* Streaming callbacks failing stop the read side like any other. */
static void test_streaming_failure(void **state) {
  (void)state;
  struct ws_session_callbacks cb = {.on_message_data = fail_stream};
  struct wire w;
  w_init(&w, 1);
  w_str(&w, TXT, "abc");
  ws_session *s = session_make(WS_ROLE_SERVER, &cb, NULL, NULL, NULL);
  assert_int_equal(ws_session_recv(s, w.p, w.len), WS_ECALLBACK);
  assert_int_equal(ws_session_want_read(s), 0);
  ws_session_del(s);
  cb.on_message_begin = fail_begin;
  s = session_make(WS_ROLE_SERVER, &cb, NULL, NULL, NULL);
  assert_int_equal(ws_session_recv(s, w.p, w.len), WS_ECALLBACK);
  assert_int_equal(ws_session_recv(s, w.p, w.len), WS_ECALLBACK);
  ws_session_del(s);
  free(w.p);
}

static int fail_random(uint8_t *buf, size_t len, void *user) {
  (void)buf;
  (void)len;
  return *(int *)user;
}

static void test_random_failure(void **state) {
  (void)state;
  int fail = 1;
  struct ws_session_options opt;
  ws_session_options_default(&opt);
  opt.random = fail_random;
  opt.random_user = &fail;
  ws_session *s;
  struct session_ctx c;
  memset(&c, 0, sizeof(c));
  s = session_make(WS_ROLE_CLIENT, &session_log_cb, &c, &opt, NULL);
  assert_int_equal(
      ws_session_queue_message(s, WS_OP_TEXT, (const uint8_t *)"x", 1),
      WS_ERANDOM);
  assert_int_equal(ws_session_queue_ping(s, NULL, 0), WS_ERANDOM);
  assert_int_equal(ws_session_queue_close(s, 1000, NULL, 0), WS_ERANDOM);
  assert_int_equal(ws_session_want_write(s), 0);
  assert_int_equal(ws_session_get_state(s), WS_SESSION_OPEN);
  /* An automatic Pong that cannot be masked stops the read side. */
  uint8_t ping[] = {0x89, 0x00};
  assert_int_equal(ws_session_recv(s, ping, 2), WS_ERANDOM);
  assert_int_equal(ws_session_want_read(s), 0);
  fail = 0;
  assert_int_equal(ws_session_queue_close(s, 1011, NULL, 0), 0);
  assert_int_equal(ws_session_want_write(s), 1);
  ws_session_del(s);
}

/* ------------------------------------------------------------------ */
/* Allocation failures */

/* A scenario that allocates on every path: assembly (fragmented and
 * split frames), data queue, control queue. Returns the first non-success
 * code and the step that produced it (0 = none). */
static int alloc_scenario(struct failing_mem *fm, int *step) {
  struct session_ctx *c = calloc(1, sizeof(*c));
  ws_session *s = NULL;
  int rc = 0;
  *step = 0;
  uint8_t big[5000];
  memset(big, 'x', sizeof(big));
  struct wire w;
  w_init(&w, 1);
  w_str(&w, WS_OP_TEXT, "Hello, ");
  w_str(&w, PING, "p");
  w_str(&w, CONT_FIN, "world");
  w_frame(&w, BIN, big, sizeof(big));
  size_t cut = w.len - 2000;
  rc = ws_session_new(&s, WS_ROLE_SERVER, &session_log_cb, c, NULL, &fm->mem);
  if (rc) {
    *step = 1;
    goto out;
  }
  ws_ssize r = ws_session_recv(s, w.p, cut);
  if (r != (ws_ssize)cut) {
    rc = (int)r;
    *step = 2;
    goto out;
  }
  r = ws_session_recv(s, w.p + cut, w.len - cut);
  if (r != (ws_ssize)(w.len - cut)) {
    rc = (int)r;
    *step = 3;
    goto out;
  }
  if ((rc = ws_session_queue_message(s, WS_OP_BINARY, big, 1000))) {
    *step = 4;
    goto out;
  }
  if ((rc = ws_session_queue_ping(s, (const uint8_t *)"q", 1))) {
    *step = 5;
    goto out;
  }
  if ((rc = ws_session_queue_message(s, WS_OP_TEXT, big, sizeof(big)))) {
    *step = 6;
    goto out;
  }
  uint8_t *out = malloc(16384);
  size_t n = session_drain(s, out, 16384, NULL, NULL);
  assert_int_equal(n, 3 + 3 + 1004 + 5004);
  free(out);
  char want[256];
  want_bytes(want, sizeof(want),
             "ping 70\nmsg TEXT 48656c6c6f2c20776f726c64\nmsg BINARY", big,
             sizeof(big));
  assert_string_equal(c->log, want);
out:
  if (rc == WS_ENOMEM && *step >= 2 && *step <= 3) {
    /* Fatal: every later call says so; the transport should go. */
    const uint8_t *p;
    assert_int_equal(ws_session_get_state(s), WS_SESSION_FAILED);
    assert_int_equal(ws_session_recv(s, w.p, 1), WS_ENOMEM);
    assert_int_equal(ws_session_send(s, &p), WS_ENOMEM);
    assert_int_equal(ws_session_queue_ping(s, NULL, 0), WS_ENOMEM);
    assert_int_equal(ws_session_should_close(s), WS_SESSION_CLOSE_NOW);
    assert_int_equal(ws_session_want_read(s), 0);
  }
  if (rc == WS_ENOMEM && *step >= 4) {
    /* Queueing failures leave the session as it was. */
    assert_int_equal(ws_session_get_state(s), WS_SESSION_OPEN);
  }
  ws_session_del(s);
  free(w.p);
  free(c);
  return rc;
}

static void test_alloc_walk(void **state) {
  (void)state;
  struct failing_mem fm;
  int step;
  failing_mem_init(&fm, -1);
  assert_int_equal(alloc_scenario(&fm, &step), 0);
  assert_int_equal(fm.live, 0);
  long total = fm.calls;
  assert_true(total >= 5); /* session, assembly, growth, data, control */
  int seen[8] = {0};
  for (long i = 0; i < total; i++) {
    failing_mem_init(&fm, i);
    int rc = alloc_scenario(&fm, &step);
    if (rc != WS_ENOMEM)
      fail_msg("allocation %ld: rc %d at step %d", i, rc, step);
    assert_int_equal(fm.calls, i + 1); /* nothing allocated after failing */
    assert_int_equal(fm.live, 0);
    seen[step]++;
  }
  /* Every step that allocates was hit. */
  assert_int_equal(seen[1], 1);
  assert_true(seen[2] >= 1);
  assert_true(seen[3] >= 1);
  assert_true(seen[4] >= 1);
  assert_true(seen[5] >= 1);
  assert_true(seen[6] >= 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc_examples),
      cmocka_unit_test(test_echo_messages),
      cmocka_unit_test(test_zero_copy),
      cmocka_unit_test(test_auto_pong),
      cmocka_unit_test(test_streaming),
      cmocka_unit_test(test_violations_codec),
      cmocka_unit_test(test_violations_session),
      cmocka_unit_test(test_violations_close),
      cmocka_unit_test(test_fail_fast_mid_frame),
      cmocka_unit_test(test_close_peer_initiated),
      cmocka_unit_test(test_close_self_initiated),
      cmocka_unit_test(test_limits_no_allocation),
      cmocka_unit_test(test_split_invariance),
      cmocka_unit_test(test_client_masking),
      cmocka_unit_test(test_fragment_and_chunks),
      cmocka_unit_test(test_api_errors),
      cmocka_unit_test(test_callback_failure),
      cmocka_unit_test(test_random_failure),
      cmocka_unit_test(test_buffer_reuse),
      cmocka_unit_test(test_streaming_failure),
      cmocka_unit_test(test_alloc_walk),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
