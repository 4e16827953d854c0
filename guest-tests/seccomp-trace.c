// SPDX-License-Identifier: MIT
/*
 * seccomp-trace, seccomp-trace-noopt, seccomp-suspend - a SECCOMP_RET_TRACE
 * filter under ptrace: the PTRACE_EVENT_SECCOMP stop and its data, the
 * tracer's view of the filters, and PTRACE_O_SUSPEND_SECCOMP.
 *
 * Set-up: before R comes, C sets no_new_privs and installs two filters: the
 * first (6 instructions) returns SECCOMP_RET_TRACE | 0x42 for getppid() and
 * allows the rest, the second (1 instruction, SECCOMP_FILTER_FLAG_LOG)
 * allows everything. R attaches and sets PTRACE_O_TRACEEXIT plus
 * PTRACE_O_TRACESECCOMP (trace), nothing more (noopt), or
 * PTRACE_O_TRACESECCOMP | PTRACE_O_SUSPEND_SECCOMP (suspend). Told to go, C
 * calls getppid() and notes the result, then exits 0.
 * Action: trace: at the seccomp stop R reads GETEVENTMSG,
 * PTRACE_GET_SYSCALL_INFO, PTRACE_SECCOMP_GET_FILTER (0, 1, 2) and
 * PTRACE_SECCOMP_GET_METADATA (0, 1, and a 4-byte size), then resumes.
 * suspend: at C's exit stop R drops CAP_SYS_ADMIN from its effective set and
 * tries SETOPTIONS with SUSPEND_SECCOMP and SECCOMP_GET_FILTER, takes it back,
 * installs an allow-all filter on itself and tries both again.
 * Observes: "stop" (event:seccomp or C's exit), "stop_msg" (66 = 0x42),
 * info_op / info_nr / info_ret_data, filter0/filter1 instruction counts,
 * filter2 (ENOENT), meta0_flags / meta1_flags / meta_short, "getppid" what
 * C's call returned (a role, or its errno), and the suspend errors.
 * Documented: ptrace(2) PTRACE_O_TRACESECCOMP ("PTRACE_GETEVENTMSG ... the
 * SECCOMP_RET_DATA portion of the filter's return value"), seccomp(2)
 * SECCOMP_RET_TRACE ("If there is no tracer present, the system call is not
 * executed and returns a failure status with errno set to ENOSYS"),
 * PTRACE_O_SUSPEND_SECCOMP (needs CAP_SYS_ADMIN; kernel/ptrace.c
 * check_ptrace_options(): EPERM without it or when the tracer is itself
 * under seccomp), PTRACE_SECCOMP_GET_FILTER (instruction count; ENOENT past
 * the last filter; EACCES without CAP_SYS_ADMIN or under seccomp:
 * kernel/seccomp.c seccomp_get_filter()), PTRACE_SECCOMP_GET_METADATA
 * (flags, EINVAL for a size below filter_off).
 * Expected on 6.x: trace: event:seccomp (PTRACE_EVENT_SECCOMP), msg 66, info op seccomp, nr getppid,
 * ret_data 0x42, filters 6 and 1, filter2 ENOENT, meta flags 0 and 0x2, short
 * EINVAL, getppid parent. noopt: no stop, getppid ENOSYS. suspend: no seccomp
 * stop, getppid parent; EPERM/EACCES without the capability, EPERM/EACCES
 * under a filter.
 * Needs CONFIG_SECCOMP_FILTER and CONFIG_CHECKPOINT_RESTORE (GET_FILTER,
 * GET_METADATA, SUSPEND_SECCOMP); a kernel without seccomp filters says
 * "unsupported".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "scenarios.h"

enum sk { SK_TRACE, SK_NOOPT, SK_SUSPEND };

static int install(unsigned flags, struct sock_filter *f, unsigned short n)
{
	struct sock_fprog prog = { .len = n, .filter = f };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static int install_allow(unsigned flags)
{
	static struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };

	return install(flags, allow, 1);
}

static void tracee(struct lab *L, void *arg)
{
	const struct ev_arg *a = arg;
	struct ev_shared *sh = a->sh;
	static struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0x42),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	long r;

	sh->err = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || install(0, f, 6) < 0 ||
	    install_allow(SECCOMP_FILTER_FLAG_LOG) < 0)
		sh->err = errno ? errno : EINVAL;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	errno = 0;
	r = syscall(SYS_getppid);
	sh->ret = r;
	sh->err = r < 0 ? errno : 0;
	sh->done = 1;
	_exit(0);
}

/* CAP_SYS_ADMIN in R's effective set on or off; 0 on success. */
static int cap_admin(int on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	if (on)
		d[CAP_SYS_ADMIN / 32].effective |= 1u << (CAP_SYS_ADMIN % 32);
	else
		d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	return (int)syscall(SYS_capset, &h, d);
}

