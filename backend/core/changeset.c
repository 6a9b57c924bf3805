/*
 * changeset.c — CodeMirror 6 change sets (see changeset.h).
 *
 * DESIGN. A change set is a flat array of sections, exactly CodeMirror's
 * `sections` pairs: `len` units of the old document, and `ins` = -1 for an
 * unchanged stretch or the length of the replacement otherwise. The
 * replacement texts live in one UTF-8 buffer; a section points at its bytes
 * (toff, tlen). CodeMirror keeps `inserted` as an array indexed by section,
 * where a missing entry is the empty text; here an empty region plays that
 * role, which is equivalent because CodeMirror only ever attaches non-empty
 * texts when it builds a set (addInsert), and fromJSON's empty texts are
 * empty regions too.
 *
 * map and compose are line-by-line ports of @codemirror/state's mapSet and
 * composeSets (with SectionIter, addSection and addInsert), so the merging of
 * adjacent sections and the side an insertion lands on at a tie are the same,
 * and to_json gives CodeMirror's toJSON of the same value. The only place
 * where UTF-16 and UTF-8 disagree is compose slicing a text of A that B keeps
 * in part (SectionIter.textBit): the iterator keeps the byte offset that
 * matches its unit offset, and a cut inside a surrogate pair is refused
 * (COHORT_E_RANGE), as apply refuses one in the document.
 *
 * Builders record the first allocation failure in `err` and ignore later
 * calls, so the ported algorithms read like the JavaScript they mirror.
 */
#include "core/changeset.h"
#include "core/err.h"
#include "core/json.h"
#include "core/strbuf.h"
#include "core/utf8.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The largest length accepted (Number.MAX_SAFE_INTEGER): every sum of
 * lengths stays exact in JavaScript and far from int64 overflow. */
#define CS_MAX_LEN ((int64_t)9007199254740991LL)

struct section {
	int64_t len; /* units of the old document */
	int64_t ins; /* -1: unchanged; otherwise units of the replacement */
	size_t toff; /* replacement text: bytes [toff, toff + tlen) of text */
	size_t tlen;
};

struct changeset {
	struct section *sec;
	size_t nsec, asec;
	char *text;
	size_t textlen, textalloc;
};

/* Copies one sentence into err, truncated to errlen (the error text is
 * advisory, so truncation is fine). */
static void set_err(char *err, size_t errlen, const char *msg)
{
	size_t n;

	if (!err || !errlen)
		return;
	n = strlen(msg);
	if (n >= errlen)
		n = errlen - 1;
	memcpy(err, msg, n);
	err[n] = '\0';
}

/* ---- UTF-16 units over UTF-8 ------------------------------------------- */

/*
 * Counting rule: a character's units are counted at its lead byte (two for a
 * four-byte sequence, one otherwise) and continuation bytes count nothing.
 * That lets eight bytes be counted at once (SWAR): units = 8 - continuation
 * bytes + four-byte leads. Text is valid UTF-8 by contract; on other bytes
 * the functions stay in bounds and merely count oddly.
 */
#define HIGH_BITS 0x8080808080808080ULL

static int64_t word_units(uint64_t w)
{
	uint64_t cont = w & ~(w << 1) & HIGH_BITS;                      /* 10xxxxxx */
	uint64_t four = w & (w << 1) & (w << 2) & (w << 3) & HIGH_BITS; /* 1111xxxx */

	return 8 - __builtin_popcountll(cont) + __builtin_popcountll(four);
}

static int64_t byte_units(unsigned char c)
{
	return (c & 0xC0) == 0x80 ? 0 : c >= 0xF0 ? 2 : 1;
}

int64_t cs_utf16_len(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)(text ? text : ""), *end = p + (text ? len : 0);
	int64_t n = 0;

	while (end - p >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		n += word_units(w);
		p += 8;
	}
	while (p < end)
		n += byte_units(*p++);
	return n;
}

