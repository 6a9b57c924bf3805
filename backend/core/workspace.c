/*
 * workspace.c — see workspace.h.
 *
 * DESIGN: each operation is one Lua script, run with EVALSHA (the script is
 * loaded with SCRIPT LOAD the first time, and again after a NOSCRIPT reply,
 * e.g. when Redis restarted). A script runs atomically, so every check (does
 * the parent exist, is the version current, does the project stay under its
 * limits) and every write it implies happen in one step: the totals can never
 * drift from the entries and no reader sees half a rename.
 *
 * Every script gets the same KEYS (tree, meta, info) and ARGV[1..2] (the
 * content and cursor key prefixes from kv.c, to which it appends a file id).
 * The per-file content and cursor keys are not declared in KEYS; they share
 * the project's hash tag, so the scripts stay on one Redis Cluster slot.
 *
 * Metadata values (one field per path in the meta hash):
 *   "d"                                       a directory
 *   "f <fid> <size> <version> <bin> <ctype>"  a file (bin is 0 or 1)
 * Scripts answer with an array whose first element is a status word ("OK" or
 * an error word mapped by status_err()).
 */
#include "core/workspace.h"
#include "core/err.h"
#include "core/path.h"
#include "core/rconn.h"
#include "core/strbuf.h"
#include "core/utf8.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LUA_PRELUDE                                                                        \
	"local tree, meta, info = KEYS[1], KEYS[2], KEYS[3]\n"                            \
	"local cpre, kpre = ARGV[1], ARGV[2]\n"                                           \
	"local function parse(v)\n"                                                       \
	"  if v == 'd' then return 'd' end\n"                                             \
	"  local fid, size, ver, bin, ct = string.match(v, '^f (%d+) (%d+) (%d+) (%d) ?(.*)$')\n" \
	"  return 'f', fid, tonumber(size), tonumber(ver), bin, ct\n"                     \
	"end\n"                                                                           \
	"local function fmeta(fid, size, ver, bin, ct)\n"                                 \
	"  return string.format('f %s %d %d %s %s', fid, size, ver, bin, ct)\n"           \
	"end\n"                                                                           \
	"local function num(k) return tonumber(redis.call('HGET', info, k) or '0') end\n" \
	"local function drop_file(p, v)\n"                                                \
	"  local _, fid, size = parse(v)\n"                                               \
	"  redis.call('DEL', cpre .. fid, kpre .. fid)\n"                                 \
	"  return size\n"                                                                 \
	"end\n"

/* ARGV[3] path, [4] kind f|d, [5] content, [6] bin, [7] ctype, [8] max_file,
 * [9] max_project, [10] max_entries, [11] parents 1|0, [12..] ancestors, top first. */
static const char lua_create[] = LUA_PRELUDE
	"local path, kind = ARGV[3], ARGV[4]\n"
	"if redis.call('HEXISTS', meta, path) == 1 then return {'EXISTS'} end\n"
	"local missing = {}\n"
	"for i = 12, #ARGV do\n"
	"  local v = redis.call('HGET', meta, ARGV[i])\n"
	"  if not v then\n"
	"    if ARGV[11] ~= '1' then return {'NOPARENT'} end\n"
	"    missing[#missing + 1] = ARGV[i]\n"
	"  elseif v ~= 'd' then return {'NOTDIR'} end\n"
	"end\n"
	"local size = 0\n"
	"if kind == 'f' then size = string.len(ARGV[5]) end\n"
	"if size > tonumber(ARGV[8]) then return {'LIMIT', 'file'} end\n"
	"if num('bytes') + size > tonumber(ARGV[9]) then return {'LIMIT', 'project'} end\n"
	"if num('entries') + 1 + #missing > tonumber(ARGV[10]) then return {'LIMIT', 'entries'} end\n"
	"for _, a in ipairs(missing) do\n"
	"  redis.call('ZADD', tree, 0, a)\n"
	"  redis.call('HSET', meta, a, 'd')\n"
	"end\n"
	"redis.call('ZADD', tree, 0, path)\n"
	"local ver = 0\n"
	"if kind == 'd' then\n"
	"  redis.call('HSET', meta, path, 'd')\n"
	"else\n"
	"  local fid = tostring(redis.call('HINCRBY', info, 'next_id', 1))\n"
	"  redis.call('SET', cpre .. fid, ARGV[5])\n"
	"  ver = 1\n"
	"  redis.call('HSET', meta, path, fmeta(fid, size, ver, ARGV[6], ARGV[7]))\n"
	"end\n"
	"redis.call('HINCRBY', info, 'bytes', size)\n"
	"redis.call('HINCRBY', info, 'entries', 1 + #missing)\n"
	"return {'OK', ver, #missing}\n";

