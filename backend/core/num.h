/*
 * num.h — checked number parsing (the only way cohort turns text into numbers;
 * atoi and friends are banned).
 */
#ifndef COHORT_NUM_H
#define COHORT_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Whole-string decimal; 0 or COHORT_E_RANGE / COHORT_E_INVAL. */
int parse_long(const char *s, long *out);
/* Decimal with optional K/M/G (binary) suffix. */
int parse_size(const char *s, long *out);
/* Parses a decimal prefix of s[0..len) exactly (no sign, no spaces). */
int parse_u64n(const char *s, size_t len, uint64_t *out);

#endif
