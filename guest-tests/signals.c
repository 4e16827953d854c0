// SPDX-License-Identifier: MIT
/*
 * signals.c - the signals family's helpers (see signals.h): the shared
 * memory C reports into, a counting handler, and x86-64 code with labels
 * whose addresses R knows (R, C and P are forks of one static binary, so a
 * label's address is the same in all three).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signals.h"

#ifndef __x86_64__
#error "the signals family's stepping code is x86-64 asm"
#endif

/* The code R steps through; the labels are global so that C code can name them. */
__asm__(".text\n"
	".globl sigs_code_step\n.type sigs_code_step,@function\n"
	"sigs_code_step:\n"
	"	int3\n"
	".globl sigs_step_a\nsigs_step_a:	nop\n"
	".globl sigs_step_b\nsigs_step_b:	nop\n"
	".globl sigs_step_c\nsigs_step_c:	jmp sigs_step_e\n"
	".globl sigs_step_d\nsigs_step_d:	ud2\n"
	".globl sigs_step_e\nsigs_step_e:	nop\n"
	".globl sigs_step_f\nsigs_step_f:	ret\n"
	".size sigs_code_step, .-sigs_code_step\n"

	".globl sigs_code_sysemu\n.type sigs_code_sysemu,@function\n"
	"sigs_code_sysemu:\n"
	"	int3\n"
	".globl sigs_sysemu_a\nsigs_sysemu_a:	nop\n"
	".globl sigs_sysemu_b\nsigs_sysemu_b:	mov $39, %eax\n"   /* __NR_getpid */
	".globl sigs_sysemu_c\nsigs_sysemu_c:	syscall\n"
	".globl sigs_sysemu_d\nsigs_sysemu_d:	nop\n"
	".globl sigs_sysemu_e\nsigs_sysemu_e:	ret\n"
	".size sigs_code_sysemu, .-sigs_code_sysemu\n"

	".globl sigs_code_fork\n.type sigs_code_fork,@function\n"
	"sigs_code_fork:\n"
	"	int3\n"
	".globl sigs_fork_a\nsigs_fork_a:	mov $57, %eax\n"   /* __NR_fork */
	".globl sigs_fork_b\nsigs_fork_b:	syscall\n"
	".globl sigs_fork_c\nsigs_fork_c:	test %rax, %rax\n"
	".globl sigs_fork_d\nsigs_fork_d:	jz 1f\n"
	".globl sigs_fork_e\nsigs_fork_e:	ret\n"
	"1:	mov $22, %edi\n"
	"	mov $231, %eax\n"                                  /* __NR_exit_group */
	"	syscall\n"
	"	ud2\n"
	".size sigs_code_fork, .-sigs_code_fork\n"

	".globl sigs_ret_handler\n.type sigs_ret_handler,@function\n"
	"sigs_ret_handler:\n"
	"	ret\n"
	".size sigs_ret_handler, .-sigs_ret_handler\n"
	".globl sigs_restorer\n.type sigs_restorer,@function\n"
	"sigs_restorer:\n"
	"	mov $15, %eax\n"                                   /* __NR_rt_sigreturn */
	".globl sigs_restorer_sc\nsigs_restorer_sc:	syscall\n"
	"	ud2\n"
	".size sigs_restorer, .-sigs_restorer\n");

extern const char sigs_step_a[], sigs_step_b[], sigs_step_c[], sigs_step_d[], sigs_step_e[],
	sigs_step_f[];
extern const char sigs_sysemu_a[], sigs_sysemu_b[], sigs_sysemu_c[], sigs_sysemu_d[],
	sigs_sysemu_e[];
extern const char sigs_fork_a[], sigs_fork_b[], sigs_fork_c[], sigs_fork_d[], sigs_fork_e[];
extern const char sigs_ret_handler[], sigs_restorer[], sigs_restorer_sc[];

static struct sigs_shm *sigs_cur;

struct sigs_shm *sigs_shm_new(void)
{
	struct sigs_shm *s = shm_alloc(sizeof(*s));
	int fd[2];

	if (!s)
		return NULL;
	if (pipe2(fd, O_NONBLOCK | O_CLOEXEC) < 0) {
		shm_free(s, sizeof(*s));
		return NULL;
	}
	s->pipe_rd = fd[0];
	s->pipe_wr = fd[1];
	sigs_cur = s;
	return s;
}

