// SPDX-License-Identifier: MIT
/*
 * names.c - names: signals, errnos, si_codes and /proc masks by name; pids and uids as roles (guest.h).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

/* ---------------------------------------------------------------- names */

#define NAME(x) [x] = #x
static const char *const signames[] = {
	NAME(SIGHUP), NAME(SIGINT), NAME(SIGQUIT), NAME(SIGILL), NAME(SIGTRAP),
	NAME(SIGABRT), NAME(SIGBUS), NAME(SIGFPE), NAME(SIGKILL), NAME(SIGUSR1),
	NAME(SIGSEGV), NAME(SIGUSR2), NAME(SIGPIPE), NAME(SIGALRM), NAME(SIGTERM),
	NAME(SIGSTKFLT), NAME(SIGCHLD), NAME(SIGCONT), NAME(SIGSTOP), NAME(SIGTSTP),
	NAME(SIGTTIN), NAME(SIGTTOU), NAME(SIGURG), NAME(SIGXCPU), NAME(SIGXFSZ),
	NAME(SIGVTALRM), NAME(SIGPROF), NAME(SIGWINCH), NAME(SIGIO), NAME(SIGPWR),
	NAME(SIGSYS),
};

static const char *const errnames[] = {
	NAME(EPERM), NAME(ENOENT), NAME(ESRCH), NAME(EINTR), NAME(EIO), NAME(ENXIO),
	NAME(E2BIG), NAME(ENOEXEC), NAME(EBADF), NAME(ECHILD), NAME(EAGAIN),
	NAME(ENOMEM), NAME(EACCES), NAME(EFAULT), NAME(EBUSY), NAME(EEXIST),
	NAME(ENODEV), NAME(ENOTDIR), NAME(EINVAL), NAME(ENFILE), NAME(EMFILE),
	NAME(ENOTTY), NAME(ENOSPC), NAME(ESPIPE), NAME(EROFS), NAME(EPIPE),
	NAME(ERANGE), NAME(EDEADLK), NAME(ENOSYS), NAME(ENOTSUP), NAME(ETIMEDOUT),
};
#undef NAME

/* Names built on the fly rotate through a few static slots. */
static char *scratch(void)
{
	static char slots[8][32];
	static unsigned next;

	return slots[next++ % 8];
}

const char *sig_name(int sig)
{
	char *s;

	if (sig > 0 && (size_t)sig < sizeof(signames) / sizeof(signames[0]) && signames[sig])
		return signames[sig];
	s = scratch();
	snprintf(s, 32, "SIG%d", sig);
	return s;
}

const char *errno_name(int err)
{
	char *s;

	if (err > 0 && (size_t)err < sizeof(errnames) / sizeof(errnames[0]) && errnames[err])
		return errnames[err];
	s = scratch();
	snprintf(s, 32, "E%d", err);
	return s;
}

const char *si_code_name(int signo, int code)
{
	static const char *const cld[] = { NULL, "CLD_EXITED", "CLD_KILLED", "CLD_DUMPED",
					   "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED" };
	static const char *const trap[] = { NULL, "TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH",
					    "TRAP_HWBKPT", "TRAP_UNK" };
	char *s;

	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TIMER: return "SI_TIMER";
	case SI_MESGQ: return "SI_MESGQ";
	case SI_ASYNCIO: return "SI_ASYNCIO";
	case SI_SIGIO: return "SI_SIGIO";
	case SI_TKILL: return "SI_TKILL";
	case SI_ASYNCNL: return "SI_ASYNCNL";
	default: break;
	}
	if (signo == SIGCHLD && code > 0 && code <= 6)
		return cld[code];
	if (signo == SIGTRAP && code > 0 && code <= 5)
		return trap[code];
	s = scratch();
	snprintf(s, 32, "%d", code);
	return s;
}

void sigmask_names(const char *hex, char *out, size_t n)
{
	size_t len = strlen(hex), used = 0;
	int sig, bit, first = 1, d;
	char c;

	out[0] = '\0';
	/* The last hex digit holds signals 1-4, the one before 5-8, ... */
	for (sig = 1; (size_t)((sig - 1) / 4) < len; sig++) {
		c = hex[len - 1 - (size_t)((sig - 1) / 4)];
		if (!isxdigit((unsigned char)c))
			break;
		d = isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
		bit = (sig - 1) % 4;
		if (!(d & (1 << bit)))
			continue;
		used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s",
					 first ? "" : ",", sig_name(sig));
		first = 0;
		if (used >= n) {
			out[n - 1] = '\0';
			return;
		}
	}
}

/* ---------------------------------------------------------------- roles */

#define ROLE_MAX 8
static struct {
	const char *role;
	pid_t pid;
} roles[ROLE_MAX];
static int nroles;

void role_reset(void)
{
	nroles = 0;
}

void role_set(const char *role, pid_t pid)
{
	int i;

	for (i = 0; i < nroles; i++)
		if (!strcmp(roles[i].role, role)) {
			roles[i].pid = pid;
			return;
		}
	if (nroles < ROLE_MAX) {
		roles[nroles].role = role;
		roles[nroles++].pid = pid;
	}
}

const char *role_of(pid_t pid)
{
	int i;

	if (pid == 0)
		return "0";
	for (i = 0; i < nroles; i++)
		if (roles[i].pid == pid)
			return roles[i].role;
	return "other";
}

const char *uid_role(uid_t uid)
{
	if (uid == 0)
		return "0";
	return uid == getuid() ? "self" : "other";
}
