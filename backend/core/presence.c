/*
 * DESIGN: presence is four small Lua scripts over four keys that share the
 * lesson's hash tag with its event stream, so each state change and the
 * event it causes are one atomic step (and one Redis Cluster slot). Scripts
 * run with EVAL: the text is short, Redis caches it by its SHA, and both
 * callers (one of them asynchronous) stay free of a load-and-retry dance.
 *
 * Keys: 1 live connections (zset, score = expiry ms), 2 users online (hash
 * user -> {"login","name"}), 3 offline deadlines (hash user -> ms), 4 where
 * (hash user -> {client: {"project","file","at"}}), 5 the lesson's events.
 * ARGV: 1 now in ms, 2 now in us (the events' ts), 3 events.maxlen, 4 the
 * lesson's scope name, then the operation's own.
 *
 * Events are built here as text rather than with cjson.encode on a table:
 * cjson prints numbers with 14 significant digits, which would round the
 * microsecond timestamps.
 */
#include "core/presence.h"
#include "core/err.h"
#include "core/num.h"
#include "core/rconn.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PRELUDE                                                                                         \
	"local now = tonumber(ARGV[1])\n"                                                               \
	"local function jstr(s) if s == nil or s == '' then return 'null' end return cjson.encode(s) end\n" \
	"local function publish(user, info, state, client, project, file)\n"                          \
	"  local p = 'null'\n"                                                                          \
	"  if project and project ~= '' and project ~= '0' then p = project end\n"                    \
	"  local data = '{\"user\":' .. user .. ',\"login\":' .. jstr(info.login) .. ',\"name\":' .. "            \
	"jstr(info.name) .. ',\"state\":\"' .. state .. '\",\"client\":' .. jstr(client) .. "                \
	"',\"project\":' .. p .. ',\"file\":' .. jstr(file) .. '}'\n"                                   \
	"  local actor = '{\"user\":' .. jstr(info.login)\n"                                            \
	"  if client and client ~= '' then actor = actor .. ',\"client\":' .. cjson.encode(client) end\n" \
	"  local e = '{\"type\":\"presence\",\"stream\":' .. cjson.encode(ARGV[4]) .. "                 \
	"',\"project\":null,\"actor\":' .. actor .. '},\"ts\":{\"recv\":' .. ARGV[2] .. ',\"pub\":' .. " \
	"ARGV[2] .. '},\"data\":' .. data .. '}'\n"                                                     \
	"  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[3], '*', 'e', e)\n"                         \
	"end\n"                                                                                         \
	"local function owner(m) return string.match(m, '^([^|]*)|') end\n"                             \
	"local function mclient(m) return string.match(m, '|([^|]*)$') or '' end\n"                     \
	"local function live()\n"                                                                       \
	"  local users, sessions = {}, {}\n"                                                            \
	"  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"                               \
	"    local u = owner(m)\n"                                                                      \
	"    if u then users[u] = true sessions[u .. '|' .. mclient(m)] = true end\n"                   \
	"  end\n"                                                                                       \
	"  return users, sessions\n"                                                                    \
	"end\n"                                                                                         \
	"local function where_get(user)\n"                                                              \
	"  local v = redis.call('HGET', KEYS[4], user)\n"                                               \
	"  if v then return cjson.decode(v) end\n"                                                      \
	"  return {}\n"                                                                                 \
	"end\n"                                                                                         \
	"local function where_put(user, w)\n"                                                           \
	"  if next(w) == nil then redis.call('HDEL', KEYS[4], user)\n"                                  \
	"  else redis.call('HSET', KEYS[4], user, cjson.encode(w)) end\n"                               \
	"end\n"

/* ARGV 5 user, 6 member, 7 expiry ms, 8 login, 9 name, 10 client,
 * 11 project, 12 file, 13 "1" when 11/12 say where the session is. */
static const char lua_touch[] = PRELUDE
	"local user = ARGV[5]\n"
	"redis.call('ZADD', KEYS[1], ARGV[7], ARGV[6])\n"
	"redis.call('HDEL', KEYS[3], user)\n"
	"local moved = false\n"
	"if ARGV[13] == '1' and ARGV[10] ~= '' then\n"
	"  local w = where_get(user)\n"
	"  local old = w[ARGV[10]]\n"
	"  local p = tonumber(ARGV[11]) or 0\n"
	"  if not old or old.project ~= p or old.file ~= ARGV[12] then moved = true end\n"
	"  w[ARGV[10]] = {project = p, file = ARGV[12], at = now}\n"
	"  where_put(user, w)\n"
	"end\n"
	"local info = {login = ARGV[8], name = ARGV[9]}\n"
	"if redis.call('HEXISTS', KEYS[2], user) == 0 then\n"
	"  redis.call('HSET', KEYS[2], user, cjson.encode(info))\n"
	"  publish(user, info, 'online', ARGV[10], ARGV[11], ARGV[12])\n"
	"  return 1\n"
	"end\n"
	"if moved then publish(user, info, 'moved', ARGV[10], ARGV[11], ARGV[12]) return 2 end\n"
	"return 0\n";

