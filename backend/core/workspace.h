/*
 * workspace.h — a project's files and directories in Redis (the layout is in
 * docs/data-model.md; every key name comes from core/kv.h).
 *
 * Model:
 *   - Entries are files (bytes, a version, a binary flag, a content type) and
 *     directories (real entries: an empty directory exists). The project root
 *     "" always exists and is never stored.
 *   - Invariant: the parent of every entry exists and is a directory. create
 *     refuses a missing parent (COHORT_E_NOTFOUND) unless WS_PARENTS is given,
 *     which creates the missing directories in the same atomic step (template
 *     import, uploads of whole trees); a parent that is a file is
 *     COHORT_E_CONFLICT.
 *   - A file's version is 1 after create and grows by one with each replace;
 *     rename keeps it (the content and cursors are keyed by a file id that a
 *     rename never changes).
 *   - Totals (content bytes, entry count = files + directories) are kept in
 *     the same atomic step as the change that moves them, so they never drift;
 *     limits are checked inside that step (COHORT_E_LIMIT, nothing changed).
 * Every multi-key change is one Lua script (EVALSHA, loaded on demand), so
 * Redis applies it whole or not at all and no reader sees half a rename.
 *
 * Paths must be canonical (core/path.h, strict); anything else is
 * COHORT_E_FIELD. On failure ws->reason points to a static sentence saying
 * why (for problem+json "detail"); it is NULL after success.
 *
 * A struct workspace is caller-owned (workspace_init, no release needed: it
 * holds no heap memory) and borrows the rconn; use it from one thread.
 */
#ifndef COHORT_WORKSPACE_H
#define COHORT_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kv.h"

struct rconn;
struct strbuf;

#define WS_DEFAULT_MAX_FILE ((uint64_t)8 << 20)      /* 8 MiB per file */
#define WS_DEFAULT_MAX_PROJECT ((uint64_t)512 << 20) /* 512 MiB per project */
#define WS_DEFAULT_MAX_ENTRIES 10000                 /* files + directories */
#define WS_CTYPE_MAX 127
#define WS_CURSOR_MAX 4096
#define WS_ANY_VERSION (-1LL)
#define WS_SCOPE_MAX 80
/* The client id of whole-file writes in the live-editing history. */
#define WS_REST_CLIENT "rest"

struct ws_limits {
	uint64_t max_file;    /* bytes of one file */
	uint64_t max_project; /* bytes of all files */
	uint64_t max_entries; /* files + directories */
};

enum ws_kind { WS_FILE, WS_DIR };

enum {
	WS_PARENTS = 1 << 0, /* create: make missing parent directories */
	WS_REPLACE = 1 << 1, /* rename: replace an existing target file */
};

struct ws_stat {
	enum ws_kind kind;
	uint64_t size;      /* 0 for directories */
	long long version;  /* 0 for directories */
	bool binary;        /* not valid UTF-8, or contains NUL */
	bool crlf;          /* text stored with "\n", served raw with "\r\n" (core/eol.h); set by reads */
	char ctype[WS_CTYPE_MAX + 1];
};

struct ws_entry {
	char *path;
	struct ws_stat st;
};

/* A tree generation: an opaque word every change to a workspace's tree or
 * metadata replaces with a new one ("" for a workspace that has not changed
 * since generations were introduced). */
#define WS_GEN_MAX 48

struct ws_list {
	struct ws_entry *v;
	size_t n;
	char gen[WS_GEN_MAX]; /* the generation this listing is of */
};