/* Advances *pos (a byte offset in s[0..len) at a character boundary) by
 * units UTF-16 units. Returns -1 when the text ends first or the end falls
 * inside a surrogate pair. */
static int advance_units(const char *s, size_t len, size_t *pos, int64_t units)
{
	const unsigned char *p = (const unsigned char *)s + *pos, *end = (const unsigned char *)s + len;

	while (units > 0) {
		/* Whole words while they hold no more units than wanted; the
		 * word may end inside a character whose lead it counted. */
		while (end - p >= 8) {
			uint64_t w;
			int64_t u;

			memcpy(&w, p, 8);
			u = (w & HIGH_BITS) ? word_units(w) : 8;
			if (u > units)
				break;
			p += 8;
			units -= u;
		}
		if (units == 0)
			break;
		if (p >= end)
			return -1;
		if (*p >= 0xF0 && units < 2)
			return -1;
		units -= byte_units(*p++);
	}
	/* Finish the character whose lead byte was counted last. */
	while (p < end && (*p & 0xC0) == 0x80)
		p++;
	*pos = (size_t)(p - (const unsigned char *)s);
	return 0;
}

/* ---- building (addSection / addInsert) ----------------------------------- */

struct build {
	struct changeset *cs;
	int err;
};

static int build_init(struct build *b)
{
	b->cs = calloc(1, sizeof(*b->cs));
	b->err = b->cs ? 0 : COHORT_E_NOMEM;
	return b->err;
}

/* A builder sized for the usual result (map and compose rarely produce
 * more sections than their inputs hold together), so the hot path of the
 * authority does one allocation per array. The arrays still grow if needed. */
static int build_init_sized(struct build *b, size_t nsec, size_t textlen)
{
	if (build_init(b))
		return b->err;
	b->cs->sec = malloc((nsec ? nsec : 1) * sizeof(*b->cs->sec));
	b->cs->text = textlen ? malloc(textlen) : NULL;
	if (!b->cs->sec || (textlen && !b->cs->text)) {
		cs_free(b->cs);
		b->cs = NULL;
		return b->err = COHORT_E_NOMEM;
	}
	b->cs->asec = nsec ? nsec : 1;
	b->cs->textalloc = textlen;
	return 0;
}

static int push_section(struct build *b, int64_t len, int64_t ins)
{
	struct changeset *cs = b->cs;

	if (cs->nsec == cs->asec) {
		size_t n = cs->asec ? cs->asec * 2 : 8;
		struct section *s = realloc(cs->sec, n * sizeof(*s));

		if (!s)
			return b->err = COHORT_E_NOMEM;
		cs->sec = s;
		cs->asec = n;
	}
	cs->sec[cs->nsec++] = (struct section){ len, ins, cs->textlen, 0 };
	return 0;
}

static int text_reserve(struct build *b, size_t more)
{
	struct changeset *cs = b->cs;
	size_t need = cs->textlen + more;

	if (need <= cs->textalloc)
		return 0;
	if (need < more || need > SIZE_MAX / 2)
		return b->err = COHORT_E_NOMEM;
	size_t n = cs->textalloc ? cs->textalloc : 64;
	while (n < need)
		n *= 2;
	char *t = realloc(cs->text, n);
	if (!t)
		return b->err = COHORT_E_NOMEM;
	cs->text = t;
	cs->textalloc = n;
	return 0;
}

/* CodeMirror's addSection. */
static void add_section(struct build *b, int64_t len, int64_t ins, bool force_join)
{
	struct changeset *cs = b->cs;
	struct section *last;

	if (b->err || (len == 0 && ins <= 0))
		return;
	last = cs->nsec ? &cs->sec[cs->nsec - 1] : NULL;
	if (last && ins <= 0 && ins == last->ins) {
		last->len += len;
	} else if (last && len == 0 && last->len == 0) {
		last->ins += ins;
	} else if (last && force_join) {
		last->len += len;
		last->ins += ins;
	} else {
		push_section(b, len, ins);
	}
}

