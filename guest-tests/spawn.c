// SPDX-License-Identifier: MIT
/*
 * spawn.c - processes: shared memory, the handler siginfo record, the results frame, forking children (guest.h).
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

int runner_private_fd = -1;

/* ---------------------------------------------------------------- shm, handler */

void *shm_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void shm_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

static struct hrec *hrec_target;

static void hrec_handler(int sig, siginfo_t *si, void *uc)
{
	struct hrec *h = hrec_target;
	int i;

	(void)uc;
	if (!h)
		return;
	i = h->count;
	if (i < HREC_MAX) {
		h->seen[i].signo = si->si_signo ? si->si_signo : sig;
		h->seen[i].code = si->si_code;
		h->seen[i].pid = si->si_pid;
		h->seen[i].uid = si->si_uid;
	}
	h->count = i + 1;
}

int hrec_install(struct hrec *h, int sig)
{
	struct sigaction sa;

	hrec_target = h;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = hrec_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

void hrec_observe(const struct hrec *h, struct obs *o)
{
	int n = h->count;

	if (n == 0) {
		obs_str(o, "handler", "not-run");
		return;
	}
	if (n == 1)
		obs_str(o, "handler", "ran");
	else
		obs_strf(o, "handler", "ran:%d", n);
	obs_str(o, "si_signo", sig_name(h->seen[0].signo));
	obs_str(o, "si_code", si_code_name(h->seen[0].signo, h->seen[0].code));
	obs_str(o, "si_pid", role_of(h->seen[0].pid));
	obs_str(o, "si_uid", uid_role(h->seen[0].uid));
}

/* ---------------------------------------------------------------- framing */

int frame_write(int fd, unsigned long seq, const char *payload, size_t len)
{
	struct sbuf sb = { 0 };
	char hdr[64];
	int r;

	if (len > KF1_MAX_PAYLOAD)
		return -1;
	sbuf_add(&sb, hdr, (size_t)kf1_header(hdr, sizeof(hdr), seq, payload, len));
	sbuf_add(&sb, payload, len);
	sbuf_add(&sb, "\n", 1);
	r = write_all(fd, sb.buf, sb.len);
	sbuf_release(&sb);
	return r;
}

/* ---------------------------------------------------------------- processes */

pid_t fork_child(void)
{
	pid_t pid = fork();

	if (pid == 0 && runner_private_fd >= 0) {
		close(runner_private_fd);
		runner_private_fd = -1;
	}
	return pid;
}

pid_t fork_silent(void)
{
	/* clone(flags = 0): a fork whose exit signal is none. */
	long pid = syscall(SYS_clone, 0UL, 0UL, 0UL, 0UL, 0UL);

	if (pid == 0 && runner_private_fd >= 0) {
		close(runner_private_fd);
		runner_private_fd = -1;
	}
	return (pid_t)pid;
}

static const char *event_name(int ev)
{
	switch (ev) {
	case PTRACE_EVENT_FORK: return "fork";
	case PTRACE_EVENT_VFORK: return "vfork";
	case PTRACE_EVENT_CLONE: return "clone";
	case PTRACE_EVENT_EXEC: return "exec";
	case PTRACE_EVENT_VFORK_DONE: return "vfork-done";
	case PTRACE_EVENT_EXIT: return "exit";
	case PTRACE_EVENT_SECCOMP: return "seccomp";
	case PTRACE_EVENT_STOP: return "stop";
	default: return NULL;
	}
}

void describe_wstatus(int status, char *out, size_t n)
{
	int ev = (unsigned)status >> 16;
	const char *en;

	if (WIFEXITED(status)) {
		snprintf(out, n, "exited:%d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		snprintf(out, n, "killed:%s%s", sig_name(WTERMSIG(status)),
			 WCOREDUMP(status) ? "+core" : "");
	} else if (WIFSTOPPED(status)) {
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			snprintf(out, n, "syscall");
		} else if (ev == PTRACE_EVENT_STOP) {
			/*
			 * A seized tracee's group-stop carries its stop signal; a
			 * PTRACE_INTERRUPT (or a new child's first stop) outside
			 * one carries SIGTRAP: ptrace(2) PTRACE_EVENT_STOP.
			 */
			int s = WSTOPSIG(status);
			int gs = s == SIGSTOP || s == SIGTSTP || s == SIGTTIN || s == SIGTTOU;

			snprintf(out, n, "%s:%s", gs ? "group-stop" : "event-stop", sig_name(s));
		} else if (ev) {
			en = event_name(ev);
			if (en)
				snprintf(out, n, "event:%s", en);
			else
				snprintf(out, n, "event:%d", ev);
		} else {
			snprintf(out, n, "signal:%s", sig_name(WSTOPSIG(status)));
		}
	} else if (WIFCONTINUED(status)) {
		snprintf(out, n, "continued");
	} else {
		snprintf(out, n, "status:%#x", status);
	}
}

void describe_siginfo_child(const siginfo_t *si, char *out, size_t n)
{
	switch (si->si_code) {
	case CLD_EXITED:
		snprintf(out, n, "exited:%d", si->si_status);
		break;
	case CLD_KILLED:
		snprintf(out, n, "killed:%s", sig_name(si->si_status));
		break;
	case CLD_DUMPED:
		snprintf(out, n, "killed:%s+core", sig_name(si->si_status));
		break;
	case CLD_STOPPED:
		snprintf(out, n, "stopped:%s", sig_name(si->si_status));
		break;
	case CLD_TRAPPED:
		snprintf(out, n, "traced:%s", sig_name(si->si_status));
		break;
	case CLD_CONTINUED:
		snprintf(out, n, "continued");
		break;
	default:
		snprintf(out, n, "code:%d", si->si_code);
	}
}
