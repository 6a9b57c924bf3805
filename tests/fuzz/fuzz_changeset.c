/*
 * Fuzz target: cs_parse (change sets pushed by editors) and the operations
 * the editing authority runs on accepted ones.
 *
 * Input: a change set's JSON text, optionally followed by a NUL byte and a
 * document. When the set parses it is applied to that document (if it is
 * valid UTF-8) and to a synthetic ASCII document of the right length, mapped
 * over itself both ways and composed with the mapped sets. Checked beyond
 * crashes, leaks and UB:
 *  - to_json is a fixed point: parse(to_json(x)) serializes identically;
 *  - a successful apply produces cs_new_len units, a refused one leaves the
 *    output untouched;
 *  - on an all-ASCII document cs_apply_ascii, cs_ascii_result_len and
 *    cs_apply_ascii_inplace agree with cs_apply, and their refusals change
 *    nothing;
 *  - map results apply to the document the other set produced, and the two
 *    orders converge (a.compose(a.map(a)) and a.compose(a.map(a, true))
 *    give the same text), as CodeMirror's ChangeSet.map promises.
 */
#include "core/changeset.h"
#include "core/err.h"
#include "core/strbuf.h"
#include "core/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger synthetic documents only slow the fuzzer down. */
#define DOC_MAX 4096

static void check_roundtrip(const struct changeset *cs)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct changeset *again = NULL;

	if (cs_to_json(cs, &a))
		abort();
	if (cs_parse(a.buf, a.len, &again, NULL, 0))
		abort();
	if (cs_to_json(again, &b) || a.len != b.len || memcmp(a.buf, b.buf, a.len))
		abort();
	if (cs_len(again) != cs_len(cs) || cs_new_len(again) != cs_new_len(cs))
		abort();
	cs_free(again);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* Applies cs to doc; on success checks the result's length. */
static int apply_checked(const struct changeset *cs, const char *doc, size_t len, struct strbuf *out)
{
	int rc;

	strbuf_reset(out);
	rc = cs_apply(cs, doc, len, out, NULL, 0);
	if (rc) {
		if (rc != COHORT_E_RANGE || out->len != 0)
			abort();
		return rc;
	}
	if (cs_utf16_len(out->buf ? out->buf : "", out->len) != cs_new_len(cs))
		abort();
	return 0;
}

/* For an all-ASCII document: the offset fast paths give what cs_apply gives
 * (r: its result, or NULL when it refused), in a new buffer and in place. */
static void check_ascii(const struct changeset *cs, const char *doc, size_t len, const struct strbuf *r)
{
	struct strbuf fast = STRBUF_INIT, inplace = STRBUF_INIT;
	size_t rlen = 0;
	int a, b, c;

	if ((uint64_t)cs_utf16_len(doc, len) != len)
		return;
	a = cs_apply_ascii(cs, doc, len, &fast, NULL, 0);
	b = cs_ascii_result_len(cs, len, &rlen);
	if (strbuf_add(&inplace, doc, len))
		abort();
	c = cs_apply_ascii_inplace(cs, &inplace);
	if ((a != 0) != (r == NULL) || (b != 0) != (r == NULL) || (c != 0) != (r == NULL))
		abort();
	if (r) {
		if (fast.len != r->len || memcmp(fast.buf ? fast.buf : "", r->buf ? r->buf : "", r->len) ||
		    rlen != r->len || inplace.len != r->len ||
		    memcmp(inplace.buf ? inplace.buf : "", r->buf ? r->buf : "", r->len))
			abort();
	} else if (fast.len != 0 || inplace.len != len || memcmp(inplace.buf ? inplace.buf : "", doc, len)) {
		abort(); /* a refusal changes nothing */
	}
	strbuf_release(&fast);
	strbuf_release(&inplace);
}

static void check_ops(const struct changeset *cs, const char *doc, size_t len)
{
	struct changeset *mf = NULL, *mt = NULL, *cf = NULL, *ct = NULL;
	struct strbuf r = STRBUF_INIT, tf = STRBUF_INIT, tt = STRBUF_INIT;

	if (apply_checked(cs, doc, len, &r)) {
		check_ascii(cs, doc, len, NULL);
		goto out;
	}
	check_ascii(cs, doc, len, &r);
	/* Map a set over itself: both "users" made the same change. */
	if (cs_map(cs, cs, false, &mf) || cs_map(cs, cs, true, &mt))
		goto out; /* CodeMirror throws on some non-canonical sets, too */
	if (cs_len(mf) != cs_new_len(cs) || cs_len(mt) != cs_new_len(cs))
		abort();
	check_roundtrip(mf);
	if (cs_compose(cs, mf, &cf) || cs_compose(cs, mt, &ct))
		goto out; /* a cut inside an inserted astral character */
	if (apply_checked(cf, doc, len, &tf) || apply_checked(ct, doc, len, &tt))
		goto out;
	if (tf.len != tt.len || memcmp(tf.buf ? tf.buf : "", tt.buf ? tt.buf : "", tf.len))
		abort();
out:
	cs_free(mf);
	cs_free(mt);
	cs_free(cf);
	cs_free(ct);
	strbuf_release(&r);
	strbuf_release(&tf);
	strbuf_release(&tt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nul = memchr(s, '\0', size);
	size_t jlen = nul ? (size_t)(nul - s) : size;
	struct changeset *cs = NULL;
	char err[96];
	char *doc = NULL;
	int rc;

	rc = cs_parse(s, jlen, &cs, err, sizeof(err));
	if (rc) {
		if (cs || (rc != COHORT_E_FIELD && rc != COHORT_E_LIMIT) || !err[0])
			abort();
		return 0;
	}
	check_roundtrip(cs);
	if (nul && utf8_valid(nul + 1, size - jlen - 1))
		check_ops(cs, nul + 1, size - jlen - 1);
	if (cs_len(cs) <= DOC_MAX) {
		size_t n = (size_t)cs_len(cs);

		doc = malloc(n + 1);
		if (!doc)
			abort();
		memset(doc, 'a', n);
		check_ops(cs, doc, n);
	}
	free(doc);
	cs_free(cs);
	return 0;
}
