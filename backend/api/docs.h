/*
 * docs.h — live editing over REST (docs/protocol.md section 9).
 */
#ifndef COHORT_API_DOCS_H
#define COHORT_API_DOCS_H

struct request;
struct response;

int doc_get(struct request *req, struct response *res);
int doc_push(struct request *req, struct response *res);
int doc_pull(struct request *req, struct response *res);
int doc_sum(struct request *req, struct response *res);
int doc_cursor(struct request *req, struct response *res);

#endif
