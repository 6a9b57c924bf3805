#include "core/kv.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

static int fmt_result(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? COHORT_E_LIMIT : 0;
}

int kv_dev_stream(char *buf, size_t len, const char *name)
{
	return fmt_result(snprintf(buf, len, "{dev:%s}:events", name), len);
}

int kv_project_stream(char *buf, size_t len, long long project_id)
{
	return fmt_result(snprintf(buf, len, "{p:%lld}:events", project_id), len);
}

int kv_lesson_stream(char *buf, size_t len, long long lesson_id)
{
	return fmt_result(snprintf(buf, len, "{l:%lld}:events", lesson_id), len);
}

int kv_user_stream(char *buf, size_t len, long long user_id)
{
	return fmt_result(snprintf(buf, len, "{u:%lld}:events", user_id), len);
}

int kv_acl_stream(char *buf, size_t len)
{
	return fmt_result(snprintf(buf, len, "{sys}:acl"), len);
}

int kv_pres_conns(char *buf, size_t len, long long lesson_id)
{
	return fmt_result(snprintf(buf, len, "{l:%lld}:pres:conns", lesson_id), len);
}

int kv_pres_users(char *buf, size_t len, long long lesson_id)
{
	return fmt_result(snprintf(buf, len, "{l:%lld}:pres:users", lesson_id), len);
}

int kv_pres_pending(char *buf, size_t len, long long lesson_id)
{
	return fmt_result(snprintf(buf, len, "{l:%lld}:pres:pending", lesson_id), len);
}

int kv_pres_where(char *buf, size_t len, long long lesson_id)
{
	return fmt_result(snprintf(buf, len, "{l:%lld}:pres:where", lesson_id), len);
}

int kv_follows(char *buf, size_t len, long long lesson_id, long long user_id)
{
	return fmt_result(snprintf(buf, len, "{l:%lld}:follows:%lld", lesson_id, user_id), len);
}

int kv_login_failures(char *buf, size_t len, const char *login)
{
	return fmt_result(snprintf(buf, len, "auth:fail:login:%s", login), len);
}

int kv_addr_failures(char *buf, size_t len, const char *addr)
{
	return fmt_result(snprintf(buf, len, "auth:fail:addr:%s", addr), len);
}

int kv_revoked_token(char *buf, size_t len, const char *jti)
{
	return fmt_result(snprintf(buf, len, "auth:revoked:%s", jti), len);
}

bool kv_is_revoked_token(const char *key, size_t len)
{
	static const char prefix[] = "auth:revoked:";

	return len >= sizeof(prefix) - 1 && !memcmp(key, prefix, sizeof(prefix) - 1);
}

int64_t kv_project_of(const char *key, size_t len)
{
	int64_t id = 0;
	size_t i = 3;

	if (len < 5 || memcmp(key, "{p:", 3))
		return 0;
	while (i < len && key[i] >= '0' && key[i] <= '9' && id <= (INT64_MAX - 9) / 10)
		id = id * 10 + (key[i++] - '0');
	return i > 3 && i < len && key[i] == '}' ? id : 0;
}

int kv_ws_tree(char *buf, size_t len, long long project_id)
{
	return fmt_result(snprintf(buf, len, "{p:%lld}:tree", project_id), len);
}

int kv_ws_meta(char *buf, size_t len, long long project_id)
{
	return fmt_result(snprintf(buf, len, "{p:%lld}:meta", project_id), len);
}

int kv_ws_info(char *buf, size_t len, long long project_id)
{
	return fmt_result(snprintf(buf, len, "{p:%lld}:info", project_id), len);
}

int kv_ws_content_prefix(char *buf, size_t len, long long project_id)
{
	return fmt_result(snprintf(buf, len, "{p:%lld}:c:", project_id), len);
}

int kv_ws_cursor_prefix(char *buf, size_t len, long long project_id)
{
	return fmt_result(snprintf(buf, len, "{p:%lld}:cur:", project_id), len);
}

int kv_ws_content(char *buf, size_t len, long long project_id, long long file_id)
{
	return fmt_result(snprintf(buf, len, "{p:%lld}:c:%lld", project_id, file_id), len);
}

int kv_ws_cursors(char *buf, size_t len, long long project_id, long long file_id)
{
	return fmt_result(snprintf(buf, len, "{p:%lld}:cur:%lld", project_id, file_id), len);
}

int kv_room_state(char *buf, size_t len, const char *room)
{
	return fmt_result(snprintf(buf, len, "{r:%s}:room", room), len);
}

int kv_room_members(char *buf, size_t len, const char *room)
{
	return fmt_result(snprintf(buf, len, "{r:%s}:members", room), len);
}

int kv_room_seen(char *buf, size_t len, const char *room)
{
	return fmt_result(snprintf(buf, len, "{r:%s}:seen", room), len);
}

int kv_room_stream(char *buf, size_t len, const char *room)
{
	return fmt_result(snprintf(buf, len, "{r:%s}:events", room), len);
}

int kv_room_ws_base(char *buf, size_t len, const char *room)
{
	return fmt_result(snprintf(buf, len, "{r:%s}:g:", room), len);
}

int kv_room_ws(char *buf, size_t len, const char *room, const char *gen, const char *suffix)
{
	return fmt_result(snprintf(buf, len, "{r:%s}:g:%s%s", room, gen, suffix), len);
}

int kv_room_rate_create(char *buf, size_t len, const char *addr, long long window)
{
	return fmt_result(snprintf(buf, len, "rooms:rate:create:%s:%lld", addr, window), len);
}

int kv_room_rate_msgs(char *buf, size_t len, const char *addr, long long window)
{
	return fmt_result(snprintf(buf, len, "rooms:rate:msgs:%s:%lld", addr, window), len);
}
