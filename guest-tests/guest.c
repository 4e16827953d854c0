// SPDX-License-Identifier: MIT
/*
 * guest.c - the guest library: observations, names, roles, /proc, guarded waits,
 * shared memory for handler siginfo, framing.
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

int g_wait_ms = 1000;
int g_private_fd = -1;

/* ---------------------------------------------------------------- sbuf */

static void sbuf_grow(struct sbuf *sb, size_t more)
{
	size_t want = sb->len + more + 1;
	char *p;

	if (want <= sb->cap)
		return;
	if (want < 256)
		want = 256;
	if (want < sb->cap * 2)
		want = sb->cap * 2;
	p = realloc(sb->buf, want);
	if (!p) {
		/* Out of memory in a 1-process test payload: nothing sane to do. */
		abort();
	}
	sb->buf = p;
	sb->cap = want;
}

void sbuf_add(struct sbuf *sb, const char *s, size_t n)
{
	sbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sbuf_puts(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sbuf_add(sb, small, (size_t)n);
		return;
	}
	sbuf_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sbuf_json_str(struct sbuf *sb, const char *s)
{
	const unsigned char *p;
	char esc[8];

	sbuf_add(sb, "\"", 1);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			sbuf_add(sb, "\\\"", 2);
			break;
		case '\\':
			sbuf_add(sb, "\\\\", 2);
			break;
		case '\n':
			sbuf_add(sb, "\\n", 2);
			break;
		case '\t':
			sbuf_add(sb, "\\t", 2);
			break;
		case '\r':
			sbuf_add(sb, "\\r", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				sbuf_add(sb, esc, 6);
			} else {
				sbuf_add(sb, (const char *)p, 1);
			}
		}
	}
	sbuf_add(sb, "\"", 1);
}

char *sbuf_detach(struct sbuf *sb)
{
	char *s = sb->buf;

	if (!s) {
		s = strdup("");
		if (!s)
			abort();
	}
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void sbuf_release(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

/* ---------------------------------------------------------------- obs */

void obs_init(struct obs *o)
{
	memset(o, 0, sizeof(*o));
}

static struct obs_kv *obs_slot(struct obs *o, const char *key)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (!strcmp(o->kv[i].key, key))
			return &o->kv[i];
	if (o->n >= OBS_MAX_KEYS)
		return NULL;
	i = o->n++;
	memset(&o->kv[i], 0, sizeof(o->kv[i]));
	snprintf(o->kv[i].key, sizeof(o->kv[i].key), "%s", key);
	return &o->kv[i];
}

void obs_str(struct obs *o, const char *key, const char *val)
{
	struct obs_kv *kv = obs_slot(o, key);

	if (!kv)
		return;
	kv->is_int = 0;
	snprintf(kv->sval, sizeof(kv->sval), "%s", val);
}

void obs_strf(struct obs *o, const char *key, const char *fmt, ...)
{
	struct obs_kv *kv = obs_slot(o, key);
	va_list ap;

	if (!kv)
		return;
	kv->is_int = 0;
	va_start(ap, fmt);
	vsnprintf(kv->sval, sizeof(kv->sval), fmt, ap);
	va_end(ap);
}

void obs_int(struct obs *o, const char *key, long long v)
{
	struct obs_kv *kv = obs_slot(o, key);

	if (!kv)
		return;
	kv->is_int = 1;
	kv->ival = v;
}

void obs_result(struct obs *o, const char *key, long rc, int err)
{
	obs_str(o, key, rc >= 0 ? "0" : errno_name(err));
}

const char *obs_get(const struct obs *o, const char *key)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (!strcmp(o->kv[i].key, key))
			return o->kv[i].is_int ? NULL : o->kv[i].sval;
	return NULL;
}

void obs_merge(struct obs *dst, const struct obs *src)
{
	int i;
	struct obs_kv *kv;

	for (i = 0; i < src->n && i < OBS_MAX_KEYS; i++) {
		kv = obs_slot(dst, src->kv[i].key);
		if (kv)
			*kv = src->kv[i];
	}
}

