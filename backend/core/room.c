/*
 * room.c — see room.h.
 *
 * DESIGN. One Lua script does every membership step, so the sweep (expired
 * members out, an overdue empty room deleted), the check of the caller's
 * secret, the change itself, its event and the renewal of the room's key
 * expiries are one atomic step: no member is announced twice or lost, and a
 * room cannot be deleted between a check and an edit's commit of the same
 * call (the document calls only start after the check renewed the expiries,
 * which are far longer than any call).
 *
 * The script writes the member events itself, in the stored envelope form
 * of core/event.c (field order type, stream, project, actor, ts, data), since
 * it alone knows which members expired. Names reach it already encoded as
 * JSON strings (strbuf_add_json_str) and are spliced in unchanged; ids and
 * colours are server-made and need no escaping.
 *
 * Room workspace keys carry the room's generation (kv.h), learnt inside the
 * script: the script appends the KV_ROOM_WS_* suffixes from kv.h to the
 * base name kv.c gives, and file keys to the content and cursor prefixes
 * the way the workspace scripts do.
 */
#include "core/room.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/utf8.h"
#include "core/workspace.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define SECRET_HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)

static const char *const palette[] = {
	"#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46a1a8",
	"#f032e6", "#7a9a01", "#c2185b", "#008080", "#9a6324", "#800000",
};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

/*
 * KEYS: state, members, seen, events.
 * ARGV: [1] op, [2] now ms, [3] recv us, [4] pub us, [5] member timeout ms,
 * [6] idle drop ms, [7] events maxlen, [8] workspace base, [9] scope,
 * [10] member id, [11] secret hash, [12] name JSON, [13] max members,
 * [14] new generation, [15..] palette.
 * Members: "<color> <joined ms> <secret hash> <name JSON>".
 */
