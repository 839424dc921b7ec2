/*
 * net_test_util.h: helpers shared by the socket and event-loop tests
 * (test_net_*.c). They use plain POSIX calls only, so they need nothing
 * from src/net.
 *
 * - count_fds(): the open file descriptors, so a test can check that it
 *   closed every fd it opened.
 * - A fake clock for ws_loop_options (the loop's clock hook).
 * - Waiting for a socket with poll(), and checking the flags the socket
 *   layer promises on the fds it creates.
 *
 * Every helper fails the current cmocka test on an unexpected result.
 */
#ifndef WS_TEST_NET_TEST_UTIL_H
#define WS_TEST_NET_TEST_UTIL_H

#include <stdint.h>

/* The number of open file descriptors (entries of /proc/self/fd, not
 * counting the one used to read it). */
int count_fds(void);

/* A clock the test moves by hand: pass fake_now and a struct fake_clock *
 * as ws_loop_options {clock, clock_user}. */
struct fake_clock {
  uint64_t now; /* milliseconds */
};

/* Returns ((struct fake_clock *)user)->now. */
uint64_t fake_now(void *user);

/* Waits up to 5 s for |fd| to become readable / writable; fails the test
 * unless poll() reports it ready. */
void wait_readable(int fd);
void wait_writable(int fd);

/* getsockopt(fd, level, name) of an int option; fails the test when the
 * call fails. */
int sockopt(int fd, int level, int name);

/* Non-blocking, close-on-exec and (for TCP, |tcp| != 0) no Nagle, as the
 * socket layer promises. */
void check_fd_flags(int fd, int tcp);

#endif /* WS_TEST_NET_TEST_UTIL_H */
