/*
 * docs.h — live editing over REST (docs/protocol.md section 9).
 *
 * The handlers below act on a project file named by ?path=. The *_at
 * functions hold the HTTP side of each call for any document target, so
 * another route family (rooms, api/rooms.c) resolves its own document and
 * reuses them unchanged.
 */
#ifndef COHORT_API_DOCS_H
#define COHORT_API_DOCS_H

struct request;
struct response;
struct workspace;
struct cursor_who;
struct cursor_member;

/* The document a call acts on, resolved by the route. Exactly one of who
 * and member is set (for cursors). cursor_project > 0 lists that project's
 * stored cursors of the file in the document answer; 0 lists none. */
struct doc_target {
	struct workspace *ws;
	const char *path;
	long long cursor_project;
	const struct cursor_who *who;
	const struct cursor_member *member;
};

int doc_get_at(struct request *req, struct response *res, const struct doc_target *t);
int doc_push_at(struct request *req, struct response *res, const struct doc_target *t);
int doc_pull_at(struct request *req, struct response *res, const struct doc_target *t);
int doc_sum_at(struct request *req, struct response *res, const struct doc_target *t);
int doc_cursor_at(struct request *req, struct response *res, const struct doc_target *t);

int doc_get(struct request *req, struct response *res);
int doc_push(struct request *req, struct response *res);
int doc_pull(struct request *req, struct response *res);
int doc_sum(struct request *req, struct response *res);
int doc_cursor(struct request *req, struct response *res);

#endif