static const char lua_room[] =
	"local state, members, seen, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"
	"local op, nows, recv, pub = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"
	"local now = tonumber(nows)\n"
	"local tmo, idle, maxlen, base, scope = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9]\n"
	"local function wskeys(gen, ks)\n"
	"  local p = base .. gen\n"
	"  local meta = p .. '" KV_ROOM_WS_META "'\n"
	"  local cpre, kpre = p .. '" KV_ROOM_WS_CONTENT "', p .. '" KV_ROOM_WS_CURSOR "'\n"
	"  ks[#ks + 1] = p .. '" KV_ROOM_WS_TREE "'\n"
	"  ks[#ks + 1] = p .. '" KV_ROOM_WS_INFO "'\n"
	"  for _, v in ipairs(redis.call('HVALS', meta)) do\n"
	"    local fid = string.match(v, '^f (%d+) ')\n"
	"    if fid then\n"
	"      ks[#ks + 1] = cpre .. fid\n"
	"      ks[#ks + 1] = kpre .. fid\n"
	"      ks[#ks + 1] = cpre .. fid .. '" KV_WS_DOC_SUFFIX "'\n"
	"      ks[#ks + 1] = cpre .. fid .. '" KV_WS_LOG_SUFFIX "'\n"
	"    end\n"
	"  end\n"
	"  ks[#ks + 1] = meta\n"
	"end\n"
	"local function allkeys()\n"
	"  local ks = {members, seen, events}\n"
	"  local gen = redis.call('HGET', state, 'gen')\n"
	"  if gen then wskeys(gen, ks) end\n"
	"  ks[#ks + 1] = state\n"
	"  return ks\n"
	"end\n"
	"local function expire_all(ms)\n"
	"  for _, k in ipairs(allkeys()) do redis.call('PEXPIRE', k, ms) end\n"
	"end\n"
	"local function touch()\n"
	"  if redis.call('HLEN', members) > 0 then expire_all(tmo + idle) end\n"
	"end\n"
	"local function parse(v)\n"
	"  return string.match(v, '^(%S+) (%d+) (%x+) (.*)$')\n"
	"end\n"
	"local function mdata(id, color, jname, reason)\n"
	"  local d = '{\"id\":\"' .. id .. '\",\"name\":' .. jname .. ',\"color\":\"' .. color .. '\"'\n"
	"  if reason then d = d .. ',\"reason\":\"' .. reason .. '\"' end\n"
	"  return d .. '}'\n"
	"end\n"
	"local function event(typ, actor, data)\n"
	"  local a = 'null'\n"
	"  if actor then a = '{\"user\":\"' .. actor .. '\",\"client\":null}' end\n"
	"  local e = '{\"type\":\"' .. typ .. '\",\"stream\":\"' .. scope .. '\",\"project\":null,\"actor\":' .. a ..\n"
	"    ',\"ts\":{\"recv\":' .. recv .. ',\"pub\":' .. pub .. '},\"data\":' .. data .. '}'\n"
	"  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'e', e)\n"
	"end\n"
	"local function emptied()\n"
	"  if redis.call('HLEN', members) == 0 then\n"
	"    redis.call('HSET', state, 'empty_since', nows)\n"
	"    expire_all(idle)\n"
	"  end\n"
	"end\n"
	/* Expired members out; an empty room overdue for dropping deleted. */
	"local function sweep()\n"
	"  if redis.call('EXISTS', state) == 0 then return false end\n"
	"  local gone = redis.call('ZRANGEBYSCORE', seen, '-inf', now - tmo)\n"
	"  for _, id in ipairs(gone) do\n"
	"    local v = redis.call('HGET', members, id)\n"
	"    redis.call('ZREM', seen, id)\n"
	"    if v then\n"
	"      redis.call('HDEL', members, id)\n"
	"      local color, _, _, jname = parse(v)\n"
	"      event('member.leave', nil, mdata(id, color, jname, 'expired'))\n"
	"    end\n"
	"  end\n"
	"  if redis.call('HLEN', members) == 0 then\n"
	"    local es = redis.call('HGET', state, 'empty_since')\n"
	"    if not es then\n"
	"      emptied()\n"
	"    elseif tonumber(es) + idle <= now then\n"
	"      for _, k in ipairs(allkeys()) do redis.call('DEL', k) end\n"
	"      return false\n"
	"    end\n"
	"  end\n"
	"  return true\n"
	"end\n"
	"if op == 'exists' then return {'OK', redis.call('EXISTS', state)} end\n"
	"local live = sweep()\n"
	"if op == 'touch' then\n"
	"  if live then touch() end\n"
	"  return {'OK'}\n"
	"end\n"
	"if op == 'list' then\n"
	"  if not live then return {'NOROOM'} end\n"
	"  local out = {'OK', redis.call('HGET', state, 'gen')}\n"
	"  for _, id in ipairs(redis.call('ZRANGE', seen, 0, -1)) do\n"
	"    local v = redis.call('HGET', members, id)\n"
	"    if v then\n"
	"      local color, joined, _, jname = parse(v)\n"
	"      out[#out + 1] = id\n"
	"      out[#out + 1] = color\n"
	"      out[#out + 1] = joined\n"
	"      out[#out + 1] = redis.call('ZSCORE', seen, id)\n"
	"      out[#out + 1] = jname\n"
	"    end\n"
	"  end\n"
	"  return out\n"
	"end\n"
	"local id, sh, jname = ARGV[10], ARGV[11], ARGV[12]\n"
	"if op == 'join' then\n"
	"  local created = 0\n"
	"  if not live then\n"
	"    redis.call('DEL', state, members, seen)\n"
	"    redis.call('HSET', state, 'gen', ARGV[14], 'created', nows)\n"
	"    created = 1\n"
	"  end\n"
	"  if redis.call('HLEN', members) >= tonumber(ARGV[13]) then return {'FULL'} end\n"
	"  if redis.call('HEXISTS', members, id) == 1 then return {'CLASH'} end\n"
	"  local count = {}\n"
	"  for _, v in ipairs(redis.call('HVALS', members)) do\n"
	"    local c = parse(v)\n"
	"    count[c] = (count[c] or 0) + 1\n"
	"  end\n"
	"  local best, bestn\n"
	"  for i = 15, #ARGV do\n"
	"    local n = count[ARGV[i]] or 0\n"
	"    if not bestn or n < bestn then best, bestn = ARGV[i], n end\n"
	"  end\n"
	"  redis.call('HSET', members, id, best .. ' ' .. nows .. ' ' .. sh .. ' ' .. jname)\n"
	"  redis.call('ZADD', seen, nows, id)\n"
	"  redis.call('HDEL', state, 'empty_since')\n"
	"  event('member.join', id, mdata(id, best, jname))\n"
	"  touch()\n"
	"  return {'OK', redis.call('HGET', state, 'gen'), best, nows, jname, created}\n"
	"end\n"
	/* auth, rename, leave: a current member with the right secret. */
	"if not live then return {'NOMEMBER'} end\n"
	"local v = redis.call('HGET', members, id)\n"
	"if not v then return {'NOMEMBER'} end\n"
	"local color, joined, h, old = parse(v)\n"
	"if h ~= sh then return {'NOMEMBER'} end\n"
	"redis.call('ZADD', seen, nows, id)\n"
	"touch()\n"
	"local gen = redis.call('HGET', state, 'gen')\n"
	"if op == 'rename' then\n"
	"  redis.call('HSET', members, id, color .. ' ' .. joined .. ' ' .. h .. ' ' .. jname)\n"
	"  event('member.rename', id, mdata(id, color, jname))\n"
	"  return {'OK', gen, color, joined, jname}\n"
	"elseif op == 'leave' then\n"
	"  redis.call('HDEL', members, id)\n"
	"  redis.call('ZREM', seen, id)\n"
	"  event('member.leave', id, mdata(id, color, old, 'left'))\n"
	"  emptied()\n"
	"end\n"
	"return {'OK', gen, color, joined, old}\n";