/* ARGV[3] path, [4] with content 1|0. */
static const char lua_read[] = LUA_PRELUDE
	"local v = redis.call('HGET', meta, ARGV[3])\n"
	"if not v then return {'NOTFOUND'} end\n"
	"if ARGV[4] == '1' and v == 'd' then return {'ISDIR'} end\n"
	"if ARGV[4] ~= '1' then return {'OK', v} end\n"
	"local _, fid = parse(v)\n"
	"return {'OK', v, redis.call('GET', cpre .. fid) or ''}\n";

/* ARGV[3] path, [4] content, [5] bin, [6] ctype or '' to keep, [7] expected
 * version (-1 any), [8] max_file, [9] max_project. */
static const char lua_replace[] = LUA_PRELUDE
	"local v = redis.call('HGET', meta, ARGV[3])\n"
	"if not v then return {'NOTFOUND'} end\n"
	"if v == 'd' then return {'ISDIR'} end\n"
	"local _, fid, old, ver, _, ct = parse(v)\n"
	"local exp = tonumber(ARGV[7])\n"
	"if exp >= 0 and exp ~= ver then return {'STALE', ver} end\n"
	"local size = string.len(ARGV[4])\n"
	"if size > tonumber(ARGV[8]) then return {'LIMIT', 'file'} end\n"
	"if size > old and num('bytes') - old + size > tonumber(ARGV[9]) then return {'LIMIT', 'project'} end\n"
	"if ARGV[6] ~= '' then ct = ARGV[6] end\n"
	"redis.call('SET', cpre .. fid, ARGV[4])\n"
	"redis.call('HSET', meta, ARGV[3], fmeta(fid, size, ver + 1, ARGV[5], ct))\n"
	"redis.call('HINCRBY', info, 'bytes', size - old)\n"
	"return {'OK', ver + 1}\n";

/* ARGV[3] from, [4] to, [5] replace 1|0, [6..] ancestors of to. */
static const char lua_rename[] = LUA_PRELUDE
	"local from, to = ARGV[3], ARGV[4]\n"
	"local v = redis.call('HGET', meta, from)\n"
	"if not v then return {'NOTFOUND'} end\n"
	"for i = 6, #ARGV do\n"
	"  local a = redis.call('HGET', meta, ARGV[i])\n"
	"  if not a then return {'NOPARENT'} end\n"
	"  if a ~= 'd' then return {'NOTDIR'} end\n"
	"end\n"
	"local tv = redis.call('HGET', meta, to)\n"
	"if tv then\n"
	"  if ARGV[5] ~= '1' then return {'EXISTS'} end\n"
	"  if tv == 'd' or v == 'd' then return {'CONFLICT'} end\n"
	"  local size = drop_file(to, tv)\n"
	"  redis.call('HINCRBY', info, 'bytes', 0 - size)\n"
	"  redis.call('HINCRBY', info, 'entries', 0 - 1)\n"
	"end\n"
	"local moved = 1\n"
	"if v == 'd' then\n"
	"  local subs = redis.call('ZRANGEBYLEX', tree, '[' .. from .. '/', '(' .. from .. '0')\n"
	"  for _, m in ipairs(subs) do\n"
	"    local nm = to .. string.sub(m, string.len(from) + 1)\n"
	"    local mv = redis.call('HGET', meta, m)\n"
	"    redis.call('ZREM', tree, m)\n"
	"    redis.call('HDEL', meta, m)\n"
	"    redis.call('ZADD', tree, 0, nm)\n"
	"    redis.call('HSET', meta, nm, mv)\n"
	"    moved = moved + 1\n"
	"  end\n"
	"end\n"
	"redis.call('ZREM', tree, from)\n"
	"redis.call('HDEL', meta, from)\n"
	"redis.call('ZADD', tree, 0, to)\n"
	"redis.call('HSET', meta, to, v)\n"
	"return {'OK', moved}\n";

