#!/usr/bin/env bash
# Installs wsproto into a temporary prefix and uses it as a stranger would:
#   - the shared library carries its SONAME (readelf -d) and exports exactly
#     the ws_* functions the header declares (nm -D), nothing else;
#   - the static library's only global symbols are ws_* ones;
#   - the installed header compiles alone as C99, C11 and C++11 with
#     -Wall -Wextra -pedantic -Werror;
#   - tests/consumer (a separate CMake project) builds with find_package and
#     links wsproto::wsproto (shared) and wsproto::wsproto_static;
#   - the same program builds with pkg-config, shared and static;
#   every consumer binary runs and must print "consumer: ok".
# Prints the installed sizes and the static link flags.
#
# Usage: scripts/install_test.sh [BUILD_DIR]   (default build/release; it is
# configured Release and only the library is built in it)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${1:-build/release}
jobs=$(nproc 2>/dev/null || echo 2)
command -v cmake >/dev/null 2>&1 || bash scripts/deps.sh build

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail=0
ok() { echo "install_test: ok   $*"; }
bad() { echo "install_test: FAIL $*" >&2; fail=1; }

echo "install_test: building the library ($build) and installing it into a temporary prefix"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target wsproto_cargo >/dev/null
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }

libdir=$prefix/lib
[[ -d $libdir ]] || libdir=$(dirname "$(find "$prefix" -name 'libwsproto.so' | head -n1)")
abi=$(sed -n 's/^#define WSPROTO_ABI_VERSION \([0-9]*\)$/\1/p' "$prefix/include/wsproto.h")
version=$(sed -n 's/^#define WSPROTO_VERSION_STRING "\(.*\)"$/\1/p' "$prefix/include/wsproto.h")

# --- layout and SONAME
for f in "include/wsproto.h" "lib/libwsproto.a" "lib/libwsproto.so" "lib/libwsproto.so.$abi" \
  "lib/libwsproto.so.$version" "lib/pkgconfig/wsproto.pc" "lib/cmake/wsproto/wsprotoConfig.cmake" \
  "lib/cmake/wsproto/wsprotoConfigVersion.cmake"; do
  [[ -e $prefix/$f ]] || bad "missing $f"
