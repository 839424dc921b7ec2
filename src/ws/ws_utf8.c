/*
 * ws_utf8.c: UTF-8 validation for RFC 6455 Section 8.1 (text messages) and
 * Section 5.5.1 (close reasons), by the byte syntax of RFC 3629 Section 4.
 *
 * Two paths, one answer.
 *
 * - The portable path is a "shift DFA": each byte value owns a 64-bit row
 *   holding, for every state, the next state as a 6-bit field; a state is
 *   the bit offset of its field, so one transition is one shift of the row
 *   by the state. The dependency chain is that single shift (one cycle),
 *   where a classic table DFA chains two loads per byte. Runs of ASCII are
 *   skipped 16 bytes at a time.
 *
 * - The AVX2 path is the Keiser-Lemire "lookup" check ("Validating UTF-8 In
 *   Less Than One Instruction Per Byte", 2021): every byte is classified
 *   against the byte before it through three 16-entry nibble tables, plus a
 *   check that the second and third bytes after a 3- or 4-byte lead are
 *   continuations. It can only say "this block is clean" or "something here
 *   is wrong". The exact fail-fast offset always comes from the scalar DFA,
 *   restarted at a code point boundary the vector check has proven clean,
 *   so the two paths cannot disagree on a verdict or an offset. Chunks
 *   share the DFA state: a chunk that starts inside a code point is
 *   checked with a lead byte of the same DFA state standing in for the
 *   bytes before it, and the state at its end is read off its last three
 *   bytes. All-ASCII blocks cost one OR and one test.
 *
 * Nothing here allocates or keeps global mutable state; struct ws_utf8 is
 * all the state there is. After INVALID, v->state is S_REJECT and v->pos is
 * frozen at the failing offset, so later calls repeat the same answer. A
 * zero-filled struct reads as REJECT at offset 0: a validator that was
 * never initialised fails closed.
 */
#include "ws_utf8.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WS_UTF8_X86 1
#endif

/* ------------------------------------------------------------------------
 * The shift DFA (portable path).
 *
 * States are bit offsets, multiples of 6, so all nine fit one 64-bit row
 * (9 * 6 = 54 bits). REJECT is 0: a transition a row does not list is a
 * zero field, i.e. REJECT, and bits 0..5 of every row are zero, so REJECT
 * never leaves REJECT. The names say what the state still needs.
 */
enum {
  S_REJECT = 0,
  S_ACCEPT = 6, /* at a code point boundary */
  S_TAIL1 = 12, /* one more 80..BF */
  S_TAIL2 = 18, /* two more 80..BF */
  S_TAIL3 = 24, /* three more 80..BF */
  S_E0 = 30,    /* after E0: A0..BF, then one more (no overlong 3-byte) */
  S_ED = 36,    /* after ED: 80..9F, then one more (no surrogates) */
  S_F0 = 42,    /* after F0: 90..BF, then two more (no overlong 4-byte) */
  S_F4 = 48     /* after F4: 80..8F, then two more (nothing > U+10FFFF) */
};

#define GO(from, to) ((uint64_t)(to) << (from))

/* RFC 3629 Section 4, one row per byte class. C0, C1 and F5..FF appear in
 * no rule, so their row is all REJECT. */
#define ROW_ASCII GO(S_ACCEPT, S_ACCEPT)
#define ROW_LEAD2 GO(S_ACCEPT, S_TAIL1)       /* C2..DF */
#define ROW_LEAD3 GO(S_ACCEPT, S_TAIL2)       /* E1..EC, EE..EF */
#define ROW_LEAD4 GO(S_ACCEPT, S_TAIL3)       /* F1..F3 */
#define ROW_E0 GO(S_ACCEPT, S_E0)
#define ROW_ED GO(S_ACCEPT, S_ED)
#define ROW_F0 GO(S_ACCEPT, S_F0)
#define ROW_F4 GO(S_ACCEPT, S_F4)
#define ROW_BAD 0
#define ROW_CONT                                                           \
  (GO(S_TAIL1, S_ACCEPT) | GO(S_TAIL2, S_TAIL1) | GO(S_TAIL3, S_TAIL2))
