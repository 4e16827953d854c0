// SPDX-License-Identifier: MIT
/*
 * sds.c - the shared flow of the signal-delivery-stop scenarios (sds-*.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "sds.h"

static void sds_tracee(struct lab *L, void *arg)
{
	const struct sds_spec *spec = arg;
	sigset_t set;
	int i;

	for (i = 0; i < 4 && spec->handle[i]; i++)
		lab_tracee_handle(L, spec->handle[i]);
	sigemptyset(&set);
	for (i = 0; i < 4 && spec->block[i]; i++)
		sigaddset(&set, spec->block[i]);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (spec->prepare)
		spec->prepare();
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	lab_tracee_tkill(spec->stop_sig);
	if (spec->unblock_after) {
		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
	}
	_exit(0);
}

static void sds_tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct sds_spec *spec = arg;
	siginfo_t si;
	char d[64];
	int st;

	if (lab_tracer_attach(L, t) < 0)
		return;
	if (spec->options &&
	    lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
			      (void *)spec->options) < 0) {
		if (errno == EINVAL)
			obs_str(t, "unsupported", "PTRACE_SETOPTIONS:EINVAL");
		return;
	}
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_go(L);
	if (lab_tracer_wait(t, L->c, &st) < 0)
		return;
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, "stop", d);
	if (spec->getsiginfo || spec->setsiginfo) {
		memset(&si, 0, sizeof(si));
		if (lab_tracer_ptrace(t, "getsiginfo", PTRACE_GETSIGINFO, L->c, NULL, &si) == 0)
			obs_str(t, "stop_si_code", si_code_name(si.si_signo, si.si_code));
	}
	if (spec->setsiginfo) {
		/* Same signal, custom fields: does the handler see them as written? */
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = 0;
		lab_tracer_ptrace(t, "setsiginfo", PTRACE_SETSIGINFO, L->c, NULL, &si);
	}
	if (spec->tracer_exits)
		return; /* _exit(0): exit_ptrace() lets C go */
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL,
		      (void *)(long)spec->detach_sig);
}

int sds_run(struct obs *o, const struct sds_spec *spec)
{
	struct lab L;
	int rc;

	if (lab_init(&L, o) < 0)
		return REP_ERROR;
	L.handlers = spec->handle[0] != 0;
	if (lab_spawn_tracee(&L, o, sds_tracee, (void *)spec) < 0 ||
	    lab_wait_ready(&L, o) < 0 ||
	    lab_spawn_tracer(&L, o, sds_tracer, (void *)spec) < 0) {
		lab_release(&L);
		return REP_ERROR;
	}
	rc = lab_finish(&L, o);
	if (rc == REP_OK && obs_get(o, "unsupported"))
		rc = REP_UNSUPPORTED;
	return rc;
}