/* CodeMirror's addInsert: a non-empty text goes to the last section,
 * appended to the text it already has. That text is always the last one in
 * the buffer, since only the last section ever receives text. */
static void add_insert(struct build *b, const char *text, size_t tlen)
{
	struct changeset *cs = b->cs;
	struct section *last;

	if (b->err || tlen == 0 || cs->nsec == 0)
		return;
	if (text_reserve(b, tlen))
		return;
	last = &cs->sec[cs->nsec - 1];
	if (last->tlen == 0)
		last->toff = cs->textlen;
	memcpy(cs->text + cs->textlen, text, tlen);
	cs->textlen += tlen;
	last->tlen += tlen;
}

static int build_finish(struct build *b, struct changeset **out)
{
	if (b->err) {
		cs_free(b->cs);
		b->cs = NULL;
		return b->err;
	}
	*out = b->cs;
	b->cs = NULL;
	return 0;
}

/* ---- SectionIter ---------------------------------------------------------- */

struct iter {
	const struct changeset *cs;
	size_t i;     /* index of the next section (CodeMirror's i / 2) */
	int64_t len;  /* remaining old-document units of the current section */
	int64_t ins;  /* -1 unchanged, -2 done, else remaining replacement units */
	int64_t off;  /* units consumed in the current section */
	size_t tpos;  /* bytes of the current text consumed by forward2 */
	const struct section *cur;
};

static void it_next(struct iter *it)
{
	if (it->i < it->cs->nsec) {
		it->cur = &it->cs->sec[it->i++];
		it->len = it->cur->len;
		it->ins = it->cur->ins;
	} else {
		it->len = 0;
		it->ins = -2;
	}
	it->off = 0;
	it->tpos = 0;
}

static void it_init(struct iter *it, const struct changeset *cs)
{
	memset(it, 0, sizeof(*it));
	it->cs = cs;
	it_next(it);
}

static bool it_done(const struct iter *it)
{
	return it->ins == -2;
}

static int64_t it_len2(const struct iter *it)
{
	return it->ins < 0 ? it->len : it->ins;
}

/* Whole replacement text of the current section (empty when none). */
static const char *it_text(const struct iter *it, size_t *tlen)
{
	if (it_done(it) || !it->cur) {
		*tlen = 0;
		return "";
	}
	*tlen = it->cur->tlen;
	return it->cs->text ? it->cs->text + it->cur->toff : "";
}

/* textBit(len): len units of the current text from the consumed offset. */
static int it_text_bit(const struct iter *it, int64_t len, const char **s, size_t *slen)
{
	size_t tlen, end = it->tpos;
	const char *t = it_text(it, &tlen);

	if (advance_units(t, tlen, &end, len))
		return COHORT_E_RANGE;
	*s = t + it->tpos;
	*slen = end - it->tpos;
	return 0;
}

static void it_forward(struct iter *it, int64_t len)
{
	if (len == it->len) {
		it_next(it);
	} else {
		it->len -= len;
		it->off += len;
	}
}

static int it_forward2(struct iter *it, int64_t len)
{
	if (it->ins == -1) {
		it_forward(it, len);
	} else if (len == it->ins) {
		it_next(it);
	} else {
		size_t tlen;
		const char *t = it_text(it, &tlen);

		if (advance_units(t, tlen, &it->tpos, len))
			return COHORT_E_RANGE;
		it->ins -= len;
		it->off += len;
	}
	return 0;
}

/* ---- map (mapSet) and compose (composeSets) ----------------------------- */

/* CodeMirror's `empty` getter: no sections, or a single unchanged one. */
static bool cm_empty(const struct changeset *cs)
{
	return cs->nsec == 0 || (cs->nsec == 1 && cs->sec[0].ins < 0);
}

static int map_sets(const struct changeset *setA, const struct changeset *setB, bool before,
		    struct changeset **out)
{
	struct build out_b;
	struct iter a, b;
	int64_t inserted = -1;
	int err;