/* ARGV[3] path. */
static const char lua_delete[] = LUA_PRELUDE
	"local path = ARGV[3]\n"
	"local v = redis.call('HGET', meta, path)\n"
	"if not v then return {'NOTFOUND'} end\n"
	"local bytes, n = 0, 1\n"
	"if v == 'd' then\n"
	"  local subs = redis.call('ZRANGEBYLEX', tree, '[' .. path .. '/', '(' .. path .. '0')\n"
	"  for _, m in ipairs(subs) do\n"
	"    local mv = redis.call('HGET', meta, m)\n"
	"    if mv ~= 'd' then bytes = bytes + drop_file(m, mv) end\n"
	"    redis.call('ZREM', tree, m)\n"
	"    redis.call('HDEL', meta, m)\n"
	"    n = n + 1\n"
	"  end\n"
	"else\n"
	"  bytes = drop_file(path, v)\n"
	"end\n"
	"redis.call('ZREM', tree, path)\n"
	"redis.call('HDEL', meta, path)\n"
	"redis.call('HINCRBY', info, 'bytes', 0 - bytes)\n"
	"redis.call('HINCRBY', info, 'entries', 0 - n)\n"
	"return {'OK', n}\n";

/* ARGV[3] dir ('' root), [4] recursive 1|0. Answers OK, path, meta, path, meta...
 * The metadata comes from one HMGET per 256 entries, not one HGET per entry:
 * each redis.call costs several microseconds, which made a 2,000-file tree
 * listing twice as slow (docs/bench.md, list2000). */
static const char lua_list[] = LUA_PRELUDE
	"local dir = ARGV[3]\n"
	"local subs, skip\n"
	"if dir == '' then\n"
	"  subs = redis.call('ZRANGE', tree, 0, -1)\n"
	"  skip = 0\n"
	"else\n"
	"  local v = redis.call('HGET', meta, dir)\n"
	"  if not v then return {'NOTFOUND'} end\n"
	"  if v ~= 'd' then return {'NOTDIR'} end\n"
	"  subs = redis.call('ZRANGEBYLEX', tree, '[' .. dir .. '/', '(' .. dir .. '0')\n"
	"  skip = string.len(dir) + 1\n"
	"end\n"
	"if ARGV[4] ~= '1' then\n"
	"  local direct = {}\n"
	"  for _, m in ipairs(subs) do\n"
	"    if not string.find(m, '/', skip + 1, true) then direct[#direct + 1] = m end\n"
	"  end\n"
	"  subs = direct\n"
	"end\n"
	"local out, n = {'OK'}, 1\n"
	"for i = 1, #subs, 256 do\n"
	"  local j = math.min(i + 255, #subs)\n"
	"  local vals = redis.call('HMGET', meta, unpack(subs, i, j))\n"
	"  for k = i, j do\n"
	"    out[n + 1] = subs[k]\n"
	"    out[n + 2] = vals[k - i + 1]\n"
	"    n = n + 2\n"
	"  end\n"
	"end\n"
	"return out\n";

/* ARGV[3] path, [4] user, [5] cursor or '' to read. */
static const char lua_cursor[] = LUA_PRELUDE
	"local v = redis.call('HGET', meta, ARGV[3])\n"
	"if not v then return {'NOTFOUND'} end\n"
	"if v == 'd' then return {'ISDIR'} end\n"
	"local _, fid = parse(v)\n"
	"if ARGV[5] ~= '' then\n"
	"  redis.call('HSET', kpre .. fid, ARGV[4], ARGV[5])\n"
	"  return {'OK'}\n"
	"end\n"
	"local c = redis.call('HGET', kpre .. fid, ARGV[4])\n"
	"if not c then return {'NOCURSOR'} end\n"
	"return {'OK', c}\n";

/* ARGV[3] tag, [4] max_file, [5] max_project, [6] max_entries, then per item
 * 4 values: path, kind f|d, content, bin. Items come parents first. */
