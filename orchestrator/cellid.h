/* SPDX-License-Identifier: MIT */
#ifndef KFARM_CELLID_H
#define KFARM_CELLID_H

/*
 * Shared by the host and the guest runner (which builds with -Iorchestrator):
 * the list syntax of cell ids on the kernel command line and in options.
 * A cell id is a scenario id, optionally followed by its non-default axis
 * values in brackets ("sds-zero[sigchld=ign,wait=waitpid]"); lists of them
 * are ','-separated, but a ',' between '[' and ']' does not separate.
 */

#include <stddef.h>

/** cellid_list_next() - the length of the list entry at @s, up to the ',' that ends it. */
static inline size_t cellid_list_next(const char *s)
{
	size_t n = 0;
	int depth = 0;

	for (; s[n]; n++) {
		if (s[n] == '[')
			depth++;
		else if (s[n] == ']' && depth > 0)
			depth--;
		else if (s[n] == ',' && depth == 0)
			break;
	}
	return n;
}

#endif
