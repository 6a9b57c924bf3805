/*
 * Unit tests for cohort-stream's shared event buffers (evbuf) and the
 * per-connection output queue (outq): reference counting, byte accounting,
 * ring wrap-around and growth, splicing, trimming, and the coalescing of
 * cursor events (the key extracted once per event, the older cursor of the
 * same user and file dropped from a queue, order kept).
 */
#include "stream/evbuf.h"
#include "stream/outq.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct evbuf *mk(uint64_t ms, const char *json)
{
	struct stream_id id = { ms, 0 };
	struct evbuf *ev = NULL;

	assert_int_equal(evbuf_new(&ev, &id, json, strlen(json)), 0);
	return ev;
}

static void test_evbuf_finalize(void **state)
{
	static const char stored[] = "{\"type\":\"t\",\"data\":{\"a\":\n[1,\r\n2]}}";
	struct stream_id id = { 1712345678901ULL, 7 };
	struct evbuf *ev = NULL;

	(void)state;
	assert_int_equal(evbuf_finalize(&ev, &id, stored, strlen(stored)), 0);
	/* The id goes first; raw line breaks (JSON whitespace) become spaces. */
	assert_string_equal(ev->json, "{\"id\":\"1712345678901-7\",\"type\":\"t\",\"data\":{\"a\": [1,  2]}}");
	assert_int_equal(ev->len, strlen(ev->json));
	assert_int_equal(ev->id.ms, 1712345678901ULL);
	assert_int_equal(ev->id.seq, 7);
	assert_int_equal(ev->refs, 1);
	evbuf_unref(ev);

	/* An empty object gets just the id. */
	assert_int_equal(evbuf_finalize(&ev, &id, "{}", 2), 0);
	assert_string_equal(ev->json, "{\"id\":\"1712345678901-7\"}");
	evbuf_unref(ev);
	evbuf_cleanup();
}

static void test_evbuf_finalize_refuses(void **state)
{
	struct stream_id id = { 1, 0 };
	struct evbuf *ev = (struct evbuf *)(uintptr_t)1;
	char *big;

	(void)state;
	assert_int_equal(evbuf_finalize(&ev, &id, "[1]", 3), COHORT_E_INVAL);
	assert_null(ev);
	assert_int_equal(evbuf_finalize(&ev, &id, "{", 1), COHORT_E_INVAL);
	assert_int_equal(evbuf_finalize(&ev, &id, "", 0), COHORT_E_INVAL);
	big = malloc(EVBUF_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', EVBUF_MAX + 2);
	big[0] = '{';
	big[EVBUF_MAX + 1] = '}';
	assert_int_equal(evbuf_finalize(&ev, &id, big, EVBUF_MAX + 2), COHORT_E_LIMIT);
	assert_null(ev);
	free(big);
	evbuf_cleanup();
}

static void test_evbuf_refs(void **state)
{
	struct evbuf *ev = mk(1, "{\"id\":\"1-0\"}");

	(void)state;
	assert_ptr_equal(evbuf_ref(ev), ev);
	assert_int_equal(ev->refs, 2);
	evbuf_unref(ev);
	assert_int_equal(ev->refs, 1);
	evbuf_unref(ev);
	evbuf_unref(NULL);
}

static void test_outq_fifo_and_bytes(void **state)
{
	struct outq q = OUTQ_INIT;
	struct evbuf *a = mk(1, "{\"a\":1}"), *b = mk(2, "{\"bb\":22}");

	(void)state;
	assert_null(outq_peek(&q));
	assert_int_equal(outq_push(&q, a, 0), 0);
	assert_int_equal(outq_push(&q, b, 1), 0);
	assert_int_equal(outq_push(&q, a, 2), 0);
	assert_int_equal(q.count, 3);
	assert_int_equal(a->refs, 3); /* the queue holds its own references */
	assert_int_equal(q.bytes, 2 * outq_cost(a) + outq_cost(b));
	assert_int_equal(outq_cost(a), a->len + sizeof(struct outq_ent));

	assert_ptr_equal(outq_peek(&q)->ev, a);
	assert_int_equal(outq_peek(&q)->tag, 0);
	outq_pop(&q);
	assert_ptr_equal(outq_peek(&q)->ev, b);
	assert_int_equal(outq_peek(&q)->tag, 1);
	outq_pop(&q);
	assert_int_equal(q.bytes, outq_cost(a));
	outq_pop(&q);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(a->refs, 1);
	outq_pop(&q); /* popping an empty queue is harmless */
	assert_non_null(q.ents);
	outq_shrink(&q);
	assert_null(q.ents);
	assert_int_equal(q.cap, 0);
	evbuf_unref(a);
	evbuf_unref(b);
}

/* Push and pop in a pattern that wraps the ring and grows it while wrapped. */
static void test_outq_wrap_and_grow(void **state)
{
	struct outq q = OUTQ_INIT;
	struct evbuf *ev[64];
	uint32_t next_in = 0, next_out = 0;

	(void)state;
	for (int i = 0; i < 64; i++) {
		char json[32];

		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		ev[i] = mk((uint64_t)i, json);
	}
	for (int round = 0; round < 200; round++) {
		int pushes = (round % 7) + 1, pops = (round % 5) + 1;

		for (int k = 0; k < pushes && next_in - next_out < 60; k++, next_in++)
			assert_int_equal(outq_push(&q, ev[next_in % 64], next_in), 0);
		for (int k = 0; k < pops && next_out < next_in; k++, next_out++) {
			const struct outq_ent *e = outq_peek(&q);

			assert_non_null(e);
			assert_int_equal(e->tag, next_out);
			assert_ptr_equal(e->ev, ev[next_out % 64]);
			outq_pop(&q);
		}
		assert_int_equal(q.count, next_in - next_out);
		assert_true(q.cap == 0 || (q.cap & (q.cap - 1)) == 0);
	}
	outq_release(&q);
	assert_null(q.ents);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(ev[i]->refs, 1);
		evbuf_unref(ev[i]);
	}
}