static const char lua_import[] = LUA_PRELUDE
	"local done = redis.call('HGET', info, 'import')\n"
	"if done then return {'IMPORTED', done} end\n"
	"local new, bytes, n = {}, 0, 0\n"
	"for i = 7, #ARGV, 4 do\n"
	"  local p, kind = ARGV[i], ARGV[i + 1]\n"
	"  if new[p] or redis.call('HEXISTS', meta, p) == 1 then return {'EXISTS', p} end\n"
	"  local parent = string.match(p, '^(.*)/[^/]*$')\n"
	"  if parent then\n"
	"    local pk = new[parent] or redis.call('HGET', meta, parent)\n"
	"    if not pk then return {'NOPARENT', p} end\n"
	"    if pk ~= 'd' then return {'NOTDIR', p} end\n"
	"  end\n"
	"  new[p] = kind\n"
	"  if kind == 'f' then\n"
	"    local size = string.len(ARGV[i + 2])\n"
	"    if size > tonumber(ARGV[4]) then return {'LIMIT', 'file'} end\n"
	"    bytes = bytes + size\n"
	"  end\n"
	"  n = n + 1\n"
	"end\n"
	"if num('bytes') + bytes > tonumber(ARGV[5]) then return {'LIMIT', 'project'} end\n"
	"if num('entries') + n > tonumber(ARGV[6]) then return {'LIMIT', 'entries'} end\n"
	"for i = 7, #ARGV, 4 do\n"
	"  local p = ARGV[i]\n"
	"  redis.call('ZADD', tree, 0, p)\n"
	"  if ARGV[i + 1] == 'd' then\n"
	"    redis.call('HSET', meta, p, 'd')\n"
	"  else\n"
	"    local fid = tostring(redis.call('HINCRBY', info, 'next_id', 1))\n"
	"    redis.call('SET', cpre .. fid, ARGV[i + 2])\n"
	"    redis.call('HSET', meta, p, fmeta(fid, string.len(ARGV[i + 2]), 1, ARGV[i + 3], ''))\n"
	"  end\n"
	"end\n"
	"redis.call('HINCRBY', info, 'bytes', bytes)\n"
	"redis.call('HINCRBY', info, 'entries', n)\n"
	"redis.call('HSET', info, 'import', ARGV[3])\n"
	"return {'OK', n}\n";

enum script { S_IMPORT, S_CREATE, S_READ, S_REPLACE, S_RENAME, S_DELETE, S_LIST, S_CURSOR, S__N };

static const char *const scripts[S__N] = {
	[S_CREATE] = lua_create, [S_READ] = lua_read,     [S_REPLACE] = lua_replace,
	[S_RENAME] = lua_rename, [S_DELETE] = lua_delete, [S_LIST] = lua_list,
	[S_CURSOR] = lua_cursor, [S_IMPORT] = lua_import,
};

/* SHA1s from SCRIPT LOAD, shared by all threads (a script's SHA never changes). */
static char shas[S__N][41];
static pthread_mutex_t sha_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *word;
	int err;
	const char *reason;
} statuses[] = {
	{ "EXISTS", COHORT_E_EXISTS, "an entry with this path already exists" },
	{ "NOTFOUND", COHORT_E_NOTFOUND, "no such file or directory" },
	{ "NOPARENT", COHORT_E_NOTFOUND, "the parent directory does not exist" },
	{ "NOTDIR", COHORT_E_CONFLICT, "a parent of this path is a file" },
	{ "ISDIR", COHORT_E_CONFLICT, "this path is a directory" },
	{ "STALE", COHORT_E_PRECONDITION, "the file has changed since the version given" },
	{ "CONFLICT", COHORT_E_CONFLICT, "a directory cannot replace or be replaced" },
	{ "NOCURSOR", COHORT_E_NOTFOUND, "no cursor stored for this user and file" },
	{ "LIMIT", COHORT_E_LIMIT, "a size limit was exceeded" },
	{ "IMPORTED", 1, NULL },
};

void workspace_init(struct workspace *ws, struct rconn *rc, long long project,
		    const struct ws_limits *limits)
{
	memset(ws, 0, sizeof(*ws));
	ws->rc = rc;
	ws->project = project;
	if (limits) {
		ws->limits = *limits;
	} else {
		ws->limits.max_file = WS_DEFAULT_MAX_FILE;
		ws->limits.max_project = WS_DEFAULT_MAX_PROJECT;
		ws->limits.max_entries = WS_DEFAULT_MAX_ENTRIES;
	}
	/* Project ids are bounded integers, so these always fit in KV_KEY_MAX. */
	BUG_ON(kv_ws_tree(ws->k_tree, sizeof(ws->k_tree), project) ||
	       kv_ws_meta(ws->k_meta, sizeof(ws->k_meta), project) ||
	       kv_ws_info(ws->k_info, sizeof(ws->k_info), project) ||
	       kv_ws_content_prefix(ws->k_content, sizeof(ws->k_content), project) ||
	       kv_ws_cursor_prefix(ws->k_cursor, sizeof(ws->k_cursor), project));
}

bool workspace_is_binary(const void *data, size_t len)
{
	return memchr(data, '\0', len) != NULL || !utf8_valid(data, len);
}

