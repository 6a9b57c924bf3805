/*
 * templates.h — a lesson's template archive over REST:
 *   PUT    /api/v1/lessons/{lesson}/template  upload (archive body) or fetch ({"url"})
 *   GET    /api/v1/lessons/{lesson}/template  summary, or ?download=1 the archive
 *   DELETE /api/v1/lessons/{lesson}/template  remove (projects keep their files)
 * The logic is core/template.h's; this file parses and answers.
 */
#ifndef COHORT_API_TEMPLATES_H
#define COHORT_API_TEMPLATES_H

struct request;
struct response;

int template_put(struct request *req, struct response *res);
int template_get(struct request *req, struct response *res);
int template_delete(struct request *req, struct response *res);

#endif