static void test_outq_splice_and_clear(void **state)
{
	struct outq a = OUTQ_INIT, b = OUTQ_INIT;
	struct evbuf *e1 = mk(1, "{}"), *e2 = mk(2, "{}"), *e3 = mk(3, "{}");

	(void)state;
	outq_init(&a);
	assert_int_equal(outq_push(&a, e1, 0), 0);
	assert_int_equal(outq_push(&b, e2, 5), 0);
	assert_int_equal(outq_push(&b, e3, 6), 0);
	assert_int_equal(outq_splice(&a, &b), 0);
	assert_int_equal(b.count, 0);
	assert_int_equal(b.bytes, 0);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.bytes, 3 * outq_cost(e1));
	assert_ptr_equal(outq_peek(&a)->ev, e1);
	outq_pop(&a);
	assert_ptr_equal(outq_peek(&a)->ev, e2);
	assert_int_equal(outq_peek(&a)->tag, 5);
	outq_clear(&a);
	assert_int_equal(a.count, 0);
	assert_int_equal(a.bytes, 0);
	assert_non_null(a.ents); /* storage kept for reuse */
	outq_release(&a);
	outq_release(&b);
	outq_release(NULL);
	assert_int_equal(e1->refs + e2->refs + e3->refs, 3);
	evbuf_unref(e1);
	evbuf_unref(e2);
	evbuf_unref(e3);
}

/* A finalized cursor event of user in file (stored the way producers store it). */
static struct evbuf *cursor_ev(uint64_t ms, const char *user, const char *file)
{
	char stored[512];
	struct stream_id id = { ms, 0 };
	struct evbuf *ev = NULL;

	snprintf(stored, sizeof(stored),
		 "{\"type\":\"cursor\",\"stream\":\"project:7\",\"project\":\"7\",\"file\":\"%s\",\"version\":3,"
		 "\"actor\":{\"user\":\"%s\",\"client\":\"c\"},\"ts\":{\"recv\":1,\"pub\":2},\"data\":{\"main\":0}}",
		 file, user);
	assert_int_equal(evbuf_finalize(&ev, &id, stored, strlen(stored)), 0);
	return ev;
}

static void test_evbuf_cursor_key(void **state)
{
	static const struct {
		const char *stored;
		const char *key; /* NULL: none */
		size_t klen;
	} rows[] = {
		{ "{\"type\":\"cursor\",\"file\":\"a.py\",\"actor\":{\"user\":\"u1\",\"client\":\"c\"},\"data\":{}}",
		  "u1\0a.py", 7 },
		{ "{\"type\":\"update\",\"file\":\"a.py\",\"actor\":{\"user\":\"u1\",\"client\":\"c\"},\"data\":{}}", NULL, 0 },
		{ "{\"type\":\"cursor\",\"actor\":{\"user\":\"u1\"},\"data\":{}}", NULL, 0 },
		{ "{\"type\":\"cursor\",\"file\":\"a.py\",\"actor\":null,\"data\":{}}", NULL, 0 },
		{ "{\"type\":\"cursor\",\"file\":\"a.py\",\"actor\":{\"user\":null},\"data\":{}}", NULL, 0 },
		{ "{\"type\":\"cursor\",\"file\":\"a.py\",\"actor\":{\"user\":\"u1\"},\"data\":[}", NULL, 0 },
		{ "{\"type\":\"cursors\",\"file\":\"a.py\",\"actor\":{\"user\":\"u1\"}}", NULL, 0 },
	};
	struct stream_id id = { 1, 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct evbuf *ev = NULL;
		int err = evbuf_finalize(&ev, &id, rows[i].stored, strlen(rows[i].stored));

		/* The malformed one is still delivered (its JSON is the producer's business). */
		assert_int_equal(err, 0);
		if (ev->ckey_len != rows[i].klen)
			fail_msg("row %zu: key length %u, want %zu", i, ev->ckey_len, rows[i].klen);
		if (rows[i].key)
			assert_memory_equal(evbuf_ckey(ev), rows[i].key, rows[i].klen);
		/* The key lives after the JSON and its NUL; the JSON is untouched. */
		assert_int_equal(strlen(ev->json), ev->len);
		evbuf_unref(ev);
	}
	evbuf_cleanup();
}