struct workspace {
	struct rconn *rc;
	long long project;
	struct ws_limits limits;
	const char *reason;
	/* For the "update" events whole-file writes publish (core/collab.h);
	 * the caller may set them after workspace_init. */
	const char *actor_user;   /* NULL: the system */
	int64_t ts_recv;          /* 0: now */
	long long events_maxlen;  /* MAXLEN ~ of the project's stream */
	long long log_max;        /* updates retained per file */
	/* Client-side caching (api/rcache.h): when track_redirect is set, reads
	 * ask Redis to track their keys for that invalidation connection, and
	 * tracked says whether the last read's keys are tracked. */
	long long track_redirect;
	bool tracked;
	char k_tree[KV_KEY_MAX], k_meta[KV_KEY_MAX], k_info[KV_KEY_MAX];
	char k_content[KV_KEY_MAX], k_cursor[KV_KEY_MAX];
	/* Where its events go: the stream key, the scope named in envelopes
	 * ("project:<id>", "room:<name>") and the envelope's "project" ("" for
	 * null). */
	char k_events[KV_KEY_MAX];
	char scope[WS_SCOPE_MAX];
	char project_id[24];
};

/* limits NULL means the WS_DEFAULT_* values. */
void workspace_init(struct workspace *ws, struct rconn *rc, long long project,
		    const struct ws_limits *limits);
/* The workspace of an anonymous room's document (core/room.h): room is a
 * valid room name, gen the room's generation; events go to the room's
 * stream with "project":null. ws->project is 0. COHORT_E_LIMIT when the
 * names do not fit (they do for valid names). */
int workspace_init_room(struct workspace *ws, struct rconn *rc, const char *room, const char *gen,
			const struct ws_limits *limits);

/* True when data must be treated as binary (invalid UTF-8 or a NUL byte). */
bool workspace_is_binary(const void *data, size_t len);

/* Creates a file (data/len, content type ctype or "" / NULL) or a directory
 * (data ignored). COHORT_E_EXISTS when path exists (file or directory). *st
 * (may be NULL) receives the new entry's state. */
int workspace_create(struct workspace *ws, const char *path, enum ws_kind kind, const void *data,
		     size_t len, const char *ctype, unsigned flags, struct ws_stat *st);

/* Appends the file's content to content (bounded by the strbuf's max: LIMIT)
 * and fills *st, both from one atomic read. A directory is COHORT_E_CONFLICT.
 * The content is the file's current text (live edits included) with its
 * original line breaks restored: the bytes a download gives. */
int workspace_read(struct workspace *ws, const char *path, struct strbuf *content,
		   struct ws_stat *st);

/* Metadata only (files and directories). */
int workspace_stat(struct workspace *ws, const char *path, struct ws_stat *st);

/* Replaces a file's whole content if its version is still expected
 * (text is stored with "\n" line breaks, core/eol.h). For a text file this is
 * one update of the live-editing history (client id "rest"), published as an
 * "update" event in the same atomic step
 * (WS_ANY_VERSION: unconditionally); a stale version is
 * COHORT_E_PRECONDITION. ctype NULL keeps the stored one. *version (may be
 * NULL) receives the new version. */
int workspace_replace(struct workspace *ws, const char *path, const void *data, size_t len,
		      const char *ctype, long long expected, long long *version);

/* Moves a file, or a directory with exactly its own subtree, to `to`, whose
 * parent must exist. An existing target is COHORT_E_EXISTS unless
 * WS_REPLACE is given and both are files; a directory is never replaced
 * (COHORT_E_CONFLICT), nor moved into itself (COHORT_E_FIELD). *moved (may be
 * NULL) receives the number of entries renamed. */
int workspace_rename(struct workspace *ws, const char *from, const char *to, unsigned flags,
		     size_t *moved);

/* Deletes a file, or a directory with its whole subtree. */
int workspace_delete(struct workspace *ws, const char *path, size_t *removed);

/* Lists directory dir ("" = root): its direct children, or with recursive its
 * whole subtree, in byte order of path. The caller releases *out. */
int workspace_list(struct workspace *ws, const char *dir, bool recursive, struct ws_list *out);
void ws_list_release(struct ws_list *l);

/* workspace_list, unless the tree is still at generation known (a non-empty
 * out->gen of an earlier successful listing of the same dir and mode): then
 * WS_UNCHANGED and *out is empty. The generation is the whole workspace's,
 * and it is checked before dir is looked at. The
 * check and the listing are one script, so a listing and its generation
 * always agree. Lets a caller keep a rendered listing (api/treecache.h). */