	if ((err = build_init_sized(&out_b, setA->nsec + setB->nsec + 1, setA->textlen)))
		return err;
	it_init(&a, setA);
	it_init(&b, setB);
	for (;;) {
		if ((it_done(&a) && b.len) || (it_done(&b) && a.len)) {
			err = COHORT_E_RANGE;
			goto out;
		} else if (a.ins == -1 && b.ins == -1) {
			int64_t len = a.len < b.len ? a.len : b.len;

			add_section(&out_b, len, -1, false);
			it_forward(&a, len);
			it_forward(&b, len);
		} else if (b.ins >= 0 &&
			   (a.ins < 0 || inserted == (int64_t)a.i ||
			    (a.off == 0 && (b.len < a.len || (b.len == a.len && !before))))) {
			int64_t len = b.len;

			add_section(&out_b, b.ins, -1, false);
			while (len) {
				int64_t piece = a.len < len ? a.len : len;

				if (a.ins >= 0 && inserted < (int64_t)a.i && a.len <= piece) {
					size_t tlen;
					const char *t = it_text(&a, &tlen);

					add_section(&out_b, 0, a.ins, false);
					add_insert(&out_b, t, tlen);
					inserted = (int64_t)a.i;
				}
				/* A done iterator has len 0: mismatched lengths. */
				if (it_done(&a)) {
					err = COHORT_E_RANGE;
					goto out;
				}
				it_forward(&a, piece);
				len -= piece;
			}
			it_next(&b);
		} else if (a.ins >= 0) {
			int64_t len = 0, left = a.len;

			while (left) {
				if (b.ins == -1) {
					int64_t piece = left < b.len ? left : b.len;

					len += piece;
					left -= piece;
					it_forward(&b, piece);
				} else if (b.ins == 0 && b.len < left) {
					left -= b.len;
					it_next(&b);
				} else {
					break;
				}
			}
			add_section(&out_b, len, inserted < (int64_t)a.i ? a.ins : 0, false);
			if (inserted < (int64_t)a.i) {
				size_t tlen;
				const char *t = it_text(&a, &tlen);

				add_insert(&out_b, t, tlen);
			}
			inserted = (int64_t)a.i;
			it_forward(&a, a.len - left);
		} else if (it_done(&a) && it_done(&b)) {
			break;
		} else {
			err = COHORT_E_RANGE;
			goto out;
		}
		if (out_b.err)
			break;
	}
	return build_finish(&out_b, out);
out:
	cs_free(out_b.cs);
	return err;
}

static int compose_sets(const struct changeset *setA, const struct changeset *setB,
			struct changeset **out)
{
	struct build out_b;
	struct iter a, b;
	bool open = false;
	int err;

	if ((err = build_init_sized(&out_b, setA->nsec + setB->nsec + 1, setA->textlen + setB->textlen)))
		return err;
	it_init(&a, setA);
	it_init(&b, setB);
	for (;;) {
		if (out_b.err) {
			break;
		} else if (it_done(&a) && it_done(&b)) {
			break;
		} else if (a.ins == 0) {
			add_section(&out_b, a.len, 0, open);
			it_next(&a);
		} else if (b.len == 0 && !it_done(&b)) {
			size_t tlen;
			const char *t = it_text(&b, &tlen);

			add_section(&out_b, 0, b.ins, open);
			add_insert(&out_b, t, tlen);
			it_next(&b);
		} else if (it_done(&a) || it_done(&b)) {
			err = COHORT_E_RANGE;
			goto out;
		} else {
			int64_t len = it_len2(&a) < b.len ? it_len2(&a) : b.len;
			size_t section_len = out_b.cs->nsec;

			if (a.ins == -1) {
				int64_t ins_b = b.ins == -1 ? -1 : b.off ? 0 : b.ins;

				add_section(&out_b, len, ins_b, open);
				if (ins_b) {
					size_t tlen;
					const char *t = it_text(&b, &tlen);

					add_insert(&out_b, t, tlen);
				}
			} else if (b.ins == -1) {
				const char *t;
				size_t tlen;

				if ((err = it_text_bit(&a, len, &t, &tlen)))
					goto out;
				add_section(&out_b, a.off ? 0 : a.len, len, open);
				add_insert(&out_b, t, tlen);
			} else {
				add_section(&out_b, a.off ? 0 : a.len, b.off ? 0 : b.ins, open);
				if (!b.off) {
					size_t tlen;
					const char *t = it_text(&b, &tlen);

					add_insert(&out_b, t, tlen);
				}
			}
			open = (a.ins > len || (b.ins >= 0 && b.len > len)) &&
			       (open || out_b.cs->nsec > section_len);
			if ((err = it_forward2(&a, len)))
				goto out;
			it_forward(&b, len);
		}
	}
	return build_finish(&out_b, out);
out:
	cs_free(out_b.cs);
	return err;
}