static int kv_cmp(const void *a, const void *b)
{
	const struct obs_kv *const *x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

char *obs_render(const struct obs *o)
{
	const struct obs_kv *order[OBS_MAX_KEYS];
	struct sbuf sb = { 0 };
	int i, n = o->n < OBS_MAX_KEYS ? o->n : OBS_MAX_KEYS;

	for (i = 0; i < n; i++)
		order[i] = &o->kv[i];
	qsort(order, (size_t)n, sizeof(order[0]), kv_cmp);
	sbuf_puts(&sb, "{");
	for (i = 0; i < n; i++) {
		if (i)
			sbuf_puts(&sb, ",");
		sbuf_json_str(&sb, order[i]->key);
		sbuf_puts(&sb, ":");
		if (order[i]->is_int)
			sbuf_printf(&sb, "%lld", order[i]->ival);
		else
			sbuf_json_str(&sb, order[i]->sval);
	}
	sbuf_puts(&sb, "}");
	return sbuf_detach(&sb);
}

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

/* ---------------------------------------------------------------- /proc */

ssize_t read_small_file(const char *path, char *buf, size_t size)
{
	ssize_t got;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	got = read(fd, buf, size - 1);
	close(fd);
	if (got < 0)
		return -1;
	buf[got] = '\0';
	return got;
}

ssize_t read_proc_file(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	return read_small_file(path, buf, size);
}

int proc_status_field(pid_t pid, const char *field, char *out, size_t n)
{
	char buf[4096], *line, *save = NULL, *v;
	size_t flen = strlen(field);

	if (read_proc_file(pid, "status", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, field, flen) || line[flen] != ':')
			continue;
		v = line + flen + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		snprintf(out, n, "%s", v);
		return 0;
	}
	return -1;
}

void proc_state(pid_t pid, char *out, size_t n)
{
	char raw[64], *l, *r;
	size_t i;

	if (proc_status_field(pid, "State", raw, sizeof(raw)) < 0) {
		snprintf(out, n, "gone");
		return;
	}
	l = strchr(raw, '(');
	r = l ? strchr(l, ')') : NULL;
	if (!l || !r) {
		snprintf(out, n, "%s", raw);
		return;
	}
	*r = '\0';
	snprintf(out, n, "%s", l + 1);
	for (i = 0; out[i]; i++)
		if (out[i] == ' ')
			out[i] = '-';
}

static int state_in(const char *state, const char *want)
{
	size_t sl = strlen(state);
	const char *p = want, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if ((bar ? (size_t)(bar - p) : strlen(p)) == sl && !strncmp(p, state, sl))
			return 1;
		if (!bar)
			return 0;
		p = bar + 1;
	}
}

int proc_wait_state(pid_t pid, const char *want, int ms, char *out, size_t n)
{
	long long end = monotonic_ms() + ms;

	for (;;) {
		proc_state(pid, out, n);
		if (state_in(out, want))
			return 0;
		if (monotonic_ms() >= end)
			return -1;
		g_sleep_ms(1);
	}
}

int proc_wait_offcpu(pid_t pid)
{
	char buf[256];

	if (read_proc_file(pid, "syscall", buf, sizeof(buf)) <= 0)
		return -1;
	return strncmp(buf, "running", 7) ? 0 : -1;
}

/* ---------------------------------------------------------------- waits */

static volatile sig_atomic_t guard_fired;

static void guard_handler(int sig)
{
	(void)sig;
	guard_fired = 1;
}

void guard_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guard_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked wait returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
}

/*
 * One shot after @ms, then every 2 ms: a timer that fires between the check of
 * guard_fired and the blocking call is followed by another that interrupts it.
 */
static void guard_arm(int ms)
{
	struct itimerval it;

	guard_fired = 0;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1000;
	it.it_interval.tv_usec = 2000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void guard_disarm(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	guard_fired = 0;
}

pid_t g_waitpid(pid_t pid, int *status, int options, int ms)
{
	pid_t r;
	int err;

	guard_arm(ms);
	for (;;) {
		if (guard_fired) {
			guard_disarm();
			errno = ETIMEDOUT;
			return -1;
		}
		r = waitpid(pid, status, options);
		if (r >= 0 || errno != EINTR)
			break;
	}
	err = errno;
	guard_disarm();
	errno = err;
	return r;
}

int g_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options, int ms)
{
	int r, err;

	guard_arm(ms);
	for (;;) {
		if (guard_fired) {
			guard_disarm();
			errno = ETIMEDOUT;
			return -1;
		}
		memset(info, 0, sizeof(*info));
		r = waitid(idtype, id, info, options);
		if (r >= 0 || errno != EINTR)
			break;
	}
	err = errno;
	guard_disarm();
	errno = err;
	return r;
}

ssize_t g_read(int fd, void *buf, size_t n, int ms)
{
	long long end = monotonic_ms() + ms;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long left;
	ssize_t r;
	int pr;

	for (;;) {
		left = end - monotonic_ms();
		if (left < 0)
			left = 0;
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -1;
		if (pr == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void g_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

pid_t g_fork(void)
{
	pid_t pid = fork();

	if (pid == 0 && g_private_fd >= 0) {
		close(g_private_fd);
		g_private_fd = -1;
	}
	return pid;
}

pid_t g_fork_silent(void)
{
	/* clone(flags = 0): a fork whose exit signal is none. */
	long pid = syscall(SYS_clone, 0UL, 0UL, 0UL, 0UL, 0UL);

	if (pid == 0 && g_private_fd >= 0) {
		close(g_private_fd);
		g_private_fd = -1;
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
			snprintf(out, n, "group-stop:%s", sig_name(WSTOPSIG(status)));
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
