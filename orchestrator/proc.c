/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

int proc_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int proc_spawn(struct proc *p, const char *const argv[], const char *cwd,
	       const int *fds, int nfds, struct kf_error *e)
{
	return proc_spawn_as(p, argv, cwd, fds, nfds, NULL, e);
}

int proc_spawn_as(struct proc *p, const char *const argv[], const char *cwd,
		  const int *fds, int nfds, const struct proc_user *u, struct kf_error *e)
{
	int errpipe[2], child_errno = 0;
	pid_t pid, parent = getpid();
	ssize_t n;

	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return error_set(e, argv[0], 0, 0, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(errpipe[0]);
		close(errpipe[1]);
		return error_set(e, argv[0], 0, 0, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int i, devnull, tmp[16], report;
		sigset_t none;

		setpgid(0, 0);
		/* The error pipe must survive the descriptor shuffle below. */
		report = fcntl(errpipe[1], F_DUPFD_CLOEXEC, 200);
		if (u && (initgroups(u->name, u->gid) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0))
			goto fail;
		/*
		 * A child does not outlive kfarm: a guest of a kfarm (or a job of a
		 * kfarmd) killed with -9 goes with it, not on as an orphan. (After
		 * the switch above: changing credentials clears it.)
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		devnull = open("/dev/null", O_RDWR);
		/* Move the wanted fds out of the way first, then into place. */
		for (i = 0; i < nfds && i < 16; i++) {
			int src = fds[i] >= 0 ? fds[i] : devnull;

			tmp[i] = fcntl(src, F_DUPFD_CLOEXEC, 64);
		}
		for (i = 0; i < nfds && i < 16; i++) {
			dup2(tmp[i], i);
		}
		for (i = nfds; i < 1024; i++) {
			if (i != report)
				close(i);
		}
		if (cwd && chdir(cwd) < 0)
			goto fail;
		execvp(argv[0], (char *const *)argv);
fail:
		child_errno = errno;
		if (write(report, &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	setpgid(pid, pid); /* no race with the child's own setpgid */
	close(errpipe[1]);
	n = read(errpipe[0], &child_errno, sizeof(child_errno));
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		if (u)
			return error_set(e, argv[0], 0, 0, "cannot run as %s: %s", u->name, strerror(child_errno));
		return error_set(e, argv[0], 0, 0, "cannot run: %s", strerror(child_errno));
	}
	p->pid = pid;
	p->pidfd = proc_pidfd_open(pid);
	return 0;
}

static int wait_gone(struct proc *p, int ms)
{
	int64_t end = util_now_ms() + ms;

	for (;;) {
		int left = (int)(end - util_now_ms());
		struct pollfd pfd = { p->pidfd, POLLIN, 0 };

		if (left <= 0)
			return 0;
		if (p->pidfd >= 0) {
			if (poll(&pfd, 1, left) > 0)
				return 1;
		} else {
			int st;

			if (waitpid(p->pid, &st, WNOHANG | WNOWAIT) == p->pid)
				return 1;
			usleep(10000);
		}
	}
}

void proc_kill(struct proc *p, int grace_ms)
{
	if (p->pid <= 0)
		return;
	kill(-p->pid, SIGTERM);
	kill(p->pid, SIGTERM);
	if (!wait_gone(p, grace_ms)) {
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
	}
}

int proc_reap(struct proc *p)
{
	int st = 0;

	if (p->pid > 0) {
		while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
			;
		/* Whatever the child left in its group goes with it. */
		kill(-p->pid, SIGKILL);
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pid = -1;
	p->pidfd = -1;
	return st;
}

const char *proc_status_str(int status, char *buf, size_t n)
{
	if (WIFEXITED(status))
		snprintf(buf, n, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "killed by %s", sigabbrev_np(WTERMSIG(status)) ?
			 sigabbrev_np(WTERMSIG(status)) : "a signal");
	else
		snprintf(buf, n, "status 0x%x", status);
	return buf;
}

struct sink {
	char *buf;
	size_t len, cap;
};

static void sink_add(struct sink *s, const char *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->buf = xrealloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

int proc_run(const char *const argv[], const char *cwd, int timeout_ms,
	     char **out, char **err, struct kf_error *e)
{
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, fds[3], ret = -1, st, open_fds = 2;
	struct sink so = { 0 }, se = { 0 };
	struct proc p = { -1, -1 };
	int64_t deadline = util_now_ms() + timeout_ms;
	char sbuf[64];

	if (pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		error_set(e, argv[0], 0, 0, "pipe: %s", strerror(errno));
		goto cleanup;
	}
	fds[0] = -1;
	fds[1] = op[1];
	fds[2] = ep[1];
	if (proc_spawn(&p, argv, cwd, fds, 3, e) < 0)
		goto cleanup;
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	sink_add(&so, "", 0);
	sink_add(&se, "", 0);
	while (open_fds > 0) {
		struct pollfd pfd[2] = { { op[0], POLLIN, 0 }, { ep[0], POLLIN, 0 } };
		int left = (int)(deadline - util_now_ms()), i;

		if (left <= 0) {
			proc_kill(&p, 1000);
			proc_reap(&p);
			error_set(e, argv[0], 0, 0, "timed out after %d s", timeout_ms / 1000);
			goto cleanup;
		}
		if (poll(pfd, 2, left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			char buf[8192];
			ssize_t n;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n > 0) {
				sink_add(i ? &se : &so, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(pfd[i].fd);
				if (i)
					ep[0] = -1;
				else
					op[0] = -1;
				open_fds--;
			}
		}
	}
	st = proc_reap(&p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		const char *tail = se.buf;
		size_t len = se.len;

		while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == ' '))
			len--;
		if (len > 600) {
			tail += len - 600;
			len = 600;
		}
		error_set(e, argv[0], 0, 0, "%s%s%.*s", proc_status_str(st, sbuf, sizeof(sbuf)),
			  len ? ": " : "", (int)len, tail);
		goto cleanup;
	}
	ret = 0;
	if (out) {
		*out = so.buf;
		so.buf = NULL;
	}
	if (err) {
		*err = se.buf;
		se.buf = NULL;
	}
cleanup:
	if (op[0] >= 0) close(op[0]);
	if (op[1] >= 0) close(op[1]);
	if (ep[0] >= 0) close(ep[0]);
	if (ep[1] >= 0) close(ep[1]);
	free(so.buf);
	free(se.buf);
	return ret;
}
