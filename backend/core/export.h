/*
 * export.h — a project's workspace written out as one archive (zip or
 * tar.gz), entry by entry through a write callback: the archive download
 * route streams it to the client, `cohort project export` to a file.
 */
#ifndef COHORT_EXPORT_H
#define COHORT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/archive.h"

struct workspace;
struct ws_list;

/* The format a file name asks for: ".zip" or ".tar.gz"/".tgz" (any case);
 * false for anything else. */
bool export_format_for_name(const char *name, enum arch_format *out);

/* Writes the entries of l (a recursive workspace_list of ws, parents before
 * children) as an archive through fn. Directories go in as directories
 * (empty ones included) and files byte for byte; a file deleted or turned
 * into a directory since l was listed is skipped. *files (may be NULL)
 * receives the number of files written. */
int export_write(struct workspace *ws, const struct ws_list *l, enum arch_format fmt, arch_write_fn fn,
		 void *ctx, size_t *files);

#endif