#define ROW_80 (ROW_CONT | GO(S_ED, S_TAIL1) | GO(S_F4, S_TAIL2)) /* 80..8F */
#define ROW_90 (ROW_CONT | GO(S_ED, S_TAIL1) | GO(S_F0, S_TAIL2)) /* 90..9F */
#define ROW_A0 (ROW_CONT | GO(S_E0, S_TAIL1) | GO(S_F0, S_TAIL2)) /* A0..BF */

#define X2(r) r, r
#define X4(r) X2(r), X2(r)
#define X8(r) X4(r), X4(r)
#define X16(r) X8(r), X8(r)

static const uint64_t dfa[] = {
    X16(ROW_ASCII), X16(ROW_ASCII), X16(ROW_ASCII), X16(ROW_ASCII), /* 00 */
    X16(ROW_ASCII), X16(ROW_ASCII), X16(ROW_ASCII), X16(ROW_ASCII), /* 40 */
    X16(ROW_80),    X16(ROW_90),    X16(ROW_A0),    X16(ROW_A0),    /* 80 */
    X2(ROW_BAD),                                                    /* C0 */
    X16(ROW_LEAD2), X8(ROW_LEAD2),  X4(ROW_LEAD2),  X2(ROW_LEAD2),  /* C2 */
    ROW_E0,                                                         /* E0 */
    X8(ROW_LEAD3),  X4(ROW_LEAD3),                                  /* E1 */
    ROW_ED,                                                         /* ED */
    X2(ROW_LEAD3),                                                  /* EE */
    ROW_F0,                                                         /* F0 */
    X2(ROW_LEAD4),  ROW_LEAD4,                                      /* F1 */
    ROW_F4,                                                         /* F4 */
    X8(ROW_BAD),    X2(ROW_BAD),    ROW_BAD                         /* F5 */
};
_Static_assert(sizeof(dfa) / sizeof(dfa[0]) == 256, "one row per byte");

/* One transition. The state keeps garbage above bit 5 between steps; the
 * "& 63" costs nothing on x86, whose shifts mask the count the same way. */
static inline uint64_t step(uint64_t s, uint8_t b) {
  return dfa[b] >> (s & 63);
}

/* The high bits of 16 bytes: zero when all are ASCII. */
static inline uint64_t high16(const uint8_t *p) {
  uint64_t a, b;
  memcpy(&a, p, 8);
  memcpy(&b, p + 8, 8);
  return (a | b) & UINT64_C(0x8080808080808080);
}

/*
 * Runs the DFA over p[0..n) from *sp. Returns n and leaves the state in
 * *sp, or returns the index of the first byte that made the input invalid
 * (leaving S_REJECT in *sp).
 */
static size_t scalar_run(const uint8_t *p, size_t n, uint64_t *sp) {
  uint64_t s = *sp;
  size_t i = 0;
  while (i + 16 <= n) {
    /* "ASCII and at a boundary" as one test: on mixed text "at a
     * boundary" alone is a coin toss the branch predictor would lose. */
    if ((high16(p + i) | ((s & 63) ^ S_ACCEPT)) == 0) {
      i += 16;
      while (i + 16 <= n && high16(p + i) == 0)
        i += 16;
      continue;
    }
    /* Sixteen unconditional steps: REJECT absorbs, so one test at the end
     * suffices; on failure the byte loop below redoes these 16 bytes from
     * s0 to find the exact one. */
    uint64_t s0 = s;
    const uint8_t *q = p + i;
    s = step(s, q[0]);
    s = step(s, q[1]);
    s = step(s, q[2]);
    s = step(s, q[3]);
    s = step(s, q[4]);
    s = step(s, q[5]);
    s = step(s, q[6]);
    s = step(s, q[7]);
    s = step(s, q[8]);
    s = step(s, q[9]);
    s = step(s, q[10]);
    s = step(s, q[11]);
    s = step(s, q[12]);
    s = step(s, q[13]);
    s = step(s, q[14]);
    s = step(s, q[15]);
    if ((s & 63) == S_REJECT) {
      s = s0;
      break;
    }
    i += 16;
  }
  for (; i < n; i++) {
    s = step(s, p[i]);
    if ((s & 63) == S_REJECT) {
      *sp = S_REJECT;
      return i;
    }
  }
  *sp = s & 63;
  return n;
}

