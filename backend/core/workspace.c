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
#include "core/changeset.h"
#include "core/err.h"
#include "core/eol.h"
#include "core/event.h"
#include "core/num.h"
#include "core/clock.h"
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
	"local function bump()\n"                                                         \
	"  local t = redis.call('TIME')\n"                                               \
	"  local n = redis.call('HINCRBY', info, 'tgen_n', 1)\n"                         \
	"  redis.call('HSET', info, 'tgen', t[1] .. '.' .. t[2] .. '.' .. n)\n"                 \
	"end\n"                                                                           \
	"local function dkey(fid) return cpre .. fid .. '" KV_WS_DOC_SUFFIX "' end\n"      \
	"local function lkey(fid) return cpre .. fid .. '" KV_WS_LOG_SUFFIX "' end\n"      \
	"local function u16len(s)\n"                                                      \
	"  local _, c = string.gsub(s, '[\\128-\\191]', '')\n"                            \
	"  local _, q = string.gsub(s, '[\\240-\\247]', '')\n"                            \
	"  return string.len(s) - c + q\n"                                                \
	"end\n"                                                                           \
	"local function drop_file(p, v)\n"                                                \
	"  local _, fid, size = parse(v)\n"                                               \
	"  redis.call('DEL', cpre .. fid, kpre .. fid, dkey(fid), lkey(fid))\n"           \
	"  return size\n"                                                                 \
	"end\n"                                                                           \
	"local function trim(fid, ver, base, logmax)\n"                                   \
	"  local lk = lkey(fid)\n"                                                        \
	"  local n = redis.call('LLEN', lk)\n"                                            \
	"  if n <= logmax then return end\n"                                              \
	"  local first, drop = ver - n + 1, n - logmax\n"                                 \
	"  if first + drop - 1 > base then drop = base - first + 1 end\n"                 \
	"  if drop > 0 then redis.call('LTRIM', lk, drop, -1) end\n"                      \
	"end\n"                                                                           \
	"local function docstate(fid, ver, content)\n"                                    \
	"  local d = redis.call('HMGET', dkey(fid), 'base', 'len', 'eol')\n"              \
	"  if not d[1] then\n"                                                            \
	"    d = {tostring(ver), tostring(u16len(content or redis.call('GET', cpre .. fid) or '')), 'lf'}\n" \
	"    redis.call('DEL', lkey(fid))\n"                                              \
	"    redis.call('HSET', dkey(fid), 'base', d[1], 'len', d[2], 'eol', d[3])\n"     \
	"  end\n"                                                                         \
	"  return tonumber(d[1]), d[2], d[3]\n"                                           \
	"end\n"

/* ARGV[3] path, [4] kind f|d, [5] content, [6] bin, [7] ctype, [8] max_file,
 * [9] max_project, [10] max_entries, [11] parents 1|0, [12] eol, [13] UTF-16
 * length, [14..] ancestors, top first. */
static const char lua_create[] = LUA_PRELUDE
	"local path, kind = ARGV[3], ARGV[4]\n"
	"if redis.call('HEXISTS', meta, path) == 1 then return {'EXISTS'} end\n"
	"local missing = {}\n"
	"for i = 14, #ARGV do\n"
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
	"  if ARGV[6] == '0' then\n"
	"    redis.call('HSET', dkey(fid), 'base', 1, 'len', ARGV[13], 'eol', ARGV[12])\n"
	"  end\n"
	"end\n"
	"redis.call('HINCRBY', info, 'bytes', size)\n"
	"redis.call('HINCRBY', info, 'entries', 1 + #missing)\n"
	"bump()\n"
	"return {'OK', ver, #missing}\n";

/* ARGV[3] path, [4] with content 1|0. A text file with live edits answers
 * its snapshot, the snapshot's version and eol, then the updates after it. */
static const char lua_read[] = LUA_PRELUDE
	"local v = redis.call('HGET', meta, ARGV[3])\n"
	"if not v then return {'NOTFOUND'} end\n"
	"if ARGV[4] == '1' and v == 'd' then return {'ISDIR'} end\n"
	"if ARGV[4] ~= '1' or v == 'd' then return {'OK', v} end\n"
	"local _, fid, _, ver, bin = parse(v)\n"
	"local content = redis.call('GET', cpre .. fid) or ''\n"
	"if bin == '1' then return {'OK', v, content} end\n"
	"local base, _, eol = docstate(fid, ver, content)\n"
	"local out = {'OK', v, content, eol}\n"
	"if ver > base then\n"
	"  local lk = lkey(fid)\n"
	"  local n = redis.call('LLEN', lk)\n"
	"  local idx = base + 1 - (ver - n + 1)\n"
	"  if idx < 0 then return {'CORRUPT'} end\n"
	"  for _, e in ipairs(redis.call('LRANGE', lk, idx, -1)) do out[#out + 1] = e end\n"
	"end\n"
	"return out\n";

