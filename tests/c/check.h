/* Assertion helpers shared by the C tests: a failed check prints where and
 * why, counts, and lets the test go on, so one run reports every failure.
 * Each test's main() returns non-zero when `failures` is non-zero. */
#ifndef WSPROTO_TEST_CHECK_H
#define WSPROTO_TEST_CHECK_H

#include <stdio.h>

#include "wsproto.h"

static int failures;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);  \
      failures++;                                                                \
    }                                                                            \
  } while (0)

/* Checks a result code; on mismatch prints both codes and the connection's last error. */
#define CHECK_RC(conn, expr, want)                                               \
  do {                                                                           \
    ws_result_t rc_ = (expr);                                                    \
    if (rc_ != (want)) {                                                         \
      fprintf(stderr, "%s:%d: %s = %d (%s), want %d (%s); last error: %s\n",     \
              __FILE__, __LINE__, #expr, (int)rc_, ws_result_str(rc_),           \
              (int)(want), ws_result_str(want), ws_conn_last_error(conn));       \
      failures++;                                                                \
    }                                                                            \
  } while (0)

#endif