static void filters(struct obs *t, pid_t c)
{
	struct __ptrace_syscall_info info;
	struct __ptrace_seccomp_metadata md;
	long n;

	memset(&info, 0, sizeof(info));
	if (lab_tracer_ptrace(t, "info", PTRACE_GET_SYSCALL_INFO, c, (void *)sizeof(info), &info) > 0) {
		obs_str(t, "info_op", info.op == PTRACE_SYSCALL_INFO_SECCOMP ? "seccomp" : "other");
		if (info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
			obs_str(t, "info_nr", info.seccomp.nr == __NR_getppid ? "getppid" : "other");
			obs_strf(t, "info_ret_data", "0x%x", info.seccomp.ret_data);
		}
	}
	n = lab_tracer_ptrace(t, "filter0", PTRACE_SECCOMP_GET_FILTER, c, (void *)0, NULL);
	if (n >= 0)
		obs_strf(t, "filter0", "%ld", n);
	n = lab_tracer_ptrace(t, "filter1", PTRACE_SECCOMP_GET_FILTER, c, (void *)1, NULL);
	if (n >= 0)
		obs_strf(t, "filter1", "%ld", n);
	lab_tracer_ptrace(t, "filter2", PTRACE_SECCOMP_GET_FILTER, c, (void *)2, NULL);
	memset(&md, 0, sizeof(md));
	if (lab_tracer_ptrace(t, "meta0", PTRACE_SECCOMP_GET_METADATA, c, (void *)sizeof(md), &md) >= 0)
		obs_strf(t, "meta0_flags", "0x%llx", (unsigned long long)md.flags);
	memset(&md, 0, sizeof(md));
	md.filter_off = 1;
	if (lab_tracer_ptrace(t, "meta1", PTRACE_SECCOMP_GET_METADATA, c, (void *)sizeof(md), &md) >= 0)
		obs_strf(t, "meta1_flags", "0x%llx", (unsigned long long)md.flags);
	memset(&md, 0, sizeof(md));
	lab_tracer_ptrace(t, "meta_short", PTRACE_SECCOMP_GET_METADATA, c, (void *)4, &md);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct ev_arg *a = arg;
	enum sk k = *(const enum sk *)a->cfg;
	static const long opts[] = {
		[SK_TRACE] = PTRACE_O_TRACESECCOMP,
		[SK_NOOPT] = 0,
		[SK_SUSPEND] = PTRACE_O_TRACESECCOMP | PTRACE_O_SUSPEND_SECCOMP,
	};
	int st;

	if (lab_tracer_attach(L, t) < 0)
		return;
	if (a->sh->err) {
		obs_strf(t, "unsupported", "seccomp(SECCOMP_SET_MODE_FILTER): %s",
			 errno_name(a->sh->err));
		lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
		return;
	}
	if (lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
			      (void *)(opts[k] | PTRACE_O_TRACEEXIT)) < 0 && k == SK_SUSPEND &&
	    !strcmp(obs_get(t, "setoptions"), "EINVAL")) {
		obs_str(t, "unsupported", "PTRACE_O_SUSPEND_SECCOMP: EINVAL, no CONFIG_CHECKPOINT_RESTORE");
		lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
		return;
	}
	if (lab_tracer_cont_to_stop(L, t, &st) < 0)
		return;
	if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_SECCOMP) {
		filters(t, L->c);
		lab_tracer_ptrace(t, "cont_seccomp", PTRACE_CONT, L->c, NULL, NULL);
		if (lab_tracer_stop(t, L->c, "exit_stop", &st) < 0)
			return;
	}
	if (a->sh->done)
		obs_str(t, "getppid", a->sh->ret < 0 ? errno_name(a->sh->err) : role_of((pid_t)a->sh->ret));
	else
		obs_str(t, "getppid", "not-returned");
	if (k == SK_SUSPEND) {
		if (cap_admin(0) == 0) {
			lab_tracer_ptrace(t, "suspend_no_cap", PTRACE_SETOPTIONS, L->c, NULL,
					  (void *)(long)PTRACE_O_SUSPEND_SECCOMP);
			lab_tracer_ptrace(t, "filter_no_cap", PTRACE_SECCOMP_GET_FILTER, L->c, NULL, NULL);
			if (cap_admin(1) < 0)
				obs_str(t, "error", "capset");
		} else {
			obs_str(t, "error", "capset");
		}
		if (install_allow(0) == 0) {
			lab_tracer_ptrace(t, "suspend_filtered", PTRACE_SETOPTIONS, L->c, NULL,
					  (void *)(long)PTRACE_O_SUSPEND_SECCOMP);
			lab_tracer_ptrace(t, "filter_filtered", PTRACE_SECCOMP_GET_FILTER, L->c, NULL,
					  NULL);
		} else {
			obs_str(t, "error", "tracer-filter");
		}
	}
	lab_tracer_ptrace(t, "cont_exit", PTRACE_CONT, L->c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct ev_arg a = { .cfg = arg, .sh = ev_shared_new() };
	const struct lab_spec s = {
		.tracee = tracee, .tracer = tracer, .arg = &a, .may_be_unsupported = 1,
	};
	int rc;

	if (!a.sh) {
		obs_str(o, "error", "shm");
		return REP_ERROR;
	}
	rc = lab_run_spec(o, v, &s);
	ev_shared_free(a.sh);
	return rc;
}