/* ARGV[3] path, [4] content, [5] bin, [6] ctype or '' to keep, [7] expected
 * version (-1 any), [8] max_file, [9] max_project, [10] UTF-16 length, [11]
 * eol, [12] log entry or '' (then the log restarts), [13] events key, [14]
 * events maxlen, [15] envelope or '', [16] log max. */
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
	"if ARGV[5] == '0' then\n"
	"  redis.call('HSET', dkey(fid), 'base', ver + 1, 'len', ARGV[10], 'eol', ARGV[11])\n"
	"  if ARGV[12] ~= '' then\n"
	"    redis.call('RPUSH', lkey(fid), ARGV[12])\n"
	"    trim(fid, ver + 1, ver + 1, tonumber(ARGV[16]))\n"
	"  else\n"
	"    redis.call('DEL', lkey(fid))\n"
	"  end\n"
	"  if ARGV[15] ~= '' then\n"
	"    redis.call('XADD', ARGV[13], 'MAXLEN', '~', ARGV[14], '*', '" EVENT_FIELD "', ARGV[15])\n"
	"  end\n"
	"else\n"
	"  redis.call('DEL', dkey(fid), lkey(fid))\n"
	"end\n"
	"bump()\n"
	"return {'OK', ver + 1}\n";

/* Live editing (core/collab.h). ARGV[3] path, [4] from (-1: none), [5]
 * snapshot 1|0, [6] events key or '' (then no last id). Answers OK, fid,
 * version, base, len, eol, size, snapshot or '', last event id or '', first
 * version listed, then the log entries from there on. */
static const char lua_doc_sync[] = LUA_PRELUDE
	"local v = redis.call('HGET', meta, ARGV[3])\n"
	"if not v then return {'NOTFOUND'} end\n"
	"if v == 'd' then return {'ISDIR'} end\n"
	"local _, fid, size, ver, bin = parse(v)\n"
	"if bin == '1' then return {'BINARY'} end\n"
	"local base, len, eol = docstate(fid, ver)\n"
	"local from = tonumber(ARGV[4])\n"
	"local snap = ''\n"
	"if ARGV[5] == '1' then\n"
	"  snap = redis.call('GET', cpre .. fid) or ''\n"
	"  if from < 0 or from > base then from = base end\n"
	"end\n"
	"local last = ''\n"
	"if ARGV[6] ~= '' then\n"
	"  local x = redis.call('XREVRANGE', ARGV[6], '+', '-', 'COUNT', 1)\n"
	"  if x[1] then last = x[1][1] end\n"
	"end\n"
	"local lk = lkey(fid)\n"
	"local n = redis.call('LLEN', lk)\n"
	"local first = ver - n + 1\n"
	"if from < 0 or from > ver then from = ver end\n"
	"if from < first - 1 then return {'GONE', first - 1} end\n"
	"local out = {'OK', fid, ver, base, len, eol, size, snap, last, from + 1}\n"
	"if from < ver then\n"
	"  for _, e in ipairs(redis.call('LRANGE', lk, from + 1 - first, -1)) do out[#out + 1] = e end\n"
	"end\n"
	"return out\n";

/* ARGV[3] path, [4] fid, [5] expected version, [6] new size, [7] new UTF-16
 * length, [8] max_file, [9] max_project, [10] events key, [11] events maxlen,
 * [12] log max, [13] n, then n log entries and n envelopes, then the time
 * in ms (the project's last activity, active_at in the info hash). */
static const char lua_doc_commit[] = LUA_PRELUDE
	"local v = redis.call('HGET', meta, ARGV[3])\n"
	"if not v then return {'NOTFOUND'} end\n"
	"if v == 'd' then return {'ISDIR'} end\n"
	"local _, fid, old, ver, bin, ct = parse(v)\n"
	"if fid ~= ARGV[4] then return {'NOTFOUND'} end\n"
	"if bin == '1' then return {'BINARY'} end\n"
	"if ver ~= tonumber(ARGV[5]) then return {'STALE', ver} end\n"
	"local size, n = tonumber(ARGV[6]), tonumber(ARGV[13])\n"
	"if size > tonumber(ARGV[8]) then return {'LIMIT', 'file'} end\n"
	"if size > old and num('bytes') - old + size > tonumber(ARGV[9]) then return {'LIMIT', 'project'} end\n"
	"local base = docstate(fid, ver)\n"
	"for i = 1, n do redis.call('RPUSH', lkey(fid), ARGV[13 + i]) end\n"
	"redis.call('HSET', meta, ARGV[3], fmeta(fid, size, ver + n, bin, ct))\n"
	"redis.call('HINCRBY', info, 'bytes', size - old)\n"
	"redis.call('HSET', dkey(fid), 'len', ARGV[7])\n"
	"redis.call('HSET', info, 'active_at', ARGV[14 + 2 * n])\n"
	"trim(fid, ver + n, base, tonumber(ARGV[12]))\n"
	"for i = 1, n do\n"
	"  redis.call('XADD', ARGV[10], 'MAXLEN', '~', ARGV[11], '*', '" EVENT_FIELD "', ARGV[13 + n + i])\n"
	"end\n"
	"bump()\n"
	"return {'OK', ver + n}\n";