void sigs_shm_free(struct sigs_shm *s)
{
	if (!s)
		return;
	close(s->pipe_rd);
	close(s->pipe_wr);
	if (sigs_cur == s)
		sigs_cur = NULL;
	shm_free(s, sizeof(*s));
}

void sigs_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!sigs_cur)
		return;
	sigs_cur->handler_runs++;
	sigs_cur->h_signo = sig;
	sigs_cur->h_code = si->si_code;
	sigs_cur->h_syscall = sig == SIGSYS ? si->si_syscall : 0;
}

int sigs_install(int sig, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigs_handler;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/* The kernel's struct sigaction for rt_sigaction (x86-64). */
struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

int sigs_install_asm_handler(int sig)
{
	struct k_sigaction ka = {
		.handler = (void *)sigs_ret_handler,
		.flags = SA_SIGINFO | SA_RESTORER,
		.restorer = (void *)sigs_restorer,
		.mask = 0,
	};

	return (int)syscall(SYS_rt_sigaction, sig, &ka, NULL, sizeof(ka.mask));
}

#define SIGS_EXTRA 4
static struct {
	const char *name;
	unsigned long ip;
} extra[SIGS_EXTRA];

void sigs_label_add(const char *name, unsigned long ip)
{
	for (int i = 0; i < SIGS_EXTRA; i++)
		if (!extra[i].name || !strcmp(extra[i].name, name)) {
			extra[i].name = name;
			extra[i].ip = ip;
			return;
		}
}

const char *sigs_label(unsigned long ip)
{
	static const struct {
		const char *name;
		const void *at;
	} tab[] = {
		{ "step.a", sigs_step_a }, { "step.b", sigs_step_b }, { "step.c", sigs_step_c },
		{ "step.d", sigs_step_d }, { "step.e", sigs_step_e }, { "step.f", sigs_step_f },
		{ "sysemu.a", sigs_sysemu_a }, { "sysemu.b", sigs_sysemu_b },
		{ "sysemu.c", sigs_sysemu_c }, { "sysemu.d", sigs_sysemu_d },
		{ "sysemu.e", sigs_sysemu_e },
		{ "fork.a", sigs_fork_a }, { "fork.b", sigs_fork_b }, { "fork.c", sigs_fork_c },
		{ "fork.d", sigs_fork_d }, { "fork.e", sigs_fork_e },
		{ "handler", (const void *)sigs_handler },
		{ "asm-handler", sigs_ret_handler }, { "restorer", sigs_restorer },
		{ "restorer.syscall", sigs_restorer_sc },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (ip == (unsigned long)tab[i].at)
			return tab[i].name;
	for (int i = 0; i < SIGS_EXTRA; i++)
		if (extra[i].name && extra[i].ip == ip)
			return extra[i].name;
	return "other";
}

int sigs_regs(struct obs *t, const char *key, pid_t pid, void *regs)
{
	errno = 0;
	if (ptrace(PTRACE_GETREGS, pid, NULL, regs) < 0) {
		if (t && key)
			obs_str(t, key, errno_name(errno));
		return -1;
	}
	return 0;
}

unsigned long sigs_stop_here(pid_t pid, int status, char *out, size_t n)
{
	struct user_regs_struct r;
	siginfo_t si;
	const char *code = "?";

	if (!WIFSTOPPED(status)) {
		describe_wstatus(status, out, n);
		return 0;
	}
	if (sigs_regs(NULL, NULL, pid, &r) < 0) {
		snprintf(out, n, "regs:%s", errno_name(errno));
		return 0;
	}
	memset(&si, 0, sizeof(si));
	if (WSTOPSIG(status) == (SIGTRAP | 0x80))
		code = "syscall";
	else if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == 0)
		code = WSTOPSIG(status) == SIGTRAP ? si_code_name(si.si_signo, si.si_code)
						   : sig_name(si.si_signo);
	snprintf(out, n, "%s:%s", sigs_label(r.rip), code);
	return r.rip;
}

void sigs_append(char *list, size_t n, const char *item)
{
	size_t len = strlen(list);

	snprintf(list + len, n - len, "%s%s", len ? "," : "", item);
}