/* ------------------------------------------------------------------------
 * The AVX2 lookup check.
 */
#ifdef WS_UTF8_X86
#define AVX2 __attribute__((target("avx2")))

/*
 * Error classes: each names a way a byte can clash with the byte before it
 * (the "previous" byte is on the left). A class fires when the previous
 * byte's high nibble, its low nibble and the current byte's high nibble all
 * allow it, i.e. when its bit survives the AND of the three tables below.
 */
enum {
  E_TOO_SHORT = 0x01,  /* lead C0..FF, then 00..7F or C0..FF */
  E_TOO_LONG = 0x02,   /* 00..7F, then a continuation 80..BF */
  E_OVERLONG_3 = 0x04, /* E0, then 80..9F */
  E_TOO_LARGE = 0x08,  /* F4..FF, then 90..BF */
  E_SURROGATE = 0x10,  /* ED, then A0..BF */
  E_OVERLONG_2 = 0x20, /* C0..C1, then 80..BF */
  E_X_80 = 0x40,       /* F0 (overlong 4) or F5..FF (too large), then 80..8F */
  E_TWO_CONTS = 0x80   /* a continuation, then a continuation */
};
/* The classes decided by the high nibbles alone: any low nibble allows them. */
#define E_ANY_LOW (E_TOO_SHORT | E_TOO_LONG | E_TWO_CONTS)
#define E_CONT_HI (E_TOO_LONG | E_OVERLONG_2 | E_TWO_CONTS)

/* Indexed by the high nibble of the previous byte: 0..7 ASCII, 8..B
 * continuation, C..F leads. */
#define HI1_TAB                                                            \
  E_TOO_LONG, E_TOO_LONG, E_TOO_LONG, E_TOO_LONG, E_TOO_LONG, E_TOO_LONG,  \
      E_TOO_LONG, E_TOO_LONG, E_TWO_CONTS, E_TWO_CONTS, E_TWO_CONTS,       \
      E_TWO_CONTS, E_TOO_SHORT | E_OVERLONG_2, /* C_ */                    \
      E_TOO_SHORT,                             /* D_ */                    \
      E_TOO_SHORT | E_OVERLONG_3 | E_SURROGATE, /* E_ */                   \
      E_TOO_SHORT | E_TOO_LARGE | E_X_80        /* F_ */

/* Indexed by the low nibble of the previous byte: which leads among C_, E_
 * and F_ are special. */
#define LO1_TAB                                                            \
  E_ANY_LOW | E_OVERLONG_2 | E_OVERLONG_3 | E_X_80, /* C0 E0 F0 */         \
      E_ANY_LOW | E_OVERLONG_2,                     /* C1 */               \
      E_ANY_LOW, E_ANY_LOW,                         /* _2 _3 */            \
      E_ANY_LOW | E_TOO_LARGE,                      /* F4 */               \
      X8(E_ANY_LOW | E_TOO_LARGE | E_X_80),         /* F5..FC */           \
      E_ANY_LOW | E_TOO_LARGE | E_X_80 | E_SURROGATE, /* ED FD */          \
      X2(E_ANY_LOW | E_TOO_LARGE | E_X_80)          /* FE FF */

/* Indexed by the high nibble of the current byte: ASCII and leads cannot
 * follow a lead; continuations carry the second-byte ranges. */
