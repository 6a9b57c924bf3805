/*
 * files.h — a project's workspace (core/workspace.h) over REST. The path of
 * the entry a request is about travels in the query (?path=, ?dir=) or in a
 * JSON body, never in the URL path, so any canonical name (spaces, '%', UTF-8)
 * works with the router's whole-segment parameters. Every path goes through
 * core/path.h strict: a non-canonical one is 422 with the normalizer's reason.
 *
 * Every change publishes a "file" event (data: action, path, from, version)
 * on the project's stream.
 */
#ifndef COHORT_API_FILES_H
#define COHORT_API_FILES_H

struct request;
struct response;

int files_tree(struct request *req, struct response *res);
int file_get(struct request *req, struct response *res);
int file_put(struct request *req, struct response *res);
int file_delete(struct request *req, struct response *res);
int dir_post(struct request *req, struct response *res);
int files_move(struct request *req, struct response *res);
int project_archive(struct request *req, struct response *res);

#endif