/* ---- public API ------------------------------------------------------------ */

int64_t cs_len(const struct changeset *cs)
{
	int64_t n = 0;

	for (size_t i = 0; i < cs->nsec; i++)
		n += cs->sec[i].len;
	return n;
}

int64_t cs_new_len(const struct changeset *cs)
{
	int64_t n = 0;

	for (size_t i = 0; i < cs->nsec; i++)
		n += cs->sec[i].ins < 0 ? cs->sec[i].len : cs->sec[i].ins;
	return n;
}

size_t cs_insert_bytes(const struct changeset *cs)
{
	size_t n = 0;

	for (size_t i = 0; i < cs->nsec; i++)
		n += cs->sec[i].tlen;
	return n;
}

bool cs_empty(const struct changeset *cs)
{
	return cm_empty(cs);
}

int cs_map(const struct changeset *a, const struct changeset *b, bool before, struct changeset **out)
{
	*out = NULL;
	if (cs_len(a) != cs_len(b))
		return COHORT_E_RANGE;
	if (cm_empty(b)) {
		*out = cs_clone(a);
		return *out ? 0 : COHORT_E_NOMEM;
	}
	return map_sets(a, b, before, out);
}

int cs_compose(const struct changeset *a, const struct changeset *b, struct changeset **out)
{
	*out = NULL;
	if (cs_new_len(a) != cs_len(b))
		return COHORT_E_RANGE;
	if (cm_empty(a) || cm_empty(b)) {
		*out = cs_clone(cm_empty(a) ? b : a);
		return *out ? 0 : COHORT_E_NOMEM;
	}
	return compose_sets(a, b, out);
}

struct changeset *cs_clone(const struct changeset *cs)
{
	struct changeset *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (cs->nsec) {
		c->sec = malloc(cs->nsec * sizeof(*c->sec));
		if (!c->sec)
			goto fail;
		memcpy(c->sec, cs->sec, cs->nsec * sizeof(*c->sec));
		c->nsec = c->asec = cs->nsec;
	}
	if (cs->textlen) {
		c->text = malloc(cs->textlen);
		if (!c->text)
			goto fail;
		memcpy(c->text, cs->text, cs->textlen);
		c->textlen = c->textalloc = cs->textlen;
	}
	return c;
fail:
	cs_free(c);
	return NULL;
}

void cs_free(struct changeset *cs)
{
	if (!cs)
		return;
	free(cs->sec);
	free(cs->text);
	free(cs);
}

int cs_replace_all(int64_t len, const char *text, size_t textlen, struct changeset **out)
{
	struct build b;
	int64_t units;
	int err;

	*out = NULL;
	if (!text)
		text = "", textlen = 0;
	if (len < 0 || len > CS_MAX_LEN)
		return COHORT_E_RANGE;
	if (textlen > CS_MAX_INSERT_BYTES)
		return COHORT_E_LIMIT;
	if (!utf8_valid(text, textlen) || memchr(text, '\r', textlen))
		return COHORT_E_FIELD;
	units = cs_utf16_len(text, textlen);
	if ((err = build_init(&b)))
		return err;
	/* ChangeSet.of({from: 0, to: len, insert: text}, len). */
	add_section(&b, len, units, false);
	add_insert(&b, text, textlen);
	return build_finish(&b, out);
}