#define HI2_TAB                                                            \
  X8(E_TOO_SHORT),                                 /* 00..7F */            \
      E_CONT_HI | E_OVERLONG_3 | E_X_80,           /* 80..8F */            \
      E_CONT_HI | E_OVERLONG_3 | E_TOO_LARGE,      /* 90..9F */            \
      X2(E_CONT_HI | E_SURROGATE | E_TOO_LARGE),   /* A0..BF */            \
      X4(E_TOO_SHORT)                              /* C0..FF */

/* The constants of the check, 32 bytes each (vpshufb looks tables up per
 * 128-bit lane, so each table appears twice). */
static const uint8_t k_hi1[32] = {HI1_TAB, HI1_TAB};
static const uint8_t k_lo1[32] = {LO1_TAB, LO1_TAB};
static const uint8_t k_hi2[32] = {HI2_TAB, HI2_TAB};
static const uint8_t k_nibble[32] = {X16(0x0F), X16(0x0F)};
static const uint8_t k_third[32] = {X16(0xE0 - 0x80), X16(0xE0 - 0x80)};
static const uint8_t k_fourth[32] = {X16(0xF0 - 0x80), X16(0xF0 - 0x80)};
static const uint8_t k_high[32] = {X16(0x80), X16(0x80)};
/* Saturating subtraction leaves a non-zero byte where the last byte is
 * >= C0, the one before >= E0 or the one before that >= F0. */
static const uint8_t k_open[32] = {X16(0xFF), X8(0xFF), X4(0xFF),
                                   0xFF,      0xF0 - 1, 0xE0 - 1, 0xC0 - 1};

/* The constants in registers, loaded once per call. */
struct consts {
  __m256i hi1, lo1, hi2, nibble, third, fourth, high, open;
};

/* Loads a constant and hides its value from the optimiser: otherwise gcc
 * rebuilds some of them with broadcasts inside the loop (shuffle-port
 * work the check is already short of) instead of keeping or reloading
 * them. */
AVX2 static inline __m256i opaque(const uint8_t k[32]) {
  __m256i v;
  __asm__("vmovdqu %1, %0" : "=x"(v) : "m"(*(const uint8_t(*)[32])k));
  return v;
}

AVX2 static inline void load_consts(struct consts *k) {
  k->hi1 = opaque(k_hi1);
  k->lo1 = opaque(k_lo1);
  k->hi2 = opaque(k_hi2);
  k->nibble = opaque(k_nibble);
  k->third = opaque(k_third);
  k->fourth = opaque(k_fourth);
  k->high = opaque(k_high);
  k->open = opaque(k_open);
}

/* The bytes |n| positions before each byte of |in|: the last n bytes of
 * |prev| shifted in front. vpalignr works within lanes, hence |mid| =
 * (high lane of prev, low lane of in), built once per vector. */
#define BEFORE(in, mid, n) _mm256_alignr_epi8((in), (mid), 16 - (n))

/*
 * Returns a non-zero byte wherever |in| (with |prev|, the 32 bytes before
 * it) breaks a rule. Checks every byte against the 1..3 bytes before it;
 * a sequence truncated by the end of |in| is not an error here.
 */
AVX2 static inline __m256i check32(__m256i in, __m256i prev,
                                   const struct consts *k) {
  __m256i mid = _mm256_permute2x128_si256(prev, in, 0x21);
  __m256i prev1 = BEFORE(in, mid, 1);
  __m256i hi1 = _mm256_and_si256(_mm256_srli_epi16(prev1, 4), k->nibble);
  __m256i lo1 = _mm256_and_si256(prev1, k->nibble);
  __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(in, 4), k->nibble);
  __m256i special = _mm256_and_si256(
      _mm256_and_si256(_mm256_shuffle_epi8(k->hi1, hi1),
                       _mm256_shuffle_epi8(k->lo1, lo1)),
      _mm256_shuffle_epi8(k->hi2, hi2));

  /* The second continuation after E0..EF and the third after F0..FF are
   * flagged TWO_CONTS above; there they are required, not an error, and
   * their absence is one. XOR with 0x80 "required here" does both. The
   * unsigned >= tests use saturating subtraction into the sign bit. */
  __m256i third = _mm256_subs_epu8(BEFORE(in, mid, 2), k->third);
  __m256i fourth = _mm256_subs_epu8(BEFORE(in, mid, 3), k->fourth);
  __m256i must = _mm256_and_si256(_mm256_or_si256(third, fourth), k->high);
  return _mm256_xor_si256(must, special);
}