enum { WS_UNCHANGED = 1 };
int workspace_list_since(struct workspace *ws, const char *dir, bool recursive, const char *known,
			 struct ws_list *out);

/* The project's totals as kept by the scripts. */
int workspace_totals(struct workspace *ws, uint64_t *bytes, uint64_t *entries);

/* A user's last cursor in a file (opaque text of at most WS_CURSOR_MAX bytes,
 * e.g. "12.4"). get: COHORT_E_NOTFOUND when none is stored. */
int workspace_cursor_set(struct workspace *ws, const char *path, long long user,
			 const char *cursor);
int workspace_cursor_get(struct workspace *ws, const char *path, long long user, char *buf,
			 size_t len);

/* One item of a bulk import (a lesson template). */
struct ws_item {
	const char *path; /* canonical */
	enum ws_kind kind;
	const void *data; /* files only */
	size_t len;
};

/* Imports a whole tree in one atomic step, at most once per project: the
 * first successful import records tag (e.g. "lesson:7@<template id>") in the
 * project's info hash, and every later call — a concurrent first request
 * included — changes nothing and reports *imported = 0. Items must list
 * parents before children (arch_read's byte order does); a parent may also
 * exist already. Any item over a limit, on an existing path or under a
 * missing parent refuses the whole import (nothing written, tag not set).
 * *imported (may be NULL) receives the number of entries written. */
int workspace_import(struct workspace *ws, const struct ws_item *items, size_t n, const char *tag,
		     size_t *imported);

/*
 * Live-editing storage, used by core/collab.c (the algorithm lives there).
 * Versions: the file's version counts accepted updates; its log retains the
 * most recent ones as "<clientID> <change set JSON>" strings; the content key
 * holds the text at version `base` (a snapshot), and the text at the current
 * version is the snapshot with the log entries after `base` applied.
 */
struct ws_doc {
	long long fid;
	long long version; /* current */
	long long base;    /* version of the snapshot */
	int64_t len16;     /* UTF-16 length at the current version */
	bool crlf;
	uint64_t size;     /* bytes at the current version */
	const char *snapshot; /* when asked for; points into the reply */
	size_t snapshot_len;
	char last_id[48];  /* newest id of the project's stream, when asked for */
	long long first;   /* version of entry[0] */
	size_t n;          /* entries for versions first .. first + n - 1 */
	const char **entry;
	size_t *entry_len;
	void *reply;       /* owns the strings */
};

/* Reads a text file's editing state: the log entries after version from
 * (from < 0: none) and, with snapshot, the snapshot and every entry after
 * it too. With last_id, the project stream's newest id, read in the same
 * atomic step. COHORT_E_BINARY for a binary file, COHORT_E_GONE when from
 * is older than the retained log. Release with ws_doc_release. */
int workspace_doc_sync(struct workspace *ws, const char *path, long long from, bool snapshot,
		       bool last_id, struct ws_doc *out);
void ws_doc_release(struct ws_doc *d);
/* Records activity (opening a document) as the project's last activity,
 * active_at in ms in its info hash (issue 6; a commit records it too). */
int workspace_touch_active(struct workspace *ws);

/* Appends n updates (entries[i] in the log form, envelopes[i] the stored
 * event of update expected + 1 + i) if the file is still fid at version
 * expected (else COHORT_E_PRECONDITION), with the new size and length, and
 * publishes the envelopes — one atomic step. */
int workspace_doc_commit(struct workspace *ws, const char *path, long long fid, long long expected,
			 uint64_t size, int64_t len16, size_t n, const char *const *entries,
			 const size_t *entry_lens, const char *const *envelopes,
			 const size_t *envelope_lens);
/* Stores text as the snapshot at version (a no-op unless newer than the
 * current snapshot and the file is still fid). */
int workspace_doc_fold(struct workspace *ws, const char *path, long long fid, long long version,
		       const char *text, size_t len);
/* The stored "update" event of one update (data {clientID, changes}). */
int workspace_update_envelope(const struct workspace *ws, const char *path, long long version,
			      const char *client, const char *changes, size_t changes_len,
			      struct strbuf *out);

#endif
