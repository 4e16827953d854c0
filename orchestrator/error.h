/* SPDX-License-Identifier: MIT */
#ifndef KFARM_ERROR_H
#define KFARM_ERROR_H

#include <stddef.h>

/*
 * struct kf_error - what went wrong and where, in the spirit of json_error_t.
 * @source: the thing at fault (a file, a URL, a kernel name, a component)
 * @line, @column: position inside @source, 0 when not applicable
 * @text: what is wrong, one sentence
 */
struct kf_error {
	char source[512];
	int line;
	int column;
	char text[1024];
};

/**
 * error_set() - fill @e (may be NULL) and return -1.
 * @source: may be NULL.
 */
int error_set(struct kf_error *e, const char *source, int line, int column,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/**
 * error_format() - "source:line:column: text" (parts that are unset left out).
 * Returns @buf.
 */
const char *error_format(const struct kf_error *e, char *buf, size_t n);

/** error_clear() - reset @e to "no error". */
void error_clear(struct kf_error *e);

#endif