/* Non-zero when the last three bytes of |in| start a sequence that needs
 * bytes beyond it. */
AVX2 static inline __m256i incomplete(__m256i in, const struct consts *k) {
  return _mm256_subs_epu8(in, k->open);
}

/* What the check carries from one 64-byte block to the next. */
struct carry {
  __m256i prev;       /* the last 32 bytes checked */
  __m256i incomplete; /* incomplete(prev), for an all-ASCII next block */
};

/* Checks the 64 bytes at |p|; returns non-zero bytes on error. */
AVX2 static inline __m256i check64(const uint8_t *p, struct carry *c,
                                   const struct consts *k) {
  __m256i a = _mm256_loadu_si256((const __m256i *)p);
  __m256i b = _mm256_loadu_si256((const __m256i *)(p + 32));
  __m256i err;
  if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0) {
    /* All ASCII: the only possible error is a sequence the previous block
     * left open. */
    err = c->incomplete;
    c->incomplete = _mm256_setzero_si256();
  } else {
    err = _mm256_or_si256(check32(a, c->prev, k), check32(b, a, k));
    c->incomplete = incomplete(b, k);
  }
  c->prev = b;
  return err;
}

/*
 * A stand-in for the code point the previous chunk left open, by DFA
 * state: a lead byte that leaves the DFA in the same state puts the same
 * constraints on the bytes that follow (E1 for "E1", "F1 80" or "F0 90";
 * C2 for any state that needs one more continuation, and so on).
 */
static const uint8_t stand_in[S_F4 + 1] = {
    [S_TAIL1] = 0xC2, [S_TAIL2] = 0xE1, [S_TAIL3] = 0xF1, [S_E0] = 0xE0,
    [S_ED] = 0xED,    [S_F0] = 0xF0,    [S_F4] = 0xF4};

/* ff_then_zero + 64 - k: a 64-byte mask keeping the first k bytes. */
static const uint8_t ff_then_zero[128] = {X16(0xFF), X16(0xFF), X16(0xFF),
                                          X16(0xFF)};

/* The high bits of the 64 bytes at p, OR-ed in pairs: 0 when all ASCII. */
AVX2 static inline int ascii_bits64(const uint8_t *p) {
  __m256i a = _mm256_loadu_si256((const __m256i *)p);
  __m256i b = _mm256_loadu_si256((const __m256i *)(p + 32));
  return _mm256_movemask_epi8(_mm256_or_si256(a, b));
}

#define IS_CONT(b) (((b)&0xC0) == 0x80)

/*
 * The DFA state after p[0..len), len >= 3, when the vector check passed:
 * every byte has been checked against the bytes before it, but the last
 * byte not against what follows, so the last code point may be open or
 * (C0, C1, F5..FF at the very end) already invalid. Only a code point
 * that starts in the last three bytes can be open; the DFA restarts at
 * ACCEPT on each byte that is not a continuation, which is exact from the
 * first such byte on. Three trailing continuations close a 4-byte
 * sequence. Masks instead of branches: where a chunk ends inside a code
 * point is random, and a mispredicted branch would cost more than this.
 */
static uint64_t end_state(const uint8_t *p, size_t len) {
  uint64_t s = S_ACCEPT, restarted = 0;
  for (size_t k = len - 3; k < len; k++) {
    uint64_t keep = 0 - (uint64_t)IS_CONT(p[k]); /* all ones: continue */
    s = step((s & keep) | (S_ACCEPT & ~keep), p[k]) & 63;
    restarted |= ~keep;
  }
  return (s & restarted) | (S_ACCEPT & ~restarted);
}

