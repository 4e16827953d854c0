// SPDX-License-Identifier: MIT
/*
 * mt.c - the stopped multi-threaded tracee the mt-* scenarios share (mt.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "mt.h"

static void mt_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_handle(L, SIGUSR1);
	lab_tracee_threads(L, MT_THREADS, NULL);
	lab_tracee_ready(L);
	lab_tracee_tkill(SIGSTOP);
	for (;;)
		pause();
}

void mt_detach_each(struct lab *L, struct obs *t, int sig)
{
	const char *first = "0";
	int i;

	for (i = L->sh->nthreads - 1; i >= 0; i--) {
		errno = 0;
		if (ptrace(PTRACE_DETACH, L->sh->tid[i], NULL, (void *)(long)sig) < 0 &&
		    !strcmp(first, "0"))
			first = errno_name(errno);
	}
	obs_str(t, "detach", first);
}

int mt_stopped_run(struct obs *o, const struct mt_spec *spec)
{
	struct lab L;

	if (lab_init(&L, o) < 0)
		return REP_ERROR;
	L.handlers = 1;
	L.threads = 1;
	L.settle_sleeping = spec->settle_sleeping;
	if (lab_spawn_tracee(&L, o, mt_tracee, NULL) < 0 || lab_wait_ready(&L, o) < 0) {
		lab_release(&L);
		return REP_ERROR;
	}
	if (lab_wait_stopped(&L, o) < 0)
		return lab_finish(&L, o);
	lab_sigchld(&L, proc_wait_offcpu(L.c) < 0 ? 50 : 0);
	if (lab_spawn_tracer(&L, o, spec->tracer, spec->arg) < 0) {
		lab_release(&L);
		return REP_ERROR;
	}
	lab_wait_tracer(&L, o);
	if (spec->after)
		spec->after(&L, o);
	return lab_finish(&L, o);
}