/* ARGV 5 user, 6 member, 7 offline deadline ms. */
static const char lua_leave[] = PRELUDE
	"local user = ARGV[5]\n"
	"redis.call('ZREM', KEYS[1], ARGV[6])\n"
	"local c = mclient(ARGV[6])\n"
	"local users, sessions = live()\n"
	"if c ~= '' and not sessions[user .. '|' .. c] then\n"
	"  local w = where_get(user)\n"
	"  w[c] = nil\n"
	"  where_put(user, w)\n"
	"end\n"
	"if users[user] then return 1 end\n"
	"if redis.call('HEXISTS', KEYS[2], user) == 1 then redis.call('HSET', KEYS[3], user, ARGV[7]) end\n"
	"return 0\n";

static const char lua_sweep[] = PRELUDE
	"local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)\n"
	"if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end\n"
	"local users, sessions = live()\n"
	"for _, m in ipairs(expired) do\n"
	"  local u, c = owner(m), mclient(m)\n"
	"  if u and c ~= '' and users[u] and not sessions[u .. '|' .. c] then\n"
	"    local w = where_get(u)\n"
	"    w[c] = nil\n"
	"    where_put(u, w)\n"
	"  end\n"
	"end\n"
	"local n = 0\n"
	"local online = redis.call('HGETALL', KEYS[2])\n"
	"for i = 1, #online, 2 do\n"
	"  local u = online[i]\n"
	"  if not users[u] then\n"
	"    local dl = tonumber(redis.call('HGET', KEYS[3], u) or '0')\n"
	"    if dl <= now then\n"
	"      local info = cjson.decode(online[i + 1])\n"
	"      redis.call('HDEL', KEYS[2], u)\n"
	"      redis.call('HDEL', KEYS[3], u)\n"
	"      redis.call('HDEL', KEYS[4], u)\n"
	"      publish(u, info, 'offline', '', '', '')\n"
	"      n = n + 1\n"
	"    end\n"
	"  end\n"
	"end\n"
	"return n\n";

/* ARGV 5 user, 6 client, 7 project, 8 file. */
static const char lua_move[] = PRELUDE
	"local user, c = ARGV[5], ARGV[6]\n"
	"local v = redis.call('HGET', KEYS[2], user)\n"
	"if not v then return -2 end\n"
	"local users, sessions = live()\n"
	"if not sessions[user .. '|' .. c] then return -1 end\n"
	"local w = where_get(user)\n"
	"local old = w[c]\n"
	"local p = tonumber(ARGV[7]) or 0\n"
	"w[c] = {project = p, file = ARGV[8], at = now}\n"
	"where_put(user, w)\n"
	"if old and old.project == p and old.file == ARGV[8] then return 0 end\n"
	"publish(user, cjson.decode(v), 'moved', c, ARGV[7], ARGV[8])\n"
	"return 1\n";

static const char *const scripts[PRESENCE__N] = {
	[PRESENCE_TOUCH] = lua_touch,
	[PRESENCE_LEAVE] = lua_leave,
	[PRESENCE_SWEEP] = lua_sweep,
	[PRESENCE_MOVE] = lua_move,
};

