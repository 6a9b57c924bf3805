/*
 * eol.h — line breaks of text files. Live editing uses "\n" only (CodeMirror
 * counts "\r\n" as one position and never sends "\r"), so text is stored with
 * "\n" and its original style is restored on the way out:
 *   - text without "\r" is stored as is (EOL_LF);
 *   - text whose every "\n" is preceded by "\r" and that has no other "\r" is
 *     stored without the "\r"s and marked EOL_CRLF, which download and export
 *     turn back into the same bytes;
 *   - anything else (mixed, or a lone "\r") is normalized to "\n" (EOL_LF):
 *     the one case where text bytes are not kept exactly (docs/files.md).
 */
#ifndef COHORT_EOL_H
#define COHORT_EOL_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

enum eol_style { EOL_LF, EOL_CRLF };

/* True when text contains a "\r" (and so needs eol_normalize). */
bool eol_needs_normalizing(const char *text, size_t len);
/* Appends text with "\n" line breaks to out and returns its style in *style. */
int eol_normalize(const char *text, size_t len, struct strbuf *out, enum eol_style *style);
/* Appends text with every "\n" turned into "\r\n". */
int eol_to_crlf(const char *text, size_t len, struct strbuf *out);
const char *eol_name(enum eol_style s);
/* "lf" or "crlf"; anything else is EOL_LF. */
enum eol_style eol_parse(const char *s, size_t len);

#endif
