/* net_test_util.c: see net_test_util.h. Tests may use syscalls freely. */
#define _DEFAULT_SOURCE
#include "net_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "test_support.h"

int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1; /* the DIR's own fd */
}

uint64_t fake_now(void *user) { return ((struct fake_clock *)user)->now; }

static void wait_fd(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  assert_int_equal(poll(&p, 1, 5000), 1);
}

void wait_readable(int fd) { wait_fd(fd, POLLIN); }

void wait_writable(int fd) { wait_fd(fd, POLLOUT); }

int sockopt(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof(v);
  assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
  return v;
}

void check_fd_flags(int fd, int tcp) {
  assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  if (tcp)
    assert_int_equal(sockopt(fd, IPPROTO_TCP, TCP_NODELAY), 1);
}
