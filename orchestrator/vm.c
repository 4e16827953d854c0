// SPDX-License-Identifier: MIT
/*
 * vm.c - what every backend's guests share: their streams, and the tail of
 * the backend's own messages, kept for the report of a guest that failed.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"

void vm_diag_feed(struct vm *vm, const char *buf, size_t n)
{
	size_t room = sizeof(vm->diag) - 1;

	if (n >= room) {
		memcpy(vm->diag, buf + n - room, room);
		vm->diag_len = room;
	} else {
		if (vm->diag_len + n > room) {
			size_t drop = vm->diag_len + n - room;

			memmove(vm->diag, vm->diag + drop, vm->diag_len - drop);
			vm->diag_len -= drop;
		}
		memcpy(vm->diag + vm->diag_len, buf, n);
		vm->diag_len += n;
	}
	vm->diag[vm->diag_len] = '\0';
}

const char *vm_diag_line(struct vm *vm)
{
	while (vm->diag_len > 0 && (vm->diag[vm->diag_len - 1] == '\n' ||
				    vm->diag[vm->diag_len - 1] == '\r'))
		vm->diag[--vm->diag_len] = '\0';
	return vm->diag;
}

void vm_diag_clear(struct vm *vm)
{
	vm->diag_len = 0;
	vm->diag[0] = '\0';
}

void vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->console_fd = vm->results_fd = vm->diag_fd = -1;
	vm->proc.pid = -1;
	vm->proc.pidfd = -1;
}

void vm_take_streams(struct vm *vm, int *console, int *results, int *diag)
{
	vm->console_fd = *console;
	vm->results_fd = *results;
	vm->diag_fd = *diag;
	*console = *results = *diag = -1;
	fcntl(vm->console_fd, F_SETFL, O_NONBLOCK);
	fcntl(vm->results_fd, F_SETFL, O_NONBLOCK);
	fcntl(vm->diag_fd, F_SETFL, O_NONBLOCK);
}

void vm_close_streams(struct vm *vm)
{
	if (vm->console_fd >= 0)
		close(vm->console_fd);
	if (vm->results_fd >= 0)
		close(vm->results_fd);
	if (vm->diag_fd >= 0)
		close(vm->diag_fd);
	vm->console_fd = vm->results_fd = vm->diag_fd = -1;
}
