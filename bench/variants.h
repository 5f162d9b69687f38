/* Labelled variant rows and per-message limit loops (variants.c). */
#ifndef WSPROTO_BENCH_VARIANTS_H
#define WSPROTO_BENCH_VARIANTS_H

/* Prints the variant table; returns 0, or -1 when a check failed. */
int variants_report(int quick, int runs);

#endif