/* ARGV[3] path, [4] fid, [5] version, [6] text at that version. */
static const char lua_doc_fold[] = LUA_PRELUDE
	"local v = redis.call('HGET', meta, ARGV[3])\n"
	"if not v or v == 'd' then return {'OK', 0} end\n"
	"local _, fid, _, ver, bin = parse(v)\n"
	"local at = tonumber(ARGV[5])\n"
	"if fid ~= ARGV[4] or bin == '1' or at > ver then return {'OK', 0} end\n"
	"local base = docstate(fid, ver)\n"
	"if base >= at then return {'OK', 0} end\n"
	"redis.call('SET', cpre .. fid, ARGV[6])\n"
	"redis.call('HSET', dkey(fid), 'base', at)\n"
	"return {'OK', 1}\n";

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
	"bump()\n"
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
	"bump()\n"
	"return {'OK', n}\n";

/* ARGV[3] dir ('' root), [4] recursive 1|0, [5] the tree generation the
 * caller has a listing of, or ''. Answers SAME when the tree generation is
 * still ARGV[5], else OK, generation ('' when none), path, meta, path, meta...
 * The metadata comes from one HMGET per 256 entries, not one HGET per entry:
 * each redis.call costs several microseconds, which made a 2,000-file tree
 * listing twice as slow (docs/bench.md, list2000). */
static const char lua_list[] = LUA_PRELUDE
	"local gen = redis.call('HGET', info, 'tgen') or ''\n"
	"if gen ~= '' and gen == ARGV[5] then return {'SAME'} end\n"
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
	"local out, n = {'OK', gen}, 2\n"
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
 * 5 values: path, kind f|d, content, bin, eol. Items come parents first. */
static const char lua_import[] = LUA_PRELUDE
	"local done = redis.call('HGET', info, 'import')\n"
	"if done then return {'IMPORTED', done} end\n"
	"local new, bytes, n = {}, 0, 0\n"
	"for i = 7, #ARGV, 5 do\n"
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
	"for i = 7, #ARGV, 5 do\n"
	"  local p = ARGV[i]\n"
	"  redis.call('ZADD', tree, 0, p)\n"
	"  if ARGV[i + 1] == 'd' then\n"
	"    redis.call('HSET', meta, p, 'd')\n"
	"  else\n"
	"    local fid = tostring(redis.call('HINCRBY', info, 'next_id', 1))\n"
	"    redis.call('SET', cpre .. fid, ARGV[i + 2])\n"
	"    redis.call('HSET', meta, p, fmeta(fid, string.len(ARGV[i + 2]), 1, ARGV[i + 3], ''))\n"
	"    if ARGV[i + 3] == '0' then\n"
	"      redis.call('HSET', dkey(fid), 'base', 1, 'len', u16len(ARGV[i + 2]), 'eol', ARGV[i + 4])\n"
	"    end\n"
	"  end\n"
	"end\n"
	"redis.call('HINCRBY', info, 'bytes', bytes)\n"
	"redis.call('HINCRBY', info, 'entries', n)\n"
	"redis.call('HSET', info, 'import', ARGV[3])\n"
	"bump()\n"
	"return {'OK', n}\n";

enum script {
	S_IMPORT, S_CREATE, S_READ, S_REPLACE, S_RENAME, S_DELETE, S_LIST, S_CURSOR,
	S_DOC_SYNC, S_DOC_COMMIT, S_DOC_FOLD, S__N
};

static const char *const scripts[S__N] = {
	[S_CREATE] = lua_create, [S_READ] = lua_read,     [S_REPLACE] = lua_replace,
	[S_RENAME] = lua_rename, [S_DELETE] = lua_delete, [S_LIST] = lua_list,
	[S_CURSOR] = lua_cursor, [S_IMPORT] = lua_import, [S_DOC_SYNC] = lua_doc_sync,
	[S_DOC_COMMIT] = lua_doc_commit, [S_DOC_FOLD] = lua_doc_fold,
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
	{ "BINARY", COHORT_E_BINARY, "binary files cannot be edited live" },
	{ "GONE", COHORT_E_GONE, "this version is older than the retained history; reload the document" },
	{ "CORRUPT", COHORT_E_INTERNAL, "the file's edit history is inconsistent" },
	{ "IMPORTED", 1, NULL },
	{ "SAME", 1, NULL },
};

static void init_common(struct workspace *ws, struct rconn *rc, long long project,
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
	ws->events_maxlen = 10000;
	ws->log_max = 1000;
}