static pthread_mutex_t sha_lock = PTHREAD_MUTEX_INITIALIZER;
static char sha[41];

bool room_name_ok(const char *s, size_t len)
{
	if (!s || len == 0 || len > ROOM_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool room_member_name_ok(const char *s, size_t len)
{
	size_t chars = 0;

	if (!text_name_ok(s, len, ROOM_MEMBER_NAME_BYTES))
		return false;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	return chars <= ROOM_MEMBER_NAME_CHARS;
}

size_t room_palette_size(void)
{
	return NPALETTE;
}

const char *room_palette(size_t i)
{
	return i < NPALETTE ? palette[i] : NULL;
}

static bool b64url_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

bool room_credential_parse(const char *s, char id[ROOM_MEMBER_ID_LEN + 1], char secret[ROOM_SECRET_LEN + 1])
{
	if (!s || strlen(s) != ROOM_MEMBER_ID_LEN + 1 + ROOM_SECRET_LEN || s[ROOM_MEMBER_ID_LEN] != '.')
		return false;
	if (!b64url_ok(s, ROOM_MEMBER_ID_LEN) || !b64url_ok(s + ROOM_MEMBER_ID_LEN + 1, ROOM_SECRET_LEN))
		return false;
	memcpy(id, s, ROOM_MEMBER_ID_LEN);
	id[ROOM_MEMBER_ID_LEN] = '\0';
	memcpy(secret, s + ROOM_MEMBER_ID_LEN + 1, ROOM_SECRET_LEN);
	secret[ROOM_SECRET_LEN] = '\0';
	return true;
}

int room_init(struct room *r, struct rconn *rc, const char *name, const struct room_config *cfg,
	      int64_t recv_us)
{
	size_t len = name ? strlen(name) : 0;

	memset(r, 0, sizeof(*r));
	if (!room_name_ok(name, len)) {
		r->reason = "a room name is 1 to 64 characters of [a-z0-9_-]";
		return COHORT_E_FIELD;
	}
	r->rc = rc;
	r->cfg = *cfg;
	r->recv_us = recv_us;
	memcpy(r->name, name, len + 1);
	if (kv_room_state(r->k_state, sizeof(r->k_state), name) ||
	    kv_room_members(r->k_members, sizeof(r->k_members), name) ||
	    kv_room_seen(r->k_seen, sizeof(r->k_seen), name) ||
	    kv_room_stream(r->k_events, sizeof(r->k_events), name) ||
	    kv_room_ws_base(r->ws_base, sizeof(r->ws_base), name))
		return COHORT_E_LIMIT;
	return 0;
}

static void random_b64(char *out, size_t outlen, size_t nbytes)
{
	unsigned char raw[32];

	BUG_ON(nbytes > sizeof(raw));
	randombytes_buf(raw, nbytes);
	sodium_bin2base64(out, outlen, raw, nbytes, B64URL);
}

static void secret_hash(const char *secret, char hex[SECRET_HASH_HEX])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)secret, strlen(secret));
	sodium_bin2hex(hex, SECRET_HASH_HEX, d, sizeof(d));
}

static int load_script(struct room *r, char out[41])
{
	const char *argv[3] = { "SCRIPT", "LOAD", lua_room };
	redisReply *rep = NULL;
	int rc = rconn_cmd(r->rc, &rep, 3, argv, NULL);

	if (rc)
		return rc;
	if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
		rconn_reply_free(rep);
		return COHORT_E_REDIS;
	}
	pthread_mutex_lock(&sha_lock);
	memcpy(sha, rep->str, 40);
	sha[40] = '\0';
	memcpy(out, sha, 41);
	pthread_mutex_unlock(&sha_lock);
	rconn_reply_free(rep);
	return 0;
}