/*
 * The restart point after the vector check failed in the block at |a|:
 * p[0..a) passed every check, so it is a valid prefix, and its last byte
 * that is not a continuation starts a code point (at most 3 continuations
 * follow a lead). 0 means "from the start of the chunk, in the state it
 * started in".
 */
static size_t resync(const uint8_t *p, size_t a) {
  size_t stop = a > 4 ? a - 4 : 0;
  for (size_t r = a; r > stop; r--)
    if (!IS_CONT(p[r - 1]))
      return r - 1;
  return 0; /* unreachable past the first bytes; a rescan is still exact */
}

/*
 * The body of vector_run, from p + i on (i is 0 or follows a run of ASCII
 * blocks). The vector code only detects; when it flags a block, the DFA
 * rescans from a code point boundary before it, which gives the exact
 * offset.
 */
AVX2 __attribute__((noinline)) static size_t
vector_check(const uint8_t *p, size_t len, size_t i, uint64_t *sp) {
  struct consts k;
  struct carry c;
  __m256i err;

  load_consts(&k);
  /* The previous chunk's open code point, as the 32 bytes "before" p.
   * After skipped ASCII (i > 0, state ACCEPT) that is zeros, which are as
   * good as the ASCII bytes really there. */
  c.prev = _mm256_insert_epi8(_mm256_setzero_si256(), (char)stand_in[*sp],
                              31);
  c.incomplete = incomplete(c.prev, &k);

  /* One test per block keeps the restart point at most 68 bytes before the
   * error, which bounds the rescan. */
  for (; i + 64 <= len; i += 64) {
    err = check64(p + i, &c, &k);
    if (!_mm256_testz_si256(err, err))
      goto rescan;
  }
  if (i < len) {
    if (len >= 96) {
      /* Re-check the last 64 bytes with the 32 before them as context:
       * overlapping loads instead of a byte loop. */
      i = len - 64;
      c.prev = _mm256_loadu_si256((const __m256i *)(p + i - 32));
      c.incomplete = incomplete(c.prev, &k);
      err = check64(p + i, &c, &k);
    } else {
      /* Short chunk: check a zero-padded copy and drop what the check
       * says about the padding (an open code point at the end is not an
       * error yet). The copy is made with overlapping 32-byte stores:
       * the last 32 bytes of the chunk placed to end at pad + rest, and
       * the first 32 when rest > 32; len >= 32 keeps both loads inside
       * the chunk. */
      uint8_t buf[128];
      uint8_t *pad = buf + 32;
      size_t rest = len - i;
      _mm256_storeu_si256((__m256i *)pad, _mm256_setzero_si256());
      _mm256_storeu_si256((__m256i *)(pad + 32), _mm256_setzero_si256());
      _mm256_storeu_si256((__m256i *)(pad + rest - 32),
                          _mm256_loadu_si256((const __m256i *)(p + len - 32)));
      if (rest > 32)
        _mm256_storeu_si256((__m256i *)pad,
                            _mm256_loadu_si256((const __m256i *)(p + i)));
      __m256i a = _mm256_loadu_si256((const __m256i *)pad);
      __m256i b = _mm256_loadu_si256((const __m256i *)(pad + 32));
      __m256i ka =
          _mm256_loadu_si256((const __m256i *)(ff_then_zero + 64 - rest));
      __m256i kb =
          _mm256_loadu_si256((const __m256i *)(ff_then_zero + 96 - rest));
      err = _mm256_or_si256(_mm256_and_si256(check32(a, c.prev, &k), ka),
                            _mm256_and_si256(check32(b, a, &k), kb));
    }
    if (!_mm256_testz_si256(err, err))
      goto rescan;
  }
  uint64_t s = end_state(p, len);
  if (s != S_REJECT) {
    *sp = s;
    return len;
  }
  i = len - 3; /* a bad last byte: let the DFA find it */

rescan:;
  size_t r = resync(p, i);
  if (r > 0)
    *sp = S_ACCEPT;
  return r + scalar_run(p + r, len - r, sp);
}