/* ---- JSON ------------------------------------------------------------------ */

/* A length: a JSON integer in 0..CS_MAX_LEN. json-c saturates integers that
 * do not fit in 64 bits, which stay above the bound. */
static int get_len(struct json_object *v, int64_t *out)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return COHORT_E_FIELD;
	n = json_object_get_int64(v);
	if (n < 0 || n > CS_MAX_LEN)
		return COHORT_E_FIELD;
	*out = n;
	return 0;
}

static int parse_part(struct build *b, struct json_object *part, size_t *insert_bytes, char *err,
		      size_t errlen)
{
	int64_t len, units = 0;
	size_t n, start;
	int rc;

	if (json_object_is_type(part, json_type_int) || json_object_is_type(part, json_type_double)) {
		if ((rc = get_len(part, &len))) {
			set_err(err, errlen, "a retained length is not a non-negative integer");
			return rc;
		}
		return push_section(b, len, -1);
	}
	if (!json_object_is_type(part, json_type_array) || (n = json_object_array_length(part)) == 0) {
		set_err(err, errlen, "a change-set part is neither a number nor a non-empty array");
		return COHORT_E_FIELD;
	}
	if ((rc = get_len(json_object_array_get_idx(part, 0), &len))) {
		set_err(err, errlen, "a replaced length is not a non-negative integer");
		return rc;
	}
	if (n == 1)
		return push_section(b, len, 0);
	start = b->cs->textlen;
	for (size_t i = 1; i < n; i++) {
		struct json_object *line = json_object_array_get_idx(part, i);
		const char *s;
		size_t slen;

		if (!json_object_is_type(line, json_type_string)) {
			set_err(err, errlen, "inserted lines must be strings");
			return COHORT_E_FIELD;
		}
		s = json_object_get_string(line);
		slen = (size_t)json_object_get_string_len(line);
		if (!utf8_valid(s, slen)) {
			set_err(err, errlen, "inserted text is not valid UTF-8");
			return COHORT_E_FIELD;
		}
		if (memchr(s, '\r', slen) || memchr(s, '\n', slen)) {
			set_err(err, errlen, "an inserted line contains a line break");
			return COHORT_E_FIELD;
		}
		if (slen + (i > 1) > CS_MAX_INSERT_BYTES - *insert_bytes) {
			set_err(err, errlen, "inserted text is too large");
			return COHORT_E_LIMIT;
		}
		*insert_bytes += slen + (i > 1);
		if (text_reserve(b, slen + 1))
			return b->err;
		if (i > 1)
			b->cs->text[b->cs->textlen++] = '\n';
		memcpy(b->cs->text + b->cs->textlen, s, slen);
		b->cs->textlen += slen;
		units += cs_utf16_len(s, slen) + (i > 1);
	}
	if (push_section(b, len, units))
		return b->err;
	b->cs->sec[b->cs->nsec - 1].toff = start;
	b->cs->sec[b->cs->nsec - 1].tlen = b->cs->textlen - start;
	return 0;
}