struct call {
	const char *op, *id, *secret_hash, *name_json, *gen;
};

/* Runs the script; on success *reply is an array whose first element is
 * "OK", else the status word becomes an error. */
static int run(struct room *r, const struct call *c, redisReply **reply)
{
	char now[24], recv[24], pub[24], tmo[24], idle[24], maxlen[24], maxm[24], mysha[41], scope[80];
	const char *argv[7 + 14 + NPALETTE];
	int argc = 0, rc;
	redisReply *rep = NULL;
	int64_t wall;

	*reply = NULL;
	r->reason = NULL;
	pthread_mutex_lock(&sha_lock);
	memcpy(mysha, sha, sizeof(mysha));
	pthread_mutex_unlock(&sha_lock);
	if (!mysha[0] && (rc = load_script(r, mysha)))
		return rc;
	wall = clock_wall_us();
	snprintf(now, sizeof(now), "%lld", (long long)(wall / 1000));
	snprintf(recv, sizeof(recv), "%lld", (long long)(r->recv_us ? r->recv_us : wall));
	snprintf(pub, sizeof(pub), "%lld", (long long)wall);
	snprintf(tmo, sizeof(tmo), "%lld", (long long)r->cfg.member_timeout_s * 1000);
	snprintf(idle, sizeof(idle), "%lld", (long long)r->cfg.idle_drop_s * 1000);
	snprintf(maxlen, sizeof(maxlen), "%lld", r->cfg.events_maxlen);
	snprintf(maxm, sizeof(maxm), "%d", r->cfg.max_members);
	snprintf(scope, sizeof(scope), "room:%s", r->name);
	argv[argc++] = "EVALSHA";
	argv[argc++] = mysha;
	argv[argc++] = "4";
	argv[argc++] = r->k_state;
	argv[argc++] = r->k_members;
	argv[argc++] = r->k_seen;
	argv[argc++] = r->k_events;
	argv[argc++] = c->op;
	argv[argc++] = now;
	argv[argc++] = recv;
	argv[argc++] = pub;
	argv[argc++] = tmo;
	argv[argc++] = idle;
	argv[argc++] = maxlen;
	argv[argc++] = r->ws_base;
	argv[argc++] = scope;
	argv[argc++] = c->id ? c->id : "";
	argv[argc++] = c->secret_hash ? c->secret_hash : "";
	argv[argc++] = c->name_json ? c->name_json : "";
	argv[argc++] = maxm;
	argv[argc++] = c->gen ? c->gen : "";
	for (size_t i = 0; i < NPALETTE; i++)
		argv[argc++] = palette[i];
	rc = rconn_cmd(r->rc, &rep, argc, argv, NULL);
	if (rc == COHORT_E_REDIS && !strncmp(rconn_last_error(r->rc), "NOSCRIPT", 8)) {
		if ((rc = load_script(r, mysha)))
			return rc;
		argv[1] = mysha;
		rc = rconn_cmd(r->rc, &rep, argc, argv, NULL);
	}
	if (rc)
		return rc;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 || rep->element[0]->type != REDIS_REPLY_STRING) {
		rconn_reply_free(rep);
		return COHORT_E_REDIS;
	}
	if (strcmp(rep->element[0]->str, "OK")) {
		const char *w = rep->element[0]->str;

		if (!strcmp(w, "FULL")) {
			r->reason = "the room is full";
			rc = COHORT_E_LIMIT;
		} else if (!strcmp(w, "NOMEMBER")) {
			r->reason = "no member of this room has these credentials (left, expired, or never joined)";
			rc = COHORT_E_BADTOKEN;
		} else if (!strcmp(w, "NOROOM")) {
			r->reason = "no such room";
			rc = COHORT_E_NOTFOUND;
		} else {
			rc = COHORT_E_INTERNAL;
		}
		rconn_reply_free(rep);
		return rc;
	}
	*reply = rep;
	return 0;
}

static const char *el_str(const redisReply *rep, size_t i)
{
	if (i >= rep->elements || rep->element[i]->type != REDIS_REPLY_STRING)
		return NULL;
	return rep->element[i]->str;
}

static int copy_str(char *dst, size_t cap, const char *s)
{
	size_t n;

	if (!s || (n = strlen(s)) >= cap)
		return COHORT_E_REDIS;
	memcpy(dst, s, n + 1);
	return 0;
}