static const enum sk arg_trace = SK_TRACE, arg_noopt = SK_NOOPT, arg_suspend = SK_SUSPEND;

const struct scenario scenario_seccomp_trace = {
	.id = "seccomp-trace",
	.group = "options-events",
	.desc = "SECCOMP_RET_TRACE with PTRACE_O_TRACESECCOMP: event stop, RET_DATA, GET_FILTER/METADATA",
	.run = run,
	.arg = &arg_trace,
	.expect = "event:seccomp, msg 0x42; info op seccomp (getppid, ret_data 0x42); filters "
		  "of 6 and 1 instructions, the 3rd ENOENT; metadata flags 0 and LOG, short "
		  "size EINVAL; the call then runs.",
	.expect_obs = "stop=event:seccomp;stop_msg=66;info_op=seccomp;info_nr=getppid;"
		      "info_ret_data=0x42;filter0=6;filter1=1;filter2=ENOENT;meta0_flags=0x0;"
		      "meta1_flags=0x2;meta_short=EINVAL;getppid=parent;exit_stop=event:exit;"
		      "tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_seccomp_trace_noopt = {
	.id = "seccomp-trace-noopt",
	.group = "options-events",
	.desc = "SECCOMP_RET_TRACE without PTRACE_O_TRACESECCOMP: the call fails ENOSYS",
	.run = run,
	.arg = &arg_noopt,
	.expect = "no seccomp stop; the traced call is not run and fails ENOSYS.",
	.expect_obs = "stop=event:exit;getppid=ENOSYS;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_seccomp_suspend = {
	.id = "seccomp-suspend",
	.group = "options-events",
	.desc = "PTRACE_O_SUSPEND_SECCOMP: the filter is off; EPERM without CAP_SYS_ADMIN or under seccomp",
	.run = run,
	.arg = &arg_suspend,
	.expect = "no seccomp stop, getppid runs; without CAP_SYS_ADMIN SUSPEND is EPERM and "
		  "GET_FILTER EACCES; a filtered tracer gets EPERM and EACCES.",
	.expect_obs = "setoptions=0;stop=event:exit;getppid=parent;suspend_no_cap=EPERM;"
		      "filter_no_cap=EACCES;suspend_filtered=EPERM;filter_filtered=EACCES;"
		      "tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
