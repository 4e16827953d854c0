// SPDX-License-Identifier: MIT
/*
 * regs.c - the regs family's helpers (regs.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "regs.h"

/* linux/ptrace.h's struct ptrace_syscall_info starts with the op byte. */
#define REGS_SYSCALL_INFO_ENTRY 1
#define REGS_SYSCALL_INFO_EXIT 2

int regs_run(struct obs *o, const struct variant *v, struct lab_spec *s, const void *arg)
{
	struct regs_ctx *ctx = shm_alloc(sizeof(*ctx));
	struct obs *c = shm_alloc(sizeof(*c));
	int rc;

	if (!ctx || !c) {
		obs_str(o, "error", "shm");
		if (ctx)
			shm_free(ctx, sizeof(*ctx));
		if (c)
			shm_free(c, sizeof(*c));
		return REP_ERROR;
	}
	obs_init(c);
	ctx->arg = arg;
	ctx->c = c;
	s->arg = ctx;
	rc = lab_run_spec(o, v, s);
	obs_merge(o, c);
	shm_free(c, sizeof(*c));
	shm_free(ctx, sizeof(*ctx));
	return rc;
}

static const char *const restart_names[] = {
	"ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND", "ENOIOCTLCMD",
	"ERESTART_RESTARTBLOCK",
};

const char *regs_errno_name(int err)
{
	if (err >= 512 && err <= 516)
		return restart_names[err - 512];
	return errno_name(err);
}

const char *regs_rval_name(long rval)
{
	static char buf[4][40];
	static unsigned next;
	char *s = buf[next++ % 4];

	if (rval == (long)REGS_MARK)
		snprintf(s, 40, "0x4b46");
	else if (rval < 0 && rval >= -4095)
		snprintf(s, 40, "-%s", regs_errno_name((int)-rval));
	else if (rval >= 0 && rval < 4096)
		snprintf(s, 40, "%ld", rval);
	else
		snprintf(s, 40, "other");
	return s;
}

const char *regs_sys_name(long nr)
{
	static char buf[32];

	switch (nr) {
	case SYS_read: return "read";
	case SYS_write: return "write";
	case SYS_getpid: return "getpid";
	case SYS_getppid: return "getppid";
	case SYS_gettid: return "gettid";
	case SYS_rt_sigreturn: return "rt_sigreturn";
	case SYS_rt_sigprocmask: return "rt_sigprocmask";
	case SYS_exit_group: return "exit_group";
	case -1: return "-1";
	}
	snprintf(buf, sizeof(buf), "%ld", nr);
	return buf;
}

const char *regs_match(unsigned long a, unsigned long b)
{
	return a == b ? "match" : "differs";
}

int regs_syscall_to(struct obs *t, pid_t pid, long nr, int exit, char *seen, size_t n)
{
	unsigned char info[128];
	char d[64];
	int i, st;
	long cur;

	for (i = 0; i < 32; i++) {
		if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL) < 0) {
			obs_strf(t, "walk", "syscall:%s", errno_name(errno));
			return -1;
		}
		if (lab_tracer_wait(t, pid, &st) < 0)
			return -1;
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80)) {
			describe_wstatus(st, d, sizeof(d));
			obs_str(t, "walk", d);
			return -1;
		}
		memset(info, 0, sizeof(info));
		if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), info) < 0) {
			obs_strf(t, "walk", "get_syscall_info:%s", errno_name(errno));
			return -1;
		}
		errno = 0;
		cur = ptrace(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user_regs_struct, orig_rax), NULL);
		if (errno) {
			obs_strf(t, "walk", "peekuser:%s", errno_name(errno));
			return -1;
		}
		if (info[0] == REGS_SYSCALL_INFO_ENTRY && seen) {
			size_t l = strlen(seen);

			snprintf(seen + l, n - l, "%s%s", l ? "," : "", regs_sys_name(cur));
		}
		if (cur == nr && info[0] == (exit ? REGS_SYSCALL_INFO_EXIT : REGS_SYSCALL_INFO_ENTRY))
			return 0;
	}
	obs_str(t, "walk", "too-many-stops");
	return -1;
}
