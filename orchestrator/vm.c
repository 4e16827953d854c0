// SPDX-License-Identifier: MIT
/*
 * vm.c - what every backend's guests share: the tail of the backend's own
 * messages, kept for the report of a guest that failed.
 */
#include <string.h>

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
