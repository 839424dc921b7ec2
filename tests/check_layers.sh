#!/bin/sh
# The protocol core is sans-I/O: no socket, poll or file-descriptor header
# may be included below src/core, src/ws or src/http. Exits 1 and names the
# offending lines otherwise.
root=${1:-.}
bad=$(grep -nE '#[[:space:]]*include[[:space:]]*<(sys/socket|netinet/|arpa/|netdb|sys/epoll|poll|unistd|fcntl|sys/select)' \
      "$root"/src/core/*.[ch] "$root"/src/ws/*.[ch] "$root"/src/http/*.[ch] 2>/dev/null)
if [ -n "$bad" ]; then
  echo "I/O headers in the sans-I/O core:"
  echo "$bad"
  exit 1
fi
echo "sans-I/O layers clean"
