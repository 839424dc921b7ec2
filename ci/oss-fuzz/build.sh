#!/bin/bash -eu
# build.sh for OSS-Fuzz and ClusterFuzzLite (the same contract): compiles
# with $CC and $CFLAGS, links every fuzz target with $LIB_FUZZING_ENGINE
# (libFuzzer, AFL++'s driver, honggfuzz or Centipede: never a hard-coded
# -fsanitize=fuzzer), and puts into $OUT each target, its
# <target>_seed_corpus.zip (corpus/<target>/ plus the regression inputs
# fuzz/regressions/<target>/, flat), <target>.dict and <target>.options.
# $WORK holds the objects. The source is $SRC/wsspec, or the checkout
# this script lives in when that does not exist (local runs).
#
# OpenSSL (SHA-1, base64, RAND_bytes) is linked statically when
# libcrypto.a exists: the OSS-Fuzz runner image has no libcrypto.so.

src=$SRC/wsspec
[[ -d $src/fuzz ]] || src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"

std=(-std=c11 -D_POSIX_C_SOURCE=200809L -Isrc -Ifuzz)
mkdir -p "$WORK/wsspec-obj"
objs=()
for f in src/core/*.c src/ws/*.c src/http/*.c; do
  o=$WORK/wsspec-obj/$(echo "$f" | tr / _).o
  $CC $CFLAGS "${std[@]}" -c "$f" -o "$o"
  objs+=("$o")
done

crypto=-lcrypto
for d in /usr/lib/x86_64-linux-gnu /usr/lib/i386-linux-gnu /usr/lib64 \
         /usr/lib /usr/local/lib; do
  if [[ -f $d/libcrypto.a ]]; then
    crypto="$d/libcrypto.a -ldl -lpthread"
    break
  fi
done

for f in fuzz/fuzz_*.c; do
  t=$(basename "$f" .c)
  $CC $CFLAGS "${std[@]}" -c "$f" -o "$WORK/wsspec-obj/$t.o"
  # Link with the C++ driver: every fuzzing engine is C++.
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS "$WORK/wsspec-obj/$t.o" "${objs[@]}" \
    $LIB_FUZZING_ENGINE $crypto -o "$OUT/$t"
  cp "fuzz/$t.dict" "fuzz/$t.options" "$OUT/"
  rm -f "$OUT/${t}_seed_corpus.zip"
  seeds=()
  for d in "corpus/$t" "fuzz/regressions/$t"; do
    [[ -d $d ]] && seeds+=("$d"/*)
  done
  if [[ ${#seeds[@]} -gt 0 ]]; then
    zip -q -j "$OUT/${t}_seed_corpus.zip" "${seeds[@]}"
  fi
done
