#include "core/scope.h"
#include "core/course.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/lesson.h"
#include "core/num.h"
#include "core/principal.h"
#include "core/project.h"
#include "core/room.h"
#include "core/user.h"

#include <string.h>

struct scope_kind_row {
	const char *prefix;
	enum scope_kind kind;
	bool numeric; /* the id is a canonical positive integer */
	bool (*enabled)(const struct scope_policy *pol);
};

static bool dev_enabled(const struct scope_policy *pol)
{
	return pol && pol->dev_enabled;
}

static bool rooms_enabled(const struct scope_policy *pol)
{
	return pol && pol->rooms_enabled;
}

static bool always(const struct scope_policy *pol)
{
	(void)pol;
	return true;
}

static const struct scope_kind_row kinds[] = {
	{ "dev", SCOPE_DEV, false, dev_enabled },
	{ "project", SCOPE_PROJECT, true, always },
	{ "lesson", SCOPE_LESSON, true, always },
	{ "user", SCOPE_USER, true, always },
	{ "room", SCOPE_ROOM, false, rooms_enabled },
};

static bool id_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* Canonical decimal 1..INT64_MAX: digits only, no leading zero. */
static int parse_id(const char *s, size_t len, int64_t *out)
{
	uint64_t v;

	if (len == 0 || len > 19 || s[0] == '0')
		return COHORT_E_BADSTREAM;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return COHORT_E_BADSTREAM;
	if (parse_u64n(s, len, &v) || v > (uint64_t)INT64_MAX)
		return COHORT_E_BADSTREAM;
	*out = (int64_t)v;
	return 0;
}

int scope_parse(const char *s, size_t len, const struct scope_policy *pol, struct scope *out)
{
	const char *colon = memchr(s, ':', len);
	size_t klen, idlen;

	if (!colon || len > SCOPE_MAX)
		return COHORT_E_BADSTREAM;
	klen = (size_t)(colon - s);
	idlen = len - klen - 1;
	if (klen == 0 || idlen == 0 || idlen > 64)
		return COHORT_E_BADSTREAM;
	for (size_t i = 0; i < len; i++)
		if (s + i != colon && !id_char_ok(s[i]))
			return COHORT_E_BADSTREAM;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int64_t id = 0;

		if (strlen(kinds[i].prefix) != klen || memcmp(kinds[i].prefix, s, klen))
			continue;
		if (!kinds[i].enabled(pol))
			return COHORT_E_UNKNOWNSTREAM;
		if (kinds[i].numeric && parse_id(colon + 1, idlen, &id))
			return COHORT_E_BADSTREAM;
		if (kinds[i].kind == SCOPE_ROOM && !room_name_ok(colon + 1, idlen))
			return COHORT_E_BADSTREAM;
		out->kind = kinds[i].kind;
		memcpy(out->name, s, len);
		out->name[len] = '\0';
		out->id_off = klen + 1;
		out->id = id;
		return 0;
	}
	return COHORT_E_UNKNOWNSTREAM;
}

int scope_stream_key(const struct scope *sc, char *buf, size_t len)
{
	switch (sc->kind) {
	case SCOPE_DEV:
		return kv_dev_stream(buf, len, sc->name + sc->id_off);
	case SCOPE_PROJECT:
		return kv_project_stream(buf, len, (long long)sc->id);
	case SCOPE_LESSON:
		return kv_lesson_stream(buf, len, (long long)sc->id);
	case SCOPE_USER:
		return kv_user_stream(buf, len, (long long)sc->id);
	case SCOPE_ROOM:
		return kv_room_stream(buf, len, sc->name + sc->id_off);
	}
	return COHORT_E_INTERNAL;
}

bool scope_needs_db(const struct scope *sc)
{
	return sc->kind != SCOPE_DEV && sc->kind != SCOPE_ROOM;
}

static int authorize_project(struct db *db, const struct principal *who, int64_t id)
{
	struct project p;
	struct access acc;
	int err = project_get(db, id, &p);

	if (!err)
		err = project_access(db, who, &p, &acc);
	if (err)
		return err;
	return acc.read ? 0 : COHORT_E_FORBIDDEN;
}

static int authorize_lesson(struct db *db, const struct principal *who, int64_t id)
{
	struct lesson l;
	struct participant me;
	int err = lesson_get(db, id, &l);

	if (err || who->is_admin)
		return err;
	memset(&me, 0, sizeof(me));
	err = course_participation(db, l.course_id, who->user_id, &me);
	if (err)
		return err;
	return me.id ? 0 : COHORT_E_FORBIDDEN;
}

static int authorize_user(struct db *db, const struct principal *who, int64_t id)
{
	struct user u;

	if (who->user_id == id)
		return 0;
	if (!who->is_admin)
		return COHORT_E_FORBIDDEN;
	return user_get(db, id, &u);
}

int scope_authorize(struct db *db, const struct principal *who, const struct scope *sc)
{
	if (sc->kind == SCOPE_DEV || sc->kind == SCOPE_ROOM)
		return 0;
	if (!who || who->user_id <= 0)
		return COHORT_E_AUTH;
	if (!db)
		BUG("scope_authorize without a database");
	switch (sc->kind) {
	case SCOPE_PROJECT:
		return authorize_project(db, who, sc->id);
	case SCOPE_LESSON:
		return authorize_lesson(db, who, sc->id);
	case SCOPE_USER:
		return authorize_user(db, who, sc->id);
	case SCOPE_DEV:
	case SCOPE_ROOM:
		break;
	}
	return COHORT_E_INTERNAL;
}
