// SPDX-License-Identifier: MIT
/*
 * events.c - helpers of the options-events family (events.h).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>

#include "events.h"

struct ev_shared *ev_shared_new(void)
{
	struct ev_shared *sh = shm_alloc(sizeof(*sh));

	if (!sh)
		return NULL;
	if (pipe(sh->pipe) < 0) {
		shm_free(sh, sizeof(*sh));
		return NULL;
	}
	return sh;
}

void ev_shared_free(struct ev_shared *sh)
{
	if (!sh)
		return;
	close(sh->pipe[0]);
	close(sh->pipe[1]);
	shm_free(sh, sizeof(*sh));
}

void ev_status_role(struct obs *t, pid_t pid, const char *field, const char *key)
{
	char v[64];

	if (procfs_status_field(pid, field, v, sizeof(v)) < 0)
		obs_str(t, key, "gone");
	else
		obs_str(t, key, role_of((pid_t)atol(v)));
}

void ev_match(struct obs *t, const char *key, long a, long b)
{
	obs_str(t, key, a == b ? "match" : "differs");
}
