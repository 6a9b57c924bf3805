/*
 * problem.h — RFC 9457 problem+json bodies. Every error a client sees is
 * built here from an enum cohort_err, so type, title, status and code always
 * agree with err.h.
 */
#ifndef COHORT_PROBLEM_H
#define COHORT_PROBLEM_H

struct strbuf;

#define PROBLEM_CONTENT_TYPE "application/problem+json"

/* Appends the body; detail and request_id may be NULL. Returns the HTTP status. */
int problem_build(struct strbuf *out, int err, const char *detail, const char *request_id);

#endif