int cs_from_json(struct json_object *arr, struct changeset **out, char *err, size_t errlen)
{
	struct build b;
	size_t n, insert_bytes = 0;
	int64_t len = 0, new_len = 0;
	int rc;

	*out = NULL;
	if (!arr || !json_object_is_type(arr, json_type_array)) {
		set_err(err, errlen, "a change set must be a JSON array");
		return COHORT_E_FIELD;
	}
	n = json_object_array_length(arr);
	if (n > CS_MAX_SECTIONS) {
		set_err(err, errlen, "too many change-set sections");
		return COHORT_E_LIMIT;
	}
	if ((rc = build_init_sized(&b, n, 0)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		const struct section *s;

		if ((rc = parse_part(&b, json_object_array_get_idx(arr, i), &insert_bytes, err, errlen)))
			goto out;
		s = &b.cs->sec[b.cs->nsec - 1];
		len += s->len;
		new_len += s->ins < 0 ? s->len : s->ins;
		if (len > CS_MAX_LEN || new_len > CS_MAX_LEN) {
			set_err(err, errlen, "change-set lengths are too large");
			rc = COHORT_E_LIMIT;
			goto out;
		}
	}
	return build_finish(&b, out);
out:
	cs_free(b.cs);
	return rc;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v = v * 16 + (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10);
	}
	return v;
}

/* json-c turns an escaped lone surrogate ("\ud83d") into U+FFFD, a different
 * character of the same length, where JavaScript keeps the lone unit; the
 * texts would then differ silently. So cs_parse refuses them in the raw,
 * already grammar-checked text: outside strings there are no backslashes. */
static bool lone_surrogate_escape(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		int u;

		if (s[i] != '\\')
			continue;
		if (s[i + 1] != 'u') {
			i++;
			continue;
		}
		u = hex4(s + i + 2); /* the grammar check guarantees 4 hex digits */
		i += 5;
		if (u >= 0xDC00 && u <= 0xDFFF)
			return true;
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (i + 6 >= len || s[i + 1] != '\\' || s[i + 2] != 'u')
				return true;
			u = hex4(s + i + 3);
			if (u < 0xDC00 || u > 0xDFFF)
				return true;
			i += 6;
		}
	}
	return false;
}

int cs_parse(const char *json, size_t len, struct changeset **out, char *err, size_t errlen)
{
	struct json_object *v = NULL;
	int rc;

	*out = NULL;
	rc = json_parse_value(json, len, &v);
	if (rc) {
		set_err(err, errlen, rc == COHORT_E_UTF8 ? "change set is not valid UTF-8" : "change set is not valid JSON");
		/* The header promises COHORT_E_FIELD for any malformed change set. */
		return rc == COHORT_E_NOMEM ? rc : rc == COHORT_E_TOOBIG ? COHORT_E_LIMIT : COHORT_E_FIELD;
	}
	if (lone_surrogate_escape(json, len)) {
		json_put(v);
		set_err(err, errlen, "inserted text has an unpaired surrogate escape");
		return COHORT_E_FIELD;
	}
	rc = cs_from_json(v, out, err, errlen);
	json_put(v);
	return rc;
}

int cs_to_json(const struct changeset *cs, struct strbuf *out)
{
	size_t start = out->len;
	int rc = strbuf_addch(out, '[');

	for (size_t i = 0; !rc && i < cs->nsec; i++) {
		const struct section *s = &cs->sec[i];

		if (i)
			rc = strbuf_addch(out, ',');
		if (rc)
			break;
		if (s->ins < 0) {
			rc = strbuf_addf(out, "%lld", (long long)s->len);
		} else if (s->ins == 0) {
			rc = strbuf_addf(out, "[%lld]", (long long)s->len);
		} else {
			const char *t = cs->text + s->toff, *end = t + s->tlen;

			rc = strbuf_addf(out, "[%lld", (long long)s->len);
			/* Text.toJSON: the lines, split at "\n". */
			while (!rc) {
				const char *nl = memchr(t, '\n', (size_t)(end - t));
				const char *le = nl ? nl : end;

				rc = strbuf_addch(out, ',');
				if (!rc)
					rc = strbuf_add_json_str(out, t, (size_t)(le - t));
				if (!nl)
					break;
				t = nl + 1;
			}
			if (!rc)
				rc = strbuf_addch(out, ']');
		}
	}
	if (!rc)
		rc = strbuf_addch(out, ']');
	if (rc) {
		out->len = start;
		if (out->buf)
			out->buf[start] = '\0';
	}
	return rc;
}

