#!/bin/bash -eu
# ClusterFuzzLite build: the same script as OSS-Fuzz's (one contract, one
# source of truth): ci/oss-fuzz/build.sh in the copied source tree.
exec "$SRC/wsspec/ci/oss-fuzz/build.sh"
