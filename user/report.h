/*
 * The report formats of `zmtrace report`, each reading the capture through
 * a model (model.h). Each returns 0, 1 when the capture was read only in
 * part (said on stderr: where and why), or -1 after a one-line error; the
 * output's write errors are the caller's (ferror).
 */
#ifndef ZM_REPORT_H
#define ZM_REPORT_H

#include <stdio.h>

#include "model.h"

/* The diagnosis first: zombie leakers, zombie lifetimes, leak suspects,
 * the system memory verdict, the largest users, lost events. */
int report_text(const char *path, FILE *out);
/* The live commands' JSON Lines, then their summaries and a capture line. */
int report_json(const char *path, FILE *out);
/* One row per record, a kind column first. */
int report_csv(const char *path, FILE *out);
/* One page with the graphs (out_html.h). */
int report_html(const char *path, FILE *out);
/* The text report of a model read already. 0, or -1 after a one-line
 * error. */
int report_text_body(FILE *out, const char *path, const struct model *m);
/* The Chrome/Perfetto JSON trace format. */
int report_perfetto(const char *path, FILE *out);

/* The end of every report: what the capture's state says on stderr, and
 * the return value above. read: model_read()'s return. */
int report_finish(const char *path, const struct model *m, int read);

#endif