/* ---- apply ----------------------------------------------------------------- */

static int apply(const struct changeset *cs, const char *doc, size_t doclen, bool ascii, struct strbuf *out,
		 char *err, size_t errlen)
{
	size_t start = out->len, pos = 0;
	int rc = 0;

	if (!doc) /* an empty document may come as NULL (an empty strbuf) */
		doc = "", doclen = 0;
	for (size_t i = 0; i < cs->nsec; i++) {
		const struct section *s = &cs->sec[i];
		size_t from = pos;
		bool fits;

		if (ascii) {
			fits = (uint64_t)s->len <= doclen - pos;
			if (fits)
				pos += (size_t)s->len;
		} else {
			fits = !advance_units(doc, doclen, &pos, s->len);
		}
		if (!fits) {
			set_err(err, errlen,
				"the change set does not fit the document (length, or a position inside a surrogate pair)");
			rc = COHORT_E_RANGE;
			goto out;
		}
		if (s->ins < 0)
			rc = strbuf_add(out, doc + from, pos - from);
		else if (s->tlen)
			rc = strbuf_add(out, cs->text + s->toff, s->tlen);
		if (rc)
			goto out;
	}
	if (pos != doclen) {
		set_err(err, errlen, "the change set is shorter than the document");
		rc = COHORT_E_RANGE;
	}
out:
	if (rc) {
		out->len = start;
		if (out->buf)
			out->buf[start] = '\0';
	}
	return rc;
}

int cs_ascii_result_len(const struct changeset *cs, size_t doclen, size_t *out)
{
	size_t pos = 0, len = 0;

	for (size_t i = 0; i < cs->nsec; i++) {
		const struct section *s = &cs->sec[i];

		if ((uint64_t)s->len > doclen - pos)
			return COHORT_E_RANGE;
		pos += (size_t)s->len;
		len += s->ins < 0 ? (size_t)s->len : s->tlen;
	}
	if (pos != doclen)
		return COHORT_E_RANGE;
	*out = len;
	return 0;
}

int cs_apply_ascii_inplace(const struct changeset *cs, struct strbuf *text)
{
	size_t result, pos = 0, grows = 0, len;
	size_t *at;
	int rc;

	if ((rc = cs_ascii_result_len(cs, text->len, &result)))
		return rc;
	/* Old offsets of the sections; room for the longest intermediate text
	 * (the ranges are replaced from the last to the first). */
	if (!(at = calloc(cs->nsec ? cs->nsec : 1, sizeof(*at))))
		return COHORT_E_NOMEM;
	for (size_t i = 0; i < cs->nsec; i++) {
		const struct section *s = &cs->sec[i];

		at[i] = pos;
		pos += (size_t)s->len;
		if (s->ins >= 0 && s->tlen > (size_t)s->len)
			grows += s->tlen - (size_t)s->len;
	}
	if ((rc = strbuf_reserve(text, grows))) {
		free(at);
		return rc;
	}
	len = text->len;
	for (size_t i = cs->nsec; i-- > 0;) {
		const struct section *s = &cs->sec[i];
		size_t o = at[i], old = (size_t)s->len;

		if (s->ins < 0)
			continue;
		memmove(text->buf + o + s->tlen, text->buf + o + old, len - o - old);
		if (s->tlen)
			memcpy(text->buf + o, cs->text + s->toff, s->tlen);
		len = len - old + s->tlen;
	}
	free(at);
	BUG_ON(len != result);
	text->len = len;
	text->buf[len] = '\0';
	return 0;
}

int cs_apply(const struct changeset *cs, const char *doc, size_t doclen, struct strbuf *out, char *err,
	     size_t errlen)
{
	return apply(cs, doc, doclen, false, out, err, errlen);
}

int cs_apply_ascii(const struct changeset *cs, const char *doc, size_t doclen, struct strbuf *out, char *err,
		   size_t errlen)
{
	return apply(cs, doc, doclen, true, out, err, errlen);
}