static int load_script(struct workspace *ws, enum script s, char *sha)
{
	const char *argv[3] = { "SCRIPT", "LOAD", scripts[s] };
	size_t lens[3] = { 6, 4, strlen(scripts[s]) };
	redisReply *r = NULL;
	int rc = rconn_cmd(ws->rc, &r, 3, argv, lens);

	if (rc)
		return rc;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		rconn_reply_free(r);
		return COHORT_E_REDIS;
	}
	pthread_mutex_lock(&sha_lock);
	memcpy(shas[s], r->str, 40);
	shas[s][40] = '\0';
	memcpy(sha, shas[s], 41);
	pthread_mutex_unlock(&sha_lock);
	rconn_reply_free(r);
	return 0;
}

/* Runs script s with the project's keys and extra arguments; on success
 * *reply is an array whose first element is "OK". */
static int run(struct workspace *ws, enum script s, int nextra, const char **extra,
	       const size_t *extra_lens, redisReply **reply)
{
	const char **argv = malloc(((size_t)nextra + 8) * sizeof(*argv));
	size_t *lens = malloc(((size_t)nextra + 8) * sizeof(*lens));
	char sha[41];
	int argc = 0, rc;
	redisReply *r = NULL;

	*reply = NULL;
	ws->reason = NULL;
	if (!argv || !lens) {
		rc = COHORT_E_NOMEM;
		goto out;
	}
	pthread_mutex_lock(&sha_lock);
	memcpy(sha, shas[s], sizeof(sha));
	pthread_mutex_unlock(&sha_lock);
	if (!sha[0] && (rc = load_script(ws, s, sha)))
		goto out;
	argv[argc++] = "EVALSHA";
	argv[argc++] = sha;
	argv[argc++] = "3";
	argv[argc++] = ws->k_tree;
	argv[argc++] = ws->k_meta;
	argv[argc++] = ws->k_info;
	argv[argc++] = ws->k_content;
	argv[argc++] = ws->k_cursor;
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	for (int i = 0; i < nextra; i++) {
		argv[argc] = extra[i];
		lens[argc++] = extra_lens ? extra_lens[i] : strlen(extra[i]);
	}
	rc = rconn_cmd(ws->rc, &r, argc, argv, lens);
	if (rc == COHORT_E_REDIS && !strncmp(rconn_last_error(ws->rc), "NOSCRIPT", 8)) {
		/* Redis lost its script cache (restart, SCRIPT FLUSH): load and retry once. */
		if ((rc = load_script(ws, s, sha)))
			goto out;
		rc = rconn_cmd(ws->rc, &r, argc, argv, lens);
	}
	if (rc)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		rc = COHORT_E_REDIS;
		goto out;
	}
	if (strcmp(r->element[0]->str, "OK")) {
		const char *w = r->element[0]->str;

		rc = COHORT_E_INTERNAL;
		for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
			if (!strcmp(w, statuses[i].word)) {
				rc = statuses[i].err;
				ws->reason = statuses[i].reason;
			}
		}
		if (rc == COHORT_E_LIMIT && r->elements > 1 && r->element[1]->type == REDIS_REPLY_STRING) {
			const char *which = r->element[1]->str;

			ws->reason = !strcmp(which, "file")      ? "the file is larger than the per-file limit"
				     : !strcmp(which, "project") ? "the project would exceed its size limit"
								 : "the project would exceed its file count limit";
		}
		goto out;
	}
	*reply = r;
	r = NULL;
out:
	rconn_reply_free(r);
	free(argv);
	free(lens);
	return rc;
}

static long long int_at(const redisReply *r, size_t i)
{
	return i < r->elements && r->element[i]->type == REDIS_REPLY_INTEGER ? r->element[i]->integer
									    : 0;
}

static int check_path(struct workspace *ws, const char *p)
{
	if (!path_is_canonical(p)) {
		ws->reason = "path is not canonical";
		return COHORT_E_FIELD;
	}
	return 0;
}

static int check_ctype(struct workspace *ws, const char *ct)
{
	size_t n = strlen(ct);

	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)ct[i] < 0x20 || (unsigned char)ct[i] > 0x7e) {
			ws->reason = "content type must be printable ASCII";
			return COHORT_E_FIELD;
		}
	}
	if (n > WS_CTYPE_MAX) {
		ws->reason = "content type is too long";
		return COHORT_E_FIELD;
	}
	return 0;
}

/* Writes the ancestors of p ("a", "a/b" for "a/b/c") into anc[] as pointers
 * into buf (a copy of p cut at each '/'). Returns the count. */
