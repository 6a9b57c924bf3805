/* version.h — cohort's version, shared by every binary and reported by health checks. */
#ifndef COHORT_VERSION_H
#define COHORT_VERSION_H

#define COHORT_VERSION "0.1.0"

#endif