/* Fills the plain name from its JSON form. */
static int name_from_json(struct room_member *m)
{
	size_t o = 0, n = strlen(m->name_json);

	/* The JSON was written by strbuf_add_json_str: plain bytes, and escapes
	 * only for '"', '\\' and control characters (refused in names). */
	if (n < 2 || m->name_json[0] != '"' || m->name_json[n - 1] != '"')
		return COHORT_E_REDIS;
	for (size_t i = 1; i + 1 < n; i++) {
		char ch = m->name_json[i];

		if (ch == '\\') {
			if (i + 2 >= n)
				return COHORT_E_REDIS;
			ch = m->name_json[++i];
			if (ch != '"' && ch != '\\' && ch != '/')
				return COHORT_E_REDIS;
		}
		if (o >= ROOM_MEMBER_NAME_BYTES)
			return COHORT_E_REDIS;
		m->name[o++] = ch;
	}
	m->name[o] = '\0';
	return 0;
}

/* Reply {OK, gen, color, joined, name JSON, ...} into r->gen and *me. */
static int take_member(struct room *r, const redisReply *rep, struct room_member *me)
{
	const char *joined = el_str(rep, 3);
	int rc;

	if ((rc = copy_str(r->gen, sizeof(r->gen), el_str(rep, 1))) ||
	    (rc = copy_str(me->color, sizeof(me->color), el_str(rep, 2))) ||
	    (rc = copy_str(me->name_json, sizeof(me->name_json), el_str(rep, 4))))
		return rc;
	me->joined = joined ? strtoll(joined, NULL, 10) : 0;
	return name_from_json(me);
}

static int encode_name(const char *name, size_t len, char out[ROOM_NAME_JSON_MAX + 1])
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	strbuf_init(&sb, ROOM_NAME_JSON_MAX);
	rc = strbuf_add_json_str(&sb, name, len);
	if (!rc)
		rc = copy_str(out, ROOM_NAME_JSON_MAX + 1, sb.buf);
	strbuf_release(&sb);
	return rc ? COHORT_E_FIELD : 0;
}

int room_exists(struct room *r, bool *exists)
{
	struct call c = { .op = "exists" };
	redisReply *rep = NULL;
	int rc = run(r, &c, &rep);

	if (!rc)
		*exists = rep->elements > 1 && rep->element[1]->type == REDIS_REPLY_INTEGER &&
			  rep->element[1]->integer == 1;
	rconn_reply_free(rep);
	return rc;
}

int room_join(struct room *r, const char *name, size_t len, struct room_member *me,
	      char secret[ROOM_SECRET_LEN + 1], bool *created)
{
	char hash[SECRET_HASH_HEX], gen[ROOM_GEN_LEN + 1];
	struct call c = { .op = "join" };
	struct workspace ws;
	redisReply *rep = NULL;
	int rc;

	memset(me, 0, sizeof(*me));
	if (!room_member_name_ok(name, len)) {
		r->reason = "a name is 1 to 40 characters without control characters or surrounding spaces";
		return COHORT_E_FIELD;
	}
	if ((rc = encode_name(name, len, me->name_json)))
		return rc;
	random_b64(me->id, sizeof(me->id), 12);
	random_b64(secret, ROOM_SECRET_LEN + 1, 32);
	random_b64(gen, sizeof(gen), 12);
	secret_hash(secret, hash);
	c.id = me->id;
	c.secret_hash = hash;
	c.name_json = me->name_json;
	c.gen = gen;
	if ((rc = run(r, &c, &rep)))
		goto out;
	if ((rc = take_member(r, rep, me)))
		goto out;
	*created = rep->elements > 5 && rep->element[5]->type == REDIS_REPLY_INTEGER && rep->element[5]->integer;
	/* The document: made by the first join (a join that finds it is fine,
	 * and so is one that repairs a room whose creator failed here). */
	if ((rc = room_workspace(r, &ws, NULL)))
		goto out;
	rc = workspace_create(&ws, ROOM_DOC_PATH, WS_FILE, "", 0, "text/plain; charset=utf-8", 0, NULL);
	if (rc == COHORT_E_EXISTS)
		rc = 0;
	else if (!rc)
		rc = room_touch(r); /* expiries for the document's new keys */
out:
	rconn_reply_free(rep);
	return rc;
}

