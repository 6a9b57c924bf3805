/*
 * Fuzz target: path_normalize in strict and lenient mode, and the helpers on
 * what it returns. The first byte picks the flags; the rest is the path.
 *
 * Checks: an accepted path is canonical (normalizing it again strictly gives
 * it back unchanged), within the limits, never absolute, never has a "." or
 * ".." segment, a backslash or a control byte; a refusal leaves "" behind and
 * gives a reason; parent/basename/is_inside agree with each other.
 */
#include "core/err.h"
#include "core/path.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_path: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PATH_BUF], again[PATH_BUF], parent[PATH_BUF];
	const char *reason = NULL;
	unsigned flags;
	size_t n;
	int rc;

	if (size < 1)
		return 0;
	flags = data[0] & (PATH_LENIENT | PATH_ALLOW_ROOT);
	rc = path_normalize((const char *)data + 1, size - 1, out, sizeof(out), flags, &reason);
	if (rc) {
		check(rc == COHORT_E_FIELD || rc == COHORT_E_LIMIT, "unexpected error");
		check(reason != NULL && out[0] == '\0', "refusal without reason or with output");
		return 0;
	}
	n = strlen(out);
	if (n == 0) {
		check(flags & PATH_ALLOW_ROOT, "root without PATH_ALLOW_ROOT");
		return 0;
	}
	check(n <= PATH_MAX_BYTES && path_depth(out) <= PATH_MAX_DEPTH, "over a limit");
	check(out[0] != '/' && out[n - 1] != '/' && !strstr(out, "//"), "bad slashes");
	check(!strchr(out, '\\'), "backslash");
	for (size_t i = 0; i < n; i++)
		check((unsigned char)out[i] >= 0x20 && out[i] != 0x7f, "control byte");
	check(strncmp(out, "../", 3) && strcmp(out, "..") && !strstr(out, "/../") &&
		      (n < 3 || strcmp(out + n - 3, "/..")),
	      "dot-dot segment");
	check(strncmp(out, "./", 2) && strcmp(out, ".") && !strstr(out, "/./") &&
		      (n < 2 || strcmp(out + n - 2, "/.")),
	      "dot segment");
	check(path_normalize(out, n, again, sizeof(again), 0, NULL) == 0 && !strcmp(out, again),
	      "not idempotent");
	check(path_is_canonical(out), "not canonical");
	check(path_parent(out, parent, sizeof(parent)) == 0, "parent failed");
	check(path_is_inside(out, parent), "not inside its parent");
	check(!path_is_inside(parent, out), "parent inside child");
	check(!strcmp(path_basename(out), out + (parent[0] ? strlen(parent) + 1 : 0)),
	      "basename disagrees with parent");
	return 0;
}