static void test_outq_coalesce_cursors(void **state)
{
	struct outq q = OUTQ_INIT;
	struct evbuf *a1 = cursor_ev(1, "u1", "a.py"), *b1 = cursor_ev(2, "u2", "a.py");
	struct evbuf *up = mk(3, "{\"type\":\"update\"}"), *a2 = cursor_ev(4, "u1", "a.py");
	struct evbuf *other = cursor_ev(5, "u1", "b.py"), *a3 = cursor_ev(6, "u1", "a.py");
	size_t bytes;

	(void)state;
	/* Nothing to drop in an empty queue, nor for an event without a key. */
	assert_int_equal(outq_drop_older(&q, a1, 0), 0);
	assert_int_equal(outq_push(&q, a1, 0), 0);
	assert_int_equal(outq_drop_older(&q, up, 0), 0);
	assert_int_equal(outq_push(&q, b1, 0), 0);
	assert_int_equal(outq_push(&q, up, 0), 0);
	/* u1's newer cursor in a.py drops the older one, from the middle of the ring... */
	assert_int_equal(outq_drop_older(&q, a2, 0), 1);
	assert_int_equal(outq_push(&q, a2, 0), 0);
	assert_int_equal(q.count, 3);
	assert_int_equal(a1->refs, 1);
	/* ...keeping the others in order, the newest last. */
	assert_ptr_equal(q.ents[(q.head + 0) & (q.cap - 1)].ev, b1);
	assert_ptr_equal(q.ents[(q.head + 1) & (q.cap - 1)].ev, up);
	assert_ptr_equal(q.ents[(q.head + 2) & (q.cap - 1)].ev, a2);
	assert_int_equal(q.bytes, outq_cost(b1) + outq_cost(up) + outq_cost(a2));
	/* Another file, or another subscription (tag), is another key. */
	assert_int_equal(outq_drop_older(&q, other, 0), 0);
	assert_int_equal(outq_drop_older(&q, a3, 1), 0);
	/* From the head of the queue too. */
	outq_pop(&q);
	outq_pop(&q);
	assert_int_equal(outq_drop_older(&q, a3, 0), 1);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(a2->refs, 1);
	/* Around the ring's wrap point: the head moves to the last slot first. */
	assert_int_equal(outq_push(&q, up, 0), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(outq_push(&q, up, 0), 0);
		outq_pop(&q);
	}
	assert_int_equal(q.cap, 4);
	assert_int_equal(q.head, 3);
	assert_int_equal(outq_push(&q, a1, 0), 0);
	assert_int_equal(outq_push(&q, up, 0), 0);
	assert_int_equal(outq_push(&q, other, 0), 0);
	assert_int_equal(q.cap, 4);
	bytes = q.bytes;
	assert_int_equal(outq_drop_older(&q, a3, 0), 1);
	assert_int_equal(q.bytes, bytes - outq_cost(a1));
	assert_int_equal(q.count, 3);
	assert_int_equal(a1->refs, 1);
	assert_ptr_equal(outq_peek(&q)->ev, up);
	outq_pop(&q);
	assert_ptr_equal(outq_peek(&q)->ev, up);
	outq_pop(&q);
	assert_ptr_equal(outq_peek(&q)->ev, other);
	outq_release(&q);
	assert_int_equal(up->refs, 1);
	evbuf_unref(a1);
	evbuf_unref(b1);
	evbuf_unref(up);
	evbuf_unref(a2);
	evbuf_unref(other);
	evbuf_unref(a3);
	evbuf_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evbuf_finalize),
		cmocka_unit_test(test_evbuf_finalize_refuses),
		cmocka_unit_test(test_evbuf_refs),
		cmocka_unit_test(test_outq_fifo_and_bytes),
		cmocka_unit_test(test_outq_wrap_and_grow),
		cmocka_unit_test(test_outq_splice_and_clear),
		cmocka_unit_test(test_evbuf_cursor_key),
		cmocka_unit_test(test_outq_coalesce_cursors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