done
[[ $(readlink "$libdir/libwsproto.so") == "libwsproto.so.$abi" ]] || bad "libwsproto.so does not point to libwsproto.so.$abi"
[[ $(readlink "$libdir/libwsproto.so.$abi") == "libwsproto.so.$version" ]] || bad "libwsproto.so.$abi does not point to libwsproto.so.$version"
soname=$(readelf -d "$libdir/libwsproto.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [[ $soname == "libwsproto.so.$abi" ]]; then ok "SONAME $soname"; else bad "SONAME is '$soname', want libwsproto.so.$abi"; fi
if readelf -S "$libdir/libwsproto.so.$version" | grep -q '\.debug_info'; then bad "installed .so has debug info"; else ok "installed .so is stripped"; fi

# --- exported symbols: exactly the functions of the header
grep -v '^ *\*\|^ */\*\*' "$prefix/include/wsproto.h" | grep -o '\bws_[a-z0-9_]*(' | tr -d '(' | sort -u >"$tmp/header.txt"
nm -D --defined-only "$libdir/libwsproto.so.$version" | awk '{print $3}' | sed 's/@.*//' | sort -u >"$tmp/exported.txt"
# An empty list on both sides (a header the pattern no longer matches, nm
# failing) would compare equal: require the header's functions first.
if [[ ! -s $tmp/header.txt ]]; then
  bad "found no ws_ functions in the installed header"
elif diff "$tmp/header.txt" "$tmp/exported.txt" >"$tmp/sym.diff"; then
  ok "nm -D: exactly the $(wc -l <"$tmp/header.txt") ws_ functions of the header"
else
  bad "nm -D differs from the header's functions (< header only, > exported only):"
  cat "$tmp/sym.diff" >&2
fi
# nm's status is checked on its own: `nm | grep -vc` prints 0 when nm fails.
if ! nm -g --defined-only "$libdir/libwsproto.a" >"$tmp/static_syms.txt" 2>/dev/null; then
  bad "nm cannot read libwsproto.a"
elif ! grep -q ' T ws_' "$tmp/static_syms.txt"; then
  bad "libwsproto.a defines no ws_ functions"
else
  others=$(awk 'NF == 3 {print $3}' "$tmp/static_syms.txt" | grep -vc '^ws_' || true)
  if [[ $others -eq 0 ]]; then ok "libwsproto.a: only ws_* symbols are global"; else bad "libwsproto.a has $others global non-ws_ symbols"; fi
fi

# --- the header alone, in three languages
printf '#include <wsproto.h>\nint main(void) { return ws_abi_version() == WSPROTO_ABI_VERSION ? 0 : 1; }\n' >"$tmp/h.c"
cp "$tmp/h.c" "$tmp/h.cpp"
for std in c99 c11; do
  if gcc -std=$std -Wall -Wextra -pedantic -Werror -I"$prefix/include" -c "$tmp/h.c" -o "$tmp/h.o"; then
    ok "header compiles as $std -Wall -Wextra -pedantic -Werror"
  else bad "header does not compile as $std"; fi
done
if g++ -std=c++11 -Wall -Wextra -pedantic -Werror -I"$prefix/include" -c "$tmp/h.cpp" -o "$tmp/h.o"; then
  ok "header compiles as c++11 -Wall -Wextra -pedantic -Werror"
else bad "header does not compile as c++11"; fi

# --- consumer through find_package
run() { # run NAME BINARY
  local out
  if out=$("$2" 2>&1) && [[ $out == "consumer: ok"* ]]; then ok "$1 runs: $out"; else bad "$1: $out"; fi
}
if cmake -S tests/consumer -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/c.log" 2>&1 &&
  cmake --build "$tmp/consumer" -j "$jobs" >>"$tmp/c.log" 2>&1; then
  ok "find_package(wsproto) consumer builds (shared and static)"
  run "find_package shared" "$tmp/consumer/consumer_shared"
  run "find_package static" "$tmp/consumer/consumer_static"
  readelf -d "$tmp/consumer/consumer_shared" | grep -q "NEEDED.*\[libwsproto.so.$abi\]" ||
    bad "consumer_shared does not record NEEDED libwsproto.so.$abi"
  ! readelf -d "$tmp/consumer/consumer_static" | grep -q "NEEDED.*libwsproto" ||
    bad "consumer_static depends on the shared library"
else
  cat "$tmp/c.log" >&2
  bad "find_package consumer does not build"
fi

# --- consumer through pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --cflags wsproto)
libs=$(pkg-config --libs wsproto)
static_libs=$(pkg-config --variable=static_libs wsproto)
pc_libdir=$(pkg-config --variable=libdir wsproto)
[[ $(pkg-config --modversion wsproto) == "$version" ]] || bad "pkg-config --modversion is not $version"
# shellcheck disable=SC2086
if gcc -std=c99 -Wall -Wextra -pedantic -Werror tests/consumer/main.c $cflags $libs -Wl,-rpath,"$pc_libdir" \
  -o "$tmp/pc_shared"; then
  run "pkg-config shared" "$tmp/pc_shared"
else bad "pkg-config shared consumer does not build"; fi
# shellcheck disable=SC2086
if gcc -std=c99 -Wall -Wextra -pedantic -Werror tests/consumer/main.c $cflags "$pc_libdir/libwsproto.a" $static_libs \
  -o "$tmp/pc_static"; then
  run "pkg-config static" "$tmp/pc_static"
  ! readelf -d "$tmp/pc_static" | grep -q "NEEDED.*libwsproto" || bad "pc_static depends on the shared library"
else bad "pkg-config static consumer does not build"; fi

# --- as a subproject: add_subdirectory() leaves the parent alone
mkdir -p "$tmp/parent"
cat >"$tmp/parent/CMakeLists.txt" <<EOF_PARENT
cmake_minimum_required(VERSION 3.16)
project(parent LANGUAGES C)
add_subdirectory("$root" wsproto)
add_executable(parent_app "$root/tests/consumer/main.c")
target_link_libraries(parent_app PRIVATE wsproto::wsproto)
get_property(_targets DIRECTORY "$root" PROPERTY BUILDSYSTEM_TARGETS)
file(WRITE "\${CMAKE_BINARY_DIR}/wsproto_targets.txt" "\${_targets}")
file(WRITE "\${CMAKE_BINARY_DIR}/build_type.txt" "[\${CMAKE_BUILD_TYPE}]")
EOF_PARENT
# Reuses the library already built in $build (WSPROTO_CARGO_TARGET_DIR).
if cmake -S "$tmp/parent" -B "$tmp/parent/build" -DWSPROTO_CARGO_TARGET_DIR="$root/$build/cargo" >"$tmp/p.log" 2>&1 &&
  cmake --build "$tmp/parent/build" -j "$jobs" >>"$tmp/p.log" 2>&1; then
  run "add_subdirectory parent" "$tmp/parent/build/parent_app"
  [[ $(cat "$tmp/parent/build/build_type.txt") == "[]" ]] || bad "the subproject set the parent's CMAKE_BUILD_TYPE"
  targets=$(cat "$tmp/parent/build/wsproto_targets.txt")
  if [[ $targets == "wsproto_cargo" ]]; then ok "subproject defines only wsproto_cargo (no examples, no tests)"
  else bad "subproject defines targets: $targets"; fi
  [[ ! -e $tmp/parent/build/CTestTestfile.cmake ]] || bad "subproject enabled CTest in the parent"
else
  cat "$tmp/p.log" >&2
  bad "add_subdirectory parent does not build"
fi

# --- figures
so_size=$(stat -c %s "$libdir/libwsproto.so.$version")
a_size=$(stat -c %s "$libdir/libwsproto.a")
echo "install_test: installed libwsproto.so.$version: $so_size bytes ($((so_size / 1024)) KiB)"
echo "install_test: installed libwsproto.a: $a_size bytes ($((a_size / 1024)) KiB)"
echo "install_test: static link flags: $static_libs (pkg-config --variable=static_libs wsproto; Libs.private)"

if [[ $fail -eq 0 ]]; then
  echo "install_test: passed"
else
  echo "install_test: FAILED" >&2
fi
exit "$fail"