static int ancestors(const char *p, char buf[][PATH_BUF], const char **anc, size_t *lens)
{
	int n = 0;

	for (const char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		size_t l = (size_t)(s - p);

		memcpy(buf[n], p, l);
		buf[n][l] = '\0';
		anc[n] = buf[n];
		lens[n++] = l;
	}
	return n;
}

/* Parses a meta value into st. */
static int parse_meta(const char *v, size_t len, struct ws_stat *st)
{
	unsigned long long fid, size;
	long long ver;
	int bin, off = 0;

	memset(st, 0, sizeof(*st));
	if (len == 1 && v[0] == 'd') {
		st->kind = WS_DIR;
		return 0;
	}
	if (sscanf(v, "f %llu %llu %lld %d %n", &fid, &size, &ver, &bin, &off) != 4 || !off)
		return COHORT_E_REDIS;
	st->kind = WS_FILE;
	st->size = size;
	st->version = ver;
	st->binary = bin == 1;
	snprintf(st->ctype, sizeof(st->ctype), "%s", v + off);
	return 0;
}

static const char *u64s(char *buf, uint64_t v)
{
	snprintf(buf, 24, "%llu", (unsigned long long)v);
	return buf;
}

int workspace_create(struct workspace *ws, const char *path, enum ws_kind kind, const void *data,
		     size_t len, const char *ctype, unsigned flags, struct ws_stat *st)
{
	char abuf[PATH_MAX_DEPTH][PATH_BUF];
	char mf[24], mp[24], me[24];
	const char *argv[9 + PATH_MAX_DEPTH];
	size_t lens[9 + PATH_MAX_DEPTH];
	bool bin = false;
	redisReply *r;
	int rc, n;

	if ((rc = check_path(ws, path)))
		return rc;
	if (!ctype)
		ctype = "";
	if ((rc = check_ctype(ws, ctype)))
		return rc;
	if (kind == WS_DIR || !data) {
		if (kind == WS_FILE && len) {
			ws->reason = "file content is missing";
			return COHORT_E_FIELD;
		}
		data = "";
		len = 0;
	}
	if (kind == WS_DIR)
		ctype = "";
	else
		bin = workspace_is_binary(data, len);
	argv[0] = path;
	argv[1] = kind == WS_DIR ? "d" : "f";
	argv[2] = data;
	lens[2] = len;
	argv[3] = bin ? "1" : "0";
	argv[4] = ctype;
	argv[5] = u64s(mf, ws->limits.max_file);
	argv[6] = u64s(mp, ws->limits.max_project);
	argv[7] = u64s(me, ws->limits.max_entries);
	argv[8] = flags & WS_PARENTS ? "1" : "0";
	for (int i = 0; i < 9; i++)
		if (i != 2)
			lens[i] = strlen(argv[i]);
	n = ancestors(path, abuf, argv + 9, lens + 9);
	if ((rc = run(ws, S_CREATE, 9 + n, argv, lens, &r)))
		return rc;
	if (st) {
		memset(st, 0, sizeof(*st));
		st->kind = kind;
		st->size = len;
		st->version = int_at(r, 1);
		st->binary = bin;
		snprintf(st->ctype, sizeof(st->ctype), "%s", ctype);
	}
	rconn_reply_free(r);
	return 0;
}

static int read_common(struct workspace *ws, const char *path, struct strbuf *content,
		       struct ws_stat *st)
{
	const char *argv[2] = { path, content ? "1" : "0" };
	redisReply *r;
	int rc;

	if ((rc = check_path(ws, path)))
		return rc;
	if ((rc = run(ws, S_READ, 2, argv, NULL, &r)))
		return rc;
	rc = COHORT_E_REDIS;
	if (r->elements < 2 || r->element[1]->type != REDIS_REPLY_STRING)
		goto out;
	if ((rc = parse_meta(r->element[1]->str, r->element[1]->len, st)))
		goto out;
	if (content) {
		if (r->elements < 3 || r->element[2]->type != REDIS_REPLY_STRING) {
			rc = COHORT_E_REDIS;
			goto out;
		}
		rc = strbuf_add(content, r->element[2]->str, r->element[2]->len);
		if (rc == COHORT_E_LIMIT)
			ws->reason = "the file is larger than the buffer allowed";
	}
out:
	rconn_reply_free(r);
	return rc;
}

int workspace_read(struct workspace *ws, const char *path, struct strbuf *content,
		   struct ws_stat *st)
{
	return read_common(ws, path, content, st);
}

