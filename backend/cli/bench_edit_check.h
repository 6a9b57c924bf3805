/*
 * bench_edit_check.h — what a `cohort-bench edit` subscriber checks in each
 * `update` event it receives: the version continues the connection's last
 * one (a jump is loss, a repeat or an older one a duplicate), and the edit's
 * marker — the writer, the writer's edit number and the first-push time —
 * comes once per edit and in each writer's order.
 *
 * Pure functions over one connection's state, no I/O and no locking (a
 * connection lives on one thread), so they are unit-tested on their own.
 */
#ifndef COHORT_BENCH_EDIT_CHECK_H
#define COHORT_BENCH_EDIT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDIT_MARK_LEN 32 /* every insert is exactly this many ASCII characters */

/* One update event, from its envelope and its inserted marker. */
struct edit_event {
	int64_t version;
	uint64_t writer;
	uint64_t seq;   /* the writer's edit number, from 1 */
	int64_t t0_us;  /* wall time of the edit's first push */
};

/* One connection's view of its file. wseq has one slot per writer of the
 * file (writers first .. first + n - 1), zero before that writer's first
 * edit. */
struct edit_seen {
	int64_t last_version;
	uint32_t *wseq;
	uint64_t updates; /* distinct versions received */
	uint64_t edits;   /* distinct edits received */
};

struct edit_counts {
	uint64_t lost;            /* versions skipped */
	uint64_t duplicates;      /* a version again, or an older one */
	uint64_t edit_duplicates; /* an edit already seen, under a new version */
	uint64_t edits_skipped;   /* a writer's edit numbers skipped */
	uint64_t foreign;         /* not an update of ours */
};

enum edit_verdict {
	EDIT_FOREIGN,   /* not an update event with a marker: ignored */
	EDIT_DUPLICATE, /* a version already seen: ignored */
	EDIT_NEW,       /* a new version (continuity counted): latency applies */
	EDIT_NEW_NO_LATENCY, /* a new version whose edit was seen before or is not ours */
};

/* Writes the marker for (writer, seq, t0_us) into buf (at least 64 bytes);
 * its length is EDIT_MARK_LEN. */
void edit_mark_format(char *buf, size_t cap, uint64_t writer, uint64_t seq, int64_t t0_us);

/* Parses an event's data (the envelope JSON): false when it is not an
 * `update` event with our marker. */
bool edit_event_parse(const char *data, size_t len, struct edit_event *out);

/* Parses a marker alone (as edit_mark_format wrote it) into writer, seq and
 * t0_us. */
bool edit_event_parse_mark(const char *mark, struct edit_event *out);

/* Checks ev against the connection's state and updates both. */
enum edit_verdict edit_check(struct edit_seen *s, uint64_t first_writer, uint64_t nwriters,
			     const struct edit_event *ev, struct edit_counts *c);

/*
 * Calls fn for every marker in a document's text. Inserts land at random
 * positions, so a later marker may sit inside an earlier one
 * ("<0001<00002.0000001.1796665091000000>2.0000007.1796665091000000>"); a
 * marker is recognised once the ones inside it are taken out, in one pass.
 * The event's version is 0. Returns COHORT_E_NOMEM or 0.
 */
int edit_marks_scan(const char *text, size_t len,
		    void (*fn)(void *arg, const struct edit_event *ev), void *arg);

/* "key" (quotes and colon included) and the unsigned integer after it. */
bool edit_int_after(const char *d, size_t n, const char *key, int64_t *out);

#endif