bool presence_client_ok(const char *s, size_t len)
{
	if (len == 0 || len > PRESENCE_CLIENT_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

int presence_member(char *buf, size_t len, int64_t user_id, const char *instance, uint64_t conn_id,
		    const char *client)
{
	int n = snprintf(buf, len, "%" PRId64 "|%s|%" PRIu64 "|%s", user_id, instance, conn_id,
			 client ? client : "");

	return n < 0 || (size_t)n >= len ? COHORT_E_LIMIT : 0;
}

static void arg(struct presence_cmd *cmd, const char *s)
{
	if (!s)
		s = "";
	BUG_ON(cmd->argc >= PRESENCE_ARGC_MAX);
	cmd->argv[cmd->argc] = s;
	cmd->lens[cmd->argc] = strlen(s);
	cmd->argc++;
}

static const char *num(struct presence_cmd *cmd, int slot, long long v)
{
	snprintf(cmd->nums[slot], sizeof(cmd->nums[slot]), "%lld", v);
	return cmd->nums[slot];
}

int presence_cmd_build(struct presence_cmd *cmd, enum presence_op op, const struct presence_call *call)
{
	long long lesson = call->lesson_id;
	int err;

	memset(cmd, 0, sizeof(*cmd));
	err = kv_pres_conns(cmd->keys[0], KV_KEY_MAX, lesson);
	err = err ? err : kv_pres_users(cmd->keys[1], KV_KEY_MAX, lesson);
	err = err ? err : kv_pres_pending(cmd->keys[2], KV_KEY_MAX, lesson);
	err = err ? err : kv_pres_where(cmd->keys[3], KV_KEY_MAX, lesson);
	err = err ? err : kv_lesson_stream(cmd->keys[4], KV_KEY_MAX, lesson);
	if (err)
		return err;
	snprintf(cmd->scope, sizeof(cmd->scope), "lesson:%lld", lesson);
	arg(cmd, "EVAL");
	arg(cmd, scripts[op]);
	arg(cmd, "5");
	for (int i = 0; i < 5; i++)
		arg(cmd, cmd->keys[i]);
	arg(cmd, num(cmd, 0, (long long)(call->now_us / 1000)));
	arg(cmd, num(cmd, 1, (long long)call->now_us));
	arg(cmd, num(cmd, 2, call->maxlen > 0 ? call->maxlen : 10000));
	arg(cmd, cmd->scope);
	switch (op) {
	case PRESENCE_TOUCH:
		arg(cmd, num(cmd, 3, (long long)call->user_id));
		arg(cmd, call->member);
		arg(cmd, num(cmd, 4, (long long)(call->now_us / 1000 + call->ttl_ms)));
		arg(cmd, call->login);
		arg(cmd, call->name);
		arg(cmd, call->client);
		arg(cmd, num(cmd, 5, (long long)call->project));
		arg(cmd, call->file);
		arg(cmd, call->where ? "1" : "0");
		break;
	case PRESENCE_LEAVE:
		arg(cmd, num(cmd, 3, (long long)call->user_id));
		arg(cmd, call->member);
		arg(cmd, num(cmd, 4, (long long)(call->now_us / 1000 + call->grace_ms)));
		break;
	case PRESENCE_SWEEP:
		break;
	case PRESENCE_MOVE:
		arg(cmd, num(cmd, 3, (long long)call->user_id));
		arg(cmd, call->client);
		arg(cmd, num(cmd, 4, (long long)call->project));
		arg(cmd, call->file);
		break;
	case PRESENCE__N:
		BUG("presence op");
	}
	return 0;
}

int presence_run(struct rconn *rc, enum presence_op op, const struct presence_call *call, long long *result)
{
	struct presence_cmd cmd;
	struct redisReply *r = NULL;
	int err = presence_cmd_build(&cmd, op, call);

	if (!err)
		err = rconn_cmd(rc, &r, cmd.argc, cmd.argv, cmd.lens);
	if (!err && r->type != REDIS_REPLY_INTEGER)
		err = COHORT_E_REDIS;
	if (!err && result)
		*result = r->integer;
	rconn_reply_free(r);
	return err;
}

int presence_roster(struct rconn *rc, int64_t lesson_id, const struct presence_call *base,
		    int (*fn)(const struct presence_user *u, void *arg), void *arg)
{
	struct presence_call call = *base;
	struct redisReply *users = NULL, *where = NULL;
	char kusers[KV_KEY_MAX], kwhere[KV_KEY_MAX];
	int err;

	call.lesson_id = lesson_id;
	err = presence_run(rc, PRESENCE_SWEEP, &call, NULL);
	err = err ? err : kv_pres_users(kusers, sizeof(kusers), lesson_id);
	err = err ? err : kv_pres_where(kwhere, sizeof(kwhere), lesson_id);
	if (!err) {
		const char *argv[] = { "HKEYS", kusers };
		size_t lens[] = { 5, strlen(kusers) };

		err = rconn_cmd(rc, &users, 2, argv, lens);
	}
	if (!err) {
		const char *argv[] = { "HGETALL", kwhere };
		size_t lens[] = { 7, strlen(kwhere) };

		err = rconn_cmd(rc, &where, 2, argv, lens);
	}
	if (!err && (users->type != REDIS_REPLY_ARRAY || where->type != REDIS_REPLY_ARRAY))
		err = COHORT_E_REDIS;
	for (size_t i = 0; !err && i < users->elements; i++) {
		const redisReply *u = users->element[i];
		struct presence_user pu = { 0, "{}", 2 };
		uint64_t id = 0;

		if (u->type != REDIS_REPLY_STRING || parse_u64n(u->str, u->len, &id) || id == 0 || id > INT64_MAX)
			continue;
		pu.user_id = (int64_t)id;
		for (size_t j = 0; j + 1 < where->elements; j += 2)
			if (where->element[j]->type == REDIS_REPLY_STRING && !strcmp(where->element[j]->str, u->str) &&
			    where->element[j + 1]->type == REDIS_REPLY_STRING) {
				pu.where_json = where->element[j + 1]->str;
				pu.where_len = where->element[j + 1]->len;
			}
		err = fn(&pu, arg);
	}
	rconn_reply_free(users);
	rconn_reply_free(where);
	return err;
}