int workspace_stat(struct workspace *ws, const char *path, struct ws_stat *st)
{
	return read_common(ws, path, NULL, st);
}

int workspace_replace(struct workspace *ws, const char *path, const void *data, size_t len,
		      const char *ctype, long long expected, long long *version)
{
	char ev[24], mf[24], mp[24];
	const char *argv[7];
	size_t lens[7];
	redisReply *r;
	int rc;

	if ((rc = check_path(ws, path)))
		return rc;
	if (ctype && (rc = check_ctype(ws, ctype)))
		return rc;
	if (!data) {
		if (len) {
			ws->reason = "file content is missing";
			return COHORT_E_FIELD;
		}
		data = "";
	}
	if (expected < 0)
		expected = -1;
	snprintf(ev, sizeof(ev), "%lld", expected);
	argv[0] = path;
	argv[1] = data;
	argv[2] = workspace_is_binary(data, len) ? "1" : "0";
	argv[3] = ctype ? ctype : "";
	argv[4] = ev;
	argv[5] = u64s(mf, ws->limits.max_file);
	argv[6] = u64s(mp, ws->limits.max_project);
	for (int i = 0; i < 7; i++)
		lens[i] = i == 1 ? len : strlen(argv[i]);
	if ((rc = run(ws, S_REPLACE, 7, argv, lens, &r)))
		return rc;
	if (version)
		*version = int_at(r, 1);
	rconn_reply_free(r);
	return 0;
}

int workspace_rename(struct workspace *ws, const char *from, const char *to, unsigned flags,
		     size_t *moved)
{
	char abuf[PATH_MAX_DEPTH][PATH_BUF];
	const char *argv[3 + PATH_MAX_DEPTH];
	size_t lens[3 + PATH_MAX_DEPTH];
	redisReply *r;
	int rc, n;

	if ((rc = check_path(ws, from)) || (rc = check_path(ws, to)))
		return rc;
	if (!strcmp(from, to) || path_is_inside(to, from)) {
		ws->reason = "a directory cannot be moved onto or into itself";
		return COHORT_E_FIELD;
	}
	argv[0] = from;
	argv[1] = to;
	argv[2] = flags & WS_REPLACE ? "1" : "0";
	for (int i = 0; i < 3; i++)
		lens[i] = strlen(argv[i]);
	n = ancestors(to, abuf, argv + 3, lens + 3);
	if ((rc = run(ws, S_RENAME, 3 + n, argv, lens, &r)))
		return rc;
	if (moved)
		*moved = (size_t)int_at(r, 1);
	rconn_reply_free(r);
	return 0;
}

int workspace_delete(struct workspace *ws, const char *path, size_t *removed)
{
	const char *argv[1] = { path };
	redisReply *r;
	int rc;

	if ((rc = check_path(ws, path)))
		return rc;
	if ((rc = run(ws, S_DELETE, 1, argv, NULL, &r)))
		return rc;
	if (removed)
		*removed = (size_t)int_at(r, 1);
	rconn_reply_free(r);
	return 0;
}