static int member_op(struct room *r, const char *op, const char *id, const char *secret,
		     const char *name, size_t len, struct room_member *me)
{
	char hash[SECRET_HASH_HEX];
	struct room_member scratch;
	struct call c = { .op = op, .id = id, .secret_hash = hash };
	redisReply *rep = NULL;
	int rc;

	if (!me)
		me = &scratch;
	memset(me, 0, sizeof(*me));
	if (name) {
		if (!room_member_name_ok(name, len)) {
			r->reason = "a name is 1 to 40 characters without control characters or surrounding spaces";
			return COHORT_E_FIELD;
		}
		if ((rc = encode_name(name, len, me->name_json)))
			return rc;
		c.name_json = me->name_json;
	}
	secret_hash(secret, hash);
	if ((rc = run(r, &c, &rep)))
		goto out;
	if ((rc = copy_str(me->id, sizeof(me->id), id)))
		goto out;
	rc = take_member(r, rep, me);
out:
	rconn_reply_free(rep);
	return rc;
}

int room_auth(struct room *r, const char *id, const char *secret, struct room_member *me)
{
	return member_op(r, "auth", id, secret, NULL, 0, me);
}

int room_rename(struct room *r, const char *id, const char *secret, const char *name, size_t len,
		struct room_member *me)
{
	return member_op(r, "rename", id, secret, name, len, me);
}

int room_leave(struct room *r, const char *id, const char *secret)
{
	return member_op(r, "leave", id, secret, NULL, 0, NULL);
}

int room_list(struct room *r, struct room_member **v, size_t *n)
{
	struct call c = { .op = "list" };
	redisReply *rep = NULL;
	struct room_member *out = NULL;
	size_t k = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if ((rc = run(r, &c, &rep)))
		goto out;
	if ((rc = copy_str(r->gen, sizeof(r->gen), el_str(rep, 1))))
		goto out;
	if (rep->elements > 2 && !(out = calloc((rep->elements - 2) / 5 + 1, sizeof(*out)))) {
		rc = COHORT_E_NOMEM;
		goto out;
	}
	for (size_t i = 2; i + 4 < rep->elements; i += 5, k++) {
		const char *joined = el_str(rep, i + 2), *seen = el_str(rep, i + 3);

		if ((rc = copy_str(out[k].id, sizeof(out[k].id), el_str(rep, i))) ||
		    (rc = copy_str(out[k].color, sizeof(out[k].color), el_str(rep, i + 1))) ||
		    (rc = copy_str(out[k].name_json, sizeof(out[k].name_json), el_str(rep, i + 4))) ||
		    (rc = name_from_json(&out[k])))
			goto out;
		out[k].joined = joined ? strtoll(joined, NULL, 10) : 0;
		out[k].last_seen = seen ? strtoll(seen, NULL, 10) : 0;
	}
	*v = out;
	*n = k;
	out = NULL;
out:
	free(out);
	rconn_reply_free(rep);
	return rc;
}

int room_touch(struct room *r)
{
	struct call c = { .op = "touch" };
	redisReply *rep = NULL;
	int rc = run(r, &c, &rep);

	rconn_reply_free(rep);
	return rc;
}

int room_rate_hit(struct rconn *conn, enum room_rate kind, const char *addr, int limit, bool *over,
		  int *retry_after)
{
	int64_t now_s = clock_wall_us() / 1000000;
	long long span = kind == ROOM_RATE_CREATE ? 60 : 1, window = (long long)now_s / span;
	char key[KV_KEY_MAX], ex[24];
	redisReply *rep = NULL;
	int rc = kind == ROOM_RATE_CREATE ? kv_room_rate_create(key, sizeof(key), addr, window)
					  : kv_room_rate_msgs(key, sizeof(key), addr, window);

	*over = false;
	*retry_after = (int)(span - (long long)now_s % span);
	if (rc)
		return rc;
	/* SET NX EX first, so the counter always has its expiry, then INCR
	 * (which keeps it). */
	snprintf(ex, sizeof(ex), "%lld", span + 1);
	{
		const char *argv[] = { "SET", key, "0", "EX", ex, "NX" };

		if ((rc = rconn_cmd(conn, &rep, 6, argv, NULL)))
			return rc;
	}
	rconn_reply_free(rep);
	rep = NULL;
	{
		const char *argv[] = { "INCR", key };

		if ((rc = rconn_cmd(conn, &rep, 2, argv, NULL)))
			return rc;
	}
	*over = rep->type == REDIS_REPLY_INTEGER && rep->integer > limit;
	rconn_reply_free(rep);
	return 0;
}

int room_workspace(const struct room *r, struct workspace *ws, const struct ws_limits *lim)
{
	if (!r->gen[0])
		BUG("room_workspace before the room's generation is known");
	return workspace_init_room(ws, r->rc, r->name, r->gen, lim);
}
