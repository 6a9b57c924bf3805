/*
 * aclnote.h — notices that a user's access changed (issue 6: live
 * revocation and granting; docs/presence.md).
 *
 * cohort-api appends one entry to the system-wide control stream
 * (kv_acl_stream) after it committed a change that can shrink or grow what
 * a user may follow — a grant set or revoked, a participant removed. Every
 * cohort-stream reads that stream and re-checks the scopes of that user's
 * connections. The entry is stored in field "e" like an event:
 *   {"user":5,"scope":"project:7","reason":"grant_revoked"}
 * The scope and reason are informational (logs, the `revoked` event's
 * reason); the streamer re-checks everything the user follows.
 */
#ifndef COHORT_ACLNOTE_H
#define COHORT_ACLNOTE_H

#include <stddef.h>
#include <stdint.h>

struct rconn;

/* The control stream is trimmed to about this many entries. */
#define ACLNOTE_MAXLEN 10000
#define ACLNOTE_REASON_MAX 32

struct aclnote {
	int64_t user_id;
	char scope[100];
	char reason[ACLNOTE_REASON_MAX + 1];
};

/* Appends the notice (XADD on the caller's connection). */
int aclnote_publish(struct rconn *rc, int64_t user_id, const char *scope, const char *reason);

/* Parses a stored notice (the entry's "e"). COHORT_E_INVAL when malformed. */
int aclnote_parse(const char *json, size_t len, struct aclnote *out);

#endif