void ws_list_release(struct ws_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int workspace_list(struct workspace *ws, const char *dir, bool recursive, struct ws_list *out)
{
	const char *argv[2] = { dir, recursive ? "1" : "0" };
	redisReply *r;
	size_t n;
	int rc;

	out->v = NULL;
	out->n = 0;
	if (dir[0] && (rc = check_path(ws, dir)))
		return rc;
	if ((rc = run(ws, S_LIST, 2, argv, NULL, &r)))
		return rc;
	n = (r->elements - 1) / 2;
	if (n && !(out->v = calloc(n, sizeof(*out->v)))) {
		rc = COHORT_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const redisReply *p = r->element[1 + 2 * i], *m = r->element[2 + 2 * i];

		if (p->type != REDIS_REPLY_STRING || m->type != REDIS_REPLY_STRING) {
			rc = COHORT_E_REDIS;
			goto out;
		}
		if (!(out->v[i].path = strdup(p->str))) {
			rc = COHORT_E_NOMEM;
			goto out;
		}
		out->n = i + 1;
		if ((rc = parse_meta(m->str, m->len, &out->v[i].st)))
			goto out;
	}
out:
	if (rc)
		ws_list_release(out);
	rconn_reply_free(r);
	return rc;
}

int workspace_totals(struct workspace *ws, uint64_t *bytes, uint64_t *entries)
{
	const char *argv[4] = { "HMGET", ws->k_info, "bytes", "entries" };
	redisReply *r = NULL;
	uint64_t *outs[2] = { bytes, entries };
	int rc;

	if ((rc = rconn_cmd(ws->rc, &r, 4, argv, NULL)))
		return rc;
	rc = r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? 0 : COHORT_E_REDIS;
	for (size_t i = 0; !rc && i < 2; i++) {
		const redisReply *e = r->element[i];
		unsigned long long v = 0;

		if (e->type == REDIS_REPLY_STRING && sscanf(e->str, "%llu", &v) != 1)
			rc = COHORT_E_REDIS;
		*outs[i] = v;
	}
	rconn_reply_free(r);
	return rc;
}

static int cursor_run(struct workspace *ws, const char *path, long long user, const char *cursor,
		      redisReply **r)
{
	char u[24];
	const char *argv[3] = { path, u, cursor };
	int rc;

	if ((rc = check_path(ws, path)))
		return rc;
	snprintf(u, sizeof(u), "%lld", user);
	return run(ws, S_CURSOR, 3, argv, NULL, r);
}

int workspace_cursor_set(struct workspace *ws, const char *path, long long user,
			 const char *cursor)
{
	redisReply *r;
	size_t n = strlen(cursor);
	int rc;

	if (n == 0 || n > WS_CURSOR_MAX || !utf8_valid(cursor, n)) {
		ws->reason = "cursor must be 1 to 255 bytes of UTF-8";
		return COHORT_E_FIELD;
	}
	if ((rc = cursor_run(ws, path, user, cursor, &r)))
		return rc;
	rconn_reply_free(r);
	return 0;
}

int workspace_cursor_get(struct workspace *ws, const char *path, long long user, char *buf,
			 size_t len)
{
	redisReply *r;
	int rc;

	if ((rc = cursor_run(ws, path, user, "", &r)))
		return rc;
	rc = r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING ? 0 : COHORT_E_REDIS;
	if (!rc && r->element[1]->len >= len)
		rc = COHORT_E_LIMIT;
	if (!rc)
		memcpy(buf, r->element[1]->str, r->element[1]->len + 1);
	rconn_reply_free(r);
	return rc;
}

int workspace_import(struct workspace *ws, const struct ws_item *items, size_t n, const char *tag,
		     size_t *imported)
{
	char mf[24], mp[24], me[24];
	const char **argv = NULL;
	size_t *lens = NULL, tl = tag ? strlen(tag) : 0;
	redisReply *r = NULL;
	int rc;

	if (imported)
		*imported = 0;
	if (!tag || tl == 0 || tl > 255 || !utf8_valid(tag, tl)) {
		ws->reason = "import tag must be 1 to 255 bytes of UTF-8";
		return COHORT_E_FIELD;
	}
	if (n > ws->limits.max_entries) {
		ws->reason = "the project would exceed its file count limit";
		return COHORT_E_LIMIT;
	}
	argv = malloc((4 + 4 * n) * sizeof(*argv));
	lens = malloc((4 + 4 * n) * sizeof(*lens));
	if (!argv || !lens) {
		rc = COHORT_E_NOMEM;
		goto out;
	}
	argv[0] = tag;
	argv[1] = u64s(mf, ws->limits.max_file);
	argv[2] = u64s(mp, ws->limits.max_project);
	argv[3] = u64s(me, ws->limits.max_entries);
	for (int i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	for (size_t i = 0; i < n; i++) {
		const struct ws_item *it = &items[i];
		bool dir = it->kind == WS_DIR;

		if ((rc = check_path(ws, it->path)))
			goto out;
		argv[4 + 4 * i] = it->path;
		lens[4 + 4 * i] = strlen(it->path);
		argv[5 + 4 * i] = dir ? "d" : "f";
		lens[5 + 4 * i] = 1;
		argv[6 + 4 * i] = dir || !it->data ? "" : it->data;
		lens[6 + 4 * i] = dir ? 0 : it->len;
		argv[7 + 4 * i] = !dir && workspace_is_binary(argv[6 + 4 * i], lens[6 + 4 * i]) ? "1" : "0";
		lens[7 + 4 * i] = 1;
	}
	rc = run(ws, S_IMPORT, (int)(4 + 4 * n), argv, lens, &r);
	if (rc == 1) {
		rc = 0; /* imported before (maybe by a concurrent request): nothing to do */
		goto out;
	}
	if (!rc && imported)
		*imported = (size_t)int_at(r, 1);
out:
	rconn_reply_free(r);
	free(argv);
	free(lens);
	return rc;
}