/*
 * scalar_run's contract, vectorised: checks p[0..len), len >= VECTOR_MIN,
 * from DFA state *sp. Leading ASCII needs neither context nor constants,
 * so it is skipped here, in a function light enough that an all-ASCII
 * chunk costs little more than the loads.
 */
AVX2 static size_t vector_run(const uint8_t *p, size_t len, uint64_t *sp) {
  /* Folded into the ASCII tests rather than tested on its own: whether a
   * chunk starts inside a code point is a coin toss on most scripts. */
  int open = *sp != S_ACCEPT;
  size_t i = 0;
  while (i + 64 <= len && (ascii_bits64(p + i) | open) == 0)
    i += 64;
  if (i + 64 > len) {
    /* Under 64 bytes left: one or two overlapping 32-byte loads. */
    __m256i t = _mm256_loadu_si256((const __m256i *)(p + len - 32));
    if (len - i > 32)
      t = _mm256_or_si256(t, _mm256_loadu_si256((const __m256i *)(p + i)));
    if ((_mm256_movemask_epi8(t) | open) == 0)
      return len;
  }
  return vector_check(p, len, i, sp);
}

static int cpu_has_avx2(void) {
  return __builtin_cpu_supports("avx2") ? 1 : 0;
}
#else
static int cpu_has_avx2(void) { return 0; }
#endif /* WS_UTF8_X86 */

/* Below this many bytes the vector set-up costs more than the DFA. The
 * vector code also relies on it: its tail loads are 32 bytes wide. */
#define VECTOR_MIN 32

/* ------------------------------------------------------------------------
 * The public API.
 */

int ws_utf8_have_avx2(void) { return cpu_has_avx2(); }

void ws_utf8_init(struct ws_utf8 *v, enum ws_utf8_impl impl) {
  v->pos = 0;
  v->state = S_ACCEPT;
  if (impl != WS_UTF8_PORTABLE && cpu_has_avx2())
    v->impl = WS_UTF8_AVX2;
  else
    v->impl = WS_UTF8_PORTABLE;
}

/* RFC 6455 Section 8.1: the first invalid byte fails the connection, so
 * remember where and refuse everything after. */
static int fail(struct ws_utf8 *v, uint64_t offset, uint64_t *err_offset) {
  v->state = S_REJECT;
  v->pos = offset;
  if (err_offset)
    *err_offset = offset;
  return WS_UTF8_INVALID;
}

int ws_utf8_feed(struct ws_utf8 *v, const uint8_t *p, size_t len,
                 uint64_t *err_offset) {
  uint64_t s = v->state;
  size_t i;

  if (s == S_REJECT)
    return fail(v, v->pos, err_offset);
  if (len == 0) /* p may be NULL */
    return WS_UTF8_VALID;
#ifdef WS_UTF8_X86
  if (v->impl == WS_UTF8_AVX2 && len >= VECTOR_MIN)
    i = vector_run(p, len, &s);
  else
#endif
    i = scalar_run(p, len, &s);
  if (s == S_REJECT)
    return fail(v, v->pos + i, err_offset);
  v->state = (uint32_t)s;
  v->pos += len;
  return WS_UTF8_VALID;
}

int ws_utf8_finish(struct ws_utf8 *v, uint64_t *err_offset) {
  /* RFC 3629 Section 4: a string ending inside a code point is invalid;
   * the offset is where the missing byte would have been. */
  if (v->state != S_ACCEPT)
    return fail(v, v->pos, err_offset);
  return WS_UTF8_VALID;
}

int ws_utf8_validate(const uint8_t *p, size_t len, uint64_t *err_offset) {
  struct ws_utf8 v;
  ws_utf8_init(&v, WS_UTF8_AUTO);
  if (ws_utf8_feed(&v, p, len, err_offset) != WS_UTF8_VALID)
    return WS_UTF8_INVALID;
  return ws_utf8_finish(&v, err_offset);
}