void workspace_init(struct workspace *ws, struct rconn *rc, long long project,
		    const struct ws_limits *limits)
{
	init_common(ws, rc, project, limits);
	/* Project ids are bounded integers, so these always fit in KV_KEY_MAX. */
	BUG_ON(kv_ws_tree(ws->k_tree, sizeof(ws->k_tree), project) ||
	       kv_ws_meta(ws->k_meta, sizeof(ws->k_meta), project) ||
	       kv_ws_info(ws->k_info, sizeof(ws->k_info), project) ||
	       kv_ws_content_prefix(ws->k_content, sizeof(ws->k_content), project) ||
	       kv_ws_cursor_prefix(ws->k_cursor, sizeof(ws->k_cursor), project) ||
	       kv_project_stream(ws->k_events, sizeof(ws->k_events), project));
	snprintf(ws->scope, sizeof(ws->scope), "project:%lld", project);
	snprintf(ws->project_id, sizeof(ws->project_id), "%lld", project);
}

int workspace_init_room(struct workspace *ws, struct rconn *rc, const char *room, const char *gen,
			const struct ws_limits *limits)
{
	int n;

	init_common(ws, rc, 0, limits);
	n = snprintf(ws->scope, sizeof(ws->scope), "room:%s", room);
	if (n < 0 || (size_t)n >= sizeof(ws->scope))
		return COHORT_E_LIMIT;
	if (kv_room_ws(ws->k_tree, sizeof(ws->k_tree), room, gen, KV_ROOM_WS_TREE) ||
	    kv_room_ws(ws->k_meta, sizeof(ws->k_meta), room, gen, KV_ROOM_WS_META) ||
	    kv_room_ws(ws->k_info, sizeof(ws->k_info), room, gen, KV_ROOM_WS_INFO) ||
	    kv_room_ws(ws->k_content, sizeof(ws->k_content), room, gen, KV_ROOM_WS_CONTENT) ||
	    kv_room_ws(ws->k_cursor, sizeof(ws->k_cursor), room, gen, KV_ROOM_WS_CURSOR) ||
	    kv_room_stream(ws->k_events, sizeof(ws->k_events), room))
		return COHORT_E_LIMIT;
	return 0;
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

static int call(struct workspace *ws, redisReply **r, int argc, const char **argv, const size_t *lens)
{
	ws->tracked = false;
	if (ws->track_redirect)
		return rconn_cmd_tracked(ws->rc, ws->track_redirect, &ws->tracked, r, argc, argv, lens);
	return rconn_cmd(ws->rc, r, argc, argv, lens);
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
	rc = call(ws, &r, argc, argv, lens);
	if (rc == COHORT_E_REDIS && !strncmp(rconn_last_error(ws->rc), "NOSCRIPT", 8)) {
		/* Redis lost its script cache (restart, SCRIPT FLUSH): load and retry once. */
		if ((rc = load_script(ws, s, sha)))
			goto out;
		rc = call(ws, &r, argc, argv, lens);
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

/* The decimal number after the spaces at v[*pos]; *pos moves past it. */
static int meta_number(const char *v, size_t len, size_t *pos, uint64_t *out)
{
	size_t i = *pos, j;

	while (i < len && v[i] == ' ')
		i++;
	for (j = i; j < len && v[j] >= '0' && v[j] <= '9'; j++)
		;
	if (j == i || (j < len && v[j] != ' ') || parse_u64n(v + i, j - i, out))
		return COHORT_E_REDIS;
	*pos = j;
	return 0;
}

/* Parses a meta value ("d", or fmeta's "f <fid> <size> <version> <binary>
 * <content type>") into st. By hand rather than with sscanf, which cost
 * several microseconds per entry: most of a 2,000-file listing's C time. */
static int parse_meta(const char *v, size_t len, struct ws_stat *st)
{
	uint64_t fid, size, ver, bin;
	size_t pos = 1, n;

	memset(st, 0, sizeof(*st));
	if (len == 1 && v[0] == 'd') {
		st->kind = WS_DIR;
		return 0;
	}
	if (len < 2 || v[0] != 'f' || v[1] != ' ' || meta_number(v, len, &pos, &fid) ||
	    meta_number(v, len, &pos, &size) || meta_number(v, len, &pos, &ver) ||
	    ver > INT64_MAX || meta_number(v, len, &pos, &bin) || bin > INT32_MAX)
		return COHORT_E_REDIS;
	(void)fid;
	while (pos < len && v[pos] == ' ')
		pos++;
	st->kind = WS_FILE;
	st->size = size;
	st->version = (long long)ver;
	st->binary = bin == 1;
	n = strnlen(v + pos, len - pos);
	if (n >= sizeof(st->ctype))
		n = sizeof(st->ctype) - 1;
	memcpy(st->ctype, v + pos, n);
	st->ctype[n] = '\0';
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
	char mf[24], mp[24], me[24], l16[24];
	const char *argv[11 + PATH_MAX_DEPTH];
	size_t lens[11 + PATH_MAX_DEPTH];
	struct strbuf norm = STRBUF_INIT;
	enum eol_style eol = EOL_LF;
	bool bin = false;
	redisReply *r = NULL;
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
	if (!bin && kind == WS_FILE && eol_needs_normalizing(data, len)) {
		strbuf_init(&norm, len + 1);
		if ((rc = eol_normalize(data, len, &norm, &eol)))
			goto out;
		data = norm.buf;
		len = norm.len;
	}
	snprintf(l16, sizeof(l16), "%lld", bin || kind == WS_DIR ? 0LL : (long long)cs_utf16_len(data, len));
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
	argv[9] = eol_name(eol);
	argv[10] = l16;
	for (int i = 0; i < 11; i++)
		if (i != 2)
			lens[i] = strlen(argv[i]);
	n = ancestors(path, abuf, argv + 11, lens + 11);
	if ((rc = run(ws, S_CREATE, 11 + n, argv, lens, &r)))
		goto out;
	if (st) {
		memset(st, 0, sizeof(*st));
		st->kind = kind;
		st->size = len;
		st->version = int_at(r, 1);
		st->binary = bin;
		st->crlf = eol == EOL_CRLF;
		snprintf(st->ctype, sizeof(st->ctype), "%s", ctype);
	}
out:
	rconn_reply_free(r);
	strbuf_release(&norm);
	return rc;
}

/* Applies log entries ("<client> <changes>") to text, in order. */
static int apply_entries(struct workspace *ws, const char *text, size_t len,
			 redisReply *const *entries, size_t n, struct strbuf *out)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	const char *cur = text;
	size_t curlen = len;
	int rc = 0;

	strbuf_init(&a, STRBUF_DEFAULT_MAX);
	strbuf_init(&b, STRBUF_DEFAULT_MAX);
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = entries[i];
		const char *sp = e->type == REDIS_REPLY_STRING ? memchr(e->str, ' ', e->len) : NULL;
		struct strbuf *dst = i % 2 ? &b : &a;
		struct changeset *cs = NULL;

		if (!sp) {
			rc = COHORT_E_REDIS;
			break;
		}
		strbuf_reset(dst);
		rc = cs_parse(sp + 1, e->len - (size_t)(sp + 1 - e->str), &cs, NULL, 0);
		if (!rc)
			rc = cs_apply(cs, cur, curlen, dst, NULL, 0);
		cs_free(cs);
		if (rc) {
			ws->reason = "the file's edit history is inconsistent";
			rc = COHORT_E_INTERNAL;
			break;
		}
		cur = dst->buf ? dst->buf : "";
		curlen = dst->len;
	}
	if (!rc)
		rc = strbuf_add(out, cur, curlen);
	strbuf_release(&a);
	strbuf_release(&b);
	return rc;
}

static int read_common(struct workspace *ws, const char *path, struct strbuf *content,
		       struct ws_stat *st)
{
	const char *argv[2] = { path, content ? "1" : "0" };
	struct strbuf text = STRBUF_INIT;
	redisReply *r;
	const char *body;
	size_t bodylen;
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
	if (!content)
		goto out;
	if (r->elements < 3 || r->element[2]->type != REDIS_REPLY_STRING) {
		rc = COHORT_E_REDIS;
		goto out;
	}
	body = r->element[2]->str;
	bodylen = r->element[2]->len;
	if (r->elements >= 4 && r->element[3]->type == REDIS_REPLY_STRING)
		st->crlf = eol_parse(r->element[3]->str, r->element[3]->len) == EOL_CRLF;
	if (r->elements > 4) {
		/* Live edits after the snapshot: replay them (the next edit folds them). */
		if ((rc = apply_entries(ws, body, bodylen, r->element + 4, r->elements - 4, &text)))
			goto out;
		body = text.buf ? text.buf : "";
		bodylen = text.len;
	}
	rc = st->crlf ? eol_to_crlf(body, bodylen, content) : strbuf_add(content, body, bodylen);
	if (rc == COHORT_E_LIMIT)
		ws->reason = "the file is larger than the buffer allowed";
out:
	rconn_reply_free(r);
	strbuf_release(&text);
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

int workspace_update_envelope(const struct workspace *ws, const char *path, long long version,
			      const char *client, const char *changes, size_t changes_len,
			      struct strbuf *out)
{
	struct strbuf data = STRBUF_INIT;
	struct event ev = {
		.type = "update",
		.project = ws->project_id[0] ? ws->project_id : NULL,
		.stream = ws->scope,
		.file = path,
		.version = version,
		.actor_user = ws->actor_user,
		.actor_client = client,
		.ts_recv = ws->ts_recv ? ws->ts_recv : clock_wall_us(),
		.ts_pub = clock_wall_us(),
	};
	int rc;

	strbuf_init(&data, STRBUF_DEFAULT_MAX);
	if ((rc = strbuf_adds(&data, "{\"clientID\":")) ||
	    (rc = strbuf_add_json_str(&data, client, strlen(client))) ||
	    (rc = strbuf_adds(&data, ",\"changes\":")) || (rc = strbuf_add(&data, changes, changes_len)) ||
	    (rc = strbuf_addch(&data, '}')))
		goto out;
	ev.data_json = data.buf;
	rc = event_encode_stored(out, &ev);
out:
	strbuf_release(&data);
	return rc;
}

/* The log entry and event of a whole-file write from a text of len16 units
 * to text, as version `version`. */
static int replace_update(struct workspace *ws, const char *path, long long version, int64_t len16,
			  const char *text, size_t len, struct strbuf *entry, struct strbuf *env)
{
	struct changeset *cs = NULL;
	int rc;

	strbuf_reset(entry);
	strbuf_reset(env);
	if ((rc = cs_replace_all(len16, text, len, &cs)))
		goto out;
	if ((rc = strbuf_adds(entry, WS_REST_CLIENT " ")) || (rc = cs_to_json(cs, entry)))
		goto out;
	rc = workspace_update_envelope(ws, path, version, WS_REST_CLIENT,
				       entry->buf + strlen(WS_REST_CLIENT) + 1,
				       entry->len - strlen(WS_REST_CLIENT) - 1, env);
out:
	cs_free(cs);
	return rc;
}

int workspace_replace(struct workspace *ws, const char *path, const void *data, size_t len,
		      const char *ctype, long long expected, long long *version)
{
	char ev[24], mf[24], mp[24], l16[24], maxlen[24], logmax[24], evkey[KV_KEY_MAX];
	const char *argv[14];
	size_t lens[14];
	struct strbuf norm = STRBUF_INIT, entry = STRBUF_INIT, env = STRBUF_INIT;
	enum eol_style eol = EOL_LF;
	redisReply *r = NULL;
	bool bin;
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
	strbuf_init(&norm, len + 1);
	strbuf_init(&entry, STRBUF_DEFAULT_MAX);
	strbuf_init(&env, STRBUF_DEFAULT_MAX);
	bin = workspace_is_binary(data, len);
	if (!bin && eol_needs_normalizing(data, len)) {
		if ((rc = eol_normalize(data, len, &norm, &eol)))
			goto out;
		data = norm.buf;
		len = norm.len;
	}
	memcpy(evkey, ws->k_events, sizeof(evkey));
	snprintf(l16, sizeof(l16), "%lld", bin ? 0LL : (long long)cs_utf16_len(data, len));
	snprintf(maxlen, sizeof(maxlen), "%lld", ws->events_maxlen);
	snprintf(logmax, sizeof(logmax), "%lld", ws->log_max);
	for (int attempt = 0; attempt < 8; attempt++) {
		long long exp = expected;

		strbuf_reset(&entry);
		strbuf_reset(&env);
		if (!bin) {
			/* A text-to-text write is one update of the file's live history:
			 * it needs the current length, and is then tied to that version. */
			struct ws_doc d;

			rc = workspace_doc_sync(ws, path, -1, false, false, &d);
			if (!rc) {
				if (expected >= 0 && d.version != expected) {
					ws->reason = "the file has changed since the version given";
					rc = COHORT_E_PRECONDITION;
				} else {
					exp = d.version;
					rc = replace_update(ws, path, d.version + 1, d.len16, data, len,
							    &entry, &env);
				}
			}
			ws_doc_release(&d);
			if (rc == COHORT_E_BINARY)
				rc = 0; /* binary before: the history starts over */
			if (rc)
				goto out;
		}
		snprintf(ev, sizeof(ev), "%lld", exp);
		argv[0] = path;
		argv[1] = data;
		argv[2] = bin ? "1" : "0";
		argv[3] = ctype ? ctype : "";
		argv[4] = ev;
		argv[5] = u64s(mf, ws->limits.max_file);
		argv[6] = u64s(mp, ws->limits.max_project);
		argv[7] = l16;
		argv[8] = eol_name(eol);
		argv[9] = entry.buf ? entry.buf : "";
		argv[10] = evkey;
		argv[11] = maxlen;
		argv[12] = env.buf ? env.buf : "";
		argv[13] = logmax;
		for (int i = 0; i < 14; i++)
			lens[i] = i == 1 ? len : i == 9 ? entry.len : i == 12 ? env.len : strlen(argv[i]);
		rc = run(ws, S_REPLACE, 14, argv, lens, &r);
		if (rc != COHORT_E_PRECONDITION || expected >= 0)
			break;
		/* Someone else wrote between our read and this write: once more. */
	}
	if (rc)
		goto out;
	if (version)
		*version = int_at(r, 1);
out:
	rconn_reply_free(r);
	strbuf_release(&norm);
	strbuf_release(&entry);
	strbuf_release(&env);
	return rc;
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

int workspace_list_since(struct workspace *ws, const char *dir, bool recursive, const char *known,
			 struct ws_list *out)
{
	const char *argv[3] = { dir, recursive ? "1" : "0", known ? known : "" };
	redisReply *r;
	size_t n;
	int rc;

	out->v = NULL;
	out->n = 0;
	out->gen[0] = '\0';
	if (dir[0] && (rc = check_path(ws, dir)))
		return rc;
	if ((rc = run(ws, S_LIST, 3, argv, NULL, &r)))
		return rc == 1 ? WS_UNCHANGED : rc;
	rc = COHORT_E_REDIS;
	if (r->elements < 2 || r->element[1]->type != REDIS_REPLY_STRING ||
	    r->element[1]->len >= sizeof(out->gen))
		goto out;
	memcpy(out->gen, r->element[1]->str, r->element[1]->len);
	out->gen[r->element[1]->len] = '\0';
	rc = 0;
	n = (r->elements - 2) / 2;
	if (n && !(out->v = calloc(n, sizeof(*out->v)))) {
		rc = COHORT_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const redisReply *p = r->element[2 + 2 * i], *m = r->element[3 + 2 * i];

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

int workspace_list(struct workspace *ws, const char *dir, bool recursive, struct ws_list *out)
{
	return workspace_list_since(ws, dir, recursive, NULL, out);
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
		ws->reason = "cursor must be 1 to 4096 bytes of UTF-8";
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
	struct strbuf *norm = NULL;
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
	argv = malloc((4 + 5 * n) * sizeof(*argv));
	lens = malloc((4 + 5 * n) * sizeof(*lens));
	norm = calloc(n ? n : 1, sizeof(*norm));
	if (!argv || !lens || !norm) {
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

		const char **a = argv + 4 + 5 * i;
		size_t *l = lens + 4 + 5 * i;
		enum eol_style eol = EOL_LF;
		bool bin;

		if ((rc = check_path(ws, it->path)))
			goto out;
		a[0] = it->path;
		l[0] = strlen(it->path);
		a[1] = dir ? "d" : "f";
		l[1] = 1;
		a[2] = dir || !it->data ? "" : it->data;
		l[2] = dir ? 0 : it->len;
		bin = !dir && workspace_is_binary(a[2], l[2]);
		if (!dir && !bin && eol_needs_normalizing(a[2], l[2])) {
			strbuf_init(&norm[i], l[2] + 1);
			if ((rc = eol_normalize(a[2], l[2], &norm[i], &eol)))
				goto out;
			a[2] = norm[i].buf;
			l[2] = norm[i].len;
		}
		a[3] = bin ? "1" : "0";
		l[3] = 1;
		a[4] = eol_name(eol);
		l[4] = strlen(a[4]);
	}
	rc = run(ws, S_IMPORT, (int)(4 + 5 * n), argv, lens, &r);
	if (rc == 1) {
		rc = 0; /* imported before (maybe by a concurrent request): nothing to do */
		goto out;
	}
	if (!rc && imported)
		*imported = (size_t)int_at(r, 1);
out:
	rconn_reply_free(r);
	for (size_t i = 0; norm && i < n; i++)
		strbuf_release(&norm[i]);
	free(norm);
	free(argv);
	free(lens);
	return rc;
}

void ws_doc_release(struct ws_doc *d)
{
	if (!d)
		return;
	rconn_reply_free(d->reply);
	free(d->entry);
	free(d->entry_len);
	memset(d, 0, sizeof(*d));
}

static long long str_ll(const redisReply *e)
{
	long long v = 0;

	if (e->type == REDIS_REPLY_INTEGER)
		return e->integer;
	if (e->type == REDIS_REPLY_STRING && sscanf(e->str, "%lld", &v) != 1)
		v = 0;
	return v;
}

int workspace_doc_sync(struct workspace *ws, const char *path, long long from, bool snapshot,
		       bool last_id, struct ws_doc *out)
{
	char f[24], evkey[KV_KEY_MAX] = "";
	const char *argv[4] = { path, f, snapshot ? "1" : "0", evkey };
	redisReply *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_path(ws, path)))
		return rc;
	if (last_id)
		memcpy(evkey, ws->k_events, sizeof(evkey));
	snprintf(f, sizeof(f), "%lld", from < 0 ? -1LL : from);
	if ((rc = run(ws, S_DOC_SYNC, 4, argv, NULL, &r)))
		return rc;
	if (r->elements < 10) {
		rc = COHORT_E_REDIS;
		goto out;
	}
	for (size_t i = 1; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING && r->element[i]->type != REDIS_REPLY_INTEGER) {
			rc = COHORT_E_REDIS;
			goto out;
		}
	}
	out->fid = str_ll(r->element[1]);
	out->version = str_ll(r->element[2]);
	out->base = str_ll(r->element[3]);
	out->len16 = str_ll(r->element[4]);
	out->crlf = r->element[5]->type == REDIS_REPLY_STRING &&
		    eol_parse(r->element[5]->str, r->element[5]->len) == EOL_CRLF;
	out->size = (uint64_t)str_ll(r->element[6]);
	if (snapshot && r->element[7]->type == REDIS_REPLY_STRING) {
		out->snapshot = r->element[7]->str;
		out->snapshot_len = r->element[7]->len;
	}
	if (r->element[8]->type == REDIS_REPLY_STRING)
		snprintf(out->last_id, sizeof(out->last_id), "%s", r->element[8]->str);
	out->first = str_ll(r->element[9]);
	out->n = r->elements - 10;
	if (out->n) {
		out->entry = calloc(out->n, sizeof(*out->entry));
		out->entry_len = calloc(out->n, sizeof(*out->entry_len));
		if (!out->entry || !out->entry_len) {
			rc = COHORT_E_NOMEM;
			goto out;
		}
		for (size_t i = 0; i < out->n; i++) {
			out->entry[i] = r->element[10 + i]->str;
			out->entry_len[i] = r->element[10 + i]->len;
		}
	}
	out->reply = r;
	r = NULL;
out:
	rconn_reply_free(r);
	if (rc)
		ws_doc_release(out);
	return rc;
}

int workspace_doc_commit(struct workspace *ws, const char *path, long long fid, long long expected,
			 uint64_t size, int64_t len16, size_t n, const char *const *entries,
			 const size_t *entry_lens, const char *const *envelopes,
			 const size_t *envelope_lens)
{
	char sfid[24], exp[24], ssize[24], slen[24], mf[24], mp[24], evkey[KV_KEY_MAX], maxlen[24],
		logmax[24], sn[24], now[24];
	const char **argv = malloc((12 + 2 * n) * sizeof(*argv));
	size_t *lens = malloc((12 + 2 * n) * sizeof(*lens));
	redisReply *r = NULL;
	int rc;

	if (!argv || !lens) {
		rc = COHORT_E_NOMEM;
		goto out;
	}
	if ((rc = check_path(ws, path)))
		goto out;
	memcpy(evkey, ws->k_events, sizeof(evkey));
	snprintf(sfid, sizeof(sfid), "%lld", fid);
	snprintf(exp, sizeof(exp), "%lld", expected);
	snprintf(slen, sizeof(slen), "%lld", (long long)len16);
	snprintf(maxlen, sizeof(maxlen), "%lld", ws->events_maxlen);
	snprintf(logmax, sizeof(logmax), "%lld", ws->log_max);
	snprintf(sn, sizeof(sn), "%zu", n);
	argv[0] = path;
	argv[1] = sfid;
	argv[2] = exp;
	argv[3] = u64s(ssize, size);
	argv[4] = slen;
	argv[5] = u64s(mf, ws->limits.max_file);
	argv[6] = u64s(mp, ws->limits.max_project);
	argv[7] = evkey;
	argv[8] = maxlen;
	argv[9] = logmax;
	argv[10] = sn;
	for (int i = 0; i < 11; i++)
		lens[i] = strlen(argv[i]);
	for (size_t i = 0; i < n; i++) {
		argv[11 + i] = entries[i];
		lens[11 + i] = entry_lens[i];
		argv[11 + n + i] = envelopes[i];
		lens[11 + n + i] = envelope_lens[i];
	}
	snprintf(now, sizeof(now), "%lld", (long long)(clock_wall_us() / 1000));
	argv[11 + 2 * n] = now;
	lens[11 + 2 * n] = strlen(now);
	rc = run(ws, S_DOC_COMMIT, (int)(12 + 2 * n), argv, lens, &r);
out:
	rconn_reply_free(r);
	free(argv);
	free(lens);
	return rc;
}

int workspace_touch_active(struct workspace *ws)
{
	char now[24];
	const char *argv[4] = { "HSET", ws->k_info, "active_at", now };
	size_t lens[4];
	redisReply *r = NULL;
	int rc;

	snprintf(now, sizeof(now), "%lld", (long long)(clock_wall_us() / 1000));
	for (int i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	rc = rconn_cmd(ws->rc, &r, 4, argv, lens);
	rconn_reply_free(r);
	return rc;
}

int workspace_doc_fold(struct workspace *ws, const char *path, long long fid, long long version,
		       const char *text, size_t len)
{
	char sfid[24], sv[24];
	const char *argv[4] = { path, sfid, sv, text };
	size_t lens[4];
	redisReply *r = NULL;
	int rc;

	if ((rc = check_path(ws, path)))
		return rc;
	snprintf(sfid, sizeof(sfid), "%lld", fid);
	snprintf(sv, sizeof(sv), "%lld", version);
	for (int i = 0; i < 3; i++)
		lens[i] = strlen(argv[i]);
	lens[3] = len;
	rc = run(ws, S_DOC_FOLD, 4, argv, lens, &r);
	rconn_reply_free(r);
	return rc;
}
